/* json_line.c: parsing JSON lines (readings, points to predict at), cleaning UTF-8,
 * and the one dump every JSON line goes through (exact numbers, one line). The
 * renderers of SDK results are in json_render.c. */
#include "json_line.h"
#include "json_line_internal.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_STEP_KEY "step"

void hone_json_line_reading_clear(hone_json_reading_t *reading)
{
    if (!reading)
        return;
    for (size_t i = 0; i < reading->n; i++)
        free(reading->names[i]);
    free(reading->names);
    free(reading->means);
    free(reading->sems);
    memset(reading, 0, sizeof *reading);
}

static int s_why(char *why, size_t why_size, int code, const char *fmt, const char *key)
{
    if (why && why_size)
        snprintf(why, why_size, fmt, key);
    return code;
}

/* A number, or [mean] / [mean, sem|null]. */
static bool s_metric_value(const json_t *value, double *mean, double *sem)
{
    *sem = NAN;
    if (json_is_number(value)) {
        *mean = json_number_value(value);
        return isfinite(*mean);
    }
    if (!json_is_array(value) || json_array_size(value) < 1 || json_array_size(value) > 2
        || !json_is_number(json_array_get(value, 0)))
        return false;
    *mean = json_number_value(json_array_get(value, 0));
    if (json_array_size(value) == 2) {
        const json_t *s = json_array_get(value, 1);
        if (json_is_number(s))
            *sem = json_number_value(s);
        else if (!json_is_null(s))
            return false;
        if (!isnan(*sem) && (!isfinite(*sem) || *sem < 0))
            return false;
    }
    return isfinite(*mean);
}

static bool s_step_value(const json_t *value, int64_t *step)
{
    if (json_is_integer(value)) {
        *step = (int64_t) json_integer_value(value);
        return true;
    }
    if (json_is_real(value)) {
        double d = json_real_value(value);
        if (d == floor(d) && fabs(d) < 9.0e15) {
            *step = (int64_t) d;
            return true;
        }
    }
    return false;
}

int hone_json_line_parse_reading(const char *text, size_t len, bool allow_step, hone_json_reading_t *out,
                                 char *why, size_t why_size)
{
    memset(out, 0, sizeof *out);
    if (why && why_size)
        why[0] = '\0';
    /* Cheap test first: most lines a program prints are not JSON at all. */
    size_t start = 0;
    while (start < len && (text[start] == ' ' || text[start] == '\t'))
        start++;
    if (start == len || text[start] != '{')
        return HONE_ENOTFOUND;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return HONE_ENOTFOUND;
    if (!json_is_object(root)) {
        json_decref(root);
        return HONE_ENOTFOUND;
    }
    size_t cap = json_object_size(root);
    out->names = calloc(cap ? cap : 1, sizeof *out->names);
    out->means = calloc(cap ? cap : 1, sizeof *out->means);
    out->sems = calloc(cap ? cap : 1, sizeof *out->sems);
    int rc = out->names && out->means && out->sems ? HONE_OK : HONE_ENOMEM;
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value) {
        if (rc != HONE_OK)
            break;
        if (allow_step && strcmp(key, S_STEP_KEY) == 0) {
            if (!s_step_value(value, &out->step))
                rc = s_why(why, why_size, HONE_EINVAL, "\"%s\" must be an integer", key);
            out->has_step = true;
            continue;
        }
        if (!*key) {
            rc = s_why(why, why_size, HONE_EINVAL, "a metric name is empty%s", "");
            break;
        }
        double mean, sem;
        if (!s_metric_value(value, &mean, &sem)) {
            rc = s_why(why, why_size, HONE_EINVAL,
                       "metric \"%s\" must be a finite number or [mean, sem] with sem >= 0 or null", key);
            break;
        }
        out->names[out->n] = strdup(key);
        if (!out->names[out->n]) {
            rc = HONE_ENOMEM;
            break;
        }
        out->means[out->n] = mean;
        out->sems[out->n] = sem;
        out->n++;
    }
    json_decref(root);
    if (rc != HONE_OK)
        hone_json_line_reading_clear(out);
    return rc;
}

/* ---- points ---- */

void hone_json_line_points_clear(hone_json_points_t *points)
{
    if (!points)
        return;
    hone_points_destroy(&points->points);
    for (size_t i = 0; i < points->n; i++) {
        free(points->params[i]);
        free(points->cells[i]);
    }
    free(points->params);
    free(points->cells);
    memset(points, 0, sizeof *points);
}

/* Appends key=value (value as typed on the command line, floats shortest) to a cell. */
static bool s_cell_append(char **cell, size_t *len, const char *key, const json_t *value)
{
    char text[64];
    const char *shown = text;
    if (json_is_integer(value))
        snprintf(text, sizeof text, "%" JSON_INTEGER_FORMAT, json_integer_value(value));
    else if (json_is_real(value))
        snprintf(text, sizeof text, "%.6g", json_real_value(value));
    else if (json_is_string(value))
        shown = json_string_value(value);
    else
        shown = json_is_true(value) ? "true" : "false";
    size_t add = strlen(key) + strlen(shown) + 2;
    char *grown = realloc(*cell, *len + add + 1);
    if (!grown)
        return false;
    snprintf(grown + *len, add + 1, "%s%s=%s", *len ? " " : "", key, shown);
    *len += strlen(grown + *len);
    *cell = grown;
    return true;
}

/* Adds one point (a JSON object) to out; index is its number, for why. */
static int s_add_point(json_t *object, size_t index, hone_json_points_t *out, char *why, size_t why_size)
{
    if (!json_is_object(object)) {
        if (why && why_size)
            snprintf(why, why_size, "point %zu must be a JSON object of parameter values", index);
        return HONE_EINVAL;
    }
    const char *key;
    json_t *value;
    json_object_foreach(object, key, value) {
        if (!*key || !(json_is_number(value) || json_is_string(value) || json_is_boolean(value))) {
            if (why && why_size)
                snprintf(why, why_size, "point %zu: \"%s\" must be a parameter name with a number, a string or "
                         "a boolean", index, key);
            return HONE_EINVAL;
        }
    }
    char **params = realloc(out->params, (out->n + 1) * sizeof *params);
    if (params)
        out->params = params;
    char **cells = params ? realloc(out->cells, (out->n + 1) * sizeof *cells) : NULL;
    if (cells)
        out->cells = cells;
    if (!params || !cells || hone_points_add(out->points) != HONE_OK)
        return HONE_ENOMEM;
    int rc = HONE_OK;
    char *cell = NULL;
    size_t cell_len = 0;
    json_object_foreach(object, key, value) {
        if (json_is_integer(value))
            rc = hone_points_set_int(out->points, key, (int64_t) json_integer_value(value));
        else if (json_is_real(value))
            rc = hone_points_set_double(out->points, key, json_real_value(value));
        else if (json_is_string(value))
            rc = hone_points_set_str(out->points, key, json_string_value(value));
        else
            rc = hone_points_set_bool(out->points, key, json_is_true(value));
        if (rc == HONE_OK && !s_cell_append(&cell, &cell_len, key, value))
            rc = HONE_ENOMEM;
        if (rc != HONE_OK)
            break;
    }
    if (rc == HONE_OK && !cell)
        cell = strdup("-");
    char *text = rc == HONE_OK && cell ? hone_json_line_dump(json_incref(object)) : NULL;
    if (!text) {
        free(cell);
        return rc == HONE_OK ? HONE_ENOMEM : rc;
    }
    out->params[out->n] = text;
    out->cells[out->n] = cell;
    out->n++;
    return HONE_OK;
}

int hone_json_line_parse_points(const char *text, size_t len, hone_json_points_t *out, char *why,
                                size_t why_size)
{
    if (why && why_size)
        why[0] = '\0';
    if (!out->points && hone_points_new(&out->points) != HONE_OK)
        return HONE_ENOMEM;
    json_error_t jerr;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        if (why && why_size)
            snprintf(why, why_size, "not JSON: %s", jerr.text);
        return HONE_EINVAL;
    }
    int rc = HONE_OK;
    if (json_is_array(root)) {
        if (json_array_size(root) == 0) {
            rc = HONE_EINVAL;
            if (why && why_size)
                snprintf(why, why_size, "an empty array holds no point");
        }
        for (size_t i = 0; rc == HONE_OK && i < json_array_size(root); i++)
            rc = s_add_point(json_array_get(root, i), out->n, out, why, why_size);
    } else {
        rc = s_add_point(root, out->n, out, why, why_size);
    }
    json_decref(root);
    return rc;
}

/* ---- UTF-8 ---- */

/* Length of the valid UTF-8 sequence at s (at most n bytes), or 0 if invalid. */
static size_t s_utf8_seq(const unsigned char *s, size_t n)
{
    size_t len;
    uint32_t cp;
    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        len = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        len = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        len = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

void hone_json_line_clean_utf8(char *text)
{
    unsigned char *s = (unsigned char *) text;
    size_t n = strlen(text);
    for (size_t i = 0; i < n;) {
        size_t len = s_utf8_seq(s + i, n - i);
        if (len == 0) {
            s[i] = '?';
            len = 1;
        }
        i += len;
    }
}

/* ---- dumping ---- */

/* Smallest %.*g precision that reads back as the same double. */
static int s_precision_of(double v)
{
    char buf[40];
    for (int p = 1; p < 17; p++) {
        snprintf(buf, sizeof buf, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return p;
    }
    return 17;
}

static int s_precision(const json_t *node)
{
    int p = 1;
    if (json_is_real(node))
        return s_precision_of(json_real_value(node));
    if (json_is_array(node)) {
        for (size_t i = 0; i < json_array_size(node); i++) {
            int q = s_precision(json_array_get(node, i));
            p = q > p ? q : p;
        }
    } else if (json_is_object(node)) {
        const char *key;
        const json_t *value;
        json_object_foreach((json_t *) node, key, value) {
            int q = s_precision(value);
            p = q > p ? q : p;
        }
    }
    return p;
}

/* Dumps and releases root; NULL if root is NULL or memory runs out. Without JSON_INDENT
 * jansson writes one line, with ": " and ", " as separators. */
char *hone_json_line_dump(json_t *root)
{
    if (!root)
        return NULL;
    char *text = json_dumps(root, JSON_REAL_PRECISION(s_precision(root)));
    json_decref(root);
    return text;
}
