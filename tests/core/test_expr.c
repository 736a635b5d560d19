/* Unit tests for core/expr: the tokenizer and linear-form evaluator behind
 * parameter_constraints (constraint.c) and objectives and outcome constraints (goals.c).
 * Tables: linear forms (rendered canonically), linearity and number problems (kind,
 * column and the term at fault), syntax and depth limits, tokens and their columns, the
 * name hook, words and the name cap, inequalities, and the column-style messages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "expr.h"

static const hone_expr_lang_t s_identifiers = { 0 };

/* "2*a -0.25*b +3": each non-zero coefficient, then the constant when not 0. */
static void s_render(const hone_expr_t *e, size_t f, char *out, size_t size)
{
    hone_expr_form_t form = hone_expr_form(e, f);
    size_t n = hone_expr_n_names(e), o = 0;
    out[0] = '\0';
    for (size_t k = 0; k < n; k++)
        if (form.coef[k] != 0.0)
            o += (size_t) snprintf(out + o, size - o, "%s%.15g*%s", o ? " " : "", form.coef[k], hone_expr_name(e, k));
    if (form.coef[n] != 0.0 || o == 0)
        snprintf(out + o, size - o, "%s%+.15g", o ? " " : "", form.coef[n]);
}

typedef struct {
    const char *text;
    const char *expected;   /* the rendered form */
} s_form_case_t;

static const s_form_case_t s_forms[] = {
    { "a", "1*a" },
    { "2*a + 3", "2*a +3" },
    { "a*2 - b/4", "2*a -0.25*b" },
    { "3*(a + 2)", "3*a +6" },
    { "(a + 2*b)/2", "0.5*a 1*b" },
    { "a/3", "0.333333333333333*a" },
    { "2**3*a", "8*a" },
    { "2^3*a", "8*a" },                       /* SymPy's convert_xor */
    { "-2**2*a", "-4*a" },                    /* -(2**2), as in Python */
    { "2**-1*a", "0.5*a" },
    { "2**3**2", "+512" },                    /* right-associative */
    { "a**1", "1*a" },
    { "a**0", "+1" },                         /* x**0 is 1 */
    { "a - a", "+0" },                        /* SymPy combines */
    { "a - a + b", "1*b" },
    { "b + a + b", "2*b 1*a" },               /* names in order of first use */
    { "0*a", "+0" },
    { "- -a", "1*a" },
    { "+a", "1*a" },
    { "-(-(a))", "1*a" },
    { "(a - 2) * -4", "-4*a +8" },
    { ".5*a + 1.*b - 2.5E+1", "0.5*a 1*b -25" },
    { "1e-3*a", "0.001*a" },
    { "layer.width + x_1", "1*layer.width 1*x_1" },
    { "\ta\n+\r1e0 ", "1*a +1" },
    { "3*(a + b) - a", "2*a 3*b" },
    { "(((1)))", "+1" },
};

static void test_linear_forms(void **state)
{
    (void) state;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_forms); i++) {
        hone_expr_t *e = hone_expr_new(s_forms[i].text, &s_identifiers);
        size_t f = hone_expr_parse(e);
        char got[256];
        if (hone_expr_syntax_error(e)->kind != HONE_EXPR_OK || hone_expr_eval_error(e)->kind != HONE_EXPR_OK)
            fail_msg("'%s' refused", s_forms[i].text);
        if (hone_expr_peek(e)->kind != HONE_EXPR_END)
            fail_msg("'%s' not parsed to its end", s_forms[i].text);
        s_render(e, f, got, sizeof got);
        if (!streq(got, s_forms[i].expected))
            fail_msg("'%s': got '%s', expected '%s'", s_forms[i].text, got, s_forms[i].expected);
        assert_int_equal(hone_expr_is_constant(e, f), strchr(got, '*') == NULL);
        hone_expr_form_t form = hone_expr_form(e, f);
        assert_int_equal(form.first, 0);   /* a form at the start spans the whole text */
        assert_int_equal(form.last, hone_expr_n_tokens(e) - 2);
        hone_expr_destroy(&e);
        assert_null(e);
        hone_expr_destroy(&e);
    }
}

typedef struct {
    const char *text;
    hone_expr_err_t kind;
    size_t col;             /* of the token at fault */
    const char *term;       /* evaluation problems: the operands' text */
} s_problem_case_t;

static const s_problem_case_t s_problems[] = {
    /* linear only: the operator, and the term it makes */
    { "x + a*b", HONE_EXPR_ENONLINEAR, 5, "a*b" },
    { "a * b + c", HONE_EXPR_ENONLINEAR, 2, "a * b" },
    { "a**2", HONE_EXPR_ENONLINEAR, 1, "a**2" },
    { "a^2", HONE_EXPR_ENONLINEAR, 1, "a^2" },
    { "a/b", HONE_EXPR_ENONLINEAR, 1, "a/b" },
    { "1/a", HONE_EXPR_ENONLINEAR, 1, "1/a" },
    { "2**a", HONE_EXPR_ENONLINEAR, 1, "2**a" },
    { "a**-1", HONE_EXPR_ENONLINEAR, 1, "a**-1" },
    { "a**b", HONE_EXPR_ENONLINEAR, 1, "a**b" },
    { "(a + 1)*(b - 1)", HONE_EXPR_ENONLINEAR, 7, "(a + 1)*(b - 1)" },
    { "2*a / b", HONE_EXPR_ENONLINEAR, 4, "2*a / b" },
    { "(a - a)*b + c*d", HONE_EXPR_ENONLINEAR, 13, "c*d" },   /* (a - a) is 0: 0*b is fine */
    /* numbers */
    { "a / 0", HONE_EXPR_EDIVZERO, 2, "a / 0" },
    { "a/(1 - 1)", HONE_EXPR_EDIVZERO, 1, "a/(1 - 1)" },
    { "1e999*a", HONE_EXPR_ENONFINITE, 0, "1e999" },
    { "1e300*1e300*a", HONE_EXPR_ENONFINITE, 5, "1e300*1e300" },
    { "10**400", HONE_EXPR_ENONFINITE, 2, "10**400" },
    { "(-8)**0.5*a", HONE_EXPR_ENONFINITE, 4, "(-8)**0.5" },
    { "1e308*a + 1e308*a", HONE_EXPR_ENONFINITE, 8, "1e308*a + 1e308*a" },
    /* the first problem is kept, parsing goes on */
    { "a*b + c/0", HONE_EXPR_ENONLINEAR, 1, "a*b" },
    { "c/0 + a*b", HONE_EXPR_EDIVZERO, 1, "c/0" },
};

static void test_problems(void **state)
{
    (void) state;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_problems); i++) {
        const s_problem_case_t *c = &s_problems[i];
        hone_expr_t *e = hone_expr_new(c->text, &s_identifiers);
        hone_expr_parse(e);
        const hone_expr_problem_t *pr = hone_expr_eval_error(e);
        assert_int_equal(hone_expr_syntax_error(e)->kind, HONE_EXPR_OK);
        assert_int_equal(hone_expr_peek(e)->kind, HONE_EXPR_END);
        if (pr->kind != c->kind)
            fail_msg("'%s': kind %d, expected %d", c->text, pr->kind, c->kind);
        if (hone_expr_token(e, pr->tok)->start != c->col)
            fail_msg("'%s': column %zu, expected %zu", c->text, hone_expr_token(e, pr->tok)->start, c->col);
        const hone_expr_tok_t *a = hone_expr_token(e, pr->first), *b = hone_expr_token(e, pr->last);
        int len = (int) (b->start + b->len - a->start);
        if ((size_t) len != strlen(c->term) || strncmp(c->text + a->start, c->term, (size_t) len) != 0)
            fail_msg("'%s': term '%.*s', expected '%s'", c->text, len, c->text + a->start, c->term);
        hone_expr_destroy(&e);
    }
}

typedef struct {
    const char *text;
    size_t col;          /* where parsing stopped */
    size_t len;          /* the token's length there (0: end of text) */
} s_syntax_case_t;

static const s_syntax_case_t s_syntax[] = {
    { "", 0, 0 },
    { "   ", 3, 0 },
    { "a +", 3, 0 },
    { "a + * b", 4, 1 },
    { "(a + b", 6, 0 },
    { "log(a)", 3, 1 },                  /* no function calls */
    { "Le(a, 1)", 2, 1 },
    { "2x", 0, 2 },                      /* a number run into a name: one bad token */
    { "1.2.3*a", 0, 5 },
    { "1e", 0, 2 },
    { "a % b", 2, 1 },
    { "a // 2", 3, 1 },
    { "a ** ", 5, 0 },
    { "a # 2", 2, 1 },
    { "a ≤ 1", 2, 1 },                   /* a non-ASCII byte is no operator */
    { "$", 0, 1 },
    { "~a", 0, 1 },                      /* identifiers: no '~' */
    { "a. b", 1, 1 },                    /* a '.' only inside a name */
    { "<= 1", 0, 2 },
};

static void test_syntax(void **state)
{
    (void) state;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_syntax); i++) {
        const s_syntax_case_t *c = &s_syntax[i];
        hone_expr_t *e = hone_expr_new(c->text, &s_identifiers);
        hone_expr_parse(e);
        if (hone_expr_peek(e)->kind != HONE_EXPR_END)
            hone_expr_reject(e);   /* as the callers do: the form must end the text */
        const hone_expr_problem_t *pr = hone_expr_syntax_error(e);
        const hone_expr_tok_t *t = hone_expr_token(e, pr->tok);
        if (pr->kind != HONE_EXPR_ESYNTAX)
            fail_msg("'%s' parsed (kind %d)", c->text, pr->kind);
        if (t->start != c->col || (t->kind == HONE_EXPR_END ? 0 : t->len) != c->len)
            fail_msg("'%s': stopped at column %zu length %zu, expected %zu %zu", c->text, t->start, t->len, c->col,
                     c->len);
        assert_false(hone_expr_accept(e, t->kind));   /* nothing moves after a syntax problem */
        hone_expr_destroy(&e);
    }
    /* The caller's grammar decides what may follow a form: ')' is not parsed. */
    hone_expr_t *e = hone_expr_new("a)", &s_identifiers);
    hone_expr_parse(e);
    assert_int_equal(hone_expr_syntax_error(e)->kind, HONE_EXPR_OK);
    assert_int_equal(hone_expr_peek(e)->kind, HONE_EXPR_RPAR);
    assert_int_equal(hone_expr_pos(e), 1);
    hone_expr_reject(e);
    assert_int_equal(hone_expr_syntax_error(e)->kind, HONE_EXPR_ESYNTAX);
    assert_int_equal(hone_expr_syntax_error(e)->tok, 1);
    hone_expr_destroy(&e);
}

/* Parses text; returns the depth problem's column, or -1 when it parsed. */
static long s_depth_col(const char *text)
{
    hone_expr_t *e = hone_expr_new(text, &s_identifiers);
    hone_expr_parse(e);
    const hone_expr_problem_t *pr = hone_expr_syntax_error(e);
    long col = pr->kind == HONE_EXPR_EDEPTH ? (long) hone_expr_token(e, pr->tok)->start : -1;
    assert_true(pr->kind == HONE_EXPR_OK || pr->kind == HONE_EXPR_EDEPTH);
    hone_expr_destroy(&e);
    return col;
}

static void test_depth(void **state)
{
    (void) state;
    enum { N = 100000 };
    char *text = malloc(2 * N + 8);
    /* n parentheses: x sits at depth n + 1 */
    for (int n = HONE_EXPR_MAX_DEPTH - 1; n <= HONE_EXPR_MAX_DEPTH; n++) {
        memset(text, '(', (size_t) n);
        text[n] = 'x';
        memset(text + n + 1, ')', (size_t) n);
        text[2 * n + 1] = '\0';
        assert_int_equal(s_depth_col(text), n < HONE_EXPR_MAX_DEPTH ? -1 : HONE_EXPR_MAX_DEPTH);
    }
    /* signs and powers nest too */
    memset(text, '-', HONE_EXPR_MAX_DEPTH + 1);
    strcpy(text + HONE_EXPR_MAX_DEPTH + 1, "x");
    assert_int_equal(s_depth_col(text), HONE_EXPR_MAX_DEPTH);
    text[0] = '\0';
    for (int i = 0; i < HONE_EXPR_MAX_DEPTH; i++)
        strcat(text, "2**");
    strcat(text, "1");
    assert_int_equal(s_depth_col(text), 3 * HONE_EXPR_MAX_DEPTH);   /* the final 1, operand 101, is too deep */
    text[3 * HONE_EXPR_MAX_DEPTH - 3] = '\0';
    strcat(text, "1");
    assert_int_equal(s_depth_col(text), -1);   /* 100 operands are fine */
    /* a hostile string: refused at once, whatever its length */
    memset(text, '(', N);
    text[N] = '\0';
    clock_t t0 = clock();
    assert_int_equal(s_depth_col(text), HONE_EXPR_MAX_DEPTH);
    assert_true((double) (clock() - t0) / CLOCKS_PER_SEC < 1.0);
    free(text);
}

static void test_tokens(void **state)
{
    (void) state;
    const char *text = "  ab <=\t3.5e1 ** x.y^(2)>=,<";
    static const struct { hone_expr_kind_t kind; size_t start, len; } want[] = {
        { HONE_EXPR_NAME, 2, 2 }, { HONE_EXPR_LE, 5, 2 }, { HONE_EXPR_NUM, 8, 5 }, { HONE_EXPR_POW, 14, 2 },
        { HONE_EXPR_NAME, 17, 3 }, { HONE_EXPR_POW, 20, 1 }, { HONE_EXPR_LPAR, 21, 1 }, { HONE_EXPR_NUM, 22, 1 },
        { HONE_EXPR_RPAR, 23, 1 }, { HONE_EXPR_GE, 24, 2 }, { HONE_EXPR_COMMA, 26, 1 }, { HONE_EXPR_REL, 27, 1 },
        { HONE_EXPR_END, 28, 0 },
    };
    hone_expr_t *e = hone_expr_new(text, &s_identifiers);
    assert_int_equal(hone_expr_n_tokens(e), HONE_ARRAY_LEN(want));
    for (size_t i = 0; i < HONE_ARRAY_LEN(want); i++) {
        const hone_expr_tok_t *t = hone_expr_token(e, i);
        if (t->kind != want[i].kind || t->start != want[i].start || t->len != want[i].len)
            fail_msg("token %zu: kind %d at %zu len %zu, expected %d at %zu len %zu", i, t->kind, t->start, t->len,
                     want[i].kind, want[i].start, want[i].len);
    }
    assert_true(hone_expr_token(e, 2)->num == 35.0);
    assert_int_equal(hone_expr_n_names(e), 2);
    assert_string_equal(hone_expr_name(e, 1), "x.y");
    assert_int_equal(hone_expr_name_token(e, 1), 4);
    hone_expr_destroy(&e);
    /* the relations Ax refuses are one kind; lexing stops at a bad character */
    const char *rels[] = { "<", ">", "=", "==", "!=" };
    for (size_t i = 0; i < HONE_ARRAY_LEN(rels); i++) {
        e = hone_expr_new(rels[i], &s_identifiers);
        assert_int_equal(hone_expr_token(e, 0)->kind, HONE_EXPR_REL);
        assert_int_equal(hone_expr_token(e, 0)->len, strlen(rels[i]));
        hone_expr_destroy(&e);
    }
    e = hone_expr_new("a ! b c", &s_identifiers);
    assert_int_equal(hone_expr_n_tokens(e), 2);
    assert_int_equal(hone_expr_token(e, 1)->kind, HONE_EXPR_BAD);
    hone_expr_destroy(&e);
    /* numbers: Python's float literals */
    static const struct { const char *text; double value; } nums[] = {
        { "2", 2 }, { "0.5", 0.5 }, { ".5", 0.5 }, { "5.", 5 }, { "1e-3", 1e-3 }, { "2.5E+2", 250 },
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(nums); i++) {
        e = hone_expr_new(nums[i].text, &s_identifiers);
        assert_int_equal(hone_expr_token(e, 0)->kind, HONE_EXPR_NUM);
        assert_int_equal(hone_expr_token(e, 0)->len, strlen(nums[i].text));
        assert_true(hone_expr_token(e, 0)->num == nums[i].value);
        hone_expr_destroy(&e);
    }
}

/* A name rule of the caller's: '$' then letters, written back in upper case. */
static size_t s_dollar(const char *s, char *out, void *arg)
{
    size_t i = 1;
    ++*(int *) arg;
    if (s[0] != '$')
        return 0;
    while ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))
        out[i - 1] = (char) (s[i] & ~0x20), i++;
    out[i - 1] = '\0';
    return i > 1 ? i : 0;
}

static void test_language(void **state)
{
    (void) state;
    int calls = 0;
    static const hone_expr_word_t words[] = {
        { "PI", HONE_EXPR_CONST, 3.0 },
        { "INF", HONE_EXPR_RESERVED, 0.0 },
    };
    hone_expr_lang_t lang = { s_dollar, &calls, words, 2, 2 };
    hone_expr_t *e = hone_expr_new("$ab + 2*$AB - $pi*$c", &lang);
    assert_true(calls > 0);
    size_t f = hone_expr_parse(e);
    char got[128];
    s_render(e, f, got, sizeof got);
    assert_string_equal(got, "3*AB -3*C");   /* $ab and $AB are one name; PI is 3 */
    assert_int_equal(hone_expr_n_names(e), 2);
    assert_int_equal(hone_expr_token(e, 6)->kind, HONE_EXPR_CONST);
    assert_int_equal(hone_expr_form(e, f).const_tok, HONE_EXPR_NONE);
    hone_expr_destroy(&e);
    /* a reserved word is a token of its own, for the caller to refuse */
    e = hone_expr_new("$a + $inf", &lang);
    assert_int_equal(hone_expr_token(e, 2)->kind, HONE_EXPR_RESERVED);
    assert_int_equal(hone_expr_token(e, 2)->sym, 1);
    hone_expr_parse(e);
    assert_int_equal(hone_expr_syntax_error(e)->kind, HONE_EXPR_ESYNTAX);
    assert_int_equal(hone_expr_syntax_error(e)->tok, 2);
    hone_expr_destroy(&e);
    /* a third distinct name stops the scan */
    e = hone_expr_new("$a + $b + $a + $c + $d", &lang);
    assert_int_equal(hone_expr_n_tokens(e), 7);
    assert_int_equal(hone_expr_token(e, 6)->kind, HONE_EXPR_MANY);
    assert_int_equal(hone_expr_token(e, 6)->start, 15);
    assert_int_equal(hone_expr_token(e, 6)->len, 2);
    hone_expr_parse(e);
    assert_int_equal(hone_expr_syntax_error(e)->tok, 6);
    hone_expr_destroy(&e);
}

/* The form's constant token, which goals.c points at ("contains a constant term"). */
static void test_constant_token(void **state)
{
    (void) state;
    static const struct { const char *text; long col; } cases[] = {
        { "a + 2", 4 }, { "2*(b - 0.5)", 7 }, { "a**0", 1 }, { "a - a + b", -1 }, { "3*a", -1 }, { "a + 0 + 1", 8 },
        { "2 + a", 0 },
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(cases); i++) {
        hone_expr_t *e = hone_expr_new(cases[i].text, &s_identifiers);
        hone_expr_form_t form = hone_expr_form(e, hone_expr_parse(e));
        long col = form.const_tok == HONE_EXPR_NONE ? -1 : (long) hone_expr_token(e, form.const_tok)->start;
        if (col != cases[i].col)
            fail_msg("'%s': constant at %ld, expected %ld", cases[i].text, col, cases[i].col);
        hone_expr_destroy(&e);
    }
}

static void test_inequality(void **state)
{
    (void) state;
    static const struct { const char *text; const char *form; size_t rel; } ok[] = {
        { "x1 + x2 <= 1", "1*x1 1*x2 -1", 8 },
        { "x1 <= x2", "1*x1 -1*x2", 3 },
        { "2*x1 >= x2 + 3", "-2*x1 1*x2 +3", 5 },
        { "1 >= x", "1*x -1", 2 },
        { "1 <= 2", "-1", 2 },            /* no name: the caller refuses it */
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(ok); i++) {
        hone_expr_t *e = hone_expr_new(ok[i].text, &s_identifiers);
        size_t rel = 0, f = hone_expr_parse_inequality(e, &rel);
        char got[128];
        assert_int_equal(hone_expr_syntax_error(e)->kind, HONE_EXPR_OK);
        s_render(e, f, got, sizeof got);
        if (!streq(got, ok[i].form))
            fail_msg("'%s': got '%s', expected '%s'", ok[i].text, got, ok[i].form);
        assert_int_equal(hone_expr_token(e, rel)->start, ok[i].rel);
        hone_expr_destroy(&e);
    }
    static const struct { const char *text; size_t col; } bad[] = {
        { "x < 1", 2 }, { "x > 1", 2 }, { "x == 1", 2 }, { "x = 1", 2 }, { "x != 1", 2 }, { "x", 1 }, { "x <=", 4 },
        { "0 <= x <= 1", 7 }, { "x <= 1 2", 7 }, { "x >= 1, y <= 2", 6 }, { "x <= (1", 7 },
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(bad); i++) {
        hone_expr_t *e = hone_expr_new(bad[i].text, &s_identifiers);
        size_t rel;
        hone_expr_parse_inequality(e, &rel);
        const hone_expr_problem_t *pr = hone_expr_syntax_error(e);
        assert_int_equal(pr->kind, HONE_EXPR_ESYNTAX);
        if (hone_expr_token(e, pr->tok)->start != bad[i].col)
            fail_msg("'%s': stopped at %zu, expected %zu", bad[i].text, hone_expr_token(e, pr->tok)->start,
                     bad[i].col);
        hone_expr_destroy(&e);
    }
}

/* A comma list, as goals.c parses a multi-objective: one form at a time. */
static void test_list(void **state)
{
    (void) state;
    hone_expr_t *e = hone_expr_new("a + 1, -2*b, (c)", &s_identifiers);
    const char *want[] = { "1*a +1", "-2*b", "1*c" };
    size_t n = 0;
    do {
        size_t f = hone_expr_parse(e);
        char got[64];
        s_render(e, f, got, sizeof got);
        assert_string_equal(got, want[n++]);
        hone_expr_drop(e);
    } while (hone_expr_accept(e, HONE_EXPR_COMMA));
    assert_int_equal(n, 3);
    assert_int_equal(hone_expr_peek(e)->kind, HONE_EXPR_END);
    hone_expr_destroy(&e);
}

static void test_messages(void **state)
{
    (void) state;
    hone_error_t err;
    assert_int_equal(hone_expr_forbidden("x1 + x2 <= 1"), HONE_EXPR_NONE);
    assert_int_equal(hone_expr_forbidden("a;b"), 1);
    assert_int_equal(hone_expr_forbidden("a[0]"), 1);
    assert_int_equal(hone_expr_forbidden("it's"), 2);
    assert_int_equal(hone_expr_forbidden("a\\b"), 1);
    hone_expr_t *e = hone_expr_new("qps >=", &s_identifiers);
    assert_int_equal(hone_expr_fail_at(e, &err, "outcome_constraints[0]", 2, "Expected an inequality, found %s",
                                       "qps >="), HONE_EINVAL);
    assert_int_equal(err.code, HONE_EINVAL);
    assert_string_equal(err.message, "outcome_constraints[0]: at column 6 (end of text): Expected an inequality, "
                        "found qps >=");
    hone_expr_fail_at(e, &err, "f", 1, "m");
    assert_string_equal(err.message, "f: at column 4 ('>='): m");
    hone_expr_destroy(&e);
    /* a long token is cut */
    char text[80];
    memset(text, 'a', 60);
    text[60] = '\0';
    hone_expr_fail(&err, "objective", text, 0, 60, "%d", 7);
    assert_string_equal(err.message, "objective: at column 0 ('aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...'): 7");
    assert_int_equal(hone_expr_fail(NULL, "f", "x", 0, 1, "m"), HONE_EINVAL);   /* err may be NULL */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_forms),
        cmocka_unit_test(test_problems),
        cmocka_unit_test(test_syntax),
        cmocka_unit_test(test_depth),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_language),
        cmocka_unit_test(test_constant_token),
        cmocka_unit_test(test_inequality),
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
