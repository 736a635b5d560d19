/* json_line.h: JSON for the command line tools; json_line.c (parsing, UTF-8, the dump)
 * and json_render.c (the renderings below) are the only jansson users of worker-sdk/cli.
 *
 * Parses readings ({"loss": 0.3, "acc": [0.9, 0.01], "step": 5}) and points to predict
 * at ({"x1": 0.5, "opt": "adam"} or an array of them), and renders SDK results as
 * one-line JSON texts (JSON lines). Every rendering returns a malloc'd,
 * NUL-terminated text without a newline (free it with free), or NULL when memory runs
 * out. Numbers are written exactly (the shortest precision that round-trips every real
 * of the line). */
#ifndef HONE_CLI_JSON_LINE_H
#define HONE_CLI_JSON_LINE_H

#include "hone.h"

/* A reading: metric → (mean, sem), and an optional progression ("step"). */
typedef struct hone_json_reading {
    size_t n;               /* number of metrics */
    char **names;           /* metric names (owned) */
    double *means;          /* finite means */
    double *sems;           /* standard errors, NAN when unknown */
    bool has_step;          /* whether "step" was given */
    int64_t step;           /* the progression */
} hone_json_reading_t;

void hone_json_line_reading_clear(hone_json_reading_t *reading);

/* Parses text (len bytes, no NUL needed) as a reading. The keys are metric names; a
 * value is a number (the mean) or [mean] or [mean, sem] (sem a number >= 0 or null).
 * With allow_step, the key "step" holds an integer progression. Returns:
 *   HONE_OK        a reading (n may be 0 for "{}"); clear it when done;
 *   HONE_ENOTFOUND the text is not a JSON object (for hone-worker: an ordinary line);
 *   HONE_EINVAL    a JSON object that is not a valid reading; why says which key;
 *   HONE_ENOMEM. */
int hone_json_line_parse_reading(const char *text, size_t len, bool allow_step, hone_json_reading_t *out,
                                 char *why, size_t why_size);

/* Points to predict at, gathered from one or more JSON texts. */
typedef struct hone_json_points {
    hone_points_t *points;  /* the points, for hone_client_predict (owned) */
    size_t n;               /* number of points */
    char **params;          /* per point: its parameters as one-line JSON (owned) */
    char **cells;           /* per point: "x1=0.5 opt=adam", for a table (owned) */
} hone_json_points_t;

void hone_json_line_points_clear(hone_json_points_t *points);

/* Parses text (len bytes) as one point, a JSON object of parameter → value (a number,
 * a string or a boolean), or as a non-empty array of such objects, and appends them to
 * out (start from a zeroed struct). Integers are sent as ints, other numbers as
 * floats. Returns HONE_OK; HONE_EINVAL when the text is not such JSON, why saying where
 * (points count from 0 across calls); HONE_ENOMEM. On error out keeps the points of
 * earlier calls. */
int hone_json_line_parse_points(const char *text, size_t len, hone_json_points_t *out, char *why,
                                size_t why_size);

/* Replaces every byte of text that is not part of valid UTF-8 with '?', in place. */
void hone_json_line_clean_utf8(char *text);

/* {"x": 0.5, "opt": "adam", ...}: the parameters of a trial. */
char *hone_json_line_params(const hone_trial_t *trial);
/* {"trial": 3, "params": {...}} or, with full, also "status", "note", "reason" (when
 * set), "metrics": {"loss": [mean, sem|null]}, "progression" (when set) and "curves":
 * {"loss": [[progression, mean, sem|null], ...]} (when the trial has curves). */
char *hone_json_line_trial(const hone_trial_t *trial, bool full);
/* {"trial", "params", "metric", "value", "sem" (number or null), "minimize"}. */
char *hone_json_line_best(const hone_best_t *best);
/* {"experiment", "source", "objectives": [name, ...], "minimize": [bool, ...], "ref":
 *  [number, ...], "ref_inferred", "hypervolume", "points": [{"trial", "params", "values":
 *  [number, ...], "sems": [number|null, ...], "contribution"}, ...]}: a Pareto frontier. */
char *hone_json_line_pareto(const char *experiment, const hone_pareto_t *pareto);
/* {"experiment", "trial"}: the trial attach_baseline made. */
char *hone_json_line_baseline(const char *experiment, uint64_t trial);
/* {"experiment", "objective", "method", "max_trials", "total", "counts": {...},
 *  "best": {"trial", "value"} or null}. */
char *hone_json_line_status(const hone_status_t *status);
/* {"point": i, "params": {...}, "metric", "mean", "sem"}: prediction i, at the point
 * whose parameters params_json holds (as in hone_json_points_t). */
char *hone_json_line_prediction(const hone_prediction_t *prediction, size_t i, const char *params_json);
/* {"experiment": name}. */
char *hone_json_line_created(const char *experiment);
/* {"public": path, "secret": path, "key": Z85 public key, "role": role or null}: a
 * key pair written by `hone keygen`. */
char *hone_json_line_keygen(const char *public_path, const char *secret_path, const char *public_key,
                            const char *role);
/* {"experiment", "trial", "stop": bool, "reason"}: a `should_stop` answer. */
char *hone_json_line_should_stop(const char *experiment, uint64_t trial, bool stop, const char *reason);
/* {"experiment", "trial", "status"}. */
char *hone_json_line_marked(const char *experiment, uint64_t trial, const char *status);
/* {"experiment", "trial", "metrics": {name: [mean, sem|null]}, "progression" (when set)}. */
char *hone_json_line_attached(const char *experiment, uint64_t trial, const hone_json_reading_t *reading,
                              bool has_progression, int64_t progression);

#endif
