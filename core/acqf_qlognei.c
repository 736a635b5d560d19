/* acqf_qlognei.c: Monte-Carlo qLogNEI for q = 1 with a cached root decomposition
 * (reference/bo-numerics.md §2.2, §2.3; BoTorch's qLogNoisyExpectedImprovement with
 * cache_root=True, prune_baseline=True, incremental=True, fat=True), with outcome
 * constraints, and on qLogNParEGO's scalarized objective (acqf_parego.c):
 *
 *     qLogNEI(x) = log (1/N)·Σ_s fatplus(h(y_x^s) − f*^s; τ = 1e-6)·W(y_x^s),
 *
 * where y^s are N joint posterior draws of the outputs (the objective models, then the
 * constraint models) at the baseline X_b and at x, drawn from FIXED quasi-random base
 * samples so that the value is a smooth, deterministic function of x that L-BFGS can
 * climb (N = 512; 128 for ParEGO). h is the objective (output 0, or ParEGO's augmented
 * Chebyshev scalarization of the m objectives), W = Π_k fatmoid(−g_k/η) the smoothed
 * feasibility (1 without constraints), and f*^s = max_i of h(y_b,i^s) over the baseline
 * points feasible in sample s, the infeasible ones counting as L (acqf_mo.h: BoTorch's
 * compute_best_feasible_objective).
 *
 * Baseline: the observed points (the model's training points unless given) plus the
 * pending points (running trials), so a candidate next to a pending point gains nothing
 * over it: that is how asynchronous workers are spread out. It is pruned at create: first
 * a cheap filter drops points whose upper bound h(μ + 4σ) is below the best lower bound
 * h(μ − 4σ) of the points that are surely feasible (a hone addition; h is monotone in
 * each output), then 2048 joint draws keep only the points that are the best feasible
 * one in at least one draw (BoTorch's prune_inferior_points). Past S_MAX_BASELINE points
 * the filter keeps the highest upper bounds (a cap for memory and time with many noisy
 * points; documented approximation).
 *
 * Draws (mc_joint.h, one cached root per output): the baseline draws do not depend on x,
 * so f*^s is computed once; per batch of candidates each output costs one trsm (n²·count),
 * one gemm (n_b·n·count), one trsm (n_b²·count) and one gemm for every sample at once
 * (N·n_b·count). The objectives share one scrambled Sobol sequence of dimension
 * m·(n_b + 1), the constraint models another one (mc_joint.h), so without constraints the
 * draws are exactly the unconstrained ones.
 *
 * Gradient (reverse mode): the per-sample adjoints ȳ of the draws, softmax weight times
 * ∂(log fatplus + log W)/∂y (the linear-space sum gives the same thing as
 * fatplus′·W/Σ and e_s/Σ·∂log W/∂y), through ∂h/∂y (ParEGO: the subgradient w_j/range_j
 * on each sample's maximizing objective, plus 0.05·w_j/range_j on all), then every
 * output's cached root backwards to x (hone_mc_joint_backprop).
 *
 * Memory: every buffer is allocated by create; eval works through batches of at most
 * `batch` points and never allocates. */
#include "acqf_feasible.h"
#include "acqf_impl.h"

#include <math.h>
#include <string.h>

#include "alloc.h"
#include "gp_internal.h"
#include "mc_joint.h"
#include "special.h"

#define S_SAMPLES 512                 /* MC base samples N (BoTorch's default) */
#define S_PRUNE_DRAWS 2048            /* joint draws for pruning the baseline */
#define S_PRUNE_CHUNK 256             /* draws per gemm while pruning */
#define S_MAX_BASELINE 256            /* baseline points kept at most (see header) */
#define S_FILTER_SIGMAS 4.0           /* the pre-filter's μ ± 4σ */
#define S_LB_SIGMAS 6.0               /* the infeasible value's μ − 6σ (get_infeasible_cost) */
#define S_LB_COMBOS 32                /* convex combinations for the infeasible value */
#define S_TAU_RELU 1e-6               /* fatplus temperature (BoTorch TAU_RELU) */
#define S_BATCH 256                   /* candidates per batch */
#define S_BATCH_CELLS (256 * 4096)    /* cap on batch × max(n, N) × outputs */

typedef struct {
    hone_acqf_t base;             /* common head; must be first */
    size_t m;                     /* objective outputs: 1, or ParEGO's m */
    size_t k;                     /* outputs: the objectives, then the constraint models */
    size_t nb;                    /* baseline points after pruning */
    size_t ns;                    /* base samples N */
    hone_acqf_feasible_t feas;    /* outcome constraints (n_con = 0: none) */
    hone_mc_joint_set_t *set;     /* joint draws of the outputs at X_b and candidates */
    bool cheb;                    /* h is ParEGO's scalarization (else output 0) */
    double *w, *lo, *hi, *inv_range;   /* m each: the scalarization (cheb only) */
    double alpha;                 /* the scalarization's augmentation, 0.05 */
    double *fstar;                /* N: the best feasible h over the baseline per sample */
    double infeasible;            /* L (acqf_mo.h), −inf when not needed */
    /* eval scratch (the draws y, k×N, are the set's) */
    double *obj;                  /* N: h at the draws */
    size_t *arg;                  /* N: the maximizing objective of h per sample (cheb) */
    double *e;                    /* N: per-sample terms (linear, or logs in the fallback) */
    double *gobj;                 /* N: ∂value/∂h^s */
    double *dlog;                 /* k×N: ∂log W^s/∂y, then ∂value through W (constraints) */
} s_qlognei_t;

static void s_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_qlognei_t *self = (s_qlognei_t *) *self_p;
    hone_acqf_feasible_release(&self->feas);
    hone_mc_joint_set_destroy(&self->set);
    void *buffers[] = { self->w, self->lo, self->hi, self->inv_range, self->fstar, self->obj,
                        self->arg, self->e, self->gobj, self->dlog };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        hone_free(buffers[i]);
    hone_free(self);
    *self_p = NULL;
}

/* h at the outputs y[j·stride]; *arg receives the maximizing objective (cheb). */
static inline double s_objective(const s_qlognei_t *self, const double *y, size_t stride,
                                 size_t *arg)
{
    if (!self->cheb)
        return y[0];
    double top = -INFINITY, sum = 0.0;
    size_t at = 0;
    for (size_t j = 0; j < self->m; j++) {
        double p = self->w[j] * (self->hi[j] - y[j * stride]) * self->inv_range[j];
        sum += p;
        if (p > top) {
            top = p;
            at = j;
        }
    }
    *arg = at;
    return -(top + self->alpha * sum);
}

/* ---- create ------------------------------------------------------------------------ */

/* Keeps the rows of x (d wide) whose flag is set, in place; returns how many. */
static size_t s_compact_rows(size_t n, size_t d, double *x, const bool *keep)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (!keep[i])
            continue;
        if (k != i)
            memmove(x + k * d, x + i * d, d * sizeof *x);
        k++;
    }
    return k;
}

/* The pre-filter and the cap (see the header): marks keep[i] from the bounds of h and
 * whether each point is surely feasible. */
static void s_prefilter(size_t nc, const double *lower, const double *upper, const bool *surely,
                        bool *keep)
{
    double best_lower = -INFINITY;
    for (size_t i = 0; i < nc; i++)
        if (surely[i])
            best_lower = fmax(best_lower, lower[i]);
    size_t kept = 0;
    for (size_t i = 0; i < nc; i++) {
        keep[i] = upper[i] >= best_lower;
        kept += keep[i];
    }
    /* Over the cap: raise the bar on the upper bound until at most S_MAX_BASELINE pass. */
    while (kept > S_MAX_BASELINE) {
        double lowest = INFINITY;
        size_t at = 0;
        for (size_t i = 0; i < nc; i++) {
            if (keep[i] && upper[i] < lowest) {
                lowest = upper[i];
                at = i;
            }
        }
        keep[at] = false;
        kept--;
    }
}

/* h at μ + z·σ of every point (rows of k outputs in mu, sd): bounds of h, which grows
 * with every objective. */
static void s_objective_bounds(const s_qlognei_t *self, size_t nc, const double *mu,
                               const double *sd, double z, double *out)
{
    size_t k = self->k;
    double row[HONE_ACQF_MO_MAX_OUTPUTS];
    for (size_t i = 0; i < nc; i++) {
        if (!self->cheb) {
            out[i] = mu[i * k] + z * sd[i * k];
            continue;
        }
        for (size_t j = 0; j < self->m; j++)
            row[j] = mu[i * k + j] + z * sd[i * k + j];
        size_t arg;
        out[i] = s_objective(self, row, 1, &arg);
    }
}

/* BoTorch's prune_inferior_points with constraints: keep[i] when point i is the best
 * feasible point (by h) of at least one of S_PRUNE_DRAWS joint draws, or the first point
 * of a draw where none is feasible (torch.argmax over equal values). The objectives'
 * normals come from one stream, the constraint models' from another (so that without
 * constraints the draws are the unconstrained ones), each in the order point-major per
 * draw. */
static void s_prune(const s_qlognei_t *self, uint64_t seed, bool *keep)
{
    size_t nb = self->nb, k = self->k, C = S_PRUNE_CHUNK;
    hone_rng_t rng_obj, rng_con;
    hone_rng_seed(&rng_obj, seed);
    hone_rng_seed(&rng_con, hone_rng_derive(seed, 1));
    double *z = hone_alloc_array(nb * C, sizeof(double));
    double *f = hone_alloc_array(k * C * nb, sizeof(double));   /* output j: C×nb, ld C */
    for (size_t i = 0; i < nb; i++)
        keep[i] = false;
    double row[HONE_ACQF_MO_MAX_OUTPUTS];
    for (size_t done = 0; done < S_PRUNE_DRAWS; done += C) {
        for (size_t j = 0; j < k; j++) {
            hone_mc_joint_t *post = hone_mc_joint_set_output(self->set, j);
            if (!post)
                continue;
            hone_rng_t *rng = j < self->m ? &rng_obj : &rng_con;
            for (size_t s = 0; s < C; s++)
                for (size_t i = 0; i < nb; i++)
                    z[s + i * C] = hone_special_normal_from_uniform(hone_rng_uniform(rng));
            hone_mc_joint_sample_baseline(post, C, z, C, f + j * C * nb, C);
        }
        for (size_t s = 0; s < C; s++) {
            size_t at = 0;
            double best = -INFINITY;
            bool found = false;
            for (size_t i = 0; i < nb; i++) {
                for (size_t j = 0; j < k; j++)
                    row[j] = f[j * C * nb + s + i * C];
                if (!hone_acqf_feasible_ok(&self->feas, row, 1))
                    continue;
                size_t arg;
                double v = s_objective(self, row, 1, &arg);
                if (!found || v > best) {
                    best = v;
                    at = i;
                    found = true;
                }
            }
            keep[at] = true;
        }
    }
    hone_free(z);
    hone_free(f);
}

/* BoTorch's infeasible value (_estimate_objective_lower_bound, get_infeasible_cost):
 * min(0, min of h(μ − 6σ)) over the baseline points and S_LB_COMBOS convex combinations
 * of them (rows normalized; BoTorch normalizes its random weights per point, which is not
 * a convex combination, and draws them unseeded). */
static int s_infeasible_value(const s_qlognei_t *self, const hone_acqf_mo_context_t *ctx,
                              const double *xb, uint64_t seed, double *value)
{
    size_t nb = self->nb, d = self->base.d, k = self->k, np = nb + S_LB_COMBOS;
    double *x = hone_alloc_array(np * d, sizeof(double));
    double *mu = hone_alloc_array(np * k, sizeof(double));
    double *sd = hone_alloc_array(np * k, sizeof(double));
    double *h = hone_alloc_array(np, sizeof(double));
    double *wt = hone_alloc_array(nb, sizeof(double));
    memcpy(x, xb, nb * d * sizeof(double));
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    for (size_t r = 0; r < S_LB_COMBOS; r++) {
        double total = 0.0;
        for (size_t i = 0; i < nb; i++)
            total += wt[i] = hone_rng_uniform(&rng) + 1e-12;
        double *xr = x + (nb + r) * d;
        for (size_t i = 0; i < nb; i++)
            for (size_t a = 0; a < d; a++)
                xr[a] += wt[i] / total * xb[i * d + a];
    }
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < self->m; j++)
        rc = hone_acqf_feasible_predict(ctx->models[j], np, x, k, mu + j, sd + j);
    if (rc == HONE_OK) {
        s_objective_bounds(self, np, mu, sd, -S_LB_SIGMAS, h);
        double lb = 0.0;
        for (size_t i = 0; i < np; i++)
            lb = fmin(lb, h[i]);
        *value = lb;
    }
    hone_free(x);
    hone_free(mu);
    hone_free(sd);
    hone_free(h);
    hone_free(wt);
    return rc;
}

/* f*^s from the baseline draws with the base samples (see the header). */
static int s_best_feasible(s_qlognei_t *self, const hone_acqf_mo_context_t *ctx,
                           const double *xb)
{
    size_t nb = self->nb, k = self->k, N = self->ns;
    double *fb = hone_alloc_array(k * N * nb, sizeof(double));   /* output j: N×nb, ld N */
    bool *mixed = hone_alloc_array(N, sizeof(bool));   /* sample s has an infeasible point */
    for (size_t j = 0; j < k; j++)
        hone_mc_joint_set_sample_baseline(self->set, j, fb + j * N * nb);
    bool short_sample = false;   /* some sample has no feasible point */
    double row[HONE_ACQF_MO_MAX_OUTPUTS];
    for (size_t s = 0; s < N; s++) {
        double best = -INFINITY;
        bool any = false;
        for (size_t i = 0; i < nb; i++) {
            for (size_t j = 0; j < k; j++)
                row[j] = fb[j * N * nb + s + i * N];
            if (!hone_acqf_feasible_ok(&self->feas, row, 1)) {
                mixed[s] = true;
                continue;
            }
            size_t arg;
            best = fmax(best, s_objective(self, row, 1, &arg));
            any = true;
        }
        self->fstar[s] = best;
        short_sample = short_sample || !any;
    }
    int rc = HONE_OK;
    self->infeasible = -INFINITY;
    if (short_sample)
        rc = s_infeasible_value(self, ctx, xb, hone_rng_derive(ctx->seed, 3), &self->infeasible);
    for (size_t s = 0; rc == HONE_OK && s < N; s++)
        if (mixed[s])
            self->fstar[s] = fmax(self->fstar[s], self->infeasible);
    hone_free(fb);
    hone_free(mixed);
    return rc;
}

/* The number of training points of the largest drawn model. */
static size_t s_widest_model(const hone_gp_t *const *outputs, size_t k, size_t *drawn)
{
    size_t widest = 0;
    *drawn = 0;
    for (size_t j = 0; j < k; j++)
        if (outputs[j]) {
            size_t n = hone_gp_size(outputs[j]);
            widest = n > widest ? n : widest;
            (*drawn)++;
        }
    return widest;
}

hone_acqf_t *hone_acqf_qlognei_new_mc(const hone_acqf_mo_context_t *ctx,
                                      const hone_acqf_chebyshev_t *cheb, size_t n_samples)
{
    size_t d;
    if (!hone_acqf_feasible_check_context(ctx, &d) || n_samples == 0 ||
        ctx->m != (cheb ? cheb->m : 1) || ctx->m + ctx->n_con_models > HONE_ACQF_MO_MAX_OUTPUTS)
        return NULL;
    size_t m = ctx->m, k = m + ctx->n_con_models, N = n_samples;
    s_qlognei_t *self = hone_alloc(sizeof *self);
    self->base.type = &hone_acqf_qlognei;
    self->base.d = d;
    self->m = m;
    self->k = k;
    self->ns = N;
    hone_acqf_feasible_init(&self->feas, ctx);
    if (cheb) {
        self->cheb = true;
        self->alpha = cheb->alpha;
        self->w = hone_alloc_array(m, sizeof(double));
        self->lo = hone_alloc_array(m, sizeof(double));
        self->hi = hone_alloc_array(m, sizeof(double));
        self->inv_range = hone_alloc_array(m, sizeof(double));
        memcpy(self->w, cheb->w, m * sizeof(double));
        memcpy(self->lo, cheb->lo, m * sizeof(double));
        memcpy(self->hi, cheb->hi, m * sizeof(double));
        memcpy(self->inv_range, cheb->inv_range, m * sizeof(double));
    }
    const hone_gp_t *outputs[HONE_ACQF_MO_MAX_OUTPUTS];
    hone_acqf_feasible_outputs(&self->feas, ctx, true, outputs);
    size_t drawn, widest = s_widest_model(outputs, k, &drawn);
    widest = (widest > N ? widest : N) * drawn;
    size_t batch = S_BATCH;
    if (batch * widest > S_BATCH_CELLS)
        batch = S_BATCH_CELLS / widest > 16 ? S_BATCH_CELLS / widest : 16;

    /* Candidates for the baseline: observed points, then pending points. */
    size_t nc, n_obs;
    double *xc = hone_acqf_feasible_baseline_points(ctx, ctx->models[0], d, &nc, &n_obs);
    double *mu = hone_alloc_array((nc ? nc : 1) * k, sizeof(double));
    double *sd = hone_alloc_array((nc ? nc : 1) * k, sizeof(double));
    double *lower = hone_alloc_array(nc ? nc : 1, sizeof(double));
    double *upper = hone_alloc_array(nc ? nc : 1, sizeof(double));
    bool *surely = hone_alloc_array(nc ? nc : 1, sizeof(bool));
    bool *keep = hone_alloc_array(nc ? nc : 1, sizeof(bool));
    bool ok = nc > 0 &&
              hone_acqf_feasible_predict_outputs(outputs, k, nc, xc, mu, sd) == HONE_OK;
    size_t nb = 0;
    if (ok) {
        for (size_t i = 0; i < nc; i++)
            surely[i] = hone_acqf_feasible_surely(&self->feas, mu + i * k, sd + i * k, 1,
                                                  S_FILTER_SIGMAS);
        s_objective_bounds(self, nc, mu, sd, -S_FILTER_SIGMAS, lower);
        s_objective_bounds(self, nc, mu, sd, S_FILTER_SIGMAS, upper);
        s_prefilter(nc, lower, upper, surely, keep);
        nb = s_compact_rows(nc, d, xc, keep);
        self->nb = nb;
        self->set = hone_mc_joint_set_new(k, outputs, nb, xc, N, batch);
        ok = self->set != NULL;
    }
    if (ok && nb > 1) {
        s_prune(self, hone_rng_derive(ctx->seed, 1), keep);
        size_t kept = s_compact_rows(nb, d, xc, keep);
        if (kept < nb) {
            self->nb = nb = kept;
            hone_mc_joint_set_destroy(&self->set);
            self->set = hone_mc_joint_set_new(k, outputs, nb, xc, N, batch);
            ok = self->set != NULL;
        }
    }
    if (ok)
        ok = hone_mc_joint_set_base_samples(self->set, m, hone_rng_derive(ctx->seed, 2)) == HONE_OK;
    self->fstar = hone_alloc_array(N, sizeof(double));
    if (ok)
        ok = s_best_feasible(self, ctx, xc) == HONE_OK;
    hone_free(xc);
    hone_free(mu);
    hone_free(sd);
    hone_free(lower);
    hone_free(upper);
    hone_free(surely);
    hone_free(keep);
    if (!ok) {
        hone_acqf_t *base = &self->base;
        s_destroy(&base);
        return NULL;
    }
    self->obj = hone_alloc_array(N, sizeof(double));
    self->arg = hone_alloc_array(N, sizeof(size_t));
    self->e = hone_alloc_array(N, sizeof(double));
    self->gobj = hone_alloc_array(N, sizeof(double));
    self->dlog = hone_alloc_array(k * N, sizeof(double));
    return &self->base;
}

static hone_acqf_t *s_create(const hone_acqf_context_t *ctx)
{
    if (!ctx || !ctx->model || (ctx->n_pending > 0 && !ctx->pending))
        return NULL;
    const hone_gp_t *models[1] = { ctx->model };
    hone_acqf_mo_context_t mo = {.m = 1, .models = models, .n_pending = ctx->n_pending,
                                 .pending = ctx->pending, .seed = ctx->seed};
    return hone_acqf_qlognei_new_mc(&mo, NULL, S_SAMPLES);
}

static hone_acqf_t *s_create_mo(const hone_acqf_mo_context_t *ctx)
{
    if (!ctx || ctx->m != 1)
        return NULL;
    return hone_acqf_qlognei_new_mc(ctx, NULL, S_SAMPLES);
}

/* ---- evaluation -------------------------------------------------------------------- */

/* ȳ = ∂value/∂h·∂h/∂y + ∂value/∂y through W (see the header). */
static void s_adjoints(const s_qlognei_t *self, double *ybar)
{
    size_t N = self->ns, k = self->k;
    if (self->feas.n_con > 0)
        memcpy(ybar, self->dlog, k * N * sizeof(double));
    else
        memset(ybar, 0, k * N * sizeof(double));
    if (!self->cheb) {
        for (size_t s = 0; s < N; s++)
            ybar[s] += self->gobj[s];
        return;
    }
    for (size_t j = 0; j < self->m; j++) {
        double slope = self->w[j] * self->inv_range[j];
        for (size_t s = 0; s < N; s++)
            ybar[j * N + s] += self->gobj[s] * slope *
                               (self->alpha + (self->arg[s] == j ? 1.0 : 0.0));
    }
}

/* The value at the draws y: log (1/N)·Σ_s fatplus(h^s − f*^s)·W^s, summed in linear space
 * (a division per sample instead of two logarithms and an exponential: see
 * hone_special_fatplus); falls back to log space when the sum underflows (improvements
 * below about −1e136, or feasibility weights below 1e-308). With ybar, ∂value/∂y
 * (hone_mc_joint_value_fn). */
static double s_value(void *arg, const double *y, double *ybar)
{
    s_qlognei_t *self = arg;
    size_t N = self->ns;
    bool grad = ybar != NULL;
    double *obj = self->obj, *e = self->e, *g = grad ? self->gobj : NULL;
    for (size_t s = 0; s < N; s++)
        obj[s] = s_objective(self, y + s, N, &self->arg[s]);
    bool con = self->feas.n_con > 0;
    double sum = 0.0, value;
    for (size_t s = 0; s < N; s++) {
        double fp = hone_special_fatplus(obj[s] - self->fstar[s], S_TAU_RELU, g ? &g[s] : NULL);
        if (con) {
            double w = hone_acqf_feasible_weight(&self->feas, y + s, N,
                                                 grad ? self->dlog + s : NULL, N);
            e[s] = fp * w;
            if (g)
                g[s] *= w;
            sum += e[s];
        }
        else {
            sum += fp;
        }
    }
    if (sum > 0.0 && isfinite(sum)) {
        if (g) {
            for (size_t s = 0; s < N; s++)
                g[s] /= sum;
            if (con)
                for (size_t s = 0; s < N; s++)
                    for (size_t j = 0; j < self->k; j++)
                        self->dlog[j * N + s] *= e[s] / sum;
        }
        value = log(sum / (double) N);
    }
    else {
        for (size_t s = 0; s < N; s++) {
            e[s] = hone_special_log_fatplus(obj[s] - self->fstar[s], S_TAU_RELU,
                                            g ? &g[s] : NULL);
            if (con)
                e[s] += hone_acqf_feasible_log_weight(&self->feas, y + s, N,
                                                      grad ? self->dlog + s : NULL, N);
        }
        double lse = hone_special_logsumexp(N, e);
        if (g)   /* softmax weights times ∂a_s/∂h^s (and ∂a_s/∂y through W) */
            for (size_t s = 0; s < N; s++) {
                double w = exp(e[s] - lse);
                g[s] *= w;
                if (con)
                    for (size_t j = 0; j < self->k; j++)
                        self->dlog[j * N + s] *= w;
            }
        value = lse - log((double) N);
    }
    if (grad)
        s_adjoints(self, ybar);
    return value;
}

static int s_eval(hone_acqf_t *base, size_t n, const double *x, double *value)
{
    s_qlognei_t *self = (s_qlognei_t *) base;
    HONE_ASSERT(self && (n == 0 || (x && value)));
    return hone_mc_joint_set_values(self->set, n, x, s_value, self, value);
}

static int s_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_qlognei_t *self = (s_qlognei_t *) base;
    HONE_ASSERT(self && x && value && grad);
    return hone_mc_joint_set_value_grad(self->set, x, s_value, self, value, grad);
}

int hone_acqf_qlognei_info(const hone_acqf_t *acqf, hone_acqf_qlognei_info_t *info)
{
    if (!acqf || acqf->type != &hone_acqf_qlognei || !info)
        return HONE_EINVAL;
    const s_qlognei_t *self = (const s_qlognei_t *) acqf;
    *info = (hone_acqf_qlognei_info_t) {.n_baseline = self->nb, .m = self->m,
                                        .n_con = self->feas.n_con, .weights = self->w,
                                        .lo = self->lo, .hi = self->hi,
                                        .infeasible_value = self->infeasible};
    return HONE_OK;
}

const hone_acqf_type_t hone_acqf_qlognei = {
    .name = "qlognei",
    .create = s_create,
    .destroy = s_destroy,
    .eval = s_eval,
    .eval_grad = s_eval_grad,
};

const hone_acqf_mo_type_t hone_acqf_mo_qlognei = {
    .name = "qlognei",
    .type = &hone_acqf_qlognei,
    .create = s_create_mo,
};
