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

/* ---- Several goals: issue 6's multi-objective and outcome-constrained problems ----
 *
 * Each problem writes n_metrics values: its n_obj objectives first, every one
 * MINIMIZED, then its constraint metrics, each feasible when value <= bound (Ax's
 * outcome constraint "disc <= 50"). hone-eval prints them as one reading; hone-bench-hv
 * scores runs with them. Formulas, boxes and reference points are BoTorch's
 * (botorch/test_functions/multi_objective.py), in their minimization form
 * (negate=False): with negate=True BoTorch negates the reference point along with the
 * objectives, so volumes are the same. A point adds to the hypervolume only when it is
 * strictly below the reference point in every objective (core/pareto.h).
 *
 * "branincurrin" (BoTorch BraninCurrin), x in [0, 1]^2, 2 objectives:
 *   branin = Branin(15 x1 - 5, 15 x2), the Branin above on its usual box;
 *   currin = (1 - exp(-1 / (2 x2))) (2300 x1^3 + 1900 x1^2 + 2092 x1 + 60)
 *                                   / (100 x1^3 + 500 x1^2 + 4 x1 + 20),
 *            Currin et al.'s exponential function (1988; Surjanovic & Bingham's
 *            "curretal88exp"); at x2 = 0 the first factor is 1 (exp(-inf) = 0).
 *   Reference point (18, 6). Max hypervolume 59.4066 (to about 1e-4), computed here;
 *   BoTorch's _max_hv, 59.36011874867746 ("approximated using NSGA-II"), is 0.047
 *   short of it: dense grids already beat it (59.3817 on a 10001^2 grid of the box, a
 *   lower bound). The computation: for fixed x1, currin falls and Branin is a parabola
 *   in x2, so the front is min over x1 of currin along each Branin level set, branch
 *   x2 >= argmin, or on the edge x2 = 1 (for about 3/4 of the levels); integrating
 *   6 - currin over the Branin level from 0.397887 to 18 gives 59.40636, 59.40650,
 *   59.40655, 59.40656 as the grids in x1 and in the level are refined.
 * "dtlz2" (Deb, Thiele, Laumanns & Zitzler 2005; BoTorch DTLZ2(dim=6,
 *   num_objectives=3)), x in [0, 1]^6, 3 objectives, with g = sum_{i=3..6} (x_i - 0.5)^2:
 *   f1 = (1 + g) cos(x1 pi/2) cos(x2 pi/2)
 *   f2 = (1 + g) cos(x1 pi/2) sin(x2 pi/2)
 *   f3 = (1 + g) sin(x1 pi/2)
 *   The Pareto front is g = 0 (x3..x6 = 0.5), the positive part of the unit sphere
 *   (f1^2 + f2^2 + f3^2 = 1). Reference point (1.1, 1.1, 1.1); max hypervolume
 *   1.1^3 - pi/6 = 0.807401224401701 (the cube minus the sphere's positive octant,
 *   exact; BoTorch's _max_hv formula).
 * "branin_disc", single objective with an outcome constraint: Branin on its usual box
 *   (x1 in [-5, 10], x2 in [0, 15]) minimized subject to
 *   disc = (x1 - 2.5)^2 + (x2 - 7.5)^2 <= 50,
 *   the disc constraint of Gelbart, Snoek & Adams (UAI 2014) that BoTorch's
 *   ConstrainedBraninCurrin uses (as slack 50 - disc >= 0 on the unnormalized point).
 *   Of Branin's three global minima only (pi, 2.275) is feasible (disc 27.71; the
 *   others 54.63 and 73.20), so the constrained optimum is 0.397887357729739 there. The
 *   disc lies inside the box and covers pi 50 / 225 = 69.8% of it. */
#define HONE_BENCH_MOO_MAX_DIM 8
#define HONE_BENCH_MOO_MAX_METRICS 4

/* Writes the problem's metrics at x (d coordinates) to out. */
typedef void (hone_bench_multi_fn)(const double *x, size_t d, double *out);

typedef struct hone_bench_moo {
    const char *name;         /* "branincurrin", "dtlz2", "branin_disc" */
    const char *source;       /* where the definition comes from, one line */
    size_t dim;               /* coordinates x1..x<dim> */
    double lower[HONE_BENCH_MOO_MAX_DIM], upper[HONE_BENCH_MOO_MAX_DIM]; /* the box */
    size_t n_metrics;         /* values fn writes */
    const char *metrics[HONE_BENCH_MOO_MAX_METRICS]; /* their names (hone-eval's keys) */
    size_t n_obj;             /* the first n_obj metrics are objectives, all minimized */
    double ref[HONE_BENCH_MOO_MAX_METRICS];   /* n_obj >= 2: the reference point */
    double max_hv;            /* n_obj >= 2: the largest hypervolume over the box */
    double optimum;           /* n_obj == 1: the smallest feasible objective value */
    double bound[HONE_BENCH_MOO_MAX_METRICS]; /* metric j >= n_obj is feasible when <= bound[j] */
    hone_bench_multi_fn *fn;
} hone_bench_moo_t;

/* (branin, currin) at x in [0, 1]^2. */
void hone_bench_branincurrin(const double *x, size_t d, double *out);
/* DTLZ2 with m objectives in d > m coordinates (x in [0, 1]^d): out[0..m). */
void hone_bench_dtlz2(const double *x, size_t d, size_t m, double *out);
/* (branin, disc) at x on Branin's box. */
void hone_bench_branin_disc(const double *x, size_t d, double *out);

/* The several-goals problem called name, or NULL. */
const hone_bench_moo_t *hone_bench_moo_find(const char *name);
/* The i-th several-goals problem, or NULL when i is past the last (to list them). */
const hone_bench_moo_t *hone_bench_moo_at(size_t i);

#endif
