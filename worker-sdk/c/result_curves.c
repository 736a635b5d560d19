/* result_curves.c: a trial's learning curves (PROTOCOL.md 4.7.7), parsed from the
 * `curves` map of a list reply, and their accessors. */
#include "result_internal.h"

#include <math.h>
#include <stdlib.h>

/* Allocates curve c's arrays for n points (the metric name is set by the caller). */
bool hone_result_curve_alloc(hone_result_curve_t *c, size_t n)
{
    c->progression = malloc((n ? n : 1) * sizeof *c->progression);
    c->mean = malloc((n ? n : 1) * sizeof *c->mean);
    c->sem = malloc((n ? n : 1) * sizeof *c->sem);
    c->n = n;
    return c->progression && c->mean && c->sem;
}

/* `curves`: {metric: [[progression, mean, sem|nil], ...]} (PROTOCOL.md 4.7.7). */
int hone_result_curves_parse(hone_trial_t *t, const hone_node_t *map, hone_error_t *err)
{
    if (hone_node_type(map) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'curves' must be a map");
    size_t n = hone_node_len(map);
    t->curves = calloc(n ? n : 1, sizeof *t->curves);
    if (!t->curves)
        return hone_result_oom(err);
    for (size_t i = 0; i < n; i++) {
        const char *key = hone_node_key_at(map, i);
        const hone_node_t *points = hone_node_at(map, i);
        hone_result_curve_t *c = &t->curves[i];
        t->n_curves = i + 1;
        if (hone_node_type(points) != HONE_NODE_ARRAY)
            return hone_error_set(err, HONE_EPROTO, "curve '%s' must be an array", key);
        if (!(c->metric = hone_result_strdup(key)) || !hone_result_curve_alloc(c, hone_node_len(points)))
            return hone_result_oom(err);
        for (size_t j = 0; j < c->n; j++) {
            const hone_node_t *p = hone_node_at(points, j);
            if (hone_node_type(p) != HONE_NODE_ARRAY || hone_node_len(p) != 3
                || hone_node_type(hone_node_at(p, 0)) != HONE_NODE_INT || !hone_result_is_number(hone_node_at(p, 1))
                || !(hone_result_is_number(hone_node_at(p, 2)) || hone_node_type(hone_node_at(p, 2)) == HONE_NODE_NIL))
                return hone_error_set(err, HONE_EPROTO, "curve '%s': point %zu must be [progression, mean, "
                                      "sem|nil]", key, j);
            c->progression[j] = hone_node_int(hone_node_at(p, 0));
            c->mean[j] = hone_node_float(hone_node_at(p, 1));
            c->sem[j] = hone_result_is_number(hone_node_at(p, 2)) ? hone_node_float(hone_node_at(p, 2)) : NAN;
        }
    }
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
    const hone_result_curve_t *c = &trial->curves[i];
    if (progression)
        *progression = c->progression[j];
    if (mean)
        *mean = c->mean[j];
    if (sem)
        *sem = c->sem[j];
    return HONE_OK;
}
