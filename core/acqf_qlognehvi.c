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
 * so the value is deterministic and smooth; the constraint models take a second sequence
 * (mc_joint.h's sets), so constraints leave the objectives' draws unchanged.
 *
 * Outcome constraints (acqf_mo.h; BoTorch's qLogNEHVI with constraints): each sample's
 * front and decomposition use only the baseline points feasible in that sample (g_k <= 0,
 * as _set_cell_bounds' feasibility mask), the candidate's log HVI_s gets
 * Σ_k log fatmoid(−g_k(x)^s/η), η = 1e-3, and the pruning counts a point in a draw only
 * when it is feasible there (prune_inferior_points_multi_objective sets infeasible points
 * to the reference point). The pre-filter lets only surely feasible points (μ_g + 4σ_g
 * <= 0) dominate others.
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
#include "acqf_feasible.h"
#include "acqf_impl.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "mc_joint.h"
#include "pareto.h"
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
    size_t k;                     /* outputs: the objectives, then the constraint models */
    double ref[S_M];              /* reference point */
    hone_acqf_feasible_t feas;    /* outcome constraints (n_con = 0: none) */
    hone_mc_joint_set_t *set;     /* joint draws of the outputs at X_b and candidates */
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
    /* eval scratch (the draws y, k×N with y[j·N + s], are the set's) */
    double *a, *la, *dla;         /* max_levels: fatplus(y − l), its log, ∂log/∂y */
    double *e, *t, *dt;           /* max_pairs: smoothed side lengths, their logs, ∂t/∂y */
    double *pbar;                 /* max_pairs: Σ of the volumes of the cells using a pair */
    double *v;                    /* max_cells: cell volumes (or exp of the shifted logs) */
    double *logh;                 /* N: log HVI_s (+ log W_s with constraints) */
    double *dlog;                 /* k×N: ∂log W_s/∂y (constraints) */
} s_qlognehvi_t;

static void s_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    s_qlognehvi_t *self = (s_qlognehvi_t *) *self_p;
    hone_mc_joint_set_destroy(&self->set);
    hone_acqf_feasible_release(&self->feas);
    void *buffers[] = { self->level_off, self->level_lo, self->pair_off, self->pair_level,
                        self->pair_len, self->pair_loglen, self->cell_off, self->cell_pair,
                        self->a, self->la, self->dla, self->e, self->t, self->dt, self->pbar,
                        self->v, self->logh, self->dlog };
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; i++)
        hone_free(buffers[i]);
    hone_free(self);
    *self_p = NULL;
}

/* ---- create ------------------------------------------------------------------- */

/* The pre-filter (header comment): keep[i] when the upper bound of point i is above ref
 * in every objective and no surely feasible point's lower bound weakly dominates it.
 * mu, sd: nc rows of the ko outputs (objectives first). A lower bound that weakly
 * dominates U_i is weakly dominated by a member of the lower bounds' front, so only that
 * front is scanned: O(nc·k·m). */
static void s_prefilter(const hone_acqf_feasible_t *feas, size_t m, size_t ko, size_t nc,
                        const double *mu, const double *sd, const double *ref, bool *keep)
{
    double *lower = hone_alloc_array(nc * m, sizeof(double));
    size_t *front = hone_alloc_array(nc, sizeof(size_t));
    for (size_t i = 0; i < nc; i++) {
        bool surely = hone_acqf_feasible_surely(feas, mu + i * ko, sd + i * ko, 1,
                                                S_FILTER_SIGMAS);
        for (size_t j = 0; j < m; j++)   /* NaN rows are on no front */
            lower[i * m + j] = surely ? mu[i * ko + j] - S_FILTER_SIGMAS * sd[i * ko + j] : NAN;
    }
    size_t k = hone_pareto_front(lower, nc, m, NULL, true, front);
    for (size_t i = 0; i < nc; i++) {
        double upper[S_M];
        bool ok = true;
        for (size_t j = 0; j < m; j++) {
            upper[j] = mu[i * ko + j] + S_FILTER_SIGMAS * sd[i * ko + j];
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
 * the last layer that fits partly). mu: nc rows of ko values, the m objectives first. */
static void s_cap_layers(size_t m, size_t ko, size_t nc, const double *mu, bool *keep,
                         size_t cap)
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
            memcpy(rows + r * m, mu + rem[r] * ko, m * sizeof(double));
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
 * joint draws in which baseline point i is feasible, on the Pareto front of the feasible
 * points and better than ref. The objectives' normals come from one stream (in the
 * order of the unconstrained version), the constraint models' from another. */
static void s_prune_counts(const s_qlognehvi_t *self, uint64_t seed, size_t *count)
{
    size_t m = self->m, k = self->k, nb = self->nb;
    hone_rng_t rng, rng_con;
    hone_rng_seed(&rng, seed);
    hone_rng_seed(&rng_con, hone_rng_derive(seed, 1));
    double *z = hone_alloc_array(S_PRUNE_CHUNK * nb, sizeof(double));
    double *fb = hone_alloc_array(k * S_PRUNE_CHUNK * nb, sizeof(double));   /* j: C×nb */
    double *y = hone_alloc_array(nb * m, sizeof(double));
    size_t *front = hone_alloc_array(nb, sizeof(size_t));
    double row[HONE_ACQF_MO_MAX_OUTPUTS];
    memset(count, 0, nb * sizeof *count);
    for (size_t done = 0; done < S_PRUNE_DRAWS; done += S_PRUNE_CHUNK) {
        for (size_t j = 0; j < k; j++) {
            hone_mc_joint_t *post = hone_mc_joint_set_output(self->set, j);
            if (!post)
                continue;
            hone_rng_t *r = j < m ? &rng : &rng_con;
            for (size_t i = 0; i < S_PRUNE_CHUNK * nb; i++)
                z[i] = hone_special_normal_from_uniform(hone_rng_uniform(r));
            hone_mc_joint_sample_baseline(post, S_PRUNE_CHUNK, z, S_PRUNE_CHUNK,
                                          fb + j * S_PRUNE_CHUNK * nb, S_PRUNE_CHUNK);
        }
        for (size_t s = 0; s < S_PRUNE_CHUNK; s++) {
            for (size_t i = 0; i < nb; i++) {
                for (size_t j = 0; j < k; j++)
                    row[j] = fb[j * S_PRUNE_CHUNK * nb + s + i * S_PRUNE_CHUNK];
                bool feasible = hone_acqf_feasible_ok(&self->feas, row, 1);
                for (size_t j = 0; j < m; j++)
                    y[i * m + j] = feasible ? row[j] : NAN;
            }
            size_t nf = hone_pareto_front(y, nb, m, self->ref, true, front);
            for (size_t f = 0; f < nf; f++)
                count[front[f]]++;
        }
    }
    hone_free(z);
    hone_free(fb);
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

/* Builds one cached root per output at the nb points xb; false if one does not
 * factorize. */
static bool s_build_roots(s_qlognehvi_t *self, const hone_gp_t *const *outputs, size_t nb,
                          const double *xb)
{
    hone_mc_joint_set_destroy(&self->set);
    self->set = hone_mc_joint_set_new(self->k, outputs, nb, xb, S_SAMPLES, S_BATCH);
    self->nb = nb;
    return self->set != NULL;
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

/* The per-sample decompositions of the baseline draws (of the points feasible in the
 * sample), stored as side pairs. */
static void s_decompose_samples(s_qlognehvi_t *self)
{
    size_t m = self->m, k = self->k, nb = self->nb, N = S_SAMPLES;
    double *fb = hone_alloc_array(k * N * (nb ? nb : 1), sizeof(double));   /* j: N×nb */
    for (size_t j = 0; j < k && nb > 0; j++)
        hone_mc_joint_set_sample_baseline(self->set, j, fb + j * N * nb);
    double row[HONE_ACQF_MO_MAX_OUTPUTS];
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
        size_t nf = 0;
        for (size_t i = 0; i < nb; i++) {
            for (size_t j = 0; j < k; j++)
                row[j] = fb[j * N * nb + s + i * N];
            if (!hone_acqf_feasible_ok(&self->feas, row, 1))
                continue;
            memcpy(ys + nf * m, row, m * sizeof(double));
            nf++;
        }
        hone_cells_decompose(cells, ys, nf, self->ref);
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
    hone_free(fb);
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
    size_t d;
    if (!hone_acqf_feasible_check_context(ctx, &d) || ctx->m < 2 || ctx->m > S_M ||
        !ctx->ref || !s_finite(ctx->m, ctx->ref))
        return NULL;
    size_t m = ctx->m, k = m + ctx->n_con_models;

    /* Candidates for the baseline: observed points, then pending points. */
    size_t nc, n_obs;
    double *xc = hone_acqf_feasible_baseline_points(ctx, ctx->models[0], d, &nc, &n_obs);
    double *mu = hone_alloc_array((nc ? nc : 1) * k, sizeof(double));
    double *sd = hone_alloc_array((nc ? nc : 1) * k, sizeof(double));
    bool *keep = hone_alloc_array(nc ? nc : 1, sizeof(bool));
    size_t *count = hone_alloc_array(nc ? nc : 1, sizeof(size_t));

    s_qlognehvi_t *self = hone_alloc(sizeof *self);
    self->base.type = &hone_acqf_qlognehvi;
    self->base.d = d;
    self->m = m;
    self->k = k;
    memcpy(self->ref, ctx->ref, m * sizeof(double));
    hone_acqf_feasible_init(&self->feas, ctx);
    const hone_gp_t *outputs[HONE_ACQF_MO_MAX_OUTPUTS];
    hone_acqf_feasible_outputs(&self->feas, ctx, true, outputs);
    bool ok = hone_acqf_feasible_predict_outputs(outputs, k, nc, xc, mu, sd) == HONE_OK;

    /* pre-filter and cap, then the pruning draws */
    size_t nb = 0;
    if (ok && nc > 0) {
        s_prefilter(&self->feas, m, k, nc, mu, sd, self->ref, keep);
        nb = 0;
        for (size_t i = 0; i < nc; i++)
            nb += keep[i];
        if (nb > S_MAX_CANDIDATES)
            s_cap_layers(m, k, nc, mu, keep, S_MAX_CANDIDATES);
        nb = s_compact_rows(nc, d, xc, keep);
    }
    ok = ok && s_build_roots(self, outputs, nb, xc);
    if (ok && nb > 0) {
        s_prune_counts(self, hone_rng_derive(ctx->seed, 1), count);
        size_t kept = s_select_pruned(nb, count, keep);
        if (kept < nb) {
            s_compact_rows(nb, d, xc, keep);
            ok = s_build_roots(self, outputs, kept, xc);
        }
    }
    ok = ok && hone_mc_joint_set_base_samples(self->set, m,
                                              hone_rng_derive(ctx->seed, HONE_RNG_MC_BASE)) == HONE_OK;
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
    s_decompose_samples(self);

    size_t N = S_SAMPLES;
    self->a = hone_alloc_array(self->max_levels, sizeof(double));
    self->la = hone_alloc_array(self->max_levels, sizeof(double));
    self->dla = hone_alloc_array(self->max_levels, sizeof(double));
    self->e = hone_alloc_array(self->max_pairs, sizeof(double));
    self->t = hone_alloc_array(self->max_pairs, sizeof(double));
    self->dt = hone_alloc_array(self->max_pairs, sizeof(double));
    self->pbar = hone_alloc_array(self->max_pairs, sizeof(double));
    self->v = hone_alloc_array(self->max_cells, sizeof(double));
    self->logh = hone_alloc_array(N, sizeof(double));
    self->dlog = hone_alloc_array(k * N, sizeof(double));
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
static double s_log_hvi(s_qlognehvi_t *self, const double *y, size_t s, double *gy)
{
    size_t m = self->m, N = S_SAMPLES;
    size_t p0 = self->pair_off[s * m], l0 = self->level_off[s * m];
    double *e = self->e, *t = self->t, *dt = self->dt, *v = self->v;
    double *fp = self->a, *la = self->la, *dla = self->dla;
    for (size_t j = 0; j < m; j++) {
        double yj = y[j * N + s];
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

/* logmeanexp_s (log HVI_s + log W_s) for the draws y; with ybar, ∂value/∂y (softmax
 * weight of the sample times ∂(log HVI_s + log W_s)/∂y; hone_mc_joint_value_fn). */
static double s_value(void *arg, const double *y, double *ybar)
{
    s_qlognehvi_t *self = arg;
    size_t m = self->m, k = self->k, N = S_SAMPLES;
    bool con = self->feas.n_con > 0;
    double gy[S_M];
    for (size_t s = 0; s < N; s++) {
        self->logh[s] = s_log_hvi(self, y, s, ybar ? gy : NULL);
        if (con)
            self->logh[s] += hone_acqf_feasible_log_weight(&self->feas, y + s, N,
                                                           ybar ? self->dlog + s : NULL, N);
        if (ybar) {
            for (size_t j = 0; j < m; j++)
                ybar[j * N + s] = gy[j] + (con ? self->dlog[j * N + s] : 0.0);
            for (size_t j = m; j < k; j++)
                ybar[j * N + s] = self->dlog[j * N + s];
        }
    }
    double lse = hone_special_logsumexp(N, self->logh);
    if (ybar)
        for (size_t s = 0; s < N; s++) {
            double w = exp(self->logh[s] - lse);
            for (size_t j = 0; j < k; j++)
                ybar[j * N + s] *= w;
        }
    return lse - log((double) N);
}

static int s_eval(hone_acqf_t *base, size_t n, const double *x, double *value)
{
    s_qlognehvi_t *self = (s_qlognehvi_t *) base;
    HONE_ASSERT(self && (n == 0 || (x && value)));
    return hone_mc_joint_set_values(self->set, n, x, s_value, self, value);
}

static int s_eval_grad(hone_acqf_t *base, const double *x, double *value, double *grad)
{
    s_qlognehvi_t *self = (s_qlognehvi_t *) base;
    HONE_ASSERT(self && x && value && grad);
    return hone_mc_joint_set_value_grad(self->set, x, s_value, self, value, grad);
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
