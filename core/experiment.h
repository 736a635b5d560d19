/* experiment.h: an experiment as Ax's Client sees it: a search space, an objective,
 * a generation strategy, trials and their data. Pure computation: no I/O.
 *
 * Configuration is JSON with Ax's field names (README "Experiment configuration"):
 *   {
 *     "name": "hartmann6",                       required, [A-Za-z0-9_.-]{1,128}
 *     "parameters": [                            required, non-empty
 *       {"name": "x1", "bounds": [0, 1], "parameter_type": "float",
 *        "scaling": "linear" | "log", "step_size": 0.1},          RangeParameterConfig
 *       {"name": "opt", "values": ["adam", "sgd"], "parameter_type": "str",
 *        "is_ordered": false, "log_scale": false}                  ChoiceParameterConfig
 *     ],                                         ("type": "range"/"choice" optional)
 *     "parameter_constraints": ["x1 + x2 <= 1"], optional; Ax's linear inequalities
 *                                                (constraint.h); generated trials satisfy them
 *     "objective": "-loss",                      required; Ax's string (goals.h): "m" maximizes,
 *                                                "-m" minimizes, "a + 2*b" scalarized, "-a, b" several
 *     "outcome_constraints": ["qps >= 100"],     optional; Ax's strings, "0.9*baseline" relative
 *     "objective_thresholds": ["a <= 3"],        optional; several objectives only
 *     "generation_strategy": {                   optional
 *       "method": "random_search",               "fast" (default) or "random_search"
 *       "initialization_random_seed": 7,         default: drawn at creation, then stored
 *       "initialize_with_center": true,
 *       "initialization_budget": 5 },
 *     "max_trials": 40,                          optional budget; 0/absent = unlimited
 *     "max_failures": 40,                        optional; default max_trials (or 100)
 *     "leases": {                                optional; the broker's worker leases
 *       "heartbeat_ms": 1000,                    10 .. 60000: the workers' heartbeat interval
 *       "liveness": 3,                           1 .. 100: heartbeats missed before expiry
 *       "max_retries": 3 },                      0 .. 100: re-queues before FAILED
 *     "early_stopping": {                        optional; Ax's strategy arguments
 *       "type": "percentile",                    (stopping.h), Ax's defaults; "percentile"
 *       "metric": "-loss",                       (default) or "threshold" ("metric_threshold",
 *       "percentile_threshold": 50,              no patience / n_best); metric: default the
 *       "min_progression": 10, "min_curves": 5,  objective, "-m" when lower is better; null
 *       "max_progression": null, "interval": null, for min_/max_progression, interval,
 *       "patience": 0, "n_best_trials_to_complete": null, min_curves and n_best is Ax's
 *       "normalize_progressions": false, "check_safe": false }   None. Kept in the
 *   }                                            canonical config (Ax forgets it).
 * Ownership: the experiment owns its space, trials and strings. */
#ifndef HONE_EXPERIMENT_H
#define HONE_EXPERIMENT_H

#include "err.h"
#include "goals.h"
#include "space.h"
#include "stopping.h"
#include "trial.h"
#include "value.h"

typedef struct _hone_experiment_t hone_experiment_t;

/* Worker leases (the config's "leases" object). A trial handed to a worker is leased to
 * it; the lease expires after heartbeat_ms × liveness without a word from the worker,
 * and the trial is then re-queued (STALE) up to max_retries times, then FAILED. */
#define HONE_LEASE_HEARTBEAT_MS_DEFAULT 1000
#define HONE_LEASE_HEARTBEAT_MS_MIN 10
#define HONE_LEASE_HEARTBEAT_MS_MAX 60000
#define HONE_LEASE_LIVENESS_DEFAULT 3
#define HONE_LEASE_LIVENESS_MAX 100
#define HONE_LEASE_MAX_RETRIES_DEFAULT 3
#define HONE_LEASE_MAX_RETRIES_MAX 100

typedef struct hone_lease_settings {
    uint32_t heartbeat_ms;      /* the interval workers heartbeat at */
    uint32_t liveness;          /* intervals without a word before the lease expires */
    uint32_t max_retries;       /* expiries that re-queue the trial; one more fails it */
} hone_lease_settings_t;

/* Input form of one reading (hone_experiment_attach). */
typedef struct hone_reading_in {
    const char *metric;         /* metric name; unknown names are registered */
    double mean;                /* must be finite */
    double sem;                 /* >= 0 and finite, or NAN for "unknown" */
} hone_reading_in_t;

/* Parses and validates a JSON config. Every rule violated gives HONE_EINVAL with a
 * message naming the field ("parameters[2].bounds: ...") and the rule. When the config
 * has no seed, `default_seed` is used and written into the canonical config so that a
 * reloaded experiment continues the same sequence. Seeds are 63-bit (JSON integers are
 * signed): a config seed must be in [0, 2^63-1], and the top bit of default_seed is
 * dropped. */
int hone_experiment_from_json(hone_experiment_t **out, const char *json, size_t len,
                              uint64_t default_seed, hone_error_t *err);
void hone_experiment_destroy(hone_experiment_t **self_p);

const char *hone_experiment_name(const hone_experiment_t *self);
/* Canonical JSON of the configuration (what to persist); valid for the experiment's life. */
const char *hone_experiment_config_json(const hone_experiment_t *self);
const hone_space_t *hone_experiment_space(const hone_experiment_t *self);
/* The objective metric name and whether it is minimized. */
const char *hone_experiment_objective(const hone_experiment_t *self, bool *minimize);
/* The goals: objective(s), outcome constraints, objective thresholds (goals.h); borrowed,
 * valid for the experiment's life. Their metrics are the experiment's first metrics, in
 * the goals' order (hone_goals_metric(g, i) is metric i). */
const hone_goals_t *hone_experiment_goals(const hone_experiment_t *self);
/* The objective as the canonical config has it: "-loss" for one metric, otherwise the
 * string as given ("-latency, qps", "ne1 + 2*ne2"). Borrowed. */
const char *hone_experiment_objective_text(const hone_experiment_t *self);
/* True when the objective is one metric (metric 0), without outcome constraints: the
 * single-objective case of every answer (best point, predict). */
bool hone_experiment_is_single_objective(const hone_experiment_t *self);
/* The configured method: "fast" (Bayesian optimization) or "random_search". */
const char *hone_experiment_method(const hone_experiment_t *self);
/* A remark about the configuration that the caller should pass on to the user, or NULL
 * (none today; kept for remarks such as deprecated fields). Valid for the experiment's
 * life. */
const char *hone_experiment_note(const hone_experiment_t *self);
uint64_t hone_experiment_seed(const hone_experiment_t *self);
/* 0 means unlimited. */
uint32_t hone_experiment_max_trials(const hone_experiment_t *self);

/* Metrics known to the experiment (objective first, then in order of first reading). */
size_t hone_experiment_metric_count(const hone_experiment_t *self);
const char *hone_experiment_metric_name(const hone_experiment_t *self, uint32_t metric);
int hone_experiment_metric_find(const hone_experiment_t *self, const char *name); /* -1 if none */

size_t hone_experiment_trial_count(const hone_experiment_t *self);
/* The trial with that index, or NULL. Borrowed; valid until the next mutating call. */
const hone_trial_t *hone_experiment_trial(const hone_experiment_t *self, uint32_t index);
size_t hone_experiment_count_status(const hone_experiment_t *self, hone_trial_status_t status);

/* Generates up to max_trials new trials (center first, then scrambled Sobol, never a
 * duplicate of an existing arm except FAILED ones), each created RUNNING and satisfying
 * the parameter constraints. Writes their indices to indices[0..*n_out). Returns:
 *   HONE_OK         at least one trial was made;
 *   HONE_EAGAIN     the budget is taken by pending trials (running, or re-queued STALE
 *                   ones waiting for a worker): ask again later;
 *   HONE_EDONE      the budget is spent (or too many trials failed);
 *   HONE_EEXHAUSTED no unused point is left in a finite search space, or 10,000
 *                   consecutive Sobol draws were duplicates or violated the parameter
 *                   constraints (the message says which). */
int hone_experiment_generate(hone_experiment_t *self, uint32_t max_trials,
                             uint32_t *indices, uint32_t *n_out, hone_error_t *err);

/* Attaches readings (Ax's attach_data): keyed by (metric, progression); attaching the
 * same key again replaces. has_progression false means "no step". Errors: HONE_ENOTFOUND
 * (no such trial), HONE_EINVAL (empty metric name, non-finite mean, negative or
 * infinite sem, no readings). All or nothing. require_running adds the worker-role rule:
 * HONE_ESTATE unless the trial is RUNNING. */
int hone_experiment_attach(hone_experiment_t *self, uint32_t trial,
                           const hone_reading_in_t *readings, size_t n,
                           bool has_progression, int64_t progression,
                           bool require_running, hone_error_t *err);

/* Moves a trial to a status with Ax's rules (hone_trial_check_transition; EARLY_STOPPED
 * needs data). reason is kept for FAILED, ABANDONED and EARLY_STOPPED (truncated to 1000
 * bytes). Errors: HONE_ENOTFOUND,
 * HONE_ESTATE, HONE_EINVAL (a target that cannot be set by hand, e.g. CANDIDATE). */
int hone_experiment_mark(hone_experiment_t *self, uint32_t trial, hone_trial_status_t to,
                         const char *reason, hone_error_t *err);

/* ---- early stopping (Ax's should_stop_trial_early; reference §5) ---- */

/* The configured strategy (the config's "early_stopping"), or NULL when none is
 * configured. *metric and *minimize (each may be NULL) get the metric the strategy reads
 * and its direction: the objective's when none is configured. Borrowed; valid for the
 * experiment's life. */
const hone_stopping_config_t *hone_experiment_stopping(const hone_experiment_t *self, const char **metric,
                                                       bool *minimize);
/* Ax's should_stop_trial_early(trial): builds the curves of the strategy's metric from
 * every trial's readings that have a progression (any status), decides with the
 * configured strategy or, when none is configured, Ax's Client default, the percentile
 * strategy with all its defaults, and remembers the interval rule's check (below). Never
 * changes the trial's status (hone_experiment_mark does). out->reason says why.
 * Errors: HONE_ENOTFOUND (no such trial). */
int hone_experiment_should_stop(hone_experiment_t *self, uint32_t trial, hone_stop_decision_t *out,
                                hone_error_t *err);
/* The interval rule's memory: the raw progression at which trial was last checked
 * (hone_curves_set_last_check); false when it never was. Kept in memory only (a snapshot
 * does not copy it); a caller that persists it restores it with the setter. */
bool hone_experiment_stop_check(const hone_experiment_t *self, uint32_t trial, int64_t *progression);
/* Errors: HONE_ENOTFOUND (no such trial). */
int hone_experiment_set_stop_check(hone_experiment_t *self, uint32_t trial, int64_t progression,
                                   hone_error_t *err);

/* Where a best point comes from: Ax's raw path (observed means) or its model path. */
typedef enum { HONE_BEST_RAW = 0, HONE_BEST_MODEL = 1 } hone_best_source_t;
/* "raw" or "model". */
const char *hone_best_source_name(hone_best_source_t source);

typedef struct hone_best {
    uint32_t trial;               /* the best trial */
    double mean;                  /* model: posterior mean of f there; raw: latest mean */
    double sem;                   /* model: posterior std of f there; raw: latest SEM (NAN unknown) */
    hone_best_source_t source;    /* which path gave it */
    double loo_rho;               /* model check: Spearman ρ of LOO means vs targets; NAN if not run */
} hone_best_point_t;

/* Best parameterization (Ax's get_best_parameterization, §6.1 of the reference).
 *
 * Raw path: among COMPLETED trials with a reading of the objective metric, the one with
 * the best latest mean. Ties go to the lowest index. As in Ax, EARLY_STOPPED trials are
 * not candidates: their latest reading is a partial value.
 *
 * Model path (use_model and method "fast"; random_search always takes the raw path):
 * unlike Ax, whose adapter is the stale one of the last generation, a GP is fitted to
 * ALL current data (hone_bo_fit_model: the BO step's encoding, winsorization,
 * standardization and kernel, trained on the latest readings of the COMPLETED and
 * EARLY_STOPPED trials; a function of the data and the seed). Model-fit check,
 * a documented simplification of Ax's Fisher-exact test: closed-form leave-one-out
 * predictions at every observation, and the Spearman rank correlation ρ between the LOO
 * means and the (winsorized) observations; the model is trusted when n >= 5 and
 * ρ >= 0.3, otherwise (or if the fit fails) the raw path is used. When trusted, among
 * the COMPLETED trials with objective data that are members of the space and satisfy
 * the parameter constraints (not the EARLY_STOPPED ones, which inform the model but,
 * with no progression in it, are no estimate of an arm's final value; Ax's in-sample
 * candidates would include them), the best posterior mean wins (ties: lowest index); the
 * value is that posterior mean and the SEM the posterior std of f (both in the metric's
 * units). HONE_EDATA when no trial qualifies for the raw path. */
int hone_experiment_best_ex(const hone_experiment_t *self, bool use_model, hone_best_point_t *out,
                            hone_error_t *err);
/* hone_experiment_best_ex with use_model true, for callers that only need the trial,
 * value and SEM. */
int hone_experiment_best(const hone_experiment_t *self, uint32_t *trial_out,
                         double *mean_out, double *sem_out, hone_error_t *err);

/* ---- several goals: baseline, feasibility, Pareto frontier (experiment_goals.c) ---- */

/* The note of the baseline trial; a restored trial with this note is the baseline again. */
#define HONE_BASELINE_NOTE "baseline"

/* Ax's attach_baseline: a RUNNING trial with params (a member of the space, interned
 * here; it may break the parameter constraints, as Ax's attached trials may) whose arm
 * becomes the status quo that relative constraints and thresholds ("qps >= 0.95 *
 * baseline") are measured against. Its readings are reported like any trial's. One
 * baseline per experiment: HONE_EEXIST when there is one; HONE_EINVAL when params are
 * not a member of the space ("params: ..."). Writes the trial's index. */
int hone_experiment_attach_baseline(hone_experiment_t *self, hone_value_t *params, uint32_t *index_out,
                                    hone_error_t *err);
/* The baseline trial, or −1. */
int64_t hone_experiment_baseline(const hone_experiment_t *self);

/* The absolute bounds of the outcome constraints (hone_goals_constraint order) and
 * thresholds (per objective; NAN when none was given): a relative bound p (percent) is
 * sq + |sq|·p/100, sq the baseline's latest reading of the metric (Ax's Derelativize
 * with the raw status quo). HONE_EDATA, naming the constraint, when a relative bound
 * needs a baseline or its data that the experiment does not have. Either array may be
 * NULL. */
int hone_experiment_goal_bounds(const hone_experiment_t *self, double *constraint_bounds,
                                double *threshold_bounds, hone_error_t *err);

/* Objective k's value for a trial from its latest readings: Σ w·y over the objective's
 * metrics (the metric itself for a single-metric objective) and its SEM (√Σ w²·sem²,
 * NAN when a SEM is unknown). False when a metric has no reading. */
bool hone_experiment_objective_value(const hone_experiment_t *self, const hone_trial_t *trial, size_t k,
                                     double *mean, double *sem);
/* Whether a trial's latest readings satisfy every outcome constraint, given their
 * absolute bounds (hone_experiment_goal_bounds): a reading missing for a constraint's
 * metric counts as infeasible (Ax's raw path). Stricter than Ax's 95% interval rule: a
 * mean on the wrong side of a bound is infeasible whatever its SEM, so that an answer
 * never names a point observed to break a constraint. */
bool hone_experiment_trial_feasible(const hone_experiment_t *self, const hone_trial_t *trial,
                                    const double *constraint_bounds);
/* Objective k's name: its metric for a single-metric objective, else its weighted sum
 * ("ne1 + 2*ne2"). Borrowed, valid for the experiment's life. */
const char *hone_experiment_objective_label(const hone_experiment_t *self, size_t k);

/* A Pareto frontier (Ax's get_pareto_frontier), owned by the caller: free with
 * hone_frontier_clear. Values are in the objectives' own units and directions (each
 * objective's value as hone_experiment_objective_value gives it); the reference point
 * too. */
typedef struct hone_frontier {
    hone_best_source_t source;   /* model (posterior means at the observed arms) or raw */
    size_t n_objectives;
    size_t n_points;
    uint32_t *trials;            /* n_points trials, by decreasing contribution */
    double *values;              /* n_points × n_objectives */
    double *sems;                /* n_points × n_objectives; NAN when unknown */
    double *contributions;       /* n_points exclusive hypervolume contributions */
    double *ref;                 /* n_objectives: the reference point used */
    bool ref_inferred;           /* some coordinate was inferred (no threshold given) */
    double hypervolume;          /* of the frontier against ref */
} hone_frontier_t;

/* The Pareto frontier of a multi-objective experiment, from the model (use_model, method
 * "fast": one GP per objective metric fitted to all current data, its posterior means
 * at the COMPLETED arms that satisfy the outcome constraints; Ax refits likewise) or
 * from the raw latest readings of those trials. The points are the non-dominated ones
 * among them that strictly beat every threshold given (a point beyond an inferred
 * coordinate stays, with a contribution of 0), ordered by decreasing exclusive
 * hypervolume contribution against the
 * reference point: the thresholds, with the missing coordinates inferred as Ax does
 * (hone_pareto_infer_ref on the values of the feasible points). The model path falls
 * back to raw when a model cannot be fitted (fewer than 2 points). Errors: HONE_EINVAL
 * when the objective is not multi-objective ("use best"), HONE_EDATA when no COMPLETED
 * trial has data for every objective and satisfies the constraints, or a relative bound
 * lacks the baseline's data. */
int hone_experiment_pareto(const hone_experiment_t *self, bool use_model, hone_frontier_t *out,
                           hone_error_t *err);
void hone_frontier_clear(hone_frontier_t *frontier);

/* Ax's Client.predict for the objective: posterior mean and SEM (the posterior standard
 * deviation of f, without noise; Ax's tuple carries the variance) in the metric's own
 * units at n parameterizations, from a GP fitted to all current data (as the model path
 * of best; any method). The model is trained on winsorized targets, so predictions of
 * outliers are clipped like its training data; the standardization is undone exactly.
 * Errors: HONE_EINVAL "points[i]: ..." naming the parameter (not a member of the space)
 * or the parameter constraint violated; HONE_EDATA fewer than 2 COMPLETED or
 * EARLY_STOPPED trials with objective data (the model's training data, bo.h);
 * HONE_ENUMERIC the model could not be fitted (or no free parameter). */
int hone_experiment_predict(hone_experiment_t *self, size_t n, const hone_value_t *const *params,
                            double *mean, double *sem, hone_error_t *err);
/* hone_experiment_predict for any metric of the experiment (of its goals, or one it has
 * readings of), named by metric; NULL is the objective (the first objective with
 * several; a scalarized objective's weighted sum). As Ax's predict, which lists every
 * modelled metric. Errors as hone_experiment_predict, and HONE_EINVAL "metric: ..." for
 * a name the experiment does not know; HONE_EDATA counts that metric's data. */
int hone_experiment_predict_metric(hone_experiment_t *self, const char *metric, size_t n,
                                   const hone_value_t *const *params, double *mean, double *sem, hone_error_t *err);

/* Records which worker (by the name it gave) evaluates a trial; NULL or "" clears it. */
void hone_experiment_set_worker(hone_experiment_t *self, uint32_t trial, const char *worker);
/* The RUNNING trial held by the worker with that name, or NULL. A worker evaluates one
 * trial at a time, so a worker that asks for work while holding one lost the reply
 * that handed it out (a broker restart, a dropped link): it gets the same trial back. */
const hone_trial_t *hone_experiment_running_for(const hone_experiment_t *self, const char *worker);

/* ---- leases and attempts (the broker's worker role) ---- */

/* The experiment's lease settings; borrowed, valid for the experiment's life. */
const hone_lease_settings_t *hone_experiment_leases(const hone_experiment_t *self);
/* Starts an attempt of a RUNNING trial without an open one (the trial was just handed
 * to a worker): worker is the name it gave (NULL: ""), now_ms the wall-clock time.
 * Returns the attempt's number, 1-based, which is the lease token of this hand-out.
 * Asserts those conditions (a programming error otherwise). */
uint32_t hone_experiment_start_attempt(hone_experiment_t *self, uint32_t trial, const char *worker,
                                       int64_t now_ms);
/* Ends the trial's open attempt, if it has one, with outcome at now_ms. */
void hone_experiment_end_attempt(hone_experiment_t *self, uint32_t trial, hone_attempt_outcome_t outcome,
                                 int64_t now_ms);
/* The lease of a RUNNING trial expired: its open attempt ends as "lease expired"; the
 * trial becomes STALE (re-queued with the same parameters; its worker is cleared) while
 * its expired attempts number at most max_retries, else FAILED with the reason "lease
 * expired N times (max_retries M)". *status_out is the new status.
 * Errors: HONE_ENOTFOUND, HONE_ESTATE (not RUNNING, or no open attempt). */
int hone_experiment_expire(hone_experiment_t *self, uint32_t trial, int64_t now_ms,
                           hone_trial_status_t *status_out, hone_error_t *err);
/* The trial to hand out before generating a new one: the oldest STALE trial (re-queued
 * after a lost worker), else the oldest CANDIDATE (the prefetch queue); −1 if none. */
int64_t hone_experiment_next_queued(const hone_experiment_t *self);
/* Restoring from storage: appends an attempt (copied) to trial. At most one attempt, the
 * last, may be open. Errors: HONE_ENOTFOUND, HONE_EINVAL (an unknown outcome, an open
 * attempt that is not the last). */
int hone_experiment_restore_attempt(hone_experiment_t *self, uint32_t trial, const hone_attempt_t *attempt,
                                    hone_error_t *err);

/* Restoring from storage: recreates trial `index` (which must equal the trial count)
 * with the given status, parameters (interned), note and reason. The parameters must be
 * members of the space but need not satisfy the parameter constraints (Ax accepts
 * attached trials outside them). */
int hone_experiment_restore_trial(hone_experiment_t *self, uint32_t index,
                                  hone_trial_status_t status, hone_value_t *params,
                                  const char *note, const char *reason, hone_error_t *err);
/* How many Sobol points have been drawn; persisted so that a reloaded experiment
 * continues the same sequence. */
uint64_t hone_experiment_sobol_drawn(const hone_experiment_t *self);
void hone_experiment_restore_sobol(hone_experiment_t *self, uint64_t drawn);

/* ---- the broker's generation off its reactor thread ---- */

/* Upper bound of generation_strategy.prefetch. */
#define HONE_EXPERIMENT_PREFETCH_MAX 1000
/* generation_strategy.prefetch: how many CANDIDATE trials the broker keeps generated
 * ahead for `ready` (0: every trial generated at the request, the default). */
uint32_t hone_experiment_prefetch(const hone_experiment_t *self);
/* A deep copy (config, metrics, trials with their data and workers, Sobol position) that
 * another thread may generate on while this one keeps serving the original. With
 * take_model, the BO state (the GP that warm-starts the next fit, the refit schedule)
 * moves to the copy until hone_experiment_adopt gives it back; meanwhile the original
 * must not generate. Aborts on out-of-memory. */
hone_experiment_t *hone_experiment_snapshot(hone_experiment_t *self, bool take_model);
/* Takes over what was generated on snap since it had `first` trials: each new trial of
 * snap becomes a trial of self with `status` (RUNNING, or CANDIDATE for the prefetch
 * queue) unless its arm is in use in self by now; the Sobol position advances to snap's,
 * and the BO state comes back (it is swapped: self's may be another copy's, which is
 * fine). Writes the new trials' indices (room for snap's new trials) and their count. */
void hone_experiment_adopt(hone_experiment_t *self, hone_experiment_t *snap, size_t first,
                           hone_trial_status_t status, uint32_t *indices, uint32_t *n_out);
/* Whether the trial budget (max_trials, max_failures) allows another trial. */
bool hone_experiment_budget_left(const hone_experiment_t *self);
/* The oldest CANDIDATE trial, or −1. */
int64_t hone_experiment_next_candidate(const hone_experiment_t *self);

#endif
