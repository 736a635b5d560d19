/* experiment.c: the experiment object (experiment.h): its life cycle (built from validated
 * settings, destroyed, snapshotted for generation off the broker's reactor and adopted
 * back), its accessors, and its trials and their data (attach, mark, restore). The JSON
 * side lives in config.c; the rest of the object's behaviour lives next to it, sharing
 * the struct through experiment_internal.h:
 *   experiment_arms.c        the set of arms in use (no two live trials share an arm)
 *   experiment_generation.c  budget, Ax's Sobol/BO phases, generate, the prefetch queue
 *   experiment_best.c        the best point (raw and model paths) and predict
 *   experiment_leases.c      workers of running trials, leases and attempts
 *   experiment_stopping.c    early stopping (public API only)
 *
 * Trials restored from storage are not checked against the parameter constraints (Ax
 * lets attached trials lie outside them).
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. Nothing here
 * fails halfway: every input is validated before the first change. */
#include "experiment_internal.h"

#include "alloc.h"
#include "experiment_settings.h"
#include "rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Ax truncates failure and abandonment reasons to this many characters; hone counts
 * bytes and never cuts a UTF-8 sequence. */
#define S_MAX_REASON 1000

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
                                       hone_goals_t **goals_p, char **config_json_p)
{
    HONE_ASSERT(settings && space_p && *space_p && goals_p && *goals_p && config_json_p && *config_json_p);
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
    self->goals = *goals_p;
    *goals_p = NULL;
    self->single_metric = settings->single_metric;
    self->objective_text = hone_strdup(settings->objective_text);
    self->baseline = -1;
    self->n_objective_labels = hone_goals_n_objectives(self->goals);
    self->objective_labels = hone_alloc_array(self->n_objective_labels, sizeof(char *));
    for (size_t k = 0; k < self->n_objective_labels; k++)
        self->objective_labels[k] = hone_experiment_label_objective(self->goals, k);
    /* The goals' metrics first, in their order: metric 0 is the objective's (first). */
    size_t n_goal_metrics = hone_goals_n_metrics(self->goals);
    HONE_ASSERT(n_goal_metrics >= 1 && streq(hone_goals_metric(self->goals, 0), settings->objective_metric));
    self->cap_metrics = n_goal_metrics < 4 ? 4 : n_goal_metrics;
    self->metrics = hone_alloc_array(self->cap_metrics, sizeof(char *));
    for (size_t i = 0; i < n_goal_metrics; i++)
        self->metrics[self->n_metrics++] = hone_strdup(hone_goals_metric(self->goals, i));
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
        /* Outcome constraints or several objectives: one model per metric (bo_goals.h). */
        if (hone_goals_n_constraints(self->goals) > 0 || hone_goals_n_objectives(self->goals) > 1) {
            self->bo_goals = hone_bo_goals_new(self->space, self->goals, self->kernel);
            hone_bo_goals_set_constraints(self->bo_goals, self->constraints);
        }
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
    hone_bo_goals_destroy(&self->bo_goals);
    hone_constraint_set_destroy(&self->constraints);
    hone_goals_destroy(&self->goals);
    hone_strfree(self->objective_text);
    for (size_t k = 0; k < self->n_objective_labels; k++)
        hone_strfree(self->objective_labels[k]);
    hone_free(self->objective_labels);
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

const hone_goals_t *hone_experiment_goals(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->goals;
}

const char *hone_experiment_objective_text(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->objective_text;
}

bool hone_experiment_is_single_objective(const hone_experiment_t *self)
{
    HONE_ASSERT(self);
    return self->single_metric && hone_goals_n_constraints(self->goals) == 0;
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
    return (unsigned) status < HONE_EXPERIMENT_STATUS_SLOTS ? self->status_count[status] : 0;
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

uint32_t hone_experiment_add_trial(hone_experiment_t *self, hone_trial_status_t status, const hone_value_t *params,
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
        hone_experiment_arms_add(self, index);
    /* The baseline is known by its note, which the store and snapshots keep: only
     * hone_experiment_attach_baseline gives it. */
    if (self->baseline < 0 && note && streq(note, HONE_BASELINE_NOTE))
        self->baseline = index;
    return index;
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
    hone_experiment_add_trial(self, status, params, note, reason);
    return HONE_OK;
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
        hone_experiment_arms_remove(self, trial);   /* Ax suggests a failed arm again */
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

/* ---------------------------------------------------------------------------------
 * Snapshots, for generation off the broker's reactor. */

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
        uint32_t index = hone_experiment_add_trial(snap, t->status, snap->scratch, t->note, t->reason);
        hone_trial_t *c = &snap->trials[index];   /* after hone_experiment_add_trial, which may move trials */
        c->worker = t->worker ? hone_strdup(t->worker) : NULL;
        for (uint32_t a = 0; a < t->n_attempts; a++)
            hone_experiment_push_attempt(c, &t->attempts[a]);
        if (t->n_readings > 0) {
            c->readings = hone_alloc_array(t->n_readings, sizeof *c->readings);
            memcpy(c->readings, t->readings, t->n_readings * sizeof *c->readings);
            c->n_readings = c->cap_readings = t->n_readings;
        }
    }
    hone_experiment_restore_sobol(snap, hone_experiment_sobol_drawn(self));
    if (take_model && self->bo && snap->bo)
        hone_bo_swap_state(snap->bo, self->bo);
    if (take_model && self->bo_goals && snap->bo_goals)
        hone_bo_goals_swap_state(snap->bo_goals, self->bo_goals);
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
        if (hone_experiment_arms_find(self, self->scratch, hone_experiment_arm_hash(self->scratch, dim))
            != SIZE_MAX)
            continue;
        indices[n++] = hone_experiment_add_trial(self, status, self->scratch, t->note, NULL);
    }
    *n_out = n;
    if (hone_experiment_sobol_drawn(snap) > hone_experiment_sobol_drawn(self))
        hone_experiment_restore_sobol(self, hone_experiment_sobol_drawn(snap));
    if (self->bo && snap->bo)
        hone_bo_swap_state(self->bo, snap->bo);
    if (self->bo_goals && snap->bo_goals)
        hone_bo_goals_swap_state(self->bo_goals, snap->bo_goals);
    self->bo_stats = snap->bo_stats;
}
