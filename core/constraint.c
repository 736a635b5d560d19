/* constraint.c: Ax's parameter constraints (see constraint.h): a tokenizer, a
 * recursive-descent parser that evaluates each sub-expression to a linear form (one
 * coefficient per name plus a constant), the checks against the search space, and the
 * feasibility test and center used by generation.
 *
 * Errors are reported in the order Ax reports them: SymPy's parse (syntax, kind of
 * relation, linearity) comes first, then the search space's checks (unknown names,
 * duplicates, parameter kinds). */
#include "constraint.h"

#include "alloc.h"
#include "optim.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Above this many discrete parameters in the constraints, the center tries only the
 * nearest grid point instead of every combination of neighbours. */
#define S_MAX_NEIGHBOUR_DIMS 16

struct _hone_constraint_set_t {
    size_t n_params;     /* parameters of the space the set was made for */
    size_t n;            /* constraints */
    size_t cap;          /* allocated constraints */
    char **texts;        /* each constraint as given */
    double *weights;     /* n × n_params, row-major */
    double *bounds;      /* n bounds */
};

/* ---------------------------------------------------------------------------------
 * Life cycle and accessors. */

hone_constraint_set_t *hone_constraint_set_new(size_t n_params)
{
    hone_constraint_set_t *self = hone_alloc(sizeof *self);
    self->n_params = n_params;
    return self;
}

void hone_constraint_set_destroy(hone_constraint_set_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_constraint_set_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        hone_strfree(self->texts[i]);
    hone_free(self->texts);
    hone_free(self->weights);
    hone_free(self->bounds);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_constraint_set_size(const hone_constraint_set_t *self) { HONE_ASSERT(self); return self->n; }
size_t hone_constraint_set_n_params(const hone_constraint_set_t *self) { HONE_ASSERT(self); return self->n_params; }

const char *hone_constraint_set_text(const hone_constraint_set_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n);
    return self->texts[i];
}

const double *hone_constraint_set_weights(const hone_constraint_set_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n);
    return self->weights + i * self->n_params;
}

double hone_constraint_set_bound(const hone_constraint_set_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n);
    return self->bounds[i];
}

bool hone_constraint_set_involves(const hone_constraint_set_t *self, size_t param)
{
    HONE_ASSERT(self && param < self->n_params);
    for (size_t i = 0; i < self->n; i++)
        if (self->weights[i * self->n_params + param] != 0.0)
            return true;
    return false;
}

/* ---------------------------------------------------------------------------------
 * Tokens. */

typedef enum {
    S_T_END, S_T_NUM, S_T_NAME, S_T_PLUS, S_T_MINUS, S_T_STAR, S_T_SLASH, S_T_POW,
    S_T_LPAREN, S_T_RPAREN, S_T_LE, S_T_GE, S_T_OTHER_REL, S_T_BAD,
} s_tok_kind_t;

typedef struct {
    s_tok_kind_t kind;   /* what it is */
    double num;          /* S_T_NUM: its value (may be infinite: checked later) */
    size_t start, len;   /* its text */
    size_t sym;          /* S_T_NAME: index into the symbol table */
} s_tok_t;

static bool s_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool s_is_digit(char c) { return c >= '0' && c <= '9'; }

static bool s_is_name_start(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool s_is_name_char(char c) { return s_is_name_start(c) || s_is_digit(c); }

/* Length of the number at s (Python's decimal float literal without '_'), 0 if none. */
static size_t s_number_len(const char *s)
{
    size_t i = 0, digits = 0;
    while (s_is_digit(s[i]))
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s_is_digit(s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (s_is_digit(s[j])) {
            while (s_is_digit(s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

/* Length of the name at s: [A-Za-z_][A-Za-z0-9_]*, with '.' inside when a name
 * character follows (Ax's sanitization keeps such dots in names). */
static size_t s_name_len(const char *s)
{
    if (!s_is_name_start(s[0]))
        return 0;
    size_t i = 1;
    for (;;) {
        if (s_is_name_char(s[i]))
            i++;
        else if (s[i] == '.' && s_is_name_char(s[i + 1]))
            i++;
        else
            return i;
    }
}

/* Splits text into tokens (ends with S_T_END; an S_T_BAD token stops the scan). */
static size_t s_tokenize(const char *text, s_tok_t *toks)
{
    size_t n = 0, i = 0;
    for (;;) {
        while (s_is_space(text[i]))
            i++;
        s_tok_t *t = &toks[n++];
        memset(t, 0, sizeof *t);
        t->start = i;
        char c = text[i];
        size_t len = 1;
        if (c == '\0') {
            t->kind = S_T_END;
            return n;
        }
        if ((len = s_number_len(text + i)) > 0) {
            char buf[64];
            t->kind = S_T_NUM;
            if (len >= sizeof buf || s_is_name_char(text[i + len]) || text[i + len] == '.') {
                t->kind = S_T_BAD;   /* "2x", "1.2.3", an absurdly long literal */
            } else {
                memcpy(buf, text + i, len);
                buf[len] = '\0';
                t->num = strtod(buf, NULL);
            }
        } else if ((len = s_name_len(text + i)) > 0) {
            t->kind = S_T_NAME;
        } else {
            char d = text[i + 1];
            len = 1;
            switch (c) {
            case '+': t->kind = S_T_PLUS; break;
            case '-': t->kind = S_T_MINUS; break;
            case '/': t->kind = S_T_SLASH; break;
            case '^': t->kind = S_T_POW; break;   /* SymPy's convert_xor */
            case '(': t->kind = S_T_LPAREN; break;
            case ')': t->kind = S_T_RPAREN; break;
            case '*':
                t->kind = d == '*' ? S_T_POW : S_T_STAR;
                len = d == '*' ? 2 : 1;
                break;
            case '<':
            case '>':
                t->kind = d == '=' ? (c == '<' ? S_T_LE : S_T_GE) : S_T_OTHER_REL;
                len = d == '=' ? 2 : 1;
                break;
            case '=':
            case '!':
                t->kind = d == '=' ? S_T_OTHER_REL : S_T_BAD;
                len = d == '=' ? 2 : 1;
                break;
            default:
                t->kind = S_T_BAD;
                break;
            }
        }
        t->len = len;
        if (t->kind == S_T_BAD)
            return n;
        i += len;
    }
}

/* ---------------------------------------------------------------------------------
 * Linear forms. A form is n_sym coefficients followed by the constant, in a pool that
 * holds at most one form per token plus the two sides. */

typedef enum { S_OK = 0, S_NONLINEAR, S_DIVZERO, S_NONFINITE } s_status_t;

typedef struct {
    s_tok_t *toks;         /* the constraint's tokens */
    size_t pos;            /* next token */
    size_t n_sym;          /* distinct names */
    double *pool;          /* forms, (n_sym + 1) doubles each */
    size_t used, cap;      /* forms in use and allocated */
    s_status_t status;     /* the first evaluation problem (parsing goes on after it) */
    bool syntax_error;     /* parsing stopped */
} s_parser_t;

static double *s_form(s_parser_t *p, size_t f) { return p->pool + f * (p->n_sym + 1); }

static size_t s_new_form(s_parser_t *p)
{
    HONE_ASSERT(p->used < p->cap);
    size_t f = p->used++;
    memset(s_form(p, f), 0, (p->n_sym + 1) * sizeof(double));
    return f;
}

static bool s_is_constant(s_parser_t *p, size_t f)
{
    const double *a = s_form(p, f);
    for (size_t k = 0; k < p->n_sym; k++)
        if (a[k] != 0.0)
            return false;
    return true;
}

static void s_flag(s_parser_t *p, s_status_t status)
{
    if (p->status == S_OK)
        p->status = status;
}

static void s_scale(s_parser_t *p, size_t f, double c)
{
    double *a = s_form(p, f);
    for (size_t k = 0; k <= p->n_sym; k++)
        a[k] *= c;
}

static const s_tok_t *s_peek(const s_parser_t *p) { return &p->toks[p->pos]; }

static bool s_accept(s_parser_t *p, s_tok_kind_t kind)
{
    if (p->syntax_error || p->toks[p->pos].kind != kind)
        return false;
    p->pos++;
    return true;
}

static size_t s_parse_form(s_parser_t *p);
static size_t s_parse_factor(s_parser_t *p);

static size_t s_parse_atom(s_parser_t *p)
{
    size_t f = s_new_form(p);
    const s_tok_t *t = s_peek(p);
    if (p->syntax_error)
        return f;
    if (t->kind == S_T_NUM) {
        s_form(p, f)[p->n_sym] = t->num;
        if (!isfinite(t->num))
            s_flag(p, S_NONFINITE);
        p->pos++;
    } else if (t->kind == S_T_NAME) {
        s_form(p, f)[t->sym] = 1.0;
        p->pos++;
        if (s_peek(p)->kind == S_T_LPAREN)
            p->syntax_error = true;   /* a function call: log(x), Eq(x, 1) */
    } else if (s_accept(p, S_T_LPAREN)) {
        size_t inner = s_parse_form(p);
        memcpy(s_form(p, f), s_form(p, inner), (p->n_sym + 1) * sizeof(double));
        if (!s_accept(p, S_T_RPAREN))
            p->syntax_error = true;
    } else {
        p->syntax_error = true;
    }
    return f;
}

/* atom [** factor]: Python's power binds tighter than a unary sign on its left. */
static size_t s_parse_power(s_parser_t *p)
{
    size_t base = s_parse_atom(p);
    if (!s_accept(p, S_T_POW))
        return base;
    size_t expo = s_parse_factor(p);
    if (p->syntax_error)
        return base;
    double e = s_form(p, expo)[p->n_sym];
    double *b = s_form(p, base);
    if (!s_is_constant(p, expo)) {
        s_flag(p, S_NONLINEAR);          /* 2**x */
    } else if (s_is_constant(p, base)) {
        b[p->n_sym] = pow(b[p->n_sym], e);
        if (!isfinite(b[p->n_sym]))
            s_flag(p, S_NONFINITE);
    } else if (e == 0.0) {
        memset(b, 0, (p->n_sym + 1) * sizeof(double));
        b[p->n_sym] = 1.0;               /* x**0 is 1 */
    } else if (e != 1.0) {
        s_flag(p, S_NONLINEAR);          /* x**2 */
    }
    return base;
}

static size_t s_parse_factor(s_parser_t *p)
{
    if (s_accept(p, S_T_PLUS))
        return s_parse_factor(p);
    if (s_accept(p, S_T_MINUS)) {
        size_t f = s_parse_factor(p);
        s_scale(p, f, -1.0);
        return f;
    }
    return s_parse_power(p);
}

static size_t s_parse_term(s_parser_t *p)
{
    size_t acc = s_parse_factor(p);
    for (;;) {
        bool mul = s_accept(p, S_T_STAR);
        if (!mul && !s_accept(p, S_T_SLASH))
            return acc;
        size_t rhs = s_parse_factor(p);
        if (p->syntax_error)
            return acc;
        double *a = s_form(p, acc), *b = s_form(p, rhs);
        if (!mul) {
            if (!s_is_constant(p, rhs))
                s_flag(p, S_NONLINEAR);      /* x/y, 1/x */
            else if (b[p->n_sym] == 0.0)
                s_flag(p, S_DIVZERO);
            else
                s_scale(p, acc, 1.0 / b[p->n_sym]);
        } else if (s_is_constant(p, acc)) {
            double c = a[p->n_sym];
            memcpy(a, b, (p->n_sym + 1) * sizeof(double));
            s_scale(p, acc, c);
        } else if (s_is_constant(p, rhs)) {
            s_scale(p, acc, b[p->n_sym]);
        } else {
            s_flag(p, S_NONLINEAR);          /* x*y */
        }
    }
}

static size_t s_parse_form(s_parser_t *p)
{
    size_t acc = s_parse_term(p);
    for (;;) {
        bool plus = s_accept(p, S_T_PLUS);
        if (!plus && !s_accept(p, S_T_MINUS))
            return acc;
        size_t rhs = s_parse_term(p);
        double *a = s_form(p, acc), *b = s_form(p, rhs);
        for (size_t k = 0; k <= p->n_sym; k++)
            a[k] += plus ? b[k] : -b[k];
    }
}

/* ---------------------------------------------------------------------------------
 * Checks against the space, and adding. */

static bool s_same_name(const char *text, const s_tok_t *a, const s_tok_t *b)
{
    return a->len == b->len && memcmp(text + a->start, text + b->start, a->len) == 0;
}

static int s_check_param(const hone_param_t *prm, size_t at, hone_error_t *err)
{
    if (prm->kind == HONE_PARAM_FIXED)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter_constraints[%zu]: Parameters in constraints must be RangeParameters or "
                              "numerical ordered ChoiceParameters. Found %s, a fixed parameter (a choice with a "
                              "single value).", at, prm->name);
    if (prm->kind == HONE_PARAM_CHOICE) {
        if (prm->type != HONE_TYPE_FLOAT && prm->type != HONE_TYPE_INT)
            return hone_error_set(err, HONE_EINVAL,
                                  "parameter_constraints[%zu]: Only numerical ChoiceParameters can be used in "
                                  "parameter constraints. Found %s with type %s.", at, prm->name,
                                  prm->type == HONE_TYPE_STR ? "STRING" : "BOOL");
        if (!prm->is_ordered)
            return hone_error_set(err, HONE_EINVAL,
                                  "parameter_constraints[%zu]: Only ordered ChoiceParameters can be used in "
                                  "parameter constraints. Found %s with is_ordered=False.", at, prm->name);
    }
    if (prm->log_scale)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter_constraints[%zu]: parameter '%s': Parameter constraints are not allowed "
                              "on log scale parameters.", at, prm->name);
    return HONE_OK;
}

/* The parsed constraint as weights per symbol (constant last) → weights per parameter. */
static int s_resolve(hone_constraint_set_t *self, const hone_space_t *space, const char *text,
                     const s_tok_t *toks, const size_t *sym_tok, size_t n_sym, const double *form,
                     double *weights, hone_error_t *err)
{
    size_t at = self->n;
    /* Unknown names first (Ax's search space checks them before anything else). */
    for (size_t k = 0; k < n_sym; k++) {
        if (form[k] == 0.0)
            continue;   /* cancelled out, as SymPy drops it */
        const s_tok_t *t = &toks[sym_tok[k]];
        char *name = hone_strndup(text + t->start, t->len);
        int index = hone_space_find(space, name);
        int rc = index < 0 ? hone_error_set(err, HONE_EINVAL,
                                            "parameter_constraints[%zu]: `%s` does not exist in search space.",
                                            at, name)
                           : HONE_OK;
        hone_strfree(name);
        if (rc != HONE_OK)
            return rc;
        weights[index] = form[k];
    }
    /* A name written twice. */
    for (size_t i = 0; toks[i].kind != S_T_END; i++)
        for (size_t j = i + 1; toks[i].kind == S_T_NAME && toks[j].kind != S_T_END; j++)
            if (toks[j].kind == S_T_NAME && s_same_name(text, &toks[i], &toks[j]))
                return hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: Duplicate parameter in "
                                      "constraint.", at);
    for (size_t j = 0; j < self->n_params; j++) {
        if (weights[j] == 0.0)
            continue;
        int rc = s_check_param(hone_space_param(space, j), at, err);
        if (rc != HONE_OK)
            return rc;
    }
    return HONE_OK;
}

int hone_constraint_set_add(hone_constraint_set_t *self, const hone_space_t *space, const char *text,
                            hone_error_t *err)
{
    HONE_ASSERT(self && space && hone_space_size(space) == self->n_params);
    size_t at = self->n;
    if (!text)
        return hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: must be a string", at);
    if (strpbrk(text, ";['\\"))
        return hone_error_set(err, HONE_EINVAL,
                              "parameter_constraints[%zu]: '%s' has forbidden control characters (; [ ' \\)",
                              at, text);
    size_t len = strlen(text);
    s_tok_t *toks = hone_alloc_array(len + 2, sizeof(s_tok_t));
    size_t n_toks = s_tokenize(text, toks);
    /* Symbol table: the distinct names, each remembered by its first token. */
    size_t *sym_tok = hone_alloc_array(n_toks + 1, sizeof(size_t));
    size_t n_sym = 0;
    for (size_t i = 0; i < n_toks; i++) {
        if (toks[i].kind != S_T_NAME)
            continue;
        size_t k = 0;
        while (k < n_sym && !s_same_name(text, &toks[sym_tok[k]], &toks[i]))
            k++;
        if (k == n_sym)
            sym_tok[n_sym++] = i;
        toks[i].sym = k;
    }
    s_parser_t p = {
        .toks = toks, .n_sym = n_sym, .cap = n_toks + 3,
    };
    p.pool = hone_alloc_array(p.cap * (n_sym + 1), sizeof(double));
    p.syntax_error = toks[n_toks - 1].kind == S_T_BAD;

    size_t lhs = s_parse_form(&p);
    s_tok_kind_t rel = s_peek(&p)->kind;
    bool inequality = !p.syntax_error && (rel == S_T_LE || rel == S_T_GE);
    if (inequality)
        p.pos++;
    size_t rhs = inequality ? s_parse_form(&p) : lhs;
    inequality = inequality && !p.syntax_error && s_peek(&p)->kind == S_T_END;
    double *form = s_form(&p, s_new_form(&p));
    bool any = false;
    for (size_t k = 0; inequality && k <= n_sym; k++) {
        double l = s_form(&p, lhs)[k], r = s_form(&p, rhs)[k];
        form[k] = rel == S_T_LE ? l - r : r - l;
        any = any || (k < n_sym && form[k] != 0.0);
    }
    int rc = HONE_OK;
    if (!inequality || (p.status == S_OK && !any))   /* SymPy turns "1 <= 2" into True */
        rc = hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: Expected an inequality, found %s",
                            at, text);
    else if (p.status == S_NONLINEAR)
        rc = hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: Only linear inequality parameter "
                            "constraints are supported, found %s", at, text);
    else if (p.status == S_DIVZERO)
        rc = hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: division by zero in '%s'", at, text);
    else if (p.status == S_NONFINITE || !isfinite(form[n_sym]))
        rc = hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: a coefficient of '%s' is not finite",
                            at, text);
    for (size_t k = 0; rc == HONE_OK && k < n_sym; k++)
        if (!isfinite(form[k]))
            rc = hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: a coefficient of '%s' is not "
                                "finite", at, text);

    double *weights = hone_alloc_array(self->n_params ? self->n_params : 1, sizeof(double));
    if (rc == HONE_OK)
        rc = s_resolve(self, space, text, toks, sym_tok, n_sym, form, weights, err);
    if (rc == HONE_OK) {
        if (self->n == self->cap) {
            self->cap = self->cap ? 2 * self->cap : 4;
            self->texts = hone_realloc_array(self->texts, self->cap, sizeof(char *));
            self->weights = hone_realloc_array(self->weights, self->cap * (self->n_params ? self->n_params : 1),
                                               sizeof(double));
            self->bounds = hone_realloc_array(self->bounds, self->cap, sizeof(double));
        }
        self->texts[self->n] = hone_strdup(text);
        memcpy(self->weights + self->n * self->n_params, weights, self->n_params * sizeof(double));
        self->bounds[self->n] = -form[n_sym] + 0.0;   /* + 0.0: no −0 bound */
        self->n++;
    }
    hone_free(weights);
    hone_free(p.pool);
    hone_free(sym_tok);
    hone_free(toks);
    return rc;
}

/* ---------------------------------------------------------------------------------
 * Feasibility. */

int hone_constraint_set_violated(const hone_constraint_set_t *self, const hone_value_t *params)
{
    HONE_ASSERT(self && (params || self->n == 0));
    for (size_t i = 0; i < self->n; i++) {
        const double *w = self->weights + i * self->n_params;
        double s = 0.0;
        for (size_t j = 0; j < self->n_params; j++)
            if (w[j] != 0.0)
                s += w[j] * hone_value_as_double(&params[j]);
        if (!(s <= self->bounds[i] + HONE_CONSTRAINT_TOL))   /* NaN (a string) violates */
            return (int) i;
    }
    return -1;
}

bool hone_constraint_set_feasible(const hone_constraint_set_t *self, const hone_value_t *params)
{
    return hone_constraint_set_violated(self, params) < 0;
}

/* Σ w·x of constraint i, and Σ |w·x| + |bound| (its rounding scale). */
static double s_lhs(const hone_constraint_set_t *self, size_t i, const hone_value_t *params, double *scale)
{
    const double *w = self->weights + i * self->n_params;
    double s = 0.0, abs_sum = fabs(self->bounds[i]);
    for (size_t j = 0; j < self->n_params; j++)
        if (w[j] != 0.0) {
            double term = w[j] * hone_value_as_double(&params[j]);
            s += term;
            abs_sum += fabs(term);
        }
    *scale = abs_sum;
    return s;
}

bool hone_constraint_set_tighten(const hone_constraint_set_t *self, const hone_space_t *space,
                                 hone_value_t *params)
{
    HONE_ASSERT(self && space && params && hone_space_size(space) == self->n_params);
    /* A move for one constraint can exceed another; a few rounds settle it or give up. */
    for (size_t round = 0; round < 2 * self->n + 2; round++) {
        size_t i = 0;
        double scale = 0.0, s = 0.0;
        for (; i < self->n; i++) {
            s = s_lhs(self, i, params, &scale);
            if (!(s <= self->bounds[i]))
                break;
        }
        if (i == self->n)
            return true;
        if (!(s <= self->bounds[i] + HONE_CONSTRAINT_TOL))
            return false;   /* a real violation, not rounding: not for this function */
        /* aim below the bound by a few ulps of the sum, so that a user's sum in another
         * order passes too */
        double target = self->bounds[i] - 8 * DBL_EPSILON * scale;
        const double *w = self->weights + i * self->n_params;
        bool moved = false;
        for (size_t j = 0; j < self->n_params && !moved; j++) {
            const hone_param_t *prm = hone_space_param(space, j);
            if (w[j] == 0.0 || prm->kind != HONE_PARAM_RANGE || prm->type != HONE_TYPE_FLOAT)
                continue;
            hone_value_t old = params[j];
            double x = fmin(fmax(old.u.f - (s - target) / w[j], prm->lower), prm->upper);
            if (x == old.u.f)
                continue;
            params[j] = hone_value_float(x);   /* at a bound, the bound may be enough */
            double unused;
            moved = s_lhs(self, i, params, &unused) <= self->bounds[i];
            if (!moved)
                params[j] = old;
        }
        if (!moved)
            return false;
    }
    for (size_t i = 0; i < self->n; i++) {
        double scale;
        if (!(s_lhs(self, i, params, &scale) <= self->bounds[i]))
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------
 * The center. */

/* The default rounding mode rounds to nearest, ties to even (Python's round). */
static double s_round_half_even(double x) { return nearbyint(x); }

/* The involved parameter's box: its range, or the span of its (sorted) choices. */
static void s_box(const hone_param_t *prm, double *lo, double *span)
{
    if (prm->kind == HONE_PARAM_RANGE) {
        *lo = prm->lower;
        *span = prm->upper - prm->lower;
    } else {
        *lo = hone_value_as_double(&prm->values[0]);
        *span = hone_value_as_double(&prm->values[prm->n_values - 1]) - *lo;
    }
}

/* The grid candidates around x for a discrete parameter: the value(s) just below and
 * above (one when x sits on the grid). Returns how many (1 or 2). */
static int s_neighbours(const hone_param_t *prm, double x, hone_value_t out[2])
{
    if (prm->kind == HONE_PARAM_RANGE) {
        double lo = fmin(fmax(floor(x), prm->lower), prm->upper);
        double hi = fmin(fmax(ceil(x), prm->lower), prm->upper);
        out[0] = hone_value_int((int64_t) lo);
        out[1] = hone_value_int((int64_t) hi);
        return lo == hi ? 1 : 2;
    }
    size_t j = 0;
    while (j + 1 < prm->n_values && hone_value_as_double(&prm->values[j + 1]) <= x)
        j++;
    out[0] = prm->values[j];
    if (j + 1 < prm->n_values && hone_value_as_double(&prm->values[j]) < x) {
        out[1] = prm->values[j + 1];
        return 2;
    }
    return 1;
}

int hone_constraint_set_center(const hone_constraint_set_t *self, const hone_space_t *space,
                               hone_value_t *point)
{
    HONE_ASSERT(self && space && point && hone_space_size(space) == self->n_params);
    if (hone_constraint_set_feasible(self, point))
        return HONE_OK;
    size_t np = self->n_params, m = 0;
    size_t *idx = hone_alloc_array(np, sizeof(size_t));
    for (size_t j = 0; j < np; j++)
        if (hone_constraint_set_involves(self, j))
            idx[m++] = j;
    double *lo = hone_alloc_array(m, sizeof(double));
    double *span = hone_alloc_array(m, sizeof(double));
    double *a = hone_alloc_array(self->n * m, sizeof(double));
    double *b = hone_alloc_array(self->n, sizeof(double));
    double *u = hone_alloc_array(m, sizeof(double));
    hone_value_t *trial = hone_alloc_array(np, sizeof(hone_value_t));
    for (size_t k = 0; k < m; k++)
        s_box(hone_space_param(space, idx[k]), &lo[k], &span[k]);
    /* x = lo + span·u: the rows stay linear in u (reference/bo-numerics.md §1.2). */
    for (size_t i = 0; i < self->n; i++) {
        const double *w = self->weights + i * np;
        b[i] = self->bounds[i];
        for (size_t k = 0; k < m; k++) {
            a[i * m + k] = w[idx[k]] * span[k];
            b[i] -= w[idx[k]] * lo[k];
        }
    }
    int rc = hone_optim_chebyshev_center(m, self->n, a, b, u) == HONE_OK ? HONE_OK : HONE_ENOTFOUND;

    /* Cast into the space: continuous values as they are, discrete ones to a neighbour. */
    size_t n_disc = 0;
    size_t *disc = hone_alloc_array(m ? m : 1, sizeof(size_t));
    hone_value_t (*cand)[2] = hone_alloc_array(m ? m : 1, sizeof *cand);
    int *n_cand = hone_alloc_array(m ? m : 1, sizeof(int));
    memcpy(trial, point, np * sizeof(hone_value_t));
    for (size_t k = 0; rc == HONE_OK && k < m; k++) {
        const hone_param_t *prm = hone_space_param(space, idx[k]);
        double x = lo[k] + span[k] * u[k];
        if (prm->kind == HONE_PARAM_RANGE && prm->type == HONE_TYPE_FLOAT) {
            trial[idx[k]] = hone_value_float(fmin(fmax(x, prm->lower), prm->upper));
            continue;
        }
        n_cand[k] = s_neighbours(prm, x, cand[k]);
        /* the nearest first: half to even for ints, the closer value for choices */
        double d0 = fabs(hone_value_as_double(&cand[k][0]) - x);
        double d1 = n_cand[k] == 2 ? fabs(hone_value_as_double(&cand[k][1]) - x) : INFINITY;
        bool swap = n_cand[k] == 2 && (d1 < d0 || (d1 == d0 && prm->kind == HONE_PARAM_RANGE
                                                   && hone_value_as_double(&cand[k][1])
                                                          == s_round_half_even(x)));
        if (swap) {
            hone_value_t t = cand[k][0];
            cand[k][0] = cand[k][1];
            cand[k][1] = t;
        }
        trial[idx[k]] = cand[k][0];
        disc[n_disc++] = k;
    }
    bool found = rc == HONE_OK && hone_constraint_set_feasible(self, trial);
    if (rc == HONE_OK && !found && n_disc > 0 && n_disc <= S_MAX_NEIGHBOUR_DIMS) {
        /* Every combination of neighbours; the feasible one nearest to the center wins. */
        double best = INFINITY;
        hone_value_t *best_point = hone_alloc_array(np, sizeof(hone_value_t));
        for (uint32_t mask = 0; mask < (1u << n_disc); mask++) {
            bool valid = true;
            double dist = 0.0;
            for (size_t q = 0; q < n_disc && valid; q++) {
                size_t k = disc[q];
                int pick = (mask >> q) & 1u;
                valid = pick < n_cand[k];
                if (valid) {
                    trial[idx[k]] = cand[k][pick];
                    double e = (hone_value_as_double(&cand[k][pick]) - lo[k]) / span[k] - u[k];
                    dist += e * e;
                }
            }
            if (valid && dist < best && hone_constraint_set_feasible(self, trial)) {
                best = dist;
                memcpy(best_point, trial, np * sizeof(hone_value_t));
            }
        }
        found = best < INFINITY;
        if (found)
            memcpy(trial, best_point, np * sizeof(hone_value_t));
        hone_free(best_point);
    }
    if (found)
        memcpy(point, trial, np * sizeof(hone_value_t));
    hone_free(idx);
    hone_free(lo);
    hone_free(span);
    hone_free(a);
    hone_free(b);
    hone_free(u);
    hone_free(trial);
    hone_free(disc);
    hone_free(cand);
    hone_free(n_cand);
    return found ? HONE_OK : HONE_ENOTFOUND;
}
