/* kernel.c: the parts of the stationary kernels that do not depend on κ: scaled points,
 * squared distances through dsyrk/dgemm, and the lengthscale gradient traces. The κ
 * themselves live in kernel_rbf.c and kernel_matern.c. */
#include "kernel.h"

#include "linalg.h"

void hone_kernel_scale(size_t n, size_t d, const double *x, const double *inv_ls, double *u,
                       double *s)
{
    for (size_t i = 0; i < n; i++) {
        const double *xi = x + i * d;
        double *ui = u + i * d;
        double ss = 0.0;
        for (size_t a = 0; a < d; a++) {
            ui[a] = (xi[a] - 0.5) * inv_ls[a];
            ss += ui[a] * ui[a];
        }
        s[i] = ss;
    }
}

void hone_kernel_gram_r2(size_t n, size_t d, const double *u, const double *s, double *r2,
                         size_t ldr)
{
    /* Lower triangle of UᵀU, then r² = s_i + s_k − 2·G_ik in place. */
    hone_linalg_syrk(HONE_LINALG_TRANS, n, d, 1.0, u, d, 0.0, r2, ldr);
    for (size_t k = 0; k < n; k++) {
        double *col = r2 + k * ldr;
        double sk = s[k];
        col[k] = 0.0;
        for (size_t i = k + 1; i < n; i++) {
            double v = s[i] + sk - 2.0 * col[i];
            col[i] = v > 0.0 ? v : 0.0;
        }
    }
}

void hone_kernel_gram(const hone_kernel_type_t *type, size_t n, size_t d, const double *u,
                      const double *s, double *k, size_t ldk)
{
    hone_kernel_gram_r2(n, d, u, s, k, ldk);
    for (size_t j = 0; j < n; j++) {
        double *col = k + j * ldk;
        col[j] = 1.0;
        type->eval(n - j - 1, col + j + 1, col + j + 1);
    }
}

void hone_kernel_cross_r2(size_t n, size_t m, size_t d, const double *u, const double *s,
                          const double *v, const double *t, double *r2, size_t ldr)
{
    hone_linalg_gemm(HONE_LINALG_TRANS, HONE_LINALG_NOTRANS, n, m, d, 1.0, u, d, v, d, 0.0,
                     r2, ldr);
    for (size_t j = 0; j < m; j++) {
        double *col = r2 + j * ldr;
        double tj = t[j];
        for (size_t i = 0; i < n; i++) {
            double w = s[i] + tj - 2.0 * col[i];
            col[i] = w > 0.0 ? w : 0.0;
        }
    }
}

void hone_kernel_cross(const hone_kernel_type_t *type, size_t n, size_t m, size_t d,
                       const double *u, const double *s, const double *v, const double *t,
                       double *k, size_t ldk)
{
    hone_kernel_cross_r2(n, m, d, u, s, v, t, k, ldk);
    for (size_t j = 0; j < m; j++)
        type->eval(n, k + j * ldk, k + j * ldk);
}

void hone_kernel_lengthscale_grad(const hone_kernel_type_t *type, size_t n, size_t d,
                                  const double *u, const double *s, double *kf, size_t ldk,
                                  const double *alpha, const double *kinv, size_t ldkinv,
                                  double *rowsum, double *um, double *grad)
{
    if (!type->dfactor_is_k) {
        /* h needs r, which K alone does not give cheaply: recompute r² (one dsyrk). */
        hone_kernel_gram_r2(n, d, u, s, kf, ldk);
        for (size_t j = 0; j + 1 < n; j++) {
            double *col = kf + j * ldk + j + 1;
            type->dfactor(n - j - 1, col, NULL, col);
        }
    }
    for (size_t i = 0; i < n; i++)
        rowsum[i] = 0.0;
    for (size_t k = 0; k < n; k++) {
        double *mcol = kf + k * ldk;
        const double *icol = kinv + k * ldkinv;
        double ak = alpha[k];
        double acc = 0.0;
        mcol[k] = 0.0;
        for (size_t i = k + 1; i < n; i++) {
            double mik = (alpha[i] * ak - icol[i]) * mcol[i];
            mcol[i] = mik;
            rowsum[i] += mik;
            acc += mik;
        }
        rowsum[k] += acc;
    }
    /* um = U·M (d×n), M symmetric from its lower triangle. */
    hone_linalg_symm_right(d, n, 1.0, kf, ldk, u, d, 0.0, um, d);
    for (size_t a = 0; a < d; a++)
        grad[a] = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double *ui = u + i * d;
        const double *mi = um + i * d;
        for (size_t a = 0; a < d; a++)
            grad[a] += ui[a] * (ui[a] * rowsum[i] - mi[a]);
    }
}
