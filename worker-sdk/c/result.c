/* result.c: the reply parsers' shared helpers (field readers over a reply map) and the
 * trial object: parsing, copying, destroying and its accessors. Its learning curves are
 * in result_curves.c; lists, best, prediction and status have files of their own. */
#include "result_internal.h"

#include <math.h>
#include <stdlib.h>

/* ---- small helpers ---- */

char *hone_result_strdup(const char *s)
{
    size_t len = strlen(s);
    char *d = malloc(len + 1);
    if (d)
        memcpy(d, s, len + 1);
    return d;
}

int hone_result_oom(hone_error_t *err)
{
    return hone_error_set(err, HONE_ENOMEM, "out of memory");
}

const hone_node_t *hone_result_field(const hone_node_t *map, const char *key)
{
    const hone_node_t *node = hone_node_get(map, key);
    return node && hone_node_type(node) != HONE_NODE_NIL ? node : NULL;
}

/* An optional string field, copied; "" when absent (or fallback when given). */
int hone_result_get_str(const hone_node_t *map, const char *key, const char *fallback, char **out,
                        hone_error_t *err)
{
    const hone_node_t *node = hone_result_field(map, key);
    if (node && hone_node_type(node) != HONE_NODE_STR)
        return hone_error_set(err, HONE_EPROTO, "reply field '%s' must be str", key);
    *out = hone_result_strdup(node ? hone_node_str(node, NULL) : fallback ? fallback : "");
    return *out ? HONE_OK : hone_result_oom(err);
}

int hone_result_get_uint(const hone_node_t *map, const char *key, bool required, uint64_t *out,
                         hone_error_t *err)
{
    const hone_node_t *node = hone_result_field(map, key);
    if (!node) {
        *out = 0;
        return required ? hone_error_set(err, HONE_EPROTO, "reply field '%s' is missing", key) : HONE_OK;
    }
    if (hone_node_type(node) != HONE_NODE_INT || hone_node_int(node) < 0)
        return hone_error_set(err, HONE_EPROTO, "reply field '%s' must be a non-negative int", key);
    *out = (uint64_t) hone_node_int(node);
    return HONE_OK;
}

bool hone_result_is_number(const hone_node_t *node)
{
    return node && (hone_node_type(node) == HONE_NODE_INT || hone_node_type(node) == HONE_NODE_FLOAT);
}

/* ---- trials ---- */

void hone_result_trial_free(hone_trial_t *t)
{
    if (!t)
        return;
    free(t->experiment);
    free(t->status);
    free(t->note);
    free(t->reason);
    for (size_t i = 0; i < t->n_params; i++) {
        free(t->params[i].name);
        if (t->params[i].type == HONE_TYPE_STR)
            free(t->params[i].u.s);
    }
    free(t->params);
    for (size_t i = 0; i < t->n_metrics; i++)
        free(t->metrics[i].name);
    free(t->metrics);
    for (size_t i = 0; i < t->n_curves; i++) {
        free(t->curves[i].metric);
        free(t->curves[i].progression);
        free(t->curves[i].mean);
        free(t->curves[i].sem);
    }
    free(t->curves);
    free(t);
}

void hone_trial_destroy(hone_trial_t **trial_p)
{
    if (!trial_p || !*trial_p)
        return;
    hone_result_trial_free(*trial_p);
    *trial_p = NULL;
}

static int s_parse_params(hone_trial_t *t, const hone_node_t *map, hone_error_t *err)
{
    if (!map || hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'params' must be a map");
    size_t n = hone_node_len(map);
    t->params = calloc(n ? n : 1, sizeof *t->params);
    if (!t->params)
        return hone_result_oom(err);
    for (size_t i = 0; i < n; i++) {
        const char *key = hone_node_key_at(map, i);
        const hone_node_t *value = hone_node_at(map, i);
        hone_result_param_t *p = &t->params[i];
        switch (hone_node_type(value)) {
        case HONE_NODE_FLOAT:
            p->type = HONE_TYPE_FLOAT;
            p->u.f = hone_node_float(value);
            break;
        case HONE_NODE_INT:
            p->type = HONE_TYPE_INT;
            p->u.i = hone_node_int(value);
            break;
        case HONE_NODE_BOOL:
            p->type = HONE_TYPE_BOOL;
            p->u.b = hone_node_bool(value);
            break;
        case HONE_NODE_STR:
            p->type = HONE_TYPE_STR;
            p->u.s = hone_result_strdup(hone_node_str(value, NULL));
            if (!p->u.s)
                return hone_result_oom(err);
            break;
        default:
            return hone_error_set(err, HONE_EPROTO, "parameter '%s': unsupported value type %s", key,
                                  hone_node_type_name(hone_node_type(value)));
        }
        t->n_params = i + 1;  /* counts only fully built entries, for hone_result_trial_free */
        p->name = hone_result_strdup(key);
        if (!p->name)
            return hone_result_oom(err);
    }
    return HONE_OK;
}

static int s_parse_metrics(hone_trial_t *t, const hone_node_t *map, hone_error_t *err)
{
    if (hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'metrics' must be a map");
    size_t n = hone_node_len(map);
    t->metrics = calloc(n ? n : 1, sizeof *t->metrics);
    if (!t->metrics)
        return hone_result_oom(err);
    for (size_t i = 0; i < n; i++) {
        const char *key = hone_node_key_at(map, i);
        const hone_node_t *value = hone_node_at(map, i);
        double mean, sem = NAN;
        if (hone_result_is_number(value)) {
            mean = hone_node_float(value);
        } else if (hone_node_type(value) == HONE_NODE_ARRAY && hone_node_len(value) >= 1
                   && hone_node_len(value) <= 2 && hone_result_is_number(hone_node_at(value, 0))) {
            mean = hone_node_float(hone_node_at(value, 0));
            if (hone_node_len(value) == 2) {
                const hone_node_t *s = hone_node_at(value, 1);
                if (hone_result_is_number(s))
                    sem = hone_node_float(s);
                else if (hone_node_type(s) != HONE_NODE_NIL)
                    return hone_error_set(err, HONE_EPROTO, "metric '%s': the sem must be a number or nil", key);
            }
        } else {
            return hone_error_set(err, HONE_EPROTO, "metric '%s' must be a number or [mean, sem]", key);
        }
        t->metrics[i].name = hone_result_strdup(key);
        if (!t->metrics[i].name)
            return hone_result_oom(err);
        t->metrics[i].mean = mean;
        t->metrics[i].sem = sem;
        t->n_metrics = i + 1;
    }
    return HONE_OK;
}

int hone_result_trial_parse(const hone_node_t *map, const char *experiment, hone_trial_t **out,
                            hone_error_t *err)
{
    *out = NULL;
    if (!map || hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "a trial must be a map");
    hone_trial_t *t = calloc(1, sizeof *t);
    if (!t)
        return hone_result_oom(err);
    int rc = hone_result_get_uint(map, "trial", true, &t->index, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(map, "experiment", experiment, &t->experiment, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(map, "status", NULL, &t->status, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(map, "note", NULL, &t->note, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(map, "reason", NULL, &t->reason, err);
    if (rc == HONE_OK)
        rc = s_parse_params(t, hone_result_field(map, "params"), err);
    const hone_node_t *metrics = hone_result_field(map, "metrics");
    if (rc == HONE_OK && metrics)
        rc = s_parse_metrics(t, metrics, err);
    const hone_node_t *progression = hone_result_field(map, "progression");
    if (rc == HONE_OK && progression) {
        if (hone_node_type(progression) != HONE_NODE_INT)
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'progression' must be an int");
        else {
            t->has_progression = true;
            t->progression = hone_node_int(progression);
        }
    }
    const hone_node_t *curves = hone_result_field(map, "curves");
    if (rc == HONE_OK && curves)
        rc = hone_result_curves_parse(t, curves, err);
    if (rc != HONE_OK) {
        hone_result_trial_free(t);
        return rc;
    }
    *out = t;
    return HONE_OK;
}

int hone_trial_dup(const hone_trial_t *trial, hone_trial_t **out)
{
    if (!out)
        return HONE_EINVAL;
    *out = NULL;
    if (!trial)
        return HONE_EINVAL;
    hone_trial_t *t = calloc(1, sizeof *t);
    if (!t)
        return HONE_ENOMEM;
    t->index = trial->index;
    t->has_progression = trial->has_progression;
    t->progression = trial->progression;
    t->experiment = hone_result_strdup(trial->experiment);
    t->status = hone_result_strdup(trial->status);
    t->note = hone_result_strdup(trial->note);
    t->reason = hone_result_strdup(trial->reason);
    t->params = calloc(trial->n_params ? trial->n_params : 1, sizeof *t->params);
    t->metrics = calloc(trial->n_metrics ? trial->n_metrics : 1, sizeof *t->metrics);
    bool ok = t->experiment && t->status && t->note && t->reason && t->params && t->metrics;
    for (size_t i = 0; ok && i < trial->n_params; i++) {
        t->params[i] = trial->params[i];
        t->params[i].name = NULL;
        if (trial->params[i].type == HONE_TYPE_STR)
            t->params[i].u.s = hone_result_strdup(trial->params[i].u.s);
        t->n_params = i + 1;
        t->params[i].name = hone_result_strdup(trial->params[i].name);
        ok = t->params[i].name && (trial->params[i].type != HONE_TYPE_STR || t->params[i].u.s);
    }
    for (size_t i = 0; ok && i < trial->n_metrics; i++) {
        t->metrics[i] = trial->metrics[i];
        t->metrics[i].name = hone_result_strdup(trial->metrics[i].name);
        t->n_metrics = i + 1;
        ok = t->metrics[i].name != NULL;
    }
    if (ok && trial->n_curves > 0) {
        t->curves = calloc(trial->n_curves, sizeof *t->curves);
        ok = t->curves != NULL;
    }
    for (size_t i = 0; ok && i < trial->n_curves; i++) {
        const hone_result_curve_t *from = &trial->curves[i];
        hone_result_curve_t *c = &t->curves[i];
        t->n_curves = i + 1;
        ok = (c->metric = hone_result_strdup(from->metric)) && hone_result_curve_alloc(c, from->n);
        if (ok && from->n > 0) {
            memcpy(c->progression, from->progression, from->n * sizeof *c->progression);
            memcpy(c->mean, from->mean, from->n * sizeof *c->mean);
            memcpy(c->sem, from->sem, from->n * sizeof *c->sem);
        }
    }
    if (!ok) {
        hone_result_trial_free(t);
        return HONE_ENOMEM;
    }
    *out = t;
    return HONE_OK;
}

uint64_t hone_trial_index(const hone_trial_t *trial)
{
    return trial ? trial->index : 0;
}

const char *hone_trial_experiment(const hone_trial_t *trial)
{
    return trial ? trial->experiment : "";
}

size_t hone_trial_param_count(const hone_trial_t *trial)
{
    return trial ? trial->n_params : 0;
}

static const hone_result_param_t *s_param(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_params ? &trial->params[i] : NULL;
}

const char *hone_trial_param_name(const hone_trial_t *trial, size_t i)
{
    const hone_result_param_t *p = s_param(trial, i);
    return p ? p->name : NULL;
}

int32_t hone_trial_param_type(const hone_trial_t *trial, size_t i)
{
    const hone_result_param_t *p = s_param(trial, i);
    return p ? p->type : HONE_EINVAL;
}

int hone_trial_param_find(const hone_trial_t *trial, const char *name, size_t *i_out)
{
    if (!trial || !name || !i_out)
        return HONE_EINVAL;
    for (size_t i = 0; i < trial->n_params; i++)
        if (streq(trial->params[i].name, name)) {
            *i_out = i;
            return HONE_OK;
        }
    return HONE_ENOTFOUND;
}

int hone_trial_param_double(const hone_trial_t *trial, size_t i, double *out)
{
    const hone_result_param_t *p = s_param(trial, i);
    if (!p || !out)
        return HONE_EINVAL;
    if (p->type == HONE_TYPE_FLOAT)
        *out = p->u.f;
    else if (p->type == HONE_TYPE_INT)
        *out = (double) p->u.i;
    else
        return HONE_EINVAL;
    return HONE_OK;
}

int hone_trial_param_int(const hone_trial_t *trial, size_t i, int64_t *out)
{
    const hone_result_param_t *p = s_param(trial, i);
    if (!p || !out || p->type != HONE_TYPE_INT)
        return HONE_EINVAL;
    *out = p->u.i;
    return HONE_OK;
}

int hone_trial_param_str(const hone_trial_t *trial, size_t i, const char **out)
{
    const hone_result_param_t *p = s_param(trial, i);
    if (!p || !out || p->type != HONE_TYPE_STR)
        return HONE_EINVAL;
    *out = p->u.s;
    return HONE_OK;
}

int hone_trial_param_bool(const hone_trial_t *trial, size_t i, bool *out)
{
    const hone_result_param_t *p = s_param(trial, i);
    if (!p || !out || p->type != HONE_TYPE_BOOL)
        return HONE_EINVAL;
    *out = p->u.b;
    return HONE_OK;
}

const char *hone_trial_note(const hone_trial_t *trial)
{
    return trial ? trial->note : "";
}

const char *hone_trial_status(const hone_trial_t *trial)
{
    return trial ? trial->status : "";
}

const char *hone_trial_reason(const hone_trial_t *trial)
{
    return trial ? trial->reason : "";
}

size_t hone_trial_metric_count(const hone_trial_t *trial)
{
    return trial ? trial->n_metrics : 0;
}

const char *hone_trial_metric_name(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_metrics ? trial->metrics[i].name : NULL;
}

double hone_trial_metric_mean(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_metrics ? trial->metrics[i].mean : NAN;
}

double hone_trial_metric_sem(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_metrics ? trial->metrics[i].sem : NAN;
}

int hone_trial_progression(const hone_trial_t *trial, int64_t *out)
{
    if (!trial || !out)
        return HONE_EINVAL;
    if (!trial->has_progression)
        return HONE_ENOTFOUND;
    *out = trial->progression;
    return HONE_OK;
}
