/* result_pareto.c: the Pareto frontier of a pareto reply (its objectives, reference
 * point and hypervolume, and per point the trial, the objectives' values and SEMs and
 * the exclusive hypervolume contribution) and its accessors. */
#include "result_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *label;                /* the objective's name: a metric or a weighted sum */
    bool minimize;              /* its direction */
    double ref;                 /* the reference point's coordinate */
} s_objective_t;

typedef struct {
    hone_trial_t *trial;        /* index and params */
    double *values;             /* [n_objectives] the objectives' values */
    double *sems;               /* [n_objectives] their SEMs, NAN when unknown */
    double contribution;        /* exclusive hypervolume contribution */
} s_point_t;

struct _hone_pareto_t {
    s_objective_t *objectives;  /* [n_objectives] */
    size_t n_objectives;        /* objectives */
    s_point_t *points;          /* [n_points] by decreasing contribution */
    size_t n_points;            /* frontier points */
    bool ref_inferred;          /* some reference coordinate was inferred */
    double hypervolume;         /* of the frontier against the reference point */
    char source[8];             /* "model", "raw", or "" for another value */
};

void hone_pareto_destroy(hone_pareto_t **pareto_p)
{
    if (!pareto_p || !*pareto_p)
        return;
    hone_pareto_t *p = *pareto_p;
    for (size_t k = 0; p->objectives && k < p->n_objectives; k++)
        free(p->objectives[k].label);
    for (size_t i = 0; p->points && i < p->n_points; i++) {
        hone_result_trial_free(p->points[i].trial);
        free(p->points[i].values);
        free(p->points[i].sems);
    }
    free(p->objectives);
    free(p->points);
    free(p);
    *pareto_p = NULL;
}

/* The array field key of body holding exactly n elements, or NULL after setting err. */
static const hone_node_t *s_array(const hone_node_t *map, const char *key, size_t n, const char *where,
                                  hone_error_t *err)
{
    const hone_node_t *array = hone_result_field(map, key);
    if (!array || hone_node_type(array) != HONE_NODE_ARRAY || hone_node_len(array) != n) {
        hone_error_set(err, HONE_EPROTO, "reply field '%s%s' must be an array of %zu elements (one per objective)",
                       where, key, n);
        return NULL;
    }
    return array;
}

/* The objectives: `objectives`, `minimize` and `ref`, one element each. */
static int s_parse_objectives(const hone_node_t *body, hone_pareto_t *p, hone_error_t *err)
{
    const hone_node_t *labels = hone_result_field(body, "objectives");
    if (!labels || hone_node_type(labels) != HONE_NODE_ARRAY || hone_node_len(labels) == 0)
        return hone_error_set(err, HONE_EPROTO, "reply field 'objectives' must be a non-empty array");
    size_t m = hone_node_len(labels);
    const hone_node_t *minimize = s_array(body, "minimize", m, "", err);
    const hone_node_t *ref = minimize ? s_array(body, "ref", m, "", err) : NULL;
    if (!ref)
        return HONE_EPROTO;
    p->objectives = calloc(m, sizeof *p->objectives);
    if (!p->objectives)
        return hone_result_oom(err);
    p->n_objectives = m;
    for (size_t k = 0; k < m; k++) {
        const hone_node_t *label = hone_node_at(labels, k), *min = hone_node_at(minimize, k);
        const hone_node_t *r = hone_node_at(ref, k);
        if (hone_node_type(label) != HONE_NODE_STR || hone_node_type(min) != HONE_NODE_BOOL
            || !hone_result_is_number(r))
            return hone_error_set(err, HONE_EPROTO, "reply fields 'objectives[%zu]', 'minimize[%zu]' and "
                                  "'ref[%zu]' must be a string, a bool and a number", k, k, k);
        if (!(p->objectives[k].label = hone_result_strdup(hone_node_str(label, NULL))))
            return hone_result_oom(err);
        p->objectives[k].minimize = hone_node_bool(min);
        p->objectives[k].ref = hone_node_float(r);
    }
    return HONE_OK;
}

/* Point i of `points`: a trial object with `values`, `sems` and `contribution`. */
static int s_parse_point(const hone_node_t *item, size_t i, const char *experiment, size_t m, s_point_t *pt,
                         hone_error_t *err)
{
    char where[48];
    snprintf(where, sizeof where, "points[%zu].", i);
    if (hone_node_type(item) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "reply field 'points[%zu]' must be a map", i);
    int rc = hone_result_trial_parse(item, experiment, &pt->trial, err);
    if (rc != HONE_OK)
        return rc;
    const hone_node_t *values = s_array(item, "values", m, where, err);
    const hone_node_t *sems = values ? s_array(item, "sems", m, where, err) : NULL;
    if (!sems)
        return HONE_EPROTO;
    const hone_node_t *contribution = hone_result_field(item, "contribution");
    if (!hone_result_is_number(contribution))
        return hone_error_set(err, HONE_EPROTO, "reply field 'points[%zu].contribution' must be a number", i);
    pt->contribution = hone_node_float(contribution);
    pt->values = calloc(m, sizeof *pt->values);
    pt->sems = calloc(m, sizeof *pt->sems);
    if (!pt->values || !pt->sems)
        return hone_result_oom(err);
    for (size_t k = 0; k < m; k++) {
        const hone_node_t *v = hone_node_at(values, k), *s = hone_node_at(sems, k);
        bool sem_nil = hone_node_type(s) == HONE_NODE_NIL;
        if (!hone_result_is_number(v) || (!sem_nil && !hone_result_is_number(s)))
            return hone_error_set(err, HONE_EPROTO, "reply field 'points[%zu]': values[%zu] must be a number "
                                  "and sems[%zu] a number or nil", i, k, k);
        pt->values[k] = hone_node_float(v);
        pt->sems[k] = sem_nil ? NAN : hone_node_float(s);
    }
    return HONE_OK;
}

int hone_result_pareto_parse(const hone_node_t *body, const char *experiment, hone_pareto_t **out,
                             hone_error_t *err)
{
    *out = NULL;
    hone_pareto_t *p = calloc(1, sizeof *p);
    if (!p)
        return hone_result_oom(err);
    int rc = s_parse_objectives(body, p, err);
    const hone_node_t *points = hone_result_field(body, "points");
    const hone_node_t *inferred = hone_result_field(body, "ref_inferred");
    const hone_node_t *hypervolume = hone_result_field(body, "hypervolume");
    if (rc == HONE_OK && (!points || hone_node_type(points) != HONE_NODE_ARRAY))
        rc = hone_error_set(err, HONE_EPROTO, "reply field 'points' must be an array");
    else if (rc == HONE_OK && (!inferred || hone_node_type(inferred) != HONE_NODE_BOOL))
        rc = hone_error_set(err, HONE_EPROTO, "reply field 'ref_inferred' must be a bool");
    else if (rc == HONE_OK && !hone_result_is_number(hypervolume))
        rc = hone_error_set(err, HONE_EPROTO, "reply field 'hypervolume' must be a number");
    if (rc == HONE_OK) {
        p->ref_inferred = hone_node_bool(inferred);
        p->hypervolume = hone_node_float(hypervolume);
        const hone_node_t *source = hone_result_field(body, "source");
        size_t len = 0;
        const char *text = source && hone_node_type(source) == HONE_NODE_STR ? hone_node_str(source, &len) : NULL;
        if (text && len < sizeof p->source && (streq(text, "model") || streq(text, "raw")))
            memcpy(p->source, text, len + 1);
        size_t n = hone_node_len(points);
        p->points = calloc(n ? n : 1, sizeof *p->points);
        if (!p->points)
            rc = hone_result_oom(err);
        for (size_t i = 0; rc == HONE_OK && i < n; i++) {
            p->n_points = i + 1;   /* counted before parsing: a half-parsed point is freed too */
            rc = s_parse_point(hone_node_at(points, i), i, experiment, p->n_objectives, &p->points[i], err);
        }
    }
    if (rc != HONE_OK) {
        hone_pareto_destroy(&p);
        return rc;
    }
    *out = p;
    return HONE_OK;
}

size_t hone_pareto_count(const hone_pareto_t *pareto)
{
    return pareto ? pareto->n_points : 0;
}

size_t hone_pareto_objective_count(const hone_pareto_t *pareto)
{
    return pareto ? pareto->n_objectives : 0;
}

const char *hone_pareto_objective(const hone_pareto_t *pareto, size_t k)
{
    return pareto && k < pareto->n_objectives ? pareto->objectives[k].label : NULL;
}

bool hone_pareto_minimize(const hone_pareto_t *pareto, size_t k)
{
    return pareto && k < pareto->n_objectives && pareto->objectives[k].minimize;
}

double hone_pareto_ref(const hone_pareto_t *pareto, size_t k)
{
    return pareto && k < pareto->n_objectives ? pareto->objectives[k].ref : NAN;
}

bool hone_pareto_ref_inferred(const hone_pareto_t *pareto)
{
    return pareto && pareto->ref_inferred;
}

double hone_pareto_hypervolume(const hone_pareto_t *pareto)
{
    return pareto ? pareto->hypervolume : NAN;
}

const char *hone_pareto_source(const hone_pareto_t *pareto)
{
    return pareto ? pareto->source : "";
}

uint64_t hone_pareto_trial_index(const hone_pareto_t *pareto, size_t i)
{
    return pareto && i < pareto->n_points ? pareto->points[i].trial->index : 0;
}

const hone_trial_t *hone_pareto_trial(const hone_pareto_t *pareto, size_t i)
{
    return pareto && i < pareto->n_points ? pareto->points[i].trial : NULL;
}

double hone_pareto_value(const hone_pareto_t *pareto, size_t i, size_t k)
{
    return pareto && i < pareto->n_points && k < pareto->n_objectives ? pareto->points[i].values[k] : NAN;
}

double hone_pareto_sem(const hone_pareto_t *pareto, size_t i, size_t k)
{
    return pareto && i < pareto->n_points && k < pareto->n_objectives ? pareto->points[i].sems[k] : NAN;
}

double hone_pareto_contribution(const hone_pareto_t *pareto, size_t i)
{
    return pareto && i < pareto->n_points ? pareto->points[i].contribution : NAN;
}
