/* goals.c: Ax's objective, outcome-constraint and objective-threshold strings (see
 * goals.h): a tokenizer that applies Ax's name sanitization, a recursive-descent
 * parser that evaluates each sub-expression to a linear form (one coefficient per name
 * plus a constant), the normalization of each inequality as Ax stores it, and the
 * checks across the whole configuration.
 *
 * Errors come in Ax's order: the parse of each string (syntax, then linearity), in the
 * order objective, outcome_constraints, objective_thresholds; then the checks that
 * involve several strings, reported on the later one. */
#include "goals.h"

#include "alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

/* Nesting of parentheses, signs and powers: strings come from clients, and a hostile
 * "((((..." must not exhaust the broker's stack. Python's own parser stops near 200. */
#define S_MAX_DEPTH 100
#define S_NONE ((size_t) -1)

struct _hone_goals_t {
    size_t n_metrics;                 /* metrics, in order of first use */
    char **metrics;                   /* their names */
    size_t n_obj;                     /* objectives (2+: multi-objective) */
    hone_goals_objective_t *obj;      /* each objective */
    hone_goals_bound_t *thr;          /* n_obj thresholds; weights NULL when absent */
    size_t n_con;                     /* outcome constraints */
    hone_goals_bound_t *con;          /* each constraint */
    double *rows;                     /* every weight row, n_metrics doubles each */
};

/* ---------------------------------------------------------------------------------
 * Tokens. */

typedef enum {
    S_END, S_NUM, S_NAME, S_BASE, S_OO, S_MANY, S_PLUS, S_MINUS, S_STAR, S_SLASH, S_POW,
    S_LPAR, S_RPAR, S_COMMA, S_LE, S_GE, S_REL, S_BAD,
} s_kind_t;

typedef struct {
    s_kind_t kind;        /* what it is */
    size_t start, len;    /* its text */
    double num;           /* S_NUM: its value (maybe infinite, checked later); S_BASE: 1 */
    size_t sym;           /* S_NAME: index into the symbol table */
} s_tok_t;

static bool s_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool s_digit(char c) { return c >= '0' && c <= '9'; }
static bool s_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
/* A name's first character; non-ASCII bytes are UTF-8 letters, as Python allows. */
static bool s_start(char c) { return s_alpha(c) || (unsigned char) c >= 0x80; }
static bool s_word(char c) { return s_start(c) || s_digit(c); }

/* Length of the decimal literal at s (Python's float syntax without '_'), 0 if none. */
static size_t s_number_len(const char *s)
{
    size_t i = 0, digits = 0;
    while (s_digit(s[i]))
        i++, digits++;
    if (s[i] == '.') {
        i++;
        while (s_digit(s[i]))
            i++, digits++;
    }
    if (digits == 0)
        return 0;
    if (s[i] == 'e' || s[i] == 'E') {
        size_t j = i + 1;
        if (s[j] == '+' || s[j] == '-')
            j++;
        if (s_digit(s[j])) {
            while (s_digit(s[j]))
                j++;
            i = j;
        }
    }
    return i;
}

/* Length of a "(alnum)" suffix at s ("latency(p50)"), 0 if none. */
static size_t s_suffix_len(const char *s)
{
    if (s[0] != '(')
        return 0;
    size_t i = 1;
    while (s_alpha(s[i]) || s_digit(s[i]))
        i++;
    return i > 1 && s[i] == ')' ? i + 1 : 0;
}

/* Scans the name at s (goals.h lists what a name takes in) into out, with each run of
 * white space as one space, as Ax's unsanitize gives it back. Returns its length in s.
 * A '-' joins as Ax's regex does: the segment before it (since the last joined '-' or
 * '@', which Ax replaces later) needs a letter or a joined separator, whose placeholder
 * starts with '_', followed by one more character: "ab-c", "a.b-c", not "a-b", "x_1-1e-3"
 * gives "x_1-1e" - 3. */
static size_t s_scan_name(const char *s, char *out)
{
    size_t i = 0, o = 0, k, seg = 0, lead = S_NONE;   /* segment length, its first letter */
    for (;;) {
        char c = s[i];
        bool sep = false;
        if (s_word(c)) {
            if (lead == S_NONE && s_alpha(c))   /* ASCII, as in Ax's regex */
                lead = seg;
            seg++;
            out[o++] = s[i++];
        } else if ((c == '~' && s_start(s[i + 1])) || (c != '\0' && strchr("./:|", c) && s_word(s[i + 1]))) {
            out[o++] = s[i++];
            sep = true;
        } else if ((c == '-' || c == '@') && s_word(s[i + 1]) && (c == '@' || (lead != S_NONE && lead + 2 <= seg))) {
            out[o++] = s[i++];
            seg = 0, lead = S_NONE;
        } else if ((k = s_suffix_len(s + i)) > 0) {
            memcpy(out + o, s + i, k);
            o += k, i += k;
            sep = true;
        } else if (s_space(c) || (c == ':' && s_space(s[i + 1]))) {
            k = i + (c == ':');
            while (s_space(s[k]))
                k++;
            if (!s_word(s[k]) && !s_suffix_len(s + k))
                break;   /* white space around an operator is not part of a name */
            if (c == ':')
                out[o++] = ':';
            out[o++] = ' ';
            i = k;
            sep = true;
        } else {
            break;
        }
        if (sep) {
            lead = lead == S_NONE ? seg : lead;
            seg += 2;
        }
    }
    out[o] = '\0';
    return i;
}

/* ---------------------------------------------------------------------------------
 * The parser: each sub-expression evaluates to a linear form, n_sym coefficients then
 * the constant, on a stack of forms (a binary operation pops its right operand). */

typedef enum { S_OK = 0, S_NONLINEAR, S_DIVZERO, S_NONFINITE } s_status_t;

typedef struct {
    const char *text;          /* the string */
    bool constraint;           /* an inequality: `baseline` is the baseline */
    s_tok_t *toks;             /* its tokens, up to S_END or the first bad one */
    size_t n_toks;
    char **names;              /* symbol table: distinct names, in order of first use */
    size_t *name_tok;          /* each name's first token */
    size_t n_sym;
    size_t pos, depth;         /* next token; current nesting */
    double *pool;              /* the forms */
    size_t *first, *last;      /* each form's first and last token */
    size_t *ctok;              /* each form's first constant token, S_NONE if none */
    size_t used, cap;          /* forms in use, allocated */
    size_t base_tok;           /* the first `baseline`, S_NONE if none */
    s_status_t status;         /* the first evaluation problem (parsing goes on) */
    size_t status_tok, status_first, status_last;   /* its operator and operands */
    bool syntax;               /* parsing stopped at syntax_tok */
    size_t syntax_tok;
} s_parser_t;

static void s_lex(s_parser_t *p)
{
    const char *s = p->text;
    size_t n = strlen(s), i = 0;
    p->toks = hone_alloc_array(n + 2, sizeof(s_tok_t));
    p->names = hone_alloc_array(n + 1, sizeof(char *));
    p->name_tok = hone_alloc_array(n + 1, sizeof(size_t));
    p->base_tok = S_NONE;
    char *buf = hone_alloc(n + 1);
    for (;;) {
        while (s_space(s[i]))
            i++;
        s_tok_t *t = &p->toks[p->n_toks++];
        *t = (s_tok_t) { .kind = S_END, .start = i };
        char c = s[i], d = c ? s[i + 1] : '\0';
        size_t len = 1;
        if (c == '\0')
            break;
        if ((len = s_number_len(s + i)) > 0) {
            t->kind = S_NUM;
            if (len >= 64 || s_word(s[i + len]) || s[i + len] == '.') {
                t->kind = S_BAD;   /* "2x", "1.2.3": show all of it */
                while (s_word(s[i + len]) || s[i + len] == '.')
                    len++;
            } else {
                char num[64];
                memcpy(num, s + i, len);
                num[len] = '\0';
                t->num = strtod(num, NULL);
            }
        } else if (s_start(c) || (c == '~' && s_start(d))) {
            len = s_scan_name(s + i, buf);
            if (streq(buf, "oo")) {
                t->kind = S_OO;
            } else if (p->constraint && streq(buf, "baseline")) {
                t->kind = S_BASE;
                t->num = 1.0;
                if (p->base_tok == S_NONE)
                    p->base_tok = p->n_toks - 1;
            } else {
                t->kind = S_NAME;
                size_t k = 0;
                while (k < p->n_sym && !streq(p->names[k], buf))
                    k++;
                if (k == HONE_GOALS_MAX_METRICS) {
                    t->kind = S_MANY;   /* stop here: every name costs a look-up */
                    t->len = len;
                    break;
                }
                if (k == p->n_sym) {
                    p->names[p->n_sym] = hone_strdup(buf);
                    p->name_tok[p->n_sym++] = p->n_toks - 1;
                }
                t->sym = k;
            }
        } else {
            bool eq = d == '=';
            len = 1;
            switch (c) {
            case '+': t->kind = S_PLUS; break;
            case '-': t->kind = S_MINUS; break;
            case '/': t->kind = S_SLASH; break;
            case '^': t->kind = S_POW; break;   /* SymPy's convert_xor */
            case '(': t->kind = S_LPAR; break;
            case ')': t->kind = S_RPAR; break;
            case ',': t->kind = S_COMMA; break;
            case '*': t->kind = d == '*' ? S_POW : S_STAR; len = d == '*' ? 2 : 1; break;
            case '<': t->kind = eq ? S_LE : S_REL; len = eq ? 2 : 1; break;
            case '>': t->kind = eq ? S_GE : S_REL; len = eq ? 2 : 1; break;
            case '=': t->kind = S_REL; len = eq ? 2 : 1; break;
            case '!': t->kind = eq ? S_REL : S_BAD; len = eq ? 2 : 1; break;
            default: t->kind = S_BAD; break;
            }
        }
        t->len = len;
        if (t->kind == S_BAD)
            break;
        i += len;
    }
    hone_free(buf);
}

static void s_parser_free(s_parser_t *p)
{
    for (size_t k = 0; k < p->n_sym; k++)
        hone_strfree(p->names[k]);
    hone_free(p->names);
    hone_free(p->name_tok);
    hone_free(p->toks);
    hone_free(p->pool);
    hone_free(p->first);
    hone_free(p->last);
    hone_free(p->ctok);
}

static double *s_form(s_parser_t *p, size_t f) { return p->pool + f * (p->n_sym + 1); }
static const s_tok_t *s_peek(const s_parser_t *p) { return &p->toks[p->pos]; }

static bool s_accept(s_parser_t *p, s_kind_t kind)
{
    if (p->syntax || s_peek(p)->kind != kind)
        return false;
    p->pos++;
    return true;
}

static void s_syntax(s_parser_t *p)
{
    if (!p->syntax)
        p->syntax_tok = p->pos;
    p->syntax = true;
}

static void s_flag(s_parser_t *p, s_status_t status, size_t tok, size_t first, size_t last)
{
    if (p->status != S_OK)
        return;
    p->status = status;
    p->status_tok = tok, p->status_first = first, p->status_last = last;
}

/* Pushes a zero form spanning token tok. Forms move when the pool grows: callers
 * fetch s_form pointers only after their last push. */
static size_t s_push(s_parser_t *p, size_t tok)
{
    if (p->used == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        p->pool = hone_realloc_array(p->pool, p->cap, (p->n_sym + 1) * sizeof(double));
        p->first = hone_realloc_array(p->first, p->cap, sizeof(size_t));
        p->last = hone_realloc_array(p->last, p->cap, sizeof(size_t));
        p->ctok = hone_realloc_array(p->ctok, p->cap, sizeof(size_t));
    }
    size_t f = p->used++;
    memset(s_form(p, f), 0, (p->n_sym + 1) * sizeof(double));
    p->first[f] = p->last[f] = tok;
    p->ctok[f] = S_NONE;
    return f;
}

static bool s_constant(s_parser_t *p, size_t f)
{
    const double *a = s_form(p, f);
    for (size_t k = 0; k < p->n_sym; k++)
        if (a[k] != 0.0)
            return false;
    return true;
}

/* Ends a binary operation at tok: acc now spans to rhs, which is popped. */
static void s_close(s_parser_t *p, size_t acc, size_t rhs, size_t tok)
{
    p->last[acc] = p->last[rhs];
    const double *a = s_form(p, acc);
    for (size_t k = 0; k <= p->n_sym; k++)
        if (!isfinite(a[k]))
            s_flag(p, S_NONFINITE, tok, p->first[acc], p->last[acc]);
    p->used = acc + 1;
}

static size_t s_parse_expr(s_parser_t *p);
static size_t s_parse_factor(s_parser_t *p);

static size_t s_parse_atom(s_parser_t *p)
{
    size_t tok = p->pos, f = s_push(p, tok);
    const s_tok_t *t = s_peek(p);
    if (p->syntax)
        return f;
    if (t->kind == S_NUM || t->kind == S_BASE) {
        s_form(p, f)[p->n_sym] = t->num;
        p->ctok[f] = tok;
        if (!isfinite(t->num))
            s_flag(p, S_NONFINITE, tok, tok, tok);
        p->pos++;
    } else if (t->kind == S_NAME) {
        s_form(p, f)[t->sym] = 1.0;
        p->pos++;
        if (s_peek(p)->kind == S_LPAR)
            s_syntax(p);   /* a function call: log(x + 1) */
    } else if (s_accept(p, S_LPAR)) {
        size_t inner = s_parse_expr(p);
        memcpy(s_form(p, f), s_form(p, inner), (p->n_sym + 1) * sizeof(double));
        p->ctok[f] = p->ctok[inner];
        p->last[f] = p->pos;
        p->used = f + 1;
        if (!s_accept(p, S_RPAR))
            s_syntax(p);
    } else {
        s_syntax(p);
    }
    return f;
}

/* atom [** factor]: a power binds tighter than a sign on its left, as in Python. */
static size_t s_parse_power(s_parser_t *p)
{
    size_t base = s_parse_atom(p), op = p->pos;
    if (!s_accept(p, S_POW))
        return base;
    size_t expo = s_parse_factor(p);
    if (p->syntax)
        return base;
    double *b = s_form(p, base), e = s_form(p, expo)[p->n_sym];
    if (!s_constant(p, expo)) {
        s_flag(p, S_NONLINEAR, op, p->first[base], p->last[expo]);   /* 2**x */
    } else if (s_constant(p, base)) {
        b[p->n_sym] = pow(b[p->n_sym], e);
    } else if (e == 0.0) {
        memset(b, 0, (p->n_sym + 1) * sizeof(double));
        b[p->n_sym] = 1.0;   /* x**0 is 1 */
        p->ctok[base] = op;
    } else if (e != 1.0) {
        s_flag(p, S_NONLINEAR, op, p->first[base], p->last[expo]);   /* x**2 */
    }
    s_close(p, base, expo, op);
    return base;
}

static size_t s_parse_factor(s_parser_t *p)
{
    size_t tok = p->pos;
    if (p->syntax)
        return s_push(p, tok);
    if (++p->depth > S_MAX_DEPTH) {
        s_syntax(p);   /* reported as the token where the nesting got too deep */
        p->depth--;
        return s_push(p, tok);
    }
    size_t f;
    if (s_accept(p, S_PLUS) || s_accept(p, S_MINUS)) {
        f = s_parse_factor(p);
        if (p->toks[tok].kind == S_MINUS) {
            double *a = s_form(p, f);
            for (size_t k = 0; k <= p->n_sym; k++)
                a[k] = -a[k];
        }
        p->first[f] = tok;
    } else {
        f = s_parse_power(p);
    }
    p->depth--;
    return f;
}

static size_t s_parse_term(s_parser_t *p)
{
    size_t acc = s_parse_factor(p);
    for (;;) {
        size_t op = p->pos;
        bool mul = s_accept(p, S_STAR);
        if (!mul && !s_accept(p, S_SLASH))
            return acc;
        size_t rhs = s_parse_factor(p);
        if (p->syntax)
            return acc;
        double *a = s_form(p, acc), *b = s_form(p, rhs);
        double c = b[p->n_sym];
        if (!mul && !s_constant(p, rhs)) {
            s_flag(p, S_NONLINEAR, op, p->first[acc], p->last[rhs]);   /* x/y, 1/x */
        } else if (!mul && c == 0.0) {
            s_flag(p, S_DIVZERO, op, p->first[acc], p->last[rhs]);
        } else if (!mul || s_constant(p, rhs)) {
            for (size_t k = 0; k <= p->n_sym; k++)
                a[k] = mul ? a[k] * c : a[k] / c;
        } else if (s_constant(p, acc)) {
            c = a[p->n_sym];
            for (size_t k = 0; k <= p->n_sym; k++)
                a[k] = c * b[k];
            p->ctok[acc] = p->ctok[rhs];
        } else {
            s_flag(p, S_NONLINEAR, op, p->first[acc], p->last[rhs]);   /* x*y */
        }
        s_close(p, acc, rhs, op);
    }
}

static size_t s_parse_expr(s_parser_t *p)
{
    size_t acc = s_parse_term(p);
    for (;;) {
        size_t op = p->pos;
        bool plus = s_accept(p, S_PLUS);
        if (!plus && !s_accept(p, S_MINUS))
            return acc;
        size_t rhs = s_parse_term(p);
        if (p->syntax)
            return acc;
        double *a = s_form(p, acc), *b = s_form(p, rhs);
        if (a[p->n_sym] == 0.0)
            p->ctok[acc] = p->ctok[rhs];   /* point at a constant that is still there */
        for (size_t k = 0; k <= p->n_sym; k++)
            a[k] += plus ? b[k] : -b[k];
        s_close(p, acc, rhs, op);
    }
}

/* ---------------------------------------------------------------------------------
 * Messages: "<field>: at column <c> ('<token>'): <message>", the place first so that a
 * long string quoted in the message cannot push it out of the buffer. */

typedef struct {
    char field[48];       /* "objective", "outcome_constraints[2]" */
    const char *text;     /* the string */
} s_src_t;

static int HONE_PRINTF(5, 6) s_fail(hone_error_t *err, const s_src_t *src, size_t start, size_t len,
                                    const char *fmt, ...)
{
    char msg[HONE_ERROR_MESSAGE_MAX], where[96];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (len == 0)
        snprintf(where, sizeof where, "at column %zu (end of text)", start);
    else   /* a long token is cut: the message quotes the whole string anyway */
        snprintf(where, sizeof where, "at column %zu ('%.*s%s')", start, (int) (len > 40 ? 40 : len),
                 src->text + start, len > 40 ? "..." : "");
    return hone_error_set(err, HONE_EINVAL, "%s: %s: %s", src->field, where, msg);
}

/* Where token i is, for s_fail: its start and length (0 at the end of the text). */
#define S_AT(p, i) (p)->toks[i].start, ((p)->toks[i].kind == S_END ? 0 : (p)->toks[i].len)

/* Checks shared by every string before parsing, then the tokens. */
static int s_prepare(s_parser_t *p, const s_src_t *src, hone_error_t *err)
{
    size_t bad = strcspn(src->text, ";['\\");
    if (src->text[bad] != '\0')
        return s_fail(err, src, bad, 1, "Expression %s has forbidden control characters.", src->text);
    s_lex(p);
    if (p->toks[p->n_toks - 1].kind == S_MANY)
        return s_fail(err, src, S_AT(p, p->n_toks - 1), "more than %d metrics", HONE_GOALS_MAX_METRICS);
    for (size_t i = 0; i < p->n_toks; i++)
        if (p->toks[i].kind == S_OO)
            return s_fail(err, src, S_AT(p, i), "'oo' (SymPy's infinity) cannot be used: bounds must be finite");
    return HONE_OK;
}

/* The evaluation problem; the expression around it spans tokens e0..e1. */
static int s_status_error(s_parser_t *p, const s_src_t *src, size_t e0, size_t e1, hone_error_t *err)
{
    const s_tok_t *a = &p->toks[p->status_first], *b = &p->toks[p->status_last];
    const s_tok_t *ea = &p->toks[e0], *eb = &p->toks[e1];
    int elen = (int) (eb->start + eb->len - ea->start), tlen = (int) (b->start + b->len - a->start);
    if (p->status == S_NONLINEAR && !p->constraint)
        return s_fail(err, src, S_AT(p, p->status_tok), "Objective expression '%.*s' contains a non-linear term "
                      "'%.*s'. Objective expressions must be linear combinations of metrics.", elen,
                      src->text + ea->start, tlen, src->text + a->start);
    if (p->status == S_NONLINEAR)
        return s_fail(err, src, S_AT(p, p->status_tok), "Only linear outcome constraints are supported, found %s",
                      src->text);
    if (p->status == S_DIVZERO)
        return s_fail(err, src, S_AT(p, p->status_tok), "division by zero in '%s'", src->text);
    return s_fail(err, src, S_AT(p, p->status_tok), "a number in '%s' is not finite", src->text);
}

/* ---------------------------------------------------------------------------------
 * Building: the metric registry and the parsed strings. */

typedef struct {
    s_src_t src;                 /* where it came from, for messages */
    const char *list;            /* "outcome_constraints" or "objective_thresholds" */
    size_t index;                /* position in that list */
    size_t n;                    /* terms */
    size_t *metric;              /* each term's metric */
    double *w;                   /* and weight */
    size_t *col, *len;           /* and the place of its first token */
    hone_goals_op_t op;          /* inequalities: Σ w·y op bound */
    double bound;
    bool relative;
    int obj;                     /* the objective it is the threshold of, -1 if none */
} s_item_t;

typedef struct {
    char **metrics;              /* the registry */
    size_t n_metrics;
    s_item_t *obj;               /* the objectives */
    size_t n_obj;
    s_item_t *items;             /* outcome constraints, then explicit thresholds */
    size_t n_items;
} s_build_t;

static size_t s_register(s_build_t *b, const char *name)
{
    for (size_t m = 0; m < b->n_metrics; m++)
        if (streq(b->metrics[m], name))
            return m;
    b->metrics = hone_realloc_array(b->metrics, b->n_metrics + 1, sizeof(char *));
    b->metrics[b->n_metrics] = hone_strdup(name);
    return b->n_metrics++;
}

/* Fills it with the symbols whose coefficient in form is not 0, registering them. */
static void s_terms(s_build_t *b, s_parser_t *p, const double *form, s_item_t *it)
{
    size_t n = 1;
    for (size_t k = 0; k < p->n_sym; k++)
        n += form[k] != 0.0;
    it->metric = hone_alloc_array(n, sizeof(size_t));
    it->w = hone_alloc_array(n, sizeof(double));
    it->col = hone_alloc_array(n, sizeof(size_t));
    it->len = hone_alloc_array(n, sizeof(size_t));
    it->obj = -1;
    for (size_t k = 0; k < p->n_sym; k++) {
        if (form[k] == 0.0)
            continue;   /* cancelled out, as SymPy drops it */
        it->metric[it->n] = s_register(b, p->names[k]);
        it->w[it->n] = form[k];
        it->col[it->n] = p->toks[p->name_tok[k]].start;
        it->len[it->n++] = p->toks[p->name_tok[k]].len;
    }
}

/* The first token of symbol k among tokens t0..t1. */
static size_t s_sym_tok(const s_parser_t *p, size_t k, size_t t0, size_t t1)
{
    while (t0 < t1 && !(p->toks[t0].kind == S_NAME && p->toks[t0].sym == k))
        t0++;
    return t0;
}

/* One objective of the objective string, kept sparse: a string of n tokens has at most
 * n of them and n terms in all, whatever the number of names. */
typedef struct {
    size_t t0, t1, ctok;       /* its tokens, and its first constant's */
    size_t e0, ne;             /* its terms: entries e0 .. e0 + ne - 1 */
    double constant;
} s_sub_t;

static int s_objective_parse(s_build_t *b, s_parser_t *p, const s_src_t *src, hone_error_t *err)
{
    int rc = s_prepare(p, src, err);
    if (rc != HONE_OK)
        return rc;
    size_t n = 0, ne = 0, *esym = hone_alloc_array(p->n_toks, sizeof(size_t));
    double *ecoef = hone_alloc_array(p->n_toks, sizeof(double));
    s_sub_t *sub = hone_alloc_array(p->n_toks, sizeof(s_sub_t));
    bool more = false;
    do {
        size_t f = s_parse_expr(p);
        if (p->syntax)
            break;
        const double *form = s_form(p, f);
        sub[n] = (s_sub_t) { p->first[f], p->last[f], p->ctok[f], ne, 0, form[p->n_sym] };
        for (size_t k = 0; k < p->n_sym; k++)
            if (form[k] != 0.0)
                esym[ne] = k, ecoef[ne++] = form[k], sub[n].ne++;
        n++;
        p->used = 0;
        more = s_accept(p, S_COMMA) && s_peek(p)->kind != S_END;   /* Python allows "a, b," */
    } while (more);
    if (!p->syntax && (s_peek(p)->kind != S_END || (n == 1 && p->toks[p->pos - 1].kind == S_COMMA)))
        s_syntax(p);   /* "a," is not two objectives */
    if (p->syntax) {
        rc = s_fail(err, src, S_AT(p, p->syntax_tok), "Invalid objective expression: %s", src->text);
    } else if (p->status != S_OK) {
        size_t k = 0;
        while (k + 1 < n && sub[k].t1 < p->status_tok)
            k++;
        rc = s_status_error(p, src, sub[k].t0, sub[k].t1, err);
    }
    size_t *owner = hone_alloc_array(p->n_sym + 1, sizeof(size_t));   /* 1 + the objective using it */
    for (size_t k = 0; rc == HONE_OK && k < n; k++) {
        const s_sub_t *o = &sub[k];
        const char *e = src->text + p->toks[o->t0].start;
        int elen = (int) (p->toks[o->t1].start + p->toks[o->t1].len - p->toks[o->t0].start);
        if (o->constant != 0.0)
            rc = s_fail(err, src, S_AT(p, o->ctok), "Objective expression '%.*s' contains a constant term. "
                        "Objective expressions must be purely symbolic.", elen, e);
        else if (o->ne == 0)
            rc = s_fail(err, src, S_AT(p, o->t0), "Objective expression '%.*s' names no metric", elen, e);
        for (size_t i = o->e0; rc == HONE_OK && i < o->e0 + o->ne; i++) {
            if (owner[esym[i]] != 0)
                rc = s_fail(err, src, S_AT(p, s_sym_tok(p, esym[i], o->t0, o->t1)), "Metric '%s' appears more "
                            "than once in the objective expression '%s'.", p->names[esym[i]], src->text);
            owner[esym[i]] = k + 1;
        }
    }
    if (rc == HONE_OK) {
        for (size_t k = 0; k < p->n_sym; k++)   /* in order of first use over the whole string */
            if (owner[k] != 0)
                s_register(b, p->names[k]);
        double *form = hone_alloc_array(p->n_sym + 1, sizeof(double));
        b->obj = hone_alloc_array(n, sizeof(s_item_t));
        for (b->n_obj = 0; b->n_obj < n; b->n_obj++) {
            const s_sub_t *o = &sub[b->n_obj];
            memset(form, 0, (p->n_sym + 1) * sizeof(double));
            for (size_t i = o->e0; i < o->e0 + o->ne; i++)
                form[esym[i]] = ecoef[i];
            b->obj[b->n_obj].src = *src;
            s_terms(b, p, form, &b->obj[b->n_obj]);
        }
        hone_free(form);
    }
    hone_free(owner);
    hone_free(esym);
    hone_free(ecoef);
    hone_free(sub);
    return rc;
}

/* Python's round(x, 10), which Ax applies to the relative bound. */
static double s_round10(double x)
{
    double y = x * 1e10;
    return fabs(y) < 0x1p52 ? nearbyint(y) / 1e10 : x;
}

static int s_inequality_parse(s_build_t *b, s_parser_t *p, s_item_t *it, hone_error_t *err)
{
    const s_src_t *src = &it->src;
    int rc = s_prepare(p, src, err);
    if (rc != HONE_OK)
        return rc;
    size_t lhs = s_parse_expr(p), rel = p->pos, rhs = lhs;
    s_kind_t kind = s_peek(p)->kind;
    bool related = s_accept(p, S_LE) || s_accept(p, S_GE);
    if (related)
        rhs = s_parse_expr(p);
    if (!p->syntax && (!related || s_peek(p)->kind != S_END))
        s_syntax(p);   /* no relation, a strict '<', '==', or a chain "0 <= a <= 1" */
    if (p->syntax)
        return s_fail(err, src, S_AT(p, p->syntax_tok), "Expected an inequality, found %s", src->text);
    if (p->status != S_OK)
        return s_status_error(p, src, 0, p->n_toks - 1, err);
    double *l = s_form(p, lhs), *r = s_form(p, rhs);
    for (size_t k = 0; k <= p->n_sym; k++)
        l[k] = kind == S_LE ? l[k] - r[k] : r[k] - l[k];   /* Σ l·y + c <= 0 */
    s_terms(b, p, l, it);
    for (size_t t = 0; t < it->n; t++)
        if (it->metric[t] >= HONE_GOALS_MAX_METRICS)
            return s_fail(err, src, it->col[t], it->len[t], "more than %d metrics", HONE_GOALS_MAX_METRICS);
    if (it->n == 0)   /* SymPy turns "1 <= 2" into True */
        return s_fail(err, src, S_AT(p, rel), "Expected an inequality, found %s", src->text);
    it->bound = -l[p->n_sym];
    it->op = HONE_GOALS_LEQ;
    bool all_negative = true;
    for (size_t t = 0; t < it->n; t++)
        all_negative = all_negative && it->w[t] < 0.0;
    if (it->n == 1) {   /* "qps >= 100" is 100 - qps <= 0: qps GEQ 100 */
        it->bound /= it->w[0];
        it->op = it->w[0] > 0.0 ? HONE_GOALS_LEQ : HONE_GOALS_GEQ;
        it->w[0] = 1.0;
    } else if (all_negative) {   /* back to the user's form: "a + b >= 1" */
        it->op = HONE_GOALS_GEQ;
        it->bound = -it->bound;
        for (size_t t = 0; t < it->n; t++)
            it->w[t] = -it->w[t];
    }
    if (p->base_tok != S_NONE && it->n > 1)
        return s_fail(err, src, S_AT(p, p->base_tok), "Scalarized outcome constraints cannot be relative, found %s",
                      src->text);
    if (p->base_tok != S_NONE) {   /* the baseline was read as 1: 0.95 * baseline is -5 % */
        it->relative = true;
        it->bound = s_round10((it->bound - 1.0) * 100.0);
    }
    if (!isfinite(it->bound))   /* a tiny coefficient: "1e-300*a <= 1e300" */
        return s_fail(err, src, it->col[0], it->len[0], "a number in '%s' is not finite", src->text);
    it->bound += 0.0;   /* no -0 bound */
    return HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * Checks across the strings. */

/* Python's repr of a float, as Ax's messages print bounds: "3.0", "0.95", "1e-05". */
static void s_repr(char buf[32], double x)
{
    int prec = 1;
    while (prec < 17 && (snprintf(buf, 32, "%.*e", prec - 1, x), strtod(buf, NULL) != x))
        prec++;
    int exp = atoi(strchr(buf, 'e') + 1);
    if (exp < -4 || exp >= 16)
        return;   /* Python keeps the exponent form there too */
    snprintf(buf, 32, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, x);
    if (!strchr(buf, '.'))
        strcat(buf, ".0");
}

/* How a message names what an inequality bounds: "qps", or "0.5*ne1 + 0.5*ne2". */
static void s_label(const s_build_t *b, const s_item_t *it, char *out, size_t size)
{
    size_t o = 0;
    out[0] = '\0';
    for (size_t t = 0; t < it->n && o < size; t++) {
        char w[32];
        s_repr(w, fabs(it->w[t]));
        if (strlen(w) > 2 && streq(w + strlen(w) - 2, ".0"))
            w[strlen(w) - 2] = '\0';   /* "2*b", as the user wrote it */
        const char *sign = it->w[t] < 0 ? (t ? " - " : "-") : (t ? " + " : "");
        bool one = it->n == 1 || fabs(it->w[t]) == 1.0;
        o += (size_t) snprintf(out + o, size - o, "%s%s%s%s", sign, one ? "" : w, one ? "" : "*",
                               b->metrics[it->metric[t]]);
    }
}

/* +1 when a and b bound the same weighted sum, -1 when they bound its negation, else 0. */
static int s_same(const s_item_t *a, const s_item_t *b)
{
    if (a->n != b->n)
        return 0;
    int sign = 0;
    for (size_t t = 0; t < a->n; t++) {
        size_t u = 0;
        while (u < b->n && b->metric[u] != a->metric[t])
            u++;
        int s = u == b->n ? 0 : a->w[t] == b->w[u] ? 1 : a->w[t] == -b->w[u] ? -1 : 0;
        if (s == 0 || (sign != 0 && s != sign))
            return 0;
        sign = s;
    }
    return sign;
}

/* The objective whose single metric is m, or -1. */
static int s_objective_of(const s_build_t *b, size_t m)
{
    for (size_t k = 0; k < b->n_obj; k++)
        if (b->obj[k].n == 1 && b->obj[k].metric[0] == m)
            return (int) k;
    return -1;
}

static int s_check(s_build_t *b, size_t i, hone_error_t *err)
{
    s_item_t *it = &b->items[i];
    const char *m = b->metrics[it->metric[0]];
    bool explicit = streq(it->list, "objective_thresholds");
    int k = it->n == 1 ? s_objective_of(b, it->metric[0]) : -1;
    bool aligned = k >= 0 && (it->op == HONE_GOALS_LEQ) == (b->obj[k].w[0] < 0.0);
    if (explicit && b->n_obj < 2)
        return s_fail(err, &it->src, it->col[0], it->len[0], "Objective thresholds are only supported in the "
                      "multi-objective case");
    if (explicit && it->n != 1)
        return s_fail(err, &it->src, it->col[0], it->len[0], "An objective threshold must bound a single metric, "
                      "found %s", it->src.text);
    if (explicit && k < 0)
        return s_fail(err, &it->src, it->col[0], it->len[0], "'%s' is not the metric of a single-metric "
                      "objective", m);
    if (explicit && !aligned)
        return s_fail(err, &it->src, it->col[0], it->len[0], "Constraint on %s bounds from %s but %s is being %s.",
                      m, it->op == HONE_GOALS_LEQ ? "above" : "below", m,
                      it->op == HONE_GOALS_LEQ ? "maximized" : "minimized");
    if (b->n_obj == 1 && it->n == 1) {
        for (size_t t = 0; t < b->obj[0].n; t++)
            if (b->obj[0].metric[t] == it->metric[0])
                return s_fail(err, &it->src, it->col[0], it->len[0], "Outcome constraints may not be placed on the "
                              "objective metric except in the multi-objective case, found %s and %s",
                              b->obj[0].src.text, it->src.text);
    }
    if (aligned)   /* explicit, or a constraint in the optimization direction (§2.3) */
        it->obj = k;
    for (size_t j = 0; j < i; j++) {
        const s_item_t *o = &b->items[j];
        int sign = s_same(it, o);
        if (sign == 0)
            continue;
        char label[160];
        s_label(b, it, label, sizeof label);
        if (it->obj >= 0 && o->obj == it->obj)
            return s_fail(err, &it->src, it->col[0], it->len[0], "Duplicate objective thresholds %s", label);
        hone_goals_op_t op = sign > 0 ? o->op : (hone_goals_op_t) !o->op;
        if (op == it->op)
            return s_fail(err, &it->src, it->col[0], it->len[0], "Duplicate outcome constraints %s", label);
        double lo = it->op == HONE_GOALS_GEQ ? it->bound : sign * o->bound;
        double hi = it->op == HONE_GOALS_GEQ ? sign * o->bound : it->bound;
        char l[32], h[32];
        s_repr(l, lo + 0.0), s_repr(h, hi + 0.0);
        if (it->relative == o->relative && lo >= hi)
            return s_fail(err, &it->src, it->col[0], it->len[0], "Lower bound %s is >= upper bound %s for %s", l, h,
                          label);
    }
    return HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * The result. */

static void s_build_free(s_build_t *b)
{
    for (size_t m = 0; m < b->n_metrics; m++)
        hone_strfree(b->metrics[m]);
    for (size_t i = 0; i < b->n_obj + b->n_items; i++) {
        s_item_t *it = i < b->n_obj ? &b->obj[i] : &b->items[i - b->n_obj];
        hone_free(it->metric);
        hone_free(it->w);
        hone_free(it->col);
        hone_free(it->len);
    }
    hone_free(b->metrics);
    hone_free(b->obj);
    hone_free(b->items);
}

/* Row r of self: the dense weights of it. */
static const double *s_row(hone_goals_t *self, size_t r, const s_item_t *it)
{
    double *row = self->rows + r * self->n_metrics;
    for (size_t t = 0; t < it->n; t++)
        row[it->metric[t]] = it->w[t];
    return row;
}

static hone_goals_t *s_finish(s_build_t *b)
{
    hone_goals_t *self = hone_alloc(sizeof *self);
    self->n_metrics = b->n_metrics;
    self->metrics = b->metrics;   /* taken over */
    b->metrics = NULL, b->n_metrics = 0;
    self->n_obj = b->n_obj;
    self->obj = hone_alloc_array(b->n_obj, sizeof(hone_goals_objective_t));
    self->thr = hone_alloc_array(b->n_obj, sizeof(hone_goals_bound_t));
    self->con = hone_alloc_array(b->n_items ? b->n_items : 1, sizeof(hone_goals_bound_t));
    self->rows = hone_alloc_array((b->n_obj + b->n_items) * (self->n_metrics ? self->n_metrics : 1),
                                  sizeof(double));
    for (size_t k = 0; k < b->n_obj; k++) {
        const s_item_t *o = &b->obj[k];
        self->obj[k] = (hone_goals_objective_t) {
            .weights = s_row(self, k, o), .metric = o->n == 1 ? (int) o->metric[0] : -1,
            .minimize = o->n == 1 && o->w[0] < 0.0,
        };
    }
    for (size_t i = 0; i < b->n_items; i++) {
        const s_item_t *it = &b->items[i];
        *(it->obj >= 0 ? &self->thr[it->obj] : &self->con[self->n_con++]) = (hone_goals_bound_t) {
            .weights = s_row(self, b->n_obj + i, it), .metric = it->n == 1 ? (int) it->metric[0] : -1,
            .op = it->op, .bound = it->bound, .relative = it->relative, .field = it->list, .index = it->index,
        };
    }
    return self;
}

int hone_goals_parse(hone_goals_t **out, const char *objective, const char *const *constraints,
                     size_t n_constraints, const char *const *thresholds, size_t n_thresholds,
                     hone_error_t *err)
{
    HONE_ASSERT(out && (constraints || !n_constraints) && (thresholds || !n_thresholds));
    *out = NULL;
    s_build_t b = { 0 };
    s_src_t src = { .field = "objective", .text = objective };
    if (!objective || !objective[strspn(objective, " \t\n\r\f\v")])
        return hone_error_set(err, HONE_EINVAL, "objective: Objective expression string must not be empty.");
    s_parser_t p = { .text = objective };
    int rc = s_objective_parse(&b, &p, &src, err);
    s_parser_free(&p);
    if (rc == HONE_OK && n_constraints + n_thresholds > HONE_GOALS_MAX_BOUNDS)
        rc = hone_error_set(err, HONE_EINVAL, "outcome_constraints: more than %d outcome constraints and objective "
                            "thresholds", HONE_GOALS_MAX_BOUNDS);
    b.items = hone_alloc_array(n_constraints + n_thresholds + 1, sizeof(s_item_t));
    for (size_t i = 0; rc == HONE_OK && i < n_constraints + n_thresholds; i++, b.n_items++) {
        s_item_t *it = &b.items[i];
        bool con = i < n_constraints;
        it->list = con ? "outcome_constraints" : "objective_thresholds";
        it->index = con ? i : i - n_constraints;
        it->src.text = con ? constraints[i] : thresholds[it->index];
        snprintf(it->src.field, sizeof it->src.field, "%s[%zu]", it->list, it->index);
        if (!it->src.text) {
            rc = hone_error_set(err, HONE_EINVAL, "%s: must be a string", it->src.field);
            break;
        }
        p = (s_parser_t) { .text = it->src.text, .constraint = true };
        rc = s_inequality_parse(&b, &p, it, err);
        s_parser_free(&p);
    }
    for (size_t i = 0; rc == HONE_OK && i < b.n_items; i++)
        rc = s_check(&b, i, err);
    if (rc == HONE_OK)
        *out = s_finish(&b);
    s_build_free(&b);
    return rc;
}

void hone_goals_destroy(hone_goals_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_goals_t *self = *self_p;
    for (size_t m = 0; m < self->n_metrics; m++)
        hone_strfree(self->metrics[m]);
    hone_free(self->metrics);
    hone_free(self->obj);
    hone_free(self->thr);
    hone_free(self->con);
    hone_free(self->rows);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_goals_n_metrics(const hone_goals_t *self) { HONE_ASSERT(self); return self->n_metrics; }
size_t hone_goals_n_objectives(const hone_goals_t *self) { HONE_ASSERT(self); return self->n_obj; }
bool hone_goals_is_multi_objective(const hone_goals_t *self) { HONE_ASSERT(self); return self->n_obj > 1; }
size_t hone_goals_n_constraints(const hone_goals_t *self) { HONE_ASSERT(self); return self->n_con; }

const char *hone_goals_metric(const hone_goals_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n_metrics);
    return self->metrics[i];
}

int hone_goals_find_metric(const hone_goals_t *self, const char *name)
{
    HONE_ASSERT(self && name);
    for (size_t m = 0; m < self->n_metrics; m++)
        if (streq(self->metrics[m], name))
            return (int) m;
    return -1;
}

const hone_goals_objective_t *hone_goals_objective(const hone_goals_t *self, size_t k)
{
    HONE_ASSERT(self && k < self->n_obj);
    return &self->obj[k];
}

const hone_goals_bound_t *hone_goals_threshold(const hone_goals_t *self, size_t k)
{
    HONE_ASSERT(self && k < self->n_obj);
    return self->thr[k].weights ? &self->thr[k] : NULL;   /* weights are set when there is one */
}

const hone_goals_bound_t *hone_goals_constraint(const hone_goals_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n_con);
    return &self->con[i];
}
