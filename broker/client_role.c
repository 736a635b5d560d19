/* client_role.c: the requests of the client role (Ax's Client): `create`, `next`,
 * `mark`, `best`, `status` (with the lease part), `list` (with learning curves) and
 * `predict`. `attach` is hone_worker_role_readings, `should_stop` is in early_stop.c,
 * `pareto` and `attach_baseline` in client_goals.c. */
#include "handlers_internal.h"

#include "alloc.h"
#include "log.h"
#include "request.h"
#include "wire.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static uint64_t s_random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t) sizeof seed)
        seed = (uint64_t) zclock_usecs() * 0x9E3779B97F4A7C15ull;
    /* 53 bits: exact in JSON numbers and in every SDK language. */
    return seed & ((1ull << 53) - 1);
}

int hone_client_role_create(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    const char *config;
    int rc = hone_request_str(req, "config", &config, err);
    if (rc != HONE_OK)
        return rc;
    hone_experiment_t *exp = NULL;
    rc = hone_experiment_from_json(&exp, config, strlen(config), s_random_seed(), err);
    if (rc != HONE_OK)
        return rc;
    char name[256];
    snprintf(name, sizeof name, "%s", hone_experiment_name(exp));
    uint64_t seed = hone_experiment_seed(exp);
    rc = hone_registry_create(self->registry, &exp, err);
    hone_experiment_destroy(&exp);    /* still ours only on error */
    if (rc != HONE_OK)
        return rc;
    hone_log_info("handlers", "created experiment '%s' (seed %" PRIu64 ")", name, seed);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_str(*reply, "experiment", name));
    S_SET(hone_msg_set_int(*reply, "seed", (int64_t) seed));
    return HONE_OK;
}

/* The reply to `next` once generation gave rc and n trials at indices. */
int hone_client_role_next_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                                const uint32_t *indices, uint32_t n, hone_msg_t **reply)
{
    if (rc != HONE_OK)
        return rc;
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *trials = hone_node_add_array(hone_msg_body(*reply), "trials");
    HONE_ASSERT(trials);
    for (uint32_t i = 0; i < n; i++)
        hone_wire_add_trial(trials, NULL, exp, hone_experiment_trial(exp, indices[i]), false);
    return HONE_OK;
}

int hone_client_role_next(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                          hone_handlers_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    bool present;
    int64_t count = 1;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_int(req, "count", &count, err), &present);
    if (rc != HONE_OK)
        return rc;
    if (!present)
        count = 1;
    if (count < 0)
        return hone_error_set(err, HONE_EPROTO, "field 'count' must be uint, not %" PRId64, count);
    if (count < 1 || count > HONE_HANDLERS_NEXT_MAX)
        return hone_error_set(err, HONE_EINVAL, "field 'count' must be 1 to %d, not %" PRId64,
                              HONE_HANDLERS_NEXT_MAX, count);
    /* Never make more trials than one reply can carry: a reply refused as too big after
     * the trials were stored would leave them running unknown to the client. */
    size_t bytes, items;
    hone_wire_trial_bound(hone_experiment_space(exp), &bytes, &items);
    size_t fit = (HONE_PROTO_MAX_BYTES - 4096) / bytes;
    size_t fit_items = (HONE_PROTO_MAX_ITEMS - 64) / items;
    fit = fit < fit_items ? fit : fit_items;
    if ((size_t) count > fit) {
        hone_log_debug("handlers", "next on '%s': %" PRId64 " trials asked, %zu fit in a reply", name,
                       count, fit);
        count = fit > 0 ? (int64_t) fit : 1;
    }
    if (hone_handlers_offloads(self, exp)) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_GENERATE;
        offload->count = (uint32_t) count;
        return HONE_OK;
    }
    uint32_t indices[HONE_HANDLERS_NEXT_MAX];
    uint32_t n = 0;
    rc = hone_handlers_generate(self, &exp, (uint32_t) count, NULL, false, indices, &n, err);
    return hone_client_role_next_reply(req, exp, rc, indices, n, reply);
}

int hone_client_role_mark(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name, *status, *reason;
    uint32_t index;
    size_t n = 0;
    hone_trial_status_t to;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc == HONE_OK)
        rc = hone_request_str(req, "status", &status, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_str(req, "reason", &reason, err);
    if (rc != HONE_OK)
        return rc;
    if (hone_trial_status_parse(status, &to) != HONE_OK
        || (to != HONE_TRIAL_COMPLETED && to != HONE_TRIAL_FAILED && to != HONE_TRIAL_ABANDONED
            && to != HONE_TRIAL_EARLY_STOPPED))
        return hone_error_set(err, HONE_EINVAL,
                              "field 'status' must be COMPLETED, FAILED, ABANDONED or EARLY_STOPPED, "
                              "not '%.64s'", status);
    rc = hone_handlers_metrics(self, req, false, &n, err);
    if (rc != HONE_OK)
        return rc;
    if (n > 0 && to != HONE_TRIAL_COMPLETED)
        return hone_error_set(err, HONE_EINVAL, "field 'metrics' may only be given with status COMPLETED");
    return hone_worker_role_finish(self, req, exp, index, to, reason, n, false, reply, err);
}

/* The reply to `best` once hone_experiment_best_ex gave rc and best. */
int hone_client_role_best_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                                const hone_best_point_t *best, hone_msg_t **reply)
{
    if (rc != HONE_OK)
        return rc;
    uint32_t index = best->trial;
    const hone_trial_t *trial = hone_experiment_trial(exp, index);
    HONE_ASSERT(trial);
    /* The objective's label names a scalarized objective ("ne1 + 2*ne2") as a whole;
     * for a single metric it is the metric. */
    bool minimize = false;
    (void) hone_experiment_objective(exp, &minimize);
    const char *metric = hone_experiment_objective_label(exp, 0);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    S_ADD(hone_node_add_int(body, "trial", index));
    hone_node_t *params = hone_node_add_map(body, "params");
    HONE_ASSERT(params);
    hone_wire_fill_params(params, hone_experiment_space(exp), trial->params);
    S_ADD(hone_node_add_str(body, "metric", metric));
    S_ADD(hone_node_add_float(body, "value", best->mean));
    hone_wire_add_number_or_nil(body, "sem", best->sem);
    S_ADD(hone_node_add_bool(body, "minimize", minimize));
    S_ADD(hone_node_add_str(body, "source", hone_best_source_name(best->source)));
    return HONE_OK;
}

int hone_client_role_best(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                          hone_handlers_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    hone_best_point_t best;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc != HONE_OK)
        return rc;
    /* While finishing, inline: a read is cheap enough to answer rather than drop. */
    if (hone_handlers_offloads(self, exp) && !self->finishing) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_BEST;
        return HONE_OK;
    }
    /* The model path for "fast" experiments (a GP fit on all current data), else raw. */
    rc = hone_experiment_best_ex(exp, true, &best, err);
    return hone_client_role_best_reply(req, exp, rc, &best, reply);
}

/* The lease part of `status`: settings, expiries, retries and the workers table. */
static void s_status_leases(hone_handlers_t *self, const hone_experiment_t *exp, hone_node_t *body)
{
    hone_leasing_adopt(self, exp, true);   /* repairs a lease a failed write may have lost */
    const hone_lease_settings_t *settings = hone_experiment_leases(exp);
    hone_node_t *leases = hone_node_add_map(body, "leases");
    HONE_ASSERT(leases);
    S_ADD(hone_node_add_int(leases, "heartbeat_ms", settings->heartbeat_ms));
    S_ADD(hone_node_add_int(leases, "liveness", settings->liveness));
    S_ADD(hone_node_add_int(leases, "max_retries", settings->max_retries));
    /* From the stored attempts, so they survive restarts: every expiry, and the ones
     * that re-queued the trial (the last expiry of a trial that then FAILED did not). */
    uint64_t expired = 0, retries = 0;
    size_t n = hone_experiment_trial_count(exp);
    for (uint32_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, i);
        uint32_t e = hone_trial_expired_attempts(t);
        expired += e;
        bool failed = t->status == HONE_TRIAL_FAILED && t->n_attempts > 0
                      && t->attempts[t->n_attempts - 1].outcome == HONE_ATTEMPT_EXPIRED;
        retries += failed ? e - 1 : e;
    }
    S_ADD(hone_node_add_int(body, "leases_expired", (int64_t) expired));
    S_ADD(hone_node_add_int(body, "retries", (int64_t) retries));
    hone_lease_worker_t *rows = NULL;
    size_t n_rows = 0;
    hone_lease_workers(self->leases, hone_experiment_name(exp), self->now_ms, &rows, &n_rows);
    hone_node_t *workers = hone_node_add_array(body, "workers");
    HONE_ASSERT(workers);
    for (size_t i = 0; i < n_rows && i < HONE_HANDLERS_STATUS_WORKERS_MAX; i++) {
        const hone_lease_worker_t *w = &rows[i];
        hone_node_t *row = hone_node_add_map(workers, NULL);
        HONE_ASSERT(row);
        S_ADD(hone_node_add_str(row, "worker", w->worker));
        S_ADD(hone_node_add_int(row, "last_seen_ms", self->now_ms - w->last_seen_ms));
        if (w->leased) {
            S_ADD(hone_node_add_int(row, "trial", w->trial));
            S_ADD(hone_node_add_int(row, "lease", (int64_t) w->token));
            S_ADD(hone_node_add_int(row, "lease_age_ms", self->now_ms - w->assigned_ms));
        }
    }
    S_ADD(hone_node_add_int(body, "workers_total", (int64_t) n_rows));
    hone_lease_workers_free(&rows, n_rows);
}

int hone_client_role_status(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc != HONE_OK)
        return rc;
    const char *objective = hone_experiment_objective_text(exp);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    S_ADD(hone_node_add_str(body, "experiment", hone_experiment_name(exp)));
    S_ADD(hone_node_add_str(body, "objective", objective));
    S_ADD(hone_node_add_str(body, "method", hone_experiment_method(exp)));
    S_ADD(hone_node_add_int(body, "max_trials", hone_experiment_max_trials(exp)));
    hone_node_t *counts = hone_node_add_map(body, "counts");
    HONE_ASSERT(counts);
    /* The statuses of the trial object and STALE (lost, re-queued) always, others when used. */
    static const hone_trial_status_t listed[] = { HONE_TRIAL_RUNNING, HONE_TRIAL_COMPLETED,
                                                  HONE_TRIAL_FAILED, HONE_TRIAL_ABANDONED,
                                                  HONE_TRIAL_EARLY_STOPPED, HONE_TRIAL_STALE };
    for (size_t i = 0; i < HONE_ARRAY_LEN(listed); i++)
        S_ADD(hone_node_add_int(counts, hone_trial_status_name(listed[i]),
                                (int64_t) hone_experiment_count_status(exp, listed[i])));
    static const hone_trial_status_t others[] = { HONE_TRIAL_CANDIDATE, HONE_TRIAL_STAGED };
    for (size_t i = 0; i < HONE_ARRAY_LEN(others); i++) {
        size_t n = hone_experiment_count_status(exp, others[i]);
        if (n > 0)
            S_ADD(hone_node_add_int(counts, hone_trial_status_name(others[i]), (int64_t) n));
    }
    S_ADD(hone_node_add_int(body, "total", (int64_t) hone_experiment_trial_count(exp)));
    /* The raw path: no model fit for a status. No best point at all for a
     * multi-objective experiment (HONE_EINVAL: its answer is `pareto`) or while it lacks
     * data: the status is answered without one. */
    hone_best_point_t raw;
    if (hone_experiment_best_ex(exp, false, &raw, NULL) == HONE_OK) {
        hone_node_t *best = hone_node_add_map(body, "best");
        HONE_ASSERT(best);
        S_ADD(hone_node_add_int(best, "trial", raw.trial));
        S_ADD(hone_node_add_float(best, "value", raw.mean));
    }
    s_status_leases(self, exp, body);
    return HONE_OK;
}

static int s_cmp_reading(const void *a, const void *b)
{
    const hone_reading_t *x = *(const hone_reading_t *const *) a, *y = *(const hone_reading_t *const *) b;
    if (x->metric != y->metric)
        return x->metric < y->metric ? -1 : 1;
    return (x->progression > y->progression) - (x->progression < y->progression);
}

/* Adds a trial's learning curves to its trial object obj: `curves`, a map from metric
 * name (in the experiment's metric order) to its readings that have a progression, as
 * [progression, mean, sem|nil] by increasing progression (PROTOCOL.md 4.7.7). Nothing
 * when the trial has none. *scratch (*cap slots) is grown as needed. */
static void s_add_curves(hone_node_t *obj, const hone_experiment_t *exp, const hone_trial_t *t,
                         const hone_reading_t ***scratch, size_t *cap)
{
    size_t n = 0;
    for (size_t r = 0; r < t->n_readings; r++) {
        if (!t->readings[r].has_progression)
            continue;
        if (n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            *scratch = hone_realloc_array(*scratch, *cap, sizeof **scratch);
        }
        (*scratch)[n++] = &t->readings[r];
    }
    if (n == 0)
        return;
    qsort(*scratch, n, sizeof **scratch, s_cmp_reading);
    hone_node_t *curves = hone_node_add_map(obj, "curves");
    HONE_ASSERT(curves);
    hone_node_t *points = NULL;
    for (size_t k = 0; k < n; k++) {
        const hone_reading_t *r = (*scratch)[k];
        if (k == 0 || r->metric != (*scratch)[k - 1]->metric) {
            points = hone_node_add_array(curves, hone_experiment_metric_name(exp, r->metric));
            HONE_ASSERT(points);
        }
        hone_node_t *point = hone_node_add_array(points, NULL);
        HONE_ASSERT(point);
        S_ADD(hone_node_add_int(point, NULL, r->progression));
        S_ADD(hone_node_add_float(point, NULL, r->mean));
        if (isnan(r->sem))
            S_ADD(hone_node_add_nil(point, NULL));
        else
            S_ADD(hone_node_add_float(point, NULL, r->sem));
    }
}

/* `list`: every trial, or only `trial`; with `curves: true` each trial object also
 * carries its full learning curves (s_add_curves). */
int hone_client_role_list(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    bool curves = false, has_curves, has_trial;
    int64_t only = 0;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_bool(req, "curves", &curves, err), &has_curves);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_int(req, "trial", &only, err), &has_trial);
    if (rc != HONE_OK)
        return rc;
    if (has_trial && only < 0)
        return hone_error_set(err, HONE_EPROTO, "field 'trial' must be uint, not %" PRId64, only);
    size_t n = hone_experiment_trial_count(exp);
    if (has_trial && (uint64_t) only >= n)
        return hone_error_set(err, HONE_ENOTFOUND, "experiment '%s' has no trial %" PRId64, name, only);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *trials = hone_node_add_array(hone_msg_body(*reply), "trials");
    HONE_ASSERT(trials);
    const hone_reading_t **scratch = NULL;
    size_t cap = 0;
    for (size_t i = has_trial ? (size_t) only : 0; i < (has_trial ? (size_t) only + 1 : n); i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, (uint32_t) i);
        hone_wire_add_trial(trials, NULL, exp, t, true);
        if (curves && has_curves) {
            /* the object just appended; the tree is ours to extend (nodes never move) */
            hone_node_t *obj = (hone_node_t *) hone_node_at(trials, hone_node_len(trials) - 1);
            s_add_curves(obj, exp, t, &scratch, &cap);
        }
    }
    hone_free(scratch);
    return HONE_OK;
}

/* Reads `points` into *values_out, a new array of *n_out rows of space-size values,
 * interned. HONE_EPROTO for its shape; HONE_EINVAL for the number of points or a point
 * outside the space, the message naming the point ("points[2]: parameter 'x1': ..."). */
static int s_points(const hone_msg_t *req, const hone_space_t *space, hone_value_t **values_out,
                    size_t *n_out, hone_error_t *err)
{
    *values_out = NULL;
    *n_out = 0;
    const hone_node_t *points = hone_msg_get(req, "points");
    if (!points)
        return hone_error_set(err, HONE_EPROTO, "missing field 'points'");
    if (hone_node_type(points) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "field 'points' must be array, not %s",
                              hone_node_type_name(hone_node_type(points)));
    size_t n = hone_node_len(points);
    if (n < 1 || n > HONE_PROTO_PREDICT_MAX)
        return hone_error_set(err, HONE_EINVAL, "field 'points' must hold 1 to %d points, not %zu",
                              HONE_PROTO_PREDICT_MAX, n);
    size_t dim = hone_space_size(space);
    hone_value_t *values = hone_alloc_array(n * dim, sizeof *values);
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < n; j++) {
        const hone_node_t *point = hone_node_at(points, j);
        if (hone_node_type(point) != HONE_NODE_MAP) {
            rc = hone_error_set(err, HONE_EPROTO, "points[%zu] must be map, not %s", j,
                                hone_node_type_name(hone_node_type(point)));
            break;
        }
        hone_error_t why;
        hone_error_clear(&why);
        rc = hone_wire_read_params(space, point, &values[j * dim], &why);
        if (rc != HONE_OK) {
            /* wire.c names its field "params"; here the field is points[j] */
            const char *text = strncmp(why.message, "params: ", 8) == 0 ? why.message + 8 : why.message;
            rc = hone_error_set(err, rc, "points[%zu]: %s", j, text);
        }
    }
    if (rc != HONE_OK) {
        hone_free(values);
        return rc;
    }
    *values_out = values;
    *n_out = n;
    return HONE_OK;
}

/* The reply to `predict` once a PREDICT job ran (its code, err already taken). */
int hone_client_role_predict_reply(const hone_msg_t *req, const hone_generator_job_t *job, hone_msg_t **reply)
{
    if (job->rc != HONE_OK)
        return job->rc;
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    hone_node_t *predictions = hone_node_add_array(body, "predictions");
    HONE_ASSERT(predictions);
    for (size_t j = 0; j < job->n_points; j++) {
        hone_node_t *prediction = hone_node_add_map(predictions, NULL);
        HONE_ASSERT(prediction);
        S_ADD(hone_node_add_float(prediction, "mean", job->mean[j]));
        S_ADD(hone_node_add_float(prediction, "sem", job->sem[j]));
    }
    S_ADD(hone_node_add_str(body, "metric",
                            job->metric ? job->metric : hone_experiment_objective_label(job->experiment, 0)));
    return HONE_OK;
}

int hone_client_role_predict(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                             hone_handlers_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    hone_value_t *points = NULL;
    size_t n = 0;
    const char *metric = NULL;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_str(req, "metric", &metric, err);
    /* an unknown metric is refused here, before a snapshot is taken for nothing */
    if (rc == HONE_OK && metric && hone_experiment_metric_find(exp, metric) < 0)
        rc = hone_error_set(err, HONE_EINVAL, "metric: '%.100s' is not a metric of experiment '%s' (none of its "
                            "goals, no reading of it)", metric, name);
    if (rc == HONE_OK)
        rc = s_points(req, hone_experiment_space(exp), &points, &n, err);
    if (rc != HONE_OK)
        return rc;
    /* Every method fits a GP here, random_search included. While finishing, inline: a
     * read is cheap enough to answer rather than drop (as for best). */
    if (self->generator && !self->finishing) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_PREDICT;
        offload->n_points = n;
        offload->points = points;
        offload->metric = metric;
        return HONE_OK;
    }
    hone_generator_job_t *job = hone_generator_job_new_predict(exp, n, points, metric, NULL);
    hone_free(points);
    hone_generator_job_run(job);
    *err = job->err;
    rc = hone_client_role_predict_reply(req, job, reply);
    hone_generator_job_destroy(&job);
    return rc;
}
