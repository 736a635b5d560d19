/* worker.c: the worker role (ready → trial, progress, complete, fail, heartbeat). */
#include "clock.h"
#include "metrics.h"
#include "result.h"
#include "transport.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define S_RETRY_DEFAULT_MS 1000
#define S_RETRY_MIN_MS 10
#define S_RETRY_MAX_MS 60000
#define S_HEARTBEAT_DEFAULT_MS 1000

struct _hone_worker_t {
    hone_transport_t *transport;    /* the connection to the broker */
    char *experiment;               /* the experiment this worker evaluates */
    char *name;                     /* the worker's name in the broker's logs */
    bool busy;                      /* a trial is being evaluated */
    uint64_t trial;                 /* the last trial received, sent with heartbeats while busy */
    uint64_t lease;                 /* its lease, sent with every report on it (also after it
                                       finished); 0: the broker gave none (an older broker) */
    int32_t heartbeat_ms;           /* the experiment's heartbeat interval, from the broker */
    uint64_t jitter;                /* xorshift state for the retry jitter */
    hone_error_t last;              /* the last error, for hone_worker_last_error */
    bool stop;                      /* the broker stopped `trial` early */
    char *stop_reason;              /* why; NULL when unknown (or out of memory) */
    hone_worker_stop_fn *on_stop;   /* called once per stopped trial; NULL: none */
    void *on_stop_arg;              /* its argument */
};

int hone_worker_open(hone_worker_t **out, const char *endpoint, const char *experiment,
                     const char *worker_name, const hone_options_t *opts)
{
    if (!out)
        return HONE_EINVAL;
    *out = NULL;
    if (!experiment || !*experiment)
        return HONE_EINVAL;
    hone_worker_t *self = calloc(1, sizeof *self);
    if (!self)
        return HONE_ENOMEM;
    char host[64] = "host";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    /* Jitter for retry_ms (PROTOCOL.md 11): seeded per handle, no global state. */
    self->jitter = (uint64_t) (uintptr_t) self ^ (uint64_t) hone_clock_mono_us() ^ ((uint64_t) getpid() << 32);
    if (!self->jitter)
        self->jitter = 1;
    /* The name identifies the worker to the broker (a worker asking for work while the
     * broker thinks it holds a trial gets that trial back), so the default must be
     * unique per handle, not only per process. */
    char default_name[128];
    if (!worker_name || !*worker_name) {
        snprintf(default_name, sizeof default_name, "%s-%ld-%08" PRIx32, host, (long) getpid(),
                 (uint32_t) (self->jitter ^ (self->jitter >> 32)));
        worker_name = default_name;
    }
    self->heartbeat_ms = S_HEARTBEAT_DEFAULT_MS;
    self->experiment = strdup(experiment);
    self->name = strdup(worker_name);
    int rc = self->experiment && self->name ? HONE_OK : HONE_ENOMEM;
    if (rc == HONE_OK)
        rc = hone_transport_open(&self->transport, endpoint, opts, &self->last);
    if (rc != HONE_OK) {
        hone_worker_destroy(&self);
        return rc;
    }
    *out = self;
    return HONE_OK;
}

void hone_worker_destroy(hone_worker_t **worker_p)
{
    if (!worker_p || !*worker_p)
        return;
    hone_worker_t *self = *worker_p;
    hone_transport_destroy(&self->transport);
    free(self->stop_reason);
    free(self->experiment);
    free(self->name);
    free(self);
    *worker_p = NULL;
}

const char *hone_worker_last_error(const hone_worker_t *worker)
{
    return worker ? worker->last.message : "";
}

void hone_worker_set_log(hone_worker_t *worker, hone_log_fn *fn, void *arg)
{
    if (worker)
        hone_transport_set_log(worker->transport, fn, arg);
}

int hone_worker_set_curve(hone_worker_t *worker, const char *key_path, const char *broker_key_path)
{
    if (!worker)
        return HONE_EINVAL;
    hone_error_clear(&worker->last);
    return hone_transport_set_curve(worker->transport, key_path, broker_key_path, &worker->last);
}

/* Sends *req (destroyed here); the reply must be of type `expect`. */
static int s_call(hone_worker_t *self, hone_msg_t **req, hone_msg_id_t expect, hone_msg_t **reply)
{
    int rc = hone_transport_call(self->transport, *req, reply, &self->last);
    if (rc == HONE_OK && expect != HONE_MSG_INVALID && hone_msg_id(*reply) != expect) {
        const char *got = hone_msg_name(hone_msg_id(*reply));
        const char *sent = hone_msg_name(hone_msg_id(*req));
        rc = hone_error_set(&self->last, HONE_EPROTO, "unexpected reply '%s' to '%s'", got ? got : "?",
                            sent ? sent : "?");
        hone_msg_destroy(reply);
    }
    hone_msg_destroy(req);
    return rc;
}

/* The broker stopped trial (the last one received) early: the flag and the reason; the
 * stop callback runs the first time (when `callback`). */
static void s_stopped(hone_worker_t *self, uint64_t trial, const char *reason, bool callback)
{
    if (self->trial != trial || self->stop)
        return;
    self->stop = true;
    free(self->stop_reason);
    self->stop_reason = reason ? strdup(reason) : NULL;     /* NULL on OOM: "" is shown */
    hone_transport_log(self->transport, HONE_LOG_DEBUG, "the broker stopped trial %llu early: %s",
                       (unsigned long long) trial, reason ? reason : "");
    if (callback && self->on_stop)
        self->on_stop(self, trial, reason ? reason : "", self->on_stop_arg);
}

/* A `progress` or `heartbeat` reply carries {stop: true, reason} when the broker stopped
 * the trial early (PROTOCOL.md 4.6.4): the call still succeeds (the reading was stored);
 * the flag is set and the callback runs. */
static void s_check_stop(hone_worker_t *self, const hone_msg_t *reply, uint64_t trial)
{
    const hone_node_t *stop = hone_msg_get(reply, "stop");
    if (!stop || hone_node_type(stop) != HONE_NODE_BOOL || !hone_node_bool(stop))
        return;
    const hone_node_t *reason = hone_msg_get(reply, "reason");
    s_stopped(self, trial, hone_node_type(reason) == HONE_NODE_STR ? hone_node_str(reason, NULL) : NULL, true);
}

void hone_worker_on_stop(hone_worker_t *worker, hone_worker_stop_fn *fn, void *arg)
{
    if (!worker)
        return;
    worker->on_stop = fn;
    worker->on_stop_arg = fn ? arg : NULL;
}

bool hone_worker_stop_requested(const hone_worker_t *worker)
{
    return worker && worker->stop;
}

const char *hone_worker_stop_reason(const hone_worker_t *worker)
{
    return worker && worker->stop && worker->stop_reason ? worker->stop_reason : "";
}

static uint64_t s_random(hone_worker_t *self)
{
    uint64_t x = self->jitter;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    self->jitter = x;
    return x;
}

/* One `ready` exchange: HONE_OK with a trial, HONE_EAGAIN with *retry_ms, or an error. */
static int s_ready(hone_worker_t *self, hone_trial_t **trial_out, int32_t *retry_ms)
{
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = hone_transport_request(HONE_MSG_READY, self->experiment, &req, &self->last);
    if (rc == HONE_OK && hone_msg_set_str(req, "worker", self->name) != HONE_OK)
        rc = hone_error_set(&self->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(self, &req, HONE_MSG_INVALID, &reply);
    hone_msg_destroy(&req);
    if (rc != HONE_OK)
        return rc;
    hone_error_t ignored;
    switch (hone_msg_id(reply)) {
    case HONE_MSG_TRIAL:
        rc = hone_result_trial_parse(hone_msg_body_const(reply), self->experiment, trial_out, &self->last);
        if (rc == HONE_OK) {
            int64_t lease = 0, heartbeat = 0;
            self->busy = true;
            self->trial = hone_trial_index(*trial_out);
            self->stop = false;     /* a new trial: no stop yet */
            free(self->stop_reason);
            self->stop_reason = NULL;
            self->lease = hone_msg_get_int(reply, "lease", &lease, &ignored) == HONE_OK && lease > 0
                          ? (uint64_t) lease : 0;
            if (hone_msg_get_int(reply, "heartbeat_ms", &heartbeat, &ignored) == HONE_OK && heartbeat > 0)
                self->heartbeat_ms = heartbeat > INT32_MAX ? INT32_MAX : (int32_t) heartbeat;
        }
        break;
    case HONE_MSG_NO_WORK: {
        bool done = false;
        int64_t retry = S_RETRY_DEFAULT_MS;
        const char *reason = NULL;
        hone_msg_get_bool(reply, "done", &done, &ignored);
        hone_msg_get_int(reply, "retry_ms", &retry, &ignored);
        if (hone_msg_get_str(reply, "reason", &reason, &ignored) != HONE_OK || !*reason)
            reason = done ? "the experiment's budget is spent" : "no work now";
        retry = retry < S_RETRY_MIN_MS ? S_RETRY_MIN_MS : retry > S_RETRY_MAX_MS ? S_RETRY_MAX_MS : retry;
        *retry_ms = (int32_t) (retry + (int64_t) (s_random(self) % (uint64_t) (retry / 10 + 1)));
        rc = hone_error_set(&self->last, done ? HONE_EDONE : HONE_EAGAIN, "%s", reason);
        break;
    }
    default: {
        const char *got = hone_msg_name(hone_msg_id(reply));
        rc = hone_error_set(&self->last, HONE_EPROTO, "unexpected reply '%s' to 'ready'", got ? got : "?");
    }
    }
    hone_msg_destroy(&reply);
    return rc;
}

int hone_worker_next(hone_worker_t *worker, hone_trial_t **trial_out, int32_t timeout_ms)
{
    if (!worker)
        return HONE_EINVAL;
    hone_error_clear(&worker->last);
    if (!trial_out)
        return hone_error_set(&worker->last, HONE_EINVAL, "trial_out must not be NULL");
    *trial_out = NULL;
    int64_t deadline = timeout_ms < 0 ? INT64_MAX : hone_clock_mono_ms() + timeout_ms;
    for (;;) {
        int32_t retry_ms = S_RETRY_DEFAULT_MS;
        int rc = s_ready(worker, trial_out, &retry_ms);
        if (rc != HONE_EAGAIN)
            return rc;
        int64_t remaining = deadline - hone_clock_mono_ms();
        if (remaining <= 0)
            return rc;
        hone_transport_log(worker->transport, HONE_LOG_DEBUG, "no work for '%s' now; asking again in %d ms",
                           worker->experiment, (int) (remaining < retry_ms ? remaining : retry_ms));
        rc = hone_transport_sleep(remaining < retry_ms ? (int32_t) remaining : retry_ms, &worker->last);
        if (rc != HONE_OK)
            return rc;
    }
}

/* Adds the lease of trial to a report on it, when it is the last trial this worker was
 * given: also after it finished, so that a repeated report is recognised as such and a
 * late one (after the lease expired) is refused rather than taken for another's. */
static int s_put_lease(hone_worker_t *self, hone_msg_t *req, uint64_t trial)
{
    if (self->trial != trial || self->lease == 0 || self->lease > (uint64_t) INT64_MAX)
        return HONE_OK;
    return hone_msg_set_int(req, "lease", (int64_t) self->lease);
}

/* progress, complete: experiment, trial, lease, metrics, optional progression. */
static int s_readings(hone_worker_t *self, hone_msg_id_t id, uint64_t trial, size_t n,
                      const char *const names[], const double means[], const double sems[],
                      bool has_progression, int64_t progression, hone_msg_t **reply)
{
    hone_error_clear(&self->last);
    if (trial > (uint64_t) INT64_MAX)
        return hone_error_set(&self->last, HONE_EINVAL, "trial index out of range");
    int rc = hone_metrics_check(n, names, means, sems, id != HONE_MSG_PROGRESS, &self->last);
    hone_msg_t *req = NULL;
    if (rc == HONE_OK)
        rc = hone_transport_request(id, self->experiment, &req, &self->last);
    if (rc == HONE_OK && (hone_msg_set_int(req, "trial", (int64_t) trial) != HONE_OK
                          || s_put_lease(self, req, trial) != HONE_OK
                          || (has_progression && hone_msg_set_int(req, "progression", progression) != HONE_OK)))
        rc = hone_error_set(&self->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = hone_metrics_put(req, n, names, means, sems, &self->last);
    if (rc == HONE_OK)
        rc = s_call(self, &req, HONE_MSG_OK, reply);
    hone_msg_destroy(&req);
    return rc;
}

int hone_worker_report(hone_worker_t *worker, uint64_t trial, size_t n,
                       const char *const metric_names[], const double means[],
                       const double sems[], bool has_progression, int64_t progression)
{
    if (!worker)
        return HONE_EINVAL;
    hone_msg_t *reply = NULL;
    int rc = s_readings(worker, HONE_MSG_PROGRESS, trial, n, metric_names, means, sems, has_progression,
                        progression, &reply);
    if (rc == HONE_OK)
        s_check_stop(worker, reply, trial);
    if (rc == HONE_ELEASE && worker->busy && worker->trial == trial)
        worker->busy = false;   /* the trial is no longer ours */
    hone_msg_destroy(&reply);
    return rc;
}

/* The reply to `complete` or `fail` says EARLY_STOPPED when the broker had stopped the
 * trial: the report acknowledged the stop (the flag is set, without the callback). */
static void s_check_ack(hone_worker_t *self, const hone_msg_t *reply, uint64_t trial)
{
    const char *status = NULL, *reason = NULL;
    if (hone_msg_get_str(reply, "status", &status, NULL) != HONE_OK || strcmp(status, "EARLY_STOPPED") != 0)
        return;
    if (hone_msg_get_str(reply, "reason", &reason, NULL) != HONE_OK)
        reason = NULL;
    s_stopped(self, trial, reason, false);
}

static void s_finished(hone_worker_t *self, uint64_t trial)
{
    if (self->busy && self->trial == trial)
        self->busy = false;
}

int32_t hone_worker_heartbeat_interval(const hone_worker_t *worker)
{
    return worker ? worker->heartbeat_ms : S_HEARTBEAT_DEFAULT_MS;
}

int hone_worker_complete(hone_worker_t *worker, uint64_t trial, size_t n,
                         const char *const metric_names[], const double means[],
                         const double sems[])
{
    if (!worker)
        return HONE_EINVAL;
    hone_msg_t *reply = NULL;
    int rc = s_readings(worker, HONE_MSG_COMPLETE, trial, n, metric_names, means, sems, false, 0, &reply);
    if (rc == HONE_OK)
        s_check_ack(worker, reply, trial);
    hone_msg_destroy(&reply);
    if (rc == HONE_OK || rc == HONE_ESTATE || rc == HONE_ENOTFOUND || rc == HONE_ELEASE)
        s_finished(worker, trial);
    return rc;
}

int hone_worker_fail(hone_worker_t *worker, uint64_t trial, const char *reason)
{
    if (!worker)
        return HONE_EINVAL;
    hone_error_clear(&worker->last);
    if (trial > (uint64_t) INT64_MAX)
        return hone_error_set(&worker->last, HONE_EINVAL, "trial index out of range");
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = hone_transport_request(HONE_MSG_FAIL, worker->experiment, &req, &worker->last);
    if (rc == HONE_OK && (hone_msg_set_int(req, "trial", (int64_t) trial) != HONE_OK
                          || s_put_lease(worker, req, trial) != HONE_OK
                          || (reason && hone_msg_set_str(req, "reason", reason) != HONE_OK)))
        rc = hone_error_set(&worker->last, HONE_ENOMEM, "out of memory");
    if (rc == HONE_OK)
        rc = s_call(worker, &req, HONE_MSG_OK, &reply);
    if (rc == HONE_OK)
        s_check_ack(worker, reply, trial);
    hone_msg_destroy(&req);
    hone_msg_destroy(&reply);
    if (rc == HONE_OK || rc == HONE_ESTATE || rc == HONE_ENOTFOUND || rc == HONE_ELEASE)
        s_finished(worker, trial);
    return rc;
}

int hone_worker_heartbeat(hone_worker_t *worker)
{
    if (!worker)
        return HONE_EINVAL;
    hone_error_clear(&worker->last);
    hone_msg_t *req = NULL, *reply = NULL;
    int rc = hone_transport_request(HONE_MSG_HEARTBEAT, worker->experiment, &req, &worker->last);
    if (rc == HONE_OK && worker->busy
        && (hone_msg_set_int(req, "trial", (int64_t) worker->trial) != HONE_OK
            || s_put_lease(worker, req, worker->trial) != HONE_OK))
        rc = hone_error_set(&worker->last, HONE_ENOMEM, "out of memory");
    uint64_t trial = worker->trial;
    bool busy = worker->busy;
    if (rc == HONE_OK)
        rc = s_call(worker, &req, HONE_MSG_HEARTBEAT, &reply);
    if (rc == HONE_OK && busy)
        s_check_stop(worker, reply, trial);
    if ((rc == HONE_ELEASE || rc == HONE_ESTATE) && busy && worker->busy && worker->trial == trial)
        worker->busy = false;   /* lost (re-queued) or ended: stop evaluating it */
    hone_msg_destroy(&req);
    hone_msg_destroy(&reply);
    return rc;
}
