/* warp.c: the Yeo-Johnson output warp (see warp.h). */
#include "warp.h"

#include <math.h>

#define S_GOLDEN 0.61803398874989484820
#define S_ITERATIONS 48                 /* the bracket shrinks to 6·0.618^48 ≈ 6e-10 */

hone_warp_t hone_warp_identity(void)
{
    return (hone_warp_t) { .mean = 0.0, .sd = 1.0, .lambda = 1.0 };
}

/* ψ_λ(z) and, when dz is not NULL, dψ/dz. */
static double s_psi(double z, double lambda, double *dz)
{
    if (z >= 0.0) {
        if (dz)
            *dz = pow(z + 1.0, lambda - 1.0);
        return fabs(lambda) < 1e-12 ? log1p(z) : expm1(lambda * log1p(z)) / lambda;
    }
    double mu = 2.0 - lambda;
    if (dz)
        *dz = pow(1.0 - z, mu - 1.0);
    return fabs(mu) < 1e-12 ? -log1p(-z) : -expm1(mu * log1p(-z)) / mu;
}

/* The profile log-likelihood of λ for the values z_i = (y_i − mean)/sd. */
static double s_loglik(const double *y, size_t n, double mean, double sd, double lambda)
{
    double sum = 0.0, sum2 = 0.0, jacobian = 0.0;
    for (size_t i = 0; i < n; i++) {
        double z = (y[i] - mean) / sd;
        double t = s_psi(z, lambda, NULL);
        sum += t;
        sum2 += t * t;
        jacobian += copysign(log1p(fabs(z)), z);
    }
    double var = sum2 / (double) n - (sum / (double) n) * (sum / (double) n);
    if (!(var > 0.0) || !isfinite(var))
        return -INFINITY;
    return -0.5 * (double) n * log(var) + (lambda - 1.0) * jacobian;
}

hone_warp_t hone_warp_fit(const double *y, size_t n)
{
    hone_warp_t warp = hone_warp_identity();
    if (n < HONE_WARP_MIN_POINTS)
        return warp;
    double mean = 0.0, ss = 0.0;
    for (size_t i = 0; i < n; i++)
        mean += y[i];
    mean /= (double) n;
    for (size_t i = 0; i < n; i++)
        ss += (y[i] - mean) * (y[i] - mean);
    double sd = sqrt(ss / (double) (n - 1));
    if (!(sd > 0.0) || !isfinite(sd))
        return warp;
    /* Golden-section search: the profile likelihood is unimodal in practice, and a
     * slightly suboptimal λ costs nothing but a slightly less Gaussian warp. */
    double a = HONE_WARP_LAMBDA_MIN, b = HONE_WARP_LAMBDA_MAX;
    double c = b - S_GOLDEN * (b - a), d = a + S_GOLDEN * (b - a);
    double fc = s_loglik(y, n, mean, sd, c), fd = s_loglik(y, n, mean, sd, d);
    for (int it = 0; it < S_ITERATIONS; it++) {
        if (fc > fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - S_GOLDEN * (b - a);
            fc = s_loglik(y, n, mean, sd, c);
        }
        else {
            a = c;
            c = d;
            fc = fd;
            d = a + S_GOLDEN * (b - a);
            fd = s_loglik(y, n, mean, sd, d);
        }
    }
    warp.mean = mean;
    warp.sd = sd;
    warp.lambda = 0.5 * (a + b);
    return warp;
}

double hone_warp_apply(const hone_warp_t *warp, double y, double *dy)
{
    double dz;
    double v = s_psi((y - warp->mean) / warp->sd, warp->lambda, dy ? &dz : NULL);
    if (dy)
        *dy = dz / warp->sd;
    return v;
}
