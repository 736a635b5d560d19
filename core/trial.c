/* trial.c: trial statuses, Ax's transition rules and the "latest" view of data. */
#include "trial.h"

#include <strings.h>

static const char *const s_status_names[] = {
    [HONE_TRIAL_CANDIDATE] = "CANDIDATE",
    [HONE_TRIAL_STAGED] = "STAGED",
    [HONE_TRIAL_FAILED] = "FAILED",
    [HONE_TRIAL_COMPLETED] = "COMPLETED",
    [HONE_TRIAL_RUNNING] = "RUNNING",
    [HONE_TRIAL_ABANDONED] = "ABANDONED",
    [6] = NULL,   /* DISPATCHED: deprecated in Ax, never used by hone */
    [HONE_TRIAL_EARLY_STOPPED] = "EARLY_STOPPED",
    [HONE_TRIAL_STALE] = "STALE",
};

const char *hone_trial_status_name(int status)
{
    if (status < 0 || (size_t) status >= HONE_ARRAY_LEN(s_status_names))
        return NULL;
    return s_status_names[status];
}

int hone_trial_status_parse(const char *name, hone_trial_status_t *out)
{
    if (!name)
        return HONE_EINVAL;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_status_names); i++) {
        if (s_status_names[i] && strcasecmp(name, s_status_names[i]) == 0) {
            *out = (hone_trial_status_t) i;
            return HONE_OK;
        }
    }
    return HONE_EINVAL;
}

bool hone_trial_status_is_terminal(hone_trial_status_t status)
{
    switch (status) {
    case HONE_TRIAL_COMPLETED:
    case HONE_TRIAL_FAILED:
    case HONE_TRIAL_ABANDONED:
    case HONE_TRIAL_EARLY_STOPPED:
        return true;
    default:
        return false;
    }
}

bool hone_trial_status_is_pending(hone_trial_status_t status)
{
    switch (status) {
    case HONE_TRIAL_RUNNING:
    case HONE_TRIAL_CANDIDATE:
    case HONE_TRIAL_STAGED:
    case HONE_TRIAL_STALE:
        return true;
    default:
        return false;
    }
}

static const char *const s_outcome_names[] = {
    [HONE_ATTEMPT_RUNNING] = "running",
    [HONE_ATTEMPT_COMPLETED] = "completed",
    [HONE_ATTEMPT_FAILED] = "failed",
    [HONE_ATTEMPT_EXPIRED] = "lease expired",
    [HONE_ATTEMPT_ABANDONED] = "abandoned",
    [HONE_ATTEMPT_EARLY_STOPPED] = "early stopped",
};

const char *hone_attempt_outcome_name(int outcome)
{
    if (outcome < 0 || (size_t) outcome >= HONE_ARRAY_LEN(s_outcome_names))
        return NULL;
    return s_outcome_names[outcome];
}

int hone_attempt_outcome_parse(const char *name, hone_attempt_outcome_t *out)
{
    for (size_t i = 0; name && i < HONE_ARRAY_LEN(s_outcome_names); i++) {
        if (streq(name, s_outcome_names[i])) {
            *out = (hone_attempt_outcome_t) i;
            return HONE_OK;
        }
    }
    return HONE_EINVAL;
}

hone_attempt_outcome_t hone_attempt_outcome_for(hone_trial_status_t status)
{
    switch (status) {
    case HONE_TRIAL_COMPLETED: return HONE_ATTEMPT_COMPLETED;
    case HONE_TRIAL_FAILED: return HONE_ATTEMPT_FAILED;
    case HONE_TRIAL_ABANDONED: return HONE_ATTEMPT_ABANDONED;
    case HONE_TRIAL_EARLY_STOPPED: return HONE_ATTEMPT_EARLY_STOPPED;
    case HONE_TRIAL_STALE: return HONE_ATTEMPT_EXPIRED;
    default: return HONE_ATTEMPT_RUNNING;
    }
}

const hone_attempt_t *hone_trial_open_attempt(const hone_trial_t *trial)
{
    HONE_ASSERT(trial);
    if (trial->n_attempts == 0)
        return NULL;
    const hone_attempt_t *last = &trial->attempts[trial->n_attempts - 1];
    return last->outcome == HONE_ATTEMPT_RUNNING ? last : NULL;
}

uint32_t hone_trial_expired_attempts(const hone_trial_t *trial)
{
    HONE_ASSERT(trial);
    uint32_t n = 0;
    for (uint32_t i = 0; i < trial->n_attempts; i++)
        n += trial->attempts[i].outcome == HONE_ATTEMPT_EXPIRED;
    return n;
}

bool hone_trial_latest(const hone_trial_t *trial, uint32_t metric, double *mean, double *sem)
{
    HONE_ASSERT(trial);
    const hone_reading_t *best = NULL;
    for (size_t i = 0; i < trial->n_readings; i++) {
        const hone_reading_t *r = &trial->readings[i];
        if (r->metric != metric)
            continue;
        /* no progression counts as +inf: it beats every step */
        if (!best || (best->has_progression
                      && (!r->has_progression || r->progression > best->progression)))
            best = r;
    }
    if (!best)
        return false;
    if (mean)
        *mean = best->mean;
    if (sem)
        *sem = best->sem;
    return true;
}

int hone_trial_check_transition(const hone_trial_t *trial, hone_trial_status_t to, hone_error_t *err)
{
    HONE_ASSERT(trial);
    hone_trial_status_t from = trial->status;
    if (!hone_trial_status_name((int) to))
        return hone_error_set(err, HONE_EINVAL, "unknown trial status %d", (int) to);
    if (to == from)
        return HONE_OK;   /* Ax: marking the current status again is a no-op */
    switch (to) {
    case HONE_TRIAL_CANDIDATE:
        return hone_error_set(err, HONE_ESTATE, "Cannot move trial %u from %s back to CANDIDATE.",
                              trial->index, hone_trial_status_name((int) from));
    case HONE_TRIAL_STAGED:
        if (from != HONE_TRIAL_CANDIDATE)
            return hone_error_set(err, HONE_ESTATE, "Can only stage a candidate trial.");
        return HONE_OK;
    case HONE_TRIAL_RUNNING:
        /* the Client never requires staging (no runner), so only a candidate may start;
         * hone also restarts a re-queued (STALE) trial */
        if (from != HONE_TRIAL_CANDIDATE && from != HONE_TRIAL_STALE)
            return hone_error_set(err, HONE_ESTATE, "Can only mark this trial as running when candidate.");
        return HONE_OK;
    case HONE_TRIAL_COMPLETED:
        if (from != HONE_TRIAL_RUNNING)
            return hone_error_set(err, HONE_ESTATE, "Can only complete trial that is currently running.");
        return HONE_OK;
    case HONE_TRIAL_FAILED:
        if (from != HONE_TRIAL_RUNNING)
            return hone_error_set(err, HONE_ESTATE, "Can only mark failed a trial that is currently running.");
        return HONE_OK;
    case HONE_TRIAL_EARLY_STOPPED:
        if (from != HONE_TRIAL_RUNNING)
            return hone_error_set(err, HONE_ESTATE, "Can only early stop trial that is currently running.");
        if (trial->n_readings == 0)
            return hone_error_set(err, HONE_ESTATE,
                                  "Cannot mark trial early stopped without data. Please mark trial abandoned instead.");
        return HONE_OK;
    case HONE_TRIAL_ABANDONED:
        if (hone_trial_status_is_terminal(from))
            return hone_error_set(err, HONE_ESTATE, "Cannot abandon a trial in a terminal state.");
        return HONE_OK;
    case HONE_TRIAL_STALE:
        if (from != HONE_TRIAL_CANDIDATE && from != HONE_TRIAL_RUNNING)
            return hone_error_set(err, HONE_ESTATE, "Can only mark a candidate or running trial stale.");
        return HONE_OK;
    }
    return hone_error_set(err, HONE_EINVAL, "unknown trial status %d", (int) to);
}
