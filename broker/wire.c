/* wire.c: params, metrics and trial objects as protocol nodes. */
#include "wire.h"

#include "store.h"

#include <math.h>

/* Node builders return NULL only when memory is exhausted; the broker aborts then. */
#define S_ADD(call) HONE_ASSERT((call) != NULL)

void hone_wire_add_number_or_nil(hone_node_t *parent, const char *key, double value)
{
    if (isnan(value))
        S_ADD(hone_node_add_nil(parent, key));
    else
        S_ADD(hone_node_add_float(parent, key, value));
}

void hone_wire_fill_params(hone_node_t *map, const hone_space_t *space, const hone_value_t *values)
{
    size_t n = hone_space_size(space);
    for (size_t i = 0; i < n; i++) {
        const char *name = hone_space_param(space, i)->name;
        const hone_value_t *v = &values[i];
        switch (v->type) {
        case HONE_TYPE_FLOAT: S_ADD(hone_node_add_float(map, name, v->u.f)); break;
        case HONE_TYPE_INT: S_ADD(hone_node_add_int(map, name, v->u.i)); break;
        case HONE_TYPE_STR: S_ADD(hone_node_add_str(map, name, v->u.s)); break;
        case HONE_TYPE_BOOL: S_ADD(hone_node_add_bool(map, name, v->u.b)); break;
        }
    }
}

int hone_wire_read_params(const hone_space_t *space, const hone_node_t *map, hone_value_t *values,
                          hone_error_t *err)
{
    if (!map || hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EINVAL, "params must be a map");
    size_t n = hone_space_size(space);
    for (size_t i = 0; i < hone_node_len(map); i++) {
        const char *key = hone_node_key_at(map, i);
        if (hone_space_find(space, key) < 0)
            return hone_error_set(err, HONE_EINVAL, "params: unknown parameter '%.128s'", key);
    }
    for (size_t i = 0; i < n; i++) {
        const hone_param_t *p = hone_space_param(space, i);
        const hone_node_t *node = hone_node_get(map, p->name);
        hone_node_type_t t = node ? hone_node_type(node) : HONE_NODE_NIL;
        bool ok = true;
        switch (t) {
        case HONE_NODE_INT:
            if (p->type == HONE_TYPE_FLOAT)
                values[i] = hone_value_float((double) hone_node_int(node));
            else if (p->type == HONE_TYPE_INT)
                values[i] = hone_value_int(hone_node_int(node));
            else
                ok = false;
            break;
        case HONE_NODE_FLOAT:
            /* An integral float for an int parameter is made an int by hone_space_intern. */
            ok = p->type == HONE_TYPE_FLOAT || p->type == HONE_TYPE_INT;
            values[i] = hone_value_float(hone_node_float(node));
            break;
        case HONE_NODE_STR:
            ok = p->type == HONE_TYPE_STR;
            values[i] = hone_value_str(hone_node_str(node, NULL));
            break;
        case HONE_NODE_BOOL:
            ok = p->type == HONE_TYPE_BOOL;
            values[i] = hone_value_bool(hone_node_bool(node));
            break;
        case HONE_NODE_NIL:
            return hone_error_set(err, HONE_EINVAL, "params: parameter '%s' is missing", p->name);
        default:
            ok = false;
            break;
        }
        if (!ok)
            return hone_error_set(err, HONE_EINVAL, "params: parameter '%s' must be %s, not %s", p->name,
                                  hone_type_name(p->type), hone_node_type_name(t));
    }
    return hone_space_intern(space, values, err);
}

int hone_wire_read_metrics(const hone_node_t *map, hone_reading_in_t *readings, size_t *n_out,
                           hone_error_t *err)
{
    *n_out = 0;
    if (!map || hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "field 'metrics' must be map");
    size_t n = hone_node_len(map);
    for (size_t i = 0; i < n; i++) {
        const char *name = hone_node_key_at(map, i);
        const hone_node_t *v = hone_node_at(map, i);
        size_t len = strlen(name);
        if (len == 0 || len > HONE_STORE_METRIC_MAX)
            return hone_error_set(err, HONE_EINVAL, "metrics: a metric name must have 1 to %d bytes",
                                  HONE_STORE_METRIC_MAX);
        hone_reading_in_t *r = &readings[i];
        r->metric = name;
        r->sem = NAN;
        hone_node_type_t t = hone_node_type(v);
        if (t == HONE_NODE_INT || t == HONE_NODE_FLOAT) {
            r->mean = hone_node_float(v);
            continue;
        }
        bool ok = t == HONE_NODE_ARRAY && hone_node_len(v) == 2;
        if (ok) {
            const hone_node_t *mean = hone_node_at(v, 0);
            const hone_node_t *sem = hone_node_at(v, 1);
            hone_node_type_t mt = hone_node_type(mean), st = hone_node_type(sem);
            ok = (mt == HONE_NODE_INT || mt == HONE_NODE_FLOAT)
                 && (st == HONE_NODE_INT || st == HONE_NODE_FLOAT || st == HONE_NODE_NIL);
            if (ok) {
                r->mean = hone_node_float(mean);
                r->sem = st == HONE_NODE_NIL ? NAN : hone_node_float(sem);
            }
        }
        if (!ok)
            return hone_error_set(err, HONE_EPROTO,
                                  "field 'metrics': '%.128s' must be a number or [mean, sem|nil]", name);
    }
    *n_out = n;
    return HONE_OK;
}

void hone_wire_add_trial(hone_node_t *parent, const char *key, const hone_experiment_t *exp,
                         const hone_trial_t *trial, bool full)
{
    hone_node_t *obj = hone_node_add_map(parent, key);
    HONE_ASSERT(obj);
    S_ADD(hone_node_add_int(obj, "trial", trial->index));
    S_ADD(hone_node_add_str(obj, "status", hone_trial_status_name(trial->status)));
    hone_node_t *params = hone_node_add_map(obj, "params");
    HONE_ASSERT(params);
    hone_wire_fill_params(params, hone_experiment_space(exp), trial->params);
    S_ADD(hone_node_add_str(obj, "note", trial->note ? trial->note : ""));
    if (!full)
        return;
    if (trial->reason)
        S_ADD(hone_node_add_str(obj, "reason", trial->reason));
    if (trial->worker)
        S_ADD(hone_node_add_str(obj, "worker", trial->worker));
    hone_node_t *metrics = hone_node_add_map(obj, "metrics");
    HONE_ASSERT(metrics);
    size_t n_metrics = hone_experiment_metric_count(exp);
    for (uint32_t m = 0; m < n_metrics; m++) {
        double mean, sem;
        if (!hone_trial_latest(trial, m, &mean, &sem))
            continue;
        hone_node_t *pair = hone_node_add_array(metrics, hone_experiment_metric_name(exp, m));
        HONE_ASSERT(pair);
        S_ADD(hone_node_add_float(pair, NULL, mean));
        hone_wire_add_number_or_nil(pair, NULL, sem);
    }
    bool any = false;
    int64_t largest = 0;
    for (size_t i = 0; i < trial->n_readings; i++) {
        const hone_reading_t *r = &trial->readings[i];
        if (r->has_progression && (!any || r->progression > largest)) {
            largest = r->progression;
            any = true;
        }
    }
    if (any)
        S_ADD(hone_node_add_int(obj, "progression", largest));
    uint32_t retries = hone_trial_expired_attempts(trial);
    if (retries > 0)
        S_ADD(hone_node_add_int(obj, "retries", retries));
    hone_wire_add_attempts(obj, "attempts", trial);
}

void hone_wire_add_attempts(hone_node_t *parent, const char *key, const hone_trial_t *trial)
{
    if (trial->n_attempts == 0)
        return;
    hone_node_t *list = hone_node_add_array(parent, key);
    HONE_ASSERT(list);
    for (uint32_t i = 0; i < trial->n_attempts; i++) {
        const hone_attempt_t *a = &trial->attempts[i];
        hone_node_t *obj = hone_node_add_map(list, NULL);
        HONE_ASSERT(obj);
        S_ADD(hone_node_add_str(obj, "worker", a->worker ? a->worker : ""));
        S_ADD(hone_node_add_int(obj, "start", a->start_ms));
        if (a->outcome != HONE_ATTEMPT_RUNNING)
            S_ADD(hone_node_add_int(obj, "end", a->end_ms));
        S_ADD(hone_node_add_str(obj, "outcome", hone_attempt_outcome_name((int) a->outcome)));
    }
}

int hone_wire_read_attempts(hone_experiment_t *exp, uint32_t index, const hone_node_t *attempts,
                            hone_error_t *err)
{
    if (!attempts || hone_node_type(attempts) == HONE_NODE_NIL)
        return HONE_OK;
    if (hone_node_type(attempts) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EINVAL, "attempts must be an array");
    for (size_t i = 0; i < hone_node_len(attempts); i++) {
        const hone_node_t *obj = hone_node_at(attempts, i);
        const hone_node_t *worker = obj ? hone_node_get(obj, "worker") : NULL;
        const hone_node_t *start = obj ? hone_node_get(obj, "start") : NULL;
        const hone_node_t *end = obj ? hone_node_get(obj, "end") : NULL;
        const hone_node_t *outcome = obj ? hone_node_get(obj, "outcome") : NULL;
        hone_attempt_t a = { .worker = "" };
        if (!obj || hone_node_type(obj) != HONE_NODE_MAP || !start || hone_node_type(start) != HONE_NODE_INT
            || !outcome || hone_node_type(outcome) != HONE_NODE_STR
            || hone_attempt_outcome_parse(hone_node_str(outcome, NULL), &a.outcome) != HONE_OK
            || (worker && hone_node_type(worker) != HONE_NODE_STR)
            || (end && hone_node_type(end) != HONE_NODE_INT))
            return hone_error_set(err, HONE_EINVAL, "attempts[%zu]: needs worker (str), start (int), "
                                  "end (int, when ended) and a known outcome", i);
        if (worker)
            a.worker = (char *) hone_node_str(worker, NULL);
        a.start_ms = hone_node_int(start);
        a.end_ms = end ? hone_node_int(end) : 0;
        int rc = hone_experiment_restore_attempt(exp, index, &a, err);
        if (rc != HONE_OK)
            return rc;
    }
    return HONE_OK;
}

void hone_wire_trial_bound(const hone_space_t *space, size_t *bytes, size_t *items)
{
    /* map header, the four keys, trial index, the longest status, a note and slack */
    size_t total = 128;
    size_t n = hone_space_size(space);
    for (size_t i = 0; i < n; i++) {
        const hone_param_t *p = hone_space_param(space, i);
        total += strlen(p->name) + 5;           /* str header of up to 5 bytes */
        switch (p->type) {
        case HONE_TYPE_FLOAT:
        case HONE_TYPE_INT: total += 9; break;
        case HONE_TYPE_BOOL: total += 1; break;
        case HONE_TYPE_STR: {
            size_t longest = 0;
            for (size_t v = 0; v < p->n_values; v++) {
                size_t len = strlen(p->values[v].u.s);
                longest = len > longest ? len : longest;
            }
            total += longest + 5;
            break;
        }
        }
    }
    *bytes = total;
    *items = 1 + 4 + n;     /* the array item, four pairs, one pair per parameter */
}
