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

/* ---- "curve": a synthetic learning-curve family (issue 5's early-stopping benchmark) ----
 *
 * A trial with parameters x in [0, 1]^d (d >= 1) reports a loss (minimized) at
 * each integer progression p = 0, 1, ..., H = HONE_BENCH_CURVE_HORIZON (epochs):
 *
 *   value(p; x, seed) = final(x) + (S - final(x)) * g(p / tau(x)) + sigma * z(seed, p)
 *   g(u) = (exp(-u) - exp(-H / tau(x))) / (1 - exp(-H / tau(x)))
 *
 * so every curve starts at S = HONE_BENCH_CURVE_START at p = 0 and ends exactly at
 * final(x) at p = H (plus noise); g decays exponentially in between.
 *   final(x) = 0.1 + sum_i (x_i - c_i)^2,  c_i = (i + 1) / (d + 1)
 *   tau(x)   = 2 + 10 x_0  (epochs): the first parameter acts like a learning rate
 *              that is too low when large; a slow starter can still end well, so
 *              curves cross and stopping early is not free of risk.
 *   z(seed, p): a standard normal draw fixed by (seed, p) (splitmix64 + Box-Muller);
 *              sigma = HONE_BENCH_CURVE_NOISE. Use one seed per trial.
 * Optimum: final(x) has its minimum 0.1 at x = c (for d = 3, c = (0.25, 0.5, 0.75)).
 * Range of final over the cube: [0.1, 0.1 + sum_i max(c_i, 1 - c_i)^2] (d = 3: 1.475),
 * so "2 % of the range" is 0.0275 for d = 3. Progressions beyond H read as H. */
#include <stdint.h>

#define HONE_BENCH_CURVE_HORIZON 50
#define HONE_BENCH_CURVE_START 2.0
#define HONE_BENCH_CURVE_NOISE 0.01

double hone_bench_curve_final(const double *x, size_t d);     /* noise-free value at H */
double hone_bench_curve_tau(const double *x, size_t d);       /* decay constant, epochs */
/* Noise-free value at progression p (clamped to [0, H]). */
double hone_bench_curve_mean(const double *x, size_t d, int64_t progression);
/* The reported value at progression p for the trial with that seed: mean + noise. */
double hone_bench_curve(const double *x, size_t d, int64_t progression, uint64_t seed);
/* The largest value of final over [0, 1]^d (the range's upper end). */
double hone_bench_curve_worst(size_t d);

#endif
