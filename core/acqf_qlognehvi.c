/* acqf_qlognehvi.c: Monte-Carlo qLogNEHVI for q = 1 and m = 2..4 independent objectives
 * (reference/bo-numerics.md §2.4; BoTorch's qLogNoisyExpectedHypervolumeImprovement with
 * Ax's settings: fat=True, prune_baseline=True, cache_root=True, incremental_nehvi=True,
 * alpha=0, N = 128, τ_relu = 1e-6, τ_max = 1e-3):
 *
 *     qLogNEHVI(x) = log (1/N)·Σ_s HVI_s(f_x^s),
 *     log HVI_s(y) = logsumexp_c Σ_j fatmin(log fatplus(y_j − l_cj; τ_relu),
 *                                           log(u_cj − l_cj); τ_max),
 *
 * where (f_b^s, f_x^s) are N joint posterior draws of the m objectives at the baseline X_b
 * and at x, and [l_c, u_c] are the cells of a box decomposition of the region that
 * improves on the Pareto front of f_b^s (hone_cells_decompose; u clamped at 1e10). As in
 * BoTorch (_log_cell_lengths), the smooth minimum acts on the LOGS of the two lengths,
 * so τ_max is a relative tolerance on the side length.
 *
 * Baseline. The observed points (models[0]'s training inputs unless given) plus the
 * pending points. A cheap pre-filter (a hone addition, as qLogNEI's) drops points whose
 * upper bound μ + 4σ is not above the reference point in some objective, or is weakly
 * dominated by another point's lower bound μ − 4σ; more than S_MAX_CANDIDATES survivors
 * are cut to that many by peeling Pareto layers of the posterior means. Then BoTorch's
 * prune_inferior_points_multi_objective: 2048 joint draws, and a point stays when it is
 * on the draw's Pareto front (duplicates kept) and strictly better than ref in at least
 * one draw; past S_MAX_BASELINE points the most frequent ones stay (BoTorch's max_frac
 * cap, here a fixed count).
 *
 * Draws. Each model has its own cached root (mc_joint.h): f_b^{s,j} = μ_b^j + L_bb^j z_b^{s,j}
 * is fixed at create, so are the N decompositions; per candidate
 * f_x^{s,j} = μ_x^j + c_x^{jT} z_b^{s,j} + s_x^j z_x^{s,j}. The base samples are one
 * scrambled Sobol sequence of dimension m·(nb + 1) mapped to normals (BoTorch's
 * SobolQMCNormalSampler over the (nb + 1)·m joint outputs), fixed for the object's life,
 * so the value is deterministic and smooth.
 *
 * The decompositions are stored compactly. The smoothed length of a cell's side in
 * objective j depends on the candidate only through y_j, so per sample and objective
 * the sides are grouped: "levels" are the distinct lower bounds l (log fatplus(y_j − l) is
 * computed once per level: one log), "pairs" the distinct (l, u) (the fatmin with
 * log(u − l) once per pair: a division and usually no transcendental call), and each cell
 * names its pair in every objective. The cells then multiply m smoothed lengths in
 * linear space (the log-space sum is the fallback when a sample's sum is not in
 * (1e-280, inf), which standardized outputs do not reach), and the gradient collects
 * each cell's volume back onto its pairs.
 *
 * Cost per candidate: per model, the batched posterior of mc_joint.h,
 * O(n·d + n² + n·nb + nb² + N·nb) (BLAS-3 over a batch of candidates); then
 * Σ_s [levels_s logs + pairs_s·(~20 flops and a division) + cells_s·m multiplications].
 * Measured (n = 50, d = 4, fitted Matérn models, one pending point; per sample):
 * m = 2: 7 baseline points, 5 cells, 10 levels, 10 pairs; m = 3: 29 points, 38 cells,
 * 58 levels, 85 pairs; m = 4: 40 points, 116 cells, 121 levels, 247 pairs; about 0.03,
 * 0.16 and 0.5 ms per candidate on one core. The levels' logarithms and the pairs take
 * nearly all of it; the posterior part is a few percent. The gradient adds one pass
 * over the cells and, per model, the reverse of the posterior (same order as the
 * forward pass): about 1.3× the value.
 *
 * Memory: every buffer is allocated by create; eval and eval_grad never allocate. */
#include "acqf_impl.h"
#include "acqf_mo.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "gp_internal.h"
#include "mc_joint.h"
#include "pareto.h"
#include "sobol.h"
#include "special.h"

#define S_SAMPLES 128                 /* MC base samples N (BoTorch's MOO default) */
#define S_PRUNE_DRAWS 2048            /* joint draws for pruning the baseline */
#define S_PRUNE_CHUNK 256             /* draws per gemm while pruning */
#define S_MAX_CANDIDATES 256          /* baseline candidates entering the pruning draws */
#define S_MAX_BASELINE 128            /* baseline points kept at most after pruning */
#define S_FILTER_SIGMAS 4.0           /* the pre-filter's μ ± 4σ */
#define S_TAU_RELU 1e-6               /* fatplus temperature (BoTorch TAU_RELU) */
#define S_TAU_MAX 1e-3                /* fatmin temperature (qLogNEHVI's tau_max) */
#define S_HI_CLAMP 1e10               /* upper cell bounds clamped here (double precision) */
#define S_TINY 1e-280                 /* below it a sample's HVI is summed in log space */
#define S_BATCH 64                    /* candidates per batch */
#define S_M HONE_ACQF_MO_MAX_OBJECTIVES

typedef struct {
    hone_acqf_t base;             /* common head; must be first */
    size_t m;                     /* objectives */
    size_t nb;                    /* baseline points after pruning */
    double ref[S_M];              /* reference point */
    hone_mc_joint_t *post[S_M];   /* per model: joint draws at X_b and candidates */
    double *zb[S_M];              /* per model: N×nb baseline normals (ld N) */
    double *zx[S_M];              /* per model: N candidate normals */
    /* the N decompositions as levels and side pairs (see the header comment) */
    size_t *level_off;            /* N·m + 1: levels of (s, j) from [s·m + j] to [s·m + j + 1] */
    double *level_lo;             /* per level: a distinct lower bound l of the sides */
    size_t *pair_off;             /* N·m + 1: pairs of (s, j) from [s·m + j] to [s·m + j + 1] */
    uint32_t *pair_level;         /* per pair: its level, relative to level_off[s·m] */
    double *pair_len;             /* per pair: min(u, 1e10) − l */
    double *pair_loglen;          /* per pair: its log */
    size_t *cell_off;             /* N + 1: cells of sample s from [s] to [s + 1] */
    uint32_t *cell_pair;          /* cells×m: the pair of side j, relative to pair_off[s·m] */
    size_t max_levels, max_pairs, max_cells;   /* largest counts of one sample */
    size_t batch;                 /* candidates per batch */
    /* eval scratch */
    double *mean[S_M], *sd[S_M];  /* per model, batch: μ_x and s_x */
    double *f[S_M];               /* per model, N×batch: c_xᵀz_b for every sample */
    double *y;                    /* m×N: the draws at one candidate (y[j·N + s]) */
    double *a, *la, *dla;         /* max_levels: fatplus(y − l), its log, ∂log/∂y */
    double *e, *t, *dt;           /* max_pairs: smoothed side lengths, their logs, ∂t/∂y */
    double *pbar;                 /* max_pairs: Σ of the volumes of the cells using a pair */
    double *v;                    /* max_cells: cell volumes (or exp of the shifted logs) */
    double *logh;                 /* N: log HVI_s */
    double *ybar;                 /* m×N: ∂value/∂y */
} s_qlognehvi_t;

static void s_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_qlognehvi_t *self = (s_qlognehvi_t *) *self_p;
    for (size_t j = 0; j < S_M; j++) {
        hone_mc_joint_destroy(&self->post[j]);
        hone_free(self->zb[j]);
        hone_free(self->zx[j]);
        hone_free(self->mean[j]);
        hone_free(self->sd[j]);
        hone_free(self->f[j]);
    }
    void *buffers[] = { self->level_off, self->level_lo, self->pair_off, self->pair_level,
                        self->pair_len, self->pair_loglen, self->cell_off, self->cell_pair,
                        self->y, self->a, self->la, self->dla, self->e, self->t, self->dt,
                        self->pbar, self->v, self->logh, self->ybar };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        hone_free(buffers[i]);
    hone_free(self);
    *self_p = NULL;
}

/* ---- create ------------------------------------------------------------------- */

/* Posterior means and standard deviations of one model at nc points (rows of d), written
 * with stride m (mu[i·m], sd[i·m]), in chunks so that the GP's workspace stays small. */
static int s_predict_all(const hone_gp_t *model, size_t nc, const double *x, size_t m,
                         double *mu, double *sd)
{
    size_t d = hone_gp_dim(model), chunk = 256;
    hone_gp_work_t *work = hone_gp_work_new(model, chunk);
    double mean[256], var[256];
    int rc = HONE_OK;
    for (size_t start = 0; rc == HONE_OK && start < nc; start += chunk) {
        size_t count = nc - start < chunk ? nc - start : chunk;
        rc = hone_gp_predict(model, count, x + start * d, mean, var, work);
        for (size_t i = 0; rc == HONE_OK && i < count; i++) {
            mu[(start + i) * m] = mean[i];
            sd[(start + i) * m] = sqrt(var[i]);
        }
    }
    hone_gp_work_destroy(&work);
    return rc;
}

/* The pre-filter (header comment): keep[i] when the upper bound of point i is above ref
 * in every objective and no point's lower bound weakly dominates it. mu, sd: nc×m rows.
 * A lower bound that weakly dominates U_i is weakly dominated by a member of the lower
 * bounds' front, so only that front is scanned: O(nc·k·m). */
static void s_prefilter(size_t m, size_t nc, const double *mu, const double *sd,
                        const double *ref, bool *keep)
{
    double *lower = hone_alloc_array(nc * m, sizeof(double));
    size_t *front = hone_alloc_array(nc, sizeof(size_t));
    for (size_t i = 0; i < nc * m; i++)
        lower[i] = mu[i] - S_FILTER_SIGMAS * sd[i];
    size_t k = hone_pareto_front(lower, nc, m, NULL, true, front);
    for (size_t i = 0; i < nc; i++) {
        double upper[S_M];
        bool ok = true;
        for (size_t j = 0; j < m; j++) {
            upper[j] = mu[i * m + j] + S_FILTER_SIGMAS * sd[i * m + j];
            ok = ok && upper[j] > ref[j];
        }
        for (size_t f = 0; ok && f < k; f++) {
            const double *l = lower + front[f] * m;
            size_t j = 0;
            while (j < m && l[j] >= upper[j])
                j++;
            ok = j < m;
        }
        keep[i] = ok;
    }
    hone_free(lower);
    hone_free(front);
}

/* More than cap points kept: keep the first Pareto layers of the means (by index within
 * the last layer that fits partly). */
static void s_cap_layers(size_t m, size_t nc, const double *mu, bool *keep, size_t cap)
{
    size_t *rem = hone_alloc_array(nc, sizeof(size_t)), nrem = 0;
    size_t *front = hone_alloc_array(nc, sizeof(size_t));
    double *rows = hone_alloc_array(nc * m, sizeof(double));
    bool *chosen = hone_alloc_array(nc, sizeof(bool));
    for (size_t i = 0; i < nc; i++)
        if (keep[i])
            rem[nrem++] = i;
    size_t taken = 0;
    while (taken < cap && nrem > 0) {
        for (size_t r = 0; r < nrem; r++)
            memcpy(rows + r * m, mu + rem[r] * m, m * sizeof(double));
        size_t k = hone_pareto_front(rows, nrem, m, NULL, true, front);
        for (size_t f = 0; f < k && taken < cap; f++, taken++)
            chosen[rem[front[f]]] = true;
        size_t w = 0;
        for (size_t r = 0; r < nrem; r++)
            if (!chosen[rem[r]])
                rem[w++] = rem[r];
        nrem = w;
    }
    for (size_t i = 0; i < nc; i++)
        keep[i] = chosen[i];
    hone_free(rem);
    hone_free(front);
    hone_free(rows);
    hone_free(chosen);
}

/* BoTorch's prune_inferior_points_multi_objective: count[i] = the number of S_PRUNE_DRAWS
 * joint draws in which baseline point i is on the Pareto front and better than ref. */
static void s_prune_counts(size_t m, hone_mc_joint_t *const *post, size_t nb,
                           const double *ref, uint64_t seed, size_t *count)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    double *z = hone_alloc_array(S_PRUNE_CHUNK * nb, sizeof(double));
    double *fb[S_M];
    for (size_t j = 0; j < m; j++)
        fb[j] = hone_alloc_array(S_PRUNE_CHUNK * nb, sizeof(double));
    double *y = hone_alloc_array(nb * m, sizeof(double));
    size_t *front = hone_alloc_array(nb, sizeof(size_t));
    memset(count, 0, nb * sizeof *count);
    for (size_t done = 0; done < S_PRUNE_DRAWS; done += S_PRUNE_CHUNK) {
        for (size_t j = 0; j < m; j++) {
            for (size_t i = 0; i < S_PRUNE_CHUNK * nb; i++)
                z[i] = hone_special_normal_from_uniform(hone_rng_uniform(&rng));
            hone_mc_joint_sample_baseline(post[j], S_PRUNE_CHUNK, z, S_PRUNE_CHUNK, fb[j],
                                          S_PRUNE_CHUNK);
        }
        for (size_t s = 0; s < S_PRUNE_CHUNK; s++) {
            for (size_t i = 0; i < nb; i++)
                for (size_t j = 0; j < m; j++)
                    y[i * m + j] = fb[j][s + i * S_PRUNE_CHUNK];
            size_t k = hone_pareto_front(y, nb, m, ref, true, front);
            for (size_t f = 0; f < k; f++)
                count[front[f]]++;
        }
    }
    hone_free(z);
    for (size_t j = 0; j < m; j++)
        hone_free(fb[j]);
    hone_free(y);
    hone_free(front);
}

/* Keeps the points with a nonzero count; past S_MAX_BASELINE, the most frequent ones
 * (ties by index). Returns how many; keep[i] marks them. */
static size_t s_select_pruned(size_t nb, const size_t *count, bool *keep)
{
    size_t kept = 0;
    for (size_t i = 0; i < nb; i++) {
        keep[i] = count[i] > 0;
        kept += keep[i];
    }
    while (kept > S_MAX_BASELINE) {   /* drop the least frequent, the last one on ties */
        size_t at = 0;
        bool found = false;
        for (size_t i = 0; i < nb; i++)
            if (keep[i] && (!found || count[i] <= count[at])) {
                at = i;
                found = true;
            }
        keep[at] = false;
        kept--;
    }
    return kept;
}

/* Builds one cached root per model at the nb points xb; false if one does not factorize. */
static bool s_build_roots(s_qlognehvi_t *self, const hone_gp_t *const *models, size_t nb,
                          const double *xb)
{
    for (size_t j = 0; j < self->m; j++) {
        hone_mc_joint_destroy(&self->post[j]);
        self->post[j] = hone_mc_joint_new(models[j], nb, xb, S_BATCH);
        if (!self->post[j])
            return false;
    }
    self->nb = nb;
    return true;
}

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

/* The fixed base samples: one scrambled Sobol sequence of dimension m·(nb + 1), model j
 * taking coordinates j·(nb + 1) .. j·(nb + 1) + nb (the last one for the candidate). */
static void s_draw_base_samples(s_qlognehvi_t *self, uint64_t seed)
{
    size_t m = self->m, nb = self->nb, dim = m * (nb + 1);
    hone_sobol_t *sobol = hone_sobol_new((uint32_t) dim, true, seed);
    HONE_ASSERT(sobol);   /* dim <= 4·(S_MAX_BASELINE + 1), far below the table's size */
    double *u = hone_alloc_array(S_SAMPLES * dim, sizeof(double));
    int rc = hone_sobol_next(sobol, S_SAMPLES, u);
    HONE_ASSERT(rc == HONE_OK);   /* 128 points of a fresh sequence */
    hone_sobol_destroy(&sobol);
    for (size_t j = 0; j < m; j++) {
        self->zb[j] = hone_alloc_array(S_SAMPLES * (nb ? nb : 1), sizeof(double));
        self->zx[j] = hone_alloc_array(S_SAMPLES, sizeof(double));
        for (size_t s = 0; s < S_SAMPLES; s++) {
            const double *row = u + s * dim + j * (nb + 1);
            for (size_t i = 0; i < nb; i++)
                self->zb[j][s + i * S_SAMPLES] = hone_special_normal_from_uniform(row[i]);
            self->zx[j][s] = hone_special_normal_from_uniform(row[nb]);
        }
    }
    hone_free(u);
}

typedef struct {
    double lo, hi;   /* a cell's side in one objective (hi clamped) */
    size_t cell;     /* the cell */
} s_side_t;

static int s_side_cmp(const void *pa, const void *pb)
{
    const s_side_t *a = pa, *b = pb;
    if (a->lo != b->lo)
        return a->lo < b->lo ? -1 : 1;
    if (a->hi != b->hi)
        return a->hi < b->hi ? -1 : 1;
    return (a->cell > b->cell) - (a->cell < b->cell);
}

/* The per-sample decompositions of the baseline draws, stored as side pairs. */
static void s_decompose_samples(s_qlognehvi_t *self)
{
    size_t m = self->m, nb = self->nb, N = S_SAMPLES;
    double *fb[S_M];
    for (size_t j = 0; j < m; j++) {
        fb[j] = hone_alloc_array(N * (nb ? nb : 1), sizeof(double));
        hone_mc_joint_sample_baseline(self->post[j], N, self->zb[j], N, fb[j], N);
    }
    double *ys = hone_alloc_array((nb ? nb : 1) * m, sizeof(double));
    hone_cells_t *cells = hone_cells_new(m);
    self->level_off = hone_alloc_array(N * m + 1, sizeof(size_t));
    self->pair_off = hone_alloc_array(N * m + 1, sizeof(size_t));
    self->cell_off = hone_alloc_array(N + 1, sizeof(size_t));
    size_t pair_cap = 64, cell_cap = 64, side_cap = 0, nlevel = 0, npair = 0, ncell = 0;
    self->level_lo = hone_alloc_array(pair_cap, sizeof(double));
    self->pair_level = hone_alloc_array(pair_cap, sizeof(uint32_t));
    self->pair_len = hone_alloc_array(pair_cap, sizeof(double));
    self->pair_loglen = hone_alloc_array(pair_cap, sizeof(double));
    self->cell_pair = hone_alloc_array(cell_cap * m, sizeof(uint32_t));
    s_side_t *sides = NULL;
    for (size_t s = 0; s < N; s++) {
        for (size_t i = 0; i < nb; i++)
            for (size_t j = 0; j < m; j++)
                ys[i * m + j] = fb[j][s + i * N];
        hone_cells_decompose(cells, ys, nb, self->ref);
        size_t nc = cells->ncell, first_pair = npair, first_level = nlevel;
        HONE_ASSERT(nc >= 1 && nc * m < UINT32_MAX);
        if (ncell + nc > cell_cap) {
            while (ncell + nc > cell_cap)
                cell_cap *= 2;
            self->cell_pair = hone_realloc_array(self->cell_pair, cell_cap * m,
                                                 sizeof(uint32_t));
        }
        if (npair + nc * m > pair_cap) {   /* levels <= pairs <= nc·m per sample */
            while (npair + nc * m > pair_cap)
                pair_cap *= 2;
            self->level_lo = hone_realloc_array(self->level_lo, pair_cap, sizeof(double));
            self->pair_level = hone_realloc_array(self->pair_level, pair_cap, sizeof(uint32_t));
            self->pair_len = hone_realloc_array(self->pair_len, pair_cap, sizeof(double));
            self->pair_loglen = hone_realloc_array(self->pair_loglen, pair_cap, sizeof(double));
        }
        if (nc > side_cap) {
            side_cap = nc;
            sides = hone_realloc_array(sides, side_cap, sizeof *sides);
        }
        for (size_t j = 0; j < m; j++) {
            for (size_t c = 0; c < nc; c++)
                sides[c] = (s_side_t) {.lo = cells->lo[c * m + j],
                                       .hi = fmin(cells->hi[c * m + j], S_HI_CLAMP),
                                       .cell = c};
            qsort(sides, nc, sizeof *sides, s_side_cmp);
            for (size_t c = 0; c < nc; c++) {
                bool new_level = c == 0 || sides[c].lo != sides[c - 1].lo;
                if (new_level)
                    self->level_lo[nlevel++] = sides[c].lo;
                if (new_level || sides[c].hi != sides[c - 1].hi) {
                    double len = sides[c].hi - sides[c].lo;
                    /* lo at 1e10 or beyond (never, with standardized outputs) */
                    if (!(len > 0.0))
                        len = DBL_MIN;
                    self->pair_level[npair] = (uint32_t) (nlevel - 1 - first_level);
                    self->pair_len[npair] = len;
                    self->pair_loglen[npair] = log(len);
                    npair++;
                }
                self->cell_pair[(ncell + sides[c].cell) * m + j] =
                    (uint32_t) (npair - 1 - first_pair);
            }
            self->level_off[s * m + j + 1] = nlevel;
            self->pair_off[s * m + j + 1] = npair;
        }
        ncell += nc;
        self->cell_off[s + 1] = ncell;
        if (nc > self->max_cells)
            self->max_cells = nc;
        if (npair - first_pair > self->max_pairs)
            self->max_pairs = npair - first_pair;
        if (nlevel - first_level > self->max_levels)
            self->max_levels = nlevel - first_level;
    }
    hone_free(sides);
    hone_cells_destroy(&cells);
    hone_free(ys);
    for (size_t j = 0; j < m; j++)
        hone_free(fb[j]);
}

static bool s_finite(size_t n, const double *x)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]))
            return false;
    return true;
}

static hone_acqf_t *s_create_mo(const hone_acqf_mo_context_t *ctx)
{
    if (!ctx || ctx->m < 2 || ctx->m > S_M || !ctx->models || !ctx->ref ||
        !s_finite(ctx->m, ctx->ref) || (ctx->n_pending > 0 && !ctx->pending))
        return NULL;
    size_t m = ctx->m;
    hone_gp_view_t view[S_M];
    for (size_t j = 0; j < m; j++) {
        if (!ctx->models[j] || hone_gp_view(ctx->models[j], &view[j]) != HONE_OK ||
            view[j].n == 0 || view[j].d != view[0].d)
            return NULL;
    }
    size_t d = view[0].d;
    size_t n_obs = ctx->baseline ? ctx->n_baseline : view[0].n;
    size_t nc = n_obs + ctx->n_pending;
    if ((ctx->baseline && !s_finite(n_obs * d, ctx->baseline)) ||
        (ctx->n_pending > 0 && !s_finite(ctx->n_pending * d, ctx->pending)))
        return NULL;

    /* Candidates for the baseline: observed points, then pending points. */
    double *xc = hone_alloc_array((nc ? nc : 1) * d, sizeof(double));
    if (ctx->baseline)
        memcpy(xc, ctx->baseline, n_obs * d * sizeof(double));
    else
        for (size_t i = 0; i < n_obs; i++)
            for (size_t a = 0; a < d; a++)
                xc[i * d + a] = view[0].u[a + i * d] / view[0].inv_ls[a] + 0.5;
    if (ctx->n_pending > 0)
        memcpy(xc + n_obs * d, ctx->pending, ctx->n_pending * d * sizeof(double));
    double *mu = hone_alloc_array((nc ? nc : 1) * m, sizeof(double));
    double *sd = hone_alloc_array((nc ? nc : 1) * m, sizeof(double));
    bool *keep = hone_alloc_array(nc ? nc : 1, sizeof(bool));
    size_t *count = hone_alloc_array(nc ? nc : 1, sizeof(size_t));

    s_qlognehvi_t *self = hone_alloc(sizeof *self);
    self->base.type = &hone_acqf_qlognehvi;
    self->base.d = d;
    self->m = m;
    memcpy(self->ref, ctx->ref, m * sizeof(double));
    bool ok = true;
    for (size_t j = 0; ok && j < m; j++)
        ok = s_predict_all(ctx->models[j], nc, xc, m, mu + j, sd + j) == HONE_OK;

    /* pre-filter and cap, then the pruning draws */
    size_t nb = 0;
    if (ok && nc > 0) {
        s_prefilter(m, nc, mu, sd, self->ref, keep);
        nb = 0;
        for (size_t i = 0; i < nc; i++)
            nb += keep[i];
        if (nb > S_MAX_CANDIDATES)
            s_cap_layers(m, nc, mu, keep, S_MAX_CANDIDATES);
        nb = s_compact_rows(nc, d, xc, keep);
    }
    ok = ok && s_build_roots(self, ctx->models, nb, xc);
    if (ok && nb > 0) {
        s_prune_counts(m, self->post, nb, self->ref, hone_rng_derive(ctx->seed, 1), count);
        size_t kept = s_select_pruned(nb, count, keep);
        if (kept < nb) {
            s_compact_rows(nb, d, xc, keep);
            ok = s_build_roots(self, ctx->models, kept, xc);
        }
    }
    hone_free(xc);
    hone_free(mu);
    hone_free(sd);
    hone_free(keep);
    hone_free(count);
    if (!ok) {
        hone_acqf_t *base = &self->base;
        s_destroy(&base);
        return NULL;
    }

    s_draw_base_samples(self, hone_rng_derive(ctx->seed, HONE_RNG_MC_BASE));
    s_decompose_samples(self);

    size_t N = S_SAMPLES;
    self->batch = S_BATCH;
    for (size_t j = 0; j < m; j++) {
        self->mean[j] = hone_alloc_array(S_BATCH, sizeof(double));
        self->sd[j] = hone_alloc_array(S_BATCH, sizeof(double));
        self->f[j] = hone_alloc_array(N * S_BATCH, sizeof(double));
    }
    self->y = hone_alloc_array(m * N, sizeof(double));
    self->a = hone_alloc_array(self->max_levels, sizeof(double));
    self->la = hone_alloc_array(self->max_levels, sizeof(double));
    self->dla = hone_alloc_array(self->max_levels, sizeof(double));
    self->e = hone_alloc_array(self->max_pairs, sizeof(double));
    self->t = hone_alloc_array(self->max_pairs, sizeof(double));
    self->dt = hone_alloc_array(self->max_pairs, sizeof(double));
    self->pbar = hone_alloc_array(self->max_pairs, sizeof(double));
    self->v = hone_alloc_array(self->max_cells, sizeof(double));
    self->logh = hone_alloc_array(N, sizeof(double));
    self->ybar = hone_alloc_array(m * N, sizeof(double));
    return &self->base;
}

/* ---- evaluation --------------------------------------------------------------- */

/* The smoothed log length of a cell side [l, l + len] for the value y:
 *     t = fatmin(log fatplus(y − l; τ_relu), log len; τ_max)
 *       = min(la, lb) − τ·log(1 + p(|la − lb|/τ)),   p(z) = 2/(2 + 2z + z²)
 * (BoTorch fatmin with alpha = 2, on two values), given a = fatplus(y − l), la = log a
 * and dla = ∂la/∂y (computed once per level l). Also e = exp(t), computed as
 * min(a, len)·exp(−ε) with ε = τ·log1p(p) <= τ·ln 2 < 7e-4, whose series to ε⁴ is exact in
 * double precision (the rest is below ε⁵/120 < 2e-18; likewise log1p's series to p⁴ for
 * p < 1e-3, whose rest is below p⁵/5 < 1e-15·p);
 * and with dt not NULL, ∂t/∂y: the smooth minimum passes 1 − r to its smaller argument
 * and r to the other, r = −p′/(1 + p) = p²(1 + z)/(1 + p). */
static inline double s_side(double a, double la, double dla, double len, double loglen,
                            double *e, double *dt)
{
    double diff = la - loglen;
    double z = fabs(diff) * (1.0 / S_TAU_MAX);
    double p = 2.0 / (2.0 + z * (2.0 + z));
    double lp = p < 1e-3 ? p * (1.0 - p * (0.5 - p * (1.0 / 3.0 - 0.25 * p))) : log1p(p);
    double eps = S_TAU_MAX * lp;
    bool below = diff < 0.0;
    *e = (below ? a : len) *
         (1.0 - eps * (1.0 - eps * (0.5 - eps * (1.0 / 6.0 - eps * (1.0 / 24.0)))));
    if (dt) {
        double r = p * p * (1.0 + z) / (1.0 + p);
        *dt = (below ? 1.0 - r : r) * dla;
    }
    return (below ? la : loglen) - eps;
}

/* log HVI_s at the draws y[j·N + s]; with gy not NULL, gy[j] = ∂log HVI_s/∂y_j. */
static double s_log_hvi(s_qlognehvi_t *self, size_t s, double *gy)
{
    size_t m = self->m, N = S_SAMPLES;
    size_t p0 = self->pair_off[s * m], l0 = self->level_off[s * m];
    double *e = self->e, *t = self->t, *dt = self->dt, *v = self->v;
    double *fp = self->a, *la = self->la, *dla = self->dla;
    for (size_t j = 0; j < m; j++) {
        double yj = self->y[j * N + s];
        for (size_t l = self->level_off[s * m + j]; l < self->level_off[s * m + j + 1]; l++) {
            double da;
            double al = hone_special_fatplus(yj - self->level_lo[l], S_TAU_RELU, &da);
            fp[l - l0] = al;
            la[l - l0] = log(al);
            dla[l - l0] = da / al;
        }
        for (size_t p = self->pair_off[s * m + j]; p < self->pair_off[s * m + j + 1]; p++) {
            uint32_t l = self->pair_level[p];
            t[p - p0] = s_side(fp[l], la[l], dla[l], self->pair_len[p], self->pair_loglen[p],
                               &e[p - p0], gy ? &dt[p - p0] : NULL);
        }
    }
    size_t c0 = self->cell_off[s], nc = self->cell_off[s + 1] - c0;
    const uint32_t *cp = self->cell_pair + c0 * m;
    double sum = 0.0;
    switch (m) {   /* the innermost loop: unrolled over the objectives */
    case 2:
        for (size_t c = 0; c < nc; c++)
            sum += v[c] = e[cp[2 * c]] * e[cp[2 * c + 1]];
        break;
    case 3:
        for (size_t c = 0; c < nc; c++)
            sum += v[c] = e[cp[3 * c]] * e[cp[3 * c + 1]] * e[cp[3 * c + 2]];
        break;
    default:
        for (size_t c = 0; c < nc; c++) {
            double vol = e[cp[c * m]];
            for (size_t j = 1; j < m; j++)
                vol *= e[cp[c * m + j]];
            sum += v[c] = vol;
        }
        break;
    }
    double logh;
    if (sum > S_TINY && sum < INFINITY) {
        logh = log(sum);
    }
    else {   /* underflow: logsumexp over the cells of Σ_j t */
        double top = -INFINITY;
        for (size_t c = 0; c < nc; c++) {
            double a = 0.0;
            for (size_t j = 0; j < m; j++)
                a += t[cp[c * m + j]];
            v[c] = a;
            top = fmax(top, a);
        }
        sum = 0.0;
        for (size_t c = 0; c < nc; c++)
            sum += v[c] = exp(v[c] - top);
        logh = top + log(sum);
    }
    if (gy) {
        size_t np = self->pair_off[(s + 1) * m] - p0;
        double *pbar = self->pbar;
        memset(pbar, 0, np * sizeof *pbar);
        for (size_t c = 0; c < nc; c++)
            for (size_t j = 0; j < m; j++)
                pbar[cp[c * m + j]] += v[c];
        for (size_t j = 0; j < m; j++) {
            double g = 0.0;
            for (size_t p = self->pair_off[s * m + j]; p < self->pair_off[s * m + j + 1]; p++)
                g += pbar[p - p0] * dt[p - p0];
            gy[j] = g / sum;
        }
    }
    return logh;
}

/* logmeanexp_s log HVI_s for the draws in self->y; with grad, self->ybar receives
 * ∂value/∂y (softmax weight of the sample times ∂log HVI_s/∂y). */
static double s_value(s_qlognehvi_t *self, bool grad)
{
    size_t m = self->m, N = S_SAMPLES;
    double gy[S_M];
    for (size_t s = 0; s < N; s++) {
        self->logh[s] = s_log_hvi(self, s, grad ? gy : NULL);
        if (grad)
            for (size_t j = 0; j < m; j++)
                self->ybar[j * N + s] = gy[j];
    }
    double lse = hone_special_logsumexp(N, self->logh);
    if (grad)
        for (size_t s = 0; s < N; s++) {
            double w = exp(self->logh[s] - lse);
            for (size_t j = 0; j < m; j++)
                self->ybar[j * N + s] *= w;
        }
    return lse - log((double) N);
}

/* The draws at candidate i of the current batch. */
static void s_fill_draws(s_qlognehvi_t *self, size_t i)
{
    size_t N = S_SAMPLES;
    for (size_t j = 0; j < self->m; j++) {
        double mu = self->mean[j][i], sd = self->sd[j][i];
        const double *f = self->f[j] + i * N, *zx = self->zx[j];
        double *y = self->y + j * N;
        for (size_t s = 0; s < N; s++)
            y[s] = mu + f[s] + sd * zx[s];
    }
}

static void s_posterior(s_qlognehvi_t *self, size_t count, const double *x)
{
    for (size_t j = 0; j < self->m; j++)
        hone_mc_joint_eval(self->post[j], count, x, S_SAMPLES, self->zb[j], S_SAMPLES,
                           self->mean[j], self->sd[j], self->f[j], S_SAMPLES);
}

static int s_eval(hone_acqf_t *base, size_t n, const double *x, double *value)
{
    s_qlognehvi_t *self = (s_qlognehvi_t *) base;
    HONE_ASSERT(self && (n == 0 || (x && value)));
    size_t d = base->d;
    if (!s_finite(n * d, x))
        return HONE_EINVAL;
    for (size_t start = 0; start < n; start += self->batch) {
        size_t count = n - start < self->batch ? n - start : self->batch;
        s_posterior(self, count, x + start * d);
        for (size_t i = 0; i < count; i++) {
            s_fill_draws(self, i);
            value[start + i] = s_value(self, false);
        }
    }
    return HONE_OK;
}

static int s_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_qlognehvi_t *self = (s_qlognehvi_t *) base;
    HONE_ASSERT(self && x && value && grad);
    size_t d = base->d, N = S_SAMPLES;
    if (!s_finite(d, x))
        return HONE_EINVAL;
    s_posterior(self, 1, x);
    s_fill_draws(self, 0);
    *value = s_value(self, true);
    memset(grad, 0, d * sizeof *grad);
    for (size_t j = 0; j < self->m; j++)
        hone_mc_joint_backprop(self->post[j], N, self->zb[j], N, self->zx[j],
                               self->ybar + j * N, grad);
    return HONE_OK;
}

/* A single-model context cannot describe the objectives: see hone_acqf_mo_new. */
static hone_acqf_t *s_create(const hone_acqf_context_t *ctx)
{
    (void) ctx;
    return NULL;
}

int hone_acqf_qlognehvi_info(const hone_acqf_t *acqf, size_t *n_baseline, size_t *n_cells)
{
    if (!acqf || acqf->type != &hone_acqf_qlognehvi)
        return HONE_EINVAL;
    const s_qlognehvi_t *self = (const s_qlognehvi_t *) acqf;
    if (n_baseline)
        *n_baseline = self->nb;
    if (n_cells)
        *n_cells = self->cell_off[S_SAMPLES];
    return HONE_OK;
}

const hone_acqf_type_t hone_acqf_qlognehvi = {
    .name = "qlognehvi",
    .create = s_create,
    .destroy = s_destroy,
    .eval = s_eval,
    .eval_grad = s_eval_grad,
};

const hone_acqf_mo_type_t hone_acqf_mo_qlognehvi = {
    .name = "qlognehvi",
    .type = &hone_acqf_qlognehvi,
    .create = s_create_mo,
};
