/* result_best.c: the best point of a best reply (its trial, objective value and where
 * the value came from) and its accessors. */
#include "result_internal.h"

#include <math.h>
#include <stdlib.h>

struct _hone_best_t {
    hone_trial_t *trial;        /* index and params of the best trial */
    char *metric;               /* objective metric */
    double value;               /* model prediction or observed mean (see source) */
    double sem;                 /* its sem, NAN when unknown */
    bool minimize;              /* objective direction */
    char source[8];             /* "model", "raw", or "" when the broker did not say */
};

/* ---- best ---- */

void hone_best_destroy(hone_best_t **best_p)
{
    if (!best_p || !*best_p)
        return;
    hone_best_t *best = *best_p;
    hone_result_trial_free(best->trial);
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
        return hone_result_oom(err);
    best->sem = NAN;
    int rc = hone_result_trial_parse(body, experiment, &best->trial, err);
    if (rc == HONE_OK)
        rc = hone_result_get_str(body, "metric", NULL, &best->metric, err);
    if (rc == HONE_OK) {
        const hone_node_t *value = hone_result_field(body, "value");
        const hone_node_t *sem = hone_result_field(body, "sem");
        const hone_node_t *minimize = hone_result_field(body, "minimize");
        const hone_node_t *source = hone_result_field(body, "source");
        if (!hone_result_is_number(value))
            rc = hone_error_set(err, HONE_EPROTO, "reply field 'value' must be a number");
        else if (sem && !hone_result_is_number(sem))
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
