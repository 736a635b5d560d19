/* leasing.c: how the handlers lease trials to workers (PROTOCOL.md 6; handlers.h has the
 * rules): a lease armed at hand-out and refreshed by every word from its worker, a
 * worker's report checked against its lease, leases armed again after a restart,
 * expiry (re-queue or fail), and the re-sync after a failed group-commit batch. The
 * table that holds the leases is lease.h. */
#include "handlers_internal.h"

#include "clock.h"
#include "log.h"
#include "request.h"

#include <inttypes.h>
#include <stdio.h>
#include <time.h>

size_t hone_handlers_lease_count(const hone_handlers_t *self)
{
    HONE_ASSERT(self);
    return hone_lease_count(self->leases);
}

int hone_handlers_tick_ms(const hone_handlers_t *self)
{
    HONE_ASSERT(self);
    int tick = (int) (self->min_heartbeat_ms / 10);
    return tick < HONE_HANDLERS_TICK_MIN_MS ? HONE_HANDLERS_TICK_MIN_MS
           : tick > HONE_HANDLERS_TICK_MAX_MS ? HONE_HANDLERS_TICK_MAX_MS : tick;
}

/* ---- leases ---- */

/* The lease window of exp's workers: heartbeat interval × liveness. */
static int64_t s_expiry_ms(const hone_experiment_t *exp)
{
    const hone_lease_settings_t *l = hone_experiment_leases(exp);
    return (int64_t) l->heartbeat_ms * l->liveness;
}

bool hone_leasing_same_peer(const hone_lease_t *lease, const hone_handlers_peer_t *peer)
{
    return lease->id_len == peer->id_len && memcmp(lease->identity, peer->identity, peer->id_len) == 0;
}

/* Arms the lease of RUNNING trial index of exp (its open attempt is the token), or, when
 * it is armed already, refreshes it and binds it to peer's routing id (NULL: keep it). */
hone_lease_t *hone_leasing_arm(hone_handlers_t *self, const hone_experiment_t *exp, uint32_t index,
                               const hone_handlers_peer_t *peer, int64_t now_ms)
{
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    HONE_ASSERT(t);
    const hone_attempt_t *a = hone_trial_open_attempt(t);
    HONE_ASSERT(a);
    const char *name = hone_experiment_name(exp);
    const uint8_t *id = peer ? peer->identity : NULL;
    size_t id_len = peer ? peer->id_len : 0;
    hone_lease_t *lease = hone_lease_find(self->leases, name, index);
    if (lease && lease->token == t->n_attempts) {
        hone_lease_touch(self->leases, lease, id, id_len, now_ms);
        return lease;
    }
    uint32_t heartbeat = hone_experiment_leases(exp)->heartbeat_ms;
    if (heartbeat < self->min_heartbeat_ms)
        self->min_heartbeat_ms = heartbeat;
    return hone_lease_add(self->leases, name, index, t->n_attempts, a->worker, id, id_len, s_expiry_ms(exp),
                          now_ms);
}

void hone_leasing_drop(hone_handlers_t *self, const char *experiment, uint32_t trial)
{
    hone_lease_t *lease = hone_lease_find(self->leases, experiment, trial);
    if (lease)
        hone_lease_remove(self->leases, lease);
}

/* Arms a lease for every RUNNING trial of exp that was handed to a worker and has none:
 * once per experiment after the broker starts (the lease table is not stored: each
 * worker gets a whole window from now to heartbeat, report or resume), and again on
 * `status` and after a failed batch (both repair a lease lost when a failed write
 * reloaded the experiment). */
void hone_leasing_adopt(hone_handlers_t *self, const hone_experiment_t *exp, bool again)
{
    const char *name = hone_experiment_name(exp);
    if (!again && zhashx_lookup(self->adopted, name))
        return;
    zhashx_update(self->adopted, name, (void *) 1);
    if (hone_experiment_count_status(exp, HONE_TRIAL_RUNNING) == 0)
        return;
    size_t armed = 0, n = hone_experiment_trial_count(exp);
    for (uint32_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, i);
        if (t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t))
            continue;
        const hone_lease_t *lease = hone_lease_find(self->leases, name, i);
        if (lease && lease->token == t->n_attempts)
            continue;
        hone_leasing_arm(self, exp, i, NULL, self->now_ms);
        armed++;
    }
    if (armed > 0)
        hone_log_info("handlers", "'%s': %zu running trial(s) leased again; their workers have %" PRId64
                      " ms to be heard from", name, armed, s_expiry_ms(exp));
}

/* "2024-05-01T12:00:00.250Z" for wall-clock milliseconds. */
static const char *s_wall_text(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, size, "%" PRId64 " ms", ms);
        return buf;
    }
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, ".%03dZ", (int) (ms % 1000));
    return buf;
}

/* HONE_ELEASE for a report under lease `token` of trial t, which expired. */
static int s_lease_gone(const hone_experiment_t *exp, const hone_trial_t *t, uint64_t token, hone_error_t *err)
{
    const hone_attempt_t *a = &t->attempts[token - 1];
    char when[64], now[160];
    s_wall_text(a->end_ms, when, sizeof when);
    if (t->status == HONE_TRIAL_RUNNING)
        snprintf(now, sizeof now, "the trial was re-queued and runs again under lease %" PRIu32, t->n_attempts);
    else if (t->status == HONE_TRIAL_STALE)
        snprintf(now, sizeof now, "the trial was re-queued and waits for a worker");
    else if (t->status == HONE_TRIAL_FAILED && t->attempts[t->n_attempts - 1].outcome == HONE_ATTEMPT_EXPIRED)
        snprintf(now, sizeof now, "the trial is FAILED: %s", t->reason ? t->reason : "lease expired");
    else
        snprintf(now, sizeof now, "the trial was re-queued and is %s now", hone_trial_status_name((int) t->status));
    return hone_error_set(err, HONE_ELEASE, "lease %" PRIu64 " of trial %s#%" PRIu32 " expired at %s (no word "
                          "from worker '%.64s' for %" PRId64 " ms); %s; this report changed nothing", token,
                          hone_experiment_name(exp), t->index, when, a->worker, s_expiry_ms(exp), now);
}

/* Checks a worker's report on trial index of exp (`progress` with `to` RUNNING,
 * `complete` COMPLETED, `fail` FAILED, `heartbeat` with `to` CANDIDATE: no status)
 * against the trial's lease, and refreshes the lease when it holds. With a `lease` field
 * (PROTOCOL.md 4.6): the token must be the trial's current hand-out; a token that
 * expired, or ended otherwise and was followed by another hand-out, is HONE_ELEASE.
 * Without one (an older peer): a RUNNING trial's lease must be bound to the sender's
 * routing id (or to none yet, after a restart: the sender takes it), and a trial whose
 * lease expired is HONE_ELEASE. Returns HONE_OK (go on: the status rules decide the
 * rest), HONE_LEASING_DUPLICATE, HONE_ENOTFOUND, HONE_EPROTO or HONE_ELEASE. *lease_out
 * is the refreshed lease, or NULL. */
int hone_leasing_check(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                       hone_experiment_t *exp, uint32_t index, hone_trial_status_t to, int64_t now_ms,
                       hone_lease_t **lease_out, hone_error_t *err)
{
    *lease_out = NULL;
    const hone_trial_t *t = hone_handlers_trial(exp, index, err);
    if (!t)
        return HONE_ENOTFOUND;
    bool has_token;
    uint64_t token;
    int rc = hone_request_opt_lease(req, &has_token, &token, err);
    if (rc != HONE_OK)
        return rc;
    const char *name = hone_experiment_name(exp);
    bool reports = to != HONE_TRIAL_RUNNING && to != HONE_TRIAL_CANDIDATE;  /* complete or fail */
    const hone_attempt_t *last = t->n_attempts > 0 ? &t->attempts[t->n_attempts - 1] : NULL;
    if (has_token) {
        if (token == 0 || token > t->n_attempts)
            return hone_error_set(err, HONE_ELEASE, "lease %" PRIu64 " was never given for trial %s#%" PRIu32
                                  " (it was handed out %" PRIu32 " time(s)); this report changed nothing",
                                  token, name, index, t->n_attempts);
        const hone_attempt_t *a = &t->attempts[token - 1];
        if (a->outcome == HONE_ATTEMPT_EXPIRED)
            return s_lease_gone(exp, t, token, err);
        if (token != t->n_attempts)
            return hone_error_set(err, HONE_ELEASE, "lease %" PRIu64 " of trial %s#%" PRIu32 " ended (%s); the trial "
                                  "was handed out again under lease %" PRIu32 "; this report changed nothing",
                                  token, name, index, hone_attempt_outcome_name((int) a->outcome), t->n_attempts);
        if (a->outcome == HONE_ATTEMPT_RUNNING && t->status == HONE_TRIAL_RUNNING) {
            *lease_out = hone_leasing_arm(self, exp, index, peer, now_ms);
            return HONE_OK;
        }
        return reports && t->status == to ? HONE_LEASING_DUPLICATE : HONE_OK;
    }
    /* No lease given: an older peer. */
    if (t->status == HONE_TRIAL_STALE
        || (t->status == HONE_TRIAL_FAILED && last && last->outcome == HONE_ATTEMPT_EXPIRED))
        return s_lease_gone(exp, t, t->n_attempts, err);
    if (reports && t->status == to)
        return HONE_LEASING_DUPLICATE;
    if (t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t))
        return HONE_OK;     /* a client's trial, or the status rules answer */
    hone_lease_t *lease = hone_lease_find(self->leases, name, index);
    if (lease && lease->token == t->n_attempts && lease->id_len > 0 && !hone_leasing_same_peer(lease, peer))
        return hone_error_set(err, HONE_ELEASE, "trial %s#%" PRIu32 " is leased to worker '%.64s' (lease %" PRIu64
                              ") on another connection; a report without its `lease` is accepted only from "
                              "the connection that holds it; this report changed nothing", name, index,
                              lease->worker, lease->token);
    *lease_out = hone_leasing_arm(self, exp, index, peer, now_ms);
    return HONE_OK;
}

/* ---- lease expiry ---- */

/* Lease `lease` (taken out of the table) expired: its trial is re-queued or failed,
 * and stored. A lease that no longer matches its trial (ended meanwhile, or stopped
 * early with the stop never acknowledged) is dropped. */
static void s_expire(hone_handlers_t *self, const hone_lease_t *lease, int64_t now_ms)
{
    hone_experiment_t *exp;
    if (hone_registry_find(self->registry, lease->experiment, &exp, NULL) != HONE_OK)
        return;
    const hone_trial_t *t = hone_experiment_trial(exp, lease->trial);
    if (t && t->status == HONE_TRIAL_EARLY_STOPPED && t->n_attempts == lease->token) {
        /* a stop-pending lease: the worker went away without acknowledging the stop. The
         * trial stays EARLY_STOPPED (never re-queued, never FAILED); the entry goes. */
        hone_log_info("handlers", "trial %s#%" PRIu32 " was stopped early; worker '%s' went silent without "
                      "acknowledging it, its lease %" PRIu64 " is dropped", lease->experiment, lease->trial,
                      lease->worker, lease->token);
        return;
    }
    if (!t || t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t) || t->n_attempts != lease->token)
        return;
    hone_error_t err;
    hone_error_clear(&err);
    hone_trial_status_t to;
    int rc = hone_experiment_expire(exp, lease->trial, hone_clock_wall_ms(), &to, &err);
    HONE_ASSERT(rc == HONE_OK);
    uint32_t expired = hone_trial_expired_attempts(t);
    hone_registry_change_t change = { .trial_first = lease->trial, .n_trials = 1 };
    rc = hone_registry_persist(self->registry, exp, &change, &err);
    if (rc != HONE_OK) {
        /* reloaded as it was (RUNNING): try again after another window */
        hone_log_warn("handlers", "lease %" PRIu64 " of trial %s#%" PRIu32 " expired but could not be stored: %s",
                      lease->token, lease->experiment, lease->trial, err.message);
        if (hone_registry_find(self->registry, lease->experiment, &exp, NULL) == HONE_OK
            && (t = hone_experiment_trial(exp, lease->trial)) && t->status == HONE_TRIAL_RUNNING
            && hone_trial_open_attempt(t))
            hone_lease_add(self->leases, lease->experiment, lease->trial, t->n_attempts, lease->worker,
                           lease->identity, lease->id_len, lease->expiry_ms, now_ms);
        return;
    }
    const hone_lease_settings_t *settings = hone_experiment_leases(exp);
    if (to == HONE_TRIAL_STALE)
        hone_log_warn("handlers", "lease %" PRIu64 " of trial %s#%" PRIu32 " expired: no word from worker '%s' "
                      "for %" PRId64 " ms; re-queued (retry %" PRIu32 " of %" PRIu32 ")", lease->token,
                      lease->experiment, lease->trial, lease->worker, now_ms - lease->last_seen_ms, expired,
                      settings->max_retries);
    else
        hone_log_warn("handlers", "lease %" PRIu64 " of trial %s#%" PRIu32 " expired: no word from worker '%s' "
                      "for %" PRId64 " ms; FAILED: %s", lease->token, lease->experiment, lease->trial,
                      lease->worker, now_ms - lease->last_seen_ms, t->reason ? t->reason : "lease expired");
}

size_t hone_handlers_tick(hone_handlers_t *self, int64_t now_ms)
{
    HONE_ASSERT(self);
    hone_leasing_resync_if_due(self, now_ms);
    self->now_ms = now_ms;
    size_t n = 0;
    hone_lease_t *lease;
    while ((lease = hone_lease_take_expired(self->leases, now_ms))) {
        s_expire(self, lease, now_ms);
        hone_lease_free(&lease);
        n++;
    }
    return n;
}

/* ---- after a failed batch ----
 *
 * A group-commit batch that fails is undone in memory: the registry reloads every
 * experiment it changed from the last commit. The lease table is not part of that, so a
 * lease armed in the batch may name a trial that no longer exists or is no longer
 * RUNNING (the hand-out was never stored), and a lease dropped in it (a report, an
 * expiry) is missing for a trial that is RUNNING again. Left alone, the first kind would
 * be taken over by the next hand-out of a trial at the same index under the old
 * worker's name (hone_leasing_arm refreshes a lease whose token matches), and the second
 * would never expire. The registry tells the broker from inside its batch function,
 * which must not call back into the registry, so hone_handlers_batch_failed only sets a
 * flag and the re-sync runs at the next entry: serving a request, collecting a job, the
 * tick. */

/* Whether lease still holds for its trial as the registry has it: the trial is RUNNING
 * under that very hand-out (token and worker), or its stop is pending (PROTOCOL.md 6.8:
 * stopped early during that hand-out, as hone_early_stop_pending sees it; the entry
 * stays until the worker acknowledges or goes silent). */
static bool s_lease_holds(void *arg, const hone_lease_t *lease)
{
    hone_handlers_t *self = arg;
    hone_experiment_t *exp;
    if (hone_registry_find(self->registry, lease->experiment, &exp, NULL) != HONE_OK)
        return false;
    const hone_trial_t *t = hone_experiment_trial(exp, lease->trial);
    if (!t || t->n_attempts == 0 || t->n_attempts != lease->token)
        return false;
    const hone_attempt_t *a = &t->attempts[t->n_attempts - 1];
    if (!streq(a->worker ? a->worker : "", lease->worker))
        return false;
    if (t->status == HONE_TRIAL_RUNNING)
        return a->outcome == HONE_ATTEMPT_RUNNING;
    return t->status == HONE_TRIAL_EARLY_STOPPED && a->outcome == HONE_ATTEMPT_EARLY_STOPPED;
}

void hone_handlers_batch_failed(hone_handlers_t *self)
{
    HONE_ASSERT(self);
    self->resync = true;
}

size_t hone_handlers_resync_leases(hone_handlers_t *self, int64_t now_ms)
{
    HONE_ASSERT(self);
    self->resync = false;
    self->now_ms = now_ms;
    size_t dropped = hone_lease_keep_if(self->leases, s_lease_holds, self);
    if (dropped > 0)
        hone_log_warn("handlers", "a batch was not stored: %zu lease(s) no longer matched their trials and were "
                      "dropped", dropped);
    /* the names are copied first: an experiment gone from the registry leaves the set */
    zlistx_t *names = zhashx_keys(self->adopted);
    HONE_ASSERT(names);
    for (const char *name = zlistx_first(names); name; name = zlistx_next(names)) {
        hone_experiment_t *exp;
        if (hone_registry_find(self->registry, name, &exp, NULL) == HONE_OK)
            hone_leasing_adopt(self, exp, true);    /* arms the RUNNING trials left without a lease */
        else
            zhashx_delete(self->adopted, name);     /* created in the batch, or unavailable now */
    }
    zlistx_destroy(&names);
    return dropped;
}

/* Runs the re-sync that hone_handlers_batch_failed asked for, if any. */
void hone_leasing_resync_if_due(hone_handlers_t *self, int64_t now_ms)
{
    if (self->resync)
        hone_handlers_resync_leases(self, now_ms);
}
