/* linalg.c: thin wrappers over LAPACKE and CBLAS, column-major, lower triangles.
 * LAPACK's info > 0 (not positive definite, singular) becomes HONE_ENUMERIC here and
 * nowhere else (CONVENTIONS.md §12). */
#include "linalg.h"

#include <cblas.h>
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>

#include "alloc.h"

static pthread_once_t s_setup_once = PTHREAD_ONCE_INIT;

static void s_setup(void)
{
    openblas_set_num_threads(1);
}

void hone_linalg_setup(void)
{
    pthread_once(&s_setup_once, s_setup);
}

static inline int s_int(size_t n)
{
    HONE_ASSERT(n <= INT_MAX);
    return (int) n;
}

/* LAPACK wants ld >= 1 even for empty matrices. */
static inline int s_ld(size_t ld)
{
    return ld > 0 ? s_int(ld) : 1;
}

static inline enum CBLAS_TRANSPOSE s_trans(hone_linalg_trans_t t)
{
    return t == HONE_LINALG_TRANS ? CblasTrans : CblasNoTrans;
}

static void s_copy_lower(size_t n, const double *src, size_t lds, double *dst, size_t ldd)
{
    for (size_t j = 0; j < n; j++)
        memcpy(dst + j + j * ldd, src + j + j * lds, (n - j) * sizeof *dst);
}

int hone_linalg_chol_decomp_nojitter(size_t n, double *a, size_t lda)
{
    if (n == 0)
        return HONE_OK;
    lapack_int info = LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', s_int(n), a, s_ld(lda));
    HONE_ASSERT(info >= 0);
    return info == 0 ? HONE_OK : HONE_ENUMERIC;
}

int hone_linalg_chol_decomp_work(size_t n, double *a, size_t lda, double *work,
                                 double *jitter_out)
{
    if (jitter_out)
        *jitter_out = 0.0;
    if (n == 0)
        return HONE_OK;
    s_copy_lower(n, a, lda, work, n);
    if (hone_linalg_chol_decomp_nojitter(n, a, lda) == HONE_OK)
        return HONE_OK;
    double eps = HONE_LINALG_JITTER_START;
    for (int i = 0; i < HONE_LINALG_JITTER_TRIES; i++, eps *= 10.0) {
        s_copy_lower(n, work, n, a, lda);
        for (size_t j = 0; j < n; j++)
            a[j + j * lda] += eps;
        if (jitter_out)
            *jitter_out = eps;
        if (hone_linalg_chol_decomp_nojitter(n, a, lda) == HONE_OK)
            return HONE_OK;
    }
    s_copy_lower(n, work, n, a, lda);
    return HONE_ENUMERIC;
}

int hone_linalg_chol_decomp(size_t n, double *a, size_t lda, double *jitter_out)
{
    double *work = hone_alloc_array(n * n > 0 ? n * n : 1, sizeof *work);
    int rc = hone_linalg_chol_decomp_work(n, a, lda, work, jitter_out);
    hone_free(work);
    return rc;
}

void hone_linalg_chol_svx(size_t n, const double *l, size_t ldl, size_t nrhs, double *b,
                          size_t ldb)
{
    if (n == 0 || nrhs == 0)
        return;
    lapack_int info = LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', s_int(n), s_int(nrhs), l,
                                          s_ld(ldl), b, s_ld(ldb));
    HONE_ASSERT(info == 0);
}

void hone_linalg_trsv(hone_linalg_trans_t trans, size_t n, const double *l, size_t ldl,
                      double *x, size_t incx)
{
    if (n == 0)
        return;
    cblas_dtrsv(CblasColMajor, CblasLower, s_trans(trans), CblasNonUnit, s_int(n), l,
                s_ld(ldl), x, s_int(incx));
}

void hone_linalg_trsm(hone_linalg_trans_t trans, size_t n, const double *l, size_t ldl,
                      size_t m, double *b, size_t ldb)
{
    if (n == 0 || m == 0)
        return;
    cblas_dtrsm(CblasColMajor, CblasLeft, CblasLower, s_trans(trans), CblasNonUnit,
                s_int(n), s_int(m), 1.0, l, s_ld(ldl), b, s_ld(ldb));
}

void hone_linalg_mirror_lower(size_t n, double *a, size_t lda)
{
    /* Blocked so that both the reads (column j) and the writes (row j) stay in cache. */
    enum { B = 64 };
    for (size_t jb = 0; jb < n; jb += B) {
        size_t je = jb + B < n ? jb + B : n;
        for (size_t ib = jb; ib < n; ib += B) {
            size_t ie = ib + B < n ? ib + B : n;
            for (size_t j = jb; j < je; j++)
                for (size_t i = ib > j + 1 ? ib : j + 1; i < ie; i++)
                    a[j + i * lda] = a[i + j * lda];
        }
    }
}

int hone_linalg_chol_inverse(size_t n, const double *l, size_t ldl, double *inv,
                             size_t ldinv)
{
    if (n == 0)
        return HONE_OK;
    if (inv != l)
        s_copy_lower(n, l, ldl, inv, ldinv);
    else
        HONE_ASSERT(ldl == ldinv);
    lapack_int info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', s_int(n), inv, s_ld(ldinv));
    HONE_ASSERT(info >= 0);
    if (info > 0)
        return HONE_ENUMERIC;
    hone_linalg_mirror_lower(n, inv, ldinv);
    return HONE_OK;
}

int hone_linalg_chol_inverse_lower(size_t n, double *l, size_t ldl)
{
    if (n == 0)
        return HONE_OK;
    lapack_int info = LAPACKE_dpotri_work(LAPACK_COL_MAJOR, 'L', s_int(n), l, s_ld(ldl));
    HONE_ASSERT(info >= 0);
    return info == 0 ? HONE_OK : HONE_ENUMERIC;
}

double hone_linalg_chol_logdet(size_t n, const double *l, size_t ldl)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++)
        s += log(l[i + i * ldl]);
    return 2.0 * s;
}

int hone_linalg_chol_append(size_t n, double *l, size_t ldl, const double *k, double kappa,
                            double min_pivot2)
{
    HONE_ASSERT(ldl >= n + 1);
    /* Row n is solved in place with stride ldl: L·row = k. */
    double *row = l + n;
    for (size_t j = 0; j < n; j++)
        row[j * ldl] = k[j];
    hone_linalg_trsv(HONE_LINALG_NOTRANS, n, l, ldl, row, ldl);
    double ss = n > 0 ? cblas_ddot(s_int(n), row, s_int(ldl), row, s_int(ldl)) : 0.0;
    double rad = kappa - ss;
    if (!isfinite(rad) || !(rad > min_pivot2) || rad <= 0.0)
        return HONE_ENUMERIC;
    l[n + n * ldl] = sqrt(rad);
    return HONE_OK;
}

double hone_linalg_dot(size_t n, const double *x, const double *y)
{
    if (n == 0)
        return 0.0;
    return cblas_ddot(s_int(n), x, 1, y, 1);
}

void hone_linalg_gemv(hone_linalg_trans_t trans, size_t m, size_t n, double alpha,
                      const double *a, size_t lda, const double *x, double beta, double *y)
{
    size_t ny = trans == HONE_LINALG_TRANS ? n : m;
    if (ny == 0)
        return;
    if (m == 0 || n == 0) {
        for (size_t i = 0; i < ny; i++)
            y[i] = beta == 0.0 ? 0.0 : beta * y[i];
        return;
    }
    cblas_dgemv(CblasColMajor, s_trans(trans), s_int(m), s_int(n), alpha, a, s_ld(lda), x, 1,
                beta, y, 1);
}

void hone_linalg_gemm(hone_linalg_trans_t ta, hone_linalg_trans_t tb, size_t m, size_t n,
                      size_t k, double alpha, const double *a, size_t lda, const double *b,
                      size_t ldb, double beta, double *c, size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < m; i++)
                c[i + j * ldc] = beta == 0.0 ? 0.0 : beta * c[i + j * ldc];
        return;
    }
    cblas_dgemm(CblasColMajor, s_trans(ta), s_trans(tb), s_int(m), s_int(n), s_int(k), alpha,
                a, s_ld(lda), b, s_ld(ldb), beta, c, s_ld(ldc));
}

void hone_linalg_syrk(hone_linalg_trans_t trans, size_t n, size_t k, double alpha,
                      const double *a, size_t lda, double beta, double *c, size_t ldc)
{
    if (n == 0)
        return;
    if (k == 0) {
        for (size_t j = 0; j < n; j++)
            for (size_t i = j; i < n; i++)
                c[i + j * ldc] = beta == 0.0 ? 0.0 : beta * c[i + j * ldc];
        return;
    }
    cblas_dsyrk(CblasColMajor, CblasLower, s_trans(trans), s_int(n), s_int(k), alpha, a,
                s_ld(lda), beta, c, s_ld(ldc));
}

void hone_linalg_symv(size_t n, double alpha, const double *a, size_t lda, const double *x,
                      double beta, double *y)
{
    if (n == 0)
        return;
    cblas_dsymv(CblasColMajor, CblasLower, s_int(n), alpha, a, s_ld(lda), x, 1, beta, y, 1);
}

void hone_linalg_symm_right(size_t m, size_t n, double alpha, const double *a, size_t lda,
                            const double *b, size_t ldb, double beta, double *c, size_t ldc)
{
    if (m == 0 || n == 0)
        return;
    cblas_dsymm(CblasColMajor, CblasRight, CblasLower, s_int(m), s_int(n), alpha, a,
                s_ld(lda), b, s_ld(ldb), beta, c, s_ld(ldc));
}
