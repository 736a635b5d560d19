#include "json_line.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STEP_KEY "step"

void hone_json_line_reading_clear(hone_json_reading_t *reading)
{
    if (!reading)
        return;
    for (size_t i = 0; i < reading->n; i++)
        free(reading->names[i]);
    free(reading->names);
    free(reading->means);
    free(reading->sems);
    memset(reading, 0, sizeof *reading);
}

static int s_why(char *why, size_t why_size, int code, const char *fmt, const char *key)
{
    if (why && why_size)
        snprintf(why, why_size, fmt, key);
    return code;
}

/* A number, or [mean] / [mean, sem|null]. */
static bool s_metric_value(const json_t *value, double *mean, double *sem)
{
    *sem = NAN;
    if (json_is_number(value)) {
        *mean = json_number_value(value);
        return isfinite(*mean);
    }
    if (!json_is_array(value) || json_array_size(value) < 1 || json_array_size(value) > 2
        || !json_is_number(json_array_get(value, 0)))
        return false;
    *mean = json_number_value(json_array_get(value, 0));
    if (json_array_size(value) == 2) {
        const json_t *s = json_array_get(value, 1);
        if (json_is_number(s))
            *sem = json_number_value(s);
        else if (!json_is_null(s))
            return false;
        if (!isnan(*sem) && (!isfinite(*sem) || *sem < 0))
            return false;
    }
    return isfinite(*mean);
}

static bool s_step_value(const json_t *value, int64_t *step)
{
    if (json_is_integer(value)) {
        *step = (int64_t) json_integer_value(value);
        return true;
    }
    if (json_is_real(value)) {
        double d = json_real_value(value);
        if (d == floor(d) && fabs(d) < 9.0e15) {
            *step = (int64_t) d;
            return true;
        }
    }
    return false;
}

int hone_json_line_parse_reading(const char *text, size_t len, bool allow_step, hone_json_reading_t *out,
                                 char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (why && why_size)
        why[0] = '\0';
    /* Cheap test first: most lines a program prints are not JSON at all. */
    size_t start = 0;
    while (start < len && (text[start] == ' ' || text[start] == '\t'))
        start++;
    if (start == len || text[start] != '{')
        return HONE_ENOTFOUND;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return HONE_ENOTFOUND;
    if (!json_is_object(root)) {
        json_decref(root);
        return HONE_ENOTFOUND;
    }
    size_t cap = json_object_size(root);
    out->names = calloc(cap ? cap : 1, sizeof *out->names);
    out->means = calloc(cap ? cap : 1, sizeof *out->means);
    out->sems = calloc(cap ? cap : 1, sizeof *out->sems);
    int rc = out->names && out->means && out->sems ? HONE_OK : HONE_ENOMEM;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (rc != HONE_OK)
            break;
        if (allow_step && strcmp(key, S_STEP_KEY) == 0) {
            if (!s_step_value(value, &out->step))
                rc = s_why(why, why_size, HONE_EINVAL, "\"%s\" must be an integer", key);
            out->has_step = true;
            continue;
        }
        if (!*key) {
            rc = s_why(why, why_size, HONE_EINVAL, "a metric name is empty%s", "");
            break;
        }
        double mean, sem;
        if (!s_metric_value(value, &mean, &sem)) {
            rc = s_why(why, why_size, HONE_EINVAL,
                       "metric \"%s\" must be a finite number or [mean, sem] with sem >= 0 or null", key);
            break;
        }
        out->names[out->n] = strdup(key);
        if (!out->names[out->n]) {
            rc = HONE_ENOMEM;
            break;
        }
        out->means[out->n] = mean;
        out->sems[out->n] = sem;
        out->n++;
    }
    json_decref(root);
    if (rc != HONE_OK)
        hone_json_line_reading_clear(out);
    return rc;
}

/* ---- points ---- */

void hone_json_line_points_clear(hone_json_points_t *points)
{
    if (!points)
        return;
    hone_points_destroy(&points->points);
    for (size_t i = 0; i < points->n; i++) {
        free(points->params[i]);
        free(points->cells[i]);
    }
    free(points->params);
    free(points->cells);
    memset(points, 0, sizeof *points);
}

static char *s_dump(json_t *root);

/* Appends key=value (value as typed on the command line, floats shortest) to a cell. */
static bool s_cell_append(char **cell, size_t *len, const char *key, const json_t *value)
{
    char text[64];
    const char *shown = text;
    if (json_is_integer(value))
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    else if (json_is_real(value))
        snprintf(text, sizeof text, "%.6g", json_real_value(value));
    else if (json_is_string(value))
        shown = json_string_value(value);
    else
        shown = json_is_true(value) ? "true" : "false";
    size_t add = strlen(key) + strlen(shown) + 2;
    char *grown = realloc(*cell, *len + add + 1);
    if (!grown)
        return false;
    snprintf(grown + *len, add + 1, "%s%s=%s", *len ? " " : "", key, shown);
    *len += strlen(grown + *len);
    *cell = grown;
    return true;
}

/* Adds one point (a JSON object) to out; index is its number, for why. */
static int s_add_point(json_t *object, size_t index, hone_json_points_t *out, char *why, size_t why_size)
{
    if (!json_is_object(object)) {
        if (why && why_size)
            snprintf(why, why_size, "point %zu must be a JSON object of parameter values", index);
        return HONE_EINVAL;
    }
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        if (!*key || !(json_is_number(value) || json_is_string(value) || json_is_boolean(value))) {
            if (why && why_size)
                snprintf(why, why_size, "point %zu: \"%s\" must be a parameter name with a number, a string or "
                         "a boolean", index, key);
            return HONE_EINVAL;
        }
    }
    char **params = realloc(out->params, (out->n + 1) * sizeof *params);
    if (params)
        out->params = params;
    char **cells = params ? realloc(out->cells, (out->n + 1) * sizeof *cells) : NULL;
    if (cells)
        out->cells = cells;
    if (!params || !cells || hone_points_add(out->points) != HONE_OK)
        return HONE_ENOMEM;
    int rc = HONE_OK;
    char *cell = NULL;
    size_t cell_len = 0;
    json_object_foreach(object, key, value) {
        if (json_is_integer(value))
            rc = hone_points_set_int(out->points, key, (int64_t) json_integer_value(value));
        else if (json_is_real(value))
            rc = hone_points_set_double(out->points, key, json_real_value(value));
        else if (json_is_string(value))
            rc = hone_points_set_str(out->points, key, json_string_value(value));
        else
            rc = hone_points_set_bool(out->points, key, json_is_true(value));
        if (rc == HONE_OK && !s_cell_append(&cell, &cell_len, key, value))
            rc = HONE_ENOMEM;
        if (rc != HONE_OK)
            break;
    }
    if (rc == HONE_OK && !cell)
        cell = strdup("-");
    char *text = rc == HONE_OK && cell ? s_dump(json_incref(object)) : NULL;
    if (!text) {
        free(cell);
        return rc == HONE_OK ? HONE_ENOMEM : rc;
    }
    out->params[out->n] = text;
    out->cells[out->n] = cell;
    out->n++;
    return HONE_OK;
}

int hone_json_line_parse_points(const char *text, size_t len, hone_json_points_t *out, char *why,
                                size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    if (!out->points && hone_points_new(&out->points) != HONE_OK)
        return HONE_ENOMEM;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (why && why_size)
            snprintf(why, why_size, "not JSON: %s", jerr.text);
        return HONE_EINVAL;
    }
    int rc = HONE_OK;
    if (json_is_array(root)) {
        if (json_array_size(root) == 0) {
            rc = HONE_EINVAL;
            if (why && why_size)
                snprintf(why, why_size, "an empty array holds no point");
        }
        for (size_t i = 0; rc == HONE_OK && i < json_array_size(root); i++)
            rc = s_add_point(json_array_get(root, i), out->n, out, why, why_size);
    } else {
        rc = s_add_point(root, out->n, out, why, why_size);
    }
    json_decref(root);
    return rc;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t s_utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void hone_json_line_clean_utf8(char *text)
{
    unsigned char *s = (unsigned char *) text;
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        size_t len = s_utf8_seq(s + i, n - i);
        if (len == 0) {
            s[i] = '?';
            len = 1;
        }
        i += len;
    }
}

/* ---- rendering ---- */

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

/* Smallest %.*g precision that reads back as the same double. */
static int s_precision_of(double v)
{
    char buf[40];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return p;
    }
    return 17;
}

static int s_precision(const json_t *node)
{
    int p = 1;
    if (json_is_real(node))
        return s_precision_of(json_real_value(node));
    if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            int q = s_precision(json_array_get(node, i));
            p = q > p ? q : p;
        }
    } else if (json_is_object(node)) {
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *) node, key, value) {
            int q = s_precision(value);
            p = q > p ? q : p;
        }
    }
    return p;
}

/* Dumps and releases root; NULL if root is NULL or memory runs out. Without JSON_INDENT
 * jansson writes one line, with ": " and ", " as separators. */
static char *s_dump(json_t *root)
{
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_REAL_PRECISION(s_precision(root)));
    json_decref(root);
    return text;
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
    return s_dump(s_params(trial));
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
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
    return s_dump(obj);
}
