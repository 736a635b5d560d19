/* space.h: the search space, following Ax's RangeParameterConfig and
 * ChoiceParameterConfig (reference/ax-client-behaviour.md §1.1, §1.2).
 *
 * A range with step_size becomes an ordered choice; a choice with one value becomes a
 * fixed parameter. Every validation error names the parameter and the rule. */
#ifndef HONE_SPACE_H
#define HONE_SPACE_H

#include "err.h"
#include "value.h"

/* Ax's tolerance at the bounds and in integrality tests. */
#define HONE_SPACE_EPS 1.5e-7
/* Ax's limit on the number of choice values. */
#define HONE_SPACE_MAX_CHOICES 1000

typedef enum {
    HONE_PARAM_RANGE = 0,   /* float or int in [lower, upper] */
    HONE_PARAM_CHOICE = 1,  /* one of values[] */
    HONE_PARAM_FIXED = 2,   /* always values[0] */
} hone_param_kind_t;

/* A parameter, read-only for everyone but space.c. */
typedef struct hone_param {
    char *name;                 /* unique within the space */
    hone_param_kind_t kind;
    hone_type_t type;           /* value type of the parameter */
    double lower, upper;        /* RANGE: bounds (integral for int) */
    bool log_scale;             /* RANGE: log scaling; CHOICE: log scale (auto-detected as in Ax main) */
    bool is_ordered;            /* CHOICE: ordered (ordinal) rather than categorical */
    hone_value_t *values;       /* CHOICE/FIXED: the values, sorted as Ax sorts them */
    size_t n_values;            /* CHOICE/FIXED: number of values */
    char **strings;             /* owned storage for string values (values[i].u.s points here) */
} hone_param_t;

typedef struct _hone_space_t hone_space_t;

hone_space_t *hone_space_new(void);
void hone_space_destroy(hone_space_t **self_p);

/* Adds a RangeParameterConfig. scaling is NULL, "linear" or "log"; step_size <= 0 or
 * NAN means no step. Errors (HONE_EINVAL, message naming the parameter and rule):
 * empty or duplicate name, bad type, lower >= upper, range too small, log with
 * lower <= 0, non-integral int bounds, step with log scaling, range not divisible by
 * the step, more than 1000 stepped values. */
int hone_space_add_range(hone_space_t *self, const char *name, hone_type_t type,
                         double lower, double upper, const char *scaling,
                         double step_size, hone_error_t *err);

/* Adds a ChoiceParameterConfig. values are cast to type the way Ax casts (Python's
 * constructors); duplicates are dropped; numbers and bools are sorted. is_ordered and
 * log_scale are -1 (unset: Ax's default), 0 or 1. One value gives a FIXED parameter.
 * Errors (HONE_EINVAL): empty or duplicate name, no values, a value that cannot be
 * cast, more than 1000 values, log scale on a non-numeric, unordered or non-positive
 * parameter. String values are copied. */
int hone_space_add_choice(hone_space_t *self, const char *name, hone_type_t type,
                          const hone_value_t *values, size_t n_values,
                          int is_ordered, int log_scale, hone_error_t *err);

size_t hone_space_size(const hone_space_t *self);
const hone_param_t *hone_space_param(const hone_space_t *self, size_t index);
/* Index of the parameter called name, or -1. */
int hone_space_find(const hone_space_t *self, const char *name);

/* Membership (Ax's check_membership): every value has the parameter's type (an int
 * parameter also accepts a float with an integral value; a bool is never a number),
 * lies within the bounds up to HONE_SPACE_EPS, or is one of the choices.
 * Returns HONE_OK or HONE_EINVAL naming the parameter and the rule. */
int hone_space_check(const hone_space_t *self, const hone_value_t *values, hone_error_t *err);

/* Like hone_space_check, then rewrites values in canonical form: integral floats for
 * int parameters become ints, and strings point into the space's own storage (so the
 * caller's strings may be freed afterwards). */
int hone_space_intern(const hone_space_t *self, hone_value_t *values, hone_error_t *err);

/* The center point (Ax's CenterOfSearchSpace): range midpoints (in log space for log
 * scale; ints rounded half to even), choices values[n / 2], fixed values. */
void hone_space_center(const hone_space_t *self, hone_value_t *out);

/* Maps a point of the unit cube (one coordinate per parameter, in parameter order;
 * fixed parameters ignore theirs) to a parameterization: ranges linearly or in log
 * space, ints rounded half to even and clamped, choices by index floor(u * n). */
void hone_space_from_unit(const hone_space_t *self, const double *unit, hone_value_t *out);

/* True when the two parameterizations are equal value by value. */
bool hone_space_points_equal(const hone_space_t *self, const hone_value_t *a, const hone_value_t *b);

#endif
