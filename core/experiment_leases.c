/* experiment_leases.c: who runs an experiment's trials: the worker a RUNNING trial is
 * handed to, the lease settings, and each trial's attempts (start, end, expiry with
 * retries, restore). Separate from experiment.c because it is the broker's side of a
 * trial (time, workers, retries) rather than its data; reaches the experiment's fields
 * through experiment_internal.h.
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#include "experiment_internal.h"

#include "alloc.h"

#include <stdio.h>

/* ---------------------------------------------------------------------------------
 * Workers of running trials. */

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

void hone_experiment_push_attempt(hone_trial_t *t, const hone_attempt_t *a)
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
    hone_experiment_push_attempt(t, &a);
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
    hone_experiment_push_attempt(t, attempt);
    /* An open attempt belongs to a RUNNING trial; anything else ended with the trial. */
    if (attempt->outcome == HONE_ATTEMPT_RUNNING && t->status != HONE_TRIAL_RUNNING)
        hone_experiment_end_attempt(self, trial, hone_attempt_outcome_for(t->status) != HONE_ATTEMPT_RUNNING
                                                     ? hone_attempt_outcome_for(t->status) : HONE_ATTEMPT_EXPIRED,
                                    attempt->start_ms);
    return HONE_OK;
}
