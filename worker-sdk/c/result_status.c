/* result_status.c: the status of an experiment from a status reply (budget, trials per
 * status, best so far, lease settings and the workers table) and its accessors. */
#include "result_internal.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    char *name;                 /* status name */
    uint64_t trials;            /* trials with that status */
} s_entry_t;

/* A row of the workers table of a status. */
typedef struct {
    char *name;                 /* worker name ("@hex" for an unnamed one) */
    int64_t last_seen_ms;       /* milliseconds since its last message */
    bool leased;                /* it holds a lease: the fields below are set */
    uint64_t trial;             /* the leased trial */
    uint64_t lease;             /* the lease token */
    int64_t lease_age_ms;       /* milliseconds since the trial was handed out */
} s_worker_row_t;

struct _hone_status_t {
    char *experiment;           /* experiment name */
    char *objective;            /* objective as configured ("-loss") */
    char *method;               /* generation method */
    uint64_t max_trials;        /* budget, 0 = unlimited */
    uint64_t total;             /* trials so far */
    s_entry_t *entries;         /* trials per status */
    size_t n_entries;           /* number of entries */
    bool has_best;              /* whether best_* are set */
    uint64_t best_trial;        /* best trial so far */
    double best_value;          /* its objective value */
    uint64_t heartbeat_ms;      /* lease settings; 0 from older brokers */
    uint64_t liveness;
    uint64_t max_retries;
    uint64_t leases_expired;    /* lease expiries */
    uint64_t retries;           /* expiries that re-queued their trial */
    s_worker_row_t *workers;    /* the workers table */
    size_t n_workers;           /* rows in it */
    uint64_t workers_total;     /* workers known to the broker (rows may be capped) */
};

/* ---- status ---- */

void hone_status_destroy(hone_status_t **status_p)
{
    if (!status_p || !*status_p)
        return;
    hone_status_t *s = *status_p;
    free(s->experiment);
    free(s->objective);
    free(s->method);
    for (size_t i = 0; i < s->n_entries; i++)
        free(s->entries[i].name);
    free(s->entries);
    for (size_t i = 0; i < s->n_workers; i++)
        free(s->workers[i].name);
    free(s->workers);
    free(s);
    *status_p = NULL;
}

/* The lease fields of a status (PROTOCOL.md 4.7.6); all optional (older brokers). */
static int s_parse_leases(hone_status_t *s, const hone_node_t *body, hone_error_t *err)
{
    const hone_node_t *leases = hone_result_field(body, "leases");
    int rc = HONE_OK;
    if (leases && hone_node_type(leases) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'leases' must be a map");
    if (leases) {
        rc = hone_result_get_uint(leases, "heartbeat_ms", false, &s->heartbeat_ms, err);
        if (rc == HONE_OK)
            rc = hone_result_get_uint(leases, "liveness", false, &s->liveness, err);
        if (rc == HONE_OK)
            rc = hone_result_get_uint(leases, "max_retries", false, &s->max_retries, err);
    }
    if (rc == HONE_OK)
        rc = hone_result_get_uint(body, "leases_expired", false, &s->leases_expired, err);
    if (rc == HONE_OK)
        rc = hone_result_get_uint(body, "retries", false, &s->retries, err);
    if (rc == HONE_OK)
        rc = hone_result_get_uint(body, "workers_total", false, &s->workers_total, err);
    const hone_node_t *workers = hone_result_field(body, "workers");
    if (rc != HONE_OK || !workers)
        return rc;
    if (hone_node_type(workers) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "reply field 'workers' must be an array");
    size_t n = hone_node_len(workers);
    s->workers = calloc(n ? n : 1, sizeof *s->workers);
    if (!s->workers)
        return hone_result_oom(err);
    for (size_t i = 0; i < n; i++) {
        const hone_node_t *row = hone_node_at(workers, i);
        if (hone_node_type(row) != HONE_NODE_MAP)
            return hone_error_set(err, HONE_EPROTO, "workers[%zu] must be a map", i);
        s_worker_row_t *w = &s->workers[i];
        uint64_t seen = 0, age = 0;
        rc = hone_result_get_str(row, "worker", NULL, &w->name, err);
        s->n_workers = i + 1;
        if (rc == HONE_OK)
            rc = hone_result_get_uint(row, "last_seen_ms", false, &seen, err);
        if (rc == HONE_OK && hone_result_field(row, "trial")) {
            w->leased = true;
            rc = hone_result_get_uint(row, "trial", true, &w->trial, err);
            if (rc == HONE_OK)
                rc = hone_result_get_uint(row, "lease", false, &w->lease, err);
            if (rc == HONE_OK)
                rc = hone_result_get_uint(row, "lease_age_ms", false, &age, err);
        }
        if (rc != HONE_OK)
            return rc;
        w->last_seen_ms = seen > INT64_MAX ? INT64_MAX : (int64_t) seen;
        w->lease_age_ms = age > INT64_MAX ? INT64_MAX : (int64_t) age;
    }
    if (s->workers_total < s->n_workers)
        s->workers_total = s->n_workers;
    return HONE_OK;
}

static int s_parse_counts(hone_status_t *s, const hone_node_t *counts, hone_error_t *err)
{
    if (!counts)
        return HONE_OK;
    if (hone_node_type(counts) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'counts' must be a map");
    size_t n = hone_node_len(counts);
    s->entries = calloc(n ? n : 1, sizeof *s->entries);
    if (!s->entries)
        return hone_result_oom(err);
    for (size_t i = 0; i < n; i++) {
        const hone_node_t *v = hone_node_at(counts, i);
        if (hone_node_type(v) != HONE_NODE_INT || hone_node_int(v) < 0)
            return hone_error_set(err, HONE_EPROTO, "counts.%s must be a non-negative int",
                                  hone_node_key_at(counts, i));
        s->entries[i].name = hone_result_strdup(hone_node_key_at(counts, i));
        if (!s->entries[i].name)
            return hone_result_oom(err);
        s->entries[i].trials = (uint64_t) hone_node_int(v);
        s->n_entries = i + 1;
    }
    return HONE_OK;
}

int hone_result_status_parse(const hone_node_t *body, hone_status_t **out, hone_error_t *err)
{
    *out = NULL;
    hone_status_t *s = calloc(1, sizeof *s);
    if (!s)
        return hone_result_oom(err);
    int rc = hone_result_get_str(body, "experiment", NULL, &s->experiment, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(body, "objective", NULL, &s->objective, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(body, "method", NULL, &s->method, err);
    if (rc == HONE_OK)
        rc = hone_result_get_uint(body, "max_trials", false, &s->max_trials, err);
    if (rc == HONE_OK)
        rc = hone_result_get_uint(body, "total", false, &s->total, err);
    if (rc == HONE_OK)
        rc = s_parse_counts(s, hone_result_field(body, "counts"), err);
    if (rc == HONE_OK)
        rc = s_parse_leases(s, body, err);
    const hone_node_t *best = hone_result_field(body, "best");
    if (rc == HONE_OK && best) {
        const hone_node_t *value = hone_node_type(best) == HONE_NODE_MAP ? hone_result_field(best, "value") : NULL;
        if (!hone_result_is_number(value))
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'best' must be a map with trial and value");
        else
            rc = hone_result_get_uint(best, "trial", true, &s->best_trial, err);
        if (rc == HONE_OK) {
            s->best_value = hone_node_float(value);
            s->has_best = true;
        }
    }
    if (rc != HONE_OK) {
        hone_status_destroy(&s);
        return rc;
    }
    *out = s;
    return HONE_OK;
}

const char *hone_status_experiment(const hone_status_t *status)
{
    return status ? status->experiment : "";
}

const char *hone_status_objective(const hone_status_t *status)
{
    return status ? status->objective : "";
}

const char *hone_status_method(const hone_status_t *status)
{
    return status ? status->method : "";
}

uint64_t hone_status_max_trials(const hone_status_t *status)
{
    return status ? status->max_trials : 0;
}

uint64_t hone_status_total(const hone_status_t *status)
{
    return status ? status->total : 0;
}

size_t hone_status_entry_count(const hone_status_t *status)
{
    return status ? status->n_entries : 0;
}

const char *hone_status_entry_name(const hone_status_t *status, size_t i)
{
    return status && i < status->n_entries ? status->entries[i].name : NULL;
}

uint64_t hone_status_entry_trials(const hone_status_t *status, size_t i)
{
    return status && i < status->n_entries ? status->entries[i].trials : 0;
}

uint64_t hone_status_count(const hone_status_t *status, const char *status_name)
{
    if (!status || !status_name)
        return 0;
    for (size_t i = 0; i < status->n_entries; i++)
        if (streq(status->entries[i].name, status_name))
            return status->entries[i].trials;
    return 0;
}

int hone_status_best(const hone_status_t *status, uint64_t *trial_out, double *value_out)
{
    if (!status)
        return HONE_EINVAL;
    if (!status->has_best)
        return HONE_ENOTFOUND;
    if (trial_out)
        *trial_out = status->best_trial;
    if (value_out)
        *value_out = status->best_value;
    return HONE_OK;
}

void hone_status_leases(const hone_status_t *status, int32_t *heartbeat_ms, int32_t *liveness,
                        int32_t *max_retries)
{
    if (heartbeat_ms)
        *heartbeat_ms = status && status->heartbeat_ms <= INT32_MAX ? (int32_t) status->heartbeat_ms : 0;
    if (liveness)
        *liveness = status && status->liveness <= INT32_MAX ? (int32_t) status->liveness : 0;
    if (max_retries)
        *max_retries = status && status->max_retries <= INT32_MAX ? (int32_t) status->max_retries : 0;
}

uint64_t hone_status_leases_expired(const hone_status_t *status)
{
    return status ? status->leases_expired : 0;
}

uint64_t hone_status_retries(const hone_status_t *status)
{
    return status ? status->retries : 0;
}

size_t hone_status_worker_count(const hone_status_t *status)
{
    return status ? status->n_workers : 0;
}

uint64_t hone_status_workers_total(const hone_status_t *status)
{
    return status ? status->workers_total : 0;
}

const char *hone_status_worker_name(const hone_status_t *status, size_t i)
{
    return status && i < status->n_workers ? status->workers[i].name : NULL;
}

int64_t hone_status_worker_last_seen_ms(const hone_status_t *status, size_t i)
{
    return status && i < status->n_workers ? status->workers[i].last_seen_ms : -1;
}

int hone_status_worker_lease(const hone_status_t *status, size_t i, uint64_t *trial_out, uint64_t *lease_out,
                             int64_t *lease_age_ms_out)
{
    if (!status || i >= status->n_workers)
        return HONE_EINVAL;
    const s_worker_row_t *w = &status->workers[i];
    if (!w->leased)
        return HONE_ENOTFOUND;
    if (trial_out)
        *trial_out = w->trial;
    if (lease_out)
        *lease_out = w->lease;
    if (lease_age_ms_out)
        *lease_age_ms_out = w->lease_age_ms;
    return HONE_OK;
}
