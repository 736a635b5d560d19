/* functions.h: the benchmark problems, with their domains and known optima.
 *
 * Formulas and optima from the Virtual Library of Simulation Experiments (Surjanovic &
 * Bingham, SFU) and the original papers; each function takes a point in its native
 * domain. Used by the demo, the example workers, the tests and the benchmarks. */
#ifndef HONE_BENCH_FUNCTIONS_H
#define HONE_BENCH_FUNCTIONS_H

#include <stddef.h>

typedef double (hone_bench_fn)(const double *x, size_t d);

typedef struct hone_bench_problem {
    const char *name;       /* "branin", "hartmann6", ... */
    size_t dim;             /* 0: any dimension (pass d) */
    double lower, upper;    /* box for every coordinate (branin: see functions.c) */
    double optimum;         /* known global minimum */
    hone_bench_fn *fn;
} hone_bench_problem_t;

double hone_bench_branin(const double *x, size_t d);      /* x1 in [-5,10], x2 in [0,15]; min 0.397887 */
double hone_bench_hartmann6(const double *x, size_t d);   /* [0,1]^6; min -3.32237 */
double hone_bench_ackley(const double *x, size_t d);      /* [-32.768,32.768]^d; min 0 */
double hone_bench_rosenbrock(const double *x, size_t d);  /* [-5,10]^d; min 0 */

/* The problem called name, or NULL. */
const hone_bench_problem_t *hone_bench_find(const char *name);

#endif
