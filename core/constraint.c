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
#include "expr.h"
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
 * Parsing (expr.c), the checks against the space, and adding. */

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

/* The index of e's name k in the space, or HONE_EINVAL with Ax's message. */
static int s_find(const hone_constraint_set_t *self, const hone_space_t *space, const hone_expr_t *e, size_t k,
                  int *index, hone_error_t *err)
{
    *index = hone_space_find(space, hone_expr_name(e, k));
    if (*index < 0)
        return hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: `%s` does not exist in search space.",
                              self->n, hone_expr_name(e, k));
    return HONE_OK;
}

/* The parsed difference, a coefficient per name (constant last) -> weights per parameter. */
static int s_resolve(const hone_constraint_set_t *self, const hone_space_t *space, const hone_expr_t *e,
                     const double *coef, double *weights, hone_error_t *err)
{
    size_t n_names = hone_expr_n_names(e);
    int rc = HONE_OK, index;
    /* Unknown names first (Ax's search space checks them before anything else); a name
     * that cancelled out is dropped, as SymPy drops it. */
    for (size_t k = 0; rc == HONE_OK && k < n_names; k++)
        if (coef[k] != 0.0 && (rc = s_find(self, space, e, k, &index, err)) == HONE_OK)
            weights[index] = coef[k];
    /* A name written twice. */
    bool *seen = hone_alloc_array(n_names + 1, sizeof(bool));
    for (size_t i = 0; rc == HONE_OK && i < hone_expr_n_tokens(e); i++) {
        const hone_expr_tok_t *t = hone_expr_token(e, i);
        if (t->kind == HONE_EXPR_NAME && seen[t->sym])
            rc = hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: Duplicate parameter in constraint.",
                                self->n);
        if (t->kind == HONE_EXPR_NAME)
            seen[t->sym] = true;
    }
    hone_free(seen);
    for (size_t j = 0; rc == HONE_OK && j < self->n_params; j++)
        if (weights[j] != 0.0)
            rc = s_check_param(hone_space_param(space, j), self->n, err);
    return rc;
}

/* Parses text into weights and bound, with the messages of constraint.h in Ax's order:
 * SymPy's parse (syntax, relation, linearity, numbers), then the search space's checks. */
static int s_parse(const hone_constraint_set_t *self, const hone_space_t *space, const char *text,
                   double *weights, double *bound, hone_error_t *err)
{
    char field[48];
    snprintf(field, sizeof field, "parameter_constraints[%zu]", self->n);
    /* Names are expr's default identifiers, at most n_params + 1 distinct ones: that many
     * include an unknown one, and the cap bounds the work per operator (O(names)) by the
     * space rather than by the length of the string. */
    hone_expr_lang_t lang = { .max_names = self->n_params + 1 };
    hone_expr_t *e = hone_expr_new(text, &lang);
    size_t rel, f = hone_expr_parse_inequality(e, &rel);
    size_t n_names = hone_expr_n_names(e), n_toks = hone_expr_n_tokens(e);
    const hone_expr_problem_t *syntax = hone_expr_syntax_error(e), *eval = hone_expr_eval_error(e);
    /* the parse stopped at the name past the cap (an earlier syntax error wins) */
    bool many = hone_expr_token(e, n_toks - 1)->kind == HONE_EXPR_MANY && syntax->tok == n_toks - 1;
    /* SymPy turns a comparison without parameters ("1 <= 2", "x - x <= 1") into True */
    bool truth = syntax->kind == HONE_EXPR_OK && eval->kind == HONE_EXPR_OK && hone_expr_is_constant(e, f);
    int rc = HONE_OK, index;
    if (syntax->kind == HONE_EXPR_EDEPTH)
        rc = hone_expr_fail_at(e, err, field, syntax->tok, "parentheses, signs and powers nest deeper than %d levels",
                               HONE_EXPR_MAX_DEPTH);
    else if ((syntax->kind != HONE_EXPR_OK && !many) || truth)
        rc = hone_error_set(err, HONE_EINVAL, "%s: Expected an inequality, found %s", field, text);
    else if (eval->kind == HONE_EXPR_ENONLINEAR)
        rc = hone_error_set(err, HONE_EINVAL, "%s: Only linear inequality parameter constraints are supported, "
                            "found %s", field, text);
    else if (eval->kind == HONE_EXPR_EDIVZERO)
        rc = hone_error_set(err, HONE_EINVAL, "%s: division by zero in '%s'", field, text);
    else if (eval->kind == HONE_EXPR_ENONFINITE)
        rc = hone_error_set(err, HONE_EINVAL, "%s: a coefficient of '%s' is not finite", field, text);
    for (size_t k = 0; rc == HONE_OK && many && k < n_names; k++)
        rc = s_find(self, space, e, k, &index, err);
    HONE_ASSERT(rc != HONE_OK || !many);   /* n_params + 1 distinct names: one is unknown */
    const double *coef = rc == HONE_OK ? hone_expr_form(e, f).coef : NULL;
    for (size_t k = 0; rc == HONE_OK && k <= n_names; k++)
        if (!isfinite(coef[k]))   /* the difference of the two sides overflowed */
            rc = hone_error_set(err, HONE_EINVAL, "%s: a coefficient of '%s' is not finite", field, text);
    if (rc == HONE_OK)
        rc = s_resolve(self, space, e, coef, weights, err);
    if (rc == HONE_OK)
        *bound = -coef[n_names] + 0.0;   /* + 0.0: no -0 bound */
    hone_expr_destroy(&e);
    return rc;
}

int hone_constraint_set_add(hone_constraint_set_t *self, const hone_space_t *space, const char *text,
                            hone_error_t *err)
{
    HONE_ASSERT(self && space && hone_space_size(space) == self->n_params);
    size_t at = self->n;
    if (!text)
        return hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: must be a string", at);
    if (hone_expr_forbidden(text) != HONE_EXPR_NONE)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter_constraints[%zu]: '%s' has forbidden control characters (; [ ' \\)",
                              at, text);
    double bound = 0.0, *weights = hone_alloc_array(self->n_params ? self->n_params : 1, sizeof(double));
    int rc = s_parse(self, space, text, weights, &bound, err);
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
        self->bounds[self->n] = bound;
        self->n++;
    }
    hone_free(weights);
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
