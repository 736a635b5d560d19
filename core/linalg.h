/* linalg.h: dense linear algebra for the core, the sole LAPACKE/CBLAS user
 * (CONVENTIONS.md §21-22).
 *
 * Matrices are column-major: element (i, j) of a matrix with leading dimension ld is
 * a[i + j*ld], ld >= rows. Symmetric positive-definite matrices and their Cholesky
 * factors use the LOWER triangle (LAPACK uplo 'L'); the strict upper triangle of a
 * factor is left untouched unless stated. Sizes must fit in an int (LAPACK's index
 * type); larger sizes are a programming error and panic.
 *
 * Functions ending in _work take caller workspace and never allocate; the others may
 * allocate (abort on OOM, core policy). Errors: HONE_ENUMERIC when LAPACK reports a
 * matrix that is not (numerically) positive definite or singular. No function here
 * keeps state: every call is thread-safe on distinct data.
 *
 * The BLAS runs single-threaded (hone_linalg_setup): multi-threaded OpenBLAS sums in an
 * order that depends on the number of threads, so a seeded experiment would give other
 * trials on a machine with another core count; and at the sizes of a GP (n <= a few
 * thousand) the threads buy little. Parallelism comes from generating for several
 * experiments at once instead. */
#ifndef HONE_LINALG_H
#define HONE_LINALG_H

#include "err.h"

typedef enum { HONE_LINALG_NOTRANS = 0, HONE_LINALG_TRANS = 1 } hone_linalg_trans_t;

/* Makes the BLAS single-threaded, once per process (thread-safe; later calls are free).
 * Called by every model constructor (hone_gp_new). */
void hone_linalg_setup(void);

/* Number of jittered retries of the Cholesky decomposition: ε = 1e-8·10^i, i < 6. */
#define HONE_LINALG_JITTER_TRIES 6
#define HONE_LINALG_JITTER_START 1e-8

/* Cholesky decomposition A = L·Lᵀ of the lower triangle of the n×n matrix a (ld lda),
 * in place, with growing jitter: if dpotrf fails, the lower triangle is restored from
 * the copy kept in work and ε·I is added, ε = 1e-8, 1e-7, ..., 1e-3. *jitter_out
 * (nullable) receives the ε that succeeded (0 when none was needed).
 * work: n*n doubles (the copy of the lower triangle, ld n).
 * Returns HONE_OK, or HONE_ENUMERIC after the last try (a's lower triangle is then
 * restored to its input, and *jitter_out is the last ε tried). n = 0 is OK. */
int hone_linalg_chol_decomp_work(size_t n, double *a, size_t lda, double *work,
                                 double *jitter_out);
/* As above, allocating the copy. */
int hone_linalg_chol_decomp(size_t n, double *a, size_t lda, double *jitter_out);
/* Cholesky without jitter (one dpotrf). HONE_ENUMERIC if not positive definite. */
int hone_linalg_chol_decomp_nojitter(size_t n, double *a, size_t lda);

/* Solves (L·Lᵀ)·X = B in place for the n×nrhs matrix b (ld ldb), with L the factor
 * from chol_decomp (dpotrs). Cannot fail. */
void hone_linalg_chol_svx(size_t n, const double *l, size_t ldl, size_t nrhs, double *b,
                          size_t ldb);
/* Solves L·x = b (NOTRANS) or Lᵀ·x = b (TRANS) in place for one vector x of stride incx
 * (dtrsv, L lower, non-unit diagonal). Cannot fail. */
void hone_linalg_trsv(hone_linalg_trans_t trans, size_t n, const double *l, size_t ldl,
                      double *x, size_t incx);
/* Solves L·X = B (NOTRANS) or Lᵀ·X = B (TRANS) in place for the n×m matrix b
 * (dtrsm from the left, L lower, non-unit). Cannot fail. */
void hone_linalg_trsm(hone_linalg_trans_t trans, size_t n, const double *l, size_t ldl,
                      size_t m, double *b, size_t ldb);
/* K⁻¹ from its factor: inv (n×n, ld ldinv, may equal l with the same ld) receives the
 * FULL symmetric inverse (dpotri, then the lower triangle mirrored to the upper).
 * HONE_ENUMERIC if L has a zero on its diagonal. */
int hone_linalg_chol_inverse(size_t n, const double *l, size_t ldl, double *inv,
                             size_t ldinv);
/* As above, in place on the factor and lower triangle only (no mirroring): l receives
 * the lower triangle of K⁻¹. HONE_ENUMERIC if L has a zero on its diagonal. */
int hone_linalg_chol_inverse_lower(size_t n, double *l, size_t ldl);
/* log det(L·Lᵀ) = 2·Σ log L_ii. */
double hone_linalg_chol_logdet(size_t n, const double *l, size_t ldl);

/* Rank-1 append: L is the factor of an n×n matrix K stored with ldl >= n + 1. Given
 * k = K(X, x_new) (n values) and kappa = K(x_new, x_new) (including its noise), writes
 * row n of the factor of the (n+1)×(n+1) matrix: l = L⁻¹k in L[n + j*ldl], j < n, and
 * l_nn = sqrt(kappa − lᵀl) in L[n + n*ldl]. O(n²), no allocation.
 * Returns HONE_ENUMERIC (L's row n then undefined, rows < n untouched) when the
 * radicand is not finite or is <= min_pivot2 (a relative threshold is up to the caller:
 * e.g. 1e-10·kappa). */
int hone_linalg_chol_append(size_t n, double *l, size_t ldl, const double *k, double kappa,
                            double min_pivot2);

/* BLAS wrappers (column-major). */
double hone_linalg_dot(size_t n, const double *x, const double *y);
/* y = alpha·op(A)·x + beta·y, A m×n. */
void hone_linalg_gemv(hone_linalg_trans_t trans, size_t m, size_t n, double alpha,
                      const double *a, size_t lda, const double *x, double beta, double *y);
/* C = alpha·op(A)·op(B) + beta·C, C m×n, op(A) m×k. */
void hone_linalg_gemm(hone_linalg_trans_t ta, hone_linalg_trans_t tb, size_t m, size_t n,
                      size_t k, double alpha, const double *a, size_t lda, const double *b,
                      size_t ldb, double beta, double *c, size_t ldc);
/* Lower triangle of C = alpha·Aᵀ·A + beta·C (TRANS, A k×n) or alpha·A·Aᵀ + beta·C
 * (NOTRANS, A n×k); C n×n. */
void hone_linalg_syrk(hone_linalg_trans_t trans, size_t n, size_t k, double alpha,
                      const double *a, size_t lda, double beta, double *c, size_t ldc);
/* y = alpha·A·x + beta·y for the symmetric n×n A given by its lower triangle. */
void hone_linalg_symv(size_t n, double alpha, const double *a, size_t lda, const double *x,
                      double beta, double *y);
/* C = alpha·B·A + beta·C (B and C m×n, A n×n symmetric given by its lower triangle). */
void hone_linalg_symm_right(size_t m, size_t n, double alpha, const double *a, size_t lda,
                            const double *b, size_t ldb, double beta, double *c, size_t ldc);
/* Copies the lower triangle of the n×n matrix a to its upper triangle. */
void hone_linalg_mirror_lower(size_t n, double *a, size_t lda);

#endif
