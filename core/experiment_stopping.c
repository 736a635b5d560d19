/* experiment_stopping.c: Ax's should_stop_trial_early on an experiment (experiment.h):
 * the curves of the strategy's metric from the trials' readings, the decision
 * (stopping.h) and the interval rule's memory. Uses only experiment.h: the strategy
 * and that memory are kept by experiment.c.
 *
 * Out-of-memory policy: abort, as everywhere in core. */
#include "experiment.h"

#include "curve.h"
#include "stopping.h"

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
