#include "result.h"

#include <math.h>
#include <stdlib.h>

typedef struct {
    char *name;                 /* parameter name */
    int32_t type;               /* HONE_TYPE_* */
    union {
        double f;               /* HONE_TYPE_FLOAT */
        int64_t i;              /* HONE_TYPE_INT */
        char *s;                /* HONE_TYPE_STR, owned */
        bool b;                 /* HONE_TYPE_BOOL */
    } u;
} s_param_t;

typedef struct {
    char *name;                 /* metric name */
    double mean;                /* latest mean */
    double sem;                 /* its standard error, NAN when unknown */
} s_metric_t;

typedef struct {
    char *metric;               /* metric name */
    int64_t *progression;       /* [n] steps, increasing */
    double *mean;               /* [n] means */
    double *sem;                /* [n] SEMs, NAN when unknown */
    size_t n;                   /* points */
} s_curve_t;

struct _hone_trial_t {
    uint64_t index;             /* index in its experiment */
    char *experiment;           /* experiment name, "" when unknown */
    char *status;               /* status name, "" when not sent */
    char *note;                 /* how it was generated, "" when not sent */
    char *reason;               /* why it failed or was abandoned, "" when none */
    s_param_t *params;          /* parameters in the broker's order */
    size_t n_params;            /* number of params */
    s_metric_t *metrics;        /* latest reading per metric */
    size_t n_metrics;           /* number of metrics */
    bool has_progression;       /* whether progression was sent */
    int64_t progression;        /* largest step reported */
    s_curve_t *curves;          /* full learning curves (list with curves) */
    size_t n_curves;            /* number of curves */
};

struct _hone_trial_list_t {
    hone_trial_t **items;       /* owned trials */
    size_t count;               /* number of items */
};

struct _hone_best_t {
    hone_trial_t *trial;        /* index and params of the best trial */
    char *metric;               /* objective metric */
    double value;               /* model prediction or observed mean (see source) */
    double sem;                 /* its sem, NAN when unknown */
    bool minimize;              /* objective direction */
    char source[8];             /* "model", "raw", or "" when the broker did not say */
};

struct _hone_prediction_t {
    char *metric;               /* the objective metric predicted */
    double *mean;               /* [count] posterior means, in the order of the points */
    double *sem;                /* [count] their SEMs */
    size_t count;               /* number of points predicted */
};

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

/* ---- small helpers ---- */

static char *s_strdup(const char *s)
{
    size_t len = strlen(s);
    char *d = malloc(len + 1);
    if (d)
        memcpy(d, s, len + 1);
    return d;
}

static int s_oom(hone_error_t *err)
{
    return hone_error_set(err, HONE_ENOMEM, "out of memory");
}

static const hone_node_t *s_field(const hone_node_t *map, const char *key)
{
    const hone_node_t *node = hone_node_get(map, key);
    return node && hone_node_type(node) != HONE_NODE_NIL ? node : NULL;
}

/* An optional string field, copied; "" when absent (or fallback when given). */
static int s_get_str(const hone_node_t *map, const char *key, const char *fallback, char **out,
                     hone_error_t *err)
{
    const hone_node_t *node = s_field(map, key);
    if (node && hone_node_type(node) != HONE_NODE_STR)
        return hone_error_set(err, HONE_EPROTO, "reply field '%s' must be str", key);
    *out = s_strdup(node ? hone_node_str(node, NULL) : fallback ? fallback : "");
    return *out ? HONE_OK : s_oom(err);
}

static int s_get_uint(const hone_node_t *map, const char *key, bool required, uint64_t *out,
                      hone_error_t *err)
{
    const hone_node_t *node = s_field(map, key);
    if (!node) {
        *out = 0;
        return required ? hone_error_set(err, HONE_EPROTO, "reply field '%s' is missing", key) : HONE_OK;
    }
    if (hone_node_type(node) != HONE_NODE_INT || hone_node_int(node) < 0)
        return hone_error_set(err, HONE_EPROTO, "reply field '%s' must be a non-negative int", key);
    *out = (uint64_t) hone_node_int(node);
    return HONE_OK;
}

static bool s_is_number(const hone_node_t *node)
{
    return node && (hone_node_type(node) == HONE_NODE_INT || hone_node_type(node) == HONE_NODE_FLOAT);
}

/* ---- trials ---- */

static void s_trial_free(hone_trial_t *t)
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
    s_trial_free(*trial_p);
    *trial_p = NULL;
}

static int s_parse_params(hone_trial_t *t, const hone_node_t *map, hone_error_t *err)
{
    if (!map || hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'params' must be a map");
    size_t n = hone_node_len(map);
    t->params = calloc(n ? n : 1, sizeof *t->params);
    if (!t->params)
        return s_oom(err);
    for (size_t i = 0; i < n; i++) {
        const char *key = hone_node_key_at(map, i);
        const hone_node_t *value = hone_node_at(map, i);
        s_param_t *p = &t->params[i];
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
            p->u.s = s_strdup(hone_node_str(value, NULL));
            if (!p->u.s)
                return s_oom(err);
            break;
        default:
            return hone_error_set(err, HONE_EPROTO, "parameter '%s': unsupported value type %s", key,
                                  hone_node_type_name(hone_node_type(value)));
        }
        t->n_params = i + 1;  /* counts only fully built entries, for s_trial_free */
        p->name = s_strdup(key);
        if (!p->name)
            return s_oom(err);
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
        return s_oom(err);
    for (size_t i = 0; i < n; i++) {
        const char *key = hone_node_key_at(map, i);
        const hone_node_t *value = hone_node_at(map, i);
        double mean, sem = NAN;
        if (s_is_number(value)) {
            mean = hone_node_float(value);
        } else if (hone_node_type(value) == HONE_NODE_ARRAY && hone_node_len(value) >= 1
                   && hone_node_len(value) <= 2 && s_is_number(hone_node_at(value, 0))) {
            mean = hone_node_float(hone_node_at(value, 0));
            if (hone_node_len(value) == 2) {
                const hone_node_t *s = hone_node_at(value, 1);
                if (s_is_number(s))
                    sem = hone_node_float(s);
                else if (hone_node_type(s) != HONE_NODE_NIL)
                    return hone_error_set(err, HONE_EPROTO, "metric '%s': the sem must be a number or nil", key);
            }
        } else {
            return hone_error_set(err, HONE_EPROTO, "metric '%s' must be a number or [mean, sem]", key);
        }
        t->metrics[i].name = s_strdup(key);
        if (!t->metrics[i].name)
            return s_oom(err);
        t->metrics[i].mean = mean;
        t->metrics[i].sem = sem;
        t->n_metrics = i + 1;
    }
    return HONE_OK;
}

/* Allocates curve c's arrays for n points (the metric name is set by the caller). */
static bool s_curve_alloc(s_curve_t *c, size_t n)
{
    c->progression = malloc((n ? n : 1) * sizeof *c->progression);
    c->mean = malloc((n ? n : 1) * sizeof *c->mean);
    c->sem = malloc((n ? n : 1) * sizeof *c->sem);
    c->n = n;
    return c->progression && c->mean && c->sem;
}

/* `curves`: {metric: [[progression, mean, sem|nil], ...]} (PROTOCOL.md 4.7.7). */
static int s_parse_curves(hone_trial_t *t, const hone_node_t *map, hone_error_t *err)
{
    if (hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'curves' must be a map");
    size_t n = hone_node_len(map);
    t->curves = calloc(n ? n : 1, sizeof *t->curves);
    if (!t->curves)
        return s_oom(err);
    for (size_t i = 0; i < n; i++) {
        const char *key = hone_node_key_at(map, i);
        const hone_node_t *points = hone_node_at(map, i);
        s_curve_t *c = &t->curves[i];
        t->n_curves = i + 1;
        if (hone_node_type(points) != HONE_NODE_ARRAY)
            return hone_error_set(err, HONE_EPROTO, "curve '%s' must be an array", key);
        if (!(c->metric = s_strdup(key)) || !s_curve_alloc(c, hone_node_len(points)))
            return s_oom(err);
        for (size_t j = 0; j < c->n; j++) {
            const hone_node_t *p = hone_node_at(points, j);
            if (hone_node_type(p) != HONE_NODE_ARRAY || hone_node_len(p) != 3
                || hone_node_type(hone_node_at(p, 0)) != HONE_NODE_INT || !s_is_number(hone_node_at(p, 1))
                || !(s_is_number(hone_node_at(p, 2)) || hone_node_type(hone_node_at(p, 2)) == HONE_NODE_NIL))
                return hone_error_set(err, HONE_EPROTO, "curve '%s': point %zu must be [progression, mean, "
                                      "sem|nil]", key, j);
            c->progression[j] = hone_node_int(hone_node_at(p, 0));
            c->mean[j] = hone_node_float(hone_node_at(p, 1));
            c->sem[j] = s_is_number(hone_node_at(p, 2)) ? hone_node_float(hone_node_at(p, 2)) : NAN;
        }
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
        return s_oom(err);
    int rc = s_get_uint(map, "trial", true, &t->index, err);
    if (rc == HONE_OK)
        rc = s_get_str(map, "experiment", experiment, &t->experiment, err);
    if (rc == HONE_OK)
        rc = s_get_str(map, "status", NULL, &t->status, err);
    if (rc == HONE_OK)
        rc = s_get_str(map, "note", NULL, &t->note, err);
    if (rc == HONE_OK)
        rc = s_get_str(map, "reason", NULL, &t->reason, err);
    if (rc == HONE_OK)
        rc = s_parse_params(t, s_field(map, "params"), err);
    const hone_node_t *metrics = s_field(map, "metrics");
    if (rc == HONE_OK && metrics)
        rc = s_parse_metrics(t, metrics, err);
    const hone_node_t *progression = s_field(map, "progression");
    if (rc == HONE_OK && progression) {
        if (hone_node_type(progression) != HONE_NODE_INT)
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'progression' must be an int");
        else {
            t->has_progression = true;
            t->progression = hone_node_int(progression);
        }
    }
    const hone_node_t *curves = s_field(map, "curves");
    if (rc == HONE_OK && curves)
        rc = s_parse_curves(t, curves, err);
    if (rc != HONE_OK) {
        s_trial_free(t);
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
    t->experiment = s_strdup(trial->experiment);
    t->status = s_strdup(trial->status);
    t->note = s_strdup(trial->note);
    t->reason = s_strdup(trial->reason);
    t->params = calloc(trial->n_params ? trial->n_params : 1, sizeof *t->params);
    t->metrics = calloc(trial->n_metrics ? trial->n_metrics : 1, sizeof *t->metrics);
    bool ok = t->experiment && t->status && t->note && t->reason && t->params && t->metrics;
    for (size_t i = 0; ok && i < trial->n_params; i++) {
        t->params[i] = trial->params[i];
        t->params[i].name = NULL;
        if (trial->params[i].type == HONE_TYPE_STR)
            t->params[i].u.s = s_strdup(trial->params[i].u.s);
        t->n_params = i + 1;
        t->params[i].name = s_strdup(trial->params[i].name);
        ok = t->params[i].name && (trial->params[i].type != HONE_TYPE_STR || t->params[i].u.s);
    }
    for (size_t i = 0; ok && i < trial->n_metrics; i++) {
        t->metrics[i] = trial->metrics[i];
        t->metrics[i].name = s_strdup(trial->metrics[i].name);
        t->n_metrics = i + 1;
        ok = t->metrics[i].name != NULL;
    }
    if (ok && trial->n_curves > 0) {
        t->curves = calloc(trial->n_curves, sizeof *t->curves);
        ok = t->curves != NULL;
    }
    for (size_t i = 0; ok && i < trial->n_curves; i++) {
        const s_curve_t *from = &trial->curves[i];
        s_curve_t *c = &t->curves[i];
        t->n_curves = i + 1;
        ok = (c->metric = s_strdup(from->metric)) && s_curve_alloc(c, from->n);
        if (ok && from->n > 0) {
            memcpy(c->progression, from->progression, from->n * sizeof *c->progression);
            memcpy(c->mean, from->mean, from->n * sizeof *c->mean);
            memcpy(c->sem, from->sem, from->n * sizeof *c->sem);
        }
    }
    if (!ok) {
        s_trial_free(t);
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

static const s_param_t *s_param(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_params ? &trial->params[i] : NULL;
}

const char *hone_trial_param_name(const hone_trial_t *trial, size_t i)
{
    const s_param_t *p = s_param(trial, i);
    return p ? p->name : NULL;
}

int32_t hone_trial_param_type(const hone_trial_t *trial, size_t i)
{
    const s_param_t *p = s_param(trial, i);
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
    const s_param_t *p = s_param(trial, i);
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
    const s_param_t *p = s_param(trial, i);
    if (!p || !out || p->type != HONE_TYPE_INT)
        return HONE_EINVAL;
    *out = p->u.i;
    return HONE_OK;
}

int hone_trial_param_str(const hone_trial_t *trial, size_t i, const char **out)
{
    const s_param_t *p = s_param(trial, i);
    if (!p || !out || p->type != HONE_TYPE_STR)
        return HONE_EINVAL;
    *out = p->u.s;
    return HONE_OK;
}

int hone_trial_param_bool(const hone_trial_t *trial, size_t i, bool *out)
{
    const s_param_t *p = s_param(trial, i);
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

size_t hone_trial_curve_count(const hone_trial_t *trial)
{
    return trial ? trial->n_curves : 0;
}

const char *hone_trial_curve_metric(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_curves ? trial->curves[i].metric : NULL;
}

size_t hone_trial_curve_length(const hone_trial_t *trial, size_t i)
{
    return trial && i < trial->n_curves ? trial->curves[i].n : 0;
}

int hone_trial_curve_point(const hone_trial_t *trial, size_t i, size_t j, int64_t *progression, double *mean,
                           double *sem)
{
    if (!trial || i >= trial->n_curves || j >= trial->curves[i].n)
        return HONE_EINVAL;
    const s_curve_t *c = &trial->curves[i];
    if (progression)
        *progression = c->progression[j];
    if (mean)
        *mean = c->mean[j];
    if (sem)
        *sem = c->sem[j];
    return HONE_OK;
}

/* ---- trial lists ---- */

void hone_trial_list_destroy(hone_trial_list_t **list_p)
{
    if (!list_p || !*list_p)
        return;
    hone_trial_list_t *list = *list_p;
    for (size_t i = 0; i < list->count; i++)
        s_trial_free(list->items[i]);
    free(list->items);
    free(list);
    *list_p = NULL;
}

int hone_result_list_parse(const hone_node_t *array, const char *experiment, hone_trial_list_t **out,
                           hone_error_t *err)
{
    *out = NULL;
    if (!array || hone_node_type(array) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "reply field 'trials' must be an array");
    hone_trial_list_t *list = calloc(1, sizeof *list);
    size_t n = hone_node_len(array);
    if (list)
        list->items = calloc(n ? n : 1, sizeof *list->items);
    if (!list || !list->items) {
        free(list);
        return s_oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = hone_result_trial_parse(hone_node_at(array, i), experiment, &list->items[i], err);
        if (rc != HONE_OK) {
            hone_trial_list_destroy(&list);
            return rc;
        }
        list->count = i + 1;
    }
    *out = list;
    return HONE_OK;
}

size_t hone_trial_list_count(const hone_trial_list_t *list)
{
    return list ? list->count : 0;
}

const hone_trial_t *hone_trial_list_at(const hone_trial_list_t *list, size_t i)
{
    return list && i < list->count ? list->items[i] : NULL;
}

/* ---- best ---- */

void hone_best_destroy(hone_best_t **best_p)
{
    if (!best_p || !*best_p)
        return;
    hone_best_t *best = *best_p;
    s_trial_free(best->trial);
    free(best->metric);
    free(best);
    *best_p = NULL;
}

int hone_result_best_parse(const hone_node_t *body, const char *experiment, hone_best_t **out,
                           hone_error_t *err)
{
    *out = NULL;
    hone_best_t *best = calloc(1, sizeof *best);
    if (!best)
        return s_oom(err);
    best->sem = NAN;
    int rc = hone_result_trial_parse(body, experiment, &best->trial, err);
    if (rc == HONE_OK)
        rc = s_get_str(body, "metric", NULL, &best->metric, err);
    if (rc == HONE_OK) {
        const hone_node_t *value = s_field(body, "value");
        const hone_node_t *sem = s_field(body, "sem");
        const hone_node_t *minimize = s_field(body, "minimize");
        const hone_node_t *source = s_field(body, "source");
        if (!s_is_number(value))
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'value' must be a number");
        else if (sem && !s_is_number(sem))
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'sem' must be a number or nil");
        else if (minimize && hone_node_type(minimize) != HONE_NODE_BOOL)
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'minimize' must be a bool");
        else {
            best->value = hone_node_float(value);
            if (sem)
                best->sem = hone_node_float(sem);
            best->minimize = minimize && hone_node_bool(minimize);
            /* optional (PROTOCOL.md 4.7.5); an unknown value is kept out, not an error */
            size_t len = 0;
            const char *text = source && hone_node_type(source) == HONE_NODE_STR ? hone_node_str(source, &len) : NULL;
            if (text && len < sizeof best->source && (streq(text, "model") || streq(text, "raw")))
                memcpy(best->source, text, len + 1);
        }
    }
    if (rc != HONE_OK) {
        hone_best_destroy(&best);
        return rc;
    }
    *out = best;
    return HONE_OK;
}

uint64_t hone_best_trial_index(const hone_best_t *best)
{
    return best ? best->trial->index : 0;
}

const hone_trial_t *hone_best_trial(const hone_best_t *best)
{
    return best ? best->trial : NULL;
}

const char *hone_best_metric(const hone_best_t *best)
{
    return best ? best->metric : "";
}

double hone_best_value(const hone_best_t *best)
{
    return best ? best->value : NAN;
}

double hone_best_sem(const hone_best_t *best)
{
    return best ? best->sem : NAN;
}

bool hone_best_minimize(const hone_best_t *best)
{
    return best && best->minimize;
}

const char *hone_best_source(const hone_best_t *best)
{
    return best ? best->source : "";
}

/* ---- predictions ---- */

void hone_prediction_destroy(hone_prediction_t **prediction_p)
{
    if (!prediction_p || !*prediction_p)
        return;
    hone_prediction_t *p = *prediction_p;
    free(p->metric);
    free(p->mean);
    free(p->sem);
    free(p);
    *prediction_p = NULL;
}

int hone_result_prediction_parse(const hone_node_t *body, size_t expected, hone_prediction_t **out,
                                 hone_error_t *err)
{
    *out = NULL;
    const hone_node_t *predictions = s_field(body, "predictions");
    if (!predictions || hone_node_type(predictions) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "reply field 'predictions' must be an array");
    size_t n = hone_node_len(predictions);
    if (n != expected)
        return hone_error_set(err, HONE_EPROTO, "the broker sent %zu predictions for %zu points", n, expected);
    hone_prediction_t *p = calloc(1, sizeof *p);
    if (!p)
        return s_oom(err);
    p->mean = calloc(n ? n : 1, sizeof *p->mean);
    p->sem = calloc(n ? n : 1, sizeof *p->sem);
    int rc = p->mean && p->sem ? s_get_str(body, "metric", NULL, &p->metric, err) : s_oom(err);
    for (size_t i = 0; rc == HONE_OK && i < n; i++) {
        const hone_node_t *item = hone_node_at(predictions, i);
        const hone_node_t *mean = hone_node_type(item) == HONE_NODE_MAP ? s_field(item, "mean") : NULL;
        const hone_node_t *sem = hone_node_type(item) == HONE_NODE_MAP ? s_field(item, "sem") : NULL;
        if (!s_is_number(mean) || !s_is_number(sem)) {
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'predictions[%zu]' must be a map with numbers "
                                "mean and sem", i);
            break;
        }
        p->mean[i] = hone_node_float(mean);
        p->sem[i] = hone_node_float(sem);
        p->count = i + 1;
    }
    if (rc != HONE_OK) {
        hone_prediction_destroy(&p);
        return rc;
    }
    *out = p;
    return HONE_OK;
}

size_t hone_prediction_count(const hone_prediction_t *prediction)
{
    return prediction ? prediction->count : 0;
}

const char *hone_prediction_metric(const hone_prediction_t *prediction)
{
    return prediction ? prediction->metric : "";
}

double hone_prediction_mean(const hone_prediction_t *prediction, size_t i)
{
    return prediction && i < prediction->count ? prediction->mean[i] : NAN;
}

double hone_prediction_sem(const hone_prediction_t *prediction, size_t i)
{
    return prediction && i < prediction->count ? prediction->sem[i] : NAN;
}

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
    const hone_node_t *leases = s_field(body, "leases");
    int rc = HONE_OK;
    if (leases && hone_node_type(leases) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'leases' must be a map");
    if (leases) {
        rc = s_get_uint(leases, "heartbeat_ms", false, &s->heartbeat_ms, err);
        if (rc == HONE_OK)
            rc = s_get_uint(leases, "liveness", false, &s->liveness, err);
        if (rc == HONE_OK)
            rc = s_get_uint(leases, "max_retries", false, &s->max_retries, err);
    }
    if (rc == HONE_OK)
        rc = s_get_uint(body, "leases_expired", false, &s->leases_expired, err);
    if (rc == HONE_OK)
        rc = s_get_uint(body, "retries", false, &s->retries, err);
    if (rc == HONE_OK)
        rc = s_get_uint(body, "workers_total", false, &s->workers_total, err);
    const hone_node_t *workers = s_field(body, "workers");
    if (rc != HONE_OK || !workers)
        return rc;
    if (hone_node_type(workers) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "reply field 'workers' must be an array");
    size_t n = hone_node_len(workers);
    s->workers = calloc(n ? n : 1, sizeof *s->workers);
    if (!s->workers)
        return s_oom(err);
    for (size_t i = 0; i < n; i++) {
        const hone_node_t *row = hone_node_at(workers, i);
        if (hone_node_type(row) != HONE_NODE_MAP)
            return hone_error_set(err, HONE_EPROTO, "workers[%zu] must be a map", i);
        s_worker_row_t *w = &s->workers[i];
        uint64_t seen = 0, age = 0;
        rc = s_get_str(row, "worker", NULL, &w->name, err);
        s->n_workers = i + 1;
        if (rc == HONE_OK)
            rc = s_get_uint(row, "last_seen_ms", false, &seen, err);
        if (rc == HONE_OK && s_field(row, "trial")) {
            w->leased = true;
            rc = s_get_uint(row, "trial", true, &w->trial, err);
            if (rc == HONE_OK)
                rc = s_get_uint(row, "lease", false, &w->lease, err);
            if (rc == HONE_OK)
                rc = s_get_uint(row, "lease_age_ms", false, &age, err);
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
        return s_oom(err);
    for (size_t i = 0; i < n; i++) {
        const hone_node_t *v = hone_node_at(counts, i);
        if (hone_node_type(v) != HONE_NODE_INT || hone_node_int(v) < 0)
            return hone_error_set(err, HONE_EPROTO, "counts.%s must be a non-negative int",
                                  hone_node_key_at(counts, i));
        s->entries[i].name = s_strdup(hone_node_key_at(counts, i));
        if (!s->entries[i].name)
            return s_oom(err);
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
        return s_oom(err);
    int rc = s_get_str(body, "experiment", NULL, &s->experiment, err);
    if (rc == HONE_OK)
        rc = s_get_str(body, "objective", NULL, &s->objective, err);
    if (rc == HONE_OK)
        rc = s_get_str(body, "method", NULL, &s->method, err);
    if (rc == HONE_OK)
        rc = s_get_uint(body, "max_trials", false, &s->max_trials, err);
    if (rc == HONE_OK)
        rc = s_get_uint(body, "total", false, &s->total, err);
    if (rc == HONE_OK)
        rc = s_parse_counts(s, s_field(body, "counts"), err);
    if (rc == HONE_OK)
        rc = s_parse_leases(s, body, err);
    const hone_node_t *best = s_field(body, "best");
    if (rc == HONE_OK && best) {
        const hone_node_t *value = hone_node_type(best) == HONE_NODE_MAP ? s_field(best, "value") : NULL;
        if (!s_is_number(value))
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'best' must be a map with trial and value");
        else
            rc = s_get_uint(best, "trial", true, &s->best_trial, err);
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
