/* warp.h: output warping, the Yeo-Johnson power transform with its exponent fitted by
 * maximum likelihood (Yeo & Johnson 2000), applied to the objective before the GP fit of
 * a BO step.
 *
 * Why (a hone addition to Ax's transforms): a GP with a stationary kernel and Gaussian
 * noise models skewed objectives badly. Rosenbrock, losses, latencies and costs span
 * orders of magnitude, and after standardization the good region is a flat floor that the
 * model cannot resolve. A monotone power transform chosen to make the values as Gaussian
 * as possible keeps the ranking and spreads the good end (HEBO, Cowen-Rivers et al. 2022,
 * does the same). On hone's benchmarks it improves every problem: Rosenbrock-10's median
 * best by about 2× (bench/README.md).
 *
 * ψ_λ(z) = ((z + 1)^λ − 1)/λ          for z >= 0 (log(z + 1) at λ = 0),
 *        = −((1 − z)^(2−λ) − 1)/(2 − λ)  for z < 0  (−log(1 − z) at λ = 2),
 * on z = (y − mean)/sd, so that the fit does not depend on the units; λ maximizes the
 * profile log-likelihood −(n/2)·log σ̂²(ψ_λ(z)) + (λ − 1)·Σ sign(z_i)·log(1 + |z_i|) over
 * [HONE_WARP_LAMBDA_MIN, HONE_WARP_LAMBDA_MAX] by golden-section search. ψ is increasing
 * for every λ, so maximizing the warped values maximizes the original ones.
 * Pure functions; no allocation. */
#ifndef HONE_WARP_H
#define HONE_WARP_H

#include "hone_prelude.h"

#define HONE_WARP_LAMBDA_MIN (-2.0)
#define HONE_WARP_LAMBDA_MAX 4.0
#define HONE_WARP_MIN_POINTS 4      /* fewer points: the identity */

typedef struct hone_warp {
    double mean, sd;      /* the pre-standardization */
    double lambda;        /* the exponent; 1 with mean 0 and sd 1 is the identity */
} hone_warp_t;

/* The identity warp. */
hone_warp_t hone_warp_identity(void);
/* Fits the warp to n finite values (the identity for fewer than HONE_WARP_MIN_POINTS or
 * constant values). */
hone_warp_t hone_warp_fit(const double *y, size_t n);
/* ψ_λ((y − mean)/sd); *dy (nullable) receives its derivative in y (> 0), to carry
 * variances through (var' = dy²·var). */
double hone_warp_apply(const hone_warp_t *warp, double y, double *dy);

#endif
