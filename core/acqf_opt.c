/* acqf_opt.c: hone_acqf_optimize (reference/bo-numerics.md §3.1, §3.2, §3.3, §3.5): its
 * options, validation and per-call state, the restart selection and the driver. The
 * stages it drives live in acqf_opt_continuous.c (feasibility, raw samples, local runs,
 * repair) and acqf_opt_discrete.c (grid projection, neighbour moves, enumeration); their
 * seam is acqf_opt_internal.h.
 *
 * 1. Raw samples: R scrambled Sobol points (HONE_RNG_SOBOL_RAW), evaluated in one batch.
 *    With linear constraints the infeasible ones are dropped and the set is topped up to
 *    R by hit-and-run (HONE_RNG_POLYTOPE) from an interior point: the centroid of the
 *    feasible Sobol points, or the Chebyshev center found by SLSQP when none is feasible.
 * 2. Restarts: Boltzmann sampling on the standardized raw values (BoTorch's
 *    initialize_q_batch, HONE_RNG_BOLTZMANN): weights exp(η·Z), η = 1 halved while a
 *    weight overflows, drawn without replacement, the argmax forced in; uniform when the
 *    values are all equal. Non-finite values are never drawn.
 * 3. Local runs: L-BFGS (SLSQP with constraints) on −acqf from every start, over the
 *    continuous relaxation of the discrete dimensions. An SLSQP end point that violates
 *    A·x <= b is pulled back along the segment to its (feasible) start.
 * 4. Discrete dimensions: the result is projected onto the grid (ordinals rounded to the
 *    nearest level, one-hot groups by argmax), then greedy neighbour moves alternate with
 *    short continuous polishes (discrete dimensions fixed): ±1 level on each ordinal,
 *    every other level of each group, all neighbours evaluated in one batch. A grid
 *    point outside the polytope first moves its continuous dimensions to the Chebyshev
 *    center of what the constraints leave of them ("repair"). Without continuous dimensions and at most S_ENUMERATE_MAX combinations, every
 *    combination is evaluated instead.
 * 5. The best result that is feasible and not within 1e-6 (max norm) of an excluded
 *    point wins; failing that, the best such raw sample (projected onto the grid).
 *
 * Memory: the buffers of the evaluation path are allocated once per call (s_opt_new):
 * the NLopt callback and the neighbour moves never allocate; NLopt itself, a repair and
 * the polytope sampler allocate once per run. Results depend only on the inputs and the
 * seed. An acquisition object is not thread-safe, so neither is one call on it. */
#include "acqf_opt_internal.h"

#include <math.h>

#include "alloc.h"

#define S_DEFAULT_RAW 1024
#define S_DEFAULT_RESTARTS 20
#define S_DEFAULT_MAX_EVAL 200
#define S_ENUMERATE_MAX 1000      /* all-discrete spaces up to this size are enumerated */

void hone_acqf_opt_options_init(hone_acqf_opt_options_t *opts)
{
    HONE_ASSERT(opts);
    memset(opts, 0, sizeof *opts);
    opts->raw_samples = S_DEFAULT_RAW;
    opts->restarts = S_DEFAULT_RESTARTS;
    opts->max_eval = S_DEFAULT_MAX_EVAL;
}

static int s_validate(const hone_acqf_t *acqf, const hone_acqf_space_t *space,
                      const double *excluded, size_t n_excluded,
                      const hone_acqf_opt_options_t *opts, hone_error_t *err)
{
    size_t d = space->d;
    if (d == 0 || d != acqf->d)
        return hone_error_set(err, HONE_EINVAL, "acquisition space: dimension %zu, the "
                              "acquisition has %zu", d, acqf->d);
    if (opts->raw_samples < 0 || opts->restarts < 0 || opts->max_eval < 0)
        return hone_error_set(err, HONE_EINVAL, "acquisition options: negative raw_samples, "
                              "restarts or max_eval");
    if (n_excluded > 0 && !excluded)
        return hone_error_set(err, HONE_EINVAL, "acquisition: %zu excluded points but no array",
                              n_excluded);
    if (space->n_ineq > 0 && (!space->ineq_a || !space->ineq_b))
        return hone_error_set(err, HONE_EINVAL, "acquisition space: %zu linear constraints but "
                              "no coefficients", space->n_ineq);
    for (size_t i = 0; i < space->n_ineq * d; i++)
        if (!isfinite(space->ineq_a[i]))
            return hone_error_set(err, HONE_EINVAL, "acquisition space: non-finite constraint "
                                  "coefficient");
    for (size_t i = 0; i < space->n_ineq; i++)
        if (isnan(space->ineq_b[i]))
            return hone_error_set(err, HONE_EINVAL, "acquisition space: NaN constraint bound");
    for (size_t a = 0; a < d; a++) {
        int kind = hone_acqf_opt_kind(space, a);
        if (kind == HONE_ACQF_OPT_KIND_ORDINAL && (!space->levels || space->levels[a] < 1))
            return hone_error_set(err, HONE_EINVAL, "acquisition space: ordinal dimension %zu "
                                  "needs at least one level", a);
        if (kind == HONE_ACQF_OPT_KIND_ONEHOT && !space->group)
            return hone_error_set(err, HONE_EINVAL, "acquisition space: one-hot dimension %zu "
                                  "without a group", a);
        if (kind < HONE_ACQF_OPT_KIND_CONT || kind > HONE_ACQF_OPT_KIND_ONEHOT)
            return hone_error_set(err, HONE_EINVAL, "acquisition space: dimension %zu has "
                                  "unknown kind %d", a, kind);
    }
    return HONE_OK;
}

static hone_acqf_opt_t *s_opt_new(hone_acqf_t *acqf, const hone_acqf_space_t *space,
                          const double *excluded, size_t n_excluded, int max_eval)
{
    size_t d = space->d;
    size_t n_ineq = space->n_ineq;
    hone_acqf_opt_t *o = hone_alloc(sizeof *o);
    o->acqf = acqf;
    o->d = d;
    o->space = space;
    o->excluded = excluded;
    o->n_excluded = n_excluded;
    o->max_eval = max_eval;
    o->cont = hone_alloc_array(d, sizeof(size_t));
    o->ord = hone_alloc_array(d, sizeof(size_t));
    o->group_start = hone_alloc_array(d + 1, sizeof(size_t));
    o->member = hone_alloc_array(d, sizeof(size_t));
    o->free = hone_alloc_array(d, sizeof(size_t));
    o->x_full = hone_alloc_array(d, sizeof(double));
    o->grad_full = hone_alloc_array(d, sizeof(double));
    o->x_red = hone_alloc_array(d, sizeof(double));
    o->lower = hone_alloc_array(d, sizeof(double));
    o->upper = hone_alloc_array(d, sizeof(double));
    o->x_start = hone_alloc_array(d, sizeof(double));
    o->scratch = hone_alloc_array(d, sizeof(double));
    o->a_red = hone_alloc_array(n_ineq * d + 1, sizeof(double));
    o->b_red = hone_alloc_array(n_ineq + 1, sizeof(double));
    o->rep_a = hone_alloc_array(n_ineq * d + 1, sizeof(double));
    o->rep_b = hone_alloc_array(n_ineq + 1, sizeof(double));
    for (size_t a = 0; a < d; a++)
        o->upper[a] = 1.0;

    /* Classify; one-hot members are gathered by group id in order of first appearance. */
    size_t n_onehot = 0;
    for (size_t a = 0; a < d; a++) {
        int kind = hone_acqf_opt_kind(space, a);
        if (kind == HONE_ACQF_OPT_KIND_CONT)
            o->cont[o->n_cont++] = a;
        else if (kind == HONE_ACQF_OPT_KIND_ORDINAL)
            o->ord[o->n_ord++] = a;
        else
            n_onehot++;
    }
    bool *taken = hone_alloc_array(d, sizeof(bool));
    size_t k = 0;
    for (size_t a = 0; a < d; a++) {
        if (hone_acqf_opt_kind(space, a) != HONE_ACQF_OPT_KIND_ONEHOT || taken[a])
            continue;
        o->group_start[o->n_groups++] = k;
        for (size_t b = a; b < d; b++)
            if (hone_acqf_opt_kind(space, b) == HONE_ACQF_OPT_KIND_ONEHOT && !taken[b] && space->group[b] == space->group[a]) {
                taken[b] = true;
                o->member[k++] = b;
            }
    }
    HONE_ASSERT(k == n_onehot);
    o->group_start[o->n_groups] = k;
    hone_free(taken);

    o->nbr_cap = 2 * o->n_ord + n_onehot;
    o->nbr = hone_alloc_array((1 + o->nbr_cap) * d, sizeof(double));
    o->nbr_val = hone_alloc_array(1 + o->nbr_cap, sizeof(double));
    return o;
}

static void s_opt_destroy(hone_acqf_opt_t **o_p)
{
    hone_acqf_opt_t *o = *o_p;
    if (!o)
        return;
    hone_free(o->cont);
    hone_free(o->ord);
    hone_free(o->group_start);
    hone_free(o->member);
    hone_free(o->free);
    hone_free(o->x_full);
    hone_free(o->grad_full);
    hone_free(o->x_red);
    hone_free(o->lower);
    hone_free(o->upper);
    hone_free(o->x_start);
    hone_free(o->scratch);
    hone_free(o->a_red);
    hone_free(o->b_red);
    hone_free(o->rep_a);
    hone_free(o->rep_b);
    hone_free(o->nbr);
    hone_free(o->nbr_val);
    hone_free(o);
    *o_p = NULL;
}

static bool s_has_discrete(const hone_acqf_opt_t *o)
{
    return o->n_cont < o->d;
}

/* ---- restart selection ---- */

/* Chooses k distinct indices among the finite values (k <= their number). */
static void s_boltzmann(const double *values, size_t R, size_t k, uint64_t seed, size_t *chosen)
{
    hone_rng_t rng;
    hone_rng_seed(&rng, hone_rng_derive(seed, HONE_RNG_BOLTZMANN));
    double *w = hone_alloc_array(R, sizeof(double));
    size_t n_finite = 0, imax = R;
    double mean = 0.0;
    for (size_t i = 0; i < R; i++)
        if (isfinite(values[i])) {
            n_finite++;
            mean += values[i];
            if (imax == R || values[i] > values[imax])
                imax = i;
        }
    HONE_ASSERT(n_finite >= k && k > 0);
    mean /= (double) n_finite;
    double ss = 0.0;
    for (size_t i = 0; i < R; i++)
        if (isfinite(values[i]))
            ss += (values[i] - mean) * (values[i] - mean);
    double sd = n_finite > 1 ? sqrt(ss / (double) (n_finite - 1)) : 0.0;   /* torch's std */
    double eta = 1.0;
    for (;;) {
        bool overflow = false;
        for (size_t i = 0; i < R; i++) {
            if (!isfinite(values[i]))
                w[i] = 0.0;
            else if (!(sd > 0.0))
                w[i] = 1.0;   /* all equal: uniform */
            else
                w[i] = exp(eta * (values[i] - mean) / sd);
            overflow = overflow || isinf(w[i]);
        }
        if (!overflow)
            break;
        eta *= 0.5;
    }
    bool have_max = false;
    for (size_t j = 0; j < k; j++) {
        double total = 0.0;
        for (size_t i = 0; i < R; i++)
            total += w[i] > 0.0 ? w[i] : 0.0;
        size_t pick = R;
        if (total > 0.0) {
            double target = hone_rng_uniform(&rng) * total, acc = 0.0;
            for (size_t i = 0; i < R; i++) {
                if (w[i] <= 0.0)
                    continue;
                acc += w[i];
                pick = i;
                if (acc > target)
                    break;
            }
        }
        if (pick == R) {   /* the remaining weights underflowed: uniform over the rest */
            size_t left = 0;
            for (size_t i = 0; i < R; i++)
                left += isfinite(values[i]) && w[i] >= 0.0;
            uint64_t r = hone_rng_below(&rng, left);
            for (size_t i = 0; i < R; i++)
                if (isfinite(values[i]) && w[i] >= 0.0 && r-- == 0) {
                    pick = i;
                    break;
                }
        }
        HONE_ASSERT(pick < R);
        chosen[j] = pick;
        w[pick] = -1.0;   /* taken */
        have_max = have_max || pick == imax;
    }
    if (!have_max)
        chosen[k - 1] = imax;
    hone_free(w);
}

/* ---- the driver ---- */

int hone_acqf_optimize(hone_acqf_t *acqf, const hone_acqf_space_t *space,
                       const double *excluded, size_t n_excluded,
                       const hone_acqf_opt_options_t *opts, double *x_out, double *value_out,
                       hone_error_t *err)
{
    HONE_ASSERT(acqf && space && x_out);
    hone_acqf_opt_options_t defaults;
    if (!opts) {
        hone_acqf_opt_options_init(&defaults);
        opts = &defaults;
    }
    int rc = s_validate(acqf, space, excluded, n_excluded, opts, err);
    if (rc != HONE_OK)
        return rc;
    size_t R = opts->raw_samples > 0 ? (size_t) opts->raw_samples : S_DEFAULT_RAW;
    size_t restarts = opts->restarts > 0 ? (size_t) opts->restarts : S_DEFAULT_RESTARTS;
    int max_eval = opts->max_eval > 0 ? opts->max_eval : S_DEFAULT_MAX_EVAL;
    size_t d = space->d;

    hone_acqf_opt_t *o = s_opt_new(acqf, space, excluded, n_excluded, max_eval);
    if (o->n_cont == 0 && hone_acqf_opt_grid_size(o) <= S_ENUMERATE_MAX) {
        rc = hone_acqf_opt_enumerate(o, (size_t) hone_acqf_opt_grid_size(o), x_out, value_out, err);
        s_opt_destroy(&o);
        return rc;
    }

    double *raw = hone_alloc_array(R * d, sizeof(double));
    double *raw_val = hone_alloc_array(R, sizeof(double));
    size_t *starts = hone_alloc_array(restarts, sizeof(size_t));
    double *cand = hone_alloc_array(restarts * d, sizeof(double));
    double *cand_val = hone_alloc_array(restarts, sizeof(double));
    bool *cand_ok = hone_alloc_array(restarts, sizeof(bool));
    bool *fixed = hone_alloc_array(d, sizeof(bool));
    size_t k = 0;

    rc = hone_acqf_opt_raw_samples(o, R, opts->seed, raw, err);
    if (rc == HONE_OK) {
        rc = hone_acqf_eval(acqf, R, raw, raw_val);
        if (rc != HONE_OK)
            hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
    }
    if (rc == HONE_OK) {
        size_t n_finite = 0;
        for (size_t i = 0; i < R; i++)
            n_finite += isfinite(raw_val[i]) != 0;
        k = restarts < n_finite ? restarts : n_finite;
        if (k == 0)
            rc = hone_error_set(err, HONE_ENUMERIC, "the acquisition is not finite at any of "
                                "the %zu raw samples", R);
        else
            s_boltzmann(raw_val, R, k, opts->seed, starts);
    }

    /* Local runs over the relaxation, then the grid for discrete dimensions. */
    for (size_t j = 0; rc == HONE_OK && j < k; j++) {
        double *x = cand + j * d;
        memcpy(x, raw + starts[j] * d, d * sizeof(double));
        rc = hone_acqf_opt_local(o, x, NULL, max_eval);
        if (rc == HONE_OK && s_has_discrete(o)) {
            hone_acqf_opt_project(o, x);
            rc = hone_acqf_opt_discrete_search(o, x, fixed, &cand_val[j], &cand_ok[j]);
        }
        if (rc != HONE_OK)
            hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
    }
    if (rc == HONE_OK && !s_has_discrete(o)) {
        rc = hone_acqf_eval(acqf, k, cand, cand_val);
        if (rc != HONE_OK)
            hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
        for (size_t j = 0; j < k; j++)
            cand_ok[j] = !isnan(cand_val[j]) && hone_acqf_opt_acceptable(o, cand + j * d);
    }

    /* The best acceptable restart result; else the best acceptable raw sample. */
    if (rc == HONE_OK) {
        size_t best = k;
        for (size_t j = 0; j < k; j++)
            if (cand_ok[j] && (best == k || cand_val[j] > cand_val[best]))
                best = j;
        if (best < k) {
            memcpy(x_out, cand + best * d, d * sizeof(double));
            if (value_out)
                *value_out = cand_val[best];
        }
        else {
            /* Project every raw sample, keep the acceptable ones, evaluate them at once. */
            size_t n = 0;
            for (size_t i = 0; i < R; i++) {
                double *y = raw + n * d;
                if (n != i)
                    memcpy(y, raw + i * d, d * sizeof(double));
                hone_acqf_opt_project(o, y);
                if (o->space->n_ineq > 0)
                    (void) hone_acqf_opt_repair(o, y);   /* rounding may have left the polytope */
                if (hone_acqf_opt_acceptable(o, y))
                    n++;
            }
            size_t pick = n;
            if (n > 0) {
                rc = hone_acqf_eval(acqf, n, raw, raw_val);
                if (rc != HONE_OK)
                    hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
            }
            for (size_t i = 0; rc == HONE_OK && i < n; i++)
                if (!isnan(raw_val[i]) && (pick == n || raw_val[i] > raw_val[pick]))
                    pick = i;
            if (rc == HONE_OK && pick == n)
                rc = hone_error_set(err, HONE_EEXHAUSTED, "every candidate of the acquisition "
                                    "optimization is excluded or infeasible");
            if (rc == HONE_OK) {
                memcpy(x_out, raw + pick * d, d * sizeof(double));
                if (value_out)
                    *value_out = raw_val[pick];
            }
        }
    }

    hone_free(raw);
    hone_free(raw_val);
    hone_free(starts);
    hone_free(cand);
    hone_free(cand_val);
    hone_free(cand_ok);
    hone_free(fixed);
    s_opt_destroy(&o);
    return rc;
}
