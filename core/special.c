/* special.c: normal-distribution special functions in double precision.
 *
 * The formulas follow reference/bo-numerics.md §2.1 and §4; the tail expansions are the
 * classical ones for the Mills ratio R(x) = (1 − Φ(x))/φ(x) (Abramowitz & Stegun 7.1.23,
 * 26.2.12). Acklam's coefficients are his published rational approximation of Φ⁻¹
 * (relative error 1.15e-9 before refinement). */
#include "special.h"

#include <math.h>

#define S_INV_SQRT_2PI  0.39894228040143267793994605993438   /* 1/√(2π) */
#define S_LOG_SQRT_2PI  0.91893853320467274178032973640562   /* ½·log(2π) */
#define S_SQRT_PI_2     1.25331413731550025120788264240552   /* √(π/2) */
#define S_SQRT_HALF     0.70710678118654752440084436210485   /* √½ */
#define S_TWO_SQRT_PI   1.12837916709551257389615890312154   /* 2/√π */
#define S_INV_SQRT_PI   0.56418958354775628694807945156077   /* 1/√π */
#define S_SQRT_PI_HALF  0.88622692545275801364908374167057   /* √π/2 */
#define S_LN2           0.69314718055994530941723212145818

/* Depth of the even continued fraction of erfcx; 12 levels give < 1e-17 for x >= 4. */
#define S_ERFCX_CF_DEPTH 12

/* exp(x²) with x² split into hi + lo exactly (fma), so that the rounding of x², which
 * exp would amplify by x², does not enter. */
static double s_exp_sq(double x)
{
    double hi = x * x;
    double lo = fma(x, x, -hi);
    return exp(hi) * (1.0 + lo);
}

double hone_special_npdf(double z)
{
    return S_INV_SQRT_2PI * exp(-0.5 * z * z);
}

double hone_special_ncdf(double z)
{
    return 0.5 * erfc(-z * S_SQRT_HALF);
}

double hone_special_erfcx(double x)
{
    if (isnan(x))
        return x;
    if (x < 0.0) {
        if (x < -26.7)
            return INFINITY;
        return 2.0 * s_exp_sq(x) - hone_special_erfcx(-x);
    }
    if (x < 4.0)
        return s_exp_sq(x) * erfc(x);
    if (x < 5e7) {
        /* erfc(x) = exp(−x²)/√π · 2x / (2x² + 1 − 1·2/(2x² + 5 − 3·4/(2x² + 9 − …))),
         * evaluated from the bottom up. */
        double y = 2.0 * x * x;
        double t = y + 4.0 * S_ERFCX_CF_DEPTH + 1.0;
        for (int k = S_ERFCX_CF_DEPTH; k >= 1; k--)
            t = y + (4.0 * k - 3.0) - ((2.0 * k - 1.0) * (2.0 * k)) / t;
        return S_TWO_SQRT_PI * x / t;
    }
    /* 1/(x√π)·(1 − 1/(2x²) + …): the next term is below 1e-31 here. */
    return S_INV_SQRT_PI / x * (1.0 - 0.5 / x / x);
}

double hone_special_log_ndtr(double z)
{
    if (z > 0.0)
        return log1p(-0.5 * erfc(z * S_SQRT_HALF));
    if (z > -5.0)
        return log(0.5 * erfc(-z * S_SQRT_HALF));
    /* Φ(z) = ½·erfcx(−z/√2)·exp(−z²/2): the exponent stays in log space. */
    return log(0.5 * hone_special_erfcx(-z * S_SQRT_HALF)) - 0.5 * z * z;
}

double hone_special_log_h(double z, double *dlogh)
{
    double value, slope;
    if (isnan(z)) {
        value = slope = z;
    }
    else if (z > -1.0) {
        double cdf = hone_special_ncdf(z);
        double h = hone_special_npdf(z) + z * cdf;
        value = log(h);
        slope = cdf / h;
    }
    else if (z > -10.0) {
        /* h = φ·(1 − x·R) with x = −z and R = Φ(z)/φ(z) = √(π/2)·erfcx(x/√2). x·R lies in
         * (0.65, 1), so the subtraction is exact and the fma keeps the product exact:
         * the error is that of erfcx times x² at most. */
        double x = -z;
        double mills = S_SQRT_PI_2 * hone_special_erfcx(x * S_SQRT_HALF);
        double h_over_phi = fma(-x, mills, 1.0);
        value = -0.5 * x * x - S_LOG_SQRT_2PI + log(h_over_phi);
        slope = mills / h_over_phi;
    }
    else {
        /* h/φ = x⁻²·S with S = Σ_k (−1)^k (2k+1)!! x^(−2k) = 1 − 3/x² + 15/x⁴ − …, an
         * enveloping series: the error is below the first omitted term, and for x >= 10
         * the terms fall under 1e-17 before they start to grow (k ≈ x²/2). Then
         * d log h/dz = Φ/h = R/(h/φ) = x/S − 1/x, since x·R = 1 − S/x². */
        double x = -z;
        double r = 1.0 / (x * x);   /* 0 when x² overflows */
        double sum = 1.0, term = 1.0;
        for (int k = 1; k < 60; k++) {
            term *= -(2.0 * k + 1.0) * r;
            sum += term;
            if (fabs(term) < 1e-17 * sum)
                break;
        }
        value = -0.5 * x * x - S_LOG_SQRT_2PI - 2.0 * log(x) + log(sum);
        slope = x / sum - 1.0 / x;
    }
    if (dlogh)
        *dlogh = slope;
    return value;
}

double hone_special_log1mexp(double x)
{
    if (x > -S_LN2)
        return log(-expm1(x));   /* NaN for x > 0, −inf at 0 */
    return log1p(-exp(x));
}

double hone_special_log1pexp(double x)
{
    if (x <= -37.0)
        return exp(x);
    if (x <= 18.0)
        return log1p(exp(x));
    if (x <= 33.3)
        return x + exp(-x);
    return x;
}

double hone_special_logsumexp(size_t n, const double *x)
{
    if (n == 0)
        return -INFINITY;
    size_t imax = 0;
    for (size_t i = 0; i < n; i++) {
        if (isnan(x[i]))
            return x[i];
        if (x[i] > x[imax])
            imax = i;
    }
    double m = x[imax];
    if (isinf(m))
        return m;   /* all −inf, or some +inf */
    double rest = 0.0;   /* Σ exp(x_i − m) without the max's own 1, for log1p */
    for (size_t i = 0; i < n; i++)
        if (i != imax)
            rest += exp(x[i] - m);
    return m + log1p(rest);
}

/* Acklam's approximation of Φ⁻¹(p) for 0.02425 <= p <= 0.97575, as a function of
 * q = p − ½ (so that it stays relatively accurate for tiny q). */
static double s_acklam_central(double q)
{
    static const double a[6] = {
        -3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
        1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00,
    };
    static const double b[5] = {
        -5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
        6.680131188771972e+01, -1.328068155288572e+01,
    };
    double r = q * q;
    double num = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q;
    double den = ((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1.0;
    return num / den;
}

/* Acklam's approximation of Φ⁻¹(p) for 0 < p < 0.02425. */
static double s_acklam_lower(double p)
{
    static const double c[6] = {
        -7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
        -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00,
    };
    static const double d[4] = {
        7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00,
        3.754408661907416e+00,
    };
    double q = sqrt(-2.0 * log(p));
    double num = ((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5];
    double den = (((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1.0;
    return num / den;
}

/* φ(x)/Φ(x) without underflow in the left tail. */
static double s_inv_mills(double x)
{
    if (x <= -5.0)
        return 1.0 / (S_SQRT_PI_2 * hone_special_erfcx(-x * S_SQRT_HALF));
    return hone_special_npdf(x) / hone_special_ncdf(x);
}

/* Φ⁻¹(p) for 0 < p <= ½. */
static double s_ndtri_lower(double p)
{
    const double p_low = 0.02425;
    if (p >= p_low) {
        double q = p - 0.5;   /* exact for p >= ¼ */
        double x = s_acklam_central(q);
        /* Halley on Φ(x) − p: u = (Φ(x) − p)/φ(x), and Φ''/Φ' = −x. Near p = ½ the
         * residual comes from erf, so that it keeps its relative precision as x → 0. */
        double e = p >= 0.25 ? 0.5 * erf(x * S_SQRT_HALF) - q : hone_special_ncdf(x) - p;
        double u = e / hone_special_npdf(x);
        return x - u / (1.0 + 0.5 * x * u);
    }
    double x = s_acklam_lower(p);
    /* Halley on g(x) = log Φ(x) − log p, whose absolute error stays ~ε·|log p| where
     * Φ(x) − p would underflow: g' = m = φ/Φ, g'' = −m·(x + m). */
    double g = hone_special_log_ndtr(x) - log(p);
    double m = s_inv_mills(x);
    return x - 2.0 * g / (2.0 * m + g * (x + m));
}

double hone_special_ndtri(double p)
{
    if (!(p >= 0.0 && p <= 1.0))
        return NAN;
    if (p == 0.0)
        return -INFINITY;
    if (p == 1.0)
        return INFINITY;
    if (p > 0.5)
        return -s_ndtri_lower(1.0 - p);   /* 1 − p is exact for p >= ½ */
    return s_ndtri_lower(p);
}

double hone_special_erfinv(double y)
{
    if (!(y >= -1.0 && y <= 1.0))
        return NAN;
    double a = fabs(y);
    if (a >= 0.5) {
        /* erfinv(y) = −Φ⁻¹((1 − |y|)/2)/√2, with 1 − |y| exact. */
        double x = -hone_special_ndtri(0.5 * (1.0 - a)) * S_SQRT_HALF;
        return y < 0.0 ? -x : x;
    }
    if (a < 1e-8)
        return S_SQRT_PI_HALF * y;   /* the next term, π·y²/12, is below 1e-16 relative */
    /* Φ⁻¹(½ + y/2)/√2, then Halley on erf(x) − y (erf''/erf' = −2x). */
    double x = s_acklam_central(0.5 * y) * S_SQRT_HALF;
    double e = erf(x) - y;
    double slope = S_TWO_SQRT_PI * exp(-x * x);
    return x - e / (slope + x * e);
}

double hone_special_normal_from_uniform(double u)
{
    double v = 0.5 + (1.0 - 0x1.0p-52) * (u - 0.5);
    return hone_special_ndtri(v);
}

double hone_special_log_fatplus(double x, double tau, double *dx)
{
    double z = x / tau;
    double softplus = hone_special_log1pexp(z);
    double tail = 0.1 / (1.0 + z * z);
    double f = softplus + tail;
    if (dx) {
        double sigmoid = z >= 0.0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        double dtail = -0.2 * z * tail * tail / 0.01;   /* d/dz 0.1/(1+z²) = −0.2z/(1+z²)² */
        *dx = (sigmoid + dtail) / (f * tau);
    }
    return log(tau) + log(f);
}
