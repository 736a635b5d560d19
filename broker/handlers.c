/* handlers.c: the handlers' state and dispatch, the fields every request reads, inline
 * generation, and the model fits handed to the generator thread. The requests
 * themselves are handled in worker_role.c, client_role.c and client_goals.c, with
 * leases in leasing.c and early stopping in early_stop.c (handlers_internal.h):
 * validate, change through the core, store, then reply. Generations, `best` and
 * `pareto` on the model path and `predict` fit a model, so they go to the generator
 * thread on a snapshot of the experiment (s_submit); while an experiment generates,
 * dispatch parks the requests that add trials (`ready`, `next`, `attach_baseline`), and
 * s_on_collected adopts the new trials, stores them, answers and serves what waited. */
#include "handlers_internal.h"

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "request.h"
#include "wire.h"

#include <inttypes.h>

hone_handlers_deferred_t *hone_handlers_deferred_new(const hone_handlers_peer_t *peer, hone_msg_t **request)
{
    hone_handlers_deferred_t *d = hone_alloc(sizeof *d);
    d->peer = *peer;
    d->request = *request;
    *request = NULL;
    return d;
}

static void s_deferred_destroy(void **item)
{
    hone_handlers_deferred_t *d = *item;
    if (d) {
        hone_msg_destroy(&d->request);
        hone_strfree(d->experiment);
        hone_free(d);
    }
    *item = NULL;
}

hone_handlers_t *hone_handlers_new(hone_registry_t *registry)
{
    HONE_ASSERT(registry);
    hone_handlers_t *self = hone_alloc(sizeof *self);
    self->registry = registry;
    self->leases = hone_lease_table_new();
    self->adopted = zhashx_new();
    HONE_ASSERT(self->adopted);
    self->min_heartbeat_ms = HONE_LEASE_HEARTBEAT_MS_DEFAULT;
    self->parking = hone_parking_new(s_deferred_destroy);
    self->stoppers = zhashx_new();
    HONE_ASSERT(self->stoppers);
    zhashx_set_destructor(self->stoppers, hone_early_stop_stopper_destroy);
    return self;
}

void hone_handlers_use_generator(hone_handlers_t *self, hone_generator_t *generator,
                                 hone_handlers_reply_fn *reply, void *arg)
{
    HONE_ASSERT(self && generator && reply && !self->generator);
    self->generator = generator;
    self->reply = reply;
    self->reply_arg = arg;
}

void hone_handlers_destroy(hone_handlers_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_handlers_t *self = *self_p;
    if (!self)
        return;
    HONE_ASSERT(!self->generator || hone_generator_outstanding(self->generator) == 0);
    hone_parking_destroy(&self->parking);
    hone_lease_table_destroy(&self->leases);
    zhashx_destroy(&self->adopted);
    zhashx_destroy(&self->stoppers);
    hone_free(self->readings);
    hone_free(self);
    *self_p = NULL;
}

/* ---- request fields ---- */

/* Parses `metrics` into the scratch readings; absent (or nil) gives *n = 0 unless
 * required. */
int hone_handlers_metrics(hone_handlers_t *self, const hone_msg_t *req, bool required, size_t *n,
                          hone_error_t *err)
{
    *n = 0;
    const hone_node_t *node = hone_msg_get(req, "metrics");
    if (!node)
        return required ? hone_error_set(err, HONE_EPROTO, "missing field 'metrics'") : HONE_OK;
    if (hone_node_type(node) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "field 'metrics' must be map");
    size_t len = hone_node_len(node);
    if (len > self->cap_readings) {
        self->readings = hone_realloc_array(self->readings, len, sizeof *self->readings);
        self->cap_readings = len;
    }
    return hone_wire_read_metrics(node, self->readings, n, err);
}

int hone_handlers_experiment(hone_handlers_t *self, const hone_msg_t *req, hone_experiment_t **exp,
                             const char **name, hone_error_t *err)
{
    int rc = hone_request_str(req, "experiment", name, err);
    if (rc == HONE_OK)
        rc = hone_registry_find(self->registry, *name, exp, err);
    if (rc == HONE_OK)
        hone_leasing_adopt(self, *exp, false);
    return rc;
}

const hone_trial_t *hone_handlers_trial(const hone_experiment_t *exp, uint32_t index, hone_error_t *err)
{
    const hone_trial_t *trial = hone_experiment_trial(exp, index);
    if (!trial)
        hone_error_set(err, HONE_ENOTFOUND, "experiment '%s' has no trial %" PRIu32,
                       hone_experiment_name(exp), index);
    return trial;
}

hone_msg_t *hone_handlers_error(uint64_t seq, int code, const char *message)
{
    hone_msg_t *reply = hone_msg_new(HONE_MSG_ERROR);
    HONE_ASSERT(reply);
    hone_msg_set_seq(reply, seq);
    S_SET(hone_msg_set_int(reply, "code", code));
    S_SET(hone_msg_set_str(reply, "name", hone_err_name(code)));
    S_SET(hone_msg_set_str(reply, "message", message && *message ? message : hone_strerror(code)));
    return reply;
}

/* ---- shared steps ---- */

/* Whether generation and `best` for exp go to the generator thread: every method but
 * random_search (Sobol draws, raw best: microseconds) fits a model. */
bool hone_handlers_offloads(const hone_handlers_t *self, const hone_experiment_t *exp)
{
    return self->generator && !streq(hone_experiment_method(exp), "random_search");
}

/* After hone_experiment_generate (rc, *n trials in indices) on the reactor thread:
 * records the worker (and, for a worker's `ready`, leased, the first attempt of each
 * trial) and stores what the core changed (new trials and the Sobol
 * position, even when no trial was made, so a reload continues the same sequence).
 * before and sobol_before are the trial count and Sobol position from before.
 * Returns the core's code, or HONE_ESTORE when the change could not be stored; *exp is
 * then NULL (the registry reloaded it). */
static int s_generated(hone_handlers_t *self, hone_experiment_t **exp, size_t before,
                       uint64_t sobol_before, int rc, const char *worker, bool leased,
                       const uint32_t *indices, uint32_t *n, hone_error_t *err)
{
    if (rc == HONE_OK && *n == 0)
        rc = hone_error_set(err, HONE_EAGAIN, "no trial could be generated now");
    size_t after = hone_experiment_trial_count(*exp);
    for (uint32_t i = 0; i < *n; i++) {
        hone_experiment_set_worker(*exp, indices[i], worker);
        if (leased)
            hone_experiment_start_attempt(*exp, indices[i], worker, hone_clock_wall_ms());
    }
    if (after == before && hone_experiment_sobol_drawn(*exp) == sobol_before)
        return rc;
    hone_registry_change_t change = {
        .experiment = true,
        .trial_first = (uint32_t) before,
        .n_trials = (uint32_t) (after - before),
    };
    int src = hone_registry_persist(self->registry, *exp, &change, err);
    if (src != HONE_OK) {
        *exp = NULL;
        *n = 0;
        return src;
    }
    return rc;
}

/* Generates up to max trials inline and stores them (s_generated). */
int hone_handlers_generate(hone_handlers_t *self, hone_experiment_t **exp, uint32_t max,
                           const char *worker, bool leased, uint32_t *indices, uint32_t *n, hone_error_t *err)
{
    size_t before = hone_experiment_trial_count(*exp);
    uint64_t sobol_before = hone_experiment_sobol_drawn(*exp);
    *n = 0;
    int rc = hone_experiment_generate(*exp, max, indices, n, err);
    return s_generated(self, exp, before, sobol_before, rc, worker, leased, indices, n, err);
}

/* ---- dispatch ---- */

/* Turns a handler's outcome into the reply to send (an `error` unless rc is HONE_OK)
 * and takes the handler's reply. */
static hone_msg_t *s_answer(const hone_msg_t *request, int rc, hone_msg_t **reply,
                            const hone_error_t *err)
{
    if (rc == HONE_OK) {
        HONE_ASSERT(*reply);
        hone_msg_t *out = *reply;
        *reply = NULL;
        return out;
    }
    hone_msg_destroy(reply);
    const char *type = hone_msg_name(hone_msg_id(request));
    if (rc == HONE_ESTORE)
        hone_log_warn("handlers", "%s seq=%" PRIu64 " answered HONE_ESTORE", type ? type : "?",
                      hone_msg_seq(request));
    else
        hone_log_debug("handlers", "%s seq=%" PRIu64 " rejected: %s %s", type ? type : "?",
                       hone_msg_seq(request), hone_err_name(rc), err->message);
    return hone_handlers_error(hone_msg_seq(request), rc, err->message);
}

/* The experiment a request names when it is a request that must wait while that
 * experiment generates (`ready` and `next`, so that each trial is generated with the
 * ones before it as pending points, and `attach_baseline`, whose new trial would
 * otherwise be a pending point the generation never saw), else NULL. Everything else is served on the live
 * experiment meanwhile: the generator works on a snapshot. */
static const char *s_waits_for(const hone_msg_t *request)
{
    switch (hone_msg_id(request)) {
    case HONE_MSG_READY: case HONE_MSG_NEXT: case HONE_MSG_ATTACH_BASELINE: {
        const char *name = NULL;
        return hone_msg_get_str(request, "experiment", &name, NULL) == HONE_OK ? name : NULL;
    }
    default:
        return NULL;
    }
}

/* Hands the model fit a handler asked for to the generator thread, on a snapshot of the
 * experiment (hone_experiment_snapshot): the live experiment keeps serving readings,
 * marks, status, best and predict meanwhile. A generation marks the experiment busy
 * (its `ready` and `next` wait) and takes the BO state along until it comes back
 * (s_on_collected). Takes the request (NULL for a prefetch refill; peer unused then). */
static void s_submit(hone_handlers_t *self, const hone_handlers_peer_t *peer, hone_msg_t **request,
                     const hone_handlers_offload_t *offload)
{
    bool generate = offload->kind == HONE_GENERATOR_GENERATE;
    const char *name = hone_experiment_name(offload->exp);
    if (offload->kind == HONE_GENERATOR_STOP) {
        hone_early_stop_offload(self, peer, request, offload->exp, offload->trial);
        return;
    }
    hone_handlers_deferred_t *d;
    if (request) {
        d = hone_handlers_deferred_new(peer, request);
    } else {
        d = hone_alloc(sizeof *d);
    }
    d->experiment = hone_strdup(name);
    hone_experiment_t *snap = hone_experiment_snapshot(offload->exp, generate);
    d->trials_before = hone_experiment_trial_count(snap);
    if (generate)
        hone_parking_set_busy(self->parking, name, true);
    hone_generator_job_t *job = NULL;
    switch (offload->kind) {
    case HONE_GENERATOR_GENERATE: job = hone_generator_job_new(snap, offload->count, d); break;
    case HONE_GENERATOR_BEST: job = hone_generator_job_new_best(snap, d); break;
    case HONE_GENERATOR_PARETO: job = hone_generator_job_new_pareto(snap, d); break;
    case HONE_GENERATOR_PREDICT:
        job = hone_generator_job_new_predict(snap, offload->n_points, offload->points, offload->metric, d);
        break;
    case HONE_GENERATOR_STOP:
        HONE_ASSERT(false);     /* handled above */
        break;
    }
    hone_generator_submit(self->generator, &job);   /* the snapshot belongs to the job now */
}

/* Tops up experiment name's prefetch queue: when it keeps candidates ahead, is not
 * generating, has fewer candidates than it wants and budget left, a refill job makes
 * the missing ones on a snapshot (as CANDIDATE trials, s_on_collected). */
static void s_refill(hone_handlers_t *self, const char *name)
{
    hone_experiment_t *exp;
    if (!self->generator || self->finishing || hone_parking_busy(self->parking, name)
        || hone_registry_find(self->registry, name, &exp, NULL) != HONE_OK)
        return;
    uint32_t want = hone_experiment_prefetch(exp);
    size_t have = hone_experiment_count_status(exp, HONE_TRIAL_CANDIDATE);
    if (want == 0 || have >= want || !hone_handlers_offloads(self, exp) || !hone_experiment_budget_left(exp))
        return;
    hone_handlers_offload_t offload = {
        .exp = exp, .kind = HONE_GENERATOR_GENERATE, .count = (uint32_t) (want - have), .refill = true,
    };
    s_submit(self, NULL, NULL, &offload);
}

/* Serves a request whose experiment is not busy. Takes the request; returns the reply
 * or NULL when a model fit was started (or, while finishing, refused unanswered). */
static hone_msg_t *s_serve(hone_handlers_t *self, const hone_handlers_peer_t *peer,
                           hone_msg_t **request_p, int64_t now_ms)
{
    hone_leasing_resync_if_due(self, now_ms);
    const hone_msg_t *request = *request_p;
    hone_error_t err;
    hone_error_clear(&err);
    hone_msg_t *reply = NULL;
    hone_handlers_offload_t offload = { 0 };
    hone_msg_id_t id = hone_msg_id(request);
    int rc;
    switch (id) {
    case HONE_MSG_READY: rc = hone_worker_role_ready(self, request, peer, now_ms, &reply, &offload, &err); break;
    case HONE_MSG_PROGRESS: rc = hone_worker_role_readings(self, request, true, peer, now_ms, &reply, &err); break;
    case HONE_MSG_COMPLETE:
        rc = hone_worker_role_report(self, request, peer, now_ms, HONE_TRIAL_COMPLETED, &reply, &err);
        break;
    case HONE_MSG_FAIL:
        rc = hone_worker_role_report(self, request, peer, now_ms, HONE_TRIAL_FAILED, &reply, &err);
        break;
    case HONE_MSG_HEARTBEAT: rc = hone_worker_role_heartbeat(self, request, peer, now_ms, &reply, &err); break;
    case HONE_MSG_CREATE: rc = hone_client_role_create(self, request, &reply, &err); break;
    case HONE_MSG_NEXT: rc = hone_client_role_next(self, request, &reply, &offload, &err); break;
    case HONE_MSG_ATTACH: rc = hone_worker_role_readings(self, request, false, peer, now_ms, &reply, &err); break;
    case HONE_MSG_MARK: rc = hone_client_role_mark(self, request, &reply, &err); break;
    case HONE_MSG_BEST: rc = hone_client_role_best(self, request, &reply, &offload, &err); break;
    case HONE_MSG_STATUS: rc = hone_client_role_status(self, request, &reply, &err); break;
    case HONE_MSG_LIST: rc = hone_client_role_list(self, request, &reply, &err); break;
    case HONE_MSG_PREDICT: rc = hone_client_role_predict(self, request, &reply, &offload, &err); break;
    case HONE_MSG_SHOULD_STOP: rc = hone_early_stop_should_stop(self, request, &reply, &offload, &err); break;
    case HONE_MSG_PARETO: rc = hone_client_goals_pareto(self, request, &reply, &offload, &err); break;
    case HONE_MSG_ATTACH_BASELINE: rc = hone_client_goals_attach_baseline(self, request, &reply, &err); break;
    default: {
        const char *type = hone_msg_name(id);
        rc = hone_error_set(&err, HONE_EPROTO, "'%s' is not a request the broker accepts",
                            type ? type : "?");
        break;
    }
    }
    if (rc == HONE_OK && offload.exp) {
        HONE_ASSERT(!reply);
        if (self->finishing) {
            hone_log_info("handlers", "%s seq=%" PRIu64 " on '%s' left unanswered: the broker is stopping",
                          hone_msg_name(id), hone_msg_seq(request), hone_experiment_name(offload.exp));
            hone_msg_destroy(request_p);
        } else {
            s_submit(self, peer, request_p, &offload);
        }
        hone_free(offload.points);      /* the job holds its own copy */
        return NULL;
    }
    reply = s_answer(request, rc, &reply, &err);
    if (id == HONE_MSG_READY) {
        const char *name = s_waits_for(request);
        if (name)
            s_refill(self, name);
    }
    hone_msg_destroy(request_p);
    return reply;
}

hone_msg_t *hone_handlers_dispatch(hone_handlers_t *self, const hone_handlers_peer_t *peer,
                                   hone_msg_t **request, int64_t now_ms)
{
    HONE_ASSERT(self && peer && request && *request);
    self->now_ms = now_ms;
    const char *name = s_waits_for(*request);
    hone_experiment_t *exp;
    /* A `ready` that a prefetched candidate can answer does not wait for the generation. */
    bool candidate = name && hone_msg_id(*request) == HONE_MSG_READY
                     && hone_registry_find(self->registry, name, &exp, NULL) == HONE_OK
                     && hone_experiment_next_queued(exp) >= 0;
    if (name && !candidate && hone_parking_busy(self->parking, name)) {
        if (hone_parking_size(self->parking) >= HONE_HANDLERS_PARKED_MAX) {
            hone_msg_t *reply;
            if (hone_msg_id(*request) == HONE_MSG_READY) {
                reply = hone_request_reply(HONE_MSG_NO_WORK, *request);
                S_SET(hone_msg_set_int(reply, "retry_ms", HONE_HANDLERS_RETRY_MS));
                S_SET(hone_msg_set_bool(reply, "done", false));
                S_SET(hone_msg_set_str(reply, "reason", "too many requests are waiting for model fits"));
            } else {
                reply = hone_handlers_error(hone_msg_seq(*request), HONE_EAGAIN,
                                            "too many requests are waiting for model fits; retry later");
            }
            hone_msg_destroy(request);
            return reply;
        }
        hone_log_debug("handlers", "%s seq=%" PRIu64 " waits for the model fit on '%s'",
                       hone_msg_name(hone_msg_id(*request)), hone_msg_seq(*request), name);
        hone_parking_push(self->parking, name, hone_handlers_deferred_new(peer, request));
        return NULL;
    }
    return s_serve(self, peer, request, now_ms);
}

/* ---- model fits coming back ---- */

/* Serves the requests parked behind experiment name, oldest first, until none is left
 * or one of them makes it busy again. */
static void s_drain(hone_handlers_t *self, const char *name, int64_t now_ms)
{
    hone_handlers_deferred_t *d;
    while (!hone_parking_busy(self->parking, name) && (d = hone_parking_pop(self->parking, name))) {
        hone_msg_t *reply = s_serve(self, &d->peer, &d->request, now_ms);
        if (reply)
            self->reply(self->reply_arg, &d->peer, &reply);
        void *item = d;
        s_deferred_destroy(&item);
    }
}

/* A generation came back: its trials join the live experiment (RUNNING, or CANDIDATE
 * for a refill) and are stored; then the reply to the request, if any. */
static int s_on_generated(hone_handlers_t *self, hone_generator_job_t *job, hone_handlers_deferred_t *d,
                          int64_t now_ms, hone_msg_t **reply, hone_error_t *err)
{
    const char *name = d->experiment;
    const hone_msg_t *request = d->request;
    hone_msg_id_t id = request ? hone_msg_id(request) : HONE_MSG_READY;
    const char *worker = NULL;
    if (request && id == HONE_MSG_READY && hone_msg_get_str(request, "worker", &worker, NULL) != HONE_OK)
        worker = NULL;
    hone_experiment_t *exp;
    int rc = hone_registry_find(self->registry, name, &exp, err);
    uint32_t n = 0;
    if (rc == HONE_OK) {
        size_t before = hone_experiment_trial_count(exp);
        uint64_t sobol_before = hone_experiment_sobol_drawn(exp);
        hone_experiment_adopt(exp, job->experiment, d->trials_before,
                              request ? HONE_TRIAL_RUNNING : HONE_TRIAL_CANDIDATE, job->indices, &n);
        rc = s_generated(self, &exp, before, sobol_before, job->rc, worker, request && id == HONE_MSG_READY,
                         job->indices, &n, err);
    }
    hone_log_debug("handlers", "generation on '%s'%s: %" PRIu32 " trial(s), %s, %" PRId64
                   " ms (queued %" PRId64 " ms)", name, request ? "" : " (prefetch)", n,
                   hone_err_name(rc), job->finished_ms - job->started_ms,
                   job->started_ms - job->submitted_ms);
    if (!request)
        return rc;
    if (id == HONE_MSG_READY)
        return hone_worker_role_ready_reply(self, request, &d->peer, now_ms, exp, name, worker, rc,
                                            n > 0 ? job->indices[0] : 0, reply, err);
    return hone_client_role_next_reply(request, exp, rc, job->indices, n, reply);
}

/* A job came back: adopt and store a generation, answer the request, serve what waited. */
static void s_on_collected(hone_handlers_t *self, hone_generator_job_t *job, int64_t now_ms)
{
    hone_handlers_deferred_t *d = job->arg;
    const hone_msg_t *request = d->request;
    char *name = d->experiment;
    hone_error_t err = job->err;
    hone_msg_t *reply = NULL;
    if (job->kind != HONE_GENERATOR_GENERATE && request)   /* s_on_generated logs its own line */
        hone_log_debug("handlers", "%s on '%s': %s, %" PRId64 " ms (queued %" PRId64 " ms)",
                       hone_msg_name(hone_msg_id(request)), name, hone_err_name(job->rc),
                       job->finished_ms - job->started_ms, job->started_ms - job->submitted_ms);
    int rc = HONE_OK;
    switch (job->kind) {
    case HONE_GENERATOR_GENERATE:
        rc = s_on_generated(self, job, d, now_ms, &reply, &err);
        break;
    case HONE_GENERATOR_STOP:
        rc = hone_early_stop_on_decided(self, job, d, &reply, &err);
        break;
    case HONE_GENERATOR_BEST:
        rc = hone_client_role_best_reply(request, job->experiment, job->rc, &job->best, &reply);
        break;
    case HONE_GENERATOR_PREDICT:
        rc = hone_client_role_predict_reply(request, job, &reply);
        break;
    case HONE_GENERATOR_PARETO:
        rc = hone_client_goals_pareto_reply(request, job->experiment, job->rc, &job->frontier, &reply);
        break;
    }
    if (request) {
        reply = s_answer(request, rc, &reply, &err);
        self->reply(self->reply_arg, &d->peer, &reply);
    } else if (rc != HONE_OK && rc != HONE_EDONE && rc != HONE_EEXHAUSTED) {
        hone_log_warn("handlers", "prefetch on '%s': %s %s", name, hone_err_name(rc), err.message);
    }
    if (job->kind == HONE_GENERATOR_GENERATE) {
        /* Workers' `ready` and refills keep the prefetch queue topped up; a client's
         * `next` does not start it. */
        bool refill = !request || hone_msg_id(request) == HONE_MSG_READY;
        hone_parking_set_busy(self->parking, name, false);
        s_drain(self, name, now_ms);
        if (refill)
            s_refill(self, name);
    }
    hone_experiment_destroy(&job->experiment);   /* the snapshot */
    void *item = d;
    s_deferred_destroy(&item);
}

void hone_handlers_collect(hone_handlers_t *self, int64_t now_ms)
{
    HONE_ASSERT(self && self->generator);
    self->now_ms = now_ms;
    hone_generator_job_t *job;
    while ((job = hone_generator_collect(self->generator))) {
        hone_leasing_resync_if_due(self, now_ms);
        s_on_collected(self, job, now_ms);
        hone_generator_job_destroy(&job);
    }
}

void hone_handlers_finish(hone_handlers_t *self)
{
    HONE_ASSERT(self);
    if (!self->generator || self->finishing)
        return;
    self->finishing = true;
    size_t outstanding = hone_generator_outstanding(self->generator);
    if (outstanding > 0)
        hone_log_info("handlers", "stopping: waiting for %zu generation(s) in progress (%zu request(s) "
                      "waiting behind them)", outstanding, hone_parking_size(self->parking));
    while (hone_generator_outstanding(self->generator) > 0) {
        hone_generator_wait(self->generator, -1);
        hone_handlers_collect(self, hone_clock_mono_ms());
    }
    HONE_ASSERT(hone_parking_size(self->parking) == 0 && hone_parking_count(self->parking) == 0);
}
