/* config.c: the experiment configuration in JSON (experiment.h gives the fields):
 * hone_experiment_from_json, the whole-configuration parse with field paths and
 * validation, the goals, generation-strategy, leases and early-stopping blocks, and the
 * small JSON getters the other config files share. The parameters are parsed in
 * config_params.c and the canonical form that is persisted is built in
 * config_canonical.c; config_internal.h is their seam. Together these files are the sole
 * jansson user of the experiment model (CONVENTIONS.md §22).
 *
 * Optional fields may be null, which means the same as absent (what a Python config
 * with None values serializes to). Unknown fields are errors, so typos are caught. */
#include "config_internal.h"

#include "alloc.h"
#include "goals.h"
#include "objective.h"
#include "sobol.h"

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
static const char *const s_gs_fields[] = {
    "method", "initialization_random_seed", "initialize_with_center", "initialization_budget",
    "min_observed_initialization_trials", "use_existing_trials_for_initialization",
    "allow_exceeding_initialization_budget", "kernel", "acquisition", "output_warping", "prefetch", NULL,
};

/* obj[key], with null read as absent. */
json_t *hone_config_get(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_null(v) ? NULL : v;
}

int hone_config_check_fields(const json_t *obj, const char *const *allowed, const char *path,
                             hone_error_t *err)
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
int hone_config_get_uint(const json_t *obj, const char *key, const char *path, uint64_t lo, uint64_t hi,
                         uint64_t *out, hone_error_t *err)
{
    json_t *v = hone_config_get(obj, key);
    if (!v)
        return HONE_OK;
    json_int_t i = json_is_integer(v) ? json_integer_value(v) : -1;
    if (!json_is_integer(v) || i < 0 || (uint64_t) i < lo || (uint64_t) i > hi)
        return hone_error_set(err, HONE_EINVAL, "%s%s: must be an integer from %llu to %llu",
                              path, key, (unsigned long long) lo, (unsigned long long) hi);
    *out = (uint64_t) i;
    return HONE_OK;
}

int hone_config_get_bool(const json_t *obj, const char *key, const char *path, bool *out, hone_error_t *err)
{
    json_t *v = hone_config_get(obj, key);
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
 * The whole configuration. */

static int s_parse_strategy(const json_t *root, hone_config_parsed_t *out, uint64_t default_seed,
                            hone_error_t *err)
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
    const json_t *gs = hone_config_get(root, "generation_strategy");
    if (gs) {
        if (!json_is_object(gs))
            return hone_error_set(err, HONE_EINVAL, "generation_strategy: must be an object");
        int rc = hone_config_check_fields(gs, s_gs_fields, "generation_strategy", err);
        if (rc != HONE_OK)
            return rc;
        const json_t *m = hone_config_get(gs, "method");
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
        rc = hone_config_get_uint(gs, "initialization_random_seed", "generation_strategy.", 0,
                                  (uint64_t) INT64_MAX, &seed, err);
        if (rc == HONE_OK)
            rc = hone_config_get_bool(gs, "initialize_with_center", "generation_strategy.",
                                      &out->s.initialize_with_center, err);
        if (rc == HONE_OK)
            rc = hone_config_get_uint(gs, "initialization_budget", "generation_strategy.", 0, UINT32_MAX, &budget,
                                      err);
        if (rc == HONE_OK)
            rc = hone_config_get_uint(gs, "min_observed_initialization_trials", "generation_strategy.", 0,
                                      UINT32_MAX, &min_observed, err);
        if (rc == HONE_OK)
            rc = hone_config_get_bool(gs, "use_existing_trials_for_initialization", "generation_strategy.",
                                      &out->s.use_existing_trials, err);
        if (rc == HONE_OK)
            rc = hone_config_get_bool(gs, "allow_exceeding_initialization_budget", "generation_strategy.",
                                      &out->s.allow_exceeding_budget, err);
        const json_t *k = hone_config_get(gs, "kernel");
        if (rc == HONE_OK && k) {
            const char *kernel = json_is_string(k) ? json_string_value(k) : "";
            if (streq(kernel, "matern52") || streq(kernel, "rbf"))
                out->s.kernel = streq(kernel, "rbf") ? "rbf" : "matern52";
            else
                rc = hone_error_set(err, HONE_EINVAL, "generation_strategy.kernel: must be \"matern52\" or \"rbf\"");
        }
        if (rc == HONE_OK)
            rc = hone_config_get_bool(gs, "output_warping", "generation_strategy.", &out->s.output_warping, err);
        uint64_t prefetch = 0;
        if (rc == HONE_OK)
            rc = hone_config_get_uint(gs, "prefetch", "generation_strategy.", 0, HONE_EXPERIMENT_PREFETCH_MAX,
                                      &prefetch, err);
        out->s.prefetch = (uint32_t) prefetch;
        const json_t *acq = hone_config_get(gs, "acquisition");
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
    const json_t *leases = hone_config_get(root, "leases");
    if (leases) {
        if (!json_is_object(leases))
            return hone_error_set(err, HONE_EINVAL, "leases: must be an object such as {\"heartbeat_ms\": 1000, "
                                  "\"liveness\": 3, \"max_retries\": 3}");
        int rc = hone_config_check_fields(leases, s_lease_fields, "leases", err);
        if (rc == HONE_OK)
            rc = hone_config_get_uint(leases, "heartbeat_ms", "leases.", HONE_LEASE_HEARTBEAT_MS_MIN,
                                      HONE_LEASE_HEARTBEAT_MS_MAX, &heartbeat, err);
        if (rc == HONE_OK)
            rc = hone_config_get_uint(leases, "liveness", "leases.", 1, HONE_LEASE_LIVENESS_MAX, &liveness, err);
        if (rc == HONE_OK)
            rc = hone_config_get_uint(leases, "max_retries", "leases.", 0, HONE_LEASE_MAX_RETRIES_MAX, &retries,
                                      err);
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
    int rc = hone_config_get_uint(es, key, "early_stopping.", 0, UINT32_MAX, &n, err);
    *out = (uint32_t) n;
    return rc;
}

/* The "early_stopping" object: Ax's strategy arguments (stopping.h) with Ax's defaults,
 * "type" ("percentile", Ax's default, or "threshold") and "metric" (the objective when
 * absent; "m" maximizes, "-m" minimizes, as the objective). Absent: none configured. */
static int s_parse_early_stopping(const json_t *root, hone_config_parsed_t *out, hone_error_t *err)
{
    const json_t *es = hone_config_get(root, "early_stopping");
    out->s.has_early_stopping = es != NULL;
    if (!es)
        return HONE_OK;
    if (!json_is_object(es))
        return hone_error_set(err, HONE_EINVAL, "early_stopping: must be an object such as "
                              "{\"type\": \"percentile\", \"percentile_threshold\": 50}");
    hone_stopping_type_t type = HONE_STOPPING_PERCENTILE;
    const json_t *t = hone_config_get(es, "type");
    if (t && !json_is_string(t))
        return hone_error_set(err, HONE_EINVAL, "early_stopping.type: must be \"percentile\" or \"threshold\"");
    int rc = t ? hone_stopping_type_parse(json_string_value(t), &type, err) : HONE_OK;
    if (rc != HONE_OK)
        return rc;
    bool percentile = type == HONE_STOPPING_PERCENTILE;
    rc = hone_config_check_fields(es, percentile ? s_es_percentile_fields : s_es_threshold_fields,
                                  "early_stopping", err);
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
        rc = hone_config_get_bool(es, "normalize_progressions", "early_stopping.", &cfg->normalize_progressions,
                                  err);
    if (rc == HONE_OK && percentile)
        rc = s_get_count(es, "n_best_trials_to_complete", &cfg->n_best_trials_to_complete, err);
    if (rc == HONE_OK)
        rc = s_get_number(es, "interval", true, &cfg->interval, err);
    if (rc == HONE_OK && percentile)
        rc = s_get_number(es, "patience", false, &cfg->patience, err);
    if (rc == HONE_OK)
        rc = hone_config_get_bool(es, "check_safe", "early_stopping.", &cfg->check_safe, err);
    if (rc == HONE_OK)
        rc = hone_stopping_config_validate(cfg, err);
    if (rc != HONE_OK)
        return rc;
    const json_t *m = hone_config_get(es, "metric");
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
    const json_t *list = hone_config_get(root, field);
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
static int s_parse_goals(const json_t *root, hone_config_parsed_t *out, hone_error_t *err)
{
    const json_t *objective = hone_config_get(root, "objective");
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
    out->outcome_constraints = (json_t *) hone_config_get(root, "outcome_constraints");
    out->objective_thresholds = (json_t *) hone_config_get(root, "objective_thresholds");
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

static int s_parse(const json_t *root, hone_config_parsed_t *out, hone_space_t *space, uint64_t default_seed,
                   hone_error_t *err)
{
    if (!json_is_object(root))
        return hone_error_set(err, HONE_EINVAL, "config: must be a JSON object");
    int rc = hone_config_check_fields(root, s_top_fields, "config", err);
    if (rc != HONE_OK)
        return rc;

    const json_t *name = hone_config_get(root, "name");
    if (!name)
        return hone_error_set(err, HONE_EINVAL, "name: required");
    if (!json_is_string(name) || !s_valid_name(json_string_value(name)))
        return hone_error_set(err, HONE_EINVAL, "name: must be 1 to %d characters from [A-Za-z0-9_.-]", S_NAME_MAX);
    out->s.name = json_string_value(name);

    const json_t *params = hone_config_get(root, "parameters");
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
        rc = hone_config_parse_parameter(space, json_array_get(params, i), i, err);
        if (rc != HONE_OK)
            return rc;
    }

    const json_t *constraints = hone_config_get(root, "parameter_constraints");
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
    rc = hone_config_get_uint(root, "max_trials", "", 0, UINT32_MAX, &max_trials, err);
    if (rc != HONE_OK)
        return rc;
    uint64_t max_failures = max_trials > 0 ? max_trials : S_DEFAULT_MAX_FAILURES;
    rc = hone_config_get_uint(root, "max_failures", "", 1, UINT32_MAX, &max_failures, err);
    if (rc != HONE_OK)
        return rc;
    out->s.max_trials = (uint32_t) max_trials;
    out->s.max_failures = (uint32_t) max_failures;
    rc = s_parse_leases(root, &out->s.leases, err);
    if (rc != HONE_OK)
        return rc;
    return s_parse_early_stopping(root, out, err);
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
    hone_config_parsed_t cfg;
    memset(&cfg, 0, sizeof cfg);
    hone_space_t *space = hone_space_new();
    int rc = s_parse(root, &cfg, space, default_seed, err);
    if (rc == HONE_OK) {
        char *canonical = hone_config_canonical(&cfg, space);
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
