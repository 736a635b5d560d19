/* kernel_rbf.c: the squared-exponential kernel κ(r²) = exp(−r²/2), h = κ. */
#include "kernel.h"

#include <math.h>

static void s_rbf_eval(size_t n, const double *r2, double *k)
{
    for (size_t i = 0; i < n; i++)
        k[i] = exp(-0.5 * r2[i]);
}

static void s_rbf_dfactor(size_t n, const double *r2, const double *k, double *h)
{
    if (k) {
        if (h != k)
            memmove(h, k, n * sizeof *h);
    }
    else
        s_rbf_eval(n, r2, h);
}

const hone_kernel_type_t hone_kernel_rbf = {
    .name = "rbf",
    .eval = s_rbf_eval,
    .dfactor = s_rbf_dfactor,
    .dfactor_is_k = true,
};
