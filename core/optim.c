/* optim.c: hone_optim_minimize over NLopt (LD_LBFGS for boxes, LD_SLSQP with linear
 * inequalities). The only file that includes nlopt.h (CONVENTIONS.md §22).
 *
 * NLopt's own return point is not always the best one it evaluated (a forced stop, or
 * SLSQP wandering after a roundoff failure), so the objective wrapper keeps the best
 * point seen, feasible points only when there are constraints. */
#include "optim.h"

#include <math.h>
#include <nlopt.h>

#include "alloc.h"

#define S_DEFAULT_MAX_EVAL 1000
#define S_DEFAULT_FTOL_REL 2.2e-9
#define S_LBFGS_STORAGE 10
#define S_INEQ_TOL 1e-9          /* NLopt's tolerance on A·x <= b */
#define S_FEAS_TOL 1e-7          /* slack accepted when tracking the best feasible point */
#define S_CHEB_TOL 1e-8          /* A·x <= b + this for a Chebyshev center */

typedef struct {
    hone_optim_fn *fn;           /* the user's objective */
    void *arg;                   /* its argument */
    size_t n;                    /* dimension */
    const hone_optim_options_t *opts;   /* constraints (feasibility of tracked points) */
    nlopt_opt opt;               /* for nlopt_force_stop on non-finite values */
    double *best_x;              /* best point seen (n values) */
    double best_f;               /* its value; HUGE_VAL until a finite feasible value */
    double first_f;              /* value at the start point (NAN before the first call) */
    const double *lower;         /* box, for the projected gradient */
    const double *upper;
    int n_eval;                  /* objective evaluations */
    bool nonfinite;              /* the objective returned a non-finite value or gradient */
    bool converged;              /* stopped by the pgtol test */
} s_ctx_t;

void hone_optim_options_init(hone_optim_options_t *opts)
{
    HONE_ASSERT(opts);
    memset(opts, 0, sizeof *opts);
    opts->method = HONE_OPTIM_LBFGS;
    opts->max_eval = S_DEFAULT_MAX_EVAL;
    opts->ftol_rel = S_DEFAULT_FTOL_REL;
}

static bool s_feasible(const s_ctx_t *ctx, const double *x)
{
    const hone_optim_options_t *o = ctx->opts;
    if (o->method != HONE_OPTIM_SLSQP)
        return true;
    for (size_t i = 0; i < o->n_ineq; i++) {
        const double *row = o->ineq_a + i * ctx->n;
        double s = 0.0, scale = fabs(o->ineq_b[i]);
        for (size_t j = 0; j < ctx->n; j++) {
            s += row[j] * x[j];
            scale += fabs(row[j] * x[j]);
        }
        if (s - o->ineq_b[i] > S_FEAS_TOL * (1.0 + scale))
            return false;
    }
    return true;
}

/* Largest entry of the gradient projected on the box (scipy's pgtol measure): a
 * component pushing against an active bound does not count. */
static double s_projected_gradient(const s_ctx_t *ctx, const double *x, const double *grad)
{
    double worst = 0.0;
    for (size_t j = 0; j < ctx->n; j++) {
        double g = grad[j];
        if ((g > 0.0 && x[j] <= ctx->lower[j]) || (g < 0.0 && x[j] >= ctx->upper[j]))
            continue;
        worst = fmax(worst, fabs(g));
    }
    return worst;
}

static double s_objective(unsigned n, const double *x, double *grad, void *data)
{
    s_ctx_t *ctx = data;
    if (ctx->nonfinite || ctx->converged) {
        /* Some NLopt algorithms only look at the stop flag between iterations. */
        if (grad)
            memset(grad, 0, n * sizeof *grad);
        return HUGE_VAL;
    }
    double f = ctx->fn(x, grad, ctx->arg);
    ctx->n_eval++;
    bool finite = isfinite(f);
    if (finite && grad) {
        for (unsigned j = 0; j < n; j++)
            if (!isfinite(grad[j])) {
                finite = false;
                break;
            }
    }
    if (!finite) {
        ctx->nonfinite = true;
        nlopt_force_stop(ctx->opt);
        if (grad)
            memset(grad, 0, n * sizeof *grad);
        return HUGE_VAL;
    }
    if (ctx->n_eval == 1)
        ctx->first_f = f;
    if (f < ctx->best_f && s_feasible(ctx, x)) {
        ctx->best_f = f;
        memcpy(ctx->best_x, x, n * sizeof *x);
        if (grad && ctx->opts->pgtol > 0.0 && ctx->opts->method == HONE_OPTIM_LBFGS
            && s_projected_gradient(ctx, x, grad) <= ctx->opts->pgtol) {
            ctx->converged = true;
            nlopt_force_stop(ctx->opt);
        }
    }
    return f;
}

/* result[i] = A_i·x − b_i, gradient rows = A_i (NLopt's m × n layout, row-major). */
static void s_ineq(unsigned m, double *result, unsigned n, const double *x, double *grad,
                   void *data)
{
    const hone_optim_options_t *o = data;
    for (unsigned i = 0; i < m; i++) {
        const double *row = o->ineq_a + (size_t) i * n;
        double s = 0.0;
        for (unsigned j = 0; j < n; j++)
            s += row[j] * x[j];
        result[i] = s - o->ineq_b[i];
    }
    if (grad)
        memcpy(grad, o->ineq_a, (size_t) m * n * sizeof *grad);
}

static bool s_args_valid(size_t n, const double *lower, const double *upper,
                         const double *x, const hone_optim_options_t *o)
{
    if (n == 0 || n > UINT32_MAX || !lower || !upper || !x)
        return false;
    if (o->max_eval < 0 || o->ftol_rel < 0 || o->xtol_rel < 0 || o->max_time_s < 0
        || !(o->pgtol >= 0.0))
        return false;
    if (o->method != HONE_OPTIM_LBFGS && o->method != HONE_OPTIM_SLSQP)
        return false;
    if (o->n_ineq > 0 && (o->method != HONE_OPTIM_SLSQP || !o->ineq_a || !o->ineq_b
                          || o->n_ineq > UINT32_MAX))
        return false;
    for (size_t j = 0; j < n; j++)
        if (!(lower[j] <= upper[j]) || isnan(x[j]))
            return false;
    return true;
}

int hone_optim_minimize(hone_optim_fn *fn, void *arg, size_t n, const double *lower,
                        const double *upper, double *x, double *f_out,
                        const hone_optim_options_t *opts, int *n_eval_out)
{
    HONE_ASSERT(fn);
    hone_optim_options_t defaults;
    if (!opts) {
        hone_optim_options_init(&defaults);
        opts = &defaults;
    }
    if (n_eval_out)
        *n_eval_out = 0;
    if (!s_args_valid(n, lower, upper, x, opts))
        return HONE_EINVAL;

    for (size_t j = 0; j < n; j++)
        x[j] = fmin(fmax(x[j], lower[j]), upper[j]);

    nlopt_algorithm algo = opts->method == HONE_OPTIM_SLSQP ? NLOPT_LD_SLSQP : NLOPT_LD_LBFGS;
    nlopt_opt opt = nlopt_create(algo, (unsigned) n);
    if (!opt)
        hone_panic(__FILE__, __LINE__, "nlopt_create: out of memory");

    s_ctx_t ctx = {
        .fn = fn, .arg = arg, .n = n, .opts = opts, .opt = opt, .lower = lower, .upper = upper,
        .best_x = hone_alloc_array(n, sizeof(double)),
        .best_f = HUGE_VAL, .first_f = NAN,
    };
    memcpy(ctx.best_x, x, n * sizeof *x);

    nlopt_result rc = NLOPT_SUCCESS;
    int max_eval = opts->max_eval > 0 ? opts->max_eval : S_DEFAULT_MAX_EVAL;
    double ftol = opts->ftol_rel > 0 ? opts->ftol_rel : S_DEFAULT_FTOL_REL;
    double *tol = NULL;
    if (rc >= 0) rc = nlopt_set_lower_bounds(opt, lower);
    if (rc >= 0) rc = nlopt_set_upper_bounds(opt, upper);
    if (rc >= 0) rc = nlopt_set_min_objective(opt, s_objective, &ctx);
    if (rc >= 0) rc = nlopt_set_maxeval(opt, max_eval);
    if (rc >= 0) rc = nlopt_set_ftol_rel(opt, ftol);
    if (rc >= 0 && opts->xtol_rel > 0) rc = nlopt_set_xtol_rel(opt, opts->xtol_rel);
    if (rc >= 0 && opts->max_time_s > 0) rc = nlopt_set_maxtime(opt, opts->max_time_s);
    if (rc >= 0 && algo == NLOPT_LD_LBFGS) rc = nlopt_set_vector_storage(opt, S_LBFGS_STORAGE);
    if (rc >= 0 && opts->n_ineq > 0) {
        tol = hone_alloc_array(opts->n_ineq, sizeof *tol);
        for (size_t i = 0; i < opts->n_ineq; i++)
            tol[i] = S_INEQ_TOL;
        rc = nlopt_add_inequality_mconstraint(opt, (unsigned) opts->n_ineq, s_ineq,
                                              (void *) opts, tol);
    }

    double f_last = HUGE_VAL;
    if (rc >= 0)
        rc = nlopt_optimize(opt, x, &f_last);

    int status;
    switch (rc) {
    case NLOPT_SUCCESS:
    case NLOPT_STOPVAL_REACHED:
    case NLOPT_FTOL_REACHED:
    case NLOPT_XTOL_REACHED:
    case NLOPT_MAXEVAL_REACHED:
    case NLOPT_MAXTIME_REACHED:
        status = HONE_OK;
        break;
    case NLOPT_ROUNDOFF_LIMITED:
        /* LBFGS's line search often gives up at the optimum: fine if we moved downhill. */
        status = ctx.best_f < ctx.first_f ? HONE_OK : HONE_ENUMERIC;
        break;
    case NLOPT_INVALID_ARGS:
        status = HONE_EINVAL;
        break;
    case NLOPT_OUT_OF_MEMORY:
        hone_panic(__FILE__, __LINE__, "nlopt: out of memory");
    default:   /* NLOPT_FAILURE, NLOPT_FORCED_STOP (non-finite values) */
        status = HONE_ENUMERIC;
        break;
    }
    if (ctx.converged)
        status = HONE_OK;
    if (ctx.nonfinite)
        status = HONE_ENUMERIC;

    if (ctx.best_f < HUGE_VAL) {
        memcpy(x, ctx.best_x, n * sizeof *x);
        if (f_out)
            *f_out = ctx.best_f;
    }
    else {
        /* Nothing finite and feasible was seen; x is NLopt's last point. */
        if (status == HONE_OK)
            status = HONE_ENUMERIC;
        if (f_out)
            *f_out = isfinite(f_last) ? f_last : HUGE_VAL;
    }
    if (n_eval_out)
        *n_eval_out = ctx.n_eval;

    hone_free(tol);
    hone_free(ctx.best_x);
    nlopt_destroy(opt);
    return status;
}

/* ---- Chebyshev center (SLSQP over (x, t)) ---- */

static double s_row_dot(const double *row, const double *x, size_t d)
{
    double s = 0.0;
    for (size_t a = 0; a < d; a++)
        s += row[a] * x[a];
    return s;
}

static double s_norm_row(const double *row, size_t d)
{
    return sqrt(s_row_dot(row, row, d));
}

static double s_cheb_objective(const double *x, double *grad, void *arg)
{
    size_t n = *(const size_t *) arg;
    if (grad) {
        memset(grad, 0, n * sizeof(double));
        grad[n] = -1.0;
    }
    return -x[n];
}

int hone_optim_chebyshev_center(size_t n, size_t rows, const double *A, const double *b, double *x_out)
{
    size_t all = rows + 2 * n;
    double *a = hone_alloc_array(all * (n + 1), sizeof(double));
    double *rhs = hone_alloc_array(all, sizeof(double));
    double *lower = hone_alloc_array(n + 1, sizeof(double));
    double *upper = hone_alloc_array(n + 1, sizeof(double));
    double *x = hone_alloc_array(n + 1, sizeof(double));
    double t0 = 0.5;
    size_t r = 0;
    int rc = HONE_OK;
    for (size_t i = 0; i < rows; i++) {
        const double *row = A + i * n;
        double norm = s_norm_row(row, n);
        if (norm == 0.0) {
            if (b[i] < 0.0)
                rc = HONE_EINVAL;
            continue;
        }
        double s = 0.0;
        for (size_t k = 0; k < n; k++) {
            a[r * (n + 1) + k] = row[k];
            s += row[k] * 0.5;
        }
        a[r * (n + 1) + n] = norm;
        rhs[r] = b[i];
        t0 = fmin(t0, (b[i] - s) / norm);
        r++;
    }
    for (size_t k = 0; k < n; k++) {   /* −x_k + t <= 0 and x_k + t <= 1 */
        a[r * (n + 1) + k] = -1.0;
        a[r * (n + 1) + n] = 1.0;
        rhs[r++] = 0.0;
        a[r * (n + 1) + k] = 1.0;
        a[r * (n + 1) + n] = 1.0;
        rhs[r++] = 1.0;
    }
    for (size_t k = 0; k < n; k++) {
        x[k] = 0.5;
        upper[k] = 1.0;
    }
    x[n] = t0;
    lower[n] = t0 - 1.0;
    upper[n] = 1.0;
    if (rc == HONE_OK) {
        hone_optim_options_t opt;
        hone_optim_options_init(&opt);
        opt.method = HONE_OPTIM_SLSQP;
        opt.max_eval = 500;
        opt.n_ineq = r;
        opt.ineq_a = a;
        opt.ineq_b = rhs;
        (void) hone_optim_minimize(s_cheb_objective, &n, n + 1, lower, upper, x, NULL, &opt,
                                   NULL);
        for (size_t k = 0; k < n; k++)
            x_out[k] = fmin(fmax(x[k], 0.0), 1.0);
        for (size_t i = 0; i < rows && rc == HONE_OK; i++)
            if (s_row_dot(A + i * n, x_out, n) > b[i] + S_CHEB_TOL)
                rc = HONE_EINVAL;
    }
    hone_free(a);
    hone_free(rhs);
    hone_free(lower);
    hone_free(upper);
    hone_free(x);
    return rc;
}
