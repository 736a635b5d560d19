/* special.h: special functions for the acquisition code (reference/bo-numerics.md §2.1,
 * §4): the standard normal pdf and cdf, log Φ accurate far into the left tail, the
 * scaled complementary error function erfcx, LogEI's log h(z) = log(φ(z) + zΦ(z)) with
 * its derivative, log1mexp/log1pexp/logsumexp, and the inverse normal cdf and erfinv
 * used to map Sobol uniforms to normals.
 *
 * Every function is pure, thread-safe, allocation-free and cannot fail: out-of-domain
 * arguments give NaN, NaN gives NaN, and infinities give the mathematical limit.
 * Accuracy: a few ulps unless stated otherwise (tests/core/test_special.c checks each
 * against values computed with mpmath at 80 to 600 digits). */
#ifndef HONE_SPECIAL_H
#define HONE_SPECIAL_H

#include "hone_prelude.h"

#include <math.h>

/* φ(z) = exp(−z²/2)/√(2π). */
double hone_special_npdf(double z);
/* Φ(z) = ½·erfc(−z/√2), relatively accurate in the left tail (down to the underflow
 * of doubles, z ≈ −38). */
double hone_special_ncdf(double z);
/* log Φ(z): accurate for every z; about −z²/2 − log(−z) − ½log(2π) for z → −∞, finite
 * while z² is (|z| < 1.3e154), −inf beyond. */
double hone_special_log_ndtr(double z);
/* erfcx(x) = exp(x²)·erfc(x): exp(x²)·erfc(x) with x² split exactly for x < 4, a
 * continued fraction for 4 <= x < 5e7, the asymptotic 1/(x√π)·(1 − 1/(2x²)) beyond;
 * for x < 0, 2·exp(x²) − erfcx(−x) (+inf below x ≈ −26.6). */
double hone_special_erfcx(double x);

/* log h(z), h(z) = φ(z) + z·Φ(z) (expected improvement divided by σ, for z = (μ − f*)/σ).
 * When dlogh is not NULL it receives d log h/dz = Φ(z)/h(z) (> 0).
 *   z > −1:        direct;
 *   −10 < z <= −1: log φ(z) + log(1 − |z|·R(z)) with the Mills ratio R = Φ/φ from erfcx;
 *   z <= −10:      the asymptotic series log φ(z) − 2 log|z| + log(1 − 3/z² + 15/z⁴ − …),
 *                  summed to double precision.
 * Relative error of the value and the derivative within a few 1e-15 in the tests; the
 * middle branch's bound is erfcx's error times z² (< 1e-13 near z = −10). Monotone
 * increasing, finite while z² is (|z| < 1.3e154; −inf beyond). */
double hone_special_log_h(double z, double *dlogh);

/* log(1 − exp(x)) for x <= 0 (Mächler): log(−expm1(x)) for x > −ln 2, else
 * log1p(−exp(x)). −inf at 0, NaN for x > 0. */
double hone_special_log1mexp(double x);
/* log(1 + exp(x)) (softplus), without overflow or loss of the small-x tail. */
double hone_special_log1pexp(double x);
/* log Σ exp(x_i) over n values with a max shift; −inf for n = 0 or all −inf, +inf if
 * any is +inf, NaN if any is NaN. */
double hone_special_logsumexp(size_t n, const double *x);

/* Φ⁻¹(p): Acklam's rational approximation refined by one Halley step (in log space in
 * the tails), so accurate to a few ulps; uses 1 − p for p > ½ so that the upper tail
 * keeps its precision. ±inf at 1 and 0, NaN outside [0, 1]. */
double hone_special_ndtri(double p);
/* erfinv(y) for y in [−1, 1]: through Φ⁻¹ for |y| >= ½ (with 1 − |y|, exact there),
 * Halley on erf below (relatively accurate down to subnormal y). */
double hone_special_erfinv(double y);
/* A standard normal from a uniform u in [0, 1] as BoTorch maps its Sobol base samples:
 * v = ½ + (1 − 2⁻⁵²)(u − ½), z = √2·erfinv(2v − 1), computed as Φ⁻¹(v) (the same number
 * with better tail precision); finite for every u in [0, 1]. */
double hone_special_normal_from_uniform(double u);

/* log fatplus(x; τ), BoTorch's fat-tailed smooth ReLU (safe_math.py, bo-numerics §2.2):
 *     fatplus(x; τ) = τ·[softplus(x/τ) + 0.1/(1 + (x/τ)²)],
 * which is ≈ x for x >> τ and decays like 0.1·τ³/x² (not exponentially) for x << −τ, so
 * that log fatplus and its gradient stay informative far below zero. When dx is not NULL
 * it receives d/dx log fatplus(x; τ). τ > 0. */
double hone_special_log_fatplus(double x, double tau, double *dx);
/* fatplus(x; τ) itself, and its derivative in dx (nullable), in linear space: for
 * |x| > 40τ the softplus term is x or below 1e-17 of the tail and is skipped, so that
 * most calls cost a division (qLogNEI evaluates it for every sample of every candidate).
 * Underflows to 0 only for x below about −1e145·τ^1.5. Inline: it is in the innermost
 * loop of qLogNEI. */
static inline double hone_special_fatplus(double x, double tau, double *dx)
{
    double z = x / tau;
    double tail = 0.1 / (1.0 + z * z);
    double dtail = -20.0 * z * tail * tail;   /* d/dz 0.1/(1+z²) = −0.2z/(1+z²)² */
    if (z > 40.0) {
        if (dx)
            *dx = 1.0 + dtail;
        return x + tau * tail;
    }
    if (z < -40.0) {
        if (dx)
            *dx = dtail;
        return tau * tail;
    }
    if (dx)
        *dx = (z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z))) + dtail;
    return tau * (log1p(exp(z)) + tail);
}

#endif
