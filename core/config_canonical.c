/* config_canonical.c: the canonical form of a parsed experiment configuration, the
 * JSON text that is persisted and reloaded: sorted keys, compact, every default written
 * out so that a reload does not depend on them. Part of the config module
 * (config_internal.h). */
#include "config_internal.h"

#include "alloc.h"

#include <math.h>
#include <stdlib.h>

static json_t *s_value_json(const hone_value_t *v)
{
    json_t *j = NULL;
    switch (v->type) {
    case HONE_TYPE_FLOAT: j = json_real(v->u.f); break;
    case HONE_TYPE_INT: j = json_integer((json_int_t) v->u.i); break;
    case HONE_TYPE_STR: j = json_string(v->u.s); break;
    case HONE_TYPE_BOOL: j = json_boolean(v->u.b); break;
    }
    HONE_ASSERT(j);   /* strings came from JSON or number casts, so they are UTF-8 */
    return j;
}

static json_t *s_param_json(const hone_param_t *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(p->name));
    json_object_set_new(o, "parameter_type", json_string(hone_type_name(p->type)));
    if (p->kind == HONE_PARAM_RANGE) {
        hone_value_t lo = p->type == HONE_TYPE_INT ? hone_value_int((int64_t) p->lower) : hone_value_float(p->lower);
        hone_value_t hi = p->type == HONE_TYPE_INT ? hone_value_int((int64_t) p->upper) : hone_value_float(p->upper);
        json_object_set_new(o, "type", json_string("range"));
        json_object_set_new(o, "bounds", json_pack("[oo]", s_value_json(&lo), s_value_json(&hi)));
        json_object_set_new(o, "scaling", json_string(p->log_scale ? "log" : "linear"));
        return o;
    }
    json_t *values = json_array();
    for (size_t i = 0; i < p->n_values; i++)
        json_array_append_new(values, s_value_json(&p->values[i]));
    json_object_set_new(o, "type", json_string("choice"));
    json_object_set_new(o, "values", values);
    if (p->kind == HONE_PARAM_CHOICE) {
        /* explicit, so a reload does not depend on the defaults or on auto-detection */
        json_object_set_new(o, "is_ordered", json_boolean(p->is_ordered));
        json_object_set_new(o, "log_scale", json_boolean(p->log_scale));
    }
    return o;
}

/* NAN (Ax's None) as null. */
static json_t *s_optional_real(double x)
{
    return isnan(x) ? json_null() : json_real(x);
}

/* Every argument of the configured strategy, defaults included, and the metric with its
 * direction, so that a reload does not depend on the defaults. */
static json_t *s_early_stopping_json(const hone_experiment_settings_t *s)
{
    const hone_stopping_config_t *cfg = &s->early_stopping;
    bool percentile = cfg->type == HONE_STOPPING_PERCENTILE;
    char *metric = hone_sprintf("%s%s", s->early_stopping_minimize ? "-" : "", s->early_stopping_metric);
    json_t *es = json_object();
    json_object_set_new(es, "type", json_string(hone_stopping_type_name((int) cfg->type)));
    json_t *name = json_string(metric);
    HONE_ASSERT(name);   /* came from JSON, so it is UTF-8 */
    json_object_set_new(es, "metric", name);
    if (percentile) {
        json_object_set_new(es, "percentile_threshold", json_real(cfg->percentile_threshold));
        json_object_set_new(es, "n_best_trials_to_complete", json_integer(cfg->n_best_trials_to_complete));
        json_object_set_new(es, "patience", json_real(cfg->patience));
    } else {
        json_object_set_new(es, "metric_threshold", json_real(cfg->metric_threshold));
    }
    json_object_set_new(es, "min_progression", s_optional_real(cfg->min_progression));
    json_object_set_new(es, "max_progression", s_optional_real(cfg->max_progression));
    json_object_set_new(es, "min_curves", json_integer(cfg->min_curves));
    json_object_set_new(es, "normalize_progressions", json_boolean(cfg->normalize_progressions));
    json_object_set_new(es, "interval", s_optional_real(cfg->interval));
    json_object_set_new(es, "check_safe", json_boolean(cfg->check_safe));
    hone_strfree(metric);
    return es;
}

char *hone_config_canonical(const hone_config_parsed_t *cfg, const hone_space_t *space)
{
    json_t *params = json_array();
    for (size_t i = 0; i < hone_space_size(space); i++)
        json_array_append_new(params, s_param_json(hone_space_param(space, i)));
    json_t *constraints = json_array();
    for (size_t i = 0; i < hone_constraint_set_size(cfg->constraints); i++) {
        json_t *text = json_string(hone_constraint_set_text(cfg->constraints, i));
        HONE_ASSERT(text);   /* came from JSON, so it is UTF-8 */
        json_array_append_new(constraints, text);
    }
    const char *objective = cfg->objective_canonical;
    json_t *gs = json_object();
    json_object_set_new(gs, "method", json_string(cfg->s.method));
    json_object_set_new(gs, "initialization_random_seed", json_integer((json_int_t) cfg->s.seed));
    json_object_set_new(gs, "initialize_with_center", json_boolean(cfg->s.initialize_with_center));
    json_object_set_new(gs, "initialization_budget", json_integer(cfg->s.initialization_budget));
    json_object_set_new(gs, "min_observed_initialization_trials", json_integer(cfg->s.min_observed_trials));
    json_object_set_new(gs, "use_existing_trials_for_initialization", json_boolean(cfg->s.use_existing_trials));
    json_object_set_new(gs, "allow_exceeding_initialization_budget", json_boolean(cfg->s.allow_exceeding_budget));
    json_object_set_new(gs, "kernel", json_string(cfg->s.kernel));
    json_object_set_new(gs, "acquisition", json_string(cfg->s.acquisition));
    json_object_set_new(gs, "output_warping", json_boolean(cfg->s.output_warping));
    json_object_set_new(gs, "prefetch", json_integer(cfg->s.prefetch));
    json_t *root = json_object();
    json_object_set_new(root, "name", json_string(cfg->s.name));
    json_object_set_new(root, "parameters", params);
    json_object_set_new(root, "parameter_constraints", constraints);
    json_object_set_new(root, "objective", json_string(objective));
    if (cfg->outcome_constraints && json_array_size(cfg->outcome_constraints) > 0)
        json_object_set(root, "outcome_constraints", cfg->outcome_constraints);
    if (cfg->objective_thresholds && json_array_size(cfg->objective_thresholds) > 0)
        json_object_set(root, "objective_thresholds", cfg->objective_thresholds);
    json_object_set_new(root, "generation_strategy", gs);
    json_object_set_new(root, "max_trials", json_integer(cfg->s.max_trials));
    json_object_set_new(root, "max_failures", json_integer(cfg->s.max_failures));
    json_t *leases = json_object();
    json_object_set_new(leases, "heartbeat_ms", json_integer(cfg->s.leases.heartbeat_ms));
    json_object_set_new(leases, "liveness", json_integer(cfg->s.leases.liveness));
    json_object_set_new(leases, "max_retries", json_integer(cfg->s.leases.max_retries));
    json_object_set_new(root, "leases", leases);
    if (cfg->s.has_early_stopping)
        json_object_set_new(root, "early_stopping", s_early_stopping_json(&cfg->s));
    char *text = json_dumps(root, JSON_SORT_KEYS | JSON_COMPACT | JSON_REAL_PRECISION(17));
    HONE_ASSERT(text);
    char *copy = hone_strdup(text);
    free(text);   /* jansson's default allocator */
    json_decref(root);
    return copy;
}
