/* hone.h: the hone C SDK, the only installed header of hone.
 *
 * hone is adaptive experimentation as a service: a broker owns experiments and hands
 * out trials. This library talks to a broker in two roles:
 *   - the worker role (hone_worker_*): pull a trial, evaluate it, stream readings,
 *     complete or fail it, and stop it when the broker stops it early;
 *   - the client role (hone_client_*): create experiments, ask for trials, attach data
 *     and a baseline, mark trials, read the best point (the Pareto frontier of a
 *     multi-objective experiment), the model's predictions, the status and the list of
 *     trials.
 *
 * ABI rules (stable C ABI, see worker-sdk/README.md):
 *   - every type is an opaque handle, except hone_options_t (a POD with reserved[]);
 *   - integers are fixed-width (counts and indices into arrays are size_t);
 *   - strings are NUL-terminated UTF-8, `const char *`;
 *   - every fallible function returns an int: HONE_OK (0) or a negative HONE_E* code.
 *
 * Ownership: a `T **` out parameter receives a new object that belongs to the caller,
 * who releases it with the matching _destroy(&p) (which sets p to NULL and accepts
 * NULL). A returned `char *` belongs to the caller and is released with hone_strfree().
 * A returned `const char *` or `const T *` is borrowed; each function says how long it
 * stays valid. Never pass hone's memory to libc free().
 *
 * Threads: a handle (client, worker, trial, list, ...) is used by one thread at a time;
 * different handles may be used from different threads concurrently. The library keeps
 * no global state: each client or worker owns its own ZeroMQ context.
 *
 * Failure policy: the library never aborts the host process. Out of memory gives
 * HONE_ENOMEM; invalid arguments (including NULL handles) give HONE_EINVAL. It never
 * writes to stdout or stderr: it is silent unless a log function is installed with
 * hone_client_set_log() or hone_worker_set_log(). It installs no signal handlers; a
 * signal that interrupts a wait makes the call return HONE_EINTR.
 *
 * Timeouts: every request waits up to opts.timeout_ms for its reply; on a timeout the
 * socket is closed, and after a back-off (min(timeout_ms, 1 s), doubling per attempt, at
 * most 32 s) a new one is connected and the request is sent again, up to opts.retries
 * times (the "lazy pirate" pattern). A call therefore returns HONE_ETIMEDOUT after at
 * most timeout_ms × (retries + 1) plus the back-offs (with the defaults: 4 × 10 s + 7 s).
 * A resent request may be executed twice by the broker: harmless for complete, fail and
 * mark, a repeated reading for progress and attach, but a retried `next` or `ready` can
 * leave an extra RUNNING trial; set retries to 0 when that matters. */
#ifndef HONE_H
#define HONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- version ---- */

#define HONE_VERSION_MAJOR 0
#define HONE_VERSION_MINOR 1
#define HONE_VERSION_PATCH 0
#define HONE_MAKE_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define HONE_VERSION HONE_MAKE_VERSION(HONE_VERSION_MAJOR, HONE_VERSION_MINOR, HONE_VERSION_PATCH)

#ifndef HONE_EXPORT
#  if defined(_WIN32)
#    define HONE_EXPORT __declspec(dllexport)
#  else
#    define HONE_EXPORT __attribute__((visibility("default")))
#  endif
#endif

/* The version of the library actually loaded, as HONE_MAKE_VERSION(major, minor, patch);
 * compare with HONE_VERSION (the header's) to detect a mismatch. Cannot fail. */
HONE_EXPORT int32_t hone_version(void);

/* ---- error codes ----
 * The numbers are part of the wire protocol and never change; new codes are only
 * appended. (A hone source file that also includes the project's base/err.h gets the
 * same constants from there.) */
#ifndef HONE_ERR_H
typedef enum {
    HONE_OK = 0,             /* success */
    HONE_ENOMEM = -1,        /* out of memory */
    HONE_EINVAL = -2,        /* invalid argument (or invalid experiment configuration) */
    HONE_ENOTFOUND = -3,     /* unknown experiment, trial, parameter */
    HONE_EEXIST = -4,        /* an experiment with that name exists */
    HONE_ESTATE = -5,        /* not allowed in the trial's current status */
    HONE_EPROTO = -6,        /* malformed message */
    HONE_EVERSION = -7,      /* unsupported protocol version */
    HONE_EUNSUPPORTED = -8,  /* unsupported operation */
    HONE_EEXHAUSTED = -9,    /* the search space has no unused point left */
    HONE_EDONE = -10,        /* the experiment's budget is spent */
    HONE_EAGAIN = -11,       /* no work now, try again later */
    HONE_ETIMEDOUT = -12,    /* no reply in time */
    HONE_ESTORE = -13,       /* the broker's storage failed */
    HONE_EIO = -14,          /* input/output error */
    HONE_ENUMERIC = -15,     /* numerical failure */
    HONE_EDATA = -16,        /* more data required (e.g. best with no completed trial) */
    HONE_ETOOBIG = -17,      /* a message or value is too large */
    HONE_EINTR = -18,        /* interrupted by a signal */
    HONE_EPERM = -19,        /* permission denied: the broker refused this peer's key, or the
                                key's role may not send the request */
    HONE_ELEASE = -20,       /* the report names a lease this worker no longer holds: it
                                expired (the trial was re-queued or failed) or it is another
                                worker's; the report changed nothing */
} hone_err_t;
#endif

/* A one-line description of a code ("not found"); never NULL, static storage. */
HONE_EXPORT const char *hone_strerror(int code);
/* The symbolic name of a code ("HONE_ENOTFOUND"); never NULL, static storage. */
HONE_EXPORT const char *hone_err_name(int code);

/* ---- memory ---- */

/* Release memory that hone allocated for the caller. NULL is a no-op. */
HONE_EXPORT void hone_free(void *ptr);
HONE_EXPORT void hone_strfree(char *str);

/* ---- parameter types (the same numbers as the broker's) ---- */

#ifndef HONE_VALUE_H
typedef enum {
    HONE_TYPE_FLOAT = 0,     /* double */
    HONE_TYPE_INT = 1,       /* int64_t */
    HONE_TYPE_STR = 2,       /* UTF-8 string */
    HONE_TYPE_BOOL = 3,      /* bool */
} hone_type_t;
#endif

/* ---- logging ---- */

#ifndef HONE_LOG_H
typedef enum { HONE_LOG_ERR = 0, HONE_LOG_WARN = 1, HONE_LOG_INFO = 2, HONE_LOG_DEBUG = 3 } hone_log_level_t;
#endif

/* A log function receives one line (no trailing newline) and the arg given when it was
 * installed. It runs on the thread that is calling into the handle, during that call.
 * level is one of HONE_LOG_ERR .. HONE_LOG_DEBUG. */
typedef void (hone_log_fn)(int32_t level, const char *text, void *arg);

/* ---- options ---- */

/* Connection options. Initialise with hone_options_init(), then change fields.
 * reserved[] must stay zero: future fields will live there, zero meaning "default". */
typedef struct hone_options {
    int32_t timeout_ms;      /* wait for one reply, > 0; default 10000 */
    int32_t retries;         /* re-sends after a timeout, on a new socket, >= 0; default 3 */
    int32_t reserved[14];    /* zero */
} hone_options_t;

/* Fills opts with the defaults. Cannot fail. */
HONE_EXPORT void hone_options_init(hone_options_t *opts);

/* The endpoint used when NULL is passed to an _open function. */
#define HONE_DEFAULT_ENDPOINT "tcp://127.0.0.1:5555"

/* ---- trials ---- */

typedef struct _hone_trial_t hone_trial_t;
typedef struct _hone_trial_list_t hone_trial_list_t;

/* Releases a trial and sets *trial_p to NULL; NULL or *trial_p NULL is a no-op. */
HONE_EXPORT void hone_trial_destroy(hone_trial_t **trial_p);
/* Copies a trial (e.g. to keep one item of a list after the list is destroyed).
 * Returns HONE_OK with *out set (the caller owns it), HONE_EINVAL (NULL argument) or
 * HONE_ENOMEM (*out is then NULL). */
HONE_EXPORT int hone_trial_dup(const hone_trial_t *trial, hone_trial_t **out);

/* The trial's index in its experiment (0, 1, 2, ...). 0 for a NULL trial. */
HONE_EXPORT uint64_t hone_trial_index(const hone_trial_t *trial);
/* The experiment's name; "" when unknown. Borrowed: valid while the trial lives. */
HONE_EXPORT const char *hone_trial_experiment(const hone_trial_t *trial);

/* Parameters, in the order the broker sent them (the search space's order). */
HONE_EXPORT size_t hone_trial_param_count(const hone_trial_t *trial);
/* Name of parameter i; NULL when i is out of range. Borrowed: valid while the trial lives. */
HONE_EXPORT const char *hone_trial_param_name(const hone_trial_t *trial, size_t i);
/* HONE_TYPE_FLOAT, _INT, _STR or _BOOL; HONE_EINVAL when i is out of range. */
HONE_EXPORT int32_t hone_trial_param_type(const hone_trial_t *trial, size_t i);
/* Looks a parameter up by name: HONE_OK with *i_out set, HONE_ENOTFOUND, HONE_EINVAL. */
HONE_EXPORT int hone_trial_param_find(const hone_trial_t *trial, const char *name, size_t *i_out);
/* Value getters: HONE_OK, or HONE_EINVAL when i is out of range or the type differs
 * (*out is then untouched). _double also accepts an INT parameter (converted). The
 * string of _str is borrowed: valid while the trial lives. */
HONE_EXPORT int hone_trial_param_double(const hone_trial_t *trial, size_t i, double *out);
HONE_EXPORT int hone_trial_param_int(const hone_trial_t *trial, size_t i, int64_t *out);
HONE_EXPORT int hone_trial_param_str(const hone_trial_t *trial, size_t i, const char **out);
HONE_EXPORT int hone_trial_param_bool(const hone_trial_t *trial, size_t i, bool *out);

/* How the trial was generated ("center", "sobol", "manual", ...); "" when not sent.
 * Borrowed: valid while the trial lives. */
HONE_EXPORT const char *hone_trial_note(const hone_trial_t *trial);
/* "RUNNING", "COMPLETED", "FAILED", "ABANDONED", "EARLY_STOPPED"; "" when not sent
 * (a trial handed to a worker is RUNNING). Borrowed: valid while the trial lives. */
HONE_EXPORT const char *hone_trial_status(const hone_trial_t *trial);
/* Why the trial failed, was abandoned or was stopped early (the early-stopping strategy's
 * reason); "" when none. Borrowed. */
HONE_EXPORT const char *hone_trial_reason(const hone_trial_t *trial);

/* The latest reading of each metric (filled for hone_client_list results; a trial from
 * hone_worker_next or hone_client_next_trials has none). */
HONE_EXPORT size_t hone_trial_metric_count(const hone_trial_t *trial);
/* Name of metric i; NULL when out of range. Borrowed: valid while the trial lives. */
HONE_EXPORT const char *hone_trial_metric_name(const hone_trial_t *trial, size_t i);
/* Mean of metric i; NAN when out of range. */
HONE_EXPORT double hone_trial_metric_mean(const hone_trial_t *trial, size_t i);
/* Standard error of metric i; NAN when unknown or out of range. */
HONE_EXPORT double hone_trial_metric_sem(const hone_trial_t *trial, size_t i);
/* The largest progression (step) reported: HONE_OK with *out set, or HONE_ENOTFOUND
 * when the trial has none, HONE_EINVAL for NULL arguments. */
HONE_EXPORT int hone_trial_progression(const hone_trial_t *trial, int64_t *out);

/* Full learning curves: filled for trials from hone_client_trial (with curves) and
 * hone_client_list_curves, empty otherwise. A curve is every reading of one metric that
 * has a progression, by increasing progression; metrics come in the experiment's order
 * (objective first). hone_trial_curve_count: the number of curves (0 for NULL);
 * hone_trial_curve_metric: curve i's metric name (NULL out of range; borrowed, valid
 * while the trial lives); hone_trial_curve_length: its points (0 out of range);
 * hone_trial_curve_point: point j of curve i (out pointers may be NULL; the SEM is NAN
 * when unknown): HONE_OK, or HONE_EINVAL out of range or for a NULL trial. */
HONE_EXPORT size_t hone_trial_curve_count(const hone_trial_t *trial);
HONE_EXPORT const char *hone_trial_curve_metric(const hone_trial_t *trial, size_t i);
HONE_EXPORT size_t hone_trial_curve_length(const hone_trial_t *trial, size_t i);
HONE_EXPORT int hone_trial_curve_point(const hone_trial_t *trial, size_t i, size_t j, int64_t *progression,
                                       double *mean, double *sem);

/* A list of trials (from hone_client_next_trials or hone_client_list). */
HONE_EXPORT void hone_trial_list_destroy(hone_trial_list_t **list_p);
HONE_EXPORT size_t hone_trial_list_count(const hone_trial_list_t *list);
/* Item i; NULL when out of range. Borrowed: valid until the list is destroyed. */
HONE_EXPORT const hone_trial_t *hone_trial_list_at(const hone_trial_list_t *list, size_t i);

/* ---- best point (client role results) ---- */

typedef struct _hone_best_t hone_best_t;

HONE_EXPORT void hone_best_destroy(hone_best_t **best_p);
/* The best trial's index. */
HONE_EXPORT uint64_t hone_best_trial_index(const hone_best_t *best);
/* The best trial's parameters, as a trial (index and params only). Borrowed: valid
 * until the best object is destroyed. */
HONE_EXPORT const hone_trial_t *hone_best_trial(const hone_best_t *best);
/* The objective's name: its metric, or its weighted sum ("ne1 + 2*ne2"). Borrowed:
 * valid until the best object is destroyed. */
HONE_EXPORT const char *hone_best_metric(const hone_best_t *best);
/* Its value and standard error (NAN when unknown): the model's posterior mean when
 * hone_best_source says "model", the observed mean when it says "raw". */
HONE_EXPORT double hone_best_value(const hone_best_t *best);
HONE_EXPORT double hone_best_sem(const hone_best_t *best);
/* True when the objective is minimized. */
HONE_EXPORT bool hone_best_minimize(const hone_best_t *best);
/* How the best point was chosen: "model" (a GP fitted to all data, Bayesian
 * optimization) or "raw" (the best observed mean); "" from a broker that does not say.
 * Static storage or borrowed until the best object is destroyed. */
HONE_EXPORT const char *hone_best_source(const hone_best_t *best);

/* ---- Pareto frontier (client role results) ---- */

/* The Pareto frontier of a multi-objective experiment (hone_client_pareto): its
 * objectives, the reference point and hypervolume, and the non-dominated trials that
 * satisfy the outcome constraints, by decreasing exclusive hypervolume contribution.
 * Objectives are indexed k = 0 .. hone_pareto_objective_count - 1, points i = 0 ..
 * hone_pareto_count - 1; values are in each objective's own units and direction. */
typedef struct _hone_pareto_t hone_pareto_t;

HONE_EXPORT void hone_pareto_destroy(hone_pareto_t **pareto_p);
/* The number of frontier points; 0 for NULL. */
HONE_EXPORT size_t hone_pareto_count(const hone_pareto_t *pareto);
/* The number of objectives; 0 for NULL. */
HONE_EXPORT size_t hone_pareto_objective_count(const hone_pareto_t *pareto);
/* Objective k's name: its metric, or its weighted sum ("ne1 + 2*ne2"). NULL out of
 * range. Borrowed: valid until the frontier is destroyed. */
HONE_EXPORT const char *hone_pareto_objective(const hone_pareto_t *pareto, size_t k);
/* True when objective k is minimized (false out of range). */
HONE_EXPORT bool hone_pareto_minimize(const hone_pareto_t *pareto, size_t k);
/* The reference point's coordinate k (the objective threshold, or inferred when none was
 * configured); NAN out of range. */
HONE_EXPORT double hone_pareto_ref(const hone_pareto_t *pareto, size_t k);
/* True when some coordinate of the reference point was inferred from the data. */
HONE_EXPORT bool hone_pareto_ref_inferred(const hone_pareto_t *pareto);
/* The hypervolume the frontier dominates, bounded by the reference point (NAN for NULL). */
HONE_EXPORT double hone_pareto_hypervolume(const hone_pareto_t *pareto);
/* How the values were obtained: "model" (the posterior means of GPs fitted to all data)
 * or "raw" (the observed means); "" for another answer. Borrowed, as above. */
HONE_EXPORT const char *hone_pareto_source(const hone_pareto_t *pareto);
/* Point i's trial index (0 out of range), and its trial (index and params only; NULL
 * out of range; borrowed, as above). */
HONE_EXPORT uint64_t hone_pareto_trial_index(const hone_pareto_t *pareto, size_t i);
HONE_EXPORT const hone_trial_t *hone_pareto_trial(const hone_pareto_t *pareto, size_t i);
/* Objective k's value at point i and its standard error (NAN when unknown); NAN out of
 * range. */
HONE_EXPORT double hone_pareto_value(const hone_pareto_t *pareto, size_t i, size_t k);
HONE_EXPORT double hone_pareto_sem(const hone_pareto_t *pareto, size_t i, size_t k);
/* The hypervolume point i alone dominates (0 for a point that does not beat the
 * reference point); NAN out of range. */
HONE_EXPORT double hone_pareto_contribution(const hone_pareto_t *pareto, size_t i);

/* ---- predictions (client role) ---- */

/* Parameterizations to predict at (hone_client_predict), built one point at a time:
 * hone_points_add starts a point, the setters fill the newest one. A point must name
 * every parameter of the experiment's search space, with a value of its type (an int
 * is accepted for a float parameter); the broker checks them. */
typedef struct _hone_points_t hone_points_t;

/* A new, empty set of points. HONE_OK with *out set (release with hone_points_destroy),
 * HONE_EINVAL (NULL out) or HONE_ENOMEM (*out is then NULL). */
HONE_EXPORT int hone_points_new(hone_points_t **out);
/* Releases the points and sets *points_p to NULL; NULL or *points_p NULL is a no-op. */
HONE_EXPORT void hone_points_destroy(hone_points_t **points_p);
/* Starts a new point with no parameters. HONE_OK, HONE_EINVAL (NULL), HONE_ENOMEM. */
HONE_EXPORT int hone_points_add(hone_points_t *points);
/* Adds a point holding a trial's parameters (to predict at an observed trial, say).
 * HONE_OK, HONE_EINVAL (NULL argument), HONE_ENOMEM (the points are then unusable:
 * destroy them). */
HONE_EXPORT int hone_points_add_trial(hone_points_t *points, const hone_trial_t *trial);
/* Sets parameter `name` of the newest point (again: replaces the value); the name and
 * a string value are copied. HONE_OK, HONE_ENOMEM, or HONE_EINVAL: NULL points, no
 * point added yet, NULL or empty name, a non-finite double, a NULL string. */
HONE_EXPORT int hone_points_set_double(hone_points_t *points, const char *name, double value);
HONE_EXPORT int hone_points_set_int(hone_points_t *points, const char *name, int64_t value);
HONE_EXPORT int hone_points_set_str(hone_points_t *points, const char *name, const char *value);
HONE_EXPORT int hone_points_set_bool(hone_points_t *points, const char *name, bool value);
/* The number of points added; 0 for NULL. */
HONE_EXPORT size_t hone_points_count(const hone_points_t *points);

/* The model's predictions of the objective at the points of one hone_client_predict
 * call, in the order of the points. */
typedef struct _hone_prediction_t hone_prediction_t;

HONE_EXPORT void hone_prediction_destroy(hone_prediction_t **prediction_p);
/* The number of points predicted (that of the request); 0 for NULL. */
HONE_EXPORT size_t hone_prediction_count(const hone_prediction_t *prediction);
/* The objective metric's name. Borrowed: valid until the prediction is destroyed. */
HONE_EXPORT const char *hone_prediction_metric(const hone_prediction_t *prediction);
/* The posterior mean of the objective at point i, and its standard error (the
 * posterior standard deviation of the objective without observation noise; never a
 * variance), in the metric's units. NAN when i is out of range. */
HONE_EXPORT double hone_prediction_mean(const hone_prediction_t *prediction, size_t i);
HONE_EXPORT double hone_prediction_sem(const hone_prediction_t *prediction, size_t i);

/* ---- experiment status (client role results) ---- */

typedef struct _hone_status_t hone_status_t;

HONE_EXPORT void hone_status_destroy(hone_status_t **status_p);
/* Strings are borrowed: valid until the status object is destroyed. "" when not sent. */
HONE_EXPORT const char *hone_status_experiment(const hone_status_t *status);
HONE_EXPORT const char *hone_status_objective(const hone_status_t *status);
HONE_EXPORT const char *hone_status_method(const hone_status_t *status);
/* The budget (0 = unlimited) and the number of trials so far. */
HONE_EXPORT uint64_t hone_status_max_trials(const hone_status_t *status);
HONE_EXPORT uint64_t hone_status_total(const hone_status_t *status);
/* Trials per status: the number of statuses listed, the name of entry i (NULL when out
 * of range; borrowed) and its number of trials (0 when out of range). */
HONE_EXPORT size_t hone_status_entry_count(const hone_status_t *status);
HONE_EXPORT const char *hone_status_entry_name(const hone_status_t *status, size_t i);
HONE_EXPORT uint64_t hone_status_entry_trials(const hone_status_t *status, size_t i);
/* Trials with the given status name ("COMPLETED"); 0 when the status is not listed. */
HONE_EXPORT uint64_t hone_status_count(const hone_status_t *status, const char *status_name);
/* The best trial so far: HONE_OK with *trial_out and *value_out set (either may be
 * NULL), or HONE_ENOTFOUND when there is none yet, HONE_EINVAL for a NULL status. */
HONE_EXPORT int hone_status_best(const hone_status_t *status, uint64_t *trial_out, double *value_out);
/* The experiment's lease settings (its config's "leases"): the workers' heartbeat
 * interval in ms, the liveness (intervals of silence before a lease expires) and the
 * retry limit. Any pointer may be NULL; 0 from a broker without leases. */
HONE_EXPORT void hone_status_leases(const hone_status_t *status, int32_t *heartbeat_ms, int32_t *liveness,
                                    int32_t *max_retries);
/* Leases that expired over the experiment's life (a worker fell silent), and how many
 * of those re-queued their trial (the rest failed it at the retry limit). Trials waiting
 * to be handed out again are counted under "STALE". */
HONE_EXPORT uint64_t hone_status_leases_expired(const hone_status_t *status);
HONE_EXPORT uint64_t hone_status_retries(const hone_status_t *status);
/* The workers table: rows listed (the broker lists at most 1000) and workers known in
 * all; each row's name (borrowed; "@" and a hex routing id for a worker that gave no
 * name), milliseconds since it was last heard from (-1 out of range), and, when it holds
 * a lease, its trial, lease token and the lease's age in ms: HONE_OK, or HONE_ENOTFOUND
 * for an idle worker, HONE_EINVAL out of range. Out pointers may be NULL. */
HONE_EXPORT size_t hone_status_worker_count(const hone_status_t *status);
HONE_EXPORT uint64_t hone_status_workers_total(const hone_status_t *status);
HONE_EXPORT const char *hone_status_worker_name(const hone_status_t *status, size_t i);
HONE_EXPORT int64_t hone_status_worker_last_seen_ms(const hone_status_t *status, size_t i);
HONE_EXPORT int hone_status_worker_lease(const hone_status_t *status, size_t i, uint64_t *trial_out,
                                         uint64_t *lease_out, int64_t *lease_age_ms_out);

/* ---- client role ---- */

typedef struct _hone_client_t hone_client_t;

/* Opens a client for the broker at endpoint (NULL: HONE_DEFAULT_ENDPOINT; "tcp://host:port"
 * or "ipc:///path") with opts (NULL: defaults; the struct is copied). Connecting is
 * asynchronous: no message is exchanged until the first request, so a broker that is
 * not running is only noticed then (HONE_ETIMEDOUT).
 * Returns HONE_OK with *out set (the caller owns it; release with hone_client_destroy),
 * HONE_EINVAL (NULL out, bad endpoint syntax or transport, invalid opts), HONE_ENOMEM,
 * HONE_EIO (the socket could not be created). *out is NULL on error. */
HONE_EXPORT int hone_client_open(hone_client_t **out, const char *endpoint, const hone_options_t *opts);
/* Closes the connection (unsent messages are dropped), frees the client and sets
 * *client_p to NULL. NULL or *client_p NULL is a no-op. */
HONE_EXPORT void hone_client_destroy(hone_client_t **client_p);
/* The message of the last failed call on this client ("" after a success), naming what
 * was wrong; for errors returned by the broker, the broker's message. Borrowed: valid
 * until the next call on this client. Never NULL (also "" for a NULL client). */
HONE_EXPORT const char *hone_client_last_error(const hone_client_t *client);
/* Installs (fn non-NULL) or removes (fn NULL) the client's log function. */
HONE_EXPORT void hone_client_set_log(hone_client_t *client, hone_log_fn *fn, void *arg);
/* Encrypts and authenticates the connection with CURVE, for a broker started with
 * --keys. key_path is this peer's secret certificate (NAME.key_secret, written by
 * `hone keygen NAME --role client`; NAME.key works too when NAME.key_secret is beside it),
 * broker_key_path the broker's public certificate (KEYS/broker.key); both are in czmq's
 * zcert text format. The broker lets the key in only when its public certificate
 * NAME.key is in the broker's KEYS/clients directory; creating experiments and every
 * other client request need a key with role `client`. The files are read now; the
 * connection is replaced (call it right after hone_client_open, before any request).
 * Returns HONE_OK, HONE_EINVAL (NULL argument, a file that is not a certificate, a key
 * file without a secret key), HONE_EIO (a file cannot be read), HONE_EUNSUPPORTED
 * (libzmq built without CURVE), HONE_ENOMEM; last_error names the file. On error the
 * connection is unchanged. */
HONE_EXPORT int hone_client_set_curve(hone_client_t *client, const char *key_path, const char *broker_key_path);

/* Every request below returns, besides the codes listed with it:
 *   HONE_EINVAL     a NULL or invalid argument (checked before sending), or a value the
 *                   broker refused;
 *   HONE_ENOMEM     out of memory;
 *   HONE_ETIMEDOUT  no reply after all retries;
 *   HONE_EINTR      a signal interrupted the wait (the request may still be executed);
 *   HONE_EPROTO, HONE_EVERSION, HONE_ETOOBIG  a malformed or incompatible exchange;
 *   HONE_ESTORE     the broker could not store the change;
 *   HONE_EPERM      the broker refused this peer, before the request reached it: a key
 *                   not in its allow-list, no key for a broker that requires one, or a
 *                   key for a broker that uses none (reported at once, not retried);
 *                   or the broker refused the request: a `worker` key sent a client
 *                   request (last_error says which);
 * and any other error code the broker sends, with its message in last_error. Out
 * parameters are NULL when a call fails. */

/* Creates an experiment from its JSON configuration (Ax field names; see examples/).
 * On success *name_out is the experiment's name (the caller frees it with
 * hone_strfree; name_out may be NULL if the name is not wanted).
 * Broker errors: HONE_EINVAL (invalid config, the message names the field),
 * HONE_EEXIST (the name is taken). */
HONE_EXPORT int hone_client_create(hone_client_t *client, const char *config_json, char **name_out);

/* Asks for `count` (1..1000) new trials, created RUNNING. *list_out receives between 1
 * and count trials (the caller owns the list). Broker errors: HONE_ENOTFOUND (no such
 * experiment), HONE_EDONE (budget spent), HONE_EAGAIN (the rest of the budget is
 * running), HONE_EEXHAUSTED (no unused point left). */
HONE_EXPORT int hone_client_next_trials(hone_client_t *client, const char *experiment, uint32_t count,
                                        hone_trial_list_t **list_out);

/* Attaches n readings to a trial (Ax's attach_data): metric_names[i] gets mean means[i]
 * with standard error sems[i] (sems NULL, or a NAN entry, means unknown; otherwise >= 0
 * and finite). With has_progression the readings are at step `progression` (a point of
 * a learning curve); attaching the same (metric, step) again replaces it. n must be
 * >= 1, names unique and non-empty, means finite (else HONE_EINVAL before sending).
 * Broker errors: HONE_ENOTFOUND (experiment or trial). */
HONE_EXPORT int hone_client_attach(hone_client_t *client, const char *experiment, uint64_t trial,
                                   size_t n, const char *const metric_names[], const double means[],
                                   const double sems[], bool has_progression, int64_t progression);

/* Attaches the final readings (n may be 0: none) and marks the trial COMPLETED.
 * Broker errors: HONE_ENOTFOUND, HONE_ESTATE (the trial is not RUNNING). */
HONE_EXPORT int hone_client_complete(hone_client_t *client, const char *experiment, uint64_t trial,
                                     size_t n, const char *const metric_names[], const double means[],
                                     const double sems[]);

/* Moves a trial to status_name: "COMPLETED", "FAILED", "ABANDONED" or "EARLY_STOPPED",
 * with an optional reason (NULL: none; kept for FAILED, ABANDONED and EARLY_STOPPED). A
 * worker evaluating a trial marked EARLY_STOPPED is told to stop on its next report or
 * heartbeat (hone_worker_stop_requested).
 * Broker errors: HONE_ENOTFOUND, HONE_ESTATE (illegal transition, e.g. early-stopping a
 * trial without data), HONE_EINVAL (unknown status name). */
HONE_EXPORT int hone_client_mark(hone_client_t *client, const char *experiment, uint64_t trial,
                                 const char *status_name, const char *reason);

/* The best trial so far (among COMPLETED trials with objective data that satisfy the
 * outcome constraints). *best_out belongs to the caller. Broker errors: HONE_ENOTFOUND,
 * HONE_EDATA (no completed trial has data, or a relative constraint lacks the baseline's
 * data), HONE_EINVAL (a multi-objective experiment: use hone_client_pareto). */
HONE_EXPORT int hone_client_best(hone_client_t *client, const char *experiment, hone_best_t **best_out);

/* The Pareto frontier of a multi-objective experiment (Ax's get_pareto_frontier). With
 * use_model (and method "fast") the values are the posterior means of GPs fitted to all
 * current data, at the completed trials that satisfy the outcome constraints; otherwise,
 * or when no model can be fitted, their observed means (hone_pareto_source says which).
 * *pareto_out belongs to the caller. Broker errors: HONE_ENOTFOUND (no such
 * experiment), HONE_EINVAL (the experiment has a single objective: use
 * hone_client_best), HONE_EDATA (no completed trial has data for every objective and
 * satisfies the constraints, or a relative bound lacks the baseline's data). */
HONE_EXPORT int hone_client_pareto(hone_client_t *client, const char *experiment, bool use_model,
                                   hone_pareto_t **pareto_out);

/* Ax's attach_baseline: adds a RUNNING trial (note "baseline") with the one point of
 * params (every parameter of the search space; the parameter constraints need not hold)
 * whose readings become the status quo that relative outcome constraints and thresholds
 * ("qps >= 0.9 * baseline") are measured against. Report its readings with
 * hone_client_attach and hone_client_complete. *trial_out is set to its index. params
 * must hold exactly one point (else HONE_EINVAL before sending). Broker errors:
 * HONE_ENOTFOUND (no such experiment), HONE_EEXIST (the experiment has a baseline
 * already), HONE_EINVAL (params not in the search space: last_error starts with
 * "params: " and names the parameter). */
HONE_EXPORT int hone_client_attach_baseline(hone_client_t *client, const char *experiment,
                                            const hone_points_t *params, uint64_t *trial_out);

/* The model's predictions of the objective at 1 to 1000 points (Ax's Client.predict):
 * a GP fitted to all of the experiment's current data, whatever its generation method.
 * *prediction_out belongs to the caller and holds one mean and SEM per point, in order.
 * An empty or NULL points, or more than 1000, is HONE_EINVAL before sending; a request
 * above the protocol's limits (about 1000 points of 99 parameters) is HONE_ETOOBIG:
 * split it. Broker errors: HONE_ENOTFOUND (no such experiment), HONE_EINVAL (a point
 * outside the search space or breaking a parameter constraint: last_error starts with
 * "points[i]: " and names the parameter), HONE_EDATA (fewer than 2 completed trials
 * with objective data), HONE_ENUMERIC (no model could be fitted). */
HONE_EXPORT int hone_client_predict(hone_client_t *client, const char *experiment, const hone_points_t *points,
                                    hone_prediction_t **prediction_out);
/* hone_client_predict for one metric of the experiment, by name: an objective or outcome
 * constraint metric, or any metric it has readings of (Ax's predict lists every
 * modelled metric); NULL is the objective. An unknown name is HONE_EINVAL ("metric:
 * ..."); HONE_EDATA counts that metric's data. hone_prediction_metric names it. */
HONE_EXPORT int hone_client_predict_metric(hone_client_t *client, const char *experiment, const char *metric,
                                           const hone_points_t *points, hone_prediction_t **prediction_out);

/* The experiment's status summary. *status_out belongs to the caller.
 * Broker errors: HONE_ENOTFOUND. */
HONE_EXPORT int hone_client_status(hone_client_t *client, const char *experiment, hone_status_t **status_out);

/* Every trial of the experiment, in index order, with status, note, reason and the
 * latest reading of each metric. *list_out belongs to the caller.
 * Broker errors: HONE_ENOTFOUND. */
HONE_EXPORT int hone_client_list(hone_client_t *client, const char *experiment, hone_trial_list_t **list_out);

/* As hone_client_list, and each trial also carries its full learning curves
 * (hone_trial_curve_*). The reply must fit the protocol's limits (about 25 000 points in
 * all): for a large experiment fetch trials one at a time with hone_client_trial.
 * Broker errors: HONE_ENOTFOUND, HONE_ETOOBIG. */
HONE_EXPORT int hone_client_list_curves(hone_client_t *client, const char *experiment,
                                        hone_trial_list_t **list_out);

/* One trial, as hone_client_list gives it, and with curves also its full learning
 * curves (hone_trial_curve_*). *trial_out belongs to the caller.
 * Broker errors: HONE_ENOTFOUND (no such experiment or trial), HONE_ETOOBIG. */
HONE_EXPORT int hone_client_trial(hone_client_t *client, const char *experiment, uint64_t trial, bool curves,
                                  hone_trial_t **trial_out);

/* Ax's should_stop_trial_early(trial): whether the experiment's early-stopping strategy
 * (its config's early_stopping block, or, without one, Ax's default: the percentile
 * strategy with its defaults) would stop the trial now, and why. It never changes the
 * trial's status: to stop it, mark it EARLY_STOPPED (hone_client_mark). It does record
 * the check for the strategy's `interval` rule, as Ax does. *stop_out is set; the
 * caller frees *reason_out (reason_out may be NULL) with hone_strfree.
 * Broker errors: HONE_ENOTFOUND (no such experiment or trial). */
HONE_EXPORT int hone_client_should_stop(hone_client_t *client, const char *experiment, uint64_t trial,
                                        bool *stop_out, char **reason_out);

/* ---- worker role ---- */

typedef struct _hone_worker_t hone_worker_t;

/* Opens a worker for `experiment` at endpoint (NULL: HONE_DEFAULT_ENDPOINT), named
 * worker_name (NULL: "<host>-<pid>-<random>"), with opts (NULL: defaults).
 * The name is the worker's identity: it must be unique among live workers. When a
 * worker asks for work while the broker records a RUNNING trial for its name, the
 * reply that handed that trial out was lost (a broker restart, a dropped link), and the
 * broker hands the same trial back; so a device that restarts under the same name
 * resumes its trial.
 * No message is exchanged until the first call.
 * Returns HONE_OK with *out set (release with hone_worker_destroy), HONE_EINVAL (NULL
 * out or experiment, bad endpoint, invalid opts), HONE_ENOMEM, HONE_EIO. */
HONE_EXPORT int hone_worker_open(hone_worker_t **out, const char *endpoint, const char *experiment,
                                 const char *worker_name, const hone_options_t *opts);
/* Closes the connection, frees the worker, sets *worker_p to NULL; NULL is a no-op.
 * A trial still being evaluated is not reported: the broker requeues it when its lease
 * expires. */
HONE_EXPORT void hone_worker_destroy(hone_worker_t **worker_p);
/* As hone_client_last_error, for a worker. */
HONE_EXPORT const char *hone_worker_last_error(const hone_worker_t *worker);
/* Installs (fn non-NULL) or removes (fn NULL) the worker's log function. */
HONE_EXPORT void hone_worker_set_log(hone_worker_t *worker, hone_log_fn *fn, void *arg);
/* As hone_client_set_curve, for a worker: key_path is the worker's secret certificate
 * (from `hone keygen NAME --role worker`, or a client key, which may do everything). */
HONE_EXPORT int hone_worker_set_curve(hone_worker_t *worker, const char *key_path, const char *broker_key_path);

/* Every worker call below may also return HONE_EINVAL, HONE_ENOMEM, HONE_ETIMEDOUT,
 * HONE_EINTR, HONE_EPROTO, HONE_EVERSION, HONE_ETOOBIG, HONE_ESTORE, HONE_EPERM and other
 * codes sent by the broker (message in last_error), as described for the client role. */

/* Asks the broker for a trial to evaluate. When the broker has no work now, waits the
 * delay it suggests (plus up to 10 % jitter) and asks again, until timeout_ms has passed
 * (0: ask once; < 0: no limit). Returns:
 *   HONE_OK         *trial_out is the trial (RUNNING; the caller owns it);
 *   HONE_EDONE      the experiment's budget is spent: the worker should stop;
 *   HONE_EAGAIN     still no work when timeout_ms ran out;
 *   HONE_ENOTFOUND  no such experiment;
 *   HONE_EEXHAUSTED the search space has no unused point left. */
HONE_EXPORT int hone_worker_next(hone_worker_t *worker, hone_trial_t **trial_out, int32_t timeout_ms);

/* Leases: the trial from hone_worker_next is leased to this worker. Every report on it
 * (readings, completion, failure, heartbeat) carries the lease and keeps it; when the
 * broker hears nothing for its heartbeat interval × liveness (the experiment's config,
 * "leases"), the lease expires and the trial is handed to another worker. A report
 * under an expired lease is answered HONE_ELEASE and changes nothing: the worker must
 * drop the trial. Repeating a completion or failure that was applied (its reply was
 * lost) succeeds again and changes nothing. */

/* The heartbeat interval the broker asks for, in ms, from the last trial received
 * (1000 before any, or from a broker without leases). Call hone_worker_heartbeat at
 * this interval while evaluating. */
HONE_EXPORT int32_t hone_worker_heartbeat_interval(const hone_worker_t *worker);

/* Sends an intermediate reading of a running trial (a learning-curve point when
 * has_progression). Arguments as for hone_client_attach (n >= 1).
 * Returns HONE_OK: the reading is stored. When the broker stopped the trial early, at
 * this reading or before, the call still returns HONE_OK and hone_worker_stop_requested
 * becomes true (see "Early stopping" below). HONE_ESTATE when the trial is no longer
 * RUNNING otherwise (abandoned or failed meanwhile): the worker should stop evaluating
 * it and must not complete it; HONE_ELEASE when its lease expired (the trial was
 * re-queued): likewise. HONE_ENOTFOUND: unknown trial. */
HONE_EXPORT int hone_worker_report(hone_worker_t *worker, uint64_t trial, size_t n,
                                   const char *const metric_names[], const double means[],
                                   const double sems[], bool has_progression, int64_t progression);

/* Completes a trial with its final readings (n may be 0). For a trial the broker stopped
 * early this is the acknowledgement: the readings are stored, the trial stays
 * EARLY_STOPPED, HONE_OK is returned and hone_worker_stop_requested is true afterwards.
 * HONE_ESTATE when the trial is no longer RUNNING, HONE_ELEASE when its lease expired
 * (nothing was recorded), HONE_ENOTFOUND for an unknown trial. */
HONE_EXPORT int hone_worker_complete(hone_worker_t *worker, uint64_t trial, size_t n,
                                     const char *const metric_names[], const double means[],
                                     const double sems[]);

/* Marks a trial FAILED with a reason (NULL: none). For a trial the broker stopped early
 * it acknowledges the stop instead (the trial stays EARLY_STOPPED; HONE_OK). HONE_ESTATE
 * when the trial is no longer RUNNING, HONE_ELEASE when its lease expired,
 * HONE_ENOTFOUND for an unknown trial. */
HONE_EXPORT int hone_worker_fail(hone_worker_t *worker, uint64_t trial, const char *reason);

/* Tells the broker the worker is alive and still evaluating its current trial (the one
 * from the last hone_worker_next, until it is completed or failed), which keeps the
 * trial's lease. Call it every hone_worker_heartbeat_interval ms during an evaluation
 * (PROTOCOL.md §6). Returns HONE_OK, also when the broker stopped the trial early (then
 * hone_worker_stop_requested is true: see "Early stopping" below); HONE_ESTATE when the
 * worker must drop its current trial (a client abandoned or failed it meanwhile);
 * HONE_ELEASE when the lease expired (the trial was re-queued): stop evaluating it and
 * do not report it. */
HONE_EXPORT int hone_worker_heartbeat(hone_worker_t *worker);

/* ---- early stopping (worker role) ----
 *
 * When the experiment's configuration has an `early_stopping` block, the broker applies
 * the strategy after every reading of its metric: a trial whose learning curve is
 * hopeless is marked EARLY_STOPPED at once (its readings are kept), and the stop comes
 * back in the reply to that hone_worker_report, or to a later report or
 * hone_worker_heartbeat (the broker repeats it until acknowledged; a decision it makes
 * off its event loop arrives that way). Those calls return HONE_OK; the stop shows as:
 *   - hone_worker_stop_requested() true, with hone_worker_stop_reason();
 *   - the stop callback, if one is installed, called once per trial.
 * The worker should then stop evaluating the trial and acknowledge the stop with
 * hone_worker_complete (with final readings, if any; they are stored) or
 * hone_worker_fail; both return HONE_OK and leave the trial EARLY_STOPPED. A worker that
 * never acknowledges loses the trial's lease when it falls silent; the trial stays
 * EARLY_STOPPED. The flag is cleared when hone_worker_next hands out the next trial. */

/* Called when the broker stops `trial` (the worker's current trial) early, with the
 * strategy's reason (never NULL; borrowed for the call). It runs on the thread calling
 * hone_worker_report or hone_worker_heartbeat, inside that call, once per trial; it must
 * not call functions on `worker` (set a flag, signal the evaluation). */
typedef void (hone_worker_stop_fn)(hone_worker_t *worker, uint64_t trial, const char *reason, void *arg);

/* Installs (fn non-NULL) or removes (fn NULL) the stop callback. */
HONE_EXPORT void hone_worker_on_stop(hone_worker_t *worker, hone_worker_stop_fn *fn, void *arg);
/* True when the broker stopped the worker's current trial (the last one from
 * hone_worker_next) early; false for NULL. */
HONE_EXPORT bool hone_worker_stop_requested(const hone_worker_t *worker);
/* The reason of that stop; "" when there is none. Borrowed: valid until the next
 * hone_worker_next or hone_worker_destroy. */
HONE_EXPORT const char *hone_worker_stop_reason(const hone_worker_t *worker);

#ifdef __cplusplus
}
#endif

#endif
