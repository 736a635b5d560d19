/* functions.h: the benchmark problems, with their domains and known optima.
 *
 * Formulas and optima from the Virtual Library of Simulation Experiments (Surjanovic &
 * Bingham, SFU) and the original papers; each function takes a point in its native
 * domain. Used by the demo, the example workers, the tests and the benchmarks. */
#ifndef HONE_BENCH_FUNCTIONS_H
#define HONE_BENCH_FUNCTIONS_H

#include <stddef.h>

typedef double (hone_bench_fn)(const double *x, size_t d);
/* How far x is from satisfying the problem's parameter constraint: <= 0 when it does. */
typedef double (hone_bench_violation_fn)(const double *x, size_t d);

typedef struct hone_bench_problem {
    const char *name;       /* "branin", "hartmann6", ... */
    size_t dim;             /* 0: any dimension (pass d) */
    double lower, upper;    /* box for every coordinate (branin: see functions.c; training: none) */
    double optimum;         /* known global minimum (within the constraints, if any) */
    hone_bench_fn *fn;
    const char *constraint; /* Ax's parameter constraint ("x1 + x2 <= 5"), or NULL */
    hone_bench_violation_fn *violation; /* lhs - rhs of it; NULL when unconstrained */
} hone_bench_problem_t;

double hone_bench_branin(const double *x, size_t d);      /* x1 in [-5,10], x2 in [0,15]; min 0.397887 */
double hone_bench_hartmann6(const double *x, size_t d);   /* [0,1]^6; min -3.32237 */
double hone_bench_ackley(const double *x, size_t d);      /* [-32.768,32.768]^d; min 0 */
double hone_bench_rosenbrock(const double *x, size_t d);  /* [-5,10]^d; min 0 */

/* "training": a synthetic training loss over mixed parameters, with an exact optimum.
 * x = (learning_rate in [1e-5, 1e-1] (log scale), layers in 1..8 (int), dropout in
 * [0, 0.5], optimizer index (0 adam, 1 sgd, 2 rmsprop; unordered)). Each optimizer has
 * its own best learning rate (which moves with depth) and width; sgd is best but
 * narrow. min 0.1 at (10^-1.5, 5, 0.25, sgd). NAN for an optimizer index out of range. */
double hone_bench_training(const double *x, size_t d);
/* Index of a "training" optimizer name ("adam" 0, "sgd" 1, "rmsprop" 2), or -1. */
int hone_bench_training_optimizer(const char *name);
#define HONE_BENCH_TRAINING_OPTIMIZERS 3
extern const char *const hone_bench_training_optimizer_names[HONE_BENCH_TRAINING_OPTIMIZERS];

/* "branin_constrained": Branin under x1 + x2 <= 5, which cuts off all three of its
 * global minima; the constrained minimum 0.569739742891345 lies on the constraint, at
 * x = (3.12308543469352, 1.87691456530648) (1-d minimization along x1 + x2 = 5 to
 * 1e-14 in x1, and a 3001^2 grid over the feasible box confirming that no interior
 * point is lower). About 22% of the box is feasible. */
double hone_bench_branin_violation(const double *x, size_t d);   /* x1 + x2 - 5 */

/* The problem called name, or NULL. */
const hone_bench_problem_t *hone_bench_find(const char *name);

#endif
