/* curve.h: the learning curves of one experiment for one metric, as early stopping
 * reads them (reference/ax-client-behaviour.md §5.2). Internal to core: not installed.
 *
 * Representation. A hone_curves_t holds one hone_curve_t per trial, kept sorted by trial
 * index. A curve is the trial's status and its points (integer progression, value),
 * kept sorted by progression with one value per progression, in one array that grows
 * by doubling: appending points in progression order (the usual case: a worker reports
 * epoch after epoch) is amortized O(1); an out-of-order point is inserted in place.
 * Nothing else is stored: no aligned table (trials x progressions) is ever built. The
 * strategies (stopping.h) read the value of a curve at a progression on demand,
 * hone_curve_value_at, so memory stays proportional to the number of points.
 *
 * What a curve holds follows Ax's data preparation: readings without a progression are
 * not curve points (Ax drops rows with a NaN step); when a progression is reported
 * twice the first value is kept (Ax's alignment, drop_duplicates(keep="first")); values
 * are finite (a NaN is refused at the door rather than skipped later).
 *
 * Alignment. Ax pivots all curves onto the union of their progressions and fills the
 * gaps by linear ("slinear") interpolation inside each curve only, never extrapolating
 * (ax/early_stopping/utils.py, align_partial_results, limit_area="inside").
 * hone_curve_value_at gives the same value for any progression: the point itself, the
 * linear interpolation between the two points around it, or nothing outside
 * [first, last]. Linear interpolation commutes with the affine normalization of
 * progressions, so it is done on the raw integer progressions.
 *
 * Normalization. With normalize_progressions, Ax rescales every progression of the
 * metric, all trials together, to [0, 1] by (x - min) / (max - min), and to 1.0 when
 * all progressions are equal (ax/adapter/data_utils.py, _maybe_normalize_map_key).
 * hone_progression_scale_t is that map; the identity when not normalizing.
 *
 * Interval state. The `interval` rule needs the progression at which a trial was last
 * checked. Ax keeps it in the strategy object; hone keeps it with the curves (set by
 * the caller from what the decision returned, stopping.h) so that the broker can
 * persist it, and keeps it as a raw progression so that it stays right while the
 * normalization range grows.
 *
 * Thread rules: a hone_curves_t is not synchronized; const functions may run
 * concurrently on one object as long as no thread modifies it. */
#ifndef HONE_CURVE_H
#define HONE_CURVE_H

#include "err.h"
#include "trial.h"

typedef struct hone_curve_point {
    int64_t progression;        /* the step (epoch, samples seen, ...) */
    double value;               /* finite */
} hone_curve_point_t;

typedef struct hone_curve {
    uint32_t trial;             /* trial index */
    hone_trial_status_t status; /* the trial's status */
    hone_curve_point_t *points; /* sorted by progression, unique progressions */
    size_t n_points;            /* number of points */
    size_t cap_points;          /* allocated slots */
    bool has_last_check;        /* interval rule: checked before */
    int64_t last_check;         /* raw progression of that check, when has_last_check */
} hone_curve_t;

typedef struct _hone_curves_t hone_curves_t;

/* An empty set of curves. Aborts on out-of-memory (core policy). */
hone_curves_t *hone_curves_new(void);
/* Frees self and sets *self_p to NULL; safe on NULL and twice. */
void hone_curves_destroy(hone_curves_t **self_p);

/* Adds trial with status, or updates the status of a trial already there (its points
 * are kept). Can't fail (aborts on out-of-memory). */
void hone_curves_set_trial(hone_curves_t *self, uint32_t trial, hone_trial_status_t status);

/* Adds the point (progression, value) to trial's curve. A progression the curve
 * already has keeps its first value and the call returns HONE_OK (Ax keeps the first).
 * Errors: HONE_ENOTFOUND when trial was not added with hone_curves_set_trial;
 * HONE_EINVAL when value is NaN or infinite (the message names the trial and the
 * progression). On error nothing changes. */
int hone_curves_add_point(hone_curves_t *self, uint32_t trial, int64_t progression, double value,
                          hone_error_t *err);

/* Records that trial was last checked by the interval rule at raw progression
 * (stopping.h: hone_stop_decision_t.record_check). HONE_ENOTFOUND for an unknown
 * trial. */
int hone_curves_set_last_check(hone_curves_t *self, uint32_t trial, int64_t progression,
                               hone_error_t *err);

/* Drops every point of trial's curve (the curve stays, with its status and interval
 * check), so that it can be refilled from the trial's readings. HONE_ENOTFOUND for an
 * unknown trial. */
int hone_curves_clear_points(hone_curves_t *self, uint32_t trial, hone_error_t *err);
/* Forgets trial's interval check (has_last_check becomes false). HONE_ENOTFOUND for an
 * unknown trial. */
int hone_curves_clear_last_check(hone_curves_t *self, uint32_t trial, hone_error_t *err);
/* A deep copy, which another thread may read while self keeps changing (the broker's
 * off-reactor early-stopping decisions). Aborts on out-of-memory. */
hone_curves_t *hone_curves_dup(const hone_curves_t *self);

/* Number of trials. */
size_t hone_curves_size(const hone_curves_t *self);
/* The i-th curve in trial-index order, i < hone_curves_size(). Borrowed: valid until
 * the next call that modifies self. */
const hone_curve_t *hone_curves_at(const hone_curves_t *self, size_t i);
/* The curve of trial, or NULL. Borrowed as hone_curves_at. O(log n). */
const hone_curve_t *hone_curves_find(const hone_curves_t *self, uint32_t trial);
/* Position of trial in trial-index order, or -1. */
ptrdiff_t hone_curves_position(const hone_curves_t *self, uint32_t trial);
/* Smallest and largest progression over all points of all curves; false when there
 * are no points. */
bool hone_curves_range(const hone_curves_t *self, int64_t *min_out, int64_t *max_out);
/* Number of trials with at least one point. */
size_t hone_curves_with_data(const hone_curves_t *self);

/* The value of curve at progression: the point, or the linear interpolation between
 * the points around it. Returns false (and leaves *value_out alone) outside
 * [first point, last point], including for an empty curve: no extrapolation. */
bool hone_curve_value_at(const hone_curve_t *curve, int64_t progression, double *value_out);
/* The last point (largest progression), or NULL for an empty curve. */
const hone_curve_point_t *hone_curve_last(const hone_curve_t *curve);

/* Affine map from raw progressions to the space the strategy works in. */
typedef struct hone_progression_scale {
    bool normalized;            /* false: the identity */
    int64_t min;                /* smallest progression (normalized only) */
    int64_t max;                /* largest progression (normalized only) */
} hone_progression_scale_t;

/* The identity when !normalize or when there are no points; else Ax's per-metric
 * min-max normalization over all the curves' points. */
hone_progression_scale_t hone_curves_scale(const hone_curves_t *self, bool normalize);
/* progression in the strategy's space: itself, or (p - min) / (max - min), or 1.0 when
 * min == max. */
double hone_progression_scale_apply(const hone_progression_scale_t *scale, int64_t progression);

/* Collects into *buf (grown with hone_realloc_array as needed; *cap is its capacity)
 * the distinct progressions of all points of all curves whose scaled value lies in
 * [lo, hi], ascending: the rows of Ax's aligned table in that range. Pass lo = -INFINITY
 * or hi = INFINITY for an open end. Returns how many. Can't fail. */
size_t hone_curves_rows(const hone_curves_t *self, const hone_progression_scale_t *scale, double lo,
                        double hi, int64_t **buf, size_t *cap);

#endif
