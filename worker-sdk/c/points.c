/* points.c: parameterizations to predict at, built one point at a time. */
#include "points.h"

#include <math.h>
#include <stdlib.h>

struct _hone_points_t {
    hone_node_t *root;          /* standalone map owning the tree: {"points": [...]} */
    hone_node_t *array;         /* root's "points" ARRAY */
    hone_node_t *newest;        /* the MAP the setters fill; NULL before the first add */
    size_t count;               /* points added */
};

int hone_points_new(hone_points_t **out)
{
    if (!out)
        return HONE_EINVAL;
    *out = NULL;
    hone_points_t *self = calloc(1, sizeof *self);
    if (!self)
        return HONE_ENOMEM;
    self->root = hone_node_new_map();
    self->array = hone_node_add_array(self->root, "points");
    if (!self->array) {
        hone_points_destroy(&self);
        return HONE_ENOMEM;
    }
    *out = self;
    return HONE_OK;
}

void hone_points_destroy(hone_points_t **points_p)
{
    if (!points_p || !*points_p)
        return;
    if ((*points_p)->root)
        hone_node_destroy(&(*points_p)->root);
    free(*points_p);
    *points_p = NULL;
}

int hone_points_add(hone_points_t *points)
{
    if (!points)
        return HONE_EINVAL;
    hone_node_t *point = hone_node_add_map(points->array, NULL);
    if (!point)
        return HONE_ENOMEM;
    points->newest = point;
    points->count++;
    return HONE_OK;
}

size_t hone_points_count(const hone_points_t *points)
{
    return points ? points->count : 0;
}

/* The newest point when a value may be set in it, else NULL. */
static hone_node_t *s_target(hone_points_t *points, const char *name)
{
    return points && points->newest && name && *name ? points->newest : NULL;
}

int hone_points_set_double(hone_points_t *points, const char *name, double value)
{
    hone_node_t *point = s_target(points, name);
    if (!point || !isfinite(value))
        return HONE_EINVAL;
    return hone_node_add_float(point, name, value) ? HONE_OK : HONE_ENOMEM;
}

int hone_points_set_int(hone_points_t *points, const char *name, int64_t value)
{
    hone_node_t *point = s_target(points, name);
    if (!point)
        return HONE_EINVAL;
    return hone_node_add_int(point, name, value) ? HONE_OK : HONE_ENOMEM;
}

int hone_points_set_str(hone_points_t *points, const char *name, const char *value)
{
    hone_node_t *point = s_target(points, name);
    if (!point || !value)
        return HONE_EINVAL;
    return hone_node_add_str(point, name, value) ? HONE_OK : HONE_ENOMEM;
}

int hone_points_set_bool(hone_points_t *points, const char *name, bool value)
{
    hone_node_t *point = s_target(points, name);
    if (!point)
        return HONE_EINVAL;
    return hone_node_add_bool(point, name, value) ? HONE_OK : HONE_ENOMEM;
}

int hone_points_add_trial(hone_points_t *points, const hone_trial_t *trial)
{
    if (!points || !trial)
        return HONE_EINVAL;
    int rc = hone_points_add(points);
    for (size_t i = 0; rc == HONE_OK && i < hone_trial_param_count(trial); i++) {
        const char *name = hone_trial_param_name(trial, i);
        double f;
        int64_t n;
        const char *s;
        bool b;
        switch (hone_trial_param_type(trial, i)) {
        case HONE_TYPE_FLOAT:
            hone_trial_param_double(trial, i, &f);
            rc = hone_points_set_double(points, name, f);
            break;
        case HONE_TYPE_INT:
            hone_trial_param_int(trial, i, &n);
            rc = hone_points_set_int(points, name, n);
            break;
        case HONE_TYPE_STR:
            hone_trial_param_str(trial, i, &s);
            rc = hone_points_set_str(points, name, s);
            break;
        case HONE_TYPE_BOOL:
            hone_trial_param_bool(trial, i, &b);
            rc = hone_points_set_bool(points, name, b);
            break;
        default:
            rc = HONE_EINVAL;
        }
    }
    return rc;
}

const hone_node_t *hone_points_array(const hone_points_t *points)
{
    return points->array;
}
