/* optim.h: local optimization with bounds (and linear inequality constraints), the sole
 * NLopt user (CONVENTIONS.md §22). Minimizes a smooth function with its gradient.
 *
 * Used by the GP fit (MAP over log-hyperparameters) and the acquisition optimizer.
 * Re-entrant: every call owns its NLopt object, so calls may run on several threads. */
#ifndef HONE_OPTIM_H
#define HONE_OPTIM_H

#include "err.h"

/* Objective: returns f(x) and, when grad is not NULL, writes ∇f(x) (n values).
 * A non-finite return value makes the optimizer stop (HONE_ENUMERIC). */
typedef double (hone_optim_fn)(const double *x, double *grad, void *arg);

typedef enum {
    HONE_OPTIM_LBFGS = 0,     /* NLopt LD_LBFGS: box bounds only */
    HONE_OPTIM_SLSQP = 1,     /* NLopt LD_SLSQP: box bounds + linear inequalities */
} hone_optim_method_t;

typedef struct hone_optim_options {
    hone_optim_method_t method;
    int max_eval;             /* > 0; e.g. 200 for acquisitions, 0 = 1000 */
    double ftol_rel;          /* 0 = 2.2e-9 (scipy's factr 1e7) */
    double xtol_rel;          /* 0 = off */
    double max_time_s;        /* 0 = no limit */
    /* Linear inequalities A·x <= b (SLSQP only): A is n_ineq × n, row-major. */
    size_t n_ineq;
    const double *ineq_a;
    const double *ineq_b;
    /* Added for the GP fit: stop (HONE_OK) once the projected gradient's largest entry
     * is <= pgtol, like scipy's L-BFGS-B pgtol (NLopt has no such test); box bounds only
     * (LBFGS). 0 = off (the default). */
    double pgtol;
} hone_optim_options_t;

/* Fills opts with the defaults above (LBFGS, max_eval 1000). */
void hone_optim_options_init(hone_optim_options_t *opts);

/* Minimizes fn over lower <= x <= upper starting from x (n values, updated in place to
 * the best point found; it is clamped into the box first). *f_out (nullable) receives
 * the best value. Returns HONE_OK when NLopt stopped for a normal reason (tolerance,
 * max_eval, max_time), HONE_ENUMERIC when it failed (roundoff limited, non-finite
 * values, bad gradient), HONE_EINVAL for bad arguments. Even on HONE_ENUMERIC, x holds
 * the best point seen. */
int hone_optim_minimize(hone_optim_fn *fn, void *arg, size_t n, const double *lower,
                        const double *upper, double *x, double *f_out,
                        const hone_optim_options_t *opts, int *n_eval_out);

/* A point deep inside the polytope {A·x <= b} ∩ [0,1]^n (A: rows × n, row-major): its
 * Chebyshev center, the center of the largest ball inside every half-space and the cube
 * (maximize t subject to a_iᵀx + t·‖a_i‖ <= b_i and t <= x_k <= 1 − t), by SLSQP over
 * (x, t) from the cube's center. Writes n values in [0, 1] to x_out. Returns HONE_OK
 * when x_out satisfies A·x <= b + 1e-8, HONE_EINVAL when the polytope is empty (or no
 * feasible point was found). Used for the interior point of the acquisition optimizer's
 * polytope sampler and for Ax's center node under parameter constraints. */
int hone_optim_chebyshev_center(size_t n, size_t rows, const double *A, const double *b, double *x_out);

#endif
