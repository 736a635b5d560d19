/* Unit tests for core/goals: Ax's objective, outcome-constraint and objective-threshold
 * strings (reference/ax-client-behaviour.md §2.1-§2.4). Accepted strings are checked
 * through a canonical rendering of everything parsed (metric order, weights, signs,
 * directions, bounds, relative flags, where each bound came from); refused strings by
 * the message and the column and token it points at. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "goals.h"

/* Shortest round-trip text of x, without an exponent where Python has none: "100",
 * "0.95", "-5", "1e-05". */
static void s_num(char *out, size_t size, double x)
{
    int prec = 1;
    while (prec < 17 && (snprintf(out, size, "%.*e", prec - 1, x), strtod(out, NULL) != x))
        prec++;
    int exp = atoi(strchr(out, 'e') + 1);
    if (exp >= -4 && exp < 16)
        snprintf(out, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, x);
}

/* Appends the non-zero weights of row as "w*name w*name". */
static void s_terms(const hone_goals_t *g, const double *row, int single, char *out, size_t size)
{
    size_t n = 0;
    int only = -1;
    for (size_t m = 0; m < hone_goals_n_metrics(g); m++) {
        if (row[m] == 0.0)
            continue;
        char w[32];
        s_num(w, sizeof w, row[m]);
        snprintf(out + strlen(out), size - strlen(out), "%s%s*%s", n++ ? " " : "", w, hone_goals_metric(g, m));
        only = (int) m;
    }
    assert_true(n > 0);
    assert_int_equal(single, n == 1 ? only : -1);   /* .metric agrees with the weights */
}

static void s_bound(const hone_goals_t *g, const hone_goals_bound_t *b, char *out, size_t size)
{
    char num[32];
    s_terms(g, b->weights, b->metric, out, size);
    if (b->metric >= 0)
        assert_true(b->weights[b->metric] == 1.0);
    s_num(num, sizeof num, b->bound);
    snprintf(out + strlen(out), size - strlen(out), "%s%s%s@%s%zu", b->op == HONE_GOALS_LEQ ? "<=" : ">=", num,
             b->relative ? "%" : "", streq(b->field, "outcome_constraints") ? "oc" : "ot", b->index);
}

/* "m=ne,qps o=-1*ne min o=1*qps max t0=1*ne<=0.5@oc0 c=1*lat<=3@oc1". */
static void s_render(const hone_goals_t *g, char *out, size_t size)
{
    snprintf(out, size, "m=");
    for (size_t m = 0; m < hone_goals_n_metrics(g); m++) {
        snprintf(out + strlen(out), size - strlen(out), "%s%s", m ? "," : "", hone_goals_metric(g, m));
        assert_int_equal(hone_goals_find_metric(g, hone_goals_metric(g, m)), (int) m);
    }
    assert_int_equal(hone_goals_is_multi_objective(g), hone_goals_n_objectives(g) > 1);
    for (size_t k = 0; k < hone_goals_n_objectives(g); k++) {
        const hone_goals_objective_t *o = hone_goals_objective(g, k);
        snprintf(out + strlen(out), size - strlen(out), " o=");
        s_terms(g, o->weights, o->metric, out, size);
        if (o->metric < 0)
            assert_false(o->minimize);
        else
            assert_int_equal(o->minimize, o->weights[o->metric] < 0);
        snprintf(out + strlen(out), size - strlen(out), " %s", o->metric < 0 ? "sum" : o->minimize ? "min" : "max");
    }
    for (size_t k = 0; k < hone_goals_n_objectives(g); k++) {
        const hone_goals_bound_t *t = hone_goals_threshold(g, k);
        if (!t)
            continue;
        assert_true(hone_goals_is_multi_objective(g));
        assert_int_equal(t->metric, hone_goals_objective(g, k)->metric);
        snprintf(out + strlen(out), size - strlen(out), " t%zu=", k);
        s_bound(g, t, out, size);
    }
    for (size_t i = 0; i < hone_goals_n_constraints(g); i++) {
        snprintf(out + strlen(out), size - strlen(out), " c=");
        s_bound(g, hone_goals_constraint(g, i), out, size);
    }
}

#define S_MAX 4
typedef struct {
    const char *objective;
    const char *constraints[S_MAX];   /* up to the first NULL */
    const char *thresholds[S_MAX];
    const char *expected;             /* the rendering, or the error's end */
} s_case_t;

static size_t s_count(const char *const *list)
{
    size_t n = 0;
    while (n < S_MAX && list[n])
        n++;
    return n;
}

static void s_accept(const s_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const s_case_t *c = &cases[i];
        hone_goals_t *g = NULL;
        hone_error_t err;
        hone_error_clear(&err);
        if (hone_goals_parse(&g, c->objective, c->constraints, s_count(c->constraints), c->thresholds,
                             s_count(c->thresholds), &err) != HONE_OK)
            fail_msg("'%s' / '%s' refused: %s", c->objective, c->constraints[0] ? c->constraints[0] : "",
                     err.message);
        char got[1024];
        s_render(g, got, sizeof got);
        if (!streq(got, c->expected))
            fail_msg("'%s' / '%s':\n  got      %s\n  expected %s", c->objective,
                     c->constraints[0] ? c->constraints[0] : "", got, c->expected);
        hone_goals_destroy(&g);
        assert_null(g);
        hone_goals_destroy(&g);
    }
}

/* expected is the whole message: field, column, token and Ax's text. */
static void s_reject(const s_case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const s_case_t *c = &cases[i];
        hone_goals_t *g = (hone_goals_t *) &g;   /* must come back NULL */
        hone_error_t err;
        hone_error_clear(&err);
        int rc = hone_goals_parse(&g, c->objective, c->constraints, s_count(c->constraints), c->thresholds,
                                  s_count(c->thresholds), &err);
        if (rc == HONE_OK) {
            char got[1024];
            s_render(g, got, sizeof got);
            fail_msg("'%s' / '%s' accepted: %s", c->objective ? c->objective : "(null)",
                     c->constraints[0] ? c->constraints[0] : "", got);
        }
        assert_int_equal(rc, HONE_EINVAL);
        assert_int_equal(err.code, HONE_EINVAL);
        assert_null(g);
        if (!streq(err.message, c->expected))
            fail_msg("case %zu:\n  got      %s\n  expected %s", i, err.message, c->expected);
    }
}

#define S_RUN(fn, table) fn(table, sizeof(table) / sizeof((table)[0]))

/* ---------------------------------------------------------------------------------
 * Objectives (§2.1): always maximized, the sign of the weight sets the direction. */

static const s_case_t s_objectives_ok[] = {
    { "loss", {0}, {0}, "m=loss o=1*loss max" },
    { "-loss", {0}, {0}, "m=loss o=-1*loss min" },
    { "- loss", {0}, {0}, "m=loss o=-1*loss min" },
    { "  +loss  ", {0}, {0}, "m=loss o=1*loss max" },
    { "2*loss", {0}, {0}, "m=loss o=2*loss max" },           /* only the sign matters, the weight is kept */
    { "-0.5 * loss", {0}, {0}, "m=loss o=-0.5*loss min" },
    { "loss / 4", {0}, {0}, "m=loss o=0.25*loss max" },
    { "loss/4", {0}, {0}, "m=loss/4 o=1*loss/4 max" },        /* as in Ax: '/' after a name joins */
    { "1e-3*loss", {0}, {0}, "m=loss o=0.001*loss max" },
    { "2**3*a", {0}, {0}, "m=a o=8*a max" },
    { "2^3*a", {0}, {0}, "m=a o=8*a max" },                   /* SymPy's convert_xor */
    { "a**1", {0}, {0}, "m=a o=1*a max" },
    { "-(-a)", {0}, {0}, "m=a o=1*a max" },
    { "a + a", {0}, {0}, "m=a o=2*a max" },                   /* SymPy combines: a single metric */
    { "a - a + b", {0}, {0}, "m=b o=1*b max" },               /* a cancels out and is not named */
    /* scalarized: maximized, signs in the weights */
    { "ne1 + 2 * ne2", {0}, {0}, "m=ne1,ne2 o=1*ne1 2*ne2 sum" },
    { "ne1 - 2*ne2", {0}, {0}, "m=ne1,ne2 o=1*ne1 -2*ne2 sum" },
    { "-ne1 - ne2", {0}, {0}, "m=ne1,ne2 o=-1*ne1 -1*ne2 sum" },
    { "3*(a + b) - a", {0}, {0}, "m=a,b o=2*a 3*b sum" },
    { "(a + 2*b)/2", {0}, {0}, "m=a,b o=0.5*a 1*b sum" },
    /* multi-objective: a top-level comma */
    { "-ne, qps", {0}, {0}, "m=ne,qps o=-1*ne min o=1*qps max" },
    { "a,-b ,  c", {0}, {0}, "m=a,b,c o=1*a max o=-1*b min o=1*c max" },
    { "a, b,", {0}, {0}, "m=a,b o=1*a max o=1*b max" },       /* Python's trailing comma */
    { "a + b, -c", {0}, {0}, "m=a,b,c o=1*a 1*b sum o=-1*c min" },
    { "2*ne, -3*qps", {0}, {0}, "m=ne,qps o=2*ne max o=-3*qps min" },
    { "b - b + c, a", {0}, {0}, "m=c,a o=1*c max o=1*a max" },
    /* names (§2.4) */
    { "CIFAR10 Test Accuracy", {0}, {0}, "m=CIFAR10 Test Accuracy o=1*CIFAR10 Test Accuracy max" },
    { "-Test  Loss", {0}, {0}, "m=Test Loss o=-1*Test Loss min" },   /* a run of spaces is one */
    { "val.loss", {0}, {0}, "m=val.loss o=1*val.loss max" },
    { "-val-loss", {0}, {0}, "m=val-loss o=-1*val-loss min" },
    { "a-b", {0}, {0}, "m=a,b o=1*a -1*b sum" },              /* one letter before '-': a minus */
    { "qps-1", {0}, {0}, "m=qps-1 o=1*qps-1 max" },           /* as in Ax: one name */
    { "qps - 1*lat", {0}, {0}, "m=qps,lat o=1*qps -1*lat sum" },
    { "x1-x2", {0}, {0}, "m=x1-x2 o=1*x1-x2 max" },
    { "a.b-c", {0}, {0}, "m=a.b-c o=1*a.b-c max" },
    { "ab-cd-ef", {0}, {0}, "m=ab-cd-ef o=1*ab-cd-ef max" },
    { "x_1-1e-3*y", {0}, {0}, "m=x_1-1e,y o=1*x_1-1e -3*y sum" },   /* Ax's regex, segment by segment */
    { "a@b-c", {0}, {0}, "m=a@b,c o=1*a@b -1*c sum" },       /* '@' is replaced after '-' in Ax */
    { "metric:120s-300s", {0}, {0}, "m=metric:120s-300s o=1*metric:120s-300s max" },
    { "scope: value", {0}, {0}, "m=scope: value o=1*scope: value max" },
    { "a/b:c|d@e", {0}, {0}, "m=a/b:c|d@e o=1*a/b:c|d@e max" },
    { "~loss", {0}, {0}, "m=~loss o=1*~loss max" },
    { "a~b", {0}, {0}, "m=a~b o=1*a~b max" },
    { "-latency(p50)", {0}, {0}, "m=latency(p50) o=-1*latency(p50) min" },
    { "latency (p50)", {0}, {0}, "m=latency (p50) o=1*latency (p50) max" },
    { "latency(p50):next", {0}, {0}, "m=latency(p50):next o=1*latency(p50):next max" },
    { "2*a b + c", {0}, {0}, "m=a b,c o=2*a b 1*c sum" },
    { "0.5*précision", {0}, {0}, "m=précision o=0.5*précision max" },
    { "beta, gamma", {0}, {0}, "m=beta,gamma o=1*beta max o=1*gamma max" },   /* SymPy names: accepted */
    { "baseline", {0}, {0}, "m=baseline o=1*baseline max" },   /* only constraints have a baseline */
};

static void test_objectives_accepted(void **state)
{
    S_RUN(s_accept, s_objectives_ok);
}

static const s_case_t s_objectives_bad[] = {
    { "", {0}, {0}, "objective: Objective expression string must not be empty." },
    { " \t ", {0}, {0}, "objective: Objective expression string must not be empty." },
    { NULL, {0}, {0}, "objective: Objective expression string must not be empty." },
    { "loss;", {0}, {0}, "objective: at column 4 (';'): Expression loss; has forbidden control characters." },
    { "a[0]", {0}, {0}, "objective: at column 1 ('['): Expression a[0] has forbidden control characters." },
    { "it's", {0}, {0}, "objective: at column 2 ('''): Expression it's has forbidden control characters." },
    { "a\\b", {0}, {0}, "objective: at column 1 ('\\'): Expression a\\b has forbidden control characters." },
    /* linear only */
    { "ne1 + a*b", {0}, {0}, "objective: at column 7 ('*'): Objective expression 'ne1 + a*b' contains a "
      "non-linear term 'a*b'. Objective expressions must be linear combinations of metrics." },
    { "x, 2*a / b", {0}, {0}, "objective: at column 7 ('/'): Objective expression '2*a / b' contains a "
      "non-linear term '2*a / b'. Objective expressions must be linear combinations of metrics." },
    { "loss**2", {0}, {0}, "objective: at column 4 ('**'): Objective expression 'loss**2' contains a non-linear "
      "term 'loss**2'. Objective expressions must be linear combinations of metrics." },
    { "2^loss", {0}, {0}, "objective: at column 1 ('^'): Objective expression '2^loss' contains a non-linear "
      "term '2^loss'. Objective expressions must be linear combinations of metrics." },
    { "1/loss", {0}, {0}, "objective: at column 1 ('/'): Objective expression '1/loss' contains a non-linear "
      "term '1/loss'. Objective expressions must be linear combinations of metrics." },
    /* no constant term */
    { "loss + 1", {0}, {0}, "objective: at column 7 ('1'): Objective expression 'loss + 1' contains a constant "
      "term. Objective expressions must be purely symbolic." },
    { "a, 2*(b - 0.5)", {0}, {0}, "objective: at column 10 ('0.5'): Objective expression '2*(b - 0.5)' "
      "contains a constant term. Objective expressions must be purely symbolic." },
    { "2", {0}, {0}, "objective: at column 0 ('2'): Objective expression '2' contains a constant term. "
      "Objective expressions must be purely symbolic." },
    { "a**0", {0}, {0}, "objective: at column 1 ('**'): Objective expression 'a**0' contains a constant term. "
      "Objective expressions must be purely symbolic." },
    { "0", {0}, {0}, "objective: at column 0 ('0'): Objective expression '0' names no metric" },
    { "qps, a - a", {0}, {0}, "objective: at column 5 ('a'): Objective expression 'a - a' names no metric" },
    { "0*loss", {0}, {0}, "objective: at column 0 ('0'): Objective expression '0*loss' names no metric" },
    /* one metric, one objective */
    { "a, a", {0}, {0}, "objective: at column 3 ('a'): Metric 'a' appears more than once in the objective "
      "expression 'a, a'." },
    { "a + b, c - 2*b", {0}, {0}, "objective: at column 13 ('b'): Metric 'b' appears more than once in the "
      "objective expression 'a + b, c - 2*b'." },
    /* syntax */
    { "a,", {0}, {0}, "objective: at column 2 (end of text): Invalid objective expression: a," },
    { "a,,b", {0}, {0}, "objective: at column 2 (','): Invalid objective expression: a,,b" },
    { ", a", {0}, {0}, "objective: at column 0 (','): Invalid objective expression: , a" },
    { "2 a", {0}, {0}, "objective: at column 2 ('a'): Invalid objective expression: 2 a" },
    { "2x", {0}, {0}, "objective: at column 0 ('2x'): Invalid objective expression: 2x" },
    { "1.2.3*a", {0}, {0}, "objective: at column 0 ('1.2.3'): Invalid objective expression: 1.2.3*a" },
    { "log(loss + 1)", {0}, {0}, "objective: at column 3 ('('): Invalid objective expression: log(loss + 1)" },
    { "loss >= 1", {0}, {0}, "objective: at column 5 ('>='): Invalid objective expression: loss >= 1" },
    { "a = b", {0}, {0}, "objective: at column 2 ('='): Invalid objective expression: a = b" },
    { "(a + b", {0}, {0}, "objective: at column 6 (end of text): Invalid objective expression: (a + b" },
    { "a)", {0}, {0}, "objective: at column 1 (')'): Invalid objective expression: a)" },
    { "a % b", {0}, {0}, "objective: at column 2 ('%'): Invalid objective expression: a % b" },
    { "a -", {0}, {0}, "objective: at column 3 (end of text): Invalid objective expression: a -" },
    { "(a, b)", {0}, {0}, "objective: at column 2 (','): Invalid objective expression: (a, b)" },
    { "~1", {0}, {0}, "objective: at column 0 ('~'): Invalid objective expression: ~1" },
    { "a. b", {0}, {0}, "objective: at column 1 ('.'): Invalid objective expression: a. b" },
    /* numbers */
    { "a / 0", {0}, {0}, "objective: at column 2 ('/'): division by zero in 'a / 0'" },
    { "1e999*a", {0}, {0}, "objective: at column 0 ('1e999'): a number in '1e999*a' is not finite" },
    { "1e300*1e300*a", {0}, {0}, "objective: at column 5 ('*'): a number in '1e300*1e300*a' is not finite" },
    { "oo", {0}, {0}, "objective: at column 0 ('oo'): 'oo' (SymPy's infinity) cannot be used: bounds must be "
      "finite" },
};

static void test_objectives_refused(void **state)
{
    S_RUN(s_reject, s_objectives_bad);
}

/* Nesting is bounded, so a hostile string cannot exhaust the stack. */
static void test_deep_nesting(void **state)
{
    char text[4096];
    for (int depth = 90; depth <= 2000; depth += 1910) {
        int n = 0;
        for (int i = 0; i < depth; i++)
            text[n++] = i % 2 ? '-' : '(';
        text[n++] = 'a';
        for (int i = 0; i < depth; i += 2)
            text[n++] = ')';
        text[n] = '\0';
        hone_goals_t *g = NULL;
        hone_error_t err;
        int rc = hone_goals_parse(&g, text, NULL, 0, NULL, 0, &err);
        if (depth < 100) {
            assert_int_equal(rc, HONE_OK);
            hone_goals_destroy(&g);
        } else {
            assert_int_equal(rc, HONE_EINVAL);
            assert_non_null(strstr(err.message, "Invalid objective expression"));
        }
    }
}

/* ---------------------------------------------------------------------------------
 * Outcome constraints (§2.2), one at a time, with the objective "loss". */

static const s_case_t s_constraints_ok[] = {
    { "loss", { "qps >= 100" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=100@oc0" },
    { "loss", { "qps <= 100" }, {0}, "m=loss,qps o=1*loss max c=1*qps<=100@oc0" },
    { "loss", { "100 <= qps" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=100@oc0" },
    { "loss", { "qps >= 1e2 + 0" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=100@oc0" },
    /* one metric: the bound divided by its coefficient, weight 1 */
    { "loss", { "2*lat <= 10" }, {0}, "m=loss,lat o=1*loss max c=1*lat<=5@oc0" },
    { "loss", { "-2*lat >= -10" }, {0}, "m=loss,lat o=1*loss max c=1*lat<=5@oc0" },
    { "loss", { "-lat <= -3" }, {0}, "m=loss,lat o=1*loss max c=1*lat>=3@oc0" },
    { "loss", { "lat / 2 + 1 <= 2" }, {0}, "m=loss,lat o=1*loss max c=1*lat<=2@oc0" },
    { "loss", { "lat/2 + 1 <= 2" }, {0}, "m=loss,lat/2 o=1*loss max c=1*lat/2<=1@oc0" },
    { "loss", { "a + a >= 2" }, {0}, "m=loss,a o=1*loss max c=1*a>=1@oc0" },
    { "loss", { "a - b + b <= 1" }, {0}, "m=loss,a o=1*loss max c=1*a<=1@oc0" },
    /* several: GEQ in the user's form when every coefficient is negative, else LEQ */
    { "loss", { "0.5 * ne1 + 0.5 * ne2 >= 0.95" }, {0}, "m=loss,ne1,ne2 o=1*loss max c=0.5*ne1 0.5*ne2>=0.95@oc0" },
    { "loss", { "ne1 + ne2 <= 3" }, {0}, "m=loss,ne1,ne2 o=1*loss max c=1*ne1 1*ne2<=3@oc0" },
    { "loss", { "-ne1 - ne2 <= -3" }, {0}, "m=loss,ne1,ne2 o=1*loss max c=1*ne1 1*ne2>=3@oc0" },
    { "loss", { "ne1 - ne2 >= 1" }, {0}, "m=loss,ne1,ne2 o=1*loss max c=-1*ne1 1*ne2<=-1@oc0" },
    { "loss", { "ne1 >= ne2" }, {0}, "m=loss,ne1,ne2 o=1*loss max c=-1*ne1 1*ne2<=0@oc0" },
    { "loss", { "loss + qps >= 1" }, {0}, "m=loss,qps o=1*loss max c=1*loss 1*qps>=1@oc0" },
    /* relative: the bound in percent of the baseline, round((b - 1)·100, 10) */
    { "loss", { "qps >= 0.95 * baseline" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=-5%@oc0" },
    { "loss", { "qps <= 1.05*baseline" }, {0}, "m=loss,qps o=1*loss max c=1*qps<=5%@oc0" },
    { "loss", { "qps >= baseline" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=0%@oc0" },
    { "loss", { "2*qps >= 1.9*baseline" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=-5%@oc0" },
    { "loss", { "baseline * 0.9 <= qps" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=-10%@oc0" },
    { "loss", { "qps - 0.95*baseline >= 0" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=-5%@oc0" },
    { "loss", { "qps / baseline >= 0.8" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=-20%@oc0" },
    { "loss", { "qps/baseline >= 0.8" }, {0}, "m=loss,qps/baseline o=1*loss max c=1*qps/baseline>=0.8@oc0" },
    { "loss", { "lat <= 1.1 * baseline" }, {0}, "m=loss,lat o=1*loss max c=1*lat<=10%@oc0" },
    /* names */
    { "loss", { "val.loss <= 0.3" }, {0}, "m=loss,val.loss o=1*loss max c=1*val.loss<=0.3@oc0" },
    { "loss", { "CIFAR10 Test Accuracy >= 0.9" }, {0},
      "m=loss,CIFAR10 Test Accuracy o=1*loss max c=1*CIFAR10 Test Accuracy>=0.9@oc0" },
    { "loss", { "baseline_qps >= 3" }, {0}, "m=loss,baseline_qps o=1*loss max c=1*baseline_qps>=3@oc0" },
    { "loss", { "my baseline >= 3" }, {0}, "m=loss,my baseline o=1*loss max c=1*my baseline>=3@oc0" },
    { "loss", { "log(qps) >= 1" }, {0}, "m=loss,log(qps) o=1*loss max c=1*log(qps)>=1@oc0" },
    { "loss", { "p99-latency <= 250" }, {0}, "m=loss,p99-latency o=1*loss max c=1*p99-latency<=250@oc0" },
};

static void test_constraints_accepted(void **state)
{
    S_RUN(s_accept, s_constraints_ok);
}

static const s_case_t s_constraints_bad[] = {
    { "loss", { "qps > 100" }, {0},
      "outcome_constraints[0]: at column 4 ('>'): Expected an inequality, found qps > 100" },
    { "loss", { "qps == 100" }, {0},
      "outcome_constraints[0]: at column 4 ('=='): Expected an inequality, found qps == 100" },
    { "loss", { "qps != 100" }, {0},
      "outcome_constraints[0]: at column 4 ('!='): Expected an inequality, found qps != 100" },
    { "loss", { "qps" }, {0}, "outcome_constraints[0]: at column 3 (end of text): Expected an inequality, found qps" },
    { "loss", { "" }, {0}, "outcome_constraints[0]: at column 0 (end of text): Expected an inequality, found " },
    { "loss", { "qps >=" }, {0},
      "outcome_constraints[0]: at column 6 (end of text): Expected an inequality, found qps >=" },
    { "loss", { "0 <= qps <= 1" }, {0},
      "outcome_constraints[0]: at column 9 ('<='): Expected an inequality, found 0 <= qps <= 1" },
    { "loss", { "qps >= 1, lat <= 2" }, {0},
      "outcome_constraints[0]: at column 8 (','): Expected an inequality, found qps >= 1, lat <= 2" },
    { "loss", { "log(qps + 1) >= 1" }, {0},
      "outcome_constraints[0]: at column 3 ('('): Expected an inequality, found log(qps + 1) >= 1" },
    { "loss", { "1 <= 2" }, {0}, "outcome_constraints[0]: at column 2 ('<='): Expected an inequality, found 1 <= 2" },
    { "loss", { "qps - qps >= 1" }, {0},
      "outcome_constraints[0]: at column 10 ('>='): Expected an inequality, found qps - qps >= 1" },
    { "loss", { "baseline >= 0.5" }, {0},
      "outcome_constraints[0]: at column 9 ('>='): Expected an inequality, found baseline >= 0.5" },
    { "loss", { "qps*lat <= 1" }, {0},
      "outcome_constraints[0]: at column 3 ('*'): Only linear outcome constraints are supported, found qps*lat <= 1" },
    { "loss", { "qps**2 >= 1" }, {0},
      "outcome_constraints[0]: at column 3 ('**'): Only linear outcome constraints are supported, found qps**2 >= 1" },
    { "loss", { "1/qps >= 1" }, {0},
      "outcome_constraints[0]: at column 1 ('/'): Only linear outcome constraints are supported, found 1/qps >= 1" },
    { "loss", { "qps >= lat*baseline" }, {0}, "outcome_constraints[0]: at column 11 ('baseline'): Scalarized outcome "
      "constraints cannot be relative, found qps >= lat*baseline" },
    { "loss", { "0.5*ne1 + 0.5*ne2 >= 0.95*baseline" }, {0}, "outcome_constraints[0]: at column 26 ('baseline'): "
      "Scalarized outcome constraints cannot be relative, found 0.5*ne1 + 0.5*ne2 >= 0.95*baseline" },
    { "loss", { "qps / 0 >= 1" }, {0},
      "outcome_constraints[0]: at column 4 ('/'): division by zero in 'qps / 0 >= 1'" },
    { "loss", { "1e-300*qps <= 1e300" }, {0},
      "outcome_constraints[0]: at column 7 ('qps'): a number in '1e-300*qps <= 1e300' is not finite" },
    { "loss", { "qps >= oo" }, {0}, "outcome_constraints[0]: at column 7 ('oo'): 'oo' (SymPy's infinity) cannot be "
      "used: bounds must be finite" },
    { "loss", { "qps >= 1;" }, {0},
      "outcome_constraints[0]: at column 8 (';'): Expression qps >= 1; has forbidden control characters." },
    { "loss", { "qps >= 1", NULL }, { "x" }, "objective_thresholds[0]: at column 1 (end of text): Expected an "
      "inequality, found x" },
};

static void test_constraints_refused(void **state)
{
    S_RUN(s_reject, s_constraints_bad);
    /* a NULL string in the list */
    const char *list[] = { "qps >= 1", NULL };
    hone_goals_t *g = NULL;
    hone_error_t err;
    assert_int_equal(hone_goals_parse(&g, "loss", list, 2, NULL, 0, &err), HONE_EINVAL);
    assert_string_equal(err.message, "outcome_constraints[1]: must be a string");
    assert_null(g);
}

/* ---------------------------------------------------------------------------------
 * The strings together (§2.1 single objective, §2.2 step 6, §2.3 thresholds). */

static const s_case_t s_together_ok[] = {
    /* a lower and an upper bound per metric, lower < upper */
    { "loss", { "qps >= 100", "qps <= 200" }, {0}, "m=loss,qps o=1*loss max c=1*qps>=100@oc0 c=1*qps<=200@oc1" },
    { "loss", { "qps >= 0.95*baseline", "qps <= 10" }, {0},   /* relative and absolute: not compared */
      "m=loss,qps o=1*loss max c=1*qps>=-5%@oc0 c=1*qps<=10@oc1" },
    { "loss", { "a + b >= 1", "a + b <= 3" }, {0}, "m=loss,a,b o=1*loss max c=1*a 1*b>=1@oc0 c=1*a 1*b<=3@oc1" },
    { "loss", { "a - b >= 1", "b - a >= -3" }, {0},   /* a - b in [1, 3], written both ways */
      "m=loss,a,b o=1*loss max c=-1*a 1*b<=-1@oc0 c=1*a -1*b<=3@oc1" },
    { "loss", { "a + b >= 1", "a + 2*b >= 1", "2*a + 2*b >= 5" }, {0},   /* different sums */
      "m=loss,a,b o=1*loss max c=1*a 1*b>=1@oc0 c=1*a 2*b>=1@oc1 c=2*a 2*b>=5@oc2" },
    /* single objective: a scalarized constraint may involve the objective metric */
    { "a + 2*b", { "a + b <= 3" }, {0}, "m=a,b o=1*a 2*b sum c=1*a 1*b<=3@oc0" },
    /* metrics in order of first use */
    { "-ne, qps", { "lat <= 3", "ne <= 1", "mem + lat <= 9" }, {0},
      "m=ne,qps,lat,mem o=-1*ne min o=1*qps max t0=1*ne<=1@oc1 c=1*lat<=3@oc0 c=1*lat 1*mem<=9@oc2" },
    /* multi-objective: a constraint in the optimization direction is a threshold */
    { "-ne, qps", { "ne <= 0.5", "qps >= 100", "lat <= 3" }, {0},
      "m=ne,qps,lat o=-1*ne min o=1*qps max t0=1*ne<=0.5@oc0 t1=1*qps>=100@oc1 c=1*lat<=3@oc2" },
    { "-ne, qps", { "qps >= 0.9 * baseline" }, {0}, "m=ne,qps o=-1*ne min o=1*qps max t1=1*qps>=-10%@oc0" },
    { "-2*ne, 3*qps", { "2*ne <= 1" }, {0}, "m=ne,qps o=-2*ne min o=3*qps max t0=1*ne<=0.5@oc0" },
    /* ... otherwise it stays a constraint (Ax main), compared with the threshold */
    { "-ne, qps", { "ne >= 0.1" }, {0}, "m=ne,qps o=-1*ne min o=1*qps max c=1*ne>=0.1@oc0" },
    { "-ne, qps", { "ne >= 0.1", "ne <= 0.5" }, {0},
      "m=ne,qps o=-1*ne min o=1*qps max t0=1*ne<=0.5@oc1 c=1*ne>=0.1@oc0" },
    { "-ne, qps", { "ne + qps >= 1" }, {0}, "m=ne,qps o=-1*ne min o=1*qps max c=1*ne 1*qps>=1@oc0" },
    { "a + b, c", { "a >= 1" }, {0}, "m=a,b,c o=1*a 1*b sum o=1*c max c=1*a>=1@oc0" },
    /* explicit thresholds */
    { "-ne, qps", {0}, { "ne <= 0.5", "qps >= 0.9*baseline" },
      "m=ne,qps o=-1*ne min o=1*qps max t0=1*ne<=0.5@ot0 t1=1*qps>=-10%@ot1" },
    { "-ne, qps", { "ne >= 0.1" }, { "0.5 >= ne" }, "m=ne,qps o=-1*ne min o=1*qps max t0=1*ne<=0.5@ot0 "
      "c=1*ne>=0.1@oc0" },
};

static void test_together_accepted(void **state)
{
    S_RUN(s_accept, s_together_ok);
}

static const s_case_t s_together_bad[] = {
    /* §2.1: no constraint on the objective metric unless multi-objective */
    { "loss", { "loss <= 3" }, {0}, "outcome_constraints[0]: at column 0 ('loss'): Outcome constraints may not be "
      "placed on the objective metric except in the multi-objective case, found loss and loss <= 3" },
    { "a + 2*b", { "qps >= 1", "2 <= b / 2" }, {0}, "outcome_constraints[1]: at column 5 ('b'): Outcome "
      "constraints may not be placed on the objective metric except in the multi-objective case, found a + 2*b and "
      "2 <= b / 2" },
    { "-loss", { "loss >= 0.9*baseline" }, {0}, "outcome_constraints[0]: at column 0 ('loss'): Outcome "
      "constraints may not be placed on the objective metric except in the multi-objective case, found -loss and "
      "loss >= 0.9*baseline" },
    /* §2.2 step 6: at most one lower and one upper bound */
    { "loss", { "qps >= 1", "qps >= 2" }, {0},
      "outcome_constraints[1]: at column 0 ('qps'): Duplicate outcome constraints qps" },
    { "loss", { "qps >= 1", "lat <= 2", "2*qps >= 1.9*baseline" }, {0},
      "outcome_constraints[2]: at column 2 ('qps'): Duplicate outcome constraints qps" },
    { "loss", { "qps >= 1", "qps <= 2", "qps <= 3" }, {0},
      "outcome_constraints[2]: at column 0 ('qps'): Duplicate outcome constraints qps" },
    { "loss", { "qps >= 3", "qps <= 2" }, {0},
      "outcome_constraints[1]: at column 0 ('qps'): Lower bound 3.0 is >= upper bound 2.0 for qps" },
    { "loss", { "qps <= 2", "qps >= 2" }, {0},
      "outcome_constraints[1]: at column 0 ('qps'): Lower bound 2.0 is >= upper bound 2.0 for qps" },
    { "loss", { "qps >= 1.05*baseline", "qps <= 0.95*baseline" }, {0},
      "outcome_constraints[1]: at column 0 ('qps'): Lower bound 5.0 is >= upper bound -5.0 for qps" },
    { "loss", { "0.5*a + 0.5*b >= 1", "0.5*a + 0.5*b >= 2" }, {0},
      "outcome_constraints[1]: at column 4 ('a'): Duplicate outcome constraints 0.5*a + 0.5*b" },
    { "loss", { "a - b >= 3", "b - a >= -1" }, {0},
      "outcome_constraints[1]: at column 0 ('b'): Lower bound 3.0 is >= upper bound 1.0 for -b + a" },
    { "loss", { "a - 2*b <= 1", "2*b - a >= 0.5" }, {0},
      "outcome_constraints[1]: at column 2 ('b'): Duplicate outcome constraints -2*b + a" },
    /* §2.3: one threshold per objective, from either list */
    { "-ne, qps", { "ne <= 0.5", "ne <= 0.4" }, {0},
      "outcome_constraints[1]: at column 0 ('ne'): Duplicate objective thresholds ne" },
    { "-ne, qps", { "ne <= 0.5" }, { "ne <= 0.4" },
      "objective_thresholds[0]: at column 0 ('ne'): Duplicate objective thresholds ne" },
    { "-ne, qps", { "ne >= 0.1", "ne >= 0.2" }, {0},
      "outcome_constraints[1]: at column 0 ('ne'): Duplicate outcome constraints ne" },
    { "-ne, qps", { "ne >= 0.6", "ne <= 0.5" }, {0},
      "outcome_constraints[1]: at column 0 ('ne'): Lower bound 0.6 is >= upper bound 0.5 for ne" },
    /* explicit thresholds */
    { "-ne, qps", {0}, { "ne >= 0.5" }, "objective_thresholds[0]: at column 0 ('ne'): Constraint on ne bounds from "
      "below but ne is being minimized." },
    { "-ne, qps", {0}, { "qps <= 5" }, "objective_thresholds[0]: at column 0 ('qps'): Constraint on qps bounds "
      "from above but qps is being maximized." },
    { "loss", {0}, { "loss >= 1" },
      "objective_thresholds[0]: at column 0 ('loss'): Objective thresholds are only supported in the "
      "multi-objective case" },
    { "-ne, qps", {0}, { "ne + qps >= 1" }, "objective_thresholds[0]: at column 0 ('ne'): An objective threshold "
      "must bound a single metric, found ne + qps >= 1" },
    { "-ne, qps", {0}, { "lat <= 1" },
      "objective_thresholds[0]: at column 0 ('lat'): 'lat' is not the metric of a single-metric objective" },
    { "a + b, c", {0}, { "a >= 1" },
      "objective_thresholds[0]: at column 0 ('a'): 'a' is not the metric of a single-metric objective" },
};

static void test_together_refused(void **state)
{
    S_RUN(s_reject, s_together_bad);
}

/* The limits that bound memory. */
static void test_limits(void **state)
{
    enum { N = HONE_GOALS_MAX_METRICS };
    char *text = malloc(16 * (N + 2));
    hone_goals_t *g = NULL;
    hone_error_t err;
    size_t len = 0, col = 0;
    for (int i = 0; i <= N; i++) {   /* N + 1 names in one string */
        col = len + (i ? 3 : 0);
        len += (size_t) sprintf(text + len, "%sm%d", i ? " + " : "", i);
    }
    assert_int_equal(hone_goals_parse(&g, text, NULL, 0, NULL, 0, &err), HONE_EINVAL);
    char expected[128];
    snprintf(expected, sizeof expected, "objective: at column %zu ('m%d'): more than %d metrics", col, N, N);
    assert_string_equal(err.message, expected);
    text[col - 3] = '\0';   /* N names: fine */
    assert_int_equal(hone_goals_parse(&g, text, NULL, 0, NULL, 0, &err), HONE_OK);
    assert_int_equal(hone_goals_n_metrics(g), N);
    hone_goals_destroy(&g);
    /* over several strings: the objective and two constraints of N / 2 new names each */
    const char *list[2];
    char *c0 = malloc(16 * N), *c1 = malloc(16 * N);
    len = 0;
    for (int i = 0; i < N / 2; i++)
        len += (size_t) sprintf(c0 + len, "%sa%d", i ? " + " : "", i);
    strcpy(c0 + len, " <= 1");
    len = 0;
    for (int i = 0; i < N / 2; i++)
        len += (size_t) sprintf(c1 + len, "%sb%d", i ? " + " : "", i);
    strcpy(c1 + len, " <= 1");
    list[0] = c0, list[1] = c1;
    assert_int_equal(hone_goals_parse(&g, "loss", list, 2, NULL, 0, &err), HONE_EINVAL);
    snprintf(expected, sizeof expected, "outcome_constraints[1]: at column %zu ('b%d'): more than %d metrics",
             (size_t) (strstr(c1, "b511 ") - c1), N / 2 - 1, N);
    assert_string_equal(err.message, expected);
    assert_int_equal(hone_goals_parse(&g, "a0", list, 2, NULL, 0, &err), HONE_OK);   /* a0 is shared */
    assert_int_equal(hone_goals_n_metrics(g), N);
    assert_int_equal(hone_goals_n_constraints(g), 2);
    hone_goals_destroy(&g);
    /* too many bounds */
    const char **many = malloc((HONE_GOALS_MAX_BOUNDS + 1) * sizeof *many);
    for (int i = 0; i <= HONE_GOALS_MAX_BOUNDS; i++)
        many[i] = "qps >= 1";
    assert_int_equal(hone_goals_parse(&g, "loss", many, HONE_GOALS_MAX_BOUNDS + 1, NULL, 0, &err), HONE_EINVAL);
    assert_string_equal(err.message, "outcome_constraints: more than 1024 outcome constraints and objective "
                        "thresholds");
    free(many);
    free(c0);
    free(c1);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_objectives_accepted),
        cmocka_unit_test(test_objectives_refused),
        cmocka_unit_test(test_deep_nesting),
        cmocka_unit_test(test_constraints_accepted),
        cmocka_unit_test(test_constraints_refused),
        cmocka_unit_test(test_together_accepted),
        cmocka_unit_test(test_together_refused),
        cmocka_unit_test(test_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
