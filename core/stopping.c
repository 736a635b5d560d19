/* stopping.c: the percentile and threshold early-stopping strategies (stopping.h).
 *
 * Sources, all Ax `main` as summarized by reference/ax-client-behaviour.md §5:
 * ax/early_stopping/strategies/base.py (validation, is_eligible_any, is_eligible and the
 * interval rule, check_safe before everything), strategies/percentile.py (the patience
 * window, min_curves per row, n_best_trials_to_complete, the quantile rule),
 * strategies/threshold.py (the last raw value against metric_threshold), utils.py
 * (_interval_boundary, _is_worse, align_partial_results) and simulation.py
 * (best_trial_vulnerable: the check_safe replay). Reasons follow Ax's wording where Ax
 * has one and say the numbers that decided. */
#include "stopping.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "alloc.h"

static const char *const s_type_names[] = { "percentile", "threshold" };

const char *hone_stopping_type_name(int type)
{
    return type >= 0 && (size_t) type < HONE_ARRAY_LEN(s_type_names) ? s_type_names[type] : NULL;
}

int hone_stopping_type_parse(const char *name, hone_stopping_type_t *out, hone_error_t *err)
{
    for (size_t i = 0; name && i < HONE_ARRAY_LEN(s_type_names); i++)
        if (strcasecmp(name, s_type_names[i]) == 0) {
            *out = (hone_stopping_type_t) i;
            return HONE_OK;
        }
    return hone_error_set(err, HONE_EINVAL,
                          "early_stopping.type: must be \"percentile\" or \"threshold\" (got \"%s\")",
                          name ? name : "(null)");
}

void hone_stopping_config_init(hone_stopping_config_t *cfg, hone_stopping_type_t type)
{
    HONE_ASSERT(cfg);
    /* PercentileEarlyStoppingStrategy() / ThresholdEarlyStoppingStrategy() defaults */
    *cfg = (hone_stopping_config_t) {
        .type = type,
        .percentile_threshold = 50.0,
        .metric_threshold = 0.2,
        .min_progression = 10.0,
        .max_progression = NAN,
        .min_curves = 5,
        .normalize_progressions = false,
        .n_best_trials_to_complete = 0,
        .interval = NAN,
        .patience = 0.0,
        .check_safe = false,
    };
}

#define S_FIELD "early_stopping."

int hone_stopping_config_validate(const hone_stopping_config_t *cfg, hone_error_t *err)
{
    HONE_ASSERT(cfg);
    bool percentile = cfg->type == HONE_STOPPING_PERCENTILE;
    if (!hone_stopping_type_name((int) cfg->type))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "type: must be \"percentile\" or \"threshold\"");
    if (percentile && !(cfg->percentile_threshold >= 0.0 && cfg->percentile_threshold <= 100.0))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "percentile_threshold: must be in [0, 100] (got %g)",
                              cfg->percentile_threshold);
    if (!percentile && !isfinite(cfg->metric_threshold))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "metric_threshold: must be a finite number (got %g)",
                              cfg->metric_threshold);
    bool has_min = !isnan(cfg->min_progression), has_max = !isnan(cfg->max_progression);
    if (has_min && !(isfinite(cfg->min_progression) && cfg->min_progression >= 0.0))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "min_progression: must be nonnegative and finite (got %g)",
                              cfg->min_progression);
    if (has_max && !isfinite(cfg->max_progression))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "max_progression: must be finite (got %g)",
                              cfg->max_progression);
    if (has_min && has_max && !(cfg->min_progression < cfg->max_progression))
        return hone_error_set(err, HONE_EINVAL,
                              S_FIELD "max_progression: must be greater than min_progression "
                              "(got min_progression=%g, max_progression=%g)",
                              cfg->min_progression, cfg->max_progression);
    if (!isnan(cfg->interval) && !(isfinite(cfg->interval) && cfg->interval > 0.0))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "interval: must be positive and finite (got %g)",
                              cfg->interval);
    if (!percentile) {
        if (cfg->patience != 0.0)
            return hone_error_set(err, HONE_EINVAL,
                                  S_FIELD "patience: not a parameter of the threshold strategy");
        if (cfg->n_best_trials_to_complete != 0)
            return hone_error_set(err, HONE_EINVAL,
                                  S_FIELD "n_best_trials_to_complete: not a parameter of the threshold strategy");
        return HONE_OK;
    }
    if (!(isfinite(cfg->patience) && cfg->patience >= 0.0))
        return hone_error_set(err, HONE_EINVAL, S_FIELD "patience: must be nonnegative and finite (got %g)",
                              cfg->patience);
    if (has_min && cfg->patience > cfg->min_progression)
        return hone_error_set(err, HONE_EINVAL,
                              S_FIELD "patience: must not exceed min_progression (got patience=%g, "
                              "min_progression=%g)",
                              cfg->patience, cfg->min_progression);
    return HONE_OK;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return (x > y) - (x < y);
}

double hone_stopping_quantile(double *values, size_t n, double q)
{
    HONE_ASSERT(values && n >= 1 && q >= 0.0 && q <= 1.0);
    qsort(values, n, sizeof(double), s_cmp_double);
    /* numpy's "linear" method, written as numpy computes it so that a value on the
     * threshold compares the same: the virtual index h = (n - 1) q, then _lerp, which
     * interpolates from the nearer neighbour. */
    double h = (double) (n - 1) * q;
    double lo_f = floor(h);
    size_t lo = (size_t) lo_f;
    if (lo >= n - 1)
        return values[n - 1];
    double a = values[lo], b = values[lo + 1], t = h - lo_f, diff = b - a;
    return t >= 0.5 ? b - diff * (1.0 - t) : a + diff * t;
}

/* ---- evaluation context: the inputs and the scratch of one call ---- */

typedef struct s_row {
    int64_t row;        /* raw progression */
    size_t n;           /* trials with a value there (of the reference set) */
    double threshold;   /* the quantile of their values; NAN when n == 0 */
    bool has_value;     /* the judged trial has a value there */
    double value;       /* its value */
    uint32_t rank;      /* its dense rank, 1 = best */
    bool worse;         /* its value is worse than threshold */
} s_row_t;

typedef struct s_ctx {
    const hone_stopping_config_t *cfg;  /* the configuration */
    const hone_curves_t *curves;        /* the data */
    bool minimize;                      /* lower is better */
    hone_progression_scale_t scale;     /* raw -> strategy progressions */
    double q;                           /* quantile level of the threshold */
    bool has_min, has_max;              /* min/max_progression set */
    double *vals;                       /* one row's values, sorted; size(curves) */
    size_t *distinct;                   /* distinct[k]: distinct values in vals[0..k) */
    int64_t *rows, *wrows;              /* rows of a range / of a window */
    size_t cap_rows, cap_wrows;         /* their capacities */
    s_row_t *info;                      /* per-row results of one judged trial */
    size_t cap_info;                    /* its capacity */
    bool global_ok;                     /* steps 1-3 of stopping.h passed */
    char global_reason[HONE_STOP_REASON_MAX]; /* why not, when !global_ok */
} s_ctx_t;

static void s_ctx_init(s_ctx_t *ctx, const hone_stopping_config_t *cfg, const hone_curves_t *curves,
                       bool minimize)
{
    size_t n = hone_curves_size(curves);
    *ctx = (s_ctx_t) { .cfg = cfg, .curves = curves, .minimize = minimize };
    ctx->scale = hone_curves_scale(curves, cfg->normalize_progressions);
    /* percentile.py: q = p / 100, 1 - q when minimizing; pandas' quantile hands numpy
     * q * 100, which numpy divides by 100 again: kept for bit-equal thresholds. */
    double q = cfg->percentile_threshold / 100.0;
    ctx->q = ((minimize ? 1.0 - q : q) * 100.0) / 100.0;
    ctx->has_min = !isnan(cfg->min_progression);
    ctx->has_max = !isnan(cfg->max_progression);
    ctx->vals = hone_alloc_array(n + 1, sizeof(double));
    ctx->distinct = hone_alloc_array(n + 1, sizeof(size_t));
}

static void s_ctx_free(s_ctx_t *ctx)
{
    hone_free(ctx->vals);
    hone_free(ctx->distinct);
    hone_free(ctx->rows);
    hone_free(ctx->wrows);
    hone_free(ctx->info);
}

static double s_scaled(const s_ctx_t *ctx, int64_t progression)
{
    return hone_progression_scale_apply(&ctx->scale, progression);
}

static bool s_worse(const s_ctx_t *ctx, double a, double b)
{
    return ctx->minimize ? a > b : a < b; /* Ax's _is_worse; false against NAN */
}

/* ---- reasons ---- */

typedef struct s_text {
    char *s;            /* the buffer, HONE_STOP_REASON_MAX bytes */
    size_t len;         /* characters written */
} s_text_t;

HONE_PRINTF(2, 3) static void s_say(s_text_t *t, const char *fmt, ...)
{
    size_t room = HONE_STOP_REASON_MAX - t->len;
    if (room <= 1)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->s + t->len, room, fmt, ap);
    va_end(ap);
    if (w < 0)
        return;
    if ((size_t) w >= room) { /* truncated: say so */
        t->len = HONE_STOP_REASON_MAX - 1;
        memcpy(t->s + t->len - 3, "...", 3);
    } else {
        t->len += (size_t) w;
    }
}

/* A progression as the strategy sees it: "20", or "0.4 (step 20)" when normalized. */
static const char *s_prog(const s_ctx_t *ctx, int64_t progression, char buf[64])
{
    if (ctx->scale.normalized)
        snprintf(buf, 64, "%.6g (step %lld)", s_scaled(ctx, progression), (long long) progression);
    else
        snprintf(buf, 64, "%lld", (long long) progression);
    return buf;
}

static const char *s_opt(double x, char buf[32])
{
    if (isnan(x))
        return "None";
    snprintf(buf, 32, "%.6g", x);
    return buf;
}

/* Two numbers with enough digits to tell them apart. */
static void s_pair(double a, double b, char abuf[32], char bbuf[32])
{
    static const int digits[] = { 6, 10, 17 };   /* 17 tells any two doubles apart */
    for (size_t i = 0; i < HONE_ARRAY_LEN(digits); i++) {
        snprintf(abuf, 32, "%.*g", digits[i], a);
        snprintf(bbuf, 32, "%.*g", digits[i], b);
        if (a == b || strcmp(abuf, bbuf) != 0)
            return;
    }
}

static const char *s_better(const s_ctx_t *ctx)
{
    return ctx->minimize ? "lower is better" : "higher is better";
}

/* ---- rows: values of the curves at one progression ---- */

/* Gathers the values at row of the curves selected by mask (NULL: all), sorted in
 * ctx->vals, their quantile and distinct counts. */
static void s_row_prepare(s_ctx_t *ctx, int64_t row, const uint8_t *mask, s_row_t *st)
{
    size_t n = 0, size = hone_curves_size(ctx->curves);
    for (size_t i = 0; i < size; i++) {
        if (mask && !mask[i])
            continue;
        double v;
        if (hone_curve_value_at(hone_curves_at(ctx->curves, i), row, &v))
            ctx->vals[n++] = v;
    }
    *st = (s_row_t) { .row = row, .n = n, .threshold = NAN };
    if (n > 0)
        st->threshold = hone_stopping_quantile(ctx->vals, n, ctx->q);
    ctx->distinct[0] = 0;
    for (size_t k = 0; k < n; k++)
        ctx->distinct[k + 1] = ctx->distinct[k] + (k == 0 || ctx->vals[k] != ctx->vals[k - 1]);
}

/* Judges curve against the prepared row: its value, dense rank and whether it is worse.
 * The rank is 1 + the number of distinct values strictly better (pandas'
 * rank(method="dense")), which is the same whether or not curve is in the set. */
static void s_row_judge(const s_ctx_t *ctx, s_row_t *st, const hone_curve_t *curve)
{
    st->has_value = hone_curve_value_at(curve, st->row, &st->value);
    st->worse = st->has_value && s_worse(ctx, st->value, st->threshold);
    st->rank = 0;
    if (!st->has_value)
        return;
    size_t lo = 0, hi = st->n; /* lower bound (minimize) or upper bound (maximize) of value */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        bool left = ctx->minimize ? ctx->vals[mid] < st->value : ctx->vals[mid] <= st->value;
        if (left)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t better = ctx->minimize ? ctx->distinct[lo] : ctx->distinct[st->n] - ctx->distinct[lo];
    st->rank = (uint32_t) better + 1;
}

/* ---- steps 1-4 ---- */

/* Ax's _interval_boundary: the boundary min + k*interval at or below progression. */
static double s_boundary(double progression, double min, double interval)
{
    return min + floor((progression - min) / interval) * interval;
}

static bool s_replay_harmful(s_ctx_t *ctx, uint32_t *best_trial, double *best_value, int64_t *at);

static void s_global(s_ctx_t *ctx)
{
    const hone_stopping_config_t *cfg = ctx->cfg;
    s_text_t t = { .s = ctx->global_reason };
    ctx->global_ok = false;
    uint32_t best;
    double best_value;
    int64_t at;
    if (cfg->check_safe && cfg->type == HONE_STOPPING_PERCENTILE && s_replay_harmful(ctx, &best, &best_value, &at)) {
        char p[64];
        s_say(&t, "The safety check (check_safe) blocks early stopping: replayed over the curves so far, "
                  "this strategy would have stopped trial %u, the best completed trial (final objective "
                  "value %.6g), at progression %s.", best, best_value, s_prog(ctx, at, p));
        return;
    }
    if (hone_curves_with_data(ctx->curves) == 0) {
        s_say(&t, "No curve data for the early-stopping metric yet; not stopping any trial.");
        return;
    }
    size_t reached = 0, size = hone_curves_size(ctx->curves);
    for (size_t i = 0; i < size; i++) {
        const hone_curve_point_t *last = hone_curve_last(hone_curves_at(ctx->curves, i));
        reached += last && (!ctx->has_min || s_scaled(ctx, last->progression) >= cfg->min_progression);
    }
    if (reached < cfg->min_curves) {
        if (ctx->has_min)
            s_say(&t, "Only %zu trial(s) have data at or beyond min_progression (%.6g), fewer than "
                      "min_curves (%u); not stopping any trial.", reached, cfg->min_progression, cfg->min_curves);
        else
            s_say(&t, "Only %zu trial(s) have data, fewer than min_curves (%u); not stopping any trial.",
                  reached, cfg->min_curves);
        return;
    }
    ctx->global_ok = true;
}

/* Ax's is_eligible: data, min/max_progression, interval (recording the check). */
static bool s_eligible(const s_ctx_t *ctx, const hone_curve_t *c, hone_stop_decision_t *out, s_text_t *t)
{
    const hone_stopping_config_t *cfg = ctx->cfg;
    const hone_curve_point_t *last = hone_curve_last(c);
    char p[64], a[32], b[32];
    if (!last) {
        s_say(t, "No data available to make an early stopping decision.");
        return false;
    }
    double lp = s_scaled(ctx, last->progression);
    if ((ctx->has_min && lp < cfg->min_progression) || (ctx->has_max && lp > cfg->max_progression)) {
        s_say(t, "Most recent progression (%s) falls out of the min/max_progression range (%s, %s).",
              s_prog(ctx, last->progression, p), s_opt(cfg->min_progression, a), s_opt(cfg->max_progression, b));
        return false;
    }
    if (!isnan(cfg->interval)) {
        double min = ctx->has_min ? cfg->min_progression : 0.0;
        if (c->has_last_check) {
            double prev = s_scaled(ctx, c->last_check);
            if (!(prev < s_boundary(lp, min, cfg->interval))) {
                double start = s_boundary(prev, min, cfg->interval);
                char q[64];
                s_say(t, "Trial has not crossed an interval boundary. Progressed from %s to %s; both are in "
                         "the same interval [%.6g, %.6g). Must reach progression %.6g to be eligible for "
                         "early stopping.", s_prog(ctx, c->last_check, q), s_prog(ctx, last->progression, p),
                      start, start + cfg->interval, start + cfg->interval);
                return false;
            }
        }
        out->record_check = true;
        out->check_progression = last->progression;
    }
    return true;
}

/* ---- step 5 ---- */

static void s_threshold_rule(const s_ctx_t *ctx, const hone_curve_t *c, hone_stop_decision_t *out, s_text_t *t)
{
    const hone_curve_point_t *last = hone_curve_last(c);
    out->should_stop = s_worse(ctx, last->value, ctx->cfg->metric_threshold);
    char p[64], v[32], th[32];
    s_pair(last->value, ctx->cfg->metric_threshold, v, th);
    s_say(t, "Trial objective value %s at progression %s is %s than the metric threshold %s (%s).", v,
          s_prog(ctx, last->progression, p), out->should_stop ? "worse" : "not worse", th, s_better(ctx));
}

static void s_percentile_rule(s_ctx_t *ctx, const hone_curve_t *c, hone_stop_decision_t *out, s_text_t *t)
{
    const hone_stopping_config_t *cfg = ctx->cfg;
    const hone_curve_point_t *last = hone_curve_last(c);
    double wend = s_scaled(ctx, last->progression);
    /* percentile.py clamps the window's start to min_progression */
    double wstart = wend - cfg->patience;
    if (ctx->has_min && wstart < cfg->min_progression)
        wstart = cfg->min_progression;
    size_t nrows = hone_curves_rows(ctx->curves, &ctx->scale, wstart, wend, &ctx->rows, &ctx->cap_rows);
    HONE_ASSERT(nrows >= 1); /* t's own last point is in the window */
    if (nrows > ctx->cap_info) {
        ctx->cap_info = nrows;
        ctx->info = hone_realloc_array(ctx->info, nrows, sizeof(s_row_t));
    }
    for (size_t r = 0; r < nrows; r++) {
        s_row_prepare(ctx, ctx->rows[r], NULL, &ctx->info[r]);
        s_row_judge(ctx, &ctx->info[r], c);
    }
    char p[64], ws[32], we[32], window[96] = "";
    if (nrows > 1 || cfg->patience > 0.0)
        snprintf(window, sizeof window, " of the window [%s, %s]", s_opt(wstart, ws), s_opt(wend, we));
    double pct = 100.0 * ctx->q;

    for (size_t r = 0; r < nrows; r++) {
        const s_row_t *st = &ctx->info[r];
        if (st->n < cfg->min_curves) {
            s_say(t, "Only %zu trial(s) have data at progression %s%s, fewer than min_curves (%u).", st->n,
                  s_prog(ctx, st->row, p), window, cfg->min_curves);
            return;
        }
    }
    for (size_t r = 0; cfg->n_best_trials_to_complete > 0 && r < nrows; r++) {
        const s_row_t *st = &ctx->info[r];
        if (st->has_value && st->rank <= cfg->n_best_trials_to_complete) {
            s_say(t, "Trial is among the top-%u trials at progression %s%s (dense rank %u of %zu trials with "
                     "data), so it will not be early-stopped.", cfg->n_best_trials_to_complete,
                  s_prog(ctx, st->row, p), window, st->rank, st->n);
            return;
        }
    }
    for (size_t r = 0; r < nrows; r++) {
        const s_row_t *st = &ctx->info[r];
        if (st->worse)
            continue;
        if (!st->has_value) {
            s_say(t, "Trial has no value at progression %s%s (curves are not extrapolated), so it is not worse "
                     "than the %.1f-th percentile at every progression of the window.",
                  s_prog(ctx, st->row, p), window, pct);
            return;
        }
        char v[32], th[32];
        s_pair(st->value, st->threshold, v, th);
        s_say(t, "Trial objective value %s at progression %s%s is not worse than the %.1f-th percentile (%s) "
                 "across %zu comparable trials (%s).", v, s_prog(ctx, st->row, p), window, pct, th, st->n,
              s_better(ctx));
        return;
    }
    out->should_stop = true;
    if (nrows == 1) {
        const s_row_t *st = &ctx->info[0];
        char v[32], th[32];
        s_pair(st->value, st->threshold, v, th);
        s_say(t, "Trial objective value %s at progression %s%s is worse than the %.1f-th percentile (%s) "
                 "across %zu comparable trials (%s).", v, s_prog(ctx, st->row, p), window, pct, th, st->n,
              s_better(ctx));
        return;
    }
    s_say(t, "Trial objective values are worse than the %.1f-th percentile across comparable trials at all "
             "%zu progressions%s (%s):", pct, nrows, window, s_better(ctx));
    for (size_t r = 0; r < nrows; r++) {
        if (r == 3 && nrows > 4) {
            s_say(t, " ... %zu more ...;", nrows - 4);
            r = nrows - 1;
        }
        const s_row_t *st = &ctx->info[r];
        char v[32], th[32];
        s_pair(st->value, st->threshold, v, th);
        s_say(t, " %s vs %s at %s (%zu trials)%s", v, th, s_prog(ctx, st->row, p), st->n,
              r + 1 < nrows ? ";" : ".");
    }
}

/* ---- check_safe: simulation.py's best_trial_vulnerable ---- */

enum { S_OUT = 0, S_STARTUP = 1, S_ACTIVE = 2, S_BEST = 3, S_STOPPED = 4 };

static bool s_replay_harmful(s_ctx_t *ctx, uint32_t *best_trial, double *best_value, int64_t *at)
{
    const hone_stopping_config_t *cfg = ctx->cfg;
    size_t size = hone_curves_size(ctx->curves);
    /* The best COMPLETED trial by its last value (§5.3); ties: the lowest index, as
     * idxmin/idxmax. */
    ptrdiff_t best = -1;
    double bv = 0.0;
    for (size_t i = 0; i < size; i++) {
        const hone_curve_t *c = hone_curves_at(ctx->curves, i);
        const hone_curve_point_t *last = hone_curve_last(c);
        if (c->status == HONE_TRIAL_COMPLETED && last && (best < 0 || s_worse(ctx, bv, last->value))) {
            best = (ptrdiff_t) i;
            bv = last->value;
        }
    }
    if (best < 0)
        return false;
    /* Startup trials: the min_curves completed trials of smallest index, the best one
     * excluded; they are never stopped. Every other curve is active. */
    uint8_t *state = hone_alloc_array(size, 1);
    uint8_t *ref = hone_alloc_array(size, 1);
    bool *all_worse = hone_alloc_array(size, sizeof(bool));
    bool *protect = hone_alloc_array(size, sizeof(bool));
    size_t startup = 0, active = 0;
    for (size_t i = 0; i < size; i++) {
        const hone_curve_t *c = hone_curves_at(ctx->curves, i);
        if (c->n_points == 0)
            state[i] = S_OUT;
        else if ((ptrdiff_t) i == best)
            state[i] = S_BEST;
        else if (c->status == HONE_TRIAL_COMPLETED && startup < cfg->min_curves)
            state[i] = S_STARTUP, startup++;
        else
            state[i] = S_ACTIVE, active++;
    }
    /* Progressions in [min_progression, max_progression), the first of each interval. */
    double min = ctx->has_min ? cfg->min_progression : 0.0;
    double max = ctx->has_max ? cfg->max_progression : INFINITY;
    size_t nrows = hone_curves_rows(ctx->curves, &ctx->scale, min, max, &ctx->rows, &ctx->cap_rows);
    bool harmful = false, first = true;
    double prev_boundary = 0.0;
    for (size_t r = 0; r < nrows && active > 0 && !harmful; r++) {
        double sp = s_scaled(ctx, ctx->rows[r]);
        if (sp >= max)
            break;
        if (!isnan(cfg->interval)) {
            double boundary = s_boundary(sp, min, cfg->interval);
            if (!first && boundary == prev_boundary)
                continue;
            prev_boundary = boundary;
        }
        first = false;
        for (size_t i = 0; i < size; i++) {
            ref[i] = state[i] == S_STARTUP || state[i] == S_ACTIVE;
            all_worse[i] = true;
            protect[i] = false;
        }
        /* the window [p - patience, p]; simulation.py does not clamp it */
        size_t nw = hone_curves_rows(ctx->curves, &ctx->scale, sp - cfg->patience, sp, &ctx->wrows, &ctx->cap_wrows);
        for (size_t w = 0; w < nw; w++) {
            s_row_t st;
            s_row_prepare(ctx, ctx->wrows[w], ref, &st);
            for (size_t i = 0; i < size; i++) {
                if (state[i] != S_BEST && state[i] != S_ACTIVE)
                    continue;
                s_row_judge(ctx, &st, hone_curves_at(ctx->curves, i));
                all_worse[i] = all_worse[i] && st.worse;
                if (cfg->n_best_trials_to_complete > 0 && st.has_value && st.rank <= cfg->n_best_trials_to_complete)
                    protect[i] = true;
            }
        }
        if (all_worse[best] && !protect[best]) {
            harmful = true;
            *at = ctx->rows[r];
            break;
        }
        for (size_t i = 0; i < size; i++)
            if (state[i] == S_ACTIVE && all_worse[i] && !protect[i])
                state[i] = S_STOPPED, active--;
    }
    hone_free(state);
    hone_free(ref);
    hone_free(all_worse);
    hone_free(protect);
    *best_trial = hone_curves_at(ctx->curves, (size_t) best)->trial;
    *best_value = bv;
    return harmful;
}

/* ---- entry points ---- */

static void s_decide_one(s_ctx_t *ctx, const hone_curve_t *c, hone_stop_decision_t *out)
{
    memset(out, 0, sizeof *out);
    out->trial = c->trial;
    s_text_t t = { .s = out->reason };
    if (!ctx->global_ok) {
        s_say(&t, "%s", ctx->global_reason);
        return;
    }
    if (!s_eligible(ctx, c, out, &t))
        return;
    if (ctx->cfg->type == HONE_STOPPING_PERCENTILE)
        s_percentile_rule(ctx, c, out, &t);
    else
        s_threshold_rule(ctx, c, out, &t);
}

int hone_stopping_decide(const hone_stopping_config_t *cfg, const hone_curves_t *curves, bool minimize,
                         uint32_t trial, hone_stop_decision_t *out, hone_error_t *err)
{
    HONE_ASSERT(cfg && curves && out);
    int rc = hone_stopping_config_validate(cfg, err);
    if (rc != HONE_OK)
        return rc;
    const hone_curve_t *c = hone_curves_find(curves, trial);
    if (!c)
        return hone_error_set(err, HONE_ENOTFOUND, "early stopping: trial %u has no curve", trial);
    s_ctx_t ctx;
    s_ctx_init(&ctx, cfg, curves, minimize);
    s_global(&ctx);
    s_decide_one(&ctx, c, out);
    s_ctx_free(&ctx);
    return HONE_OK;
}

int hone_stopping_decide_running(const hone_stopping_config_t *cfg, const hone_curves_t *curves,
                                 bool minimize, hone_stop_decision_t *out, size_t cap, size_t *n_out,
                                 hone_error_t *err)
{
    HONE_ASSERT(cfg && curves && n_out && (out || cap == 0));
    *n_out = 0;
    int rc = hone_stopping_config_validate(cfg, err);
    if (rc != HONE_OK)
        return rc;
    size_t size = hone_curves_size(curves), running = 0;
    for (size_t i = 0; i < size; i++)
        running += hone_curves_at(curves, i)->status == HONE_TRIAL_RUNNING;
    if (running > cap)
        return hone_error_set(err, HONE_ETOOBIG, "early stopping: %zu running trials, room for %zu decisions",
                              running, cap);
    if (running == 0)
        return HONE_OK;
    s_ctx_t ctx;
    s_ctx_init(&ctx, cfg, curves, minimize);
    s_global(&ctx);
    for (size_t i = 0; i < size; i++) {
        const hone_curve_t *c = hone_curves_at(curves, i);
        if (c->status == HONE_TRIAL_RUNNING)
            s_decide_one(&ctx, c, &out[(*n_out)++]);
    }
    s_ctx_free(&ctx);
    return HONE_OK;
}

int hone_stopping_decide_trials(const hone_stopping_config_t *cfg, const hone_curves_t *curves, bool minimize,
                                const uint32_t *trials, size_t n, hone_stop_decision_t *out, hone_error_t *err)
{
    HONE_ASSERT(cfg && curves && (out || n == 0) && (trials || n == 0));
    int rc = hone_stopping_config_validate(cfg, err);
    if (rc != HONE_OK)
        return rc;
    for (size_t k = 0; k < n; k++)
        if (!hone_curves_find(curves, trials[k]))
            return hone_error_set(err, HONE_ENOTFOUND, "early stopping: trial %u has no curve", trials[k]);
    if (n == 0)
        return HONE_OK;
    s_ctx_t ctx;
    s_ctx_init(&ctx, cfg, curves, minimize);
    s_global(&ctx);
    for (size_t k = 0; k < n; k++)
        s_decide_one(&ctx, hone_curves_find(curves, trials[k]), &out[k]);
    s_ctx_free(&ctx);
    return HONE_OK;
}
