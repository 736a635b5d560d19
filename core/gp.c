/* gp.c: the Gaussian-process model: data, the MAP objective and its gradient, the
 * factorization used for prediction, prediction and rank-1 appends
 * (reference/bo-numerics.md §1). The fit itself is in gp_fit.c.
 *
 * Hyperparameters are φ = (log ℓ_1..d, log σ², c). Points are rows of d doubles; inside,
 * the scaled points u = (x − 0.5)/ℓ are d×n column-major and matrices are column-major.
 * Two sets of buffers: the factorization for prediction (L with leading dimension n_cap,
 * so that appends need no copy), and the evaluation workspace of the MAP objective
 * (packed with ld n, allocated on first use and released after a fit).
 *
 * Memory (the n² buffers dominate: 8 MB each at n = 1000): L is n_cap² and grows by a
 * small step (s_reserve), re-laid out in place; the factorization keeps no copy of K for
 * its jitter retries but rebuilds K instead (O(n²d), cheaper than the failed dpotrf); a
 * prediction workspace's k block is at most S_WORK_CELLS doubles (2 MB), larger batches
 * going through in chunks. So a model between fits holds about one n² buffer, and a fit
 * two (K⁻¹ in L's buffer and the objective's kcopy). */
#include "gp.h"

#include <math.h>

#include "alloc.h"
#include "gp_internal.h"
#include "kernel.h"
#include "linalg.h"

#define S_LOG_2PI 1.83787706640934548356
#define S_MIN_VAR 1e-10           /* posterior variance floor (GPyTorch, float64) */
#define S_APPEND_MIN_PIVOT 1e-10  /* relative: below it, append refactorizes */
/* Doubles of a prediction workspace's k block (2 MB): a batch of m points needs n·m of
 * them, and larger batches are cut into chunks of that size. At n = 1000 that is 262
 * points per dtrsm, as fast per point as 1024, while a block of n × 1024 would be 8 MB. */
#define S_WORK_CELLS ((size_t) 1 << 18)

/* The objective's workspace, packed (ld n). */
typedef struct {
    size_t cap;          /* points it can hold */
    double *kcopy;       /* n×n: copy of K for the jitter retries, then M (kernel.h) */
    double *u;           /* d×n scaled points */
    double *s;           /* n: |u_i|² */
    double *r;           /* n: y − c */
    double *alpha;       /* n: K⁻¹r */
    double *rowsum;      /* n: row sums of M */
    double *um;          /* d×n: U·M */
    double *inv_ls;      /* d */
} s_eval_ws_t;

struct _hone_gp_t {
    size_t d;                          /* input dimension */
    const hone_kernel_type_t *kernel;  /* κ */
    size_t n;                          /* training points */
    size_t n_cap;                      /* capacity of the per-point buffers below */
    double *x;                         /* n_cap×d, rows */
    double *y;                         /* n_cap standardized targets */
    double *yvar;                      /* n_cap noise variances (fixed-noise case) */
    bool fixed_noise;                  /* yvar given: D = diag(yvar), no noise parameter */
    double *phi;                       /* d + 2 hyperparameters */
    bool factorized;                   /* l, alpha, u, s, inv_ls match x, y and phi */
    double *l;                         /* n_cap×n_cap, ld n_cap: Cholesky factor of K */
    double *alpha;                     /* n_cap: K⁻¹(y − c) */
    double *u;                         /* d×n_cap: scaled training points */
    double *s;                         /* n_cap: |u_i|² */
    double *inv_ls;                    /* d: 1/ℓ of the factorization */
    double *tmp;                       /* n_cap scratch (append) */
    double jitter;                     /* jitter of the last factorization */
    size_t n_factored;                 /* points of the last full factorization (refresh) */
    s_eval_ws_t ws;                    /* objective workspace (may be unallocated) */
    uint64_t n_evals;                  /* calls of log_posterior (diagnostics) */
};

struct _hone_gp_work_t {
    size_t d;            /* model dimension */
    size_t n_cap;        /* training points the n-vectors below can serve */
    size_t max_batch;    /* points per predict call */
    size_t ks_cells;     /* doubles in ks: a prediction handles ks_cells / n points at a time */
    double *ks;          /* n×chunk, ld n: K(X, Z), then L⁻¹K(X, Z) */
    double *v;           /* d×max_batch scaled query points */
    double *t;           /* max_batch norms */
    double *r2;          /* n_cap (predict_grad) */
    double *h;           /* n_cap: −2κ′ */
    double *b;           /* n_cap: L⁻¹k, then K⁻¹k */
    double *c;           /* 2·n_cap: α∘h and b∘h */
    double *g;           /* 2·d: U·c */
};

/* ---------------------------------------------------------------- priors */

double hone_gp_prior_ls_mu(size_t d)
{
    return sqrt(2.0) + 0.5 * log((double) d);
}

/* log density of a LogNormal(mu, sigma) in θ-space at θ = e^phi, without Jacobian, and
 * its derivative in phi. */
static double s_lognormal(double phi, double mu, double sigma, double *dphi)
{
    double z = (phi - mu) / sigma;
    *dphi = -1.0 - z / sigma;
    return -phi - log(sigma) - 0.5 * S_LOG_2PI - 0.5 * z * z;
}

void hone_gp_prior_mode(const hone_gp_t *self, double *phi)
{
    size_t d = self->d;
    double mu = hone_gp_prior_ls_mu(d);
    for (size_t a = 0; a < d; a++)
        phi[a] = mu - HONE_GP_LS_SIGMA * HONE_GP_LS_SIGMA;
    phi[d] = HONE_GP_NOISE_MU - HONE_GP_NOISE_SIGMA * HONE_GP_NOISE_SIGMA;
    phi[d + 1] = 0.0;
}

void hone_gp_bounds(const hone_gp_t *self, double *lower, double *upper)
{
    size_t d = self->d;
    for (size_t a = 0; a < d; a++) {
        lower[a] = log(HONE_GP_LS_MIN);
        upper[a] = log(HONE_GP_LS_MAX);
    }
    if (self->fixed_noise) {
        lower[d] = upper[d] = self->phi[d];
    }
    else {
        lower[d] = log(HONE_GP_NOISE_MIN);
        upper[d] = log(HONE_GP_NOISE_MAX);
    }
    lower[d + 1] = -HONE_GP_MEAN_MAX;
    upper[d + 1] = HONE_GP_MEAN_MAX;
}

/* ---------------------------------------------------------------- lifecycle */

void hone_gp_fit_options_init(hone_gp_fit_options_t *opts)
{
    HONE_ASSERT(opts);
    memset(opts, 0, sizeof *opts);
    opts->warm_start = true;
}

hone_gp_t *hone_gp_new(size_t d, hone_kernel_kind_t kernel)
{
    if (d == 0 || (kernel != HONE_KERNEL_RBF && kernel != HONE_KERNEL_MATERN52))
        return NULL;
    hone_linalg_setup();
    hone_gp_t *self = hone_alloc(sizeof *self);
    self->d = d;
    self->kernel = kernel == HONE_KERNEL_RBF ? &hone_kernel_rbf : &hone_kernel_matern52;
    self->phi = hone_alloc_array(d + 2, sizeof(double));
    self->inv_ls = hone_alloc_array(d, sizeof(double));
    hone_gp_prior_mode(self, self->phi);
    self->factorized = true;   /* the empty model is its prior */
    for (size_t a = 0; a < d; a++)
        self->inv_ls[a] = exp(-self->phi[a]);
    return self;
}

void hone_gp_release_workspace(hone_gp_t *self)
{
    s_eval_ws_t *ws = &self->ws;
    hone_free(ws->kcopy);
    hone_free(ws->u);
    hone_free(ws->s);
    hone_free(ws->r);
    hone_free(ws->alpha);
    hone_free(ws->rowsum);
    hone_free(ws->um);
    hone_free(ws->inv_ls);
    memset(ws, 0, sizeof *ws);
}

void hone_gp_destroy(hone_gp_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_gp_t *self = *self_p;
    if (!self)
        return;
    hone_gp_release_workspace(self);
    hone_free(self->x);
    hone_free(self->y);
    hone_free(self->yvar);
    hone_free(self->phi);
    hone_free(self->l);
    hone_free(self->alpha);
    hone_free(self->u);
    hone_free(self->s);
    hone_free(self->inv_ls);
    hone_free(self->tmp);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_gp_dim(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->d;
}

size_t hone_gp_size(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->n;
}

size_t hone_gp_n_phi(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->d + 2;
}

double hone_gp_jitter(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->jitter;
}

uint64_t hone_gp_eval_count(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->n_evals;
}

bool hone_gp_fixed_noise(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->fixed_noise;
}

/* Grows the per-point buffers to hold at least n points. With keep, the first self->n
 * points and the factor stay (L re-laid out in place to the new leading dimension);
 * without, only the buffers are made (set_data replaces everything), so that the old
 * and the new L never coexist. */
static void s_reserve(hone_gp_t *self, size_t n, bool keep)
{
    if (n <= self->n_cap)
        return;
    /* Grow by a 32nd (at least 32 points): L is n_cap² doubles and the largest buffer of
     * the model, so slack costs memory twice over (a geometric factor of 2 would make
     * it 4× the factor itself), while re-laying out L, one O(n²) pass per 3% of growth,
     * costs less than the appends that cause it. */
    size_t step = self->n_cap / 32 > 32 ? self->n_cap / 32 : 32;
    size_t cap = self->n_cap + step;
    if (cap < n)
        cap = n;
    size_t d = self->d, old = self->n_cap;
    self->x = hone_realloc_array(self->x, cap * d, sizeof(double));
    self->y = hone_realloc_array(self->y, cap, sizeof(double));
    self->yvar = hone_realloc_array(self->yvar, cap, sizeof(double));
    self->alpha = hone_realloc_array(self->alpha, cap, sizeof(double));
    self->u = hone_realloc_array(self->u, cap * d, sizeof(double));
    self->s = hone_realloc_array(self->s, cap, sizeof(double));
    self->tmp = hone_realloc_array(self->tmp, cap, sizeof(double));
    if (keep && self->factorized && self->n > 0) {
        /* Columns move from j·old to j·cap, last first: column j's destination lies past
         * the sources of every column before it (j·cap >= j·old >= (j−1)·old + n). Only
         * the lower triangle is moved. */
        self->l = hone_realloc_array(self->l, cap * cap, sizeof(double));
        for (size_t j = self->n; j-- > 1;)
            memmove(self->l + j + j * cap, self->l + j + j * old, (self->n - j) * sizeof(double));
    }
    else {
        hone_free(self->l);
        self->l = hone_alloc_array(cap * cap, sizeof(double));
        self->factorized = self->factorized && self->n == 0;
    }
    self->n_cap = cap;
}

static bool s_finite(size_t n, const double *v)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return false;
    return true;
}

int hone_gp_set_data(hone_gp_t *self, size_t n, const double *x, const double *y,
                     const double *yvar)
{
    HONE_ASSERT(self);
    size_t d = self->d;
    if (n > 0 && (!x || !y))
        return HONE_EINVAL;
    if (n > 0 && (!s_finite(n * d, x) || !s_finite(n, y)))
        return HONE_EINVAL;
    if (yvar) {
        for (size_t i = 0; i < n; i++)
            if (!(yvar[i] >= 0.0) || !isfinite(yvar[i]))
                return HONE_EINVAL;
    }
    s_reserve(self, n, false);
    if (n > 0) {
        memcpy(self->x, x, n * d * sizeof *x);
        memcpy(self->y, y, n * sizeof *y);
    }
    self->fixed_noise = yvar != NULL;
    for (size_t i = 0; i < n; i++)
        self->yvar[i] = yvar ? yvar[i] : 0.0;
    self->n = n;
    self->factorized = false;
    return HONE_OK;
}

void hone_gp_get_params(const hone_gp_t *self, double *lengthscales, double *noise,
                        double *mean)
{
    HONE_ASSERT(self);
    size_t d = self->d;
    if (lengthscales)
        for (size_t a = 0; a < d; a++)
            lengthscales[a] = exp(self->phi[a]);
    if (noise)
        *noise = exp(self->phi[d]);
    if (mean)
        *mean = self->phi[d + 1];
}

void hone_gp_set_params(hone_gp_t *self, const double *lengthscales, double noise, double mean)
{
    HONE_ASSERT(self && lengthscales);
    size_t d = self->d;
    for (size_t a = 0; a < d; a++) {
        HONE_ASSERT(lengthscales[a] > 0.0);
        self->phi[a] = log(lengthscales[a]);
    }
    /* The noise parameter is unused with fixed noise: a 0 there keeps the current one. */
    HONE_ASSERT(noise > 0.0 || (self->fixed_noise && noise == 0.0));
    if (noise > 0.0)
        self->phi[d] = log(noise);
    self->phi[d + 1] = mean;
    self->factorized = false;
}

void hone_gp_get_phi(const hone_gp_t *self, double *phi)
{
    memcpy(phi, self->phi, (self->d + 2) * sizeof *phi);
}

void hone_gp_set_phi(hone_gp_t *self, const double *phi)
{
    memcpy(self->phi, phi, (self->d + 2) * sizeof *phi);
    self->factorized = false;
}

/* ---------------------------------------------------------------- MAP objective */

static void s_ws_reserve(hone_gp_t *self)
{
    s_eval_ws_t *ws = &self->ws;
    size_t n = self->n, d = self->d;
    if (ws->inv_ls && ws->cap >= n)
        return;
    hone_gp_release_workspace(self);
    size_t cap = n > 0 ? n : 1;
    ws->cap = cap;
    ws->kcopy = hone_alloc_array(cap * cap, sizeof(double));
    ws->u = hone_alloc_array(cap * d, sizeof(double));
    ws->s = hone_alloc_array(cap, sizeof(double));
    ws->r = hone_alloc_array(cap, sizeof(double));
    ws->alpha = hone_alloc_array(cap, sizeof(double));
    ws->rowsum = hone_alloc_array(cap, sizeof(double));
    ws->um = hone_alloc_array(cap * d, sizeof(double));
    ws->inv_ls = hone_alloc_array(d, sizeof(double));
}

/* Adds D (σ² or yvar) to the diagonal of K (n×n, ld). */
static void s_add_noise(const hone_gp_t *self, double noise, double *k, size_t ld)
{
    for (size_t i = 0; i < self->n; i++)
        k[i + i * ld] += self->fixed_noise ? self->yvar[i] : noise;
}

int hone_gp_log_posterior_scratch(hone_gp_t *self, const double *phi, double *value, double *grad)
{
    HONE_ASSERT(self && phi && value);
    size_t n = self->n, d = self->d;
    self->n_evals++;
    if (!s_finite(d + 2, phi))
        return HONE_EINVAL;
    double noise = exp(phi[d]), c = phi[d + 1];
    double lml = 0.0;
    if (grad)
        memset(grad, 0, (d + 2) * sizeof *grad);

    if (n > 0) {
        s_ws_reserve(self);
        s_eval_ws_t *ws = &self->ws;
        /* K, then its factor, then K⁻¹ live in the prediction factor's buffer: the fit
         * ends with a refresh anyway, and an n×n buffer less is 8 MB at n = 1000. */
        double *kmat = self->l;
        size_t ld = self->n_cap;
        self->factorized = false;
        for (size_t a = 0; a < d; a++)
            ws->inv_ls[a] = exp(-phi[a]);
        hone_kernel_scale(n, d, self->x, ws->inv_ls, ws->u, ws->s);
        hone_kernel_gram(self->kernel, n, d, ws->u, ws->s, kmat, ld);
        s_add_noise(self, noise, kmat, ld);
        double jitter;
        int rc = hone_linalg_chol_decomp_work(n, kmat, ld, ws->kcopy, &jitter);
        if (rc != HONE_OK)
            return rc;
        for (size_t i = 0; i < n; i++)
            ws->r[i] = ws->alpha[i] = self->y[i] - c;
        hone_linalg_chol_svx(n, kmat, ld, 1, ws->alpha, n);
        double quad = hone_linalg_dot(n, ws->r, ws->alpha);
        double logdet = hone_linalg_chol_logdet(n, kmat, ld);
        lml = -0.5 * quad - 0.5 * logdet - 0.5 * (double) n * S_LOG_2PI;
        if (!isfinite(lml))
            return HONE_ENUMERIC;

        if (grad) {
            rc = hone_linalg_chol_inverse_lower(n, kmat, ld);
            if (rc != HONE_OK)
                return rc;
            double tr_w = 0.0, sum_alpha = 0.0;
            for (size_t i = 0; i < n; i++) {
                tr_w += ws->alpha[i] * ws->alpha[i] - kmat[i + i * ld];
                sum_alpha += ws->alpha[i];
            }
            hone_kernel_lengthscale_grad(self->kernel, n, d, ws->u, ws->s, ws->kcopy, n,
                                         ws->alpha, kmat, ld, ws->rowsum, ws->um, grad);
            grad[d] = self->fixed_noise ? 0.0 : 0.5 * noise * tr_w;
            grad[d + 1] = sum_alpha;
        }
    }

    /* Priors: LogNormal densities in ℓ- and σ²-space at e^φ (no Jacobian). */
    double mu = hone_gp_prior_ls_mu(d), lp = 0.0, dp;
    for (size_t a = 0; a < d; a++) {
        lp += s_lognormal(phi[a], mu, HONE_GP_LS_SIGMA, &dp);
        if (grad)
            grad[a] += dp;
    }
    if (!self->fixed_noise) {
        lp += s_lognormal(phi[d], HONE_GP_NOISE_MU, HONE_GP_NOISE_SIGMA, &dp);
        if (grad)
            grad[d] += dp;
    }
    double scale = n > 0 ? 1.0 / (double) n : 1.0;
    *value = (lml + lp) * scale;
    if (grad)
        for (size_t j = 0; j < d + 2; j++)
            grad[j] *= scale;
    return isfinite(*value) ? HONE_OK : HONE_ENUMERIC;
}

int hone_gp_log_posterior(hone_gp_t *self, const double *phi, double *value, double *grad)
{
    HONE_ASSERT(self);
    bool was_factorized = self->factorized;
    int rc = hone_gp_log_posterior_scratch(self, phi, value, grad);
    /* The evaluation used the factor's buffer: restore the model for prediction. */
    if (was_factorized) {
        int rrc = hone_gp_refresh(self);
        if (rc == HONE_OK)
            rc = rrc;
    }
    return rc;
}

/* ---------------------------------------------------------------- factorization */

/* α = K⁻¹(y − c) from the factor. */
static void s_solve_alpha(hone_gp_t *self)
{
    size_t n = self->n;
    double c = self->phi[self->d + 1];
    for (size_t i = 0; i < n; i++)
        self->alpha[i] = self->y[i] - c;
    hone_linalg_trsv(HONE_LINALG_NOTRANS, n, self->l, self->n_cap, self->alpha, 1);
    hone_linalg_trsv(HONE_LINALG_TRANS, n, self->l, self->n_cap, self->alpha, 1);
}

/* K = K_f + D built in L, then factorized; if dpotrf fails, K is rebuilt and ε·I added,
 * ε = 1e-8, 1e-7, ..., 1e-3 (hone_linalg_chol_decomp_work's schedule). Rebuilding K
 * (O(n²d)) instead of restoring it from a copy saves an n×n buffer, and costs less than
 * the dpotrf that failed. */
static int s_factorize(hone_gp_t *self)
{
    size_t n = self->n, d = self->d, ld = self->n_cap;
    double noise = exp(self->phi[d]);
    double eps = 0.0;
    hone_kernel_scale(n, d, self->x, self->inv_ls, self->u, self->s);
    for (int i = 0; i <= HONE_LINALG_JITTER_TRIES; i++) {
        if (i > 0)
            eps = i == 1 ? HONE_LINALG_JITTER_START : eps * 10.0;
        hone_kernel_gram(self->kernel, n, d, self->u, self->s, self->l, ld);
        s_add_noise(self, noise, self->l, ld);
        for (size_t j = 0; eps > 0.0 && j < n; j++)
            self->l[j + j * ld] += eps;
        self->jitter = eps;
        if (hone_linalg_chol_decomp_nojitter(n, self->l, ld) == HONE_OK)
            return HONE_OK;
    }
    return HONE_ENUMERIC;
}

int hone_gp_refresh(hone_gp_t *self)
{
    HONE_ASSERT(self);
    size_t n = self->n, d = self->d;
    self->factorized = false;
    for (size_t a = 0; a < d; a++)
        self->inv_ls[a] = exp(-self->phi[a]);
    self->jitter = 0.0;
    self->n_factored = n;
    if (n == 0) {
        self->factorized = true;
        return HONE_OK;
    }
    int rc = s_factorize(self);
    if (rc != HONE_OK)
        return rc;
    s_solve_alpha(self);
    self->factorized = true;
    return HONE_OK;
}

bool hone_gp_factorized(const hone_gp_t *self)
{
    HONE_ASSERT(self);
    return self->factorized;
}

int hone_gp_truncate(hone_gp_t *self, size_t n)
{
    HONE_ASSERT(self && n <= self->n);
    if (n == self->n)
        return HONE_OK;
    self->n = n;
    if (!self->factorized)
        return HONE_OK;
    /* The leading n×n block of L is the factor of the leading block of K, except when the
     * jitter of the last full factorization was needed by the points now dropped: then
     * the remaining points get a factorization of their own. */
    if (self->jitter > 0.0 && self->n_factored > n)
        return hone_gp_refresh(self);
    s_solve_alpha(self);
    return HONE_OK;
}

int hone_gp_append(hone_gp_t *self, const double *x, double y, double yvar)
{
    HONE_ASSERT(self && x);
    size_t n = self->n, d = self->d;
    if (!s_finite(d, x) || !isfinite(y))
        return HONE_EINVAL;
    if (self->fixed_noise && !(yvar >= 0.0 && isfinite(yvar)))
        return HONE_EINVAL;
    s_reserve(self, n + 1, true);
    memcpy(self->x + n * d, x, d * sizeof *x);
    self->y[n] = y;
    self->yvar[n] = self->fixed_noise ? yvar : 0.0;
    if (!self->factorized) {
        self->n = n + 1;
        return hone_gp_refresh(self);
    }
    double *u_new = self->u + n * d;
    hone_kernel_scale(1, d, x, self->inv_ls, u_new, self->s + n);
    hone_kernel_cross(self->kernel, n, 1, d, self->u, self->s, u_new, self->s + n,
                      self->tmp, n > 0 ? n : 1);
    double dnew = self->fixed_noise ? yvar : exp(self->phi[d]);
    double kappa = 1.0 + dnew + self->jitter;
    self->n = n + 1;
    int rc = hone_linalg_chol_append(n, self->l, self->n_cap, self->tmp, kappa,
                                     S_APPEND_MIN_PIVOT * kappa);
    if (rc != HONE_OK)
        return hone_gp_refresh(self);
    s_solve_alpha(self);
    return HONE_OK;
}

/* ---------------------------------------------------------------- prediction */

int hone_gp_loo(const hone_gp_t *self, double *mean, double *var)
{
    HONE_ASSERT(self && mean && var);
    if (!self->factorized)
        return HONE_ESTATE;
    size_t n = self->n;
    if (n < 2)
        return HONE_EDATA;
    /* A copy of the factor (the model stays usable for prediction), inverted by dpotri. */
    double *linv = hone_alloc_array(n * n, sizeof(double));
    for (size_t j = 0; j < n; j++)
        for (size_t i = 0; i < n; i++)
            linv[i + j * n] = i >= j ? self->l[i + j * self->n_cap] : 0.0;
    int rc = hone_linalg_chol_inverse_lower(n, linv, n);
    for (size_t i = 0; rc == HONE_OK && i < n; i++) {
        double kii = linv[i + i * n];
        if (!(kii > 0.0) || !isfinite(kii)) {
            rc = HONE_ENUMERIC;
            break;
        }
        mean[i] = self->y[i] - self->alpha[i] / kii;
        var[i] = 1.0 / kii;
    }
    hone_free(linv);
    return rc;
}

/* Points per chunk of a prediction over n training points: what S_WORK_CELLS holds, at
 * least 1, at most max_batch. */
static size_t s_work_cols(size_t n, size_t max_batch)
{
    size_t cols = S_WORK_CELLS / (n > 0 ? n : 1);
    return cols < 1 ? 1 : cols > max_batch ? max_batch : cols;
}

/* (Re)allocates the n-vectors for n_cap training points and the k block for ks_cells. */
static void s_work_alloc(hone_gp_work_t *w, size_t n_cap, size_t ks_cells)
{
    hone_free(w->ks);
    hone_free(w->r2);
    hone_free(w->h);
    hone_free(w->b);
    hone_free(w->c);
    size_t cap = n_cap > 0 ? n_cap : 1;
    w->n_cap = cap;
    w->ks_cells = ks_cells > cap ? ks_cells : cap;
    w->ks = hone_alloc_array(w->ks_cells, sizeof(double));
    w->r2 = hone_alloc_array(cap, sizeof(double));
    w->h = hone_alloc_array(cap, sizeof(double));
    w->b = hone_alloc_array(cap, sizeof(double));
    w->c = hone_alloc_array(2 * cap, sizeof(double));
}

hone_gp_work_t *hone_gp_work_new(const hone_gp_t *self, size_t max_batch)
{
    HONE_ASSERT(self);
    if (max_batch == 0)
        max_batch = 1;
    hone_gp_work_t *w = hone_alloc(sizeof *w);
    w->d = self->d;
    w->max_batch = max_batch;
    w->v = hone_alloc_array(self->d * max_batch, sizeof(double));
    w->t = hone_alloc_array(max_batch, sizeof(double));
    w->g = hone_alloc_array(2 * self->d, sizeof(double));
    /* The k block is the workspace's big buffer: sized for the model's current size and
     * at most S_WORK_CELLS, regrown on demand (s_check_predict). */
    size_t n = self->n > 0 ? self->n : 1;
    s_work_alloc(w, self->n_cap, n * s_work_cols(n, max_batch));
    return w;
}

void hone_gp_work_destroy(hone_gp_work_t **work_p)
{
    HONE_ASSERT(work_p);
    hone_gp_work_t *w = *work_p;
    if (!w)
        return;
    hone_free(w->ks);
    hone_free(w->v);
    hone_free(w->t);
    hone_free(w->r2);
    hone_free(w->h);
    hone_free(w->b);
    hone_free(w->c);
    hone_free(w->g);
    hone_free(w);
    *work_p = NULL;
}

static int s_check_predict(const hone_gp_t *self, size_t m, hone_gp_work_t *w)
{
    if (!self->factorized)
        return HONE_ESTATE;
    if (w->d != self->d || m > w->max_batch)
        return HONE_EINVAL;
    /* A model that grew past the workspace: regrow for its capacity, so that appends
     * keep it valid for a while. */
    if (w->n_cap < self->n || w->ks_cells < self->n * s_work_cols(self->n, w->max_batch))
        s_work_alloc(w, self->n_cap, self->n_cap * s_work_cols(self->n_cap, w->max_batch));
    return HONE_OK;
}

int hone_gp_predict(const hone_gp_t *self, size_t m, const double *x, double *mean,
                    double *var, hone_gp_work_t *work)
{
    HONE_ASSERT(self && work && (m == 0 || x));
    int rc = s_check_predict(self, m, work);
    if (rc != HONE_OK)
        return rc;
    size_t n = self->n, d = self->d;
    double c = self->phi[d + 1];
    if (m == 0)
        return HONE_OK;
    if (!s_finite(m * d, x))
        return HONE_EINVAL;
    if (n == 0) {
        for (size_t j = 0; j < m; j++) {
            if (mean)
                mean[j] = c;
            if (var)
                var[j] = 1.0;
        }
        return HONE_OK;
    }
    hone_kernel_scale(m, d, x, self->inv_ls, work->v, work->t);
    /* The k block holds as many columns as fit in the workspace (s_work_cols): a batch
     * larger than that goes through in chunks, each still one gemm and one dtrsm. */
    size_t cols = work->ks_cells / n;
    for (size_t j0 = 0; j0 < m; j0 += cols) {
        size_t mc = m - j0 < cols ? m - j0 : cols;
        hone_kernel_cross(self->kernel, n, mc, d, self->u, self->s, work->v + j0 * d, work->t + j0,
                          work->ks, n);
        if (mean) {
            for (size_t j = 0; j < mc; j++)
                mean[j0 + j] = c;
            hone_linalg_gemv(HONE_LINALG_TRANS, n, mc, 1.0, work->ks, n, self->alpha, 1.0, mean + j0);
        }
        if (var) {
            hone_linalg_trsm(HONE_LINALG_NOTRANS, n, self->l, self->n_cap, mc, work->ks, n);
            for (size_t j = 0; j < mc; j++) {
                const double *vj = work->ks + j * n;
                double v = 1.0 - hone_linalg_dot(n, vj, vj);
                var[j0 + j] = v > S_MIN_VAR ? v : S_MIN_VAR;
            }
        }
    }
    return HONE_OK;
}

int hone_gp_predict_grad(const hone_gp_t *self, const double *x, double *mean, double *var,
                         double *dmean, double *dvar, hone_gp_work_t *work)
{
    HONE_ASSERT(self && work && x && mean && var);
    int rc = s_check_predict(self, 1, work);
    if (rc != HONE_OK)
        return rc;
    size_t n = self->n, d = self->d;
    if (!s_finite(d, x))
        return HONE_EINVAL;
    *mean = self->phi[d + 1];
    *var = 1.0;
    for (size_t a = 0; a < d; a++) {
        if (dmean)
            dmean[a] = 0.0;
        if (dvar)
            dvar[a] = 0.0;
    }
    if (n == 0)
        return HONE_OK;

    double *ux = work->v, *k = work->ks, *h = work->h, *b = work->b;
    double *c1 = work->c, *c2 = work->c + n;
    hone_kernel_scale(1, d, x, self->inv_ls, ux, work->t);
    hone_kernel_cross_r2(n, 1, d, self->u, self->s, ux, work->t, work->r2, n);
    self->kernel->eval(n, work->r2, k);
    self->kernel->dfactor(n, work->r2, k, h);

    *mean += hone_linalg_dot(n, k, self->alpha);
    memcpy(b, k, n * sizeof *b);
    hone_linalg_trsv(HONE_LINALG_NOTRANS, n, self->l, self->n_cap, b, 1);
    double v = 1.0 - hone_linalg_dot(n, b, b);
    bool clamped = !(v > S_MIN_VAR);
    *var = clamped ? S_MIN_VAR : v;
    hone_linalg_trsv(HONE_LINALG_TRANS, n, self->l, self->n_cap, b, 1);

    /* ∂k_i/∂x_a = −h_i·(u_xa − u_ia)/ℓ_a, so with c = coef∘h:
     * Σ_i coef_i ∂k_i/∂x_a = −(u_xa·Σc − (U·c)_a)/ℓ_a. */
    double sum1 = 0.0, sum2 = 0.0;
    for (size_t i = 0; i < n; i++) {
        c1[i] = self->alpha[i] * h[i];
        c2[i] = b[i] * h[i];
        sum1 += c1[i];
        sum2 += c2[i];
    }
    hone_linalg_gemm(HONE_LINALG_NOTRANS, HONE_LINALG_NOTRANS, d, 2, n, 1.0, self->u, d,
                     work->c, n, 0.0, work->g, d);
    for (size_t a = 0; a < d; a++) {
        double il = self->inv_ls[a];
        if (dmean)
            dmean[a] = -il * (ux[a] * sum1 - work->g[a]);
        if (dvar)
            dvar[a] = clamped ? 0.0 : 2.0 * il * (ux[a] * sum2 - work->g[d + a]);
    }
    return HONE_OK;
}

int hone_gp_view(const hone_gp_t *self, hone_gp_view_t *view)
{
    HONE_ASSERT(self && view);
    if (!self->factorized)
        return HONE_ESTATE;
    *view = (hone_gp_view_t) {
        .n = self->n,
        .d = self->d,
        .kernel = self->kernel,
        .l = self->l,
        .ldl = self->n_cap,
        .alpha = self->alpha,
        .u = self->u,
        .s = self->s,
        .inv_ls = self->inv_ls,
        .mean = self->phi[self->d + 1],
    };
    return HONE_OK;
}
