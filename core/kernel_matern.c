/* kernel_matern.c: Matern-5/2, κ(r²) = (1 + √5·r + 5r²/3)·e^(−√5·r), and
 * h = −2·κ′(r²) = (5/3)·(1 + √5·r)·e^(−√5·r) (reference/bo-numerics.md §1.3). */
#include "kernel.h"

#include <math.h>

#define S_SQRT5 2.23606797749978969641

static void s_matern_eval(size_t n, const double *r2, double *k)
{
    for (size_t i = 0; i < n; i++) {
        double r = sqrt(r2[i]), q = r2[i];
        k[i] = (1.0 + S_SQRT5 * r + (5.0 / 3.0) * q) * exp(-S_SQRT5 * r);
    }
}

static void s_matern_dfactor(size_t n, const double *r2, const double *k, double *h)
{
    for (size_t i = 0; i < n; i++) {
        double r = sqrt(r2[i]);
        double poly = 1.0 + S_SQRT5 * r;
        if (k)   /* e^(−√5 r) = κ / (1 + √5 r + 5r²/3), without a second exp */
            h[i] = (5.0 / 3.0) * poly * k[i] / (poly + (5.0 / 3.0) * r2[i]);
        else
            h[i] = (5.0 / 3.0) * poly * exp(-S_SQRT5 * r);
    }
}

const hone_kernel_type_t hone_kernel_matern52 = {
    .name = "matern52",
    .eval = s_matern_eval,
    .dfactor = s_matern_dfactor,
    .dfactor_is_k = false,
};
