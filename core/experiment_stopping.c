/* experiment_stopping.c: Ax's should_stop_trial_early on an experiment (experiment.h):
 * the curves of the strategy's metric from the trials' readings, the decision
 * (stopping.h) and the interval rule's memory; and the same decision on curves kept up
 * to date incrementally (hone_stopping_cache_*, stopping.h), which is what the broker
 * runs after each reading. Uses only experiment.h: the strategy and that memory are
 * kept by experiment.c.
 *
 * Out-of-memory policy: abort, as everywhere in core. */
#include "experiment.h"

#include "curve.h"
#include "stopping.h"

#include <math.h>

#include "alloc.h"

/* The curves of metric: every trial with a reading of it at a progression (any status,
 * as Ax takes all the experiment's data), plus `trial`, with or without points, so
 * that a trial without data gets the strategy's "no data" decision. Readings without a
 * progression are not curve points (Ax drops rows with a NaN step). */
static hone_curves_t *s_curves(const hone_experiment_t *self, int metric, uint32_t trial)
{
    hone_curves_t *curves = hone_curves_new();
    size_t n = hone_experiment_trial_count(self);
    for (uint32_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_experiment_trial(self, i);
        if (i == trial)
            hone_curves_set_trial(curves, i, t->status);
        for (size_t r = 0; metric >= 0 && r < t->n_readings; r++) {
            const hone_reading_t *reading = &t->readings[r];
            if (reading->metric != (uint32_t) metric || !reading->has_progression)
                continue;
            hone_curves_set_trial(curves, i, t->status);
            /* readings are finite (attach checks) and unique per (metric, progression) */
            int rc = hone_curves_add_point(curves, i, reading->progression, reading->mean, NULL);
            HONE_ASSERT(rc == HONE_OK);
        }
        int64_t last;
        if (hone_curves_find(curves, i) && hone_experiment_stop_check(self, i, &last))
            hone_curves_set_last_check(curves, i, last, NULL);
    }
    return curves;
}

int hone_experiment_should_stop(hone_experiment_t *self, uint32_t trial, hone_stop_decision_t *out,
                                hone_error_t *err)
{
    HONE_ASSERT(self && out);
    if (trial >= hone_experiment_trial_count(self))
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    const char *metric = NULL;
    bool minimize = false;
    /* no strategy configured: Ax's Client installs PercentileEarlyStoppingStrategy()
     * with all its defaults (reference §5.1); experiment.c keeps that one ready */
    const hone_stopping_config_t *cfg = hone_experiment_stopping(self, &metric, &minimize);
    hone_stopping_config_t fallback;
    if (!cfg) {
        hone_stopping_config_init(&fallback, HONE_STOPPING_PERCENTILE);
        cfg = &fallback;
    }
    hone_curves_t *curves = s_curves(self, hone_experiment_metric_find(self, metric), trial);
    int rc = hone_stopping_decide(cfg, curves, minimize, trial, out, err);
    if (rc == HONE_OK && out->record_check)
        rc = hone_experiment_set_stop_check(self, trial, out->check_progression, err);
    hone_curves_destroy(&curves);
    return rc;
}

/* ---- the incremental cache ---- */

typedef struct {
    size_t readings;            /* the trial's reading count when its curve was last rebuilt */
    hone_trial_status_t status; /* its status then (curves carry it) */
    bool curve;                 /* it has a curve in the cache */
    bool touched;               /* rebuild at the next sync */
} s_seen_t;

struct _hone_stopping_cache_t {
    const hone_experiment_t *exp; /* the experiment mirrored: compared, never read when stale */
    int metric;                 /* its early-stopping metric's index; -1 while unknown */
    hone_curves_t *curves;      /* that metric's curves */
    s_seen_t *seen;             /* per trial of exp, [0, n) */
    size_t n;                   /* trials seen */
    size_t cap;                 /* slots in seen */
};

hone_stopping_cache_t *hone_stopping_cache_new(void)
{
    hone_stopping_cache_t *self = hone_alloc(sizeof *self);
    self->metric = -1;
    self->curves = hone_curves_new();
    return self;
}

void hone_stopping_cache_destroy(hone_stopping_cache_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_stopping_cache_t *self = *self_p;
    hone_curves_destroy(&self->curves);
    hone_free(self->seen);
    hone_free(self);
    *self_p = NULL;
}

void hone_stopping_cache_touch(hone_stopping_cache_t *self, uint32_t trial)
{
    HONE_ASSERT(self);
    if (trial < self->n)
        self->seen[trial].touched = true;
}

/* Refills trial i's curve from its readings, as s_curves does. */
static void s_rebuild(hone_stopping_cache_t *self, const hone_trial_t *t, uint32_t i)
{
    s_seen_t *seen = &self->seen[i];
    if (seen->curve)
        hone_curves_clear_points(self->curves, i, NULL);
    for (size_t r = 0; self->metric >= 0 && r < t->n_readings; r++) {
        const hone_reading_t *reading = &t->readings[r];
        if (reading->metric != (uint32_t) self->metric || !reading->has_progression)
            continue;
        if (!seen->curve) {
            hone_curves_set_trial(self->curves, i, t->status);
            seen->curve = true;
        }
        int rc = hone_curves_add_point(self->curves, i, reading->progression, reading->mean, NULL);
        HONE_ASSERT(rc == HONE_OK);
    }
    if (seen->curve && seen->status != t->status)
        hone_curves_set_trial(self->curves, i, t->status);
    seen->readings = t->n_readings;
    seen->status = t->status;
    seen->touched = false;
}

const hone_curves_t *hone_stopping_cache_sync(hone_stopping_cache_t *self, const hone_experiment_t *exp,
                                              const uint32_t *trials, size_t n_trials)
{
    HONE_ASSERT(self && exp && (trials || n_trials == 0));
    size_t n = hone_experiment_trial_count(exp);
    for (size_t k = 0; k < n_trials; k++)
        HONE_ASSERT(trials[k] < n);
    const char *name = NULL;
    hone_experiment_stopping(exp, &name, NULL);
    int metric = hone_experiment_metric_find(exp, name);
    if (self->exp != exp || self->metric != metric || n < self->n) {
        /* another object (reloaded), the metric's first reading, or trials gone: start over */
        hone_curves_destroy(&self->curves);
        self->curves = hone_curves_new();
        self->exp = exp;
        self->metric = metric;
        self->n = 0;
    }
    if (n > self->cap) {
        size_t cap = self->cap ? self->cap : 64;
        while (cap < n)
            cap *= 2;
        self->seen = hone_realloc_array(self->seen, cap, sizeof *self->seen);
        self->cap = cap;
    }
    for (size_t i = self->n; i < n; i++)
        self->seen[i] = (s_seen_t) { .readings = 0, .status = HONE_TRIAL_CANDIDATE, .curve = false };
    self->n = n;
    for (size_t k = 0; k < n_trials; k++)
        self->seen[trials[k]].touched = true;   /* the trials decided on are always rebuilt */
    for (uint32_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, i);
        s_seen_t *seen = &self->seen[i];
        if (t->n_readings != seen->readings || seen->touched) {
            s_rebuild(self, t, i);
        } else if (seen->status != t->status) {
            if (seen->curve)
                hone_curves_set_trial(self->curves, i, t->status);
            seen->status = t->status;
        }
    }
    for (size_t k = 0; k < n_trials; k++) {
        uint32_t trial = trials[k];
        if (!self->seen[trial].curve) {
            hone_curves_set_trial(self->curves, trial, hone_experiment_trial(exp, trial)->status);
            self->seen[trial].curve = true;
        }
        int64_t last;
        if (hone_experiment_stop_check(exp, trial, &last))
            hone_curves_set_last_check(self->curves, trial, last, NULL);
        else
            hone_curves_clear_last_check(self->curves, trial, NULL);
    }
    return self->curves;
}

void hone_stopping_cache_config(const hone_experiment_t *exp, hone_stopping_config_t *cfg, bool *minimize)
{
    HONE_ASSERT(exp && cfg && minimize);
    const hone_stopping_config_t *configured = hone_experiment_stopping(exp, NULL, minimize);
    if (configured)
        *cfg = *configured;
    else
        hone_stopping_config_init(cfg, HONE_STOPPING_PERCENTILE);   /* Ax's Client default */
}

/* Ax's _interval_boundary (stopping.c). */
static double s_boundary(double progression, double min, double interval)
{
    return min + floor((progression - min) / interval) * interval;
}

bool hone_stopping_cache_due(const hone_stopping_cache_t *self, const hone_stopping_config_t *cfg, uint32_t trial)
{
    HONE_ASSERT(self && cfg);
    const hone_curve_t *c = hone_curves_find(self->curves, trial);
    const hone_curve_point_t *last = c ? hone_curve_last(c) : NULL;
    if (!last)
        return false;
    if (cfg->normalize_progressions)
        return true;
    double lp = (double) last->progression;
    if ((!isnan(cfg->min_progression) && lp < cfg->min_progression)
        || (!isnan(cfg->max_progression) && lp > cfg->max_progression))
        return false;
    if (!isnan(cfg->interval) && c->has_last_check) {
        double min = isnan(cfg->min_progression) ? 0.0 : cfg->min_progression;
        if (!((double) c->last_check < s_boundary(lp, min, cfg->interval)))
            return false;
    }
    return true;
}

int hone_stopping_cache_decide(hone_stopping_cache_t *self, hone_experiment_t *exp, uint32_t trial,
                               hone_stop_decision_t *out, hone_error_t *err)
{
    HONE_ASSERT(self && exp && out);
    if (trial >= hone_experiment_trial_count(exp))
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    hone_stopping_config_t cfg;
    bool minimize = false;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    const hone_curves_t *curves = hone_stopping_cache_sync(self, exp, &trial, 1);
    int rc = hone_stopping_decide(&cfg, curves, minimize, trial, out, err);
    if (rc == HONE_OK && out->record_check)
        rc = hone_experiment_set_stop_check(exp, trial, out->check_progression, err);
    return rc;
}
