/* client_goals.c: the client role's requests about several goals: `pareto` (the Pareto
 * frontier of a multi-objective experiment) and `attach_baseline` (the status quo that
 * relative constraints and thresholds are measured against). The rules are core's
 * (experiment_goals.c); here the fields are read, the trial stored and the replies built. */
#include "handlers_internal.h"

#include "alloc.h"
#include "log.h"
#include "request.h"
#include "wire.h"

#include <inttypes.h>
#include <math.h>
#include <string.h>

/* The reply to `pareto` once hone_experiment_pareto gave rc and frontier. */
int hone_client_goals_pareto_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                                   const hone_frontier_t *frontier, hone_msg_t **reply)
{
    if (rc != HONE_OK)
        return rc;
    size_t m = frontier->n_objectives;
    const hone_goals_t *goals = hone_experiment_goals(exp);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    S_ADD(hone_node_add_str(body, "source", hone_best_source_name(frontier->source)));
    hone_node_t *labels = hone_node_add_array(body, "objectives");
    hone_node_t *minimize = hone_node_add_array(body, "minimize");
    hone_node_t *ref = hone_node_add_array(body, "ref");
    HONE_ASSERT(labels && minimize && ref);
    for (size_t k = 0; k < m; k++) {
        S_ADD(hone_node_add_str(labels, NULL, hone_experiment_objective_label(exp, k)));
        S_ADD(hone_node_add_bool(minimize, NULL, hone_goals_objective(goals, k)->minimize));
        S_ADD(hone_node_add_float(ref, NULL, frontier->ref[k]));
    }
    S_ADD(hone_node_add_bool(body, "ref_inferred", frontier->ref_inferred));
    S_ADD(hone_node_add_float(body, "hypervolume", frontier->hypervolume));
    hone_node_t *points = hone_node_add_array(body, "points");
    HONE_ASSERT(points);
    for (size_t i = 0; i < frontier->n_points; i++) {
        const hone_trial_t *trial = hone_experiment_trial(exp, frontier->trials[i]);
        HONE_ASSERT(trial);
        hone_node_t *point = hone_node_add_map(points, NULL);
        HONE_ASSERT(point);
        S_ADD(hone_node_add_int(point, "trial", frontier->trials[i]));
        hone_node_t *params = hone_node_add_map(point, "params");
        HONE_ASSERT(params);
        hone_wire_fill_params(params, hone_experiment_space(exp), trial->params);
        hone_node_t *values = hone_node_add_array(point, "values");
        hone_node_t *sems = hone_node_add_array(point, "sems");
        HONE_ASSERT(values && sems);
        for (size_t k = 0; k < m; k++) {
            S_ADD(hone_node_add_float(values, NULL, frontier->values[i * m + k]));
            hone_wire_add_number_or_nil(sems, NULL, frontier->sems[i * m + k]);
        }
        S_ADD(hone_node_add_float(point, "contribution", frontier->contributions[i]));
    }
    return HONE_OK;
}

int hone_client_goals_pareto(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                             hone_handlers_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    bool use_model = true, present;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_bool(req, "use_model", &use_model, err), &present);
    if (rc != HONE_OK)
        return rc;
    if (!present)
        use_model = true;
    /* The model path fits one GP per objective metric: off the reactor, as best's. A
     * single-objective experiment is refused inline, without a snapshot. While
     * finishing, inline: a read is cheap enough to answer rather than drop. */
    if (use_model && hone_handlers_offloads(self, exp) && !self->finishing
        && hone_goals_is_multi_objective(hone_experiment_goals(exp))) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_PARETO;
        return HONE_OK;
    }
    hone_frontier_t frontier = { 0 };
    rc = hone_experiment_pareto(exp, use_model, &frontier, err);
    rc = hone_client_goals_pareto_reply(req, exp, rc, &frontier, reply);
    hone_frontier_clear(&frontier);
    return rc;
}

int hone_client_goals_attach_baseline(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                                      hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    int rc = hone_handlers_experiment(self, req, &exp, &name, err);
    if (rc != HONE_OK)
        return rc;
    const hone_node_t *params = hone_msg_get(req, "params");
    if (!params || hone_node_type(params) == HONE_NODE_NIL)
        return hone_error_set(err, HONE_EPROTO, "missing field 'params'");
    if (hone_node_type(params) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "field 'params' must be map, not %s",
                              hone_node_type_name(hone_node_type(params)));
    if (hone_experiment_baseline(exp) >= 0)   /* before the params: EEXIST says more */
        return hone_error_set(err, HONE_EEXIST, "experiment '%s' already has a baseline: trial %" PRId64, name,
                              hone_experiment_baseline(exp));
    const hone_space_t *space = hone_experiment_space(exp);
    hone_value_t *values = hone_alloc_array(hone_space_size(space) + 1, sizeof *values);
    uint32_t index = 0;
    size_t before = hone_experiment_trial_count(exp);
    hone_error_t why;
    hone_error_clear(&why);
    rc = hone_wire_read_params(space, params, values, &why);
    if (rc != HONE_OK) {
        /* every message names the field, as core's own "params: ..." does */
        const char *text = strncmp(why.message, "params: ", 8) == 0 ? why.message + 8 : why.message;
        rc = hone_error_set(err, rc, "params: %s", text);
    }
    if (rc == HONE_OK)
        rc = hone_experiment_attach_baseline(exp, values, &index, err);
    hone_free(values);   /* the trial holds a copy */
    if (rc != HONE_OK)
        return rc;
    /* Stored like the trials of `next`: the reply is held until the batch commits, and a
     * restart knows the baseline again by its note (HONE_BASELINE_NOTE). */
    hone_registry_change_t change = {
        .trial_first = (uint32_t) before,
        .n_trials = (uint32_t) (hone_experiment_trial_count(exp) - before),
    };
    rc = hone_registry_persist(self->registry, exp, &change, err);
    if (rc != HONE_OK)
        return rc;
    hone_log_info("handlers", "experiment '%s': trial %" PRIu32 " is the baseline", name, index);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_int(*reply, "trial", index));
    return HONE_OK;
}
