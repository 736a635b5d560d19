/* json_render.c: SDK results (trials, best, status, Pareto frontiers, predictions and
 * the answers of the CLI's commands) rendered as JSON lines; declared in json_line.h.
 * Parsing and the dump itself stay in json_line.c. */
#include "json_line.h"
#include "json_line_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A JSON string; text that is not valid UTF-8 is cleaned rather than refused. */
static json_t *s_str(const char *text)
{
    json_t *v = json_string(text);
    if (v || !text)
        return v;
    char *copy = strdup(text);
    if (!copy)
        return NULL;
    hone_json_line_clean_utf8(copy);
    v = json_string(copy);
    free(copy);
    return v;
}

/* Sets key on obj; a NULL value or a failure poisons *ok. */
static void s_set(json_t *obj, const char *key, json_t *value, bool *ok)
{
    if (!obj || !*ok) {
        json_decref(value);
        *ok = false;
        return;
    }
    if (!value || json_object_set_new(obj, key, value) != 0)  /* it releases value on failure */
        *ok = false;
}

static json_t *s_uint(uint64_t v)
{
    return json_integer((json_int_t) v);
}

static json_t *s_number_or_null(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *s_pair(double mean, double sem)
{
    json_t *a = json_array();
    if (a && (json_array_append_new(a, json_real(mean)) != 0
              || json_array_append_new(a, s_number_or_null(sem)) != 0)) {
        json_decref(a);
        return NULL;
    }
    return a;
}

static json_t *s_params(const hone_trial_t *trial)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    for (size_t i = 0; ok && i < hone_trial_param_count(trial); i++) {
        json_t *v = NULL;
        double f;
        int64_t n;
        const char *s;
        bool b;
        switch (hone_trial_param_type(trial, i)) {
        case HONE_TYPE_FLOAT:
            hone_trial_param_double(trial, i, &f);
            v = json_real(f);
            break;
        case HONE_TYPE_INT:
            hone_trial_param_int(trial, i, &n);
            v = json_integer((json_int_t) n);
            break;
        case HONE_TYPE_STR:
            hone_trial_param_str(trial, i, &s);
            v = s_str(s);
            break;
        case HONE_TYPE_BOOL:
            hone_trial_param_bool(trial, i, &b);
            v = json_boolean(b);
            break;
        default:
            v = json_null();
        }
        s_set(obj, hone_trial_param_name(trial, i), v, &ok);
    }
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return obj;
}

char *hone_json_line_params(const hone_trial_t *trial)
{
    return hone_json_line_dump(s_params(trial));
}

/* {"loss": [[progression, mean, sem|null], ...], ...}: the trial's full curves. */
static json_t *s_curves(const hone_trial_t *trial)
{
    json_t *curves = json_object();
    bool ok = curves != NULL;
    for (size_t i = 0; ok && i < hone_trial_curve_count(trial); i++) {
        json_t *points = json_array();
        for (size_t j = 0; points && j < hone_trial_curve_length(trial, i); j++) {
            int64_t progression = 0;
            double mean = NAN, sem = NAN;
            hone_trial_curve_point(trial, i, j, &progression, &mean, &sem);
            json_t *point = json_array();
            if (!point || json_array_append_new(point, json_integer((json_int_t) progression)) != 0
                || json_array_append_new(point, json_real(mean)) != 0
                || json_array_append_new(point, s_number_or_null(sem)) != 0
                || json_array_append_new(points, point) != 0) {
                json_decref(points);
                points = NULL;
            }
        }
        s_set(curves, hone_trial_curve_metric(trial, i), points, &ok);
    }
    if (!ok) {
        json_decref(curves);
        return NULL;
    }
    return curves;
}

char *hone_json_line_trial(const hone_trial_t *trial, bool full)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "trial", s_uint(hone_trial_index(trial)), &ok);
    if (full) {
        s_set(obj, "status", s_str(hone_trial_status(trial)), &ok);
        s_set(obj, "note", s_str(hone_trial_note(trial)), &ok);
    }
    s_set(obj, "params", s_params(trial), &ok);
    if (full) {
        json_t *metrics = json_object();
        for (size_t i = 0; ok && i < hone_trial_metric_count(trial); i++)
            s_set(metrics, hone_trial_metric_name(trial, i),
                  s_pair(hone_trial_metric_mean(trial, i), hone_trial_metric_sem(trial, i)), &ok);
        s_set(obj, "metrics", metrics, &ok);
        int64_t progression;
        if (hone_trial_progression(trial, &progression) == HONE_OK)
            s_set(obj, "progression", json_integer((json_int_t) progression), &ok);
        if (*hone_trial_reason(trial))
            s_set(obj, "reason", s_str(hone_trial_reason(trial)), &ok);
        if (hone_trial_curve_count(trial) > 0)
            s_set(obj, "curves", s_curves(trial), &ok);
    }
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_best(const hone_best_t *best)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "trial", s_uint(hone_best_trial_index(best)), &ok);
    s_set(obj, "params", s_params(hone_best_trial(best)), &ok);
    s_set(obj, "metric", s_str(hone_best_metric(best)), &ok);
    s_set(obj, "value", json_real(hone_best_value(best)), &ok);
    s_set(obj, "sem", s_number_or_null(hone_best_sem(best)), &ok);
    s_set(obj, "minimize", json_boolean(hone_best_minimize(best)), &ok);
    if (*hone_best_source(best))
        s_set(obj, "source", json_string(hone_best_source(best)), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_status(const hone_status_t *status)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(hone_status_experiment(status)), &ok);
    s_set(obj, "objective", s_str(hone_status_objective(status)), &ok);
    s_set(obj, "method", s_str(hone_status_method(status)), &ok);
    s_set(obj, "max_trials", s_uint(hone_status_max_trials(status)), &ok);
    s_set(obj, "total", s_uint(hone_status_total(status)), &ok);
    json_t *counts = json_object();
    for (size_t i = 0; ok && i < hone_status_entry_count(status); i++)
        s_set(counts, hone_status_entry_name(status, i), s_uint(hone_status_entry_trials(status, i)), &ok);
    s_set(obj, "counts", counts, &ok);
    uint64_t trial;
    double value;
    if (hone_status_best(status, &trial, &value) == HONE_OK) {
        json_t *best = json_object();
        s_set(best, "trial", s_uint(trial), &ok);
        s_set(best, "value", json_real(value), &ok);
        s_set(obj, "best", best, &ok);
    } else {
        s_set(obj, "best", json_null(), &ok);
    }
    int32_t heartbeat = 0, liveness = 0, max_retries = 0;
    hone_status_leases(status, &heartbeat, &liveness, &max_retries);
    if (heartbeat > 0) {
        json_t *leases = json_object();
        s_set(leases, "heartbeat_ms", s_uint((uint64_t) heartbeat), &ok);
        s_set(leases, "liveness", s_uint((uint64_t) liveness), &ok);
        s_set(leases, "max_retries", s_uint((uint64_t) max_retries), &ok);
        s_set(obj, "leases", leases, &ok);
        s_set(obj, "leases_expired", s_uint(hone_status_leases_expired(status)), &ok);
        s_set(obj, "retries", s_uint(hone_status_retries(status)), &ok);
        json_t *workers = json_array();
        for (size_t i = 0; ok && workers && i < hone_status_worker_count(status); i++) {
            json_t *row = json_object();
            s_set(row, "worker", s_str(hone_status_worker_name(status, i)), &ok);
            s_set(row, "last_seen_ms", s_uint((uint64_t) hone_status_worker_last_seen_ms(status, i)), &ok);
            uint64_t leased_trial, lease;
            int64_t age;
            if (hone_status_worker_lease(status, i, &leased_trial, &lease, &age) == HONE_OK) {
                s_set(row, "trial", s_uint(leased_trial), &ok);
                s_set(row, "lease", s_uint(lease), &ok);
                s_set(row, "lease_age_ms", s_uint((uint64_t) age), &ok);
            }
            if (!ok)
                json_decref(row);
            else if (json_array_append_new(workers, row) != 0)   /* it releases row on failure */
                ok = false;
        }
        s_set(obj, "workers", workers, &ok);
        s_set(obj, "workers_total", s_uint(hone_status_workers_total(status)), &ok);
    }
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_prediction(const hone_prediction_t *prediction, size_t i, const char *params_json)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "point", s_uint(i), &ok);
    s_set(obj, "params", params_json ? json_loads(params_json, 0, NULL) : json_object(), &ok);
    s_set(obj, "metric", s_str(hone_prediction_metric(prediction)), &ok);
    s_set(obj, "mean", json_real(hone_prediction_mean(prediction, i)), &ok);
    s_set(obj, "sem", s_number_or_null(hone_prediction_sem(prediction, i)), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_created(const char *experiment)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(experiment), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_keygen(const char *public_path, const char *secret_path, const char *public_key,
                            const char *role)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "public", s_str(public_path), &ok);
    s_set(obj, "secret", s_str(secret_path), &ok);
    s_set(obj, "key", s_str(public_key), &ok);
    s_set(obj, "role", role && *role ? s_str(role) : json_null(), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_should_stop(const char *experiment, uint64_t trial, bool stop, const char *reason)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(experiment), &ok);
    s_set(obj, "trial", s_uint(trial), &ok);
    s_set(obj, "stop", json_boolean(stop), &ok);
    s_set(obj, "reason", s_str(reason), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_marked(const char *experiment, uint64_t trial, const char *status)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(experiment), &ok);
    s_set(obj, "trial", s_uint(trial), &ok);
    s_set(obj, "status", s_str(status), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_attached(const char *experiment, uint64_t trial, const hone_json_reading_t *reading,
                              bool has_progression, int64_t progression)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(experiment), &ok);
    s_set(obj, "trial", s_uint(trial), &ok);
    json_t *metrics = json_object();
    for (size_t i = 0; ok && i < reading->n; i++)
        s_set(metrics, reading->names[i], s_pair(reading->means[i], reading->sems[i]), &ok);
    s_set(obj, "metrics", metrics, &ok);
    if (has_progression)
        s_set(obj, "progression", json_integer((json_int_t) progression), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

/* An array of the objectives' or a point's doubles, NAN as null. */
static json_t *s_numbers(const hone_pareto_t *pareto, size_t i, double (*get)(const hone_pareto_t *, size_t, size_t))
{
    json_t *a = json_array();
    for (size_t k = 0; a && k < hone_pareto_objective_count(pareto); k++) {
        if (json_array_append_new(a, s_number_or_null(get(pareto, i, k))) != 0) {
            json_decref(a);
            return NULL;
        }
    }
    return a;
}

static double s_ref(const hone_pareto_t *pareto, size_t i, size_t k)
{
    (void) i;
    return hone_pareto_ref(pareto, k);
}

char *hone_json_line_pareto(const char *experiment, const hone_pareto_t *pareto)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(experiment), &ok);
    s_set(obj, "source", s_str(hone_pareto_source(pareto)), &ok);
    json_t *labels = json_array(), *minimize = json_array();
    for (size_t k = 0; ok && labels && minimize && k < hone_pareto_objective_count(pareto); k++)
        ok = json_array_append_new(labels, s_str(hone_pareto_objective(pareto, k))) == 0
             && json_array_append_new(minimize, json_boolean(hone_pareto_minimize(pareto, k))) == 0;
    s_set(obj, "objectives", labels, &ok);
    s_set(obj, "minimize", minimize, &ok);
    s_set(obj, "ref", s_numbers(pareto, 0, s_ref), &ok);
    s_set(obj, "ref_inferred", json_boolean(hone_pareto_ref_inferred(pareto)), &ok);
    s_set(obj, "hypervolume", json_real(hone_pareto_hypervolume(pareto)), &ok);
    json_t *points = json_array();
    for (size_t i = 0; ok && points && i < hone_pareto_count(pareto); i++) {
        json_t *point = json_object();
        bool point_ok = point != NULL;
        s_set(point, "trial", s_uint(hone_pareto_trial_index(pareto, i)), &point_ok);
        s_set(point, "params", s_params(hone_pareto_trial(pareto, i)), &point_ok);
        s_set(point, "values", s_numbers(pareto, i, hone_pareto_value), &point_ok);
        s_set(point, "sems", s_numbers(pareto, i, hone_pareto_sem), &point_ok);
        s_set(point, "contribution", json_real(hone_pareto_contribution(pareto, i)), &point_ok);
        if (!point_ok) {
            json_decref(point);
            ok = false;
        } else if (json_array_append_new(points, point) != 0) {   /* it releases point */
            ok = false;
        }
    }
    s_set(obj, "points", points, &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}

char *hone_json_line_baseline(const char *experiment, uint64_t trial)
{
    json_t *obj = json_object();
    bool ok = obj != NULL;
    s_set(obj, "experiment", s_str(experiment), &ok);
    s_set(obj, "trial", s_uint(trial), &ok);
    if (!ok) {
        json_decref(obj);
        return NULL;
    }
    return hone_json_line_dump(obj);
}
