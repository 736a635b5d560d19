/* config_params.c: the "parameters" of the experiment configuration (config.c parses
 * the rest): each entry checked field by field and added to the search space as a range
 * ("bounds") or a choice ("values"), with errors that name the field path
 * ("parameters[2].bounds: ..."). Part of the config module (config_internal.h). */
#include "config_internal.h"

#include "alloc.h"

#include <math.h>
#include <stdio.h>

static const char *const s_param_fields[] = {
    "name", "type", "bounds", "parameter_type", "scaling", "step_size", "values", "is_ordered",
    "log_scale", "dependent_parameters", NULL,
};

static int s_reject_field(const json_t *p, const char *key, const char *path, const char *why,
                          hone_error_t *err)
{
    if (hone_config_get(p, key))
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
    const json_t *bounds = hone_config_get(p, "bounds");
    if (!json_is_array(bounds) || json_array_size(bounds) != 2 || !json_is_number(json_array_get(bounds, 0))
        || !json_is_number(json_array_get(bounds, 1)))
        return hone_error_set(err, HONE_EINVAL, "%s.bounds: must be an array of two numbers [lower, upper]",
                              path);
    double lower = json_number_value(json_array_get(bounds, 0));
    double upper = json_number_value(json_array_get(bounds, 1));
    hone_type_t type = HONE_TYPE_FLOAT;
    const json_t *pt = hone_config_get(p, "parameter_type");
    if (pt && (!json_is_string(pt) || hone_type_parse(json_string_value(pt), &type) != HONE_OK
               || (type != HONE_TYPE_FLOAT && type != HONE_TYPE_INT)))
        return hone_error_set(err, HONE_EINVAL, "%s.parameter_type: a range must be \"float\" or \"int\"", path);
    const char *scaling = NULL;
    const json_t *sc = hone_config_get(p, "scaling");
    if (sc && !json_is_string(sc))
        return hone_error_set(err, HONE_EINVAL, "%s.scaling: must be \"linear\" or \"log\"", path);
    if (sc)
        scaling = json_string_value(sc);
    double step = NAN;
    const json_t *st = hone_config_get(p, "step_size");
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
    const json_t *values = hone_config_get(p, "values");
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
        const json_t *pt = hone_config_get(p, "parameter_type");
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
    if (rc == HONE_OK && hone_config_get(p, "is_ordered")) {
        rc = hone_config_get_bool(p, "is_ordered", dotted, &flag, err);
        is_ordered = flag;
    }
    if (rc == HONE_OK && hone_config_get(p, "log_scale")) {
        rc = hone_config_get_bool(p, "log_scale", dotted, &flag, err);
        log_scale = flag;
    }
    if (rc == HONE_OK)
        rc = s_space_error(hone_space_add_choice(space, name, type, vals, n, is_ordered, log_scale, err),
                           path, err);
    hone_free(vals);
    return rc;
}

int hone_config_parse_parameter(hone_space_t *space, const json_t *p, size_t index, hone_error_t *err)
{
    char path[48];
    snprintf(path, sizeof path, "parameters[%zu]", index);
    if (!json_is_object(p))
        return hone_error_set(err, HONE_EINVAL, "%s: must be an object", path);
    int rc = hone_config_check_fields(p, s_param_fields, path, err);
    if (rc != HONE_OK)
        return rc;
    const json_t *name = hone_config_get(p, "name");
    if (!name)
        return hone_error_set(err, HONE_EINVAL, "%s.name: required", path);
    if (!json_is_string(name) || !*json_string_value(name))
        return hone_error_set(err, HONE_EINVAL, "%s.name: must be a non-empty string", path);
    if (hone_config_get(p, "dependent_parameters"))
        return hone_error_set(err, HONE_EINVAL,
                              "%s.dependent_parameters: hierarchical search spaces are not supported yet", path);
    bool has_bounds = hone_config_get(p, "bounds") != NULL;
    bool has_values = hone_config_get(p, "values") != NULL;
    const json_t *kind = hone_config_get(p, "type");
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
