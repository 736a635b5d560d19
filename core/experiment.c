/* experiment.c: trials, data, generation (center, then scrambled Sobol, then BO), budget
 * and the raw best point. The JSON side lives in config.c.
 *
 * Parameter constraints (constraint.h) hold for every generated trial: a center that
 * violates them is replaced by the Chebyshev center (skipped when none is feasible),
 * Sobol points are drawn until one is feasible (rejection sampling, as Ax does), and a
 * BO candidate that violates them gives way to Sobol. Trials restored from storage are
 * not checked (Ax lets attached trials lie outside the constraints).
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. Nothing here
 * fails halfway: every input is validated before the first change. */
#include "experiment.h"

#include "bo.h"

#include "alloc.h"
#include "experiment_settings.h"
#include "rng.h"
#include "sobol.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Consecutive Sobol draws that are duplicates or violate a parameter constraint after
 * which the space counts as exhausted (Ax's rejection sampling gives up after 10,000). */
#define S_MAX_REJECTED_DRAWS 10000
/* Ax truncates failure and abandonment reasons to this many characters; hone counts
 * bytes and never cuts a UTF-8 sequence. */
#define S_MAX_REASON 1000
/* Status codes are 0..8 (6 is Ax's deprecated DISPATCHED). */
#define S_STATUS_SLOTS 9

/* One slot of the open-addressing set of arms in use (arms of every trial that is
 * not FAILED). hash 0 marks a never-used slot; count 0 with a hash is a tombstone. */
typedef struct {
    uint64_t hash;      /* FNV-1a of the arm, never 0 when used */
    uint32_t trial;     /* a trial holding this arm: its params are what we compare */
    uint32_t count;     /* number of non-FAILED trials holding this arm */
} s_arm_slot_t;

struct _hone_experiment_t {
    char *name;                     /* experiment name */
    char *config_json;              /* canonical configuration (config.c) */
    hone_space_t *space;            /* owned search space */
    hone_constraint_set_t *constraints; /* owned parameter constraints (possibly empty) */
    char *method;                   /* method as configured ("random_search" or "fast") */
    char *note;                     /* remark about the configuration, or NULL */
    bool minimize;                  /* objective direction */
    uint64_t seed;                  /* initialization_random_seed in use */
    bool initialize_with_center;    /* first trial is the center */
    uint32_t initialization_budget; /* center + Sobol trials before BO */
    uint32_t min_observed;          /* observed trials needed before BO */
    bool use_existing_trials;       /* every trial counts toward the initialization budget */
    bool allow_exceeding_budget;    /* Sobol past the budget is normal, not a wait for data */
    hone_bo_t *bo;                  /* Bayesian optimization (method "fast"), or NULL */
    hone_kernel_kind_t kernel;      /* of the GP (BO, predict, model-based best) */
    hone_bo_stats_t bo_stats;       /* statistics of the last BO step */
    char note_buf[192];             /* the note of the last generated trial, when composed */
    uint32_t max_trials;            /* 0: unlimited */
    uint32_t prefetch;              /* candidates kept generated ahead (broker) */
    uint32_t max_failures;          /* generation stops once this many trials failed */
    hone_lease_settings_t leases;   /* worker leases: heartbeat, liveness, retries */
    bool has_stopping;              /* an early-stopping strategy is configured */
    hone_stopping_config_t stopping; /* that strategy (when has_stopping) */
    char *stop_metric;              /* the metric it reads (the objective by default) */
    bool stop_minimize;             /* that metric's direction */
    int64_t *stop_checks;           /* per trial: last interval check, INT64_MIN for none */
    size_t n_stop_checks;           /* entries in stop_checks (grown on demand) */
    char **metrics;                 /* metric names; [0] is the objective */
    size_t n_metrics;               /* number of metrics */
    size_t cap_metrics;             /* allocated slots in metrics */
    hone_trial_t *trials;           /* trials by index */
    size_t n_trials;                /* number of trials */
    size_t cap_trials;              /* allocated slots in trials */
    size_t status_count[S_STATUS_SLOTS]; /* trials per status code */
    hone_sobol_t *sobol;            /* initialization Sobol sequence */
    double *unit;                   /* scratch: one Sobol point */
    hone_value_t *scratch;          /* scratch: one parameterization */
    s_arm_slot_t *arms;             /* set of arms in use */
    size_t cap_arms;                /* slots in arms (power of two) */
    size_t n_arm_used;              /* slots holding a live arm */
    size_t n_arm_tomb;              /* tombstone slots */
    double cardinality;             /* number of distinct points of the space, or INFINITY */
};

/* ---------------------------------------------------------------------------------
 * Arm set. */

static uint64_t s_fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t s_arm_hash(const hone_value_t *values, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char type = (unsigned char) values[i].type;
        h = s_fnv(h, &type, 1);
        switch (values[i].type) {
        case HONE_TYPE_FLOAT: {
            double f = values[i].u.f == 0 ? 0.0 : values[i].u.f;   /* -0.0 equals 0.0 */
            uint64_t bits;
            memcpy(&bits, &f, sizeof bits);
            h = s_fnv(h, &bits, sizeof bits);
            break;
        }
        case HONE_TYPE_INT: {
            uint64_t bits = (uint64_t) values[i].u.i;
            h = s_fnv(h, &bits, sizeof bits);
            break;
        }
        case HONE_TYPE_BOOL: {
            unsigned char b = values[i].u.b ? 1 : 0;
            h = s_fnv(h, &b, 1);
            break;
        }
        case HONE_TYPE_STR:
            h = s_fnv(h, values[i].u.s, strlen(values[i].u.s) + 1);
            break;
        }
    }
    return h ? h : 1;
}

/* The slot holding an arm equal to values, or SIZE_MAX. */
static size_t s_arms_find(const hone_experiment_t *self, const hone_value_t *values, uint64_t hash)
{
    if (self->cap_arms == 0)
        return SIZE_MAX;
    size_t mask = self->cap_arms - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const s_arm_slot_t *s = &self->arms[i];
        if (s->hash == 0)
            return SIZE_MAX;
        if (s->count > 0 && s->hash == hash
            && hone_space_points_equal(self->space, self->trials[s->trial].params, values))
            return i;
    }
}

static void s_arms_place(s_arm_slot_t *arms, size_t cap, s_arm_slot_t slot)
{
    size_t mask = cap - 1;
    size_t i = slot.hash & mask;
    while (arms[i].hash != 0 && arms[i].count > 0)
        i = (i + 1) & mask;
    arms[i] = slot;
}

static void s_arms_grow(hone_experiment_t *self)
{
    size_t cap = 16;
    while (cap < 4 * (self->n_arm_used + 1))
        cap *= 2;
    s_arm_slot_t *arms = hone_alloc_array(cap, sizeof(s_arm_slot_t));
    for (size_t i = 0; i < self->cap_arms; i++) {
        if (self->arms[i].hash != 0 && self->arms[i].count > 0)
            s_arms_place(arms, cap, self->arms[i]);
    }
    hone_free(self->arms);
    self->arms = arms;
    self->cap_arms = cap;
    self->n_arm_tomb = 0;
}

static void s_arms_add(hone_experiment_t *self, uint32_t trial)
{
    const hone_value_t *params = self->trials[trial].params;
    uint64_t hash = s_arm_hash(params, hone_space_size(self->space));
    size_t at = s_arms_find(self, params, hash);
    if (at != SIZE_MAX) {
        self->arms[at].count++;
        return;
    }
    if (2 * (self->n_arm_used + self->n_arm_tomb + 1) > self->cap_arms)
        s_arms_grow(self);
    size_t mask = self->cap_arms - 1;
    size_t i = hash & mask;
    while (self->arms[i].hash != 0 && self->arms[i].count > 0)
        i = (i + 1) & mask;
    if (self->arms[i].hash != 0)
        self->n_arm_tomb--;   /* reusing a tombstone */
    self->arms[i] = (s_arm_slot_t) { .hash = hash, .trial = trial, .count = 1 };
    self->n_arm_used++;
}

static void s_arms_remove(hone_experiment_t *self, uint32_t trial)
{
    const hone_value_t *params = self->trials[trial].params;
    size_t at = s_arms_find(self, params, s_arm_hash(params, hone_space_size(self->space)));
    HONE_ASSERT(at != SIZE_MAX);
    if (--self->arms[at].count == 0) {
        self->n_arm_used--;
        self->n_arm_tomb++;
    }
}

/* ---------------------------------------------------------------------------------
 * Life cycle. */

static double s_cardinality(const hone_space_t *space)
{
    double total = 1;
    for (size_t i = 0; i < hone_space_size(space); i++) {
        const hone_param_t *p = hone_space_param(space, i);
        if (p->kind == HONE_PARAM_RANGE)
            total *= p->type == HONE_TYPE_INT ? p->upper - p->lower + 1 : INFINITY;
        else
            total *= (double) p->n_values;
    }
    return total;
}

static void s_sobol_reset(hone_experiment_t *self)
{
    hone_sobol_destroy(&self->sobol);
    uint32_t dim = (uint32_t) hone_space_size(self->space);
    self->sobol = hone_sobol_new(dim, true, hone_rng_derive(self->seed, HONE_RNG_SOBOL_INIT));
    HONE_ASSERT(self->sobol);
}

hone_experiment_t *hone_experiment_new(const hone_experiment_settings_t *settings,
                                       hone_space_t **space_p, hone_constraint_set_t **constraints_p,
                                       char **config_json_p)
{
    HONE_ASSERT(settings && space_p && *space_p && config_json_p && *config_json_p);
    size_t dim = hone_space_size(*space_p);
    HONE_ASSERT(dim >= 1 && dim <= HONE_SOBOL_MAXDIM);
    hone_experiment_t *self = hone_alloc(sizeof(hone_experiment_t));
    self->name = hone_strdup(settings->name);
    self->config_json = *config_json_p;
    *config_json_p = NULL;
    self->space = *space_p;
    *space_p = NULL;
    if (constraints_p && *constraints_p) {
        HONE_ASSERT(hone_constraint_set_n_params(*constraints_p) == dim);
        self->constraints = *constraints_p;
        *constraints_p = NULL;
    } else {
        self->constraints = hone_constraint_set_new(dim);
    }
    self->method = hone_strdup(settings->method);
    self->minimize = settings->minimize;
    self->seed = settings->seed;
    self->initialize_with_center = settings->initialize_with_center;
    self->initialization_budget = settings->initialization_budget;
    self->min_observed = settings->min_observed_trials;
    self->use_existing_trials = settings->use_existing_trials;
    self->allow_exceeding_budget = settings->allow_exceeding_budget;
    self->max_trials = settings->max_trials;
    self->prefetch = settings->prefetch;
    self->max_failures = settings->max_failures;
    self->leases = settings->leases;
    self->has_stopping = settings->has_early_stopping;
    if (self->has_stopping)
        self->stopping = settings->early_stopping;
    self->stop_metric = hone_strdup(self->has_stopping ? settings->early_stopping_metric
                                                       : settings->objective_metric);
    self->stop_minimize = self->has_stopping ? settings->early_stopping_minimize : settings->minimize;
    self->cap_metrics = 4;
    self->metrics = hone_alloc_array(self->cap_metrics, sizeof(char *));
    self->metrics[self->n_metrics++] = hone_strdup(settings->objective_metric);
    self->unit = hone_alloc_array(dim, sizeof(double));
    self->scratch = hone_alloc_array(dim, sizeof(hone_value_t));
    self->cardinality = s_cardinality(self->space);
    s_sobol_reset(self);
    self->kernel = settings->kernel && streq(settings->kernel, "rbf") ? HONE_KERNEL_RBF
                                                                      : HONE_KERNEL_MATERN52;
    if (streq(settings->method, "fast")) {
        self->bo = hone_bo_new(self->space, self->kernel);
        hone_bo_set_constraints(self->bo, self->constraints);
        const char *acq = settings->acquisition ? settings->acquisition : "auto";
        hone_bo_set_acquisition(self->bo, streq(acq, "logei") ? HONE_BO_LOGEI
                                          : streq(acq, "qlognei") ? HONE_BO_QLOGNEI : HONE_BO_AUTO);
        hone_bo_set_warping(self->bo, settings->output_warping);
    }
    return self;
}

static void s_trial_free(hone_trial_t *t)
{
    hone_free(t->params);
    hone_strfree(t->note);
    hone_strfree(t->reason);
    hone_strfree(t->worker);
    hone_free(t->readings);
    for (uint32_t i = 0; i < t->n_attempts; i++)
        hone_strfree(t->attempts[i].worker);
    hone_free(t->attempts);
}

void hone_experiment_destroy(hone_experiment_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_experiment_t *self = *self_p;
    for (size_t i = 0; i < self->n_trials; i++)
        s_trial_free(&self->trials[i]);
    hone_free(self->trials);
    for (size_t i = 0; i < self->n_metrics; i++)
        hone_strfree(self->metrics[i]);
    hone_free(self->metrics);
    hone_free(self->arms);
    hone_free(self->unit);
    hone_free(self->scratch);
    hone_sobol_destroy(&self->sobol);
    hone_space_destroy(&self->space);
    hone_strfree(self->name);
    hone_strfree(self->config_json);
    hone_strfree(self->method);
    hone_strfree(self->note);
    hone_strfree(self->stop_metric);
    hone_free(self->stop_checks);
    hone_bo_destroy(&self->bo);
    hone_constraint_set_destroy(&self->constraints);
    hone_free(self);
    *self_p = NULL;
}

/* ---------------------------------------------------------------------------------
 * Accessors. */

const char *hone_experiment_name(const hone_experiment_t *self) { HONE_ASSERT(self); return self->name; }
const char *hone_experiment_config_json(const hone_experiment_t *self) { HONE_ASSERT(self); return self->config_json; }
const hone_space_t *hone_experiment_space(const hone_experiment_t *self) { HONE_ASSERT(self); return self->space; }
uint64_t hone_experiment_seed(const hone_experiment_t *self) { HONE_ASSERT(self); return self->seed; }
uint32_t hone_experiment_max_trials(const hone_experiment_t *self) { HONE_ASSERT(self); return self->max_trials; }
const char *hone_experiment_note(const hone_experiment_t *self) { HONE_ASSERT(self); return self->note; }

const char *hone_experiment_objective(const hone_experiment_t *self, bool *minimize)
{
    HONE_ASSERT(self);
    if (minimize)
        *minimize = self->minimize;
    return self->metrics[0];
}

const char *hone_experiment_method(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->method;
}

size_t hone_experiment_metric_count(const hone_experiment_t *self) { HONE_ASSERT(self); return self->n_metrics; }

const char *hone_experiment_metric_name(const hone_experiment_t *self, uint32_t metric)
{
    HONE_ASSERT(self);
    return metric < self->n_metrics ? self->metrics[metric] : NULL;
}

int hone_experiment_metric_find(const hone_experiment_t *self, const char *name)
{
    HONE_ASSERT(self);
    if (!name)
        return -1;
    for (size_t i = 0; i < self->n_metrics; i++) {
        if (streq(self->metrics[i], name))
            return (int) i;
    }
    return -1;
}

size_t hone_experiment_trial_count(const hone_experiment_t *self) { HONE_ASSERT(self); return self->n_trials; }

const hone_trial_t *hone_experiment_trial(const hone_experiment_t *self, uint32_t index)
{
    HONE_ASSERT(self);
    return index < self->n_trials ? &self->trials[index] : NULL;
}

size_t hone_experiment_count_status(const hone_experiment_t *self, hone_trial_status_t status)
{
    HONE_ASSERT(self);
    return (unsigned) status < S_STATUS_SLOTS ? self->status_count[status] : 0;
}

uint64_t hone_experiment_sobol_drawn(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return hone_sobol_count(self->sobol);
}

void hone_experiment_restore_sobol(hone_experiment_t *self, uint64_t drawn)
{
    HONE_ASSERT(self);
    if (drawn < hone_sobol_count(self->sobol))
        s_sobol_reset(self);
    /* past the end of the sequence the next draw reports HONE_EEXHAUSTED */
    (void) hone_sobol_skip(self->sobol, drawn - hone_sobol_count(self->sobol));
}

/* ---------------------------------------------------------------------------------
 * Trials. */

static char *s_reason_dup(const char *reason)
{
    if (!reason)
        return NULL;
    size_t n = strlen(reason);
    if (n > S_MAX_REASON) {
        n = S_MAX_REASON;
        while (n > 0 && ((unsigned char) reason[n] & 0xC0) == 0x80)
            n--;   /* do not split a UTF-8 sequence */
    }
    return hone_strndup(reason, n);
}

static uint32_t s_add_trial(hone_experiment_t *self, hone_trial_status_t status, const hone_value_t *params,
                            const char *note, const char *reason)
{
    HONE_ASSERT(self->n_trials < UINT32_MAX);
    if (self->n_trials == self->cap_trials) {
        self->cap_trials = self->cap_trials ? self->cap_trials * 2 : 16;
        self->trials = hone_realloc_array(self->trials, self->cap_trials, sizeof(hone_trial_t));
    }
    size_t dim = hone_space_size(self->space);
    uint32_t index = (uint32_t) self->n_trials++;
    hone_trial_t *t = &self->trials[index];
    memset(t, 0, sizeof *t);
    t->index = index;
    t->status = status;
    t->params = hone_alloc_array(dim, sizeof(hone_value_t));
    memcpy(t->params, params, dim * sizeof(hone_value_t));
    t->note = hone_strdup(note);
    t->reason = s_reason_dup(reason);
    self->status_count[status]++;
    if (status != HONE_TRIAL_FAILED)
        s_arms_add(self, index);
    return index;
}

static size_t s_pending(const hone_experiment_t *self)
{
    size_t n = 0;
    for (int status = 0; status < S_STATUS_SLOTS; status++)
        if (hone_trial_status_name(status) && hone_trial_status_is_pending((hone_trial_status_t) status))
            n += self->status_count[status];
    return n;
}

/* HONE_OK when the budget allows one more trial. */
static int s_budget_check(const hone_experiment_t *self, hone_error_t *err)
{
    size_t failed = self->status_count[HONE_TRIAL_FAILED];
    if (failed >= self->max_failures)
        return hone_error_set(err, HONE_EDONE,
                              "experiment '%s': %zu trials failed, which reaches max_failures (%u); "
                              "no more trials will be generated", self->name, failed, self->max_failures);
    if (self->max_trials == 0)
        return HONE_OK;
    size_t active = self->n_trials - failed - self->status_count[HONE_TRIAL_ABANDONED];
    if (active < self->max_trials)
        return HONE_OK;
    size_t pending = s_pending(self);
    if (pending > 0)
        return hone_error_set(err, HONE_EAGAIN,
                              "experiment '%s': all %u trials of the budget are out and %zu are still "
                              "running; ask again when one of them fails or is abandoned",
                              self->name, self->max_trials, pending);
    return hone_error_set(err, HONE_EDONE, "experiment '%s': the budget of %u trials (max_trials) is spent",
                          self->name, self->max_trials);
}

/* Where Ax's generation strategy stands (reference/ax-client-behaviour.md §3.1). */
typedef enum {
    S_PHASE_SOBOL,        /* initialization: center and Sobol up to the budget */
    S_PHASE_WAITING,      /* budget reached, too few observed trials: Ax would pause */
    S_PHASE_BO,           /* both transition criteria met */
} s_phase_t;

static bool s_is_initialization_note(const char *note)
{
    return note && (strncmp(note, "center", 6) == 0 || strncmp(note, "sobol", 5) == 0);
}

/* Ax's two transition criteria of the Sobol node (ax/api/utils/generation_strategy_
 * dispatch.py, _get_sobol_node):
 * (a) MinTrials(budget, not_in_statuses=[FAILED, ABANDONED]): every other status counts,
 *     EARLY_STOPPED included (a stopped trial spent its share of the budget);
 * (b) MinTrials(min_observed, only_in_statuses=[COMPLETED], count_only_trials_with_data):
 *     only COMPLETED trials with data for the objective are "observed" (reference §3.1 (b)
 *     and §4.2). An EARLY_STOPPED trial does not count there, although its latest reading
 *     trains the model once BO runs (bo.c, s_observation): that is Ax's rule, and it
 *     keeps BO from starting on partial curves alone. */
static s_phase_t s_phase(const hone_experiment_t *self)
{
    size_t counted = 0, observed = 0;
    double mean, sem;
    for (size_t i = 0; i < self->n_trials; i++) {
        const hone_trial_t *t = &self->trials[i];
        if (t->status == HONE_TRIAL_FAILED || t->status == HONE_TRIAL_ABANDONED)
            continue;
        if (self->use_existing_trials || s_is_initialization_note(t->note))
            counted++;   /* (a) */
        if (t->status == HONE_TRIAL_COMPLETED && hone_trial_latest(t, 0, &mean, &sem))
            observed++;  /* (b) */
    }
    if (counted < self->initialization_budget)
        return S_PHASE_SOBOL;
    return observed >= self->min_observed ? S_PHASE_BO : S_PHASE_WAITING;
}

/* A BO candidate, when the strategy has reached BO and the model gives a new arm.
 * Otherwise *fallback says why Sobol is used instead (NULL: the plain Sobol phase). */
static bool s_bo_arm(hone_experiment_t *self, hone_value_t *out, const char **fallback)
{
    *fallback = NULL;
    s_phase_t phase = s_phase(self);
    if (phase == S_PHASE_SOBOL)
        return false;
    if (phase == S_PHASE_WAITING) {
        /* Ax raises "need more data" here; idle workers get a Sobol trial instead. */
        if (!self->allow_exceeding_budget)
            *fallback = "sobol (initialization budget reached, waiting for data)";
        return false;
    }
    hone_bo_input_t in = {
        .trials = self->trials, .n_trials = self->n_trials, .metric = 0,
        .minimize = self->minimize, .seed = self->seed,
    };
    hone_error_t berr;
    hone_error_clear(&berr);
    int rc = hone_bo_suggest(self->bo, &in, out, &self->bo_stats, &berr);
    HONE_ASSERT(rc != HONE_OK || hone_constraint_set_feasible(self->constraints, out));
    if (rc == HONE_OK && s_arms_find(self, out, s_arm_hash(out, hone_space_size(self->space))) == SIZE_MAX)
        return true;
    snprintf(self->note_buf, sizeof self->note_buf, "sobol (fallback: %.150s)",
             rc == HONE_OK ? "the model proposed an existing arm" : berr.message);
    *fallback = self->note_buf;
    return false;
}

/* The next arm to try, written to out. */
static int s_next_arm(hone_experiment_t *self, hone_value_t *out, const char **note, hone_error_t *err)
{
    /* Ax's center node: only on an experiment without trials (hence without the arm) */
    const char *fallback = NULL;
    if (self->initialize_with_center && self->n_trials == 0) {
        hone_space_center(self->space, out);
        if (hone_constraint_set_feasible(self->constraints, out)) {
            *note = "center";
            return HONE_OK;
        }
        if (hone_constraint_set_center(self->constraints, self->space, out) == HONE_OK) {
            (void) hone_constraint_set_tighten(self->constraints, self->space, out);
            *note = "center (Chebyshev center: the midpoint violates a parameter constraint)";
            return HONE_OK;
        }
        /* Ax skips the node */
        fallback = "sobol (no feasible point found near the center: the center node is skipped)";
    }
    if ((double) self->n_arm_used >= self->cardinality)
        return hone_error_set(err, HONE_EEXHAUSTED,
                              "experiment '%s': every one of the %.0f points of the search space is already "
                              "used by a trial", self->name, self->cardinality);
    if (self->bo && !fallback && s_bo_arm(self, out, &fallback)) {
        *note = "bo";
        return HONE_OK;
    }
    /* Rejection sampling: ints are rounded by from_unit, and a rounded point that breaks
     * a constraint is one more rejected draw (Ax re-randomizes the rounding instead). */
    size_t dim = hone_space_size(self->space);
    int infeasible = 0;
    for (int draw = 0; draw < S_MAX_REJECTED_DRAWS; draw++) {
        if (hone_sobol_next(self->sobol, 1, self->unit) != HONE_OK)
            return hone_error_set(err, HONE_EEXHAUSTED, "experiment '%s': the Sobol sequence is exhausted",
                                  self->name);
        hone_space_from_unit(self->space, self->unit, out);
        if (!hone_constraint_set_feasible(self->constraints, out)) {
            infeasible++;
            continue;
        }
        (void) hone_constraint_set_tighten(self->constraints, self->space, out);   /* off a boundary */
        if (s_arms_find(self, out, s_arm_hash(out, dim)) == SIZE_MAX) {
            *note = fallback ? fallback : "sobol";
            return HONE_OK;
        }
    }
    if (infeasible == S_MAX_REJECTED_DRAWS)
        return hone_error_set(err, HONE_EEXHAUSTED,
                              "experiment '%s': none of %d consecutive Sobol draws satisfied the parameter "
                              "constraints; they leave (almost) no feasible point in the search space",
                              self->name, S_MAX_REJECTED_DRAWS);
    if (infeasible > 0)
        return hone_error_set(err, HONE_EEXHAUSTED,
                              "experiment '%s': %d consecutive Sobol draws gave no new point (%d violated the "
                              "parameter constraints, %d were already used by trials); the feasible part of the "
                              "search space looks exhausted", self->name, S_MAX_REJECTED_DRAWS, infeasible,
                              S_MAX_REJECTED_DRAWS - infeasible);
    return hone_error_set(err, HONE_EEXHAUSTED,
                          "experiment '%s': %d consecutive Sobol draws gave points already used by trials; "
                          "the search space looks exhausted", self->name, S_MAX_REJECTED_DRAWS);
}

int hone_experiment_generate(hone_experiment_t *self, uint32_t max_trials,
                             uint32_t *indices, uint32_t *n_out, hone_error_t *err)
{
    HONE_ASSERT(self && n_out);
    *n_out = 0;
    if (max_trials == 0)
        return hone_error_set(err, HONE_EINVAL, "max_trials must be at least 1");
    HONE_ASSERT(indices);
    int rc = HONE_OK;
    while (*n_out < max_trials) {
        rc = s_budget_check(self, err);
        if (rc != HONE_OK)
            break;
        const char *note = NULL;
        rc = s_next_arm(self, self->scratch, &note, err);
        if (rc != HONE_OK)
            break;
        indices[(*n_out)++] = s_add_trial(self, HONE_TRIAL_RUNNING, self->scratch, note, NULL);
    }
    if (*n_out > 0) {
        hone_error_clear(err);   /* fewer than asked is still a success */
        return HONE_OK;
    }
    return rc;
}

/* ---------------------------------------------------------------------------------
 * Data and statuses. */

static uint32_t s_metric_intern(hone_experiment_t *self, const char *name)
{
    int found = hone_experiment_metric_find(self, name);
    if (found >= 0)
        return (uint32_t) found;
    HONE_ASSERT(self->n_metrics < UINT32_MAX);
    if (self->n_metrics == self->cap_metrics) {
        self->cap_metrics *= 2;
        self->metrics = hone_realloc_array(self->metrics, self->cap_metrics, sizeof(char *));
    }
    self->metrics[self->n_metrics] = hone_strdup(name);
    return (uint32_t) self->n_metrics++;
}

static void s_store_reading(hone_trial_t *t, hone_reading_t r)
{
    for (size_t i = 0; i < t->n_readings; i++) {
        hone_reading_t *old = &t->readings[i];
        if (old->metric == r.metric && old->has_progression == r.has_progression
            && (!r.has_progression || old->progression == r.progression)) {
            *old = r;   /* Ax: the same (metric, step) key replaces */
            return;
        }
    }
    if (t->n_readings == t->cap_readings) {
        t->cap_readings = t->cap_readings ? t->cap_readings * 2 : 4;
        t->readings = hone_realloc_array(t->readings, t->cap_readings, sizeof(hone_reading_t));
    }
    t->readings[t->n_readings++] = r;
}

int hone_experiment_attach(hone_experiment_t *self, uint32_t trial,
                           const hone_reading_in_t *readings, size_t n,
                           bool has_progression, int64_t progression,
                           bool require_running, hone_error_t *err)
{
    HONE_ASSERT(self);
    if (trial >= self->n_trials)
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    hone_trial_t *t = &self->trials[trial];
    if (n == 0 || !readings)
        return hone_error_set(err, HONE_EINVAL, "trial %u: no readings to attach", trial);
    if (require_running && t->status != HONE_TRIAL_RUNNING)
        return hone_error_set(err, HONE_ESTATE, "trial %u is %s: data can only be reported while it is RUNNING",
                              trial, hone_trial_status_name((int) t->status));
    for (size_t i = 0; i < n; i++) {
        const hone_reading_in_t *r = &readings[i];
        if (!r->metric || !*r->metric)
            return hone_error_set(err, HONE_EINVAL, "trial %u: reading %zu: metric name must not be empty",
                                  trial, i);
        if (!isfinite(r->mean))
            return hone_error_set(err, HONE_EINVAL, "trial %u: metric '%s': mean must be a finite number (got %g)",
                                  trial, r->metric, r->mean);
        if (!isnan(r->sem) && !(isfinite(r->sem) && r->sem >= 0))
            return hone_error_set(err, HONE_EINVAL,
                                  "trial %u: metric '%s': sem must be finite and >= 0, or NaN for unknown "
                                  "noise (got %g)", trial, r->metric, r->sem);
    }
    for (size_t i = 0; i < n; i++) {
        hone_reading_t stored = {
            .metric = s_metric_intern(self, readings[i].metric),
            .has_progression = has_progression,
            .progression = has_progression ? progression : 0,
            .mean = readings[i].mean,
            .sem = isnan(readings[i].sem) ? NAN : readings[i].sem,
        };
        s_store_reading(t, stored);
    }
    return HONE_OK;
}

int hone_experiment_mark(hone_experiment_t *self, uint32_t trial, hone_trial_status_t to,
                         const char *reason, hone_error_t *err)
{
    HONE_ASSERT(self);
    if (trial >= self->n_trials)
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    if (!hone_trial_status_name((int) to))
        return hone_error_set(err, HONE_EINVAL, "unknown trial status %d", (int) to);
    if (to == HONE_TRIAL_CANDIDATE)
        return hone_error_set(err, HONE_EINVAL, "a trial cannot be marked CANDIDATE");
    hone_trial_t *t = &self->trials[trial];
    int rc = hone_trial_check_transition(t, to, err);
    if (rc != HONE_OK || t->status == to)
        return rc;
    self->status_count[t->status]--;
    self->status_count[to]++;
    t->status = to;
    if (to == HONE_TRIAL_FAILED)
        s_arms_remove(self, trial);   /* Ax suggests a failed arm again */
    if ((to == HONE_TRIAL_FAILED || to == HONE_TRIAL_ABANDONED || to == HONE_TRIAL_EARLY_STOPPED) && reason) {
        hone_strfree(t->reason);
        t->reason = s_reason_dup(reason);
    }
    return HONE_OK;
}

const hone_stopping_config_t *hone_experiment_stopping(const hone_experiment_t *self, const char **metric,
                                                       bool *minimize)
{
    HONE_ASSERT(self);
    if (metric)
        *metric = self->stop_metric;
    if (minimize)
        *minimize = self->stop_minimize;
    return self->has_stopping ? &self->stopping : NULL;
}

bool hone_experiment_stop_check(const hone_experiment_t *self, uint32_t trial, int64_t *progression)
{
    HONE_ASSERT(self);
    if (trial >= self->n_stop_checks || self->stop_checks[trial] == INT64_MIN)
        return false;
    if (progression)
        *progression = self->stop_checks[trial];
    return true;
}

int hone_experiment_set_stop_check(hone_experiment_t *self, uint32_t trial, int64_t progression,
                                   hone_error_t *err)
{
    HONE_ASSERT(self);
    if (trial >= self->n_trials)
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    if (trial >= self->n_stop_checks) {
        size_t n = self->n_trials;
        self->stop_checks = hone_realloc_array(self->stop_checks, n, sizeof *self->stop_checks);
        for (size_t i = self->n_stop_checks; i < n; i++)
            self->stop_checks[i] = INT64_MIN;
        self->n_stop_checks = n;
    }
    self->stop_checks[trial] = progression;
    return HONE_OK;
}

/* Model-path constants (hone_experiment_best_ex): minimum observations and minimum
 * Spearman correlation of the leave-one-out means with the observations. */
#define S_BEST_MODEL_MIN_N 5
#define S_BEST_MODEL_MIN_RHO 0.3

const char *hone_best_source_name(hone_best_source_t source)
{
    return source == HONE_BEST_MODEL ? "model" : "raw";
}

/* Ax's raw path. */
static int s_best_raw(const hone_experiment_t *self, hone_best_point_t *out, hone_error_t *err)
{
    const hone_trial_t *best = NULL;
    double best_mean = 0, best_sem = NAN;
    for (size_t i = 0; i < self->n_trials; i++) {
        const hone_trial_t *t = &self->trials[i];
        double mean, sem;
        /* Only COMPLETED trials, as Ax's raw path (reference §6.1; Ax's best_point.py:
         * "Only COMPLETED trials should be considered when identifying the best point").
         * An EARLY_STOPPED trial's latest reading is a partial value, not the arm's. */
        if (t->status != HONE_TRIAL_COMPLETED || !hone_trial_latest(t, 0, &mean, &sem))
            continue;
        /* strict comparison: ties keep the lowest index */
        if (!best || (self->minimize ? mean < best_mean : mean > best_mean)) {
            best = t;
            best_mean = mean;
            best_sem = sem;
        }
    }
    if (!best)
        return hone_error_set(err, HONE_EDATA,
                              "experiment '%s': no COMPLETED trial has data for the objective metric '%s' yet",
                              self->name, self->metrics[0]);
    out->trial = best->index;
    out->mean = best_mean;
    out->sem = best_sem;
    out->source = HONE_BEST_RAW;
    return HONE_OK;
}

/* A generator of its own for the model of all current data, so that predictions leave
 * the BO step's warm start and refit schedule alone. */
static int s_model_fit(const hone_experiment_t *self, hone_bo_t **out, hone_error_t *err)
{
    hone_bo_t *bo = hone_bo_new(self->space, self->kernel);
    hone_bo_set_constraints(bo, self->constraints);
    hone_bo_input_t in = {
        .trials = self->trials, .n_trials = self->n_trials, .metric = 0,
        .minimize = self->minimize, .seed = self->seed,
    };
    int rc = hone_bo_fit_model(bo, &in, err);
    if (rc != HONE_OK)
        hone_bo_destroy(&bo);
    *out = bo;
    return rc;
}

typedef struct {
    double v;
    size_t i;
} s_ranked_t;

static int s_ranked_cmp(const void *a, const void *b)
{
    const s_ranked_t *x = a, *y = b;
    return (x->v > y->v) - (x->v < y->v);
}

/* Ranks (1-based, ties averaged) of v into rank. */
static void s_ranks(size_t n, const double *v, double *rank, s_ranked_t *tmp)
{
    for (size_t i = 0; i < n; i++)
        tmp[i] = (s_ranked_t) { v[i], i };
    qsort(tmp, n, sizeof *tmp, s_ranked_cmp);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && tmp[j + 1].v == tmp[i].v)
            j++;
        double r = 0.5 * (double) (i + j) + 1.0;
        for (size_t k = i; k <= j; k++)
            rank[tmp[k].i] = r;
        i = j + 1;
    }
}

/* Spearman's ρ (Pearson's correlation of the ranks); NAN when a side is constant. */
static double s_spearman(size_t n, const double *a, const double *b)
{
    double *ra = hone_alloc_array(n, sizeof(double)), *rb = hone_alloc_array(n, sizeof(double));
    s_ranked_t *tmp = hone_alloc_array(n, sizeof(s_ranked_t));
    s_ranks(n, a, ra, tmp);
    s_ranks(n, b, rb, tmp);
    double m = 0.5 * (double) (n + 1), sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < n; i++) {
        sab += (ra[i] - m) * (rb[i] - m);
        saa += (ra[i] - m) * (ra[i] - m);
        sbb += (rb[i] - m) * (rb[i] - m);
    }
    hone_free(ra);
    hone_free(rb);
    hone_free(tmp);
    return saa > 0 && sbb > 0 ? sab / sqrt(saa * sbb) : NAN;
}

/* Ax's model path on a model of all current data; false (out untouched but loo_rho)
 * when the raw path must answer. */
static bool s_best_model(const hone_experiment_t *self, hone_best_point_t *out)
{
    hone_bo_t *bo = NULL;
    if (s_model_fit(self, &bo, NULL) != HONE_OK)
        return false;
    const uint32_t *trials = NULL;
    size_t n = hone_bo_model_size(bo, &trials);
    if (n < S_BEST_MODEL_MIN_N) {
        hone_bo_destroy(&bo);
        return false;
    }
    bool ok = false;
    double *loo_mean = hone_alloc_array(n, sizeof(double));
    double *loo_sd = hone_alloc_array(n, sizeof(double));
    double *target = hone_alloc_array(n, sizeof(double));
    if (hone_bo_loo(bo, loo_mean, loo_sd, target) == HONE_OK) {
        out->loo_rho = s_spearman(n, loo_mean, target);
        ok = out->loo_rho >= S_BEST_MODEL_MIN_RHO;   /* false for NAN */
    }
    const hone_trial_t *best = NULL;
    double best_mean = 0, best_sem = NAN;
    for (size_t k = 0; ok && k < n; k++) {
        const hone_trial_t *t = &self->trials[trials[k]];
        /* The model learned from the EARLY_STOPPED trials too, but only a COMPLETED one can
         * be the best point (hone_experiment_best_ex): hone's model has no progression
         * input, so its mean at a stopped arm is anchored on a partial reading. */
        if (t->status != HONE_TRIAL_COMPLETED)
            continue;
        if (hone_space_check(self->space, t->params, NULL) != HONE_OK
            || !hone_constraint_set_feasible(self->constraints, t->params))
            continue;
        const hone_value_t *p = t->params;
        double mean, sem;
        if (hone_bo_predict(bo, 1, &p, &mean, &sem) != HONE_OK)
            continue;
        /* strict comparison, in index order: ties keep the lowest index */
        if (!best || (self->minimize ? mean < best_mean : mean > best_mean)) {
            best = t;
            best_mean = mean;
            best_sem = sem;
        }
    }
    if (ok && best) {
        out->trial = best->index;
        out->mean = best_mean;
        out->sem = best_sem;
        out->source = HONE_BEST_MODEL;
    }
    hone_free(loo_mean);
    hone_free(loo_sd);
    hone_free(target);
    hone_bo_destroy(&bo);
    return ok && best;
}

int hone_experiment_best_ex(const hone_experiment_t *self, bool use_model, hone_best_point_t *out,
                            hone_error_t *err)
{
    HONE_ASSERT(self && out);
    hone_best_point_t b = { .sem = NAN, .source = HONE_BEST_RAW, .loo_rho = NAN };
    int rc = s_best_raw(self, &b, err);
    if (rc != HONE_OK)
        return rc;
    /* The model's observations come from COMPLETED and EARLY_STOPPED trials (bo.c); this
     * bound on their number only spares a fit that s_best_model would reject. */
    size_t modelled = hone_experiment_count_status(self, HONE_TRIAL_COMPLETED)
                      + hone_experiment_count_status(self, HONE_TRIAL_EARLY_STOPPED);
    if (use_model && self->bo && modelled >= S_BEST_MODEL_MIN_N)
        (void) s_best_model(self, &b);
    *out = b;
    return HONE_OK;
}

int hone_experiment_best(const hone_experiment_t *self, uint32_t *trial_out,
                         double *mean_out, double *sem_out, hone_error_t *err)
{
    hone_best_point_t b;
    int rc = hone_experiment_best_ex(self, true, &b, err);
    if (rc != HONE_OK)
        return rc;
    if (trial_out)
        *trial_out = b.trial;
    if (mean_out)
        *mean_out = b.mean;
    if (sem_out)
        *sem_out = b.sem;
    return HONE_OK;
}

int hone_experiment_predict(hone_experiment_t *self, size_t n, const hone_value_t *const *params,
                            double *mean, double *sem, hone_error_t *err)
{
    HONE_ASSERT(self && (n == 0 || (params && mean && sem)));
    size_t dim = hone_space_size(self->space);
    hone_value_t *points = hone_alloc_array(n * dim + 1, sizeof(hone_value_t));
    const hone_value_t **rows = hone_alloc_array(n + 1, sizeof(hone_value_t *));
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < n; j++) {
        hone_value_t *row = &points[j * dim];
        for (size_t a = 0; a < dim; a++)
            row[a] = params[j][a];
        hone_error_t perr;
        hone_error_clear(&perr);
        if (hone_space_intern(self->space, row, &perr) != HONE_OK) {
            rc = hone_error_set(err, HONE_EINVAL, "points[%zu]: %s", j, perr.message);
        } else {
            int c = hone_constraint_set_violated(self->constraints, row);
            if (c >= 0)
                rc = hone_error_set(err, HONE_EINVAL, "points[%zu]: violates the parameter constraint '%s'", j,
                                    hone_constraint_set_text(self->constraints, (size_t) c));
        }
        rows[j] = row;
    }
    hone_bo_t *bo = NULL;
    if (rc == HONE_OK)
        rc = s_model_fit(self, &bo, err);
    if (rc == HONE_OK) {
        rc = hone_bo_predict(bo, n, rows, mean, sem);
        if (rc != HONE_OK)
            rc = hone_error_set(err, HONE_ENUMERIC, "the model could not predict (%s)", hone_strerror(rc));
    }
    hone_bo_destroy(&bo);
    hone_free(rows);
    hone_free(points);
    return rc;
}

void hone_experiment_set_worker(hone_experiment_t *self, uint32_t trial, const char *worker)
{
    HONE_ASSERT(self && trial < self->n_trials);
    hone_trial_t *t = &self->trials[trial];
    hone_strfree(t->worker);
    t->worker = worker && *worker ? hone_strdup(worker) : NULL;
}

const hone_trial_t *hone_experiment_running_for(const hone_experiment_t *self, const char *worker)
{
    HONE_ASSERT(self);
    if (!worker || !*worker || self->status_count[HONE_TRIAL_RUNNING] == 0)
        return NULL;
    /* Newest first: a worker's trial is almost always among the last ones handed out;
     * and the scan ends at the last RUNNING trial, so an idle worker asking for work does
     * not walk a long history of finished trials on every `ready`. */
    size_t running = self->status_count[HONE_TRIAL_RUNNING];
    for (size_t i = self->n_trials; i-- > 0 && running > 0;) {
        const hone_trial_t *t = &self->trials[i];
        if (t->status != HONE_TRIAL_RUNNING)
            continue;
        if (t->worker && streq(t->worker, worker))
            return t;
        running--;
    }
    return NULL;
}

/* ---------------------------------------------------------------------------------
 * Leases and attempts. */

const hone_lease_settings_t *hone_experiment_leases(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return &self->leases;
}

static void s_push_attempt(hone_trial_t *t, const hone_attempt_t *a)
{
    HONE_ASSERT(t->n_attempts < UINT32_MAX);
    if (t->n_attempts == t->cap_attempts) {
        t->cap_attempts = t->cap_attempts ? t->cap_attempts * 2 : 2;
        t->attempts = hone_realloc_array(t->attempts, t->cap_attempts, sizeof *t->attempts);
    }
    hone_attempt_t *copy = &t->attempts[t->n_attempts++];
    *copy = *a;
    copy->worker = hone_strdup(a->worker ? a->worker : "");
}

uint32_t hone_experiment_start_attempt(hone_experiment_t *self, uint32_t trial, const char *worker,
                                       int64_t now_ms)
{
    HONE_ASSERT(self && trial < self->n_trials);
    hone_trial_t *t = &self->trials[trial];
    HONE_ASSERT(t->status == HONE_TRIAL_RUNNING && !hone_trial_open_attempt(t));
    hone_attempt_t a = { .worker = (char *) worker, .start_ms = now_ms, .outcome = HONE_ATTEMPT_RUNNING };
    s_push_attempt(t, &a);
    return t->n_attempts;
}

void hone_experiment_end_attempt(hone_experiment_t *self, uint32_t trial, hone_attempt_outcome_t outcome,
                                 int64_t now_ms)
{
    HONE_ASSERT(self && trial < self->n_trials && outcome != HONE_ATTEMPT_RUNNING);
    hone_trial_t *t = &self->trials[trial];
    if (!hone_trial_open_attempt(t))
        return;
    hone_attempt_t *a = &t->attempts[t->n_attempts - 1];
    a->outcome = outcome;
    a->end_ms = now_ms;
}

int hone_experiment_expire(hone_experiment_t *self, uint32_t trial, int64_t now_ms,
                           hone_trial_status_t *status_out, hone_error_t *err)
{
    HONE_ASSERT(self && status_out);
    if (trial >= self->n_trials)
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    hone_trial_t *t = &self->trials[trial];
    if (t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t))
        return hone_error_set(err, HONE_ESTATE, "trial %u is %s without a running attempt: no lease to expire",
                              trial, hone_trial_status_name((int) t->status));
    uint32_t expired = hone_trial_expired_attempts(t) + 1;
    hone_trial_status_t to = expired <= self->leases.max_retries ? HONE_TRIAL_STALE : HONE_TRIAL_FAILED;
    char reason[128];
    snprintf(reason, sizeof reason, "lease expired %u time%s (max_retries %u)", expired, expired == 1 ? "" : "s",
             self->leases.max_retries);
    int rc = hone_experiment_mark(self, trial, to, to == HONE_TRIAL_FAILED ? reason : NULL, err);
    HONE_ASSERT(rc == HONE_OK);   /* RUNNING → STALE and RUNNING → FAILED are legal */
    hone_experiment_end_attempt(self, trial, HONE_ATTEMPT_EXPIRED, now_ms);
    if (to == HONE_TRIAL_STALE)
        hone_experiment_set_worker(self, trial, NULL);
    *status_out = to;
    return HONE_OK;
}

int hone_experiment_restore_attempt(hone_experiment_t *self, uint32_t trial, const hone_attempt_t *attempt,
                                    hone_error_t *err)
{
    HONE_ASSERT(self && attempt);
    if (trial >= self->n_trials)
        return hone_error_set(err, HONE_ENOTFOUND, "trial %u does not exist", trial);
    if (!hone_attempt_outcome_name((int) attempt->outcome))
        return hone_error_set(err, HONE_EINVAL, "trial %u: attempt with unknown outcome %d", trial,
                              (int) attempt->outcome);
    hone_trial_t *t = &self->trials[trial];
    if (hone_trial_open_attempt(t))
        return hone_error_set(err, HONE_EINVAL, "trial %u: attempt %u is still running but not the last", trial,
                              t->n_attempts);
    s_push_attempt(t, attempt);
    /* An open attempt belongs to a RUNNING trial; anything else ended with the trial. */
    if (attempt->outcome == HONE_ATTEMPT_RUNNING && t->status != HONE_TRIAL_RUNNING)
        hone_experiment_end_attempt(self, trial, hone_attempt_outcome_for(t->status) != HONE_ATTEMPT_RUNNING
                                                     ? hone_attempt_outcome_for(t->status) : HONE_ATTEMPT_EXPIRED,
                                    attempt->start_ms);
    return HONE_OK;
}

int hone_experiment_restore_trial(hone_experiment_t *self, uint32_t index,
                                  hone_trial_status_t status, hone_value_t *params,
                                  const char *note, const char *reason, hone_error_t *err)
{
    HONE_ASSERT(self && params);
    if (index != self->n_trials)
        return hone_error_set(err, HONE_EINVAL, "restore_trial: trial %u given while the experiment has %zu trials",
                              index, self->n_trials);
    if (!hone_trial_status_name((int) status))
        return hone_error_set(err, HONE_EINVAL, "restore_trial: trial %u: unknown status %d", index, (int) status);
    int rc = hone_space_intern(self->space, params, err);
    if (rc != HONE_OK)
        return rc;
    s_add_trial(self, status, params, note, reason);
    return HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * Snapshots, for generation off the broker's reactor, and the prefetch queue. */

uint32_t hone_experiment_prefetch(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->prefetch;
}

hone_experiment_t *hone_experiment_snapshot(hone_experiment_t *self, bool take_model)
{
    HONE_ASSERT(self);
    hone_experiment_t *snap = NULL;
    hone_error_t err;
    /* The canonical config of a live experiment always loads (it was made from it). */
    int rc = hone_experiment_from_json(&snap, self->config_json, strlen(self->config_json), 0, &err);
    HONE_ASSERT(rc == HONE_OK);
    for (size_t i = 1; i < self->n_metrics; i++)
        s_metric_intern(snap, self->metrics[i]);
    for (size_t i = 0; i < self->n_trials; i++) {
        const hone_trial_t *t = &self->trials[i];
        /* Interned into the copy's own space: string values point into a space. */
        size_t dim = hone_space_size(self->space);
        memcpy(snap->scratch, t->params, dim * sizeof *snap->scratch);
        rc = hone_space_intern(snap->space, snap->scratch, &err);
        HONE_ASSERT(rc == HONE_OK);   /* the same space, as config */
        uint32_t index = s_add_trial(snap, t->status, snap->scratch, t->note, t->reason);
        hone_trial_t *c = &snap->trials[index];   /* after s_add_trial, which may move trials */
        c->worker = t->worker ? hone_strdup(t->worker) : NULL;
        for (uint32_t a = 0; a < t->n_attempts; a++)
            s_push_attempt(c, &t->attempts[a]);
        if (t->n_readings > 0) {
            c->readings = hone_alloc_array(t->n_readings, sizeof *c->readings);
            memcpy(c->readings, t->readings, t->n_readings * sizeof *c->readings);
            c->n_readings = c->cap_readings = t->n_readings;
        }
    }
    hone_experiment_restore_sobol(snap, hone_experiment_sobol_drawn(self));
    if (take_model && self->bo && snap->bo)
        hone_bo_swap_state(snap->bo, self->bo);
    return snap;
}

void hone_experiment_adopt(hone_experiment_t *self, hone_experiment_t *snap, size_t first,
                           hone_trial_status_t status, uint32_t *indices, uint32_t *n_out)
{
    HONE_ASSERT(self && snap && indices && n_out);
    size_t dim = hone_space_size(self->space);
    uint32_t n = 0;
    for (size_t i = first; i < snap->n_trials; i++) {
        const hone_trial_t *t = &snap->trials[i];
        /* The snapshot's arms were new to it; the live experiment may have gained the same
         * arm meanwhile (a manual trial, another generation): keep arms distinct. */
        memcpy(self->scratch, t->params, dim * sizeof *self->scratch);
        int rc = hone_space_intern(self->space, self->scratch, NULL);   /* see snapshot */
        HONE_ASSERT(rc == HONE_OK);
        if (s_arms_find(self, self->scratch, s_arm_hash(self->scratch, dim)) != SIZE_MAX)
            continue;
        indices[n++] = s_add_trial(self, status, self->scratch, t->note, NULL);
    }
    *n_out = n;
    if (hone_experiment_sobol_drawn(snap) > hone_experiment_sobol_drawn(self))
        hone_experiment_restore_sobol(self, hone_experiment_sobol_drawn(snap));
    if (self->bo && snap->bo)
        hone_bo_swap_state(self->bo, snap->bo);
    self->bo_stats = snap->bo_stats;
}

int64_t hone_experiment_next_queued(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    if (self->status_count[HONE_TRIAL_STALE] > 0)
        for (size_t i = 0; i < self->n_trials; i++)
            if (self->trials[i].status == HONE_TRIAL_STALE)
                return (int64_t) i;
    return hone_experiment_next_candidate(self);
}

int64_t hone_experiment_next_candidate(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    if (self->status_count[HONE_TRIAL_CANDIDATE] == 0)
        return -1;
    for (size_t i = 0; i < self->n_trials; i++)
        if (self->trials[i].status == HONE_TRIAL_CANDIDATE)
            return (int64_t) i;
    return -1;
}

bool hone_experiment_budget_left(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return s_budget_check(self, NULL) == HONE_OK;
}
