/* Unit tests for core/config: valid configurations (Branin, Hartmann6, a mixed one),
 * every configuration error with its field path, and the canonical JSON round trip. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "experiment.h"
#include "test_support.h"

static void s_assert_contains(const char *haystack, const char *needle)
{
    if (!strstr(haystack, needle))
        fail_msg("'%s' does not contain '%s'", haystack, needle);
}

static hone_experiment_t *s_load_text(const char *json, uint64_t default_seed)
{
    hone_experiment_t *e = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_experiment_from_json(&e, json, strlen(json), default_seed, &err);
    if (rc != HONE_OK)
        fail_msg("config refused (%d): %s", rc, err.message);
    assert_non_null(e);
    assert_int_equal(err.code, HONE_OK);
    return e;
}

static hone_experiment_t *s_load_fixture(const char *name, uint64_t default_seed)
{
    char rel[128];
    snprintf(rel, sizeof rel, "tests/fixtures/configs/%s", name);
    char *path = hone_test_source_path(rel);
    char *text = hone_test_read_file(path, NULL);
    if (!text)
        fail_msg("cannot read %s", path);
    hone_experiment_t *e = s_load_text(text, default_seed);
    free(text);
    free(path);
    return e;
}

static void test_branin(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load_fixture("branin.json", 1234);
    assert_string_equal(hone_experiment_name(e), "branin");
    bool minimize = false;
    assert_string_equal(hone_experiment_objective(e, &minimize), "branin");
    assert_true(minimize);
    assert_string_equal(hone_experiment_method(e), "fast");   /* Ax's default */
    assert_null(hone_experiment_note(e));
    assert_int_equal(hone_experiment_seed(e), 1234);
    assert_int_equal(hone_experiment_max_trials(e), 30);
    const hone_space_t *space = hone_experiment_space(e);
    assert_int_equal(hone_space_size(space), 2);
    const hone_param_t *x1 = hone_space_param(space, 0);
    assert_string_equal(x1->name, "x1");
    assert_int_equal(x1->kind, HONE_PARAM_RANGE);
    assert_int_equal(x1->type, HONE_TYPE_FLOAT);
    assert_true(x1->lower == -5 && x1->upper == 10);
    assert_false(x1->log_scale);
    assert_int_equal(hone_experiment_metric_count(e), 1);
    assert_int_equal(hone_experiment_metric_find(e, "branin"), 0);
    assert_int_equal(hone_experiment_trial_count(e), 0);
    const char *canonical = hone_experiment_config_json(e);
    s_assert_contains(canonical, "\"initialization_random_seed\":1234");
    s_assert_contains(canonical, "\"max_failures\":30");   /* default: max_trials */
    s_assert_contains(canonical, "\"objective\":\"-branin\"");
    s_assert_contains(canonical, "\"bounds\":[-5.0,10.0]");
    s_assert_contains(canonical, "\"acquisition\":\"auto\"");   /* the default, persisted */
    hone_experiment_destroy(&e);
    assert_null(e);
    hone_experiment_destroy(&e);
}

static void test_hartmann6(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load_fixture("hartmann6.json", 99);
    assert_int_equal(hone_experiment_seed(e), 7);   /* the config's seed wins */
    assert_int_equal(hone_space_size(hone_experiment_space(e)), 6);
    assert_int_equal(hone_experiment_max_trials(e), 40);
    const char *canonical = hone_experiment_config_json(e);
    s_assert_contains(canonical, "\"initialization_budget\":12");
    s_assert_contains(canonical, "\"max_failures\":5");
    s_assert_contains(canonical, "\"parameter_constraints\":[]");
    hone_experiment_destroy(&e);
}

/* Constraints are kept in the canonical config as given, and hold for generated trials. */
static void test_constraints(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load_fixture("constrained.json", 1);
    const char *canonical = hone_experiment_config_json(e);
    s_assert_contains(canonical,
                      "\"parameter_constraints\":[\"x1 + x2 <= 5\",\"2*n >= x1 + 3\",\" n + 10 * rate <= 9.5 \"]");
    uint32_t idx[25], n = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, 25, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 25);
    for (uint32_t t = 0; t < n; t++) {
        const hone_value_t *p = hone_experiment_trial(e, idx[t])->params;
        double x1 = p[0].u.f, x2 = p[1].u.f, rate = p[3].u.f;
        int64_t k = p[2].u.i;
        assert_int_equal(p[2].type, HONE_TYPE_INT);
        assert_true(x1 + x2 <= 5 + 1e-8);
        assert_true(2.0 * (double) k >= x1 + 3 - 1e-8);
        assert_true((double) k + 10 * rate <= 9.5 + 1e-8);
    }
    hone_experiment_destroy(&e);
}

static void test_mixed(void **state)
{
    (void) state;
    hone_experiment_t *e = s_load_fixture("mixed.json", 5);
    bool minimize = true;
    assert_string_equal(hone_experiment_objective(e, &minimize), "accuracy");
    assert_false(minimize);
    assert_string_equal(hone_experiment_method(e), "fast");
    assert_null(hone_experiment_note(e));
    assert_int_equal(hone_experiment_max_trials(e), 0);
    const hone_space_t *s = hone_experiment_space(e);
    assert_int_equal(hone_space_size(s), 12);
    const hone_param_t *p = hone_space_param(s, 0);
    assert_true(p->kind == HONE_PARAM_RANGE && p->type == HONE_TYPE_FLOAT && p->log_scale);
    p = hone_space_param(s, 1);
    assert_true(p->kind == HONE_PARAM_RANGE && p->type == HONE_TYPE_INT && !p->log_scale);
    p = hone_space_param(s, 2);
    assert_true(p->kind == HONE_PARAM_RANGE && p->type == HONE_TYPE_INT && p->log_scale);
    p = hone_space_param(s, 3);
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_STR && !p->is_ordered);
    assert_int_equal(p->n_values, 3);
    p = hone_space_param(s, 4);
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_BOOL && p->is_ordered);
    assert_false(p->values[0].u.b);
    p = hone_space_param(s, 5);   /* ints inferred, sorted, deduplicated, powers of two: log */
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_INT && p->is_ordered && p->log_scale);
    assert_int_equal(p->n_values, 4);
    assert_int_equal(p->values[0].u.i, 16);
    assert_int_equal(p->values[3].u.i, 128);
    p = hone_space_param(s, 6);   /* stepped range */
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_FLOAT && p->is_ordered && !p->log_scale);
    assert_int_equal(p->n_values, 6);
    p = hone_space_param(s, 7);   /* an int and a real: float */
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_FLOAT);
    p = hone_space_param(s, 8);
    assert_true(p->kind == HONE_PARAM_FIXED && p->type == HONE_TYPE_STR);
    assert_string_equal(p->values[0].u.s, "v2");
    p = hone_space_param(s, 9);   /* nulls mean absent */
    assert_true(p->kind == HONE_PARAM_RANGE && !p->log_scale);
    p = hone_space_param(s, 10);   /* explicit settings that differ from the defaults */
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_STR && p->is_ordered);
    p = hone_space_param(s, 11);
    assert_true(p->kind == HONE_PARAM_CHOICE && p->type == HONE_TYPE_INT && p->log_scale);
    const char *canonical = hone_experiment_config_json(e);
    s_assert_contains(canonical, "\"method\":\"fast\"");
    s_assert_contains(canonical, "\"initialize_with_center\":false");
    s_assert_contains(canonical, "\"max_failures\":100");
    s_assert_contains(canonical, "\"objective\":\"accuracy\"");
    /* without a center, the first trial is a Sobol point */
    uint32_t idx[3], n = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(e, 3, idx, &n, &err), HONE_OK);
    assert_int_equal(n, 3);
    assert_string_equal(hone_experiment_trial(e, 0)->note, "sobol");
    hone_experiment_destroy(&e);
}

static void test_default_seed_and_nulls(void **state)
{
    (void) state;
    const char *json = "{\"name\":\"n\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1],\"type\":null}],"
                       "\"objective\":\"y\",\"generation_strategy\":{\"initialization_random_seed\":null},"
                       "\"max_trials\":null,\"max_failures\":null,\"parameter_constraints\":null}";
    hone_experiment_t *e = s_load_text(json, UINT64_MAX);
    assert_int_equal(hone_experiment_seed(e), (uint64_t) INT64_MAX);   /* seeds are 63-bit */
    s_assert_contains(hone_experiment_config_json(e), "\"initialization_random_seed\":9223372036854775807");
    assert_int_equal(hone_experiment_max_trials(e), 0);
    hone_experiment_destroy(&e);
}

/* Several goals: the goals' metrics are the experiment's first, in order, and the
 * strings survive the canonical form as given. */
static void test_goals(void **state)
{
    (void) state;
    const char *json = "{\"name\":\"g\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                       "\"objective\":\"-branin, -currin\",\"outcome_constraints\":[\"disc <= 50\"],"
                       "\"objective_thresholds\":[\"branin <= 18\"]}";
    hone_experiment_t *e = s_load_text(json, 1);
    assert_int_equal(hone_experiment_metric_count(e), 3);
    assert_string_equal(hone_experiment_metric_name(e, 0), "branin");
    assert_string_equal(hone_experiment_metric_name(e, 1), "currin");
    assert_string_equal(hone_experiment_metric_name(e, 2), "disc");
    assert_false(hone_experiment_is_single_objective(e));
    const hone_goals_t *g = hone_experiment_goals(e);
    assert_int_equal(hone_goals_n_objectives(g), 2);
    assert_non_null(hone_goals_threshold(g, 0));
    assert_null(hone_goals_threshold(g, 1));
    assert_int_equal(hone_goals_n_constraints(g), 1);
    const char *canonical = hone_experiment_config_json(e);
    s_assert_contains(canonical, "\"objective\":\"-branin, -currin\"");
    s_assert_contains(canonical, "\"outcome_constraints\":[\"disc <= 50\"]");
    s_assert_contains(canonical, "\"objective_thresholds\":[\"branin <= 18\"]");
    hone_experiment_t *again = s_load_text(canonical, 2);
    assert_string_equal(hone_experiment_config_json(again), canonical);
    hone_experiment_destroy(&again);
    hone_experiment_destroy(&e);

    /* a single objective with a constraint is not the plain single-objective case */
    e = s_load_text("{\"name\":\"c\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                    "\"objective\":\"-loss\",\"outcome_constraints\":[\"qps >= 0.95 * baseline\"]}", 1);
    assert_false(hone_experiment_is_single_objective(e));
    assert_true(hone_goals_constraint(hone_experiment_goals(e), 0)->relative);
    assert_string_equal(hone_experiment_metric_name(e, 1), "qps");
    hone_experiment_destroy(&e);
    /* a scalarized objective keeps its string */
    e = s_load_text("{\"name\":\"s\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}],"
                    "\"objective\":\"ne1 + 2 * ne2\"}", 1);
    s_assert_contains(hone_experiment_config_json(e), "\"objective\":\"ne1 + 2 * ne2\"");
    assert_int_equal(hone_experiment_metric_count(e), 2);
    hone_experiment_destroy(&e);
}

typedef struct {
    const char *json;
    const char *message;   /* a part of the expected message */
} s_bad_t;

#define P1(param) "{\"name\":\"e\",\"objective\":\"y\",\"parameters\":[" param "]}"
#define TOP(extra) "{\"name\":\"e\",\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]," extra "}"

static const s_bad_t s_bad[] = {
    { "[]", "config: must be a JSON object" },
    { "{", "config: invalid JSON" },
    { "{\"name\":\"a\",\"name\":\"b\"}", "config: invalid JSON" },
    { "{\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}", "name: required" },
    { "{\"name\":\"my exp\",\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "name: must be 1 to 128 characters from [A-Za-z0-9_.-]" },
    { "{\"name\":\"\",\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}", "name: must be" },
    { "{\"name\":7,\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}", "name: must be" },
    { "{\"name\":\"e\",\"objective\":\"y\"}", "parameters: required" },
    { "{\"name\":\"e\",\"objective\":\"y\",\"parameters\":[]}", "parameters: must not be empty" },
    { "{\"name\":\"e\",\"objective\":\"y\",\"parameters\":{}}", "parameters: must be an array" },
    { TOP("\"budget\":3"), "config: unknown field 'budget'" },
    { P1("{\"name\":\"x\",\"boundz\":[0,1]}"), "parameters[0]: unknown field 'boundz'" },
    { P1("{\"name\":\"x\",\"bounds\":\"0,1\"}"), "parameters[0].bounds: must be an array of two numbers" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1,2]}"), "parameters[0].bounds: must be an array of two numbers" },
    { P1("{\"name\":\"x\",\"bounds\":[\"0\",\"1\"]}"), "parameters[0].bounds: must be an array of two numbers" },
    { P1("{\"name\":\"x\",\"bounds\":[1,1]}"),
      "parameters[0]: parameter 'x': upper bound must be strictly larger than lower (got [1, 1])" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"scaling\":\"log\"}"), "parameter 'x': cannot take log" },
    { P1("{\"name\":\"x\",\"bounds\":[0.5,3],\"parameter_type\":\"int\"}"), "invalid range for an int parameter" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"parameter_type\":\"double\"}"), "parameters[0].parameter_type" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"parameter_type\":\"str\"}"),
      "parameters[0].parameter_type: a range must be \"float\" or \"int\"" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"scaling\":3}"), "parameters[0].scaling" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"step_size\":-1}"), "parameters[0].step_size: must be a positive number" },
    { P1("{\"name\":\"x\",\"bounds\":[1,100],\"step_size\":1,\"scaling\":\"log\"}"),
      "non-linear parameter scaling is not supported" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"step_size\":0.3}"), "evenly divisible" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"is_ordered\":true}"), "parameters[0].is_ordered: only allowed for a choice" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1],\"log_scale\":true}"), "parameters[0].log_scale: only allowed for a choice" },
    { P1("{\"name\":\"x\",\"values\":[1,2],\"scaling\":\"log\"}"), "parameters[0].scaling: only allowed for a range" },
    { P1("{\"name\":\"x\",\"values\":[1,2],\"step_size\":1}"), "parameters[0].step_size: only allowed for a range" },
    { P1("{\"name\":\"x\",\"values\":[1,2],\"bounds\":[0,1]}"), "parameters[0]: has both" },
    { P1("{\"name\":\"x\"}"), "parameters[0]: needs \"bounds\" (a range) or \"values\" (a choice)" },
    { P1("{\"name\":\"x\",\"type\":\"range\",\"values\":[1,2]}"), "parameters[0].bounds: required for a range" },
    { P1("{\"name\":\"x\",\"type\":\"choice\",\"bounds\":[1,2]}"), "parameters[0].values: required for a choice" },
    { P1("{\"name\":\"x\",\"type\":\"fixed\",\"values\":[1]}"), "parameters[0].type: must be \"range\" or \"choice\"" },
    { P1("{\"name\":\"x\",\"values\":[]}"), "parameters[0].values: must not be empty" },
    { P1("{\"name\":\"x\",\"values\":3}"), "parameters[0].values: must be an array" },
    { P1("{\"name\":\"x\",\"values\":[null]}"), "parameters[0].values[0]: must be a string, a number or a boolean" },
    { P1("{\"name\":\"x\",\"values\":[\"a\",{\"b\":1}]}"), "parameters[0].values[1]: must be" },
    { P1("{\"name\":\"x\",\"values\":[\"False\",true],\"parameter_type\":\"bool\"}"),
      "parameters[0]: parameter 'x': value 'False' is not a boolean" },
    { P1("{\"name\":\"x\",\"values\":[\"a\",\"b\"],\"parameter_type\":\"int\"}"), "value 'a' cannot be cast to int" },
    { P1("{\"name\":\"x\",\"values\":[\"a\",\"b\"],\"parameter_type\":\"text\"}"), "parameters[0].parameter_type" },
    { P1("{\"name\":\"x\",\"values\":[\"a\",\"b\",\"c\"],\"log_scale\":true}"), "log scale requires a numeric" },
    { P1("{\"name\":\"x\",\"values\":[1,2],\"is_ordered\":\"no\"}"), "parameters[0].is_ordered: must be true or false" },
    { P1("{\"name\":\"x\",\"values\":[1,2],\"dependent_parameters\":{\"1\":[\"y\"]}}"),
      "parameters[0].dependent_parameters: hierarchical search spaces are not supported yet" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1]},{\"name\":\"x\",\"values\":[1,2]}"),
      "parameters[1]: parameter 'x': duplicate parameter name" },
    { P1("{\"name\":\"x\",\"bounds\":[0,1]},{\"name\":\"y\",\"bounds\":[0,1]},{\"bounds\":[0,1]}"),
      "parameters[2].name: required" },
    { P1("{\"name\":\"\",\"bounds\":[0,1]}"), "parameters[0].name: must be a non-empty string" },
    { P1("3"), "parameters[0]: must be an object" },
    { "{\"name\":\"e\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}", "objective: required" },
    { "{\"name\":\"e\",\"objective\":5,\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "objective: must be a string" },
    { "{\"name\":\"e\",\"objective\":\"  \",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "objective: Objective expression string must not be empty." },
    { "{\"name\":\"e\",\"objective\":\"a * b\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "contains a non-linear term" },
    { "{\"name\":\"e\",\"objective\":\"loss + 1\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "contains a constant term" },
    { "{\"name\":\"e\",\"objective\":\"-ne, ne\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "Metric 'ne' appears more than once" },
    { "{\"name\":\"e\",\"objective\":\"lo;ss\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "forbidden control characters" },
    { "{\"name\":\"e\",\"objective\":\"-\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "Invalid objective expression" },
    { TOP("\"outcome_constraints\":\"qps >= 1\""), "outcome_constraints: must be an array of strings" },
    { TOP("\"outcome_constraints\":[\"qps >= 1\", 3]"), "outcome_constraints[1]: must be a string" },
    { TOP("\"outcome_constraints\":[\"qps > 1\"]"), "outcome_constraints[0]: at column" },
    { TOP("\"outcome_constraints\":[\"y <= 1\"]"),
      "Outcome constraints may not be placed on the objective metric except in the multi-objective case" },
    { TOP("\"objective_thresholds\":[\"y >= 1\"]"),
      "Objective thresholds are only supported in the multi-objective case" },
    { "{\"name\":\"e\",\"objective\":\"-a, b\",\"early_stopping\":{},"
      "\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
      "early_stopping.metric: required when the objective is not a single metric" },
    { TOP("\"parameter_constraints\":[\"x <= 1\", \"x + y <= 1\"]"),
      "parameter_constraints[1]: `y` does not exist in search space." },
    { TOP("\"parameter_constraints\":[\"x < 1\"]"), "parameter_constraints[0]: Expected an inequality, found x < 1" },
    { TOP("\"parameter_constraints\":[\"x <= 1\", 2]"), "parameter_constraints[1]: must be a string" },
    { TOP("\"parameter_constraints\":[null]"), "parameter_constraints[0]: must be a string" },
    { TOP("\"parameter_constraints\":\"x <= 1\""), "parameter_constraints: must be an array" },
    { TOP("\"generation_strategy\":{\"method\":\"bayes\"}"),
      "generation_strategy.method: must be \"random_search\" or \"fast\"" },
    { TOP("\"generation_strategy\":{\"method\":\"quality\"}"), "\"quality\" is not supported yet" },
    { TOP("\"generation_strategy\":{\"seed\":1}"), "generation_strategy: unknown field 'seed'" },
    { TOP("\"generation_strategy\":{\"prefetch\":1001}"),
      "generation_strategy.prefetch: must be an integer from 0 to 1000" },
    { TOP("\"generation_strategy\":{\"output_warping\":1}"),
      "generation_strategy.output_warping: must be true or false" },
    { TOP("\"generation_strategy\":{\"acquisition\":\"ei\"}"),
      "generation_strategy.acquisition: must be \"auto\", \"qlognei\" or \"logei\"" },
    { TOP("\"generation_strategy\":[]"), "generation_strategy: must be an object" },
    { TOP("\"generation_strategy\":{\"initialization_random_seed\":-1}"),
      "generation_strategy.initialization_random_seed: must be an integer" },
    { TOP("\"generation_strategy\":{\"initialization_random_seed\":1.5}"),
      "generation_strategy.initialization_random_seed: must be an integer" },
    { TOP("\"generation_strategy\":{\"initialize_with_center\":\"yes\"}"),
      "generation_strategy.initialize_with_center: must be true or false" },
    { TOP("\"generation_strategy\":{\"initialization_budget\":-5}"), "generation_strategy.initialization_budget" },
    { TOP("\"max_trials\":-1"), "max_trials: must be an integer from 0 to 4294967295" },
    { TOP("\"max_trials\":5.0"), "max_trials: must be an integer" },
    { TOP("\"max_trials\":4294967296"), "max_trials: must be an integer" },
    { TOP("\"max_failures\":0"), "max_failures: must be an integer from 1" },
    { TOP("\"leases\":[]"), "leases: must be an object" },
    { TOP("\"leases\":{\"heartbeat\":5}"), "leases: unknown field 'heartbeat' (known fields: heartbeat_ms, liveness, max_retries)" },
    { TOP("\"leases\":{\"heartbeat_ms\":9}"), "leases.heartbeat_ms: must be an integer from 10 to 60000" },
    { TOP("\"leases\":{\"heartbeat_ms\":60001}"), "leases.heartbeat_ms: must be an integer from 10 to 60000" },
    { TOP("\"leases\":{\"heartbeat_ms\":1.5}"), "leases.heartbeat_ms: must be an integer" },
    { TOP("\"leases\":{\"liveness\":0}"), "leases.liveness: must be an integer from 1 to 100" },
    { TOP("\"leases\":{\"max_retries\":-1}"), "leases.max_retries: must be an integer from 0 to 100" },
    { TOP("\"leases\":{\"max_retries\":101}"), "leases.max_retries: must be an integer from 0 to 100" },
    { TOP("\"heartbeat_ms\":1000"), "unknown field 'heartbeat_ms'" },
    { TOP("\"early_stopping\":[]"), "early_stopping: must be an object" },
    { TOP("\"early_stopping\":{\"type\":\"median\"}"), "early_stopping.type: must be \"percentile\" or \"threshold\"" },
    { TOP("\"early_stopping\":{\"type\":3}"), "early_stopping.type: must be" },
    { TOP("\"early_stopping\":{\"percentile\":50}"), "early_stopping: unknown field 'percentile'" },
    { TOP("\"early_stopping\":{\"metric_threshold\":1}"), "early_stopping: unknown field 'metric_threshold'" },
    { TOP("\"early_stopping\":{\"type\":\"threshold\",\"patience\":1}"), "early_stopping: unknown field 'patience'" },
    { TOP("\"early_stopping\":{\"type\":\"threshold\",\"n_best_trials_to_complete\":1}"),
      "early_stopping: unknown field 'n_best_trials_to_complete'" },
    { TOP("\"early_stopping\":{\"percentile_threshold\":\"50\"}"), "early_stopping.percentile_threshold: must be a number" },
    { TOP("\"early_stopping\":{\"percentile_threshold\":120}"), "early_stopping.percentile_threshold: must be in [0, 100]" },
    { TOP("\"early_stopping\":{\"type\":\"threshold\",\"metric_threshold\":true}"),
      "early_stopping.metric_threshold: must be a number" },
    { TOP("\"early_stopping\":{\"min_progression\":-1}"), "early_stopping.min_progression" },
    { TOP("\"early_stopping\":{\"min_progression\":\"10\"}"), "early_stopping.min_progression: must be a number or null" },
    { TOP("\"early_stopping\":{\"max_progression\":10}"), "early_stopping.max_progression" },
    { TOP("\"early_stopping\":{\"min_curves\":-1}"), "early_stopping.min_curves: must be an integer" },
    { TOP("\"early_stopping\":{\"min_curves\":2.5}"), "early_stopping.min_curves: must be an integer" },
    { TOP("\"early_stopping\":{\"n_best_trials_to_complete\":-2}"),
      "early_stopping.n_best_trials_to_complete: must be an integer" },
    { TOP("\"early_stopping\":{\"interval\":0}"), "early_stopping.interval" },
    { TOP("\"early_stopping\":{\"patience\":11}"), "early_stopping.patience" },
    { TOP("\"early_stopping\":{\"patience\":-1}"), "early_stopping.patience" },
    { TOP("\"early_stopping\":{\"normalize_progressions\":1}"), "early_stopping.normalize_progressions: must be true or false" },
    { TOP("\"early_stopping\":{\"check_safe\":\"yes\"}"), "early_stopping.check_safe: must be true or false" },
    { TOP("\"early_stopping\":{\"metric\":5}"), "early_stopping.metric: must be a string" },
    { TOP("\"early_stopping\":{\"metric\":\"a + b\"}"), "early_stopping.metric: " },
    { TOP("\"early_stopping\":{\"metric\":\" \"}"), "early_stopping.metric: " },
};

static void test_config_errors(void **state)
{
    (void) state;
    for (size_t i = 0; i < HONE_ARRAY_LEN(s_bad); i++) {
        hone_experiment_t *e = (hone_experiment_t *) 1;
        hone_error_t err;
        hone_error_clear(&err);
        int rc = hone_experiment_from_json(&e, s_bad[i].json, strlen(s_bad[i].json), 1, &err);
        if (rc != HONE_EINVAL)
            fail_msg("case %zu (%s) gave %d, expected HONE_EINVAL", i, s_bad[i].json, rc);
        assert_null(e);
        assert_int_equal(err.code, HONE_EINVAL);
        if (!strstr(err.message, s_bad[i].message))
            fail_msg("case %zu (%s): '%s' does not contain '%s'", i, s_bad[i].json, err.message, s_bad[i].message);
    }
    /* 129 characters are too many, 128 are fine */
    char json[512];
    char name[130];
    memset(name, 'a', 129);
    name[129] = '\0';
    snprintf(json, sizeof json, "{\"name\":\"%s\",\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
             name);
    hone_experiment_t *e = NULL;
    hone_error_t err;
    assert_int_equal(hone_experiment_from_json(&e, json, strlen(json), 1, &err), HONE_EINVAL);
    name[128] = '\0';
    snprintf(json, sizeof json, "{\"name\":\"%s\",\"objective\":\"y\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
             name);
    assert_int_equal(hone_experiment_from_json(&e, json, strlen(json), 1, &err), HONE_OK);
    hone_experiment_destroy(&e);
}

static void test_objective_forms(void **state)
{
    (void) state;
    static const struct { const char *objective; const char *metric; bool minimize; } cases[] = {
        { "loss", "loss", false },
        { "-loss", "loss", true },
        { " - loss ", "loss", true },
        { "+acc", "acc", false },
        { "val-loss", "val-loss", false },
        { "CIFAR10 Test Accuracy", "CIFAR10 Test Accuracy", false },
        { "-train/loss:mean", "train/loss:mean", true },
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(cases); i++) {
        char json[256];
        snprintf(json, sizeof json, "{\"name\":\"o\",\"objective\":\"%s\",\"parameters\":[{\"name\":\"x\",\"bounds\":[0,1]}]}",
                 cases[i].objective);
        hone_experiment_t *e = s_load_text(json, 1);
        bool minimize = !cases[i].minimize;
        assert_string_equal(hone_experiment_objective(e, &minimize), cases[i].metric);
        assert_int_equal(minimize, cases[i].minimize);
        hone_experiment_destroy(&e);
    }
}

/* Loads a fixture, reloads its canonical config, and compares the two experiments:
 * same canonical text, same space, and the same trials bit for bit. */
static void s_round_trip(const char *fixture)
{
    hone_experiment_t *a = s_load_fixture(fixture, 424242);
    const char *canonical = hone_experiment_config_json(a);
    hone_experiment_t *b = s_load_text(canonical, 1);   /* the stored seed wins over this default */
    assert_string_equal(hone_experiment_config_json(b), canonical);
    assert_int_equal(hone_experiment_seed(a), hone_experiment_seed(b));
    const hone_space_t *sa = hone_experiment_space(a), *sb = hone_experiment_space(b);
    assert_int_equal(hone_space_size(sa), hone_space_size(sb));
    for (size_t i = 0; i < hone_space_size(sa); i++) {
        const hone_param_t *pa = hone_space_param(sa, i), *pb = hone_space_param(sb, i);
        assert_string_equal(pa->name, pb->name);
        assert_int_equal(pa->kind, pb->kind);
        assert_int_equal(pa->type, pb->type);
        assert_int_equal(pa->log_scale, pb->log_scale);
        assert_int_equal(pa->is_ordered, pb->is_ordered);
        assert_int_equal(pa->n_values, pb->n_values);
        assert_memory_equal(&pa->lower, &pb->lower, sizeof(double));
        assert_memory_equal(&pa->upper, &pb->upper, sizeof(double));
        for (size_t j = 0; j < pa->n_values; j++)
            assert_true(hone_value_equal(&pa->values[j], &pb->values[j]));
    }
    uint32_t ia[20], ib[20], na = 0, nb = 0;
    hone_error_t err;
    assert_int_equal(hone_experiment_generate(a, 20, ia, &na, &err), HONE_OK);
    assert_int_equal(hone_experiment_generate(b, 20, ib, &nb, &err), HONE_OK);
    assert_int_equal(na, nb);
    assert_true(na > 0);
    for (uint32_t t = 0; t < na; t++) {
        const hone_trial_t *ta = hone_experiment_trial(a, ia[t]), *tb = hone_experiment_trial(b, ib[t]);
        assert_string_equal(ta->note, tb->note);
        for (size_t k = 0; k < hone_space_size(sa); k++) {
            assert_int_equal(ta->params[k].type, tb->params[k].type);
            if (ta->params[k].type == HONE_TYPE_STR)
                assert_string_equal(ta->params[k].u.s, tb->params[k].u.s);
            else
                assert_memory_equal(&ta->params[k].u, &tb->params[k].u, sizeof ta->params[k].u);
        }
    }
    hone_experiment_destroy(&a);
    hone_experiment_destroy(&b);
}

static void test_leases(void **state)
{
    (void) state;
    /* defaults: 1 s heartbeat, liveness 3, 3 retries; persisted in the canonical form */
    hone_experiment_t *e = s_load_text(TOP("\"max_trials\":2"), 1);
    const hone_lease_settings_t *l = hone_experiment_leases(e);
    assert_int_equal(l->heartbeat_ms, 1000);
    assert_int_equal(l->liveness, 3);
    assert_int_equal(l->max_retries, 3);
    s_assert_contains(hone_experiment_config_json(e), "\"leases\":{\"heartbeat_ms\":1000,\"liveness\":3,\"max_retries\":3}");
    hone_experiment_destroy(&e);
    /* the bounds, and null meaning absent */
    e = s_load_text(TOP("\"leases\":{\"heartbeat_ms\":10,\"liveness\":1,\"max_retries\":0}"), 1);
    l = hone_experiment_leases(e);
    assert_true(l->heartbeat_ms == 10 && l->liveness == 1 && l->max_retries == 0);
    hone_experiment_destroy(&e);
    e = s_load_text(TOP("\"leases\":{\"heartbeat_ms\":60000,\"liveness\":100,\"max_retries\":100}"), 1);
    l = hone_experiment_leases(e);
    assert_true(l->heartbeat_ms == 60000 && l->liveness == 100 && l->max_retries == 100);
    char *canonical = strdup(hone_experiment_config_json(e));
    hone_experiment_destroy(&e);
    /* the canonical form loads back to the same settings */
    e = s_load_text(canonical, 1);
    l = hone_experiment_leases(e);
    assert_true(l->heartbeat_ms == 60000 && l->liveness == 100 && l->max_retries == 100);
    assert_string_equal(hone_experiment_config_json(e), canonical);
    free(canonical);
    hone_experiment_destroy(&e);
    e = s_load_text(TOP("\"leases\":{\"heartbeat_ms\":null,\"liveness\":5}"), 1);
    l = hone_experiment_leases(e);
    assert_true(l->heartbeat_ms == 1000 && l->liveness == 5 && l->max_retries == 3);
    hone_experiment_destroy(&e);
    e = s_load_text(TOP("\"leases\":null"), 1);
    assert_int_equal(hone_experiment_leases(e)->heartbeat_ms, 1000);
    hone_experiment_destroy(&e);
}

static void test_canonical_round_trip(void **state)
{
    (void) state;
    s_round_trip("branin.json");
    s_round_trip("hartmann6.json");
    s_round_trip("mixed.json");
    s_round_trip("constrained.json");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_branin),
        cmocka_unit_test(test_hartmann6),
        cmocka_unit_test(test_mixed),
        cmocka_unit_test(test_constraints),
        cmocka_unit_test(test_default_seed_and_nulls),
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_goals),
        cmocka_unit_test(test_objective_forms),
        cmocka_unit_test(test_canonical_round_trip),
        cmocka_unit_test(test_leases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
