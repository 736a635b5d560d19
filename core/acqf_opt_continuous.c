/* acqf_opt_continuous.c: the continuous side of hone_acqf_optimize (acqf_opt.c): what the
 * linear constraints A·x <= b allow (feasibility, exclusion, pulling an end point back
 * along its segment, "repair" of a grid point through its continuous dimensions), the
 * local L-BFGS/SLSQP runs over the free dimensions, and the feasible raw samples (Sobol,
 * topped up by hit-and-run inside the polytope). */
#include "acqf_opt_internal.h"

#include <math.h>

#include "alloc.h"
#include "optim.h"
#include "sobol.h"
#include "special.h"

#define S_EXCLUDE_TOL 1e-6        /* BoTorch's duplicate tolerance, max norm */
#define S_FEAS_TOL 1e-8           /* A·x <= b + this for a returned point */
#define S_PGTOL 1e-5              /* scipy L-BFGS-B's default, which BoTorch keeps */
#define S_HR_BURNIN 10000         /* hit-and-run burn-in steps (BoTorch) */
#define S_HR_THINNING 32          /* hit-and-run steps per kept sample (BoTorch) */

static double s_row_dot(const double *row, const double *x, size_t d)
{
    double s = 0.0;
    for (size_t a = 0; a < d; a++)
        s += row[a] * x[a];
    return s;
}

/* Max over rows of A·x − b (−inf without constraints). */
static double s_violation(const hone_acqf_opt_t *o, const double *x)
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

static bool s_feasible(const hone_acqf_opt_t *o, const double *x, double tol)
{
    return o->space->n_ineq == 0 || s_violation(o, x) <= tol;
}

static bool s_excluded(const hone_acqf_opt_t *o, const double *x)
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

bool hone_acqf_opt_acceptable(const hone_acqf_opt_t *o, const double *x)
{
    return s_feasible(o, x, S_FEAS_TOL) && !s_excluded(o, x);
}

/* ---- local runs ---- */

static double s_objective(const double *xr, double *grad, void *arg)
{
    hone_acqf_opt_t *o = arg;
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
static void s_pull_back(const hone_acqf_opt_t *o, const double *x0, double *x)
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
int hone_acqf_opt_local(hone_acqf_opt_t *o, double *x, const bool *fixed, int max_eval)
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

/* ---- raw samples under linear constraints ---- */

/* Makes x feasible by moving its continuous dimensions, the discrete ones fixed: to the
 * Chebyshev center of what the constraints leave of them. False if nothing is left. */
bool hone_acqf_opt_repair(hone_acqf_opt_t *o, double *x)
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
            if (hone_acqf_opt_kind(sp, a) != HONE_ACQF_OPT_KIND_CONT)
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
static void s_hit_and_run(const hone_acqf_opt_t *o, const double *x0, uint64_t seed, size_t want,
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
int hone_acqf_opt_raw_samples(const hone_acqf_opt_t *o, size_t R, uint64_t seed, double *raw,
                              hone_error_t *err)
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
