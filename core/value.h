/* value.h: one parameter value (float, int, str or bool) and a parameterization.
 *
 * A parameterization is an array of hone_value_t in the order of the search space's
 * parameters. String values held by core objects always point into storage owned by
 * the search space (the choice's own copy of the string), so a parameterization never
 * owns memory and can be copied with memcpy. */
#ifndef HONE_VALUE_H
#define HONE_VALUE_H

#include "hone_prelude.h"

typedef enum {
    HONE_TYPE_FLOAT = 0,
    HONE_TYPE_INT = 1,
    HONE_TYPE_STR = 2,
    HONE_TYPE_BOOL = 3,
} hone_type_t;

typedef struct hone_value {
    hone_type_t type;        /* which member of u is set */
    union {
        double f;            /* HONE_TYPE_FLOAT */
        int64_t i;           /* HONE_TYPE_INT */
        const char *s;       /* HONE_TYPE_STR: borrowed, NUL-terminated UTF-8 */
        bool b;              /* HONE_TYPE_BOOL */
    } u;
} hone_value_t;

/* "float", "int", "str", "bool". */
const char *hone_type_name(hone_type_t type);
/* Parses Ax's parameter_type names; returns HONE_EINVAL if unknown. */
int hone_type_parse(const char *name, hone_type_t *out);

static inline hone_value_t hone_value_float(double f) { hone_value_t v = { .type = HONE_TYPE_FLOAT }; v.u.f = f; return v; }
static inline hone_value_t hone_value_int(int64_t i) { hone_value_t v = { .type = HONE_TYPE_INT }; v.u.i = i; return v; }
static inline hone_value_t hone_value_str(const char *s) { hone_value_t v = { .type = HONE_TYPE_STR }; v.u.s = s; return v; }
static inline hone_value_t hone_value_bool(bool b) { hone_value_t v = { .type = HONE_TYPE_BOOL }; v.u.b = b; return v; }

/* Exact equality: same type and same value (strings by content). */
bool hone_value_equal(const hone_value_t *a, const hone_value_t *b);
/* Numeric view of a float, int or bool value (bool as 0/1); strings give NAN. */
double hone_value_as_double(const hone_value_t *v);
/* Writes a short human form ("0.25", "3", "adam", "true") into buf; returns buf. */
char *hone_value_format(const hone_value_t *v, char *buf, size_t size);

#endif
