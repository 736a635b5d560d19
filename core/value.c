#include "value.h"

#include "err.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

const char *hone_type_name(hone_type_t type)
{
    switch (type) {
    case HONE_TYPE_FLOAT: return "float";
    case HONE_TYPE_INT: return "int";
    case HONE_TYPE_STR: return "str";
    case HONE_TYPE_BOOL: return "bool";
    }
    return "unknown";
}

int hone_type_parse(const char *name, hone_type_t *out)
{
    static const struct { const char *name; hone_type_t type; } table[] = {
        { "float", HONE_TYPE_FLOAT },
        { "int", HONE_TYPE_INT },
        { "str", HONE_TYPE_STR },
        { "bool", HONE_TYPE_BOOL },
    };
    if (!name)
        return HONE_EINVAL;
    for (size_t i = 0; i < HONE_ARRAY_LEN(table); i++) {
        if (streq(name, table[i].name)) {
            *out = table[i].type;
            return HONE_OK;
        }
    }
    return HONE_EINVAL;
}

bool hone_value_equal(const hone_value_t *a, const hone_value_t *b)
{
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case HONE_TYPE_FLOAT: return a->u.f == b->u.f;
    case HONE_TYPE_INT: return a->u.i == b->u.i;
    case HONE_TYPE_BOOL: return a->u.b == b->u.b;
    case HONE_TYPE_STR: return a->u.s == b->u.s || (a->u.s && b->u.s && streq(a->u.s, b->u.s));
    }
    return false;
}

double hone_value_as_double(const hone_value_t *v)
{
    switch (v->type) {
    case HONE_TYPE_FLOAT: return v->u.f;
    case HONE_TYPE_INT: return (double) v->u.i;
    case HONE_TYPE_BOOL: return v->u.b ? 1.0 : 0.0;
    case HONE_TYPE_STR: return NAN;
    }
    return NAN;
}

/* The shortest %g form that reads back as the same double; integers in plain digits. */
static void s_format_double(double x, char *buf, size_t size)
{
    if (isfinite(x) && x == trunc(x) && fabs(x) < 1e16) {
        snprintf(buf, size, "%.0f", x);
        return;
    }
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, size, "%.*g", precision, x);
        if (!isfinite(x) || strtod(buf, NULL) == x)
            return;
    }
}

char *hone_value_format(const hone_value_t *v, char *buf, size_t size)
{
    if (size == 0)
        return buf;
    switch (v->type) {
    case HONE_TYPE_FLOAT:
        s_format_double(v->u.f, buf, size);
        break;
    case HONE_TYPE_INT:
        snprintf(buf, size, "%lld", (long long) v->u.i);
        break;
    case HONE_TYPE_BOOL:
        snprintf(buf, size, "%s", v->u.b ? "true" : "false");
        break;
    case HONE_TYPE_STR:
        snprintf(buf, size, "%s", v->u.s ? v->u.s : "");
        break;
    default:
        snprintf(buf, size, "?");
        break;
    }
    return buf;
}
