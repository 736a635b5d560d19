/* expr.c: the tokenizer and linear-form evaluator shared by constraint.c and goals.c
 * (see expr.h). Each sub-expression evaluates to a dense form, n_names coefficients then
 * the constant, on a stack: a binary operation pops its right operand, so the stack holds
 * a few forms per nesting level, whatever the length of the string. */
#include "expr.h"

#include "alloc.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct _hone_expr_t {
    const char *text;              /* the string (borrowed) */
    hone_expr_tok_t *toks;         /* its tokens, up to END or the first BAD or MANY */
    size_t n_toks;                 /* how many */
    char **names;                  /* distinct names, canonical, in order of first use */
    size_t *name_tok;              /* each name's first token */
    size_t n_names;                /* how many */
    size_t pos;                    /* the next token */
    size_t depth;                  /* current nesting of factors */
    double *pool;                  /* the stack of forms, n_names + 1 doubles each */
    size_t *first, *last;          /* each form's first and last token */
    size_t *ctok;                  /* each form's first constant token, or NONE */
    size_t used, cap;              /* forms on the stack, allocated */
    hone_expr_problem_t syntax;    /* where parsing stopped */
    hone_expr_problem_t eval;      /* the first evaluation problem */
};

/* ---------------------------------------------------------------------------------
 * Tokens. */

static bool s_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool s_digit(char c) { return c >= '0' && c <= '9'; }
static bool s_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
/* What may follow a number's digits only as part of a bad token: a name character
 * (non-ASCII bytes are UTF-8 letters, as Python allows). */
static bool s_word(char c) { return s_alpha(c) || s_digit(c) || (unsigned char) c >= 0x80; }

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

/* The default name rule: [A-Za-z_][A-Za-z0-9_]*, with '.' inside when a name character
 * follows (Ax's sanitization keeps such dots in parameter names). */
static size_t s_identifier(const char *s, char *out, void *arg)
{
    (void) arg;
    size_t i = 0;
    if (!s_alpha(s[0]))
        return 0;
    while (s_alpha(s[i]) || s_digit(s[i]) || (s[i] == '.' && (s_alpha(s[i + 1]) || s_digit(s[i + 1]))))
        i++;
    memcpy(out, s, i);
    out[i] = '\0';
    return i;
}

/* The operator at s into t (kind, len). */
static void s_operator(const char *s, hone_expr_tok_t *t)
{
    bool eq = s[1] == '=';
    t->len = 1;
    switch (s[0]) {
    case '+': t->kind = HONE_EXPR_PLUS; break;
    case '-': t->kind = HONE_EXPR_MINUS; break;
    case '/': t->kind = HONE_EXPR_SLASH; break;
    case '^': t->kind = HONE_EXPR_POW; break;   /* SymPy's convert_xor */
    case '(': t->kind = HONE_EXPR_LPAR; break;
    case ')': t->kind = HONE_EXPR_RPAR; break;
    case ',': t->kind = HONE_EXPR_COMMA; break;
    case '*': t->kind = s[1] == '*' ? HONE_EXPR_POW : HONE_EXPR_STAR; t->len = s[1] == '*' ? 2 : 1; break;
    case '<': t->kind = eq ? HONE_EXPR_LE : HONE_EXPR_REL; t->len = eq ? 2 : 1; break;
    case '>': t->kind = eq ? HONE_EXPR_GE : HONE_EXPR_REL; t->len = eq ? 2 : 1; break;
    case '=': t->kind = HONE_EXPR_REL; t->len = eq ? 2 : 1; break;
    case '!': t->kind = eq ? HONE_EXPR_REL : HONE_EXPR_BAD; t->len = eq ? 2 : 1; break;
    default: t->kind = HONE_EXPR_BAD; break;
    }
}

/* The name in buf as token t: a word of the language, or a name, interned; MANY when
 * it would be one name too many. */
static void s_name(hone_expr_t *self, const hone_expr_lang_t *lang, const char *buf, hone_expr_tok_t *t)
{
    for (size_t w = 0; w < lang->n_words; w++)
        if (streq(lang->words[w].name, buf)) {
            t->kind = lang->words[w].kind;
            t->num = lang->words[w].value;
            t->sym = w;
            return;
        }
    size_t k = 0;
    while (k < self->n_names && !streq(self->names[k], buf))
        k++;
    if (k == self->n_names && lang->max_names && k == lang->max_names) {
        t->kind = HONE_EXPR_MANY;   /* stop here: every name costs a look-up */
        return;
    }
    if (k == self->n_names) {
        self->names[k] = hone_strdup(buf);
        self->name_tok[self->n_names++] = (size_t) (t - self->toks);
    }
    t->kind = HONE_EXPR_NAME;
    t->sym = k;
}

hone_expr_t *hone_expr_new(const char *text, const hone_expr_lang_t *lang)
{
    HONE_ASSERT(text && lang);
    hone_expr_t *self = hone_alloc(sizeof *self);
    size_t n = strlen(text), i = 0;
    hone_expr_scan_fn scan = lang->scan ? lang->scan : s_identifier;
    self->text = text;
    self->toks = hone_alloc_array(n + 2, sizeof(hone_expr_tok_t));
    self->names = hone_alloc_array(n + 1, sizeof(char *));
    self->name_tok = hone_alloc_array(n + 1, sizeof(size_t));
    char *buf = hone_alloc(n + 1);
    for (;;) {
        while (s_space(text[i]))
            i++;
        hone_expr_tok_t *t = &self->toks[self->n_toks++];
        *t = (hone_expr_tok_t) { .kind = HONE_EXPR_END, .start = i };
        size_t len;
        if (text[i] == '\0')
            break;
        if ((len = s_number_len(text + i)) > 0) {
            t->kind = HONE_EXPR_NUM;
            if (len >= 64 || s_word(text[i + len]) || text[i + len] == '.') {
                t->kind = HONE_EXPR_BAD;   /* "2x", "1.2.3": all of it is the token */
                while (s_word(text[i + len]) || text[i + len] == '.')
                    len++;
            } else {
                char num[64];
                memcpy(num, text + i, len);
                num[len] = '\0';
                t->num = strtod(num, NULL);
            }
            t->len = len;
        } else if ((len = scan(text + i, buf, lang->arg)) > 0) {
            t->len = len;
            s_name(self, lang, buf, t);
        } else {
            s_operator(text + i, t);
        }
        if (t->kind == HONE_EXPR_BAD || t->kind == HONE_EXPR_MANY)
            break;
        i += t->len;
    }
    hone_free(buf);
    return self;
}

void hone_expr_destroy(hone_expr_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_expr_t *self = *self_p;
    for (size_t k = 0; k < self->n_names; k++)
        hone_strfree(self->names[k]);
    hone_free(self->names);
    hone_free(self->name_tok);
    hone_free(self->toks);
    hone_free(self->pool);
    hone_free(self->first);
    hone_free(self->last);
    hone_free(self->ctok);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_expr_n_tokens(const hone_expr_t *self) { HONE_ASSERT(self); return self->n_toks; }
size_t hone_expr_n_names(const hone_expr_t *self) { HONE_ASSERT(self); return self->n_names; }
size_t hone_expr_pos(const hone_expr_t *self) { HONE_ASSERT(self); return self->pos; }
const hone_expr_tok_t *hone_expr_peek(const hone_expr_t *self) { HONE_ASSERT(self); return &self->toks[self->pos]; }
const hone_expr_problem_t *hone_expr_syntax_error(const hone_expr_t *self) { HONE_ASSERT(self); return &self->syntax; }
const hone_expr_problem_t *hone_expr_eval_error(const hone_expr_t *self) { HONE_ASSERT(self); return &self->eval; }
void hone_expr_drop(hone_expr_t *self) { HONE_ASSERT(self); self->used = 0; }

const hone_expr_tok_t *hone_expr_token(const hone_expr_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n_toks);
    return &self->toks[i];
}

const char *hone_expr_name(const hone_expr_t *self, size_t k)
{
    HONE_ASSERT(self && k < self->n_names);
    return self->names[k];
}

size_t hone_expr_name_token(const hone_expr_t *self, size_t k)
{
    HONE_ASSERT(self && k < self->n_names);
    return self->name_tok[k];
}

bool hone_expr_accept(hone_expr_t *self, hone_expr_kind_t kind)
{
    HONE_ASSERT(self);
    if (self->syntax.kind != HONE_EXPR_OK || self->toks[self->pos].kind != kind)
        return false;
    self->pos++;
    return true;
}

static void s_syntax(hone_expr_t *self, hone_expr_err_t kind)
{
    if (self->syntax.kind == HONE_EXPR_OK)
        self->syntax = (hone_expr_problem_t) { .kind = kind, .tok = self->pos, .first = self->pos, .last = self->pos };
}

void hone_expr_reject(hone_expr_t *self)
{
    HONE_ASSERT(self);
    s_syntax(self, HONE_EXPR_ESYNTAX);
}

/* ---------------------------------------------------------------------------------
 * Forms. */

static double *s_coef(const hone_expr_t *self, size_t f) { return self->pool + f * (self->n_names + 1); }

hone_expr_form_t hone_expr_form(const hone_expr_t *self, size_t f)
{
    HONE_ASSERT(self && f < self->used);
    return (hone_expr_form_t) { s_coef(self, f), self->first[f], self->last[f], self->ctok[f] };
}

bool hone_expr_is_constant(const hone_expr_t *self, size_t f)
{
    HONE_ASSERT(self && f < self->used);
    const double *a = s_coef(self, f);
    for (size_t k = 0; k < self->n_names; k++)
        if (a[k] != 0.0)
            return false;
    return true;
}

static void s_flag(hone_expr_t *self, hone_expr_err_t kind, size_t tok, size_t first, size_t last)
{
    if (self->eval.kind == HONE_EXPR_OK)
        self->eval = (hone_expr_problem_t) { .kind = kind, .tok = tok, .first = first, .last = last };
}

/* Pushes a zero form spanning token tok. Forms move when the stack grows: callers
 * fetch s_coef pointers only after their last push. */
static size_t s_push(hone_expr_t *self, size_t tok)
{
    if (self->used == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 16;
        self->pool = hone_realloc_array(self->pool, self->cap, (self->n_names + 1) * sizeof(double));
        self->first = hone_realloc_array(self->first, self->cap, sizeof(size_t));
        self->last = hone_realloc_array(self->last, self->cap, sizeof(size_t));
        self->ctok = hone_realloc_array(self->ctok, self->cap, sizeof(size_t));
    }
    size_t f = self->used++;
    memset(s_coef(self, f), 0, (self->n_names + 1) * sizeof(double));
    self->first[f] = self->last[f] = tok;
    self->ctok[f] = HONE_EXPR_NONE;
    return f;
}

/* Ends a binary operation at tok: acc now spans to rhs, which is popped. */
static void s_close(hone_expr_t *self, size_t acc, size_t rhs, size_t tok)
{
    self->last[acc] = self->last[rhs];
    const double *a = s_coef(self, acc);
    for (size_t k = 0; k <= self->n_names; k++)
        if (!isfinite(a[k]))
            s_flag(self, HONE_EXPR_ENONFINITE, tok, self->first[acc], self->last[acc]);
    self->used = acc + 1;
}

static size_t s_parse_factor(hone_expr_t *self);

static size_t s_parse_atom(hone_expr_t *self)
{
    size_t tok = self->pos, f = s_push(self, tok), n = self->n_names;
    const hone_expr_tok_t *t = &self->toks[tok];
    if (self->syntax.kind != HONE_EXPR_OK)
        return f;
    if (t->kind == HONE_EXPR_NUM || t->kind == HONE_EXPR_CONST) {
        s_coef(self, f)[n] = t->num;
        self->ctok[f] = tok;
        if (!isfinite(t->num))
            s_flag(self, HONE_EXPR_ENONFINITE, tok, tok, tok);
        self->pos++;
    } else if (t->kind == HONE_EXPR_NAME) {
        s_coef(self, f)[t->sym] = 1.0;
        self->pos++;
        if (self->toks[self->pos].kind == HONE_EXPR_LPAR)
            s_syntax(self, HONE_EXPR_ESYNTAX);   /* a function call: log(x + 1) */
    } else if (hone_expr_accept(self, HONE_EXPR_LPAR)) {
        size_t inner = hone_expr_parse(self);
        memcpy(s_coef(self, f), s_coef(self, inner), (n + 1) * sizeof(double));
        self->ctok[f] = self->ctok[inner];
        self->last[f] = self->pos;
        self->used = f + 1;
        if (!hone_expr_accept(self, HONE_EXPR_RPAR))
            s_syntax(self, HONE_EXPR_ESYNTAX);
    } else {
        s_syntax(self, HONE_EXPR_ESYNTAX);
    }
    return f;
}

/* atom [** factor]: a power binds tighter than a sign on its left, as in Python. */
static size_t s_parse_power(hone_expr_t *self)
{
    size_t base = s_parse_atom(self), op = self->pos, n = self->n_names;
    if (!hone_expr_accept(self, HONE_EXPR_POW))
        return base;
    size_t expo = s_parse_factor(self);
    if (self->syntax.kind != HONE_EXPR_OK)
        return base;
    double *b = s_coef(self, base), e = s_coef(self, expo)[n];
    if (!hone_expr_is_constant(self, expo)) {
        s_flag(self, HONE_EXPR_ENONLINEAR, op, self->first[base], self->last[expo]);   /* 2**x */
    } else if (hone_expr_is_constant(self, base)) {
        b[n] = pow(b[n], e);
    } else if (e == 0.0) {
        memset(b, 0, (n + 1) * sizeof(double));
        b[n] = 1.0;   /* x**0 is 1 */
        self->ctok[base] = op;
    } else if (e != 1.0) {
        s_flag(self, HONE_EXPR_ENONLINEAR, op, self->first[base], self->last[expo]);   /* x**2 */
    }
    s_close(self, base, expo, op);
    return base;
}

static size_t s_parse_factor(hone_expr_t *self)
{
    size_t tok = self->pos;
    if (self->syntax.kind != HONE_EXPR_OK)
        return s_push(self, tok);
    if (self->depth == HONE_EXPR_MAX_DEPTH) {
        s_syntax(self, HONE_EXPR_EDEPTH);   /* reported at the token one level too deep */
        return s_push(self, tok);
    }
    self->depth++;
    size_t f;
    if (hone_expr_accept(self, HONE_EXPR_PLUS) || hone_expr_accept(self, HONE_EXPR_MINUS)) {
        f = s_parse_factor(self);
        if (self->toks[tok].kind == HONE_EXPR_MINUS) {
            double *a = s_coef(self, f);
            for (size_t k = 0; k <= self->n_names; k++)
                a[k] = -a[k];
        }
        self->first[f] = tok;
    } else {
        f = s_parse_power(self);
    }
    self->depth--;
    return f;
}

static size_t s_parse_term(hone_expr_t *self)
{
    size_t acc = s_parse_factor(self), n = self->n_names;
    for (;;) {
        size_t op = self->pos;
        bool mul = hone_expr_accept(self, HONE_EXPR_STAR);
        if (!mul && !hone_expr_accept(self, HONE_EXPR_SLASH))
            return acc;
        size_t rhs = s_parse_factor(self);
        if (self->syntax.kind != HONE_EXPR_OK)
            return acc;
        double *a = s_coef(self, acc), *b = s_coef(self, rhs);
        double c = b[n];
        if (!mul && !hone_expr_is_constant(self, rhs)) {
            s_flag(self, HONE_EXPR_ENONLINEAR, op, self->first[acc], self->last[rhs]);   /* x/y, 1/x */
        } else if (!mul && c == 0.0) {
            s_flag(self, HONE_EXPR_EDIVZERO, op, self->first[acc], self->last[rhs]);
        } else if (!mul || hone_expr_is_constant(self, rhs)) {
            for (size_t k = 0; k <= n; k++)
                a[k] = mul ? a[k] * c : a[k] / c;
        } else if (hone_expr_is_constant(self, acc)) {
            c = a[n];
            for (size_t k = 0; k <= n; k++)
                a[k] = c * b[k];
            self->ctok[acc] = self->ctok[rhs];
        } else {
            s_flag(self, HONE_EXPR_ENONLINEAR, op, self->first[acc], self->last[rhs]);   /* x*y */
        }
        s_close(self, acc, rhs, op);
    }
}

size_t hone_expr_parse(hone_expr_t *self)
{
    HONE_ASSERT(self);
    size_t acc = s_parse_term(self), n = self->n_names;
    for (;;) {
        size_t op = self->pos;
        bool plus = hone_expr_accept(self, HONE_EXPR_PLUS);
        if (!plus && !hone_expr_accept(self, HONE_EXPR_MINUS))
            return acc;
        size_t rhs = s_parse_term(self);
        if (self->syntax.kind != HONE_EXPR_OK)
            return acc;
        double *a = s_coef(self, acc), *b = s_coef(self, rhs);
        if (a[n] == 0.0)
            self->ctok[acc] = self->ctok[rhs];   /* point at a constant that is still there */
        for (size_t k = 0; k <= n; k++)
            a[k] += plus ? b[k] : -b[k];
        s_close(self, acc, rhs, op);
    }
}

size_t hone_expr_parse_inequality(hone_expr_t *self, size_t *rel)
{
    HONE_ASSERT(self && rel);
    size_t lhs = hone_expr_parse(self);
    *rel = self->pos;
    bool le = hone_expr_accept(self, HONE_EXPR_LE);
    if (!le && !hone_expr_accept(self, HONE_EXPR_GE)) {
        hone_expr_reject(self);   /* no relation, a strict '<', '==' */
        return lhs;
    }
    size_t rhs = hone_expr_parse(self);
    if (self->toks[self->pos].kind != HONE_EXPR_END)
        hone_expr_reject(self);   /* a chain "0 <= a <= 1", a ',' */
    if (self->syntax.kind != HONE_EXPR_OK)
        return lhs;
    double *l = s_coef(self, lhs), *r = s_coef(self, rhs);
    for (size_t k = 0; k <= self->n_names; k++)
        l[k] = le ? l[k] - r[k] : r[k] - l[k];
    self->last[lhs] = self->last[rhs];
    self->used = lhs + 1;
    return lhs;
}

/* ---------------------------------------------------------------------------------
 * Messages. */

size_t hone_expr_forbidden(const char *text)
{
    HONE_ASSERT(text);
    size_t bad = strcspn(text, ";['\\");
    return text[bad] != '\0' ? bad : HONE_EXPR_NONE;
}

static int s_vfail(hone_error_t *err, const char *field, const char *text, size_t col, size_t len,
                   const char *fmt, va_list ap)
{
    char msg[HONE_ERROR_MESSAGE_MAX], where[96];
    vsnprintf(msg, sizeof msg, fmt, ap);
    if (len == 0)
        snprintf(where, sizeof where, "at column %zu (end of text)", col);
    else   /* a long token is cut: the message quotes the whole string anyway */
        snprintf(where, sizeof where, "at column %zu ('%.*s%s')", col, (int) (len > 40 ? 40 : len), text + col,
                 len > 40 ? "..." : "");
    return hone_error_set(err, HONE_EINVAL, "%s: %s: %s", field, where, msg);
}

int hone_expr_fail(hone_error_t *err, const char *field, const char *text, size_t col, size_t len,
                   const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(err, field, text, col, len, fmt, ap);
    va_end(ap);
    return rc;
}

int hone_expr_fail_at(const hone_expr_t *self, hone_error_t *err, const char *field, size_t tok,
                      const char *fmt, ...)
{
    HONE_ASSERT(self && tok < self->n_toks);
    const hone_expr_tok_t *t = &self->toks[tok];
    va_list ap;
    va_start(ap, fmt);
    int rc = s_vfail(err, field, self->text, t->start, t->kind == HONE_EXPR_END ? 0 : t->len, fmt, ap);
    va_end(ap);
    return rc;
}
