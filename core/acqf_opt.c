/* acqf_opt.c: hone_acqf_optimize (reference/bo-numerics.md §3.1, §3.2, §3.3, §3.5).
 *
 * 1. Raw samples: R scrambled Sobol points (HONE_RNG_SOBOL_RAW), evaluated in one batch.
 *    With linear constraints the infeasible ones are dropped and the set is topped up to
 *    R by hit-and-run (HONE_RNG_POLYTOPE) from an interior point: the centroid of the
 *    feasible Sobol points, or the Chebyshev center found by SLSQP when none is feasible.
 * 2. Restarts: Boltzmann sampling on the standardized raw values (BoTorch's
 *    initialize_q_batch, HONE_RNG_BOLTZMANN): weights exp(η·Z), η = 1 halved while a
 *    weight overflows, drawn without replacement, the argmax forced in; uniform when the
 *    values are all equal. Non-finite values are never drawn.
 * 3. Local runs: L-BFGS (SLSQP with constraints) on −acqf from every start, over the
 *    continuous relaxation of the discrete dimensions. An SLSQP end point that violates
 *    A·x <= b is pulled back along the segment to its (feasible) start.
 * 4. Discrete dimensions: the result is projected onto the grid (ordinals rounded to the
 *    nearest level, one-hot groups by argmax), then greedy neighbour moves alternate with
 *    short continuous polishes (discrete dimensions fixed): ±1 level on each ordinal,
 *    every other level of each group, all neighbours evaluated in one batch. A grid
 *    point outside the polytope first moves its continuous dimensions to the Chebyshev
 *    center of what the constraints leave of them ("repair"). Without continuous dimensions and at most S_ENUMERATE_MAX combinations, every
 *    combination is evaluated instead.
 * 5. The best result that is feasible and not within 1e-6 (max norm) of an excluded
 *    point wins; failing that, the best such raw sample (projected onto the grid).
 *
 * Memory: the buffers of the evaluation path are allocated once per call (s_opt_new):
 * the NLopt callback and the neighbour moves never allocate; NLopt itself, a repair and
 * the polytope sampler allocate once per run. Results depend only on the inputs and the
 * seed. An acquisition object is not thread-safe, so neither is one call on it. */
#include "acqf_impl.h"

#include <math.h>

#include "alloc.h"
#include "optim.h"
#include "sobol.h"
#include "special.h"

#define S_DEFAULT_RAW 1024
#define S_DEFAULT_RESTARTS 20
#define S_DEFAULT_MAX_EVAL 200
#define S_EXCLUDE_TOL 1e-6        /* BoTorch's duplicate tolerance, max norm */
#define S_FEAS_TOL 1e-8           /* A·x <= b + this for a returned point */
#define S_ENUMERATE_MAX 1000      /* all-discrete spaces up to this size are enumerated */
#define S_MAX_ALTERNATIONS 8      /* discrete/continuous rounds per restart */
#define S_PGTOL 1e-5              /* scipy L-BFGS-B's default, which BoTorch keeps */
#define S_HR_BURNIN 10000         /* hit-and-run burn-in steps (BoTorch) */
#define S_HR_THINNING 32          /* hit-and-run steps per kept sample (BoTorch) */

enum { S_KIND_CONT = 0, S_KIND_ORDINAL = 1, S_KIND_ONEHOT = 2 };

typedef struct {
    hone_acqf_t *acqf;           /* being maximized */
    size_t d;                    /* dimension */
    const hone_acqf_space_t *space;   /* kinds, levels, groups, constraints */
    const double *excluded;      /* n_excluded × d */
    size_t n_excluded;
    int max_eval;                /* per local run */

    /* discrete structure */
    size_t n_cont;               /* continuous dimensions */
    size_t *cont;                /* their indices */
    size_t n_ord;                /* ordinal dimensions */
    size_t *ord;                 /* their indices */
    size_t n_groups;             /* one-hot groups */
    size_t *group_start;         /* group g has members member[group_start[g] .. group_start[g+1]) */
    size_t *member;              /* one-hot dimensions, grouped */

    /* the local run in progress: the variables are the dimensions in free[] */
    size_t n_free;               /* free dimensions */
    size_t *free;                /* their indices */
    double *x_full;              /* full point handed to the acquisition (d) */
    double *grad_full;           /* its gradient (d) */
    double *x_red;               /* the optimizer's variables (d) */
    double *lower;               /* 0 (d) */
    double *upper;               /* 1 (d) */
    double *a_red;               /* constraints restricted to the free dimensions (n_ineq × d) */
    double *b_red;               /* right-hand sides with the fixed dimensions moved over */
    double *x_start;             /* start of the run, for pulling back infeasible ends (d) */
    int eval_rc;                 /* first error of the acquisition in the run */

    /* neighbour moves */
    double *nbr;                 /* current point + neighbours, (1 + nbr_cap) × d */
    double *nbr_val;             /* their values */
    size_t nbr_cap;              /* neighbours at most */
    double *scratch;             /* one point (d) */
    double *rep_a;               /* constraints on the continuous dimensions (n_ineq × d) */
    double *rep_b;               /* their right-hand sides for the current discrete values */
} s_opt_t;

void hone_acqf_opt_options_init(hone_acqf_opt_options_t *opts)
{
    HONE_ASSERT(opts);
    memset(opts, 0, sizeof *opts);
    opts->raw_samples = S_DEFAULT_RAW;
    opts->restarts = S_DEFAULT_RESTARTS;
    opts->max_eval = S_DEFAULT_MAX_EVAL;
}

static int s_kind(const hone_acqf_space_t *space, size_t a)
{
    return space->kind ? space->kind[a] : S_KIND_CONT;
}

static int s_validate(const hone_acqf_t *acqf, const hone_acqf_space_t *space,
                      const double *excluded, size_t n_excluded,
                      const hone_acqf_opt_options_t *opts, hone_error_t *err)
{
    size_t d = space->d;
    if (d == 0 || d != acqf->d)
        return hone_error_set(err, HONE_EINVAL, "acquisition space: dimension %zu, the "
                              "acquisition has %zu", d, acqf->d);
    if (opts->raw_samples < 0 || opts->restarts < 0 || opts->max_eval < 0)
        return hone_error_set(err, HONE_EINVAL, "acquisition options: negative raw_samples, "
                              "restarts or max_eval");
    if (n_excluded > 0 && !excluded)
        return hone_error_set(err, HONE_EINVAL, "acquisition: %zu excluded points but no array",
                              n_excluded);
    if (space->n_ineq > 0 && (!space->ineq_a || !space->ineq_b))
        return hone_error_set(err, HONE_EINVAL, "acquisition space: %zu linear constraints but "
                              "no coefficients", space->n_ineq);
    for (size_t i = 0; i < space->n_ineq * d; i++)
        if (!isfinite(space->ineq_a[i]))
            return hone_error_set(err, HONE_EINVAL, "acquisition space: non-finite constraint "
                                  "coefficient");
    for (size_t i = 0; i < space->n_ineq; i++)
        if (isnan(space->ineq_b[i]))
            return hone_error_set(err, HONE_EINVAL, "acquisition space: NaN constraint bound");
    for (size_t a = 0; a < d; a++) {
        int kind = s_kind(space, a);
        if (kind == S_KIND_ORDINAL && (!space->levels || space->levels[a] < 1))
            return hone_error_set(err, HONE_EINVAL, "acquisition space: ordinal dimension %zu "
                                  "needs at least one level", a);
        if (kind == S_KIND_ONEHOT && !space->group)
            return hone_error_set(err, HONE_EINVAL, "acquisition space: one-hot dimension %zu "
                                  "without a group", a);
        if (kind < S_KIND_CONT || kind > S_KIND_ONEHOT)
            return hone_error_set(err, HONE_EINVAL, "acquisition space: dimension %zu has "
                                  "unknown kind %d", a, kind);
    }
    return HONE_OK;
}

static s_opt_t *s_opt_new(hone_acqf_t *acqf, const hone_acqf_space_t *space,
                          const double *excluded, size_t n_excluded, int max_eval)
{
    size_t d = space->d;
    size_t n_ineq = space->n_ineq;
    s_opt_t *o = hone_alloc(sizeof *o);
    o->acqf = acqf;
    o->d = d;
    o->space = space;
    o->excluded = excluded;
    o->n_excluded = n_excluded;
    o->max_eval = max_eval;
    o->cont = hone_alloc_array(d, sizeof(size_t));
    o->ord = hone_alloc_array(d, sizeof(size_t));
    o->group_start = hone_alloc_array(d + 1, sizeof(size_t));
    o->member = hone_alloc_array(d, sizeof(size_t));
    o->free = hone_alloc_array(d, sizeof(size_t));
    o->x_full = hone_alloc_array(d, sizeof(double));
    o->grad_full = hone_alloc_array(d, sizeof(double));
    o->x_red = hone_alloc_array(d, sizeof(double));
    o->lower = hone_alloc_array(d, sizeof(double));
    o->upper = hone_alloc_array(d, sizeof(double));
    o->x_start = hone_alloc_array(d, sizeof(double));
    o->scratch = hone_alloc_array(d, sizeof(double));
    o->a_red = hone_alloc_array(n_ineq * d + 1, sizeof(double));
    o->b_red = hone_alloc_array(n_ineq + 1, sizeof(double));
    o->rep_a = hone_alloc_array(n_ineq * d + 1, sizeof(double));
    o->rep_b = hone_alloc_array(n_ineq + 1, sizeof(double));
    for (size_t a = 0; a < d; a++)
        o->upper[a] = 1.0;

    /* Classify; one-hot members are gathered by group id in order of first appearance. */
    size_t n_onehot = 0;
    for (size_t a = 0; a < d; a++) {
        int kind = s_kind(space, a);
        if (kind == S_KIND_CONT)
            o->cont[o->n_cont++] = a;
        else if (kind == S_KIND_ORDINAL)
            o->ord[o->n_ord++] = a;
        else
            n_onehot++;
    }
    bool *taken = hone_alloc_array(d, sizeof(bool));
    size_t k = 0;
    for (size_t a = 0; a < d; a++) {
        if (s_kind(space, a) != S_KIND_ONEHOT || taken[a])
            continue;
        o->group_start[o->n_groups++] = k;
        for (size_t b = a; b < d; b++)
            if (s_kind(space, b) == S_KIND_ONEHOT && !taken[b] && space->group[b] == space->group[a]) {
                taken[b] = true;
                o->member[k++] = b;
            }
    }
    HONE_ASSERT(k == n_onehot);
    o->group_start[o->n_groups] = k;
    hone_free(taken);

    o->nbr_cap = 2 * o->n_ord + n_onehot;
    o->nbr = hone_alloc_array((1 + o->nbr_cap) * d, sizeof(double));
    o->nbr_val = hone_alloc_array(1 + o->nbr_cap, sizeof(double));
    return o;
}

static void s_opt_destroy(s_opt_t **o_p)
{
    s_opt_t *o = *o_p;
    if (!o)
        return;
    hone_free(o->cont);
    hone_free(o->ord);
    hone_free(o->group_start);
    hone_free(o->member);
    hone_free(o->free);
    hone_free(o->x_full);
    hone_free(o->grad_full);
    hone_free(o->x_red);
    hone_free(o->lower);
    hone_free(o->upper);
    hone_free(o->x_start);
    hone_free(o->scratch);
    hone_free(o->a_red);
    hone_free(o->b_red);
    hone_free(o->rep_a);
    hone_free(o->rep_b);
    hone_free(o->nbr);
    hone_free(o->nbr_val);
    hone_free(o);
    *o_p = NULL;
}

static bool s_has_discrete(const s_opt_t *o)
{
    return o->n_cont < o->d;
}

static double s_row_dot(const double *row, const double *x, size_t d)
{
    double s = 0.0;
    for (size_t a = 0; a < d; a++)
        s += row[a] * x[a];
    return s;
}

/* Max over rows of A·x − b (−inf without constraints). */
static double s_violation(const s_opt_t *o, const double *x)
{
    const hone_acqf_space_t *sp = o->space;
    double worst = -INFINITY;
    for (size_t i = 0; i < sp->n_ineq; i++) {
        double excess = s_row_dot(sp->ineq_a + i * o->d, x, o->d) - sp->ineq_b[i];
        if (excess > worst)
            worst = excess;
    }
    return worst;
}

static bool s_feasible(const s_opt_t *o, const double *x, double tol)
{
    return o->space->n_ineq == 0 || s_violation(o, x) <= tol;
}

static bool s_excluded(const s_opt_t *o, const double *x)
{
    for (size_t e = 0; e < o->n_excluded; e++) {
        const double *xe = o->excluded + e * o->d;
        size_t a = 0;
        while (a < o->d && fabs(x[a] - xe[a]) <= S_EXCLUDE_TOL)
            a++;
        if (a == o->d)
            return true;
    }
    return false;
}

static bool s_acceptable(const s_opt_t *o, const double *x)
{
    return s_feasible(o, x, S_FEAS_TOL) && !s_excluded(o, x);
}

/* ---- projection onto the grid ---- */

static size_t s_group_size(const s_opt_t *o, size_t g)
{
    return o->group_start[g + 1] - o->group_start[g];
}

static int s_levels(const s_opt_t *o, size_t a)
{
    return o->space->levels[a];
}

/* Ordinal level index of x (nearest level). */
static int s_level_index(double x, int levels)
{
    if (levels <= 1)
        return 0;
    double idx = nearbyint(x * (levels - 1));
    return idx < 0 ? 0 : idx > levels - 1 ? levels - 1 : (int) idx;
}

static double s_level_value(int idx, int levels)
{
    return levels <= 1 ? 0.0 : (double) idx / (levels - 1);
}

static void s_project(const s_opt_t *o, double *x)
{
    for (size_t i = 0; i < o->n_ord; i++) {
        size_t a = o->ord[i];
        int levels = s_levels(o, a);
        x[a] = s_level_value(s_level_index(x[a], levels), levels);
    }
    for (size_t g = 0; g < o->n_groups; g++) {
        const size_t *m = o->member + o->group_start[g];
        size_t size = s_group_size(o, g);
        if (size == 1) {   /* a lone column is a binary choice */
            x[m[0]] = x[m[0]] >= 0.5 ? 1.0 : 0.0;
            continue;
        }
        size_t best = 0;
        for (size_t j = 1; j < size; j++)
            if (x[m[j]] > x[m[best]])
                best = j;
        for (size_t j = 0; j < size; j++)
            x[m[j]] = j == best ? 1.0 : 0.0;
    }
    for (size_t i = 0; i < o->n_cont; i++) {
        size_t a = o->cont[i];
        x[a] = fmin(fmax(x[a], 0.0), 1.0);
    }
}

/* ---- local runs ---- */

static double s_objective(const double *xr, double *grad, void *arg)
{
    s_opt_t *o = arg;
    for (size_t i = 0; i < o->n_free; i++)
        o->x_full[o->free[i]] = xr[i];
    double value;
    int rc = grad ? hone_acqf_eval_grad(o->acqf, o->x_full, &value, o->grad_full)
                  : hone_acqf_eval(o->acqf, 1, o->x_full, &value);
    if (rc != HONE_OK) {
        if (o->eval_rc == HONE_OK)
            o->eval_rc = rc;
        return NAN;
    }
    if (grad)
        for (size_t i = 0; i < o->n_free; i++)
            grad[i] = -o->grad_full[o->free[i]];
    return -value;
}

/* Moves x back along the segment towards the feasible x0 until A·x <= b: the largest
 * step t in [0, 1] of x0 + t·(x − x0) that every row allows. */
static void s_pull_back(const s_opt_t *o, const double *x0, double *x)
{
    const hone_acqf_space_t *sp = o->space;
    double t = 1.0;
    for (size_t i = 0; i < sp->n_ineq; i++) {
        const double *row = sp->ineq_a + i * o->d;
        double s0 = s_row_dot(row, x0, o->d), s1 = s_row_dot(row, x, o->d);
        if (s1 > sp->ineq_b[i] && s1 > s0) {
            double ti = (sp->ineq_b[i] - s0) / (s1 - s0);
            t = fmin(t, fmax(ti, 0.0));
        }
    }
    for (size_t a = 0; a < o->d; a++)
        x[a] = x0[a] + t * (x[a] - x0[a]);
}

/* Maximizes over the dimensions not marked in fixed (NULL: all are free), the others
 * staying at their values in x. x must be feasible (within S_FEAS_TOL); it is replaced
 * by the best point found, pulled back into the polytope if SLSQP overshot. Returns an acquisition
 * error, if one occurred, else HONE_OK (an optimizer failure keeps the best point). */
static int s_local(s_opt_t *o, double *x, const bool *fixed, int max_eval)
{
    size_t d = o->d;
    const hone_acqf_space_t *sp = o->space;
    o->n_free = 0;
    for (size_t a = 0; a < d; a++)
        if (!fixed || !fixed[a])
            o->free[o->n_free++] = a;
    if (o->n_free == 0)
        return HONE_OK;
    memcpy(o->x_full, x, d * sizeof(double));
    memcpy(o->x_start, x, d * sizeof(double));
    for (size_t i = 0; i < o->n_free; i++)
        o->x_red[i] = x[o->free[i]];

    hone_optim_options_t opt;
    hone_optim_options_init(&opt);
    opt.max_eval = max_eval;
    size_t rows = 0;
    for (size_t i = 0; i < sp->n_ineq; i++) {
        const double *row = sp->ineq_a + i * d;
        double rhs = sp->ineq_b[i];
        bool any = false;
        for (size_t a = 0; a < d; a++)
            if (fixed && fixed[a])
                rhs -= row[a] * x[a];
        for (size_t j = 0; j < o->n_free; j++) {
            double c = row[o->free[j]];
            o->a_red[rows * o->n_free + j] = c;
            any = any || c != 0.0;
        }
        if (any)   /* a row on fixed dimensions only is satisfied at the start already */
            o->b_red[rows++] = rhs;
    }
    if (rows > 0) {
        opt.method = HONE_OPTIM_SLSQP;
        opt.n_ineq = rows;
        opt.ineq_a = o->a_red;
        opt.ineq_b = o->b_red;
    }
    else {
        opt.pgtol = S_PGTOL;
    }
    o->eval_rc = HONE_OK;
    (void) hone_optim_minimize(s_objective, o, o->n_free, o->lower, o->upper, o->x_red, NULL,
                               &opt, NULL);
    for (size_t i = 0; i < o->n_free; i++)
        x[o->free[i]] = fmin(fmax(o->x_red[i], 0.0), 1.0);
    if (!s_feasible(o, x, 0.0))
        s_pull_back(o, o->x_start, x);
    return o->eval_rc;
}

/* ---- discrete neighbour search ---- */

/* Writes the neighbours of x into o->nbr + d (after the current point at o->nbr) and
 * returns their number. */
static size_t s_neighbours(s_opt_t *o, const double *x)
{
    size_t d = o->d;
    size_t n = 0;
    memcpy(o->nbr, x, d * sizeof(double));
    for (size_t i = 0; i < o->n_ord; i++) {
        size_t a = o->ord[i];
        int levels = s_levels(o, a);
        int idx = s_level_index(x[a], levels);
        for (int step = -1; step <= 1; step += 2) {
            if (idx + step < 0 || idx + step >= levels)
                continue;
            double *y = o->nbr + (1 + n++) * d;
            memcpy(y, x, d * sizeof(double));
            y[a] = s_level_value(idx + step, levels);
        }
    }
    for (size_t g = 0; g < o->n_groups; g++) {
        const size_t *m = o->member + o->group_start[g];
        size_t size = s_group_size(o, g);
        for (size_t j = 0; j < size; j++) {
            if (size > 1 && x[m[j]] == 1.0)
                continue;
            double *y = o->nbr + (1 + n++) * d;
            memcpy(y, x, d * sizeof(double));
            if (size == 1) {
                y[m[0]] = 1.0 - x[m[0]];
            }
            else {
                for (size_t k = 0; k < size; k++)
                    y[m[k]] = k == j ? 1.0 : 0.0;
            }
        }
    }
    HONE_ASSERT(n <= o->nbr_cap);
    return n;
}

static bool s_repair(s_opt_t *o, double *x);

/* From x on the grid: alternates continuous polishes (discrete dimensions fixed) and
 * greedy moves to the best acceptable neighbour. A point that is not acceptable itself
 * moves to its best acceptable neighbour even if that is worse. On return x is the final
 * point and *value its acquisition value; *ok tells whether x is acceptable. */
static int s_discrete_search(s_opt_t *o, double *x, bool *fixed, double *value, bool *ok)
{
    size_t d = o->d;
    for (size_t a = 0; a < d; a++)
        fixed[a] = s_kind(o->space, a) != S_KIND_CONT;
    *ok = false;
    *value = -INFINITY;
    bool moved = true;
    for (int round = 0; round < S_MAX_ALTERNATIONS; round++) {
        if (moved && o->n_cont > 0 && s_repair(o, x)) {
            int budget = round == 0 ? o->max_eval : (o->max_eval + 3) / 4;
            int rc = s_local(o, x, fixed, budget);
            if (rc != HONE_OK)
                return rc;
        }
        size_t n = s_neighbours(o, x);
        for (size_t j = 1; j <= n && o->space->n_ineq > 0; j++)
            (void) s_repair(o, o->nbr + j * d);
        int rc = hone_acqf_eval(o->acqf, 1 + n, o->nbr, o->nbr_val);
        if (rc != HONE_OK)
            return rc;
        *value = o->nbr_val[0];
        *ok = s_acceptable(o, x) && !isnan(*value);
        size_t best = 0;
        for (size_t j = 1; j <= n; j++) {
            const double *y = o->nbr + j * d;
            if (isnan(o->nbr_val[j]) || !s_acceptable(o, y))
                continue;
            if (best == 0 ? (!*ok || o->nbr_val[j] > *value) : o->nbr_val[j] > o->nbr_val[best])
                best = j;
        }
        moved = best != 0;
        if (!moved)
            break;
        memcpy(x, o->nbr + best * d, d * sizeof(double));
        *value = o->nbr_val[best];
        *ok = true;
    }
    return HONE_OK;
}

/* ---- enumeration of all-discrete spaces ---- */

/* Number of grid points of the discrete dimensions (saturating at 2^53). */
static double s_grid_size(const s_opt_t *o)
{
    double total = 1.0;
    for (size_t i = 0; i < o->n_ord; i++)
        total *= fmax(1.0, s_levels(o, o->ord[i]));
    for (size_t g = 0; g < o->n_groups; g++) {
        size_t size = s_group_size(o, g);
        total *= size == 1 ? 2.0 : (double) size;
    }
    return fmin(total, 0x1.0p53);
}

static int s_enumerate(s_opt_t *o, size_t count, double *x_out, double *value_out,
                       hone_error_t *err)
{
    size_t d = o->d;
    double *pts = hone_alloc_array(count * d, sizeof(double));
    double *vals = hone_alloc_array(count, sizeof(double));
    size_t n = 0;
    for (size_t c = 0; c < count; c++) {
        double *y = pts + n * d;
        size_t rest = c;   /* mixed radix: ordinals first, then groups */
        for (size_t i = 0; i < o->n_ord; i++) {
            int levels = s_levels(o, o->ord[i]);
            size_t radix = levels < 1 ? 1 : (size_t) levels;
            y[o->ord[i]] = s_level_value((int) (rest % radix), levels);
            rest /= radix;
        }
        for (size_t g = 0; g < o->n_groups; g++) {
            const size_t *m = o->member + o->group_start[g];
            size_t size = s_group_size(o, g);
            size_t radix = size == 1 ? 2 : size;
            size_t pick = rest % radix;
            rest /= radix;
            if (size == 1)
                y[m[0]] = (double) pick;
            else
                for (size_t k = 0; k < size; k++)
                    y[m[k]] = k == pick ? 1.0 : 0.0;
        }
        if (s_acceptable(o, y))
            n++;
    }
    int rc = n > 0 ? hone_acqf_eval(o->acqf, n, pts, vals) : HONE_OK;
    size_t best = n;
    for (size_t i = 0; rc == HONE_OK && i < n; i++)
        if (!isnan(vals[i]) && (best == n || vals[i] > vals[best]))
            best = i;
    if (rc != HONE_OK)
        rc = hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
    else if (best == n)
        rc = hone_error_set(err, HONE_EEXHAUSTED, "every point of the discrete space is "
                            "excluded or infeasible");
    else {
        memcpy(x_out, pts + best * d, d * sizeof(double));
        if (value_out)
            *value_out = vals[best];
    }
    hone_free(pts);
    hone_free(vals);
    return rc;
}

/* ---- raw samples under linear constraints ---- */

/* Makes x feasible by moving its continuous dimensions, the discrete ones fixed: to the
 * Chebyshev center of what the constraints leave of them. False if nothing is left. */
static bool s_repair(s_opt_t *o, double *x)
{
    const hone_acqf_space_t *sp = o->space;
    if (s_feasible(o, x, S_FEAS_TOL))
        return true;
    if (o->n_cont == 0)
        return false;
    for (size_t i = 0; i < sp->n_ineq; i++) {
        const double *row = sp->ineq_a + i * o->d;
        double rhs = sp->ineq_b[i];
        for (size_t a = 0; a < o->d; a++)
            if (s_kind(sp, a) != S_KIND_CONT)
                rhs -= row[a] * x[a];
        for (size_t j = 0; j < o->n_cont; j++)
            o->rep_a[i * o->n_cont + j] = row[o->cont[j]];
        o->rep_b[i] = rhs;
    }
    if (hone_optim_chebyshev_center(o->n_cont, sp->n_ineq, o->rep_a, o->rep_b, o->scratch) != HONE_OK)
        return false;
    for (size_t j = 0; j < o->n_cont; j++)
        x[o->cont[j]] = o->scratch[j];
    return s_feasible(o, x, S_FEAS_TOL);
}

/* Appends `want` hit-and-run samples from the feasible point x0 to out (want × d):
 * random directions, a uniform step on the chord inside the cube and the constraints. */
static void s_hit_and_run(const s_opt_t *o, const double *x0, uint64_t seed, size_t want,
                          double *out)
{
    const hone_acqf_space_t *sp = o->space;
    size_t d = o->d;
    hone_rng_t rng;
    hone_rng_seed(&rng, hone_rng_derive(seed, HONE_RNG_POLYTOPE));
    double *x = hone_alloc_array(d, sizeof(double));
    double *u = hone_alloc_array(d, sizeof(double));
    memcpy(x, x0, d * sizeof(double));
    size_t steps = S_HR_BURNIN + want * S_HR_THINNING;
    size_t kept = 0;
    for (size_t step = 1; step <= steps; step++) {
        double norm = 0.0;
        for (size_t a = 0; a < d; a++) {
            u[a] = hone_special_normal_from_uniform(hone_rng_uniform(&rng));
            norm += u[a] * u[a];
        }
        norm = sqrt(norm);
        if (norm == 0.0)
            continue;
        double lo = -INFINITY, hi = INFINITY;
        for (size_t a = 0; a < d; a++) {
            u[a] /= norm;
            if (u[a] > 0.0) {
                hi = fmin(hi, (1.0 - x[a]) / u[a]);
                lo = fmax(lo, -x[a] / u[a]);
            }
            else if (u[a] < 0.0) {
                hi = fmin(hi, -x[a] / u[a]);
                lo = fmax(lo, (1.0 - x[a]) / u[a]);
            }
        }
        for (size_t i = 0; i < sp->n_ineq; i++) {
            const double *row = sp->ineq_a + i * d;
            double au = 0.0, ax = 0.0;
            for (size_t a = 0; a < d; a++) {
                au += row[a] * u[a];
                ax += row[a] * x[a];
            }
            double slack = fmax(sp->ineq_b[i] - ax, 0.0);
            if (au > 0.0)
                hi = fmin(hi, slack / au);
            else if (au < 0.0)
                lo = fmax(lo, slack / au);
        }
        if (lo < hi) {
            double t = lo + (hi - lo) * hone_rng_uniform(&rng);
            for (size_t a = 0; a < d; a++)
                x[a] = fmin(fmax(x[a] + t * u[a], 0.0), 1.0);
            if (!s_feasible(o, x, 0.0))   /* rounding at a face: step back inside */
                s_pull_back(o, x0, x);
        }
        if (step > S_HR_BURNIN && (step - S_HR_BURNIN) % S_HR_THINNING == 0 && kept < want)
            memcpy(out + kept++ * d, x, d * sizeof(double));
    }
    for (; kept < want; kept++)
        memcpy(out + kept * d, x, d * sizeof(double));
    hone_free(x);
    hone_free(u);
}

/* Fills raw (R × d) with feasible points: Sobol points, infeasible ones replaced. */
static int s_raw_samples(const s_opt_t *o, size_t R, uint64_t seed, double *raw, hone_error_t *err)
{
    size_t d = o->d;
    hone_sobol_t *sobol = hone_sobol_new((uint32_t) d, true, hone_rng_derive(seed, HONE_RNG_SOBOL_RAW));
    if (!sobol)
        return hone_error_set(err, HONE_EINVAL, "acquisition space: %zu dimensions are more "
                              "than the Sobol generator supports", d);
    int rc = hone_sobol_next(sobol, R, raw);
    hone_sobol_destroy(&sobol);
    if (rc != HONE_OK)
        return hone_error_set(err, rc, "Sobol raw samples: %s", hone_strerror(rc));
    if (o->space->n_ineq == 0)
        return HONE_OK;

    size_t n = 0;
    for (size_t i = 0; i < R; i++)
        if (s_feasible(o, raw + i * d, 0.0)) {
            if (n != i)
                memcpy(raw + n * d, raw + i * d, d * sizeof(double));
            n++;
        }
    if (n == R)
        return HONE_OK;
    double *start = hone_alloc_array(d, sizeof(double));
    if (n > 0) {   /* the centroid of feasible points is feasible (convexity) */
        for (size_t i = 0; i < n; i++)
            for (size_t a = 0; a < d; a++)
                start[a] += raw[i * d + a] / (double) n;
        if (!s_feasible(o, start, 0.0))
            memcpy(start, raw, d * sizeof(double));
    }
    else if (hone_optim_chebyshev_center(d, o->space->n_ineq, o->space->ineq_a, o->space->ineq_b, start)
             != HONE_OK) {
        rc = hone_error_set(err, HONE_EINVAL, "the linear parameter constraints leave no "
                            "feasible point in the search space");
    }
    if (rc == HONE_OK)
        s_hit_and_run(o, start, seed, R - n, raw + n * d);
    hone_free(start);
    return rc;
}

/* ---- restart selection ---- */

/* Chooses k distinct indices among the finite values (k <= their number). */
static void s_boltzmann(const double *values, size_t R, size_t k, uint64_t seed, size_t *chosen)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, hone_rng_derive(seed, HONE_RNG_BOLTZMANN));
    double *w = hone_alloc_array(R, sizeof(double));
    size_t n_finite = 0, imax = R;
    double mean = 0.0;
    for (size_t i = 0; i < R; i++)
        if (isfinite(values[i])) {
            n_finite++;
            mean += values[i];
            if (imax == R || values[i] > values[imax])
                imax = i;
        }
    HONE_ASSERT(n_finite >= k && k > 0);
    mean /= (double) n_finite;
    double ss = 0.0;
    for (size_t i = 0; i < R; i++)
        if (isfinite(values[i]))
            ss += (values[i] - mean) * (values[i] - mean);
    double sd = n_finite > 1 ? sqrt(ss / (double) (n_finite - 1)) : 0.0;   /* torch's std */
    double eta = 1.0;
    for (;;) {
        bool overflow = false;
        for (size_t i = 0; i < R; i++) {
            if (!isfinite(values[i]))
                w[i] = 0.0;
            else if (!(sd > 0.0))
                w[i] = 1.0;   /* all equal: uniform */
            else
                w[i] = exp(eta * (values[i] - mean) / sd);
            overflow = overflow || isinf(w[i]);
        }
        if (!overflow)
            break;
        eta *= 0.5;
    }
    bool have_max = false;
    for (size_t j = 0; j < k; j++) {
        double total = 0.0;
        for (size_t i = 0; i < R; i++)
            total += w[i] > 0.0 ? w[i] : 0.0;
        size_t pick = R;
        if (total > 0.0) {
            double target = hone_rng_uniform(&rng) * total, acc = 0.0;
            for (size_t i = 0; i < R; i++) {
                if (w[i] <= 0.0)
                    continue;
                acc += w[i];
                pick = i;
                if (acc > target)
                    break;
            }
        }
        if (pick == R) {   /* the remaining weights underflowed: uniform over the rest */
            size_t left = 0;
            for (size_t i = 0; i < R; i++)
                left += isfinite(values[i]) && w[i] >= 0.0;
            uint64_t r = hone_rng_below(&rng, left);
            for (size_t i = 0; i < R; i++)
                if (isfinite(values[i]) && w[i] >= 0.0 && r-- == 0) {
                    pick = i;
                    break;
                }
        }
        HONE_ASSERT(pick < R);
        chosen[j] = pick;
        w[pick] = -1.0;   /* taken */
        have_max = have_max || pick == imax;
    }
    if (!have_max)
        chosen[k - 1] = imax;
    hone_free(w);
}

/* ---- the driver ---- */

int hone_acqf_optimize(hone_acqf_t *acqf, const hone_acqf_space_t *space,
                       const double *excluded, size_t n_excluded,
                       const hone_acqf_opt_options_t *opts, double *x_out, double *value_out,
                       hone_error_t *err)
{
    HONE_ASSERT(acqf && space && x_out);
    hone_acqf_opt_options_t defaults;
    if (!opts) {
        hone_acqf_opt_options_init(&defaults);
        opts = &defaults;
    }
    int rc = s_validate(acqf, space, excluded, n_excluded, opts, err);
    if (rc != HONE_OK)
        return rc;
    size_t R = opts->raw_samples > 0 ? (size_t) opts->raw_samples : S_DEFAULT_RAW;
    size_t restarts = opts->restarts > 0 ? (size_t) opts->restarts : S_DEFAULT_RESTARTS;
    int max_eval = opts->max_eval > 0 ? opts->max_eval : S_DEFAULT_MAX_EVAL;
    size_t d = space->d;

    s_opt_t *o = s_opt_new(acqf, space, excluded, n_excluded, max_eval);
    if (o->n_cont == 0 && s_grid_size(o) <= S_ENUMERATE_MAX) {
        rc = s_enumerate(o, (size_t) s_grid_size(o), x_out, value_out, err);
        s_opt_destroy(&o);
        return rc;
    }

    double *raw = hone_alloc_array(R * d, sizeof(double));
    double *raw_val = hone_alloc_array(R, sizeof(double));
    size_t *starts = hone_alloc_array(restarts, sizeof(size_t));
    double *cand = hone_alloc_array(restarts * d, sizeof(double));
    double *cand_val = hone_alloc_array(restarts, sizeof(double));
    bool *cand_ok = hone_alloc_array(restarts, sizeof(bool));
    bool *fixed = hone_alloc_array(d, sizeof(bool));
    size_t k = 0;

    rc = s_raw_samples(o, R, opts->seed, raw, err);
    if (rc == HONE_OK) {
        rc = hone_acqf_eval(acqf, R, raw, raw_val);
        if (rc != HONE_OK)
            hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
    }
    if (rc == HONE_OK) {
        size_t n_finite = 0;
        for (size_t i = 0; i < R; i++)
            n_finite += isfinite(raw_val[i]) != 0;
        k = restarts < n_finite ? restarts : n_finite;
        if (k == 0)
            rc = hone_error_set(err, HONE_ENUMERIC, "the acquisition is not finite at any of "
                                "the %zu raw samples", R);
        else
            s_boltzmann(raw_val, R, k, opts->seed, starts);
    }

    /* Local runs over the relaxation, then the grid for discrete dimensions. */
    for (size_t j = 0; rc == HONE_OK && j < k; j++) {
        double *x = cand + j * d;
        memcpy(x, raw + starts[j] * d, d * sizeof(double));
        rc = s_local(o, x, NULL, max_eval);
        if (rc == HONE_OK && s_has_discrete(o)) {
            s_project(o, x);
            rc = s_discrete_search(o, x, fixed, &cand_val[j], &cand_ok[j]);
        }
        if (rc != HONE_OK)
            hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
    }
    if (rc == HONE_OK && !s_has_discrete(o)) {
        rc = hone_acqf_eval(acqf, k, cand, cand_val);
        if (rc != HONE_OK)
            hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
        for (size_t j = 0; j < k; j++)
            cand_ok[j] = !isnan(cand_val[j]) && s_acceptable(o, cand + j * d);
    }

    /* The best acceptable restart result; else the best acceptable raw sample. */
    if (rc == HONE_OK) {
        size_t best = k;
        for (size_t j = 0; j < k; j++)
            if (cand_ok[j] && (best == k || cand_val[j] > cand_val[best]))
                best = j;
        if (best < k) {
            memcpy(x_out, cand + best * d, d * sizeof(double));
            if (value_out)
                *value_out = cand_val[best];
        }
        else {
            /* Project every raw sample, keep the acceptable ones, evaluate them at once. */
            size_t n = 0;
            for (size_t i = 0; i < R; i++) {
                double *y = raw + n * d;
                if (n != i)
                    memcpy(y, raw + i * d, d * sizeof(double));
                s_project(o, y);
                if (o->space->n_ineq > 0)
                    (void) s_repair(o, y);   /* rounding may have left the polytope */
                if (s_acceptable(o, y))
                    n++;
            }
            size_t pick = n;
            if (n > 0) {
                rc = hone_acqf_eval(acqf, n, raw, raw_val);
                if (rc != HONE_OK)
                    hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
            }
            for (size_t i = 0; rc == HONE_OK && i < n; i++)
                if (!isnan(raw_val[i]) && (pick == n || raw_val[i] > raw_val[pick]))
                    pick = i;
            if (rc == HONE_OK && pick == n)
                rc = hone_error_set(err, HONE_EEXHAUSTED, "every candidate of the acquisition "
                                    "optimization is excluded or infeasible");
            if (rc == HONE_OK) {
                memcpy(x_out, raw + pick * d, d * sizeof(double));
                if (value_out)
                    *value_out = raw_val[pick];
            }
        }
    }

    hone_free(raw);
    hone_free(raw_val);
    hone_free(starts);
    hone_free(cand);
    hone_free(cand_val);
    hone_free(cand_ok);
    hone_free(fixed);
    s_opt_destroy(&o);
    return rc;
}
