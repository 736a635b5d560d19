/* worker_role.c: the requests of the worker role: `ready` (a re-queued or prefetched
 * trial, a resumed one, or a new one, under its lease), `progress`, `complete`, `fail`
 * and `heartbeat`. `attach` and `mark` (client role) share the readings and the status
 * change with `progress` and `complete`/`fail`: hone_worker_role_readings and
 * hone_worker_role_finish. */
#include "handlers_internal.h"

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "request.h"
#include "wire.h"

#include <inttypes.h>
#include <stdio.h>

/* The reply to `ready` once generation gave rc and n (0 or 1) trials at index: a
 * trial under its lease (armed or refreshed for peer), no_work, or an error code. */
int hone_worker_role_ready_reply(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                                 int64_t now_ms, const hone_experiment_t *exp, const char *name,
                                 const char *worker, int rc, uint32_t index, hone_msg_t **reply,
                                 hone_error_t *err)
{
    if (rc == HONE_OK) {
        const hone_trial_t *trial = hone_experiment_trial(exp, index);
        HONE_ASSERT(trial);
        hone_lease_t *lease = hone_leasing_arm(self, exp, index, peer, now_ms);
        *reply = hone_request_reply(HONE_MSG_TRIAL, req);
        S_SET(hone_msg_set_str(*reply, "experiment", name));
        S_SET(hone_msg_set_int(*reply, "trial", index));
        hone_node_t *params = hone_node_add_map(hone_msg_body(*reply), "params");
        HONE_ASSERT(params);
        hone_wire_fill_params(params, hone_experiment_space(exp), trial->params);
        S_SET(hone_msg_set_str(*reply, "note", trial->note ? trial->note : ""));
        S_SET(hone_msg_set_int(*reply, "lease", (int64_t) lease->token));
        S_SET(hone_msg_set_int(*reply, "heartbeat_ms", hone_experiment_leases(exp)->heartbeat_ms));
        hone_log_debug("handlers", "trial %s#%" PRIu32 " to worker '%s' under lease %" PRIu64, name, index,
                       worker ? worker : "", lease->token);
        return HONE_OK;
    }
    if (rc == HONE_EAGAIN || rc == HONE_EDONE || rc == HONE_EEXHAUSTED) {
        bool done = rc != HONE_EAGAIN;
        /* A running trial may come back within a heartbeat when its lease expires. */
        int64_t retry = HONE_HANDLERS_RETRY_MS;
        if (exp && hone_experiment_leases(exp)->heartbeat_ms < retry)
            retry = hone_experiment_leases(exp)->heartbeat_ms;
        *reply = hone_request_reply(HONE_MSG_NO_WORK, req);
        S_SET(hone_msg_set_int(*reply, "retry_ms", done ? 0 : retry));
        S_SET(hone_msg_set_bool(*reply, "done", done));
        S_SET(hone_msg_set_str(*reply, "reason", err->message[0] ? err->message : hone_strerror(rc)));
        return HONE_OK;
    }
    return rc;
}

/* Hands the queued trial at index (re-queued STALE, or a prefetched CANDIDATE) to
 * worker: RUNNING, a new attempt, stored. */
static int s_take_queued(hone_handlers_t *self, hone_experiment_t **exp, uint32_t index,
                         const char *worker, hone_error_t *err)
{
    hone_trial_status_t was = hone_experiment_trial(*exp, index)->status;
    int rc = hone_experiment_mark(*exp, index, HONE_TRIAL_RUNNING, NULL, err);
    if (rc != HONE_OK)
        return rc;
    hone_experiment_set_worker(*exp, index, worker);
    uint32_t token = hone_experiment_start_attempt(*exp, index, worker, hone_clock_wall_ms());
    if (was == HONE_TRIAL_STALE)
        hone_log_info("handlers", "re-queued trial %s#%" PRIu32 " to worker '%s' (attempt %" PRIu32 ")",
                      hone_experiment_name(*exp), index, worker ? worker : "", token);
    hone_registry_change_t change = { .trial_first = index, .n_trials = 1 };
    rc = hone_registry_persist(self->registry, *exp, &change, err);
    if (rc != HONE_OK)
        *exp = NULL;
    return rc;
}

int hone_worker_role_ready(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                           int64_t now_ms, hone_msg_t **reply, hone_handlers_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name, *worker;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_str(req, "worker", &worker, err);
    if (rc != HONE_OK)
        return rc;
    hone_lease_seen(self->leases, name, worker, peer->identity, peer->id_len, now_ms);
    uint32_t index = 0, n = 0;
    const hone_trial_t *held = hone_experiment_running_for(exp, worker);
    int64_t queued;
    if (held) {
        /* The reply that handed this trial out was lost (a broker restart or a dropped
         * link), or the worker restarted under its name: the worker would not ask for
         * work while evaluating it. It resumes under its lease. */
        hone_log_info("handlers", "worker '%s' resumes trial %s#%" PRIu32, worker, name, held->index);
        index = held->index;
        if (!hone_trial_open_attempt(held)) {
            /* stored before leases: the resumption is its first attempt */
            hone_experiment_start_attempt(exp, index, worker, hone_clock_wall_ms());
            hone_registry_change_t change = { .trial_first = index, .n_trials = 1 };
            rc = hone_registry_persist(self->registry, exp, &change, err);
            if (rc != HONE_OK)
                return rc;
        }
    } else if ((queued = hone_experiment_next_queued(exp)) >= 0) {
        /* A re-queued trial first, then the prefetch queue: handed out at once. */
        index = (uint32_t) queued;
        rc = s_take_queued(self, &exp, index, worker, err);
        if (rc != HONE_OK)
            return rc;
    } else if (hone_handlers_offloads(self, exp)) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_GENERATE;
        offload->count = 1;
        return HONE_OK;
    } else {
        rc = hone_handlers_generate(self, &exp, 1, worker, true, &index, &n, err);
    }
    return hone_worker_role_ready_reply(self, req, peer, now_ms, exp, name, worker, rc, index, reply, err);
}

/* Shared by `progress` (worker role: the trial must be RUNNING under the sender's lease,
 * and the reading refreshes it) and `attach` (client role, like Ax main: any status). A
 * `progress` may stop the trial early (hone_early_stop_evaluate): it is then
 * EARLY_STOPPED in the reading's transaction and the reply carries {stop, reason}; a
 * `progress` from the holder of a trial already stopped is stored all the same and
 * answered with the stop again (hone_early_stop_pending). */
int hone_worker_role_readings(hone_handlers_t *self, const hone_msg_t *req, bool worker_role,
                              const hone_handlers_peer_t *peer, int64_t now_ms, hone_msg_t **reply,
                              hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    uint32_t index;
    bool has_prog;
    int64_t prog;
    size_t n;
    hone_lease_t *lease = NULL;
    bool pending = false;       /* stopped before: the stop is repeated */
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_progression(req, &has_prog, &prog, err);
    if (rc == HONE_OK)
        rc = hone_handlers_metrics(self, req, true, &n, err);
    if (rc == HONE_OK && worker_role)
        rc = hone_leasing_check(self, req, peer, exp, index, HONE_TRIAL_RUNNING, now_ms, &lease, err);
    if (rc == HONE_OK && worker_role)
        pending = hone_early_stop_pending(self, req, peer, exp, index);
    if (rc == HONE_OK)
        rc = hone_experiment_attach(exp, index, self->readings, n, has_prog, prog, worker_role && !pending, err);
    if (rc != HONE_OK)
        return rc;
    char key_name[256];
    snprintf(key_name, sizeof key_name, "%s", name);
    hone_early_stop_touch_curve(self, key_name, index);
    if (pending)
        hone_early_stop_seen(self, exp, index, peer, now_ms);
    else if (worker_role)
        hone_lease_seen(self->leases, name, lease ? lease->worker : NULL, peer->identity, peer->id_len, now_ms);
    hone_stop_decision_t decision;
    bool queue = false, stop = false;
    if (worker_role && !pending && has_prog && hone_early_stop_evaluate(self, exp, index, n, &queue, &decision)) {
        hone_error_t why;
        hone_error_clear(&why);
        stop = hone_early_stop_mark(exp, index, &decision, &why) == HONE_OK;
        if (!stop)
            hone_log_warn("handlers", "trial %s#%" PRIu32 " should stop early but cannot be marked: %s", key_name,
                          index, why.message);
    }
    hone_registry_change_t change = {
        .trial_first = index, .n_trials = stop ? 1 : 0,
        .reading_trial = index, .readings = self->readings, .n_readings = n,
        .has_progression = has_prog, .progression = prog,
    };
    rc = hone_registry_persist(self->registry, exp, &change, err);
    if (rc != HONE_OK)
        return rc;
    *reply = hone_request_reply(HONE_MSG_OK, req);
    if (stop || pending)
        hone_early_stop_put(*reply, hone_experiment_trial(exp, index));
    if (stop)
        hone_log_info("handlers", "trial %s#%" PRIu32 " stopped early at progression %" PRId64 ": %s", key_name,
                      index, prog, hone_experiment_trial(exp, index)->reason);
    if (queue)
        hone_early_stop_enqueue(self, key_name, index);
    return HONE_OK;
}

/* Undoes an in-memory change that could not be completed. */
static void s_undo(hone_handlers_t *self, const char *name)
{
    char *copy = hone_strdup(name);
    hone_registry_reload(self->registry, copy, NULL);
    hone_strfree(copy);
}

/* Shared by `complete`, `fail` and `mark`: optional readings then a status, in memory
 * and then in one transaction. The transition is checked before anything changes. */
int hone_worker_role_finish(hone_handlers_t *self, const hone_msg_t *req, hone_experiment_t *exp,
                            uint32_t index, hone_trial_status_t to, const char *reason, size_t n_readings,
                            bool require_running, hone_msg_t **reply, hone_error_t *err)
{
    const char *name = hone_experiment_name(exp);
    bool has_prog = false;
    int64_t prog = 0;
    const hone_trial_t *trial = hone_handlers_trial(exp, index, err);
    if (!trial)
        return HONE_ENOTFOUND;
    int rc = hone_request_opt_progression(req, &has_prog, &prog, err);
    if (rc == HONE_OK && !(n_readings > 0 && require_running))
        rc = hone_trial_check_transition(trial, to, err);
    if (rc == HONE_OK && n_readings > 0)
        rc = hone_experiment_attach(exp, index, self->readings, n_readings, has_prog, prog,
                                    require_running, err);
    if (rc != HONE_OK)
        return rc;
    rc = hone_experiment_mark(exp, index, to, reason, err);
    if (rc != HONE_OK) {
        if (n_readings > 0)
            s_undo(self, name);     /* the readings were attached in memory only */
        return rc;
    }
    /* The worker's hand-out ends with the trial (stored in the same transaction). */
    if (hone_trial_status_is_terminal(to))
        hone_experiment_end_attempt(exp, index, hone_attempt_outcome_for(to), hone_clock_wall_ms());
    hone_registry_change_t change = {
        .trial_first = index, .n_trials = 1,
        .reading_trial = index, .readings = self->readings, .n_readings = n_readings,
        .has_progression = has_prog, .progression = prog,
    };
    char key_name[256];
    snprintf(key_name, sizeof key_name, "%s", name);
    rc = hone_registry_persist(self->registry, exp, &change, err);
    if (rc != HONE_OK)
        return rc;
    if (n_readings > 0)
        hone_early_stop_touch_curve(self, key_name, index);
    /* A worker's trial that a client stops early keeps its lease entry: the stop is
     * pending until the worker acknowledges it (hone_early_stop_pending). */
    if (hone_trial_status_is_terminal(to) && to != HONE_TRIAL_EARLY_STOPPED)
        hone_leasing_drop(self, key_name, index);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_str(*reply, "status", hone_trial_status_name(to)));
    return HONE_OK;
}

/* `complete` and `fail`: the lease is checked first; a duplicate of a report already
 * applied gets the same reply and changes nothing; from the holder of a trial stopped
 * early, either one acknowledges the stop (hone_early_stop_ack). */
int hone_worker_role_report(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                            int64_t now_ms, hone_trial_status_t to, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name, *reason = NULL;
    uint32_t index;
    size_t n = 0;
    hone_lease_t *lease = NULL;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc == HONE_OK && to == HONE_TRIAL_COMPLETED)
        rc = hone_handlers_metrics(self, req, false, &n, err);
    if (rc == HONE_OK && to == HONE_TRIAL_FAILED)
        rc = hone_request_opt_str(req, "reason", &reason, err);
    if (rc == HONE_OK)
        rc = hone_leasing_check(self, req, peer, exp, index, to, now_ms, &lease, err);
    if (rc == HONE_LEASING_DUPLICATE) {
        hone_log_debug("handlers", "%s of trial %s#%" PRIu32 " again: answered as before, nothing changed",
                       hone_msg_name(hone_msg_id(req)), name, index);
        *reply = hone_request_reply(HONE_MSG_OK, req);
        S_SET(hone_msg_set_str(*reply, "status", hone_trial_status_name(to)));
        return HONE_OK;
    }
    if (rc != HONE_OK)
        return rc;
    if (hone_early_stop_pending(self, req, peer, exp, index))
        return hone_early_stop_ack(self, req, peer, exp, index, n, now_ms, reply, err);
    hone_lease_seen(self->leases, name, lease ? lease->worker : NULL, peer->identity, peer->id_len, now_ms);
    return hone_worker_role_finish(self, req, exp, index, to, reason, n, to == HONE_TRIAL_COMPLETED, reply, err);
}

/* `heartbeat` (PROTOCOL.md 6): with {experiment, trial, lease} it refreshes that lease,
 * and answers HONE_ELEASE when the lease is gone (the worker must drop the trial),
 * `heartbeat {stop: true, reason}` when the trial was stopped early and the worker has
 * not acknowledged it yet, or HONE_ESTATE when the trial ended otherwise (abandoned
 * meanwhile: stop). Without them (an older peer, or an idle worker) it refreshes every
 * lease held through the sender's routing id. Either way the reply to a live worker is
 * `heartbeat {}`. */
int hone_worker_role_heartbeat(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                               int64_t now_ms, hone_msg_t **reply, hone_error_t *err)
{
    const char *name = NULL;
    bool has_trial, has_token;
    int64_t trial = 0;
    uint64_t token = 0;
    int rc = hone_request_opt_str(req, "experiment", &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_int(req, "trial", &trial, err), &has_trial);
    if (rc == HONE_OK)
        rc = hone_request_opt_lease(req, &has_token, &token, err);
    if (rc != HONE_OK)
        return rc;
    if (has_trial && (trial < 0 || trial > (int64_t) UINT32_MAX))
        return hone_error_set(err, HONE_EPROTO, "field 'trial' must be a trial index, not %" PRId64, trial);
    hone_experiment_t *exp;
    if (name && has_trial && has_token && hone_handlers_experiment(self, req, &exp, &name, err) == HONE_OK) {
        hone_lease_t *lease = NULL;
        uint32_t index = (uint32_t) trial;
        rc = hone_leasing_check(self, req, peer, exp, index, HONE_TRIAL_CANDIDATE, now_ms, &lease, err);
        if (rc != HONE_OK)
            return rc;
        const hone_trial_t *t = hone_experiment_trial(exp, index);
        if (t->status != HONE_TRIAL_RUNNING && hone_early_stop_pending(self, req, peer, exp, index)) {
            hone_early_stop_seen(self, exp, index, peer, now_ms);
            *reply = hone_request_reply(HONE_MSG_HEARTBEAT, req);
            hone_early_stop_put(*reply, t);
            return HONE_OK;
        }
        if (t->status != HONE_TRIAL_RUNNING)
            return hone_error_set(err, HONE_ESTATE, "trial %s#%" PRIu32 " is %s: stop evaluating it", name, index,
                                  hone_trial_status_name((int) t->status));
        hone_lease_seen(self->leases, name, lease ? lease->worker : NULL, peer->identity, peer->id_len, now_ms);
    } else {
        hone_lease_touch_identity(self->leases, peer->identity, peer->id_len, now_ms);
    }
    *reply = hone_request_reply(HONE_MSG_HEARTBEAT, req);
    return HONE_OK;
}
