/* config.c: the experiment configuration in JSON (experiment.h gives the fields):
 * parsing, validation with field paths, and the canonical form that is persisted.
 * The sole jansson user of the experiment model (CONVENTIONS.md §22).
 *
 * Optional fields may be null, which means the same as absent (what a Python config
 * with None values serializes to). Unknown fields are errors, so typos are caught. */
#include "experiment.h"
#include "experiment_settings.h"

#include "alloc.h"
#include "goals.h"
#include "objective.h"
#include "sobol.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>

#define S_NAME_MAX 128
#define S_DEFAULT_INIT_BUDGET 5
#define S_DEFAULT_MAX_FAILURES 100

static const char *const s_top_fields[] = {
    "name", "parameters", "objective", "outcome_constraints", "objective_thresholds",
    "parameter_constraints", "generation_strategy", "max_trials", "max_failures", "leases",
    "early_stopping", NULL,
};
static const char *const s_lease_fields[] = { "heartbeat_ms", "liveness", "max_retries", NULL };
/* Ax's constructor arguments per strategy (stopping.h), plus "type" and "metric". */
static const char *const s_es_percentile_fields[] = {
    "type", "metric", "percentile_threshold", "min_progression", "max_progression", "min_curves",
    "normalize_progressions", "n_best_trials_to_complete", "interval", "patience", "check_safe", NULL,
};
static const char *const s_es_threshold_fields[] = {
    "type", "metric", "metric_threshold", "min_progression", "max_progression", "min_curves",
    "normalize_progressions", "interval", "check_safe", NULL,
};
static const char *const s_param_fields[] = {
    "name", "type", "bounds", "parameter_type", "scaling", "step_size", "values", "is_ordered",
    "log_scale", "dependent_parameters", NULL,
};
static const char *const s_gs_fields[] = {
    "method", "initialization_random_seed", "initialize_with_center", "initialization_budget",
    "min_observed_initialization_trials", "use_existing_trials_for_initialization",
    "allow_exceeding_initialization_budget", "kernel", "acquisition", "output_warping", "prefetch", NULL,
};

/* obj[key], with null read as absent. */
static json_t *s_get(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

static int s_check_fields(const json_t *obj, const char *const *allowed, const char *path, hone_error_t *err)
{
    const char *key;
    json_t *value;
    json_object_foreach((json_t *) obj, key, value) {
        bool known = false;
        for (size_t i = 0; allowed[i] && !known; i++)
            known = streq(key, allowed[i]);
        if (!known) {
            char list[256] = "";
            size_t used = 0;
            for (size_t i = 0; allowed[i]; i++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", allowed[i]);
                if (w < 0 || (size_t) w >= sizeof list - used)
                    break;
                used += (size_t) w;
            }
            return hone_error_set(err, HONE_EINVAL, "%s%sunknown field '%s' (known fields: %s)",
                                  path, *path ? ": " : "", key, list);
        }
    }
    return HONE_OK;
}

/* A JSON integer in [lo, hi] into *out; absent keeps *out. */
static int s_get_uint(const json_t *obj, const char *key, const char *path, uint64_t lo, uint64_t hi,
                      uint64_t *out, hone_error_t *err)
{
    json_t *v = s_get(obj, key);
    if (!v)
        return HONE_OK;
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
    if (!json_is_integer(v) || i < 0 || (uint64_t) i < lo || (uint64_t) i > hi)
        return hone_error_set(err, HONE_EINVAL, "%s%s: must be an integer from %llu to %llu",
                              path, key, (unsigned long long) lo, (unsigned long long) hi);
    *out = (uint64_t) i;
    return HONE_OK;
}

static int s_get_bool(const json_t *obj, const char *key, const char *path, bool *out, hone_error_t *err)
{
    json_t *v = s_get(obj, key);
    if (!v)
        return HONE_OK;
    if (!json_is_boolean(v))
        return hone_error_set(err, HONE_EINVAL, "%s%s: must be true or false", path, key);
    *out = json_is_true(v);
    return HONE_OK;
}

static bool s_valid_name(const char *name)
{
    size_t n = strlen(name);
    if (n < 1 || n > S_NAME_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                  || c == '_' || c == '.' || c == '-';
        if (!ok)
            return false;
    }
    return true;
}

/* ---------------------------------------------------------------------------------
 * Parameters. */

static int s_reject_field(const json_t *p, const char *key, const char *path, const char *why,
                          hone_error_t *err)
{
    if (s_get(p, key))
        return hone_error_set(err, HONE_EINVAL, "%s.%s: %s", path, key, why);
    return HONE_OK;
}

/* Prefixes a space error with the parameter's path. */
static int s_space_error(int rc, const char *path, hone_error_t *err)
{
    if (rc != HONE_OK && err) {
        char message[HONE_ERROR_MESSAGE_MAX];
        snprintf(message, sizeof message, "%s", err->message);
        hone_error_set(err, rc, "%s: %s", path, message);
    }
    return rc;
}

static int s_parse_range(hone_space_t *space, const json_t *p, const char *name, const char *path,
                         hone_error_t *err)
{
    int rc = s_reject_field(p, "values", path, "a parameter with \"bounds\" is a range and takes no values", err);
    if (rc == HONE_OK)
        rc = s_reject_field(p, "is_ordered", path, "only allowed for a choice parameter", err);
    if (rc == HONE_OK)
        rc = s_reject_field(p, "log_scale", path, "only allowed for a choice parameter (a range uses "
                            "\"scaling\": \"log\")", err);
    if (rc != HONE_OK)
        return rc;
    const json_t *bounds = s_get(p, "bounds");
    if (!json_is_array(bounds) || json_array_size(bounds) != 2 || !json_is_number(json_array_get(bounds, 0))
        || !json_is_number(json_array_get(bounds, 1)))
        return hone_error_set(err, HONE_EINVAL, "%s.bounds: must be an array of two numbers [lower, upper]",
                              path);
    double lower = json_number_value(json_array_get(bounds, 0));
    double upper = json_number_value(json_array_get(bounds, 1));
    hone_type_t type = HONE_TYPE_FLOAT;
    const json_t *pt = s_get(p, "parameter_type");
    if (pt && (!json_is_string(pt) || hone_type_parse(json_string_value(pt), &type) != HONE_OK
               || (type != HONE_TYPE_FLOAT && type != HONE_TYPE_INT)))
        return hone_error_set(err, HONE_EINVAL, "%s.parameter_type: a range must be \"float\" or \"int\"", path);
    const char *scaling = NULL;
    const json_t *sc = s_get(p, "scaling");
    if (sc && !json_is_string(sc))
        return hone_error_set(err, HONE_EINVAL, "%s.scaling: must be \"linear\" or \"log\"", path);
    if (sc)
        scaling = json_string_value(sc);
    double step = NAN;
    const json_t *st = s_get(p, "step_size");
    if (st) {
        step = json_is_number(st) ? json_number_value(st) : NAN;
        if (!(step > 0))
            return hone_error_set(err, HONE_EINVAL, "%s.step_size: must be a positive number", path);
    }
    return s_space_error(hone_space_add_range(space, name, type, lower, upper, scaling, step, err), path, err);
}

static int s_parse_choice(hone_space_t *space, const json_t *p, const char *name, const char *path,
                          hone_error_t *err)
{
    int rc = s_reject_field(p, "scaling", path, "only allowed for a range parameter (a choice uses "
                            "\"log_scale\")", err);
    if (rc == HONE_OK)
        rc = s_reject_field(p, "step_size", path, "only allowed for a range parameter", err);
    if (rc != HONE_OK)
        return rc;
    const json_t *values = s_get(p, "values");
    if (!json_is_array(values))
        return hone_error_set(err, HONE_EINVAL, "%s.values: must be an array", path);
    size_t n = json_array_size(values);
    if (n == 0)
        return hone_error_set(err, HONE_EINVAL, "%s.values: must not be empty", path);
    hone_value_t *vals = hone_alloc_array(n, sizeof(hone_value_t));
    size_t n_str = 0, n_bool = 0, n_int = 0;
    for (size_t i = 0; i < n && rc == HONE_OK; i++) {
        const json_t *v = json_array_get(values, i);
        if (json_is_string(v)) {
            vals[i] = hone_value_str(json_string_value(v));
            n_str++;
        } else if (json_is_boolean(v)) {
            vals[i] = hone_value_bool(json_is_true(v));
            n_bool++;
        } else if (json_is_integer(v)) {
            vals[i] = hone_value_int(json_integer_value(v));
            n_int++;
        } else if (json_is_real(v)) {
            vals[i] = hone_value_float(json_real_value(v));
        } else {
            rc = hone_error_set(err, HONE_EINVAL, "%s.values[%zu]: must be a string, a number or a boolean",
                                path, i);
        }
    }
    hone_type_t type = HONE_TYPE_FLOAT;
    if (rc == HONE_OK) {
        const json_t *pt = s_get(p, "parameter_type");
        if (pt) {
            if (!json_is_string(pt) || hone_type_parse(json_string_value(pt), &type) != HONE_OK)
                rc = hone_error_set(err, HONE_EINVAL,
                                    "%s.parameter_type: must be \"float\", \"int\", \"str\" or \"bool\"", path);
        } else if (n_str == n) {
            type = HONE_TYPE_STR;
        } else if (n_bool == n) {
            type = HONE_TYPE_BOOL;
        } else if (n_int == n) {
            type = HONE_TYPE_INT;
        }
    }
    int is_ordered = -1, log_scale = -1;   /* -1: unset, Ax's default applies */
    char dotted[64];
    snprintf(dotted, sizeof dotted, "%s.", path);
    bool flag = false;
    if (rc == HONE_OK && s_get(p, "is_ordered")) {
        rc = s_get_bool(p, "is_ordered", dotted, &flag, err);
        is_ordered = flag;
    }
    if (rc == HONE_OK && s_get(p, "log_scale")) {
        rc = s_get_bool(p, "log_scale", dotted, &flag, err);
        log_scale = flag;
    }
    if (rc == HONE_OK)
        rc = s_space_error(hone_space_add_choice(space, name, type, vals, n, is_ordered, log_scale, err),
                           path, err);
    hone_free(vals);
    return rc;
}

static int s_parse_parameter(hone_space_t *space, const json_t *p, size_t index, hone_error_t *err)
{
    char path[48];
    snprintf(path, sizeof path, "parameters[%zu]", index);
    if (!json_is_object(p))
        return hone_error_set(err, HONE_EINVAL, "%s: must be an object", path);
    int rc = s_check_fields(p, s_param_fields, path, err);
    if (rc != HONE_OK)
        return rc;
    const json_t *name = s_get(p, "name");
    if (!name)
        return hone_error_set(err, HONE_EINVAL, "%s.name: required", path);
    if (!json_is_string(name) || !*json_string_value(name))
        return hone_error_set(err, HONE_EINVAL, "%s.name: must be a non-empty string", path);
    if (s_get(p, "dependent_parameters"))
        return hone_error_set(err, HONE_EINVAL,
                              "%s.dependent_parameters: hierarchical search spaces are not supported yet", path);
    bool has_bounds = s_get(p, "bounds") != NULL;
    bool has_values = s_get(p, "values") != NULL;
    const json_t *kind = s_get(p, "type");
    if (kind) {
        const char *k = json_is_string(kind) ? json_string_value(kind) : "";
        if (!streq(k, "range") && !streq(k, "choice"))
            return hone_error_set(err, HONE_EINVAL, "%s.type: must be \"range\" or \"choice\"", path);
        if (streq(k, "range") && !has_bounds)
            return hone_error_set(err, HONE_EINVAL, "%s.bounds: required for a range parameter", path);
        if (streq(k, "choice") && !has_values)
            return hone_error_set(err, HONE_EINVAL, "%s.values: required for a choice parameter", path);
        if (streq(k, "range") && has_values)
            return hone_error_set(err, HONE_EINVAL, "%s.values: a range parameter takes \"bounds\", not \"values\"",
                                  path);
        if (streq(k, "choice") && has_bounds)
            return hone_error_set(err, HONE_EINVAL, "%s.bounds: a choice parameter takes \"values\", not \"bounds\"",
                                  path);
    }
    if (has_bounds && has_values)
        return hone_error_set(err, HONE_EINVAL,
                              "%s: has both \"bounds\" (range) and \"values\" (choice); give one of them", path);
    if (!has_bounds && !has_values)
        return hone_error_set(err, HONE_EINVAL, "%s: needs \"bounds\" (a range) or \"values\" (a choice)", path);
    const char *pname = json_string_value(name);
    return has_bounds ? s_parse_range(space, p, pname, path, err) : s_parse_choice(space, p, pname, path, err);
}

/* ---------------------------------------------------------------------------------
 * The whole configuration. */

typedef struct {
    hone_experiment_settings_t s;   /* what experiment.c needs */
    hone_goals_t *goals;             /* owned goals (objective, outcome constraints), until
                                      * the experiment takes them */
    const char *objective_text;      /* the objective string as given (borrowed from JSON) */
    char *objective_canonical;       /* owned: "-m" for a single metric, else as given */
    json_t *outcome_constraints;     /* the strings as given (borrowed), or NULL */
    json_t *objective_thresholds;    /* the strings as given (borrowed), or NULL */
    char *es_metric;                 /* owned early-stopping metric, or NULL */
    const char *method;              /* static string */
    hone_constraint_set_t *constraints; /* owned parameter constraints (NULL until parsed) */
} s_parsed_t;

static int s_parse_strategy(const json_t *root, s_parsed_t *out, uint64_t default_seed, hone_error_t *err)
{
    out->method = "fast";   /* Ax's default: center, Sobol, then Bayesian optimization */
    out->s.seed = default_seed & (uint64_t) INT64_MAX;
    out->s.initialize_with_center = true;
    out->s.use_existing_trials = true;
    out->s.allow_exceeding_budget = false;
    out->s.kernel = "matern52";
    out->s.acquisition = "auto";
    out->s.output_warping = true;
    uint64_t budget = S_DEFAULT_INIT_BUDGET;
    uint64_t min_observed = UINT64_MAX;   /* unset: Ax's max(1, budget // 2) */
    const json_t *gs = s_get(root, "generation_strategy");
    if (gs) {
        if (!json_is_object(gs))
            return hone_error_set(err, HONE_EINVAL, "generation_strategy: must be an object");
        int rc = s_check_fields(gs, s_gs_fields, "generation_strategy", err);
        if (rc != HONE_OK)
            return rc;
        const json_t *m = s_get(gs, "method");
        if (m) {
            const char *method = json_is_string(m) ? json_string_value(m) : "";
            if (streq(method, "random_search"))
                out->method = "random_search";
            else if (streq(method, "fast"))
                out->method = "fast";
            else if (streq(method, "quality"))
                return hone_error_set(err, HONE_EINVAL, "generation_strategy.method: \"quality\" is not supported "
                                      "yet; use \"random_search\" or \"fast\"");
            else
                return hone_error_set(err, HONE_EINVAL,
                                      "generation_strategy.method: must be \"random_search\" or \"fast\"");
        }
        uint64_t seed = out->s.seed;
        rc = s_get_uint(gs, "initialization_random_seed", "generation_strategy.", 0, (uint64_t) INT64_MAX,
                        &seed, err);
        if (rc == HONE_OK)
            rc = s_get_bool(gs, "initialize_with_center", "generation_strategy.",
                            &out->s.initialize_with_center, err);
        if (rc == HONE_OK)
            rc = s_get_uint(gs, "initialization_budget", "generation_strategy.", 0, UINT32_MAX, &budget, err);
        if (rc == HONE_OK)
            rc = s_get_uint(gs, "min_observed_initialization_trials", "generation_strategy.", 0, UINT32_MAX,
                            &min_observed, err);
        if (rc == HONE_OK)
            rc = s_get_bool(gs, "use_existing_trials_for_initialization", "generation_strategy.",
                            &out->s.use_existing_trials, err);
        if (rc == HONE_OK)
            rc = s_get_bool(gs, "allow_exceeding_initialization_budget", "generation_strategy.",
                            &out->s.allow_exceeding_budget, err);
        const json_t *k = s_get(gs, "kernel");
        if (rc == HONE_OK && k) {
            const char *kernel = json_is_string(k) ? json_string_value(k) : "";
            if (streq(kernel, "matern52") || streq(kernel, "rbf"))
                out->s.kernel = streq(kernel, "rbf") ? "rbf" : "matern52";
            else
                rc = hone_error_set(err, HONE_EINVAL, "generation_strategy.kernel: must be \"matern52\" or \"rbf\"");
        }
        if (rc == HONE_OK)
            rc = s_get_bool(gs, "output_warping", "generation_strategy.", &out->s.output_warping, err);
        uint64_t prefetch = 0;
        if (rc == HONE_OK)
            rc = s_get_uint(gs, "prefetch", "generation_strategy.", 0, HONE_EXPERIMENT_PREFETCH_MAX, &prefetch, err);
        out->s.prefetch = (uint32_t) prefetch;
        const json_t *acq = s_get(gs, "acquisition");
        if (rc == HONE_OK && acq) {
            const char *name = json_is_string(acq) ? json_string_value(acq) : "";
            if (streq(name, "auto") || streq(name, "qlognei") || streq(name, "logei"))
                out->s.acquisition = streq(name, "logei") ? "logei" : streq(name, "qlognei") ? "qlognei" : "auto";
            else
                rc = hone_error_set(err, HONE_EINVAL,
                                    "generation_strategy.acquisition: must be \"auto\", \"qlognei\" or \"logei\"");
        }
        if (rc != HONE_OK)
            return rc;
        out->s.seed = seed;
    }
    out->s.initialization_budget = (uint32_t) budget;
    out->s.min_observed_trials = min_observed != UINT64_MAX ? (uint32_t) min_observed
                                 : budget / 2 > 1 ? (uint32_t) (budget / 2) : 1;
    out->s.method = out->method;
    return HONE_OK;
}

/* The "leases" object: the workers' heartbeat interval, the liveness (intervals without a
 * word before a lease expires) and the re-queues before a lost trial fails. */
static int s_parse_leases(const json_t *root, hone_lease_settings_t *out, hone_error_t *err)
{
    uint64_t heartbeat = HONE_LEASE_HEARTBEAT_MS_DEFAULT, liveness = HONE_LEASE_LIVENESS_DEFAULT;
    uint64_t retries = HONE_LEASE_MAX_RETRIES_DEFAULT;
    const json_t *leases = s_get(root, "leases");
    if (leases) {
        if (!json_is_object(leases))
            return hone_error_set(err, HONE_EINVAL, "leases: must be an object such as {\"heartbeat_ms\": 1000, "
                                  "\"liveness\": 3, \"max_retries\": 3}");
        int rc = s_check_fields(leases, s_lease_fields, "leases", err);
        if (rc == HONE_OK)
            rc = s_get_uint(leases, "heartbeat_ms", "leases.", HONE_LEASE_HEARTBEAT_MS_MIN,
                            HONE_LEASE_HEARTBEAT_MS_MAX, &heartbeat, err);
        if (rc == HONE_OK)
            rc = s_get_uint(leases, "liveness", "leases.", 1, HONE_LEASE_LIVENESS_MAX, &liveness, err);
        if (rc == HONE_OK)
            rc = s_get_uint(leases, "max_retries", "leases.", 0, HONE_LEASE_MAX_RETRIES_MAX, &retries, err);
        if (rc != HONE_OK)
            return rc;
    }
    out->heartbeat_ms = (uint32_t) heartbeat;
    out->liveness = (uint32_t) liveness;
    out->max_retries = (uint32_t) retries;
    return HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * Early stopping. */

/* A JSON number into *out; absent keeps *out; null gives NAN when optional (Ax's None),
 * else keeps *out (null means absent, as everywhere in the config). */
static int s_get_number(const json_t *es, const char *key, bool optional, double *out, hone_error_t *err)
{
    json_t *v = json_object_get(es, key);
    if (!v)
        return HONE_OK;
    if (json_is_null(v)) {
        if (optional)
            *out = NAN;
        return HONE_OK;
    }
    if (!json_is_number(v))
        return hone_error_set(err, HONE_EINVAL, "early_stopping.%s: must be a number%s", key,
                              optional ? " or null" : "");
    *out = json_number_value(v);
    return HONE_OK;
}

/* An optional count (Ax's None or an int): null gives 0, which Ax treats as None. */
static int s_get_count(const json_t *es, const char *key, uint32_t *out, hone_error_t *err)
{
    if (json_is_null(json_object_get(es, key))) {
        *out = 0;
        return HONE_OK;
    }
    uint64_t n = *out;
    int rc = s_get_uint(es, key, "early_stopping.", 0, UINT32_MAX, &n, err);
    *out = (uint32_t) n;
    return rc;
}

/* The "early_stopping" object: Ax's strategy arguments (stopping.h) with Ax's defaults,
 * "type" ("percentile", Ax's default, or "threshold") and "metric" (the objective when
 * absent; "m" maximizes, "-m" minimizes, as the objective). Absent: none configured. */
static int s_parse_early_stopping(const json_t *root, s_parsed_t *out, hone_error_t *err)
{
    const json_t *es = s_get(root, "early_stopping");
    out->s.has_early_stopping = es != NULL;
    if (!es)
        return HONE_OK;
    if (!json_is_object(es))
        return hone_error_set(err, HONE_EINVAL, "early_stopping: must be an object such as "
                              "{\"type\": \"percentile\", \"percentile_threshold\": 50}");
    hone_stopping_type_t type = HONE_STOPPING_PERCENTILE;
    const json_t *t = s_get(es, "type");
    if (t && !json_is_string(t))
        return hone_error_set(err, HONE_EINVAL, "early_stopping.type: must be \"percentile\" or \"threshold\"");
    int rc = t ? hone_stopping_type_parse(json_string_value(t), &type, err) : HONE_OK;
    if (rc != HONE_OK)
        return rc;
    bool percentile = type == HONE_STOPPING_PERCENTILE;
    rc = s_check_fields(es, percentile ? s_es_percentile_fields : s_es_threshold_fields, "early_stopping",
                            err);
    if (rc != HONE_OK)
        return rc;
    hone_stopping_config_t *cfg = &out->s.early_stopping;
    hone_stopping_config_init(cfg, type);
    if (percentile)
        rc = s_get_number(es, "percentile_threshold", false, &cfg->percentile_threshold, err);
    else
        rc = s_get_number(es, "metric_threshold", false, &cfg->metric_threshold, err);
    if (rc == HONE_OK)
        rc = s_get_number(es, "min_progression", true, &cfg->min_progression, err);
    if (rc == HONE_OK)
        rc = s_get_number(es, "max_progression", true, &cfg->max_progression, err);
    if (rc == HONE_OK)
        rc = s_get_count(es, "min_curves", &cfg->min_curves, err);
    if (rc == HONE_OK)
        rc = s_get_bool(es, "normalize_progressions", "early_stopping.", &cfg->normalize_progressions, err);
    if (rc == HONE_OK && percentile)
        rc = s_get_count(es, "n_best_trials_to_complete", &cfg->n_best_trials_to_complete, err);
    if (rc == HONE_OK)
        rc = s_get_number(es, "interval", true, &cfg->interval, err);
    if (rc == HONE_OK && percentile)
        rc = s_get_number(es, "patience", false, &cfg->patience, err);
    if (rc == HONE_OK)
        rc = s_get_bool(es, "check_safe", "early_stopping.", &cfg->check_safe, err);
    if (rc == HONE_OK)
        rc = hone_stopping_config_validate(cfg, err);
    if (rc != HONE_OK)
        return rc;
    const json_t *m = s_get(es, "metric");
    if (!m) {
        if (!out->s.single_metric)
            return hone_error_set(err, HONE_EINVAL, "early_stopping.metric: required when the objective is not "
                                  "a single metric (\"%s\"): name the metric whose curves decide, such as "
                                  "\"-%s\"", out->objective_text, out->s.objective_metric);
        out->s.early_stopping_metric = out->s.objective_metric;
        out->s.early_stopping_minimize = out->s.minimize;
        return HONE_OK;
    }
    if (!json_is_string(m))
        return hone_error_set(err, HONE_EINVAL, "early_stopping.metric: must be a string such as \"loss\" or "
                              "\"-loss\" (\"-\" when lower is better)");
    rc = hone_objective_parse(json_string_value(m), &out->es_metric, &out->s.early_stopping_minimize, err);
    if (rc != HONE_OK && err) {
        char message[HONE_ERROR_MESSAGE_MAX];
        snprintf(message, sizeof message, "%s", err->message);
        return hone_error_set(err, rc, "early_stopping.metric: %s", message);
    }
    out->s.early_stopping_metric = out->es_metric;
    return rc;
}

/* A JSON array of strings (optional; null is absent) into a new array of borrowed
 * strings, *n_out of them. At most HONE_GOALS_MAX_BOUNDS: the goals' own limit. */
static int s_string_list(const json_t *root, const char *field, const char *example,
                         const char ***out, size_t *n_out, hone_error_t *err)
{
    *out = NULL;
    *n_out = 0;
    const json_t *list = s_get(root, field);
    if (!list)
        return HONE_OK;
    if (!json_is_array(list))
        return hone_error_set(err, HONE_EINVAL, "%s: must be an array of strings such as [\"%s\"]", field,
                              example);
    size_t n = json_array_size(list);
    if (n > HONE_GOALS_MAX_BOUNDS)
        return hone_error_set(err, HONE_EINVAL, "%s: at most %d strings", field, HONE_GOALS_MAX_BOUNDS);
    const char **texts = hone_alloc_array(n ? n : 1, sizeof *texts);
    for (size_t i = 0; i < n; i++) {
        const json_t *item = json_array_get(list, i);
        if (!json_is_string(item)) {
            hone_free(texts);
            return hone_error_set(err, HONE_EINVAL, "%s[%zu]: must be a string such as \"%s\"", field, i,
                                  example);
        }
        texts[i] = json_string_value(item);
    }
    *out = texts;
    *n_out = n;
    return HONE_OK;
}

/* "objective", "outcome_constraints" and "objective_thresholds": Ax's
 * configure_optimization strings, parsed and validated together (goals.h). A
 * single-metric objective keeps its short canonical form ("-loss"); the experiment's
 * first metric is the objective's first. */
static int s_parse_goals(const json_t *root, s_parsed_t *out, hone_error_t *err)
{
    const json_t *objective = s_get(root, "objective");
    if (!objective)
        return hone_error_set(err, HONE_EINVAL, "objective: required");
    if (!json_is_string(objective))
        return hone_error_set(err, HONE_EINVAL, "objective: must be a string such as \"loss\", \"-loss\", "
                              "\"a + 2 * b\" or \"-loss, qps\"");
    const char **constraints = NULL, **thresholds = NULL;
    size_t n_constraints = 0, n_thresholds = 0;
    int rc = s_string_list(root, "outcome_constraints", "qps >= 100", &constraints, &n_constraints, err);
    if (rc == HONE_OK)
        rc = s_string_list(root, "objective_thresholds", "loss <= 0.5", &thresholds, &n_thresholds, err);
    if (rc == HONE_OK)
        rc = hone_goals_parse(&out->goals, json_string_value(objective), constraints, n_constraints,
                              thresholds, n_thresholds, err);
    hone_free(constraints);
    hone_free(thresholds);
    if (rc != HONE_OK)
        return rc;
    out->objective_text = json_string_value(objective);
    out->outcome_constraints = (json_t *) s_get(root, "outcome_constraints");
    out->objective_thresholds = (json_t *) s_get(root, "objective_thresholds");
    const hone_goals_objective_t *first = hone_goals_objective(out->goals, 0);
    out->s.objective_metric = hone_goals_metric(out->goals, 0);
    out->s.minimize = hone_goals_n_objectives(out->goals) == 1 && first->metric >= 0 && first->minimize;
    out->s.single_metric = hone_goals_n_objectives(out->goals) == 1 && first->metric >= 0;
    /* a single metric in its short form; anything else as given (it parsed) */
    out->objective_canonical = out->s.single_metric
                                   ? hone_sprintf("%s%s", out->s.minimize ? "-" : "", out->s.objective_metric)
                                   : hone_strdup(out->objective_text);
    out->s.objective_text = out->objective_canonical;
    return HONE_OK;
}

static int s_parse(const json_t *root, s_parsed_t *out, hone_space_t *space, uint64_t default_seed,
                   hone_error_t *err)
{
    if (!json_is_object(root))
        return hone_error_set(err, HONE_EINVAL, "config: must be a JSON object");
    int rc = s_check_fields(root, s_top_fields, "config", err);
    if (rc != HONE_OK)
        return rc;

    const json_t *name = s_get(root, "name");
    if (!name)
        return hone_error_set(err, HONE_EINVAL, "name: required");
    if (!json_is_string(name) || !s_valid_name(json_string_value(name)))
        return hone_error_set(err, HONE_EINVAL, "name: must be 1 to %d characters from [A-Za-z0-9_.-]", S_NAME_MAX);
    out->s.name = json_string_value(name);

    const json_t *params = s_get(root, "parameters");
    if (!params)
        return hone_error_set(err, HONE_EINVAL, "parameters: required");
    if (!json_is_array(params))
        return hone_error_set(err, HONE_EINVAL, "parameters: must be an array");
    if (json_array_size(params) == 0)
        return hone_error_set(err, HONE_EINVAL, "parameters: must not be empty");
    if (json_array_size(params) > HONE_SOBOL_MAXDIM)
        return hone_error_set(err, HONE_EINVAL, "parameters: at most %d parameters are supported",
                              HONE_SOBOL_MAXDIM);
    for (size_t i = 0; i < json_array_size(params); i++) {
        rc = s_parse_parameter(space, json_array_get(params, i), i, err);
        if (rc != HONE_OK)
            return rc;
    }

    const json_t *constraints = s_get(root, "parameter_constraints");
    if (constraints && !json_is_array(constraints))
        return hone_error_set(err, HONE_EINVAL, "parameter_constraints: must be an array of strings");
    out->constraints = hone_constraint_set_new(hone_space_size(space));
    for (size_t i = 0; constraints && i < json_array_size(constraints); i++) {
        const json_t *c = json_array_get(constraints, i);
        if (!json_is_string(c))
            return hone_error_set(err, HONE_EINVAL, "parameter_constraints[%zu]: must be a string such as "
                                  "\"x1 + x2 <= 1\"", i);
        rc = hone_constraint_set_add(out->constraints, space, json_string_value(c), err);
        if (rc != HONE_OK)
            return rc;
    }

    rc = s_parse_goals(root, out, err);
    if (rc != HONE_OK)
        return rc;

    rc = s_parse_strategy(root, out, default_seed, err);
    if (rc != HONE_OK)
        return rc;

    uint64_t max_trials = 0;
    rc = s_get_uint(root, "max_trials", "", 0, UINT32_MAX, &max_trials, err);
    if (rc != HONE_OK)
        return rc;
    uint64_t max_failures = max_trials > 0 ? max_trials : S_DEFAULT_MAX_FAILURES;
    rc = s_get_uint(root, "max_failures", "", 1, UINT32_MAX, &max_failures, err);
    if (rc != HONE_OK)
        return rc;
    out->s.max_trials = (uint32_t) max_trials;
    out->s.max_failures = (uint32_t) max_failures;
    rc = s_parse_leases(root, &out->s.leases, err);
    if (rc != HONE_OK)
        return rc;
    return s_parse_early_stopping(root, out, err);
}

/* ---------------------------------------------------------------------------------
 * Canonical form. */

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

static char *s_canonical(const s_parsed_t *cfg, const hone_space_t *space)
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

int hone_experiment_from_json(hone_experiment_t **out, const char *json, size_t len,
                              uint64_t default_seed, hone_error_t *err)
{
    HONE_ASSERT(out);
    *out = NULL;
    if (!json)
        return hone_error_set(err, HONE_EINVAL, "config: no JSON text given");
    json_error_t jerr;
    json_t *root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return hone_error_set(err, HONE_EINVAL, "config: invalid JSON at line %d, column %d: %s",
                              jerr.line, jerr.column, jerr.text);
    s_parsed_t cfg;
    memset(&cfg, 0, sizeof cfg);
    hone_space_t *space = hone_space_new();
    int rc = s_parse(root, &cfg, space, default_seed, err);
    if (rc == HONE_OK) {
        char *canonical = s_canonical(&cfg, space);
        *out = hone_experiment_new(&cfg.s, &space, &cfg.constraints, &cfg.goals, &canonical);
        hone_error_clear(err);
    }
    hone_constraint_set_destroy(&cfg.constraints);
    hone_space_destroy(&space);
    hone_goals_destroy(&cfg.goals);
    hone_strfree(cfg.objective_canonical);
    hone_strfree(cfg.es_metric);
    json_decref(root);
    return rc;
}
