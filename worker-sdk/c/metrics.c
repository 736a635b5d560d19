#include "metrics.h"

#include <math.h>

int hone_metrics_check(size_t n, const char *const names[], const double means[], const double sems[],
                       bool allow_empty, hone_error_t *err)
{
    if (n == 0)
        return allow_empty ? HONE_OK : hone_error_set(err, HONE_EINVAL, "at least one reading is required");
    if (n > HONE_METRICS_MAX)
        return hone_error_set(err, HONE_EINVAL, "too many readings: %zu (at most %d)", n, HONE_METRICS_MAX);
    if (!names || !means)
        return hone_error_set(err, HONE_EINVAL, "metric_names and means must not be NULL when n > 0");
    for (size_t i = 0; i < n; i++) {
        if (!names[i] || !*names[i])
            return hone_error_set(err, HONE_EINVAL, "metric_names[%zu] is empty", i);
        if (!isfinite(means[i]))
            return hone_error_set(err, HONE_EINVAL, "metric '%s': the mean must be finite", names[i]);
        if (sems && !isnan(sems[i]) && (!isfinite(sems[i]) || sems[i] < 0))
            return hone_error_set(err, HONE_EINVAL,
                                  "metric '%s': the sem must be finite and >= 0, or NAN for unknown", names[i]);
        for (size_t j = 0; j < i; j++)
            if (streq(names[i], names[j]))
                return hone_error_set(err, HONE_EINVAL, "metric '%s' appears twice", names[i]);
    }
    return HONE_OK;
}

int hone_metrics_put(hone_msg_t *msg, size_t n, const char *const names[], const double means[],
                     const double sems[], hone_error_t *err)
{
    if (n == 0)
        return HONE_OK;
    hone_node_t *map = hone_node_add_map(hone_msg_body(msg), "metrics");
    if (!map)
        return hone_error_set(err, HONE_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        bool ok;
        if (sems && !isnan(sems[i])) {
            hone_node_t *pair = hone_node_add_array(map, names[i]);
            ok = pair && hone_node_add_float(pair, NULL, means[i]) && hone_node_add_float(pair, NULL, sems[i]);
        } else {
            ok = hone_node_add_float(map, names[i], means[i]) != NULL;
        }
        if (!ok)
            return hone_error_set(err, HONE_ENOMEM, "out of memory");
    }
    return HONE_OK;
}
