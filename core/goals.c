/* goals.c: Ax's objective, outcome-constraint and objective-threshold strings (see
 * goals.h): Ax's name sanitization as the name rule of expr.c, which lexes each string
 * and evaluates it to linear forms; the normalization of each inequality as Ax stores
 * it; and the checks across the whole configuration.
 *
 * Errors come in Ax's order: the parse of each string (syntax, then linearity), in the
 * order objective, outcome_constraints, objective_thresholds; then the checks that
 * involve several strings, reported on the later one. */
#include "goals.h"

#include "alloc.h"
#include "expr.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
 * Metric names. */

static bool s_space(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
static bool s_digit(char c) { return c >= '0' && c <= '9'; }
static bool s_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
/* A name's first character; non-ASCII bytes are UTF-8 letters, as Python allows. */
static bool s_start(char c) { return s_alpha(c) || (unsigned char) c >= 0x80; }
static bool s_word(char c) { return s_start(c) || s_digit(c); }

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
    size_t i = 0, o = 0, k, seg = 0, lead = HONE_EXPR_NONE;   /* segment length, its first letter */
    for (;;) {
        char c = s[i];
        bool sep = false;
        if (s_word(c)) {
            if (lead == HONE_EXPR_NONE && s_alpha(c))   /* ASCII, as in Ax's regex */
                lead = seg;
            seg++;
            out[o++] = s[i++];
        } else if ((c == '~' && s_start(s[i + 1])) || (c != '\0' && strchr("./:|", c) && s_word(s[i + 1]))) {
            out[o++] = s[i++];
            sep = true;
        } else if ((c == '-' || c == '@') && s_word(s[i + 1])
                   && (c == '@' || (lead != HONE_EXPR_NONE && lead + 2 <= seg))) {
            out[o++] = s[i++];
            seg = 0, lead = HONE_EXPR_NONE;
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
            lead = lead == HONE_EXPR_NONE ? seg : lead;
            seg += 2;
        }
    }
    out[o] = '\0';
    return i;
}

/* expr's name rule: a metric name where one starts. */
static size_t s_metric(const char *s, char *out, void *arg)
{
    (void) arg;
    return s_start(s[0]) || (s[0] == '~' && s_start(s[1])) ? s_scan_name(s, out) : 0;
}

/* SymPy's infinity, refused everywhere; in an inequality, the baseline arm's value,
 * read as 1. */
static const hone_expr_word_t s_words[] = {
    { "oo", HONE_EXPR_RESERVED, 0.0 },
    { "baseline", HONE_EXPR_CONST, 1.0 },
};
static const hone_expr_lang_t s_objective_lang = { s_metric, NULL, s_words, 1, HONE_GOALS_MAX_METRICS };
static const hone_expr_lang_t s_inequality_lang = { s_metric, NULL, s_words, 2, HONE_GOALS_MAX_METRICS };

/* ---------------------------------------------------------------------------------
 * Messages: expr's "<field>: at column <c> ('<token>'): <message>". */

typedef struct {
    char field[48];       /* "objective", "outcome_constraints[2]" */
    const char *text;     /* the string */
} s_src_t;

#define S_FAIL(err, src, col, len, ...) hone_expr_fail((err), (src)->field, (src)->text, (col), (len), __VA_ARGS__)
#define S_FAIL_AT(err, e, src, tok, ...) hone_expr_fail_at((e), (err), (src)->field, (tok), __VA_ARGS__)

/* Checks shared by every string before parsing, then the tokens: *e is set (for the
 * caller to destroy) unless the string has forbidden characters. */
static int s_prepare(hone_expr_t **e, const s_src_t *src, const hone_expr_lang_t *lang, hone_error_t *err)
{
    size_t bad = hone_expr_forbidden(src->text);
    if (bad != HONE_EXPR_NONE)
        return S_FAIL(err, src, bad, 1, "Expression %s has forbidden control characters.", src->text);
    *e = hone_expr_new(src->text, lang);
    size_t n = hone_expr_n_tokens(*e);
    if (hone_expr_token(*e, n - 1)->kind == HONE_EXPR_MANY)
        return S_FAIL_AT(err, *e, src, n - 1, "more than %d metrics", HONE_GOALS_MAX_METRICS);
    for (size_t i = 0; i < n; i++)
        if (hone_expr_token(*e, i)->kind == HONE_EXPR_RESERVED)
            return S_FAIL_AT(err, *e, src, i, "'oo' (SymPy's infinity) cannot be used: bounds must be finite");
    return HONE_OK;
}

/* The evaluation problem; the expression around it spans tokens e0..e1. */
static int s_status_error(const hone_expr_t *e, const s_src_t *src, size_t e0, size_t e1, bool constraint,
                          hone_error_t *err)
{
    const hone_expr_problem_t *pr = hone_expr_eval_error(e);
    const hone_expr_tok_t *a = hone_expr_token(e, pr->first), *b = hone_expr_token(e, pr->last);
    const hone_expr_tok_t *ea = hone_expr_token(e, e0), *eb = hone_expr_token(e, e1);
    int elen = (int) (eb->start + eb->len - ea->start), tlen = (int) (b->start + b->len - a->start);
    if (pr->kind == HONE_EXPR_ENONLINEAR && !constraint)
        return S_FAIL_AT(err, e, src, pr->tok, "Objective expression '%.*s' contains a non-linear term '%.*s'. "
                         "Objective expressions must be linear combinations of metrics.", elen,
                         src->text + ea->start, tlen, src->text + a->start);
    if (pr->kind == HONE_EXPR_ENONLINEAR)
        return S_FAIL_AT(err, e, src, pr->tok, "Only linear outcome constraints are supported, found %s", src->text);
    if (pr->kind == HONE_EXPR_EDIVZERO)
        return S_FAIL_AT(err, e, src, pr->tok, "division by zero in '%s'", src->text);
    return S_FAIL_AT(err, e, src, pr->tok, "a number in '%s' is not finite", src->text);
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

/* Fills it with the names whose coefficient in coef is not 0, registering them. */
static void s_terms(s_build_t *b, const hone_expr_t *e, const double *coef, s_item_t *it)
{
    size_t n = 1, n_names = hone_expr_n_names(e);
    for (size_t k = 0; k < n_names; k++)
        n += coef[k] != 0.0;
    it->metric = hone_alloc_array(n, sizeof(size_t));
    it->w = hone_alloc_array(n, sizeof(double));
    it->col = hone_alloc_array(n, sizeof(size_t));
    it->len = hone_alloc_array(n, sizeof(size_t));
    it->obj = -1;
    for (size_t k = 0; k < n_names; k++) {
        if (coef[k] == 0.0)
            continue;   /* cancelled out, as SymPy drops it */
        const hone_expr_tok_t *t = hone_expr_token(e, hone_expr_name_token(e, k));
        it->metric[it->n] = s_register(b, hone_expr_name(e, k));
        it->w[it->n] = coef[k];
        it->col[it->n] = t->start;
        it->len[it->n++] = t->len;
    }
}

/* The first token of name k among tokens t0..t1. */
static size_t s_name_tok(const hone_expr_t *e, size_t k, size_t t0, size_t t1)
{
    while (t0 < t1 && !(hone_expr_token(e, t0)->kind == HONE_EXPR_NAME && hone_expr_token(e, t0)->sym == k))
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

static int s_objective(s_build_t *b, hone_expr_t *e, const s_src_t *src, hone_error_t *err)
{
    int rc = HONE_OK;
    size_t n_toks = hone_expr_n_tokens(e), n_names = hone_expr_n_names(e);
    size_t n = 0, ne = 0, *esym = hone_alloc_array(n_toks, sizeof(size_t));
    double *ecoef = hone_alloc_array(n_toks, sizeof(double));
    s_sub_t *sub = hone_alloc_array(n_toks, sizeof(s_sub_t));
    const hone_expr_problem_t *syntax = hone_expr_syntax_error(e), *eval = hone_expr_eval_error(e);
    bool more = false;
    do {
        size_t f = hone_expr_parse(e);
        if (syntax->kind != HONE_EXPR_OK)
            break;
        hone_expr_form_t form = hone_expr_form(e, f);
        sub[n] = (s_sub_t) { form.first, form.last, form.const_tok, ne, 0, form.coef[n_names] };
        for (size_t k = 0; k < n_names; k++)
            if (form.coef[k] != 0.0)
                esym[ne] = k, ecoef[ne++] = form.coef[k], sub[n].ne++;
        n++;
        hone_expr_drop(e);
        more = hone_expr_accept(e, HONE_EXPR_COMMA) && hone_expr_peek(e)->kind != HONE_EXPR_END;   /* "a, b," */
    } while (more);
    if (syntax->kind == HONE_EXPR_OK && (hone_expr_peek(e)->kind != HONE_EXPR_END
        || (n == 1 && hone_expr_token(e, hone_expr_pos(e) - 1)->kind == HONE_EXPR_COMMA)))
        hone_expr_reject(e);   /* "a," is not two objectives */
    if (syntax->kind != HONE_EXPR_OK) {
        rc = S_FAIL_AT(err, e, src, syntax->tok, "Invalid objective expression: %s", src->text);
    } else if (eval->kind != HONE_EXPR_OK) {
        size_t k = 0;
        while (k + 1 < n && sub[k].t1 < eval->tok)
            k++;
        rc = s_status_error(e, src, sub[k].t0, sub[k].t1, false, err);
    }
    size_t *owner = hone_alloc_array(n_names + 1, sizeof(size_t));   /* 1 + the objective using it */
    for (size_t k = 0; rc == HONE_OK && k < n; k++) {
        const s_sub_t *o = &sub[k];
        const hone_expr_tok_t *t0 = hone_expr_token(e, o->t0), *t1 = hone_expr_token(e, o->t1);
        const char *text = src->text + t0->start;
        int elen = (int) (t1->start + t1->len - t0->start);
        if (o->constant != 0.0)
            rc = S_FAIL_AT(err, e, src, o->ctok, "Objective expression '%.*s' contains a constant term. Objective "
                           "expressions must be purely symbolic.", elen, text);
        else if (o->ne == 0)
            rc = S_FAIL_AT(err, e, src, o->t0, "Objective expression '%.*s' names no metric", elen, text);
        for (size_t i = o->e0; rc == HONE_OK && i < o->e0 + o->ne; i++) {
            if (owner[esym[i]] != 0)
                rc = S_FAIL_AT(err, e, src, s_name_tok(e, esym[i], o->t0, o->t1), "Metric '%s' appears more than "
                               "once in the objective expression '%s'.", hone_expr_name(e, esym[i]), src->text);
            owner[esym[i]] = k + 1;
        }
    }
    if (rc == HONE_OK) {
        for (size_t k = 0; k < n_names; k++)   /* in order of first use over the whole string */
            if (owner[k] != 0)
                s_register(b, hone_expr_name(e, k));
        double *coef = hone_alloc_array(n_names + 1, sizeof(double));
        b->obj = hone_alloc_array(n, sizeof(s_item_t));
        for (b->n_obj = 0; b->n_obj < n; b->n_obj++) {
            const s_sub_t *o = &sub[b->n_obj];
            memset(coef, 0, (n_names + 1) * sizeof(double));
            for (size_t i = o->e0; i < o->e0 + o->ne; i++)
                coef[esym[i]] = ecoef[i];
            b->obj[b->n_obj].src = *src;
            s_terms(b, e, coef, &b->obj[b->n_obj]);
        }
        hone_free(coef);
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

static int s_inequality(s_build_t *b, hone_expr_t *e, s_item_t *it, hone_error_t *err)
{
    const s_src_t *src = &it->src;
    size_t rel, f = hone_expr_parse_inequality(e, &rel), n_toks = hone_expr_n_tokens(e);
    const hone_expr_problem_t *syntax = hone_expr_syntax_error(e);
    if (syntax->kind != HONE_EXPR_OK)
        return S_FAIL_AT(err, e, src, syntax->tok, "Expected an inequality, found %s", src->text);
    if (hone_expr_eval_error(e)->kind != HONE_EXPR_OK)
        return s_status_error(e, src, 0, n_toks - 1, true, err);
    const double *coef = hone_expr_form(e, f).coef;   /* Σ coef·y + c <= 0 */
    s_terms(b, e, coef, it);
    for (size_t t = 0; t < it->n; t++)
        if (it->metric[t] >= HONE_GOALS_MAX_METRICS)
            return S_FAIL(err, src, it->col[t], it->len[t], "more than %d metrics", HONE_GOALS_MAX_METRICS);
    if (it->n == 0)   /* SymPy turns "1 <= 2" into True */
        return S_FAIL_AT(err, e, src, rel, "Expected an inequality, found %s", src->text);
    it->bound = -coef[hone_expr_n_names(e)];
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
    size_t base_tok = 0;   /* the first `baseline` */
    while (base_tok < n_toks && hone_expr_token(e, base_tok)->kind != HONE_EXPR_CONST)
        base_tok++;
    if (base_tok < n_toks && it->n > 1)
        return S_FAIL_AT(err, e, src, base_tok, "Scalarized outcome constraints cannot be relative, found %s",
                         src->text);
    if (base_tok < n_toks) {   /* the baseline was read as 1: 0.95 * baseline is -5 % */
        it->relative = true;
        it->bound = s_round10((it->bound - 1.0) * 100.0);
    }
    if (!isfinite(it->bound))   /* a tiny coefficient: "1e-300*a <= 1e300" */
        return S_FAIL(err, src, it->col[0], it->len[0], "a number in '%s' is not finite", src->text);
    it->bound += 0.0;   /* no -0 bound */
    return HONE_OK;
}

/* Parses one string: the objective (it NULL), or the outcome constraint or threshold it. */
static int s_parse(s_build_t *b, const s_src_t *src, s_item_t *it, hone_error_t *err)
{
    hone_expr_t *e = NULL;
    int rc = s_prepare(&e, src, it ? &s_inequality_lang : &s_objective_lang, err);
    if (rc == HONE_OK)
        rc = it ? s_inequality(b, e, it, err) : s_objective(b, e, src, err);
    hone_expr_destroy(&e);
    return rc;
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
        return S_FAIL(err, &it->src, it->col[0], it->len[0], "Objective thresholds are only supported in the "
                      "multi-objective case");
    if (explicit && it->n != 1)
        return S_FAIL(err, &it->src, it->col[0], it->len[0], "An objective threshold must bound a single metric, "
                      "found %s", it->src.text);
    if (explicit && k < 0)
        return S_FAIL(err, &it->src, it->col[0], it->len[0], "'%s' is not the metric of a single-metric "
                      "objective", m);
    if (explicit && !aligned)
        return S_FAIL(err, &it->src, it->col[0], it->len[0], "Constraint on %s bounds from %s but %s is being %s.",
                      m, it->op == HONE_GOALS_LEQ ? "above" : "below", m,
                      it->op == HONE_GOALS_LEQ ? "maximized" : "minimized");
    if (b->n_obj == 1 && it->n == 1) {
        for (size_t t = 0; t < b->obj[0].n; t++)
            if (b->obj[0].metric[t] == it->metric[0])
                return S_FAIL(err, &it->src, it->col[0], it->len[0], "Outcome constraints may not be placed on the "
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
            return S_FAIL(err, &it->src, it->col[0], it->len[0], "Duplicate objective thresholds %s", label);
        hone_goals_op_t op = sign > 0 ? o->op : (hone_goals_op_t) !o->op;
        if (op == it->op)
            return S_FAIL(err, &it->src, it->col[0], it->len[0], "Duplicate outcome constraints %s", label);
        double lo = it->op == HONE_GOALS_GEQ ? it->bound : sign * o->bound;
        double hi = it->op == HONE_GOALS_GEQ ? sign * o->bound : it->bound;
        char l[32], h[32];
        s_repr(l, lo + 0.0), s_repr(h, hi + 0.0);
        if (it->relative == o->relative && lo >= hi)
            return S_FAIL(err, &it->src, it->col[0], it->len[0], "Lower bound %s is >= upper bound %s for %s", l, h,
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
    int rc = s_parse(&b, &src, NULL, err);
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
        rc = s_parse(&b, &it->src, it, err);
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
