/* stopping.h: Ax's early-stopping strategies, percentile and threshold, as pure
 * functions of a configuration, the learning curves of one metric (curve.h) and the
 * metric's direction (reference/ax-client-behaviour.md §5; Ax `main`,
 * ax/early_stopping/strategies/{base,percentile,threshold}.py, utils.py, simulation.py).
 * Internal to core: not installed.
 *
 * A decision for trial t goes through these steps, in Ax's order; the first that
 * settles it gives the decision and its reason:
 *   1. check_safe (percentile only; Ax's threshold strategy never finds stopping
 *      harmful): replay the strategy over the curves; if it would have stopped the
 *      best COMPLETED trial, stop nothing (§5.3).
 *   2. No point in any curve: stop nothing (§5.2 "stop nothing if that data is empty").
 *   3. Global gate (is_eligible_any, Ax main): at least min_curves trials have a point
 *      at a progression >= min_progression, whatever their status (§5.2).
 *   4. Per-trial gate (is_eligible): t has a point; its latest progression lies in
 *      [min_progression, max_progression]; with `interval`, it has crossed a boundary
 *      min_progression + k*interval since its previous check (the first check passes).
 *      When the min/max check passes, the check is recorded (record_check) whatever
 *      follows, as Ax updates its _last_check_progressions there.
 *   5. The strategy's rule:
 *      percentile: window [max(W_end - patience, min_progression), W_end], W_end being
 *        t's last progression; the window's rows are the progressions any curve has in
 *        it; every row needs min_curves trials with a value (points or interpolation
 *        inside a curve); t is protected when its dense rank among them is <=
 *        n_best_trials_to_complete at some row; the threshold at a row is the linearly
 *        interpolated quantile q = p/100 (1 - q when minimizing) of all values there, t
 *        included; stop iff t is worse (higher when minimizing, lower otherwise) than
 *        the threshold at every row.
 *      threshold: stop iff t's value at its last point is worse than metric_threshold.
 * Progressions are compared in the normalized space when normalize_progressions.
 *
 * Cost, with T curves and P points in all: one decision reads each curve at each row
 * of its window, O(W T log P + W T log T) for W rows (W = 1 without patience); the
 * check_safe replay repeats that for every progression in [min_progression,
 * max_progression) and every trial, O(R W T (log P + log T)) for R such rows, once per
 * call (hone_stopping_decide_running shares it). No table of T x R values is built;
 * scratch is O(T + R). Callers with large experiments should run this off the broker's
 * reactor.
 *
 * Thread rules: pure functions; they allocate their own scratch (aborting on
 * out-of-memory, core policy) and may run concurrently on one const hone_curves_t. */
#ifndef HONE_STOPPING_H
#define HONE_STOPPING_H

#include "curve.h"

typedef enum {
    HONE_STOPPING_PERCENTILE = 0,   /* PercentileEarlyStoppingStrategy */
    HONE_STOPPING_THRESHOLD = 1,    /* ThresholdEarlyStoppingStrategy */
} hone_stopping_type_t;

/* "percentile", "threshold"; NULL for a code that is not a type. */
const char *hone_stopping_type_name(int type);
/* Parses a type name (case-insensitive); HONE_EINVAL with a message if unknown. */
int hone_stopping_type_parse(const char *name, hone_stopping_type_t *out, hone_error_t *err);

/* Ax's constructor arguments. Optional numbers (Ax's None) are NAN for doubles and 0 for
 * counts (min_curves = None and 0 behave alike in Ax, as do n_best = None and 0). */
typedef struct hone_stopping_config {
    hone_stopping_type_t type;          /* which strategy */
    double percentile_threshold;        /* percentile: in [0, 100]; default 50 */
    double metric_threshold;            /* threshold: finite; default 0.2 */
    double min_progression;             /* NAN or >= 0; default 10 */
    double max_progression;             /* NAN or > min_progression; default NAN */
    uint32_t min_curves;                /* default 5; 0 = None */
    bool normalize_progressions;        /* default false */
    uint32_t n_best_trials_to_complete; /* percentile: 0 = None (default) */
    double interval;                    /* NAN or > 0; default NAN */
    double patience;                    /* percentile: 0 <= patience <= min_progression; default 0 */
    bool check_safe;                    /* default false */
} hone_stopping_config_t;

/* Ax's defaults for type. Can't fail. */
void hone_stopping_config_init(hone_stopping_config_t *cfg, hone_stopping_type_t type);
/* Checks cfg. Errors: HONE_EINVAL with a message naming the field and the rule, e.g.
 * "early_stopping.percentile_threshold: must be in [0, 100] (got 120)"; the rules are
 * Ax's (interval > 0, min_progression >= 0, min_progression < max_progression,
 * 0 <= patience <= min_progression, percentile_threshold in [0, 100]) plus finiteness,
 * and patience / n_best_trials_to_complete refused for the threshold strategy, which
 * has no such parameters. */
int hone_stopping_config_validate(const hone_stopping_config_t *cfg, hone_error_t *err);

#define HONE_STOP_REASON_MAX 512

/* A decision for one trial. */
typedef struct hone_stop_decision {
    uint32_t trial;                   /* the trial decided on */
    bool should_stop;                 /* stop it now */
    bool record_check;                /* interval: store check_progression with
                                         hone_curves_set_last_check (and persist it) */
    int64_t check_progression;        /* raw progression of this check, when record_check */
    char reason[HONE_STOP_REASON_MAX]; /* why, one line, UTF-8; never empty */
} hone_stop_decision_t;

/* Decides whether trial should stop early.
 * @param[in] cfg       a configuration (validated here)
 * @param[in] curves    the curves of the metric, every trial that has one (any status)
 * @param[in] minimize  the metric's direction (lower is better)
 * @param[in] trial     a trial of curves, usually RUNNING (its status is not checked,
 *                      as Ax's should_stop_trial_early does not)
 * @param[out] out      the decision; filled whenever HONE_OK is returned
 * @return HONE_OK; HONE_EINVAL for an invalid cfg (err says why); HONE_ENOTFOUND when
 *         trial is not in curves. */
int hone_stopping_decide(const hone_stopping_config_t *cfg, const hone_curves_t *curves, bool minimize,
                         uint32_t trial, hone_stop_decision_t *out, hone_error_t *err);

/* Decides for every RUNNING trial of curves at once, in trial-index order (the safety
 * replay is done once). out has room for cap decisions; hone_curves_size(curves) is
 * always enough. *n_out is the number written.
 * @return HONE_OK; HONE_EINVAL for an invalid cfg; HONE_ETOOBIG when cap is smaller
 *         than the number of RUNNING trials (nothing is written). */
int hone_stopping_decide_running(const hone_stopping_config_t *cfg, const hone_curves_t *curves,
                                 bool minimize, hone_stop_decision_t *out, size_t cap, size_t *n_out,
                                 hone_error_t *err);

/* Decides for trials[0..n) of curves at once, in that order, sharing the work that does
 * not depend on the trial (the safety replay of check_safe, the global gate): what the
 * broker runs off its reactor for a batch of readings. out has room for n decisions.
 * @return HONE_OK; HONE_EINVAL for an invalid cfg; HONE_ENOTFOUND when a trial is not in
 *         curves (nothing is written then). */
int hone_stopping_decide_trials(const hone_stopping_config_t *cfg, const hone_curves_t *curves, bool minimize,
                                const uint32_t *trials, size_t n, hone_stop_decision_t *out, hone_error_t *err);

/* The linearly interpolated q-quantile (q in [0, 1]) of values[0..n), n >= 1, which
 * are sorted in place: numpy's and pandas' default ("linear"). */
double hone_stopping_quantile(double *values, size_t n, double q);

/* ---- on a live experiment, incrementally (experiment_stopping.c) ----
 *
 * hone_experiment_should_stop builds every curve of the metric from every reading each
 * time: O(all readings) per decision, about 0.5 ms for 200 trials x 50 readings and
 * 7 ms for 1 000 x 100 (measured on the broker's build). The broker decides after every
 * reading, thousands per second, so it keeps the curves in a cache instead and brings
 * them up to date before each decision: a trial's curve is rebuilt from its own
 * readings only when its reading count changed (or it is the trial decided on), and
 * the sync walks the trials once, O(trials). A decision then costs what the strategy
 * costs (stopping.h, "Cost"). The decisions are those of hone_experiment_should_stop,
 * reasons included, and they read and write the same interval memory.
 *
 * The cache follows one experiment object: given another one (a reload from the store
 * replaced it) or fewer trials than before, it starts over. A reading replaced in place
 * (the same metric and progression attached again) is seen when its trial is decided
 * on or gets another reading; call hone_stopping_cache_touch for a trial whose reading
 * was replaced otherwise. */
typedef struct _hone_experiment_t hone_experiment_t;
typedef struct _hone_stopping_cache_t hone_stopping_cache_t;

/* An empty cache. Aborts on out-of-memory. */
hone_stopping_cache_t *hone_stopping_cache_new(void);
/* Frees self and sets *self_p to NULL; safe on NULL and twice. */
void hone_stopping_cache_destroy(hone_stopping_cache_t **self_p);

/* Brings the curves of exp's early-stopping metric (hone_experiment_stopping: the
 * configured one, else the objective) up to date, and gives each of trials[0..n)
 * (existing trials of exp, to be decided on) a curve rebuilt from its readings, with
 * or without points, carrying exp's interval memory for it. The curves are borrowed:
 * valid until the next call on self. Can't fail (aborts on out-of-memory). */
const hone_curves_t *hone_stopping_cache_sync(hone_stopping_cache_t *self, const hone_experiment_t *exp,
                                              const uint32_t *trials, size_t n);
/* Rebuilds trial's curve at the next sync (its reading was replaced in place). */
void hone_stopping_cache_touch(hone_stopping_cache_t *self, uint32_t trial);

/* The strategy a decision on exp uses: the configured one, or, when none is, Ax's Client
 * default (the percentile strategy with all its defaults). *minimize gets the metric's
 * direction. Always fills *cfg. */
void hone_stopping_cache_config(const hone_experiment_t *exp, hone_stopping_config_t *cfg, bool *minimize);

/* Whether a decision on trial can stop it now, from its own curve alone (call after
 * hone_stopping_cache_sync): false when it has no point, when its last progression lies
 * outside [min_progression, max_progression], or, with `interval`, when it has not
 * crossed an interval boundary since its last check. A decision for such a trial
 * would not stop it and would not record a check, so it can be skipped: this is how
 * Ax's interval keeps the broker from deciding on every reading. With
 * normalize_progressions the gate needs every curve, and it answers true. */
bool hone_stopping_cache_due(const hone_stopping_cache_t *self, const hone_stopping_config_t *cfg, uint32_t trial);

/* hone_experiment_should_stop on the cached curves: syncs, decides for trial with
 * hone_stopping_cache_config's strategy, and records the interval check in exp. Never
 * changes the trial's status. Errors: HONE_ENOTFOUND (no such trial). */
int hone_stopping_cache_decide(hone_stopping_cache_t *self, hone_experiment_t *exp, uint32_t trial,
                               hone_stop_decision_t *out, hone_error_t *err);

#endif
