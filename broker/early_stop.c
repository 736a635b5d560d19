/* early_stop.c: early stopping in the broker (PROTOCOL.md 4.6.4 and 6.8): a decision
 * after each reading of the strategy's metric, on curves cached per experiment; the
 * stop marked in the reading's transaction, repeated to the trial's worker until it
 * acknowledges; the costly decisions as jobs on the generator thread; and the client's
 * `should_stop`. The decisions themselves are core's (stopping.h). */
#include "handlers_internal.h"

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "request.h"

#include <inttypes.h>
#include <stdio.h>

/* ---- early stopping (PROTOCOL.md 4.6.4 and 6.8) ----
 *
 * Only experiments with an `early_stopping` block are evaluated by the broker (opt-in;
 * a client's `should_stop` works on any experiment, with Ax's default strategy). After
 * a `progress` reading of the strategy's metric with a progression is attached to a
 * RUNNING trial, the broker decides for that trial; a stop marks it EARLY_STOPPED with
 * the decision's reason in the same transaction as the reading, and the reply carries
 * {stop: true, reason}. The stop is state, not a message: every later `progress` or
 * `heartbeat` of the holder (hone_early_stop_pending) is answered with it again, until
 * the worker acknowledges with `complete` or `fail` (hone_early_stop_ack); its lease
 * entry stays, meaning "stop pending", until then or until it expires (then it is
 * dropped, s_expire in leasing.c).
 *
 * Cost. hone_experiment_should_stop rebuilds every curve from every reading: measured
 * (RelWithDebInfo, one core) 0.4-0.6 ms for 200 trials x 50 readings and 7-11 ms for
 * 1 000 x 100 per decision, far too much for the reactor at thousands of readings a
 * second. The broker keeps the curves in a cache per experiment instead
 * (hone_stopping_cache_t, stopping.h): before a decision only the trials whose reading
 * count changed are refilled, so a reading plus its decision cost 5-30 us at 200 x 50,
 * about 0.1 ms at 1 000 x 100 and 0.7-1.3 ms at 5 000-10 000 trials. Ax's `interval`,
 * min_progression and max_progression are checked first on the trial's own curve
 * (hone_stopping_cache_due), so most readings cost only the sync. Decisions that would
 * cost more than about a millisecond go to the generator thread on a copy of the
 * curves: every decision of an experiment with check_safe (its replay of the strategy
 * over the history took 1.5-2 ms at 200 x 50 and 6.5 ms at 1 000 x 100), and every
 * decision once the experiment has more than S_STOP_INLINE_CURVES curves. Those
 * readings are answered `ok {}` at once; the trials wait in a per-experiment batch (one
 * job in flight per experiment), and a stop decided there reaches the worker in the
 * reply to its next report or heartbeat, which the protocol allows since the stop is
 * state. */

/* Above this many curves, a decision goes to the generator (see above). */
#define S_STOP_INLINE_CURVES 2000

/* Early stopping of one experiment (PROTOCOL.md 4.6.4): the curves of the strategy's
 * metric, kept up to date incrementally, and the decisions waiting for the generator. */
typedef struct {
    hone_stopping_cache_t *cache; /* the curves (stopping.h) */
    bool in_flight;             /* a decision job of this experiment is on the generator */
    uint32_t *pending;          /* trials whose readings wait for the next job, no duplicates */
    size_t n_pending;           /* how many */
    size_t cap_pending;         /* slots in pending */
} s_stopper_t;

void hone_early_stop_stopper_destroy(void **item)
{
    s_stopper_t *st = *item;
    if (st) {
        hone_stopping_cache_destroy(&st->cache);
        hone_free(st->pending);
        hone_free(st);
    }
    *item = NULL;
}

static s_stopper_t *s_stopper(hone_handlers_t *self, const char *name)
{
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    if (!st) {
        st = hone_alloc(sizeof *st);
        st->cache = hone_stopping_cache_new();
        int rc = zhashx_insert(self->stoppers, name, st);
        HONE_ASSERT(rc == 0);
    }
    return st;
}

/* A reading of trial index was attached (perhaps replacing one in place): its cached
 * curve is refilled before the next decision. */
void hone_early_stop_touch_curve(hone_handlers_t *self, const char *name, uint32_t index)
{
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    if (st)
        hone_stopping_cache_touch(st->cache, index);
}

/* Whether a decision with cfg on curves goes to the generator thread. */
static bool s_stop_offloads(const hone_handlers_t *self, const hone_stopping_config_t *cfg,
                            const hone_curves_t *curves)
{
    return self->generator && !self->finishing
           && (cfg->check_safe || hone_curves_size(curves) > S_STOP_INLINE_CURVES);
}

/* Whether the sender of a worker's report or heartbeat on trial index is the worker that
 * held the trial when it was stopped early, so that its stop is pending: the trial is
 * EARLY_STOPPED, its last hand-out ended "early stopped" (by the broker's decision or a
 * client's `mark`), and the request names that hand-out's `lease`; without `lease` (an
 * older peer), the sender's connection holds the stop-pending lease entry. Call after
 * hone_leasing_check accepted the request. */
bool hone_early_stop_pending(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                             const hone_experiment_t *exp, uint32_t index)
{
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    if (!t || t->status != HONE_TRIAL_EARLY_STOPPED || t->n_attempts == 0
        || t->attempts[t->n_attempts - 1].outcome != HONE_ATTEMPT_EARLY_STOPPED)
        return false;
    bool has_token;
    uint64_t token;
    if (hone_request_opt_lease(req, &has_token, &token, NULL) != HONE_OK)
        return false;
    if (has_token)
        return token == t->n_attempts;
    const hone_lease_t *lease = hone_lease_find(self->leases, hone_experiment_name(exp), index);
    return lease && lease->token == t->n_attempts && lease->id_len > 0 && hone_leasing_same_peer(lease, peer);
}

/* The holder of a stopped trial was heard from: its stop-pending lease entry (gone after
 * a restart, which changes nothing) is refreshed and follows its connection. */
void hone_early_stop_seen(hone_handlers_t *self, const hone_experiment_t *exp, uint32_t index,
                          const hone_handlers_peer_t *peer, int64_t now_ms)
{
    const char *name = hone_experiment_name(exp);
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    hone_lease_t *lease = hone_lease_find(self->leases, name, index);
    if (lease && lease->token == t->n_attempts)
        hone_lease_touch(self->leases, lease, peer->identity, peer->id_len, now_ms);
    hone_lease_seen(self->leases, name, t->attempts[t->n_attempts - 1].worker, peer->identity, peer->id_len,
                    now_ms);
}

/* Adds {stop: true, reason} to a reply about stopped trial t. */
void hone_early_stop_put(hone_msg_t *reply, const hone_trial_t *t)
{
    S_SET(hone_msg_set_bool(reply, "stop", true));
    S_SET(hone_msg_set_str(reply, "reason", t->reason && *t->reason ? t->reason : "stopped early"));
}

/* Marks RUNNING trial index EARLY_STOPPED with decision's reason (prefixed with the
 * strategy's name) and ends its hand-out as "early stopped"; in memory only (the caller
 * stores the trial). Errors: those of hone_experiment_mark (none for a RUNNING trial
 * with a reading). */
int hone_early_stop_mark(hone_experiment_t *exp, uint32_t index, const hone_stop_decision_t *decision,
                         hone_error_t *err)
{
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    char reason[HONE_STOP_REASON_MAX + 64];
    snprintf(reason, sizeof reason, "%s strategy: %s", hone_stopping_type_name((int) cfg.type), decision->reason);
    int rc = hone_experiment_mark(exp, index, HONE_TRIAL_EARLY_STOPPED, reason, err);
    if (rc == HONE_OK)
        hone_experiment_end_attempt(exp, index, HONE_ATTEMPT_EARLY_STOPPED, hone_clock_wall_ms());
    return rc;
}

/* After the n readings of a `progress` (with a progression) were attached in memory to
 * RUNNING trial index: when exp has an early_stopping block and a reading is of the
 * strategy's metric, decides whether the trial stops. Returns true with *decision set
 * when it must stop now. Sets *queue instead when the decision belongs on the generator
 * (the caller queues it once the reading is stored: hone_early_stop_enqueue). */
bool hone_early_stop_evaluate(hone_handlers_t *self, hone_experiment_t *exp, uint32_t index, size_t n,
                              bool *queue, hone_stop_decision_t *decision)
{
    *queue = false;
    const char *metric = NULL;
    bool minimize = false;
    const hone_stopping_config_t *cfg = hone_experiment_stopping(exp, &metric, &minimize);
    if (!cfg)
        return false;       /* opt-in */
    bool of_metric = false;
    for (size_t i = 0; i < n && !of_metric; i++)
        of_metric = streq(self->readings[i].metric, metric);
    if (!of_metric)
        return false;
    const char *name = hone_experiment_name(exp);
    s_stopper_t *st = s_stopper(self, name);
    int64_t started = hone_clock_mono_us();
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, &index, 1);
    if (!hone_stopping_cache_due(st->cache, cfg, index))
        return false;
    if (s_stop_offloads(self, cfg, curves)) {
        *queue = true;
        return false;
    }
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_stopping_decide(cfg, curves, minimize, index, decision, &err);
    if (rc == HONE_OK && decision->record_check)
        rc = hone_experiment_set_stop_check(exp, index, decision->check_progression, &err);
    if (rc != HONE_OK) {
        hone_log_warn("handlers", "early stopping of %s#%" PRIu32 ": %s", name, index, err.message);
        return false;
    }
    hone_log_debug("handlers", "early stopping of %s#%" PRIu32 " decided in %" PRId64 " us (%zu curves): %s%s", name,
                   index, hone_clock_mono_us() - started, hone_curves_size(curves),
                   decision->should_stop ? "stop: " : "go on: ", decision->reason);
    return decision->should_stop;
}

/* Hands a decision job for trials[0..n) of exp to the generator, on a copy of curves
 * (synced for them). With a request (a client's `should_stop`) the job answers it;
 * without, it is the experiment's batch (hone_early_stop_on_decided). */
static void s_stop_submit_job(hone_handlers_t *self, const hone_handlers_peer_t *peer, hone_msg_t **request,
                              const hone_experiment_t *exp, const hone_curves_t *curves, const uint32_t *trials,
                              size_t n)
{
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    hone_curves_t *copy = hone_curves_dup(curves);
    hone_handlers_deferred_t *d = request ? hone_handlers_deferred_new(peer, request) : hone_alloc(sizeof *d);
    d->experiment = hone_strdup(hone_experiment_name(exp));
    hone_generator_job_t *job = hone_generator_job_new_stop(&copy, &cfg, minimize, trials, n, d);
    hone_generator_submit(self->generator, &job);
}

/* Sends experiment name's batch of pending decisions to the generator, when none is in
 * flight: the trials still RUNNING and due. While the broker is finishing the batch is
 * dropped (a trial not stopped runs on; nothing is lost). */
static void s_stop_submit(hone_handlers_t *self, const char *name)
{
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    hone_experiment_t *exp;
    if (!st || st->in_flight || st->n_pending == 0)
        return;
    if (!self->generator || self->finishing || hone_registry_find(self->registry, name, &exp, NULL) != HONE_OK) {
        st->n_pending = 0;
        return;
    }
    size_t n = 0, count = hone_experiment_trial_count(exp);
    for (size_t k = 0; k < st->n_pending; k++) {
        uint32_t index = st->pending[k];
        if (index < count && hone_experiment_trial(exp, index)->status == HONE_TRIAL_RUNNING)
            st->pending[n++] = index;
    }
    st->n_pending = 0;
    if (n == 0)
        return;
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, st->pending, n);
    size_t due = 0;
    for (size_t k = 0; k < n; k++)
        if (hone_stopping_cache_due(st->cache, &cfg, st->pending[k]))
            st->pending[due++] = st->pending[k];
    if (due == 0)
        return;
    s_stop_submit_job(self, NULL, NULL, exp, curves, st->pending, due);
    st->in_flight = true;
}

/* Queues trial index of experiment name for a decision on the generator (its reading is
 * stored) and sends the batch when none is in flight. */
void hone_early_stop_enqueue(hone_handlers_t *self, const char *name, uint32_t index)
{
    s_stopper_t *st = s_stopper(self, name);
    bool queued = false;
    for (size_t k = 0; k < st->n_pending && !queued; k++)
        queued = st->pending[k] == index;
    if (!queued) {
        if (st->n_pending == st->cap_pending) {
            st->cap_pending = st->cap_pending ? 2 * st->cap_pending : 16;
            st->pending = hone_realloc_array(st->pending, st->cap_pending, sizeof *st->pending);
        }
        st->pending[st->n_pending++] = index;
    }
    s_stop_submit(self, name);
}

/* `complete` or `fail` (n readings parsed, for `complete`) from the holder of a trial
 * whose stop is pending: the acknowledgement. The readings are stored (the status stays
 * EARLY_STOPPED), the stop-pending lease entry is released, and the reply is
 * ok {status: "EARLY_STOPPED", reason}. Repeating it stores the same readings again
 * under the same keys, which changes nothing. */
int hone_early_stop_ack(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                        hone_experiment_t *exp, uint32_t index, size_t n, int64_t now_ms, hone_msg_t **reply,
                        hone_error_t *err)
{
    char name[256];
    snprintf(name, sizeof name, "%s", hone_experiment_name(exp));
    bool has_prog = false;
    int64_t prog = 0;
    int rc = hone_request_opt_progression(req, &has_prog, &prog, err);
    if (rc == HONE_OK && n > 0)
        rc = hone_experiment_attach(exp, index, self->readings, n, has_prog, prog, false, err);
    if (rc != HONE_OK)
        return rc;
    hone_early_stop_seen(self, exp, index, peer, now_ms);
    if (n > 0) {
        hone_early_stop_touch_curve(self, name, index);
        hone_registry_change_t change = {
            .reading_trial = index, .readings = self->readings, .n_readings = n,
            .has_progression = has_prog, .progression = prog,
        };
        rc = hone_registry_persist(self->registry, exp, &change, err);
        if (rc != HONE_OK)
            return rc;
    }
    hone_leasing_drop(self, name, index);
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    hone_log_info("handlers", "trial %s#%" PRIu32 ": the worker acknowledged its early stop (%s, %zu final "
                  "reading(s))", name, index, hone_msg_name(hone_msg_id(req)), n);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_str(*reply, "status", hone_trial_status_name(HONE_TRIAL_EARLY_STOPPED)));
    S_SET(hone_msg_set_str(*reply, "reason", t->reason && *t->reason ? t->reason : "stopped early"));
    return HONE_OK;
}

/* The reply to `should_stop`: ok {stop, reason}. */
static int s_should_stop_reply(const hone_msg_t *req, const hone_stop_decision_t *decision, hone_msg_t **reply)
{
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_bool(*reply, "stop", decision->should_stop));
    S_SET(hone_msg_set_str(*reply, "reason", decision->reason));
    return HONE_OK;
}

/* `should_stop` (Ax's should_stop_trial_early): decides for one trial with the
 * configured strategy, or Ax's default when the experiment has none, and never changes
 * the trial's status. On the generator when costly (see "early stopping" above). */
int hone_early_stop_should_stop(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                                hone_handlers_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    uint32_t index;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc != HONE_OK)
        return rc;
    if (!hone_handlers_trial(exp, index, err))
        return HONE_ENOTFOUND;
    s_stopper_t *st = s_stopper(self, hone_experiment_name(exp));
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, &index, 1);
    if (s_stop_offloads(self, &cfg, curves)) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_STOP;
        offload->trial = index;
        return HONE_OK;
    }
    hone_stop_decision_t decision;
    rc = hone_stopping_decide(&cfg, curves, minimize, index, &decision, err);
    if (rc == HONE_OK && decision.record_check)
        rc = hone_experiment_set_stop_check(exp, index, decision.check_progression, err);
    if (rc != HONE_OK)
        return rc;
    return s_should_stop_reply(req, &decision, reply);
}

/* Hands the `should_stop` that hone_early_stop_should_stop found costly (trial of exp)
 * to the generator with its request: on a copy of the curves, not a snapshot of the
 * experiment. */
void hone_early_stop_offload(hone_handlers_t *self, const hone_handlers_peer_t *peer, hone_msg_t **request,
                             const hone_experiment_t *exp, uint32_t trial)
{
    s_stopper_t *st = s_stopper(self, hone_experiment_name(exp));
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, &trial, 1);
    s_stop_submit_job(self, peer, request, exp, curves, &trial, 1);
}

/* A decision job came back. A client's `should_stop` gets its answer (and the interval
 * check is recorded). The experiment's own batch stops the trials still RUNNING that it
 * decided to stop, each stored like any status change; then the next batch goes. */
int hone_early_stop_on_decided(hone_handlers_t *self, hone_generator_job_t *job, hone_handlers_deferred_t *d,
                               hone_msg_t **reply, hone_error_t *err)
{
    const char *name = d->experiment;
    hone_experiment_t *exp = NULL;
    int rc = hone_registry_find(self->registry, name, &exp, err);
    if (d->request) {
        if (rc == HONE_OK && job->rc != HONE_OK) {
            *err = job->err;
            rc = job->rc;
        }
        if (rc != HONE_OK)
            return rc;
        const hone_stop_decision_t *decision = &job->decisions[0];
        if (decision->record_check && decision->trial < hone_experiment_trial_count(exp))
            hone_experiment_set_stop_check(exp, decision->trial, decision->check_progression, NULL);
        return s_should_stop_reply(d->request, decision, reply);
    }
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    if (st)
        st->in_flight = false;
    if (rc == HONE_OK && job->rc != HONE_OK)
        hone_log_warn("handlers", "early stopping on '%s': %s", name, job->err.message);
    for (size_t k = 0; rc == HONE_OK && job->rc == HONE_OK && k < job->n_stop; k++) {
        const hone_stop_decision_t *decision = &job->decisions[k];
        uint32_t index = job->stop_trials[k];
        const hone_trial_t *t = hone_experiment_trial(exp, index);
        if (!t || t->status != HONE_TRIAL_RUNNING)
            continue;   /* it ended meanwhile */
        if (decision->record_check)
            hone_experiment_set_stop_check(exp, index, decision->check_progression, NULL);
        hone_error_t why;
        hone_error_clear(&why);
        if (!decision->should_stop || hone_early_stop_mark(exp, index, decision, &why) != HONE_OK)
            continue;
        hone_registry_change_t change = { .trial_first = index, .n_trials = 1 };
        if (hone_registry_persist(self->registry, exp, &change, &why) != HONE_OK) {
            hone_log_warn("handlers", "trial %s#%" PRIu32 " should stop early but could not be stored: %s", name,
                          index, why.message);
            rc = hone_registry_find(self->registry, name, &exp, NULL);     /* reloaded */
            continue;
        }
        hone_log_info("handlers", "trial %s#%" PRIu32 " stopped early (decided off the reactor in %" PRId64
                      " ms): %s", name, index, job->finished_ms - job->started_ms,
                      hone_experiment_trial(exp, index)->reason);
    }
    s_stop_submit(self, name);
    return HONE_OK;
}
