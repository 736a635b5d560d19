/* result_prediction.c: the model's predictions of a predict reply (one mean and SEM per
 * point sent) and their accessors. */
#include "result_internal.h"

#include <math.h>
#include <stdlib.h>

struct _hone_prediction_t {
    char *metric;               /* the objective metric predicted */
    double *mean;               /* [count] posterior means, in the order of the points */
    double *sem;                /* [count] their SEMs */
    size_t count;               /* number of points predicted */
};

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
    const hone_node_t *predictions = hone_result_field(body, "predictions");
    if (!predictions || hone_node_type(predictions) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "reply field 'predictions' must be an array");
    size_t n = hone_node_len(predictions);
    if (n != expected)
        return hone_error_set(err, HONE_EPROTO, "the broker sent %zu predictions for %zu points", n, expected);
    hone_prediction_t *p = calloc(1, sizeof *p);
    if (!p)
        return hone_result_oom(err);
    p->mean = calloc(n ? n : 1, sizeof *p->mean);
    p->sem = calloc(n ? n : 1, sizeof *p->sem);
    int rc = p->mean && p->sem ? hone_result_get_str(body, "metric", NULL, &p->metric, err) : hone_result_oom(err);
    for (size_t i = 0; rc == HONE_OK && i < n; i++) {
        const hone_node_t *item = hone_node_at(predictions, i);
        const hone_node_t *mean = hone_node_type(item) == HONE_NODE_MAP ? hone_result_field(item, "mean") : NULL;
        const hone_node_t *sem = hone_node_type(item) == HONE_NODE_MAP ? hone_result_field(item, "sem") : NULL;
        if (!hone_result_is_number(mean) || !hone_result_is_number(sem)) {
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
