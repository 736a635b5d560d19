/* space.c: the search space (Ax's RangeParameter, ChoiceParameter, FixedParameter).
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#include "space.h"

#include "alloc.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* Largest magnitude for which every integer is exactly representable as a double. */
#define S_MAX_EXACT_INT 9007199254740992.0
/* A stepped range is expanded before duplicates are dropped (ints cast from fractional
 * steps collapse); past this many raw values we refuse before allocating. */
#define S_MAX_STEPPED_RAW ((size_t) HONE_SPACE_MAX_CHOICES * 1000)

struct _hone_space_t {
    hone_param_t *params;   /* parameters in the order they were added */
    size_t n;               /* number of parameters */
    size_t cap;             /* allocated slots in params */
};

/* A formatted number or value for error messages. */
typedef struct { char text[64]; } s_fmt_t;

static s_fmt_t s_num(double x)
{
    s_fmt_t f;
    hone_value_t v = hone_value_float(x);
    hone_value_format(&v, f.text, sizeof f.text);
    return f;
}

static s_fmt_t s_val(const hone_value_t *v)
{
    s_fmt_t f;
    if (v->type == HONE_TYPE_STR) {
        snprintf(f.text, sizeof f.text, "'%.58s'", v->u.s ? v->u.s : "");
    } else {
        hone_value_format(v, f.text, sizeof f.text);
    }
    return f;
}

hone_space_t *hone_space_new(void)
{
    return hone_alloc(sizeof(hone_space_t));
}

static void s_param_free(hone_param_t *p)
{
    hone_strfree(p->name);
    if (p->strings) {
        for (size_t i = 0; i < p->n_values; i++)
            hone_strfree(p->strings[i]);
        hone_free(p->strings);
    }
    hone_free(p->values);
    memset(p, 0, sizeof *p);
}

void hone_space_destroy(hone_space_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_space_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        s_param_free(&self->params[i]);
    hone_free(self->params);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_space_size(const hone_space_t *self)
{
    HONE_ASSERT(self);
    return self->n;
}

const hone_param_t *hone_space_param(const hone_space_t *self, size_t index)
{
    HONE_ASSERT(self);
    return index < self->n ? &self->params[index] : NULL;
}

int hone_space_find(const hone_space_t *self, const char *name)
{
    HONE_ASSERT(self);
    if (!name)
        return -1;
    for (size_t i = 0; i < self->n; i++) {
        if (streq(self->params[i].name, name))
            return (int) i;
    }
    return -1;
}

static int s_check_name(const hone_space_t *self, const char *name, hone_error_t *err)
{
    if (!name || !*name)
        return hone_error_set(err, HONE_EINVAL, "parameter name must not be empty");
    if (hone_space_find(self, name) >= 0)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': duplicate parameter name", name);
    return HONE_OK;
}

static hone_param_t *s_append(hone_space_t *self, const char *name)
{
    if (self->n == self->cap) {
        self->cap = self->cap ? self->cap * 2 : 8;
        self->params = hone_realloc_array(self->params, self->cap, sizeof(hone_param_t));
    }
    hone_param_t *p = &self->params[self->n++];
    memset(p, 0, sizeof *p);
    p->name = hone_strdup(name);
    return p;
}

/* Python's round(): to nearest, ties to even. */
static double s_round_half_even(double x)
{
    double r = round(x);
    if (fabs(x - trunc(x)) == 0.5)
        r = 2.0 * round(x / 2.0);
    return r;
}

static bool s_is_integral(double x)
{
    return isfinite(x) && x == trunc(x);
}

/* ---------------------------------------------------------------------------------
 * Casting choice values the way Python's type constructors do, except for bool. */

/* Python's repr(float): shortest round-trip digits, fixed notation for exponents in
 * [-4, 16), scientific otherwise; "1.0" rather than "1". This is what str(x) gives. */
static void s_python_float_repr(double x, char *buf, size_t size)
{
    if (isnan(x)) {
        snprintf(buf, size, "nan");
        return;
    }
    if (isinf(x)) {
        snprintf(buf, size, x > 0 ? "inf" : "-inf");
        return;
    }
    char sci[40];
    int precision = 1;
    for (; precision <= 17; precision++) {
        snprintf(sci, sizeof sci, "%.*e", precision - 1, x);
        if (strtod(sci, NULL) == x)
            break;
    }
    /* sci is "-d.ddde+XX": collect the digits and the exponent */
    char digits[24];
    size_t nd = 0;
    const char *c = sci;
    bool negative = (*c == '-');
    if (negative)
        c++;
    for (; *c && *c != 'e'; c++) {
        if (*c >= '0' && *c <= '9' && nd < sizeof digits - 1)
            digits[nd++] = *c;
    }
    digits[nd] = '\0';
    while (nd > 1 && digits[nd - 1] == '0')
        digits[--nd] = '\0';
    int exp10 = atoi(c + 1);
    char out[64];
    size_t o = 0;
    if (negative)
        out[o++] = '-';
    if (exp10 >= -4 && exp10 < 16) {
        if (exp10 < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int z = 0; z < -exp10 - 1; z++)
                out[o++] = '0';
            for (size_t i = 0; i < nd; i++)
                out[o++] = digits[i];
        } else {
            size_t int_digits = (size_t) exp10 + 1;
            for (size_t i = 0; i < int_digits; i++)
                out[o++] = i < nd ? digits[i] : '0';
            out[o++] = '.';
            if (nd > int_digits) {
                for (size_t i = int_digits; i < nd; i++)
                    out[o++] = digits[i];
            } else {
                out[o++] = '0';
            }
        }
        out[o] = '\0';
    } else {
        out[o++] = digits[0];
        if (nd > 1) {
            out[o++] = '.';
            for (size_t i = 1; i < nd; i++)
                out[o++] = digits[i];
        }
        snprintf(out + o, sizeof out - o, "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
    }
    snprintf(buf, size, "%s", out);
}

/* Python's float(str): surrounding whitespace allowed, decimal only. Non-finite
 * results are refused here (Ax would accept float("nan"); a NaN choice is useless). */
static bool s_parse_float(const char *s, double *out)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    if (!*s || strpbrk(s, "xXpP"))
        return false;
    char *end = NULL;
    errno = 0;
    double x = strtod(s, &end);
    if (end == s)
        return false;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (*end || !isfinite(x))
        return false;
    *out = x;
    return true;
}

/* Python's int(str): optional whitespace and sign, decimal digits only. */
static bool s_parse_int(const char *s, int64_t *out)
{
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    const char *digits = (*s == '+' || *s == '-') ? s + 1 : s;
    if (*digits < '0' || *digits > '9')
        return false;
    char *end = NULL;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (errno == ERANGE)
        return false;
    while (*end == ' ' || *end == '\t' || *end == '\n' || *end == '\r')
        end++;
    if (*end)
        return false;
    *out = (int64_t) x;
    return true;
}

/* Casts v to type. A string made by the cast is returned in *owned (else NULL). */
static int s_cast(const char *name, const hone_value_t *v, hone_type_t type,
                  hone_value_t *out, char **owned, hone_error_t *err)
{
    *owned = NULL;
    if (v->type == HONE_TYPE_STR && !v->u.s)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': a string value is NULL", name);
    if (v->type == HONE_TYPE_FLOAT && !isfinite(v->u.f))
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s is not a finite number",
                              name, s_num(v->u.f).text);
    switch (type) {
    case HONE_TYPE_FLOAT: {
        double x = 0;
        if (v->type == HONE_TYPE_STR && !s_parse_float(v->u.s, &x))
            return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s cannot be cast to float",
                                  name, s_val(v).text);
        if (v->type != HONE_TYPE_STR)
            x = hone_value_as_double(v);
        *out = hone_value_float(x);
        return HONE_OK;
    }
    case HONE_TYPE_INT: {
        int64_t i = 0;
        if (v->type == HONE_TYPE_STR) {
            if (!s_parse_int(v->u.s, &i))
                return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s cannot be cast to int",
                                      name, s_val(v).text);
        } else if (v->type == HONE_TYPE_FLOAT) {
            /* Python's int(2.7) is 2: truncation toward zero */
            if (fabs(v->u.f) >= 9223372036854775808.0)
                return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s is too large for an int",
                                      name, s_num(v->u.f).text);
            i = (int64_t) v->u.f;
        } else if (v->type == HONE_TYPE_BOOL) {
            i = v->u.b ? 1 : 0;
        } else {
            i = v->u.i;
        }
        *out = hone_value_int(i);
        return HONE_OK;
    }
    case HONE_TYPE_STR: {
        char buf[64];
        switch (v->type) {
        case HONE_TYPE_STR:
            *out = *v;
            return HONE_OK;
        case HONE_TYPE_INT:
            snprintf(buf, sizeof buf, "%lld", (long long) v->u.i);
            break;
        case HONE_TYPE_FLOAT:
            s_python_float_repr(v->u.f, buf, sizeof buf);
            break;
        case HONE_TYPE_BOOL:
            snprintf(buf, sizeof buf, "%s", v->u.b ? "True" : "False");
            break;
        }
        *owned = hone_strdup(buf);
        *out = hone_value_str(*owned);
        return HONE_OK;
    }
    case HONE_TYPE_BOOL:
        /* Ax casts with Python's bool(), so bool("False") and bool(2) are True. hone
         * refuses anything but a real boolean instead of copying that surprise. */
        if (v->type != HONE_TYPE_BOOL)
            return hone_error_set(err, HONE_EINVAL,
                                  "parameter '%s': value %s is not a boolean (a bool parameter only "
                                  "takes true and false; hone does not apply Python's bool() cast)",
                                  name, s_val(v).text);
        *out = *v;
        return HONE_OK;
    }
    return hone_error_set(err, HONE_EINVAL, "parameter '%s': unknown parameter type %d", name, (int) type);
}

/* ---------------------------------------------------------------------------------
 * Choices. */

typedef struct {
    hone_value_t value;   /* cast value */
    size_t index;         /* position in the input */
} s_entry_t;

static int s_value_cmp(const hone_value_t *a, const hone_value_t *b)
{
    switch (a->type) {
    case HONE_TYPE_FLOAT: return (a->u.f > b->u.f) - (a->u.f < b->u.f);
    case HONE_TYPE_INT: return (a->u.i > b->u.i) - (a->u.i < b->u.i);
    case HONE_TYPE_BOOL: return (int) a->u.b - (int) b->u.b;
    case HONE_TYPE_STR: return strcmp(a->u.s, b->u.s);
    }
    return 0;
}

static int s_entry_cmp(const void *pa, const void *pb)
{
    const s_entry_t *a = pa, *b = pb;
    int c = s_value_cmp(&a->value, &b->value);
    if (c)
        return c;
    return (a->index > b->index) - (a->index < b->index);
}

static int s_index_cmp(const void *pa, const void *pb)
{
    const s_entry_t *a = pa, *b = pb;
    return (a->index > b->index) - (a->index < b->index);
}

/* Ax main's log-scale auto-detection for an ordered numeric choice (values sorted). */
static bool s_detect_log_scale(const hone_value_t *values, size_t n)
{
    if (n < 3)
        return false;
    double lo = hone_value_as_double(&values[0]);
    double hi = hone_value_as_double(&values[n - 1]);
    if (!(lo > 0))
        return false;
    /* (b): at least two decades */
    if (floor(log10(hi)) - floor(log10(lo)) >= 2)
        return true;
    /* (a): a geometric grid c * b^k with b = v1 / v0. log_b(v) must have the same
     * fractional part for every value, within 0.1; fractional parts are compared on the
     * circle so that 0.98 and 0.02 agree. */
    double base = hone_value_as_double(&values[1]) / lo;
    if (!(base > 1))
        return false;
    double log_base = log(base);
    double l0 = log(lo) / log_base;
    double f0 = l0 - floor(l0);
    for (size_t i = 1; i < n; i++) {
        double li = log(hone_value_as_double(&values[i])) / log_base;
        double d = fabs((li - floor(li)) - f0);
        if (d > 0.5)
            d = 1.0 - d;
        if (d > 0.1)
            return false;
    }
    return true;
}

static int s_add_choice(hone_space_t *self, const char *name, hone_type_t type,
                        const hone_value_t *values, size_t n_values,
                        int is_ordered, int log_scale, hone_error_t *err)
{
    if (type != HONE_TYPE_FLOAT && type != HONE_TYPE_INT && type != HONE_TYPE_STR && type != HONE_TYPE_BOOL)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': unknown parameter type %d", name, (int) type);
    if (n_values == 0 || !values)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': a choice parameter needs at least one value",
                              name);
    s_entry_t *entries = hone_alloc_array(n_values, sizeof(s_entry_t));
    char **owned = hone_alloc_array(n_values, sizeof(char *));
    int rc = HONE_OK;
    for (size_t i = 0; i < n_values && rc == HONE_OK; i++) {
        entries[i].index = i;
        rc = s_cast(name, &values[i], type, &entries[i].value, &owned[i], err);
    }
    size_t n_unique = 0;
    if (rc == HONE_OK) {
        /* Sorting by (value, position) puts duplicates next to each other with the
         * first occurrence leading: keep run heads. */
        qsort(entries, n_values, sizeof(s_entry_t), s_entry_cmp);
        for (size_t i = 0; i < n_values; i++) {
            if (n_unique == 0 || !hone_value_equal(&entries[n_unique - 1].value, &entries[i].value))
                entries[n_unique++] = entries[i];
        }
        /* Ax sorts every type but str; strings keep the order the user gave. */
        if (type == HONE_TYPE_STR)
            qsort(entries, n_unique, sizeof(s_entry_t), s_index_cmp);
        if (n_unique > HONE_SPACE_MAX_CHOICES)
            rc = hone_error_set(err, HONE_EINVAL,
                                "parameter '%s': %zu distinct values exceed the limit of %d for a choice "
                                "parameter; use a range parameter instead",
                                name, n_unique, HONE_SPACE_MAX_CHOICES);
    }
    bool ordered = true, log_on = false;
    if (rc == HONE_OK && n_unique > 1) {
        ordered = is_ordered < 0 ? !(type == HONE_TYPE_STR && n_unique > 2) : is_ordered != 0;
        if (n_unique == 2)
            ordered = true;   /* Ax: a two-valued choice is always ordered */
        bool numeric = type == HONE_TYPE_FLOAT || type == HONE_TYPE_INT;
        if (log_scale > 0) {
            if (!numeric)
                rc = hone_error_set(err, HONE_EINVAL,
                                    "parameter '%s': log scale requires a numeric (float or int) parameter, "
                                    "not %s", name, hone_type_name(type));
            else if (!ordered)
                rc = hone_error_set(err, HONE_EINVAL,
                                    "parameter '%s': log scale requires an ordered parameter", name);
            else if (!(hone_value_as_double(&entries[0].value) > 0))
                rc = hone_error_set(err, HONE_EINVAL,
                                    "parameter '%s': log scale requires positive values (got %s)",
                                    name, s_val(&entries[0].value).text);
            log_on = true;
        } else if (log_scale < 0 && numeric && ordered) {
            hone_value_t *sorted = hone_alloc_array(n_unique, sizeof(hone_value_t));
            for (size_t i = 0; i < n_unique; i++)
                sorted[i] = entries[i].value;
            log_on = s_detect_log_scale(sorted, n_unique);
            hone_free(sorted);
        }
    }
    if (rc == HONE_OK) {
        hone_param_t *p = s_append(self, name);
        p->kind = n_unique == 1 ? HONE_PARAM_FIXED : HONE_PARAM_CHOICE;
        p->type = type;
        p->is_ordered = ordered;
        p->log_scale = log_on;
        p->n_values = n_unique;
        p->values = hone_alloc_array(n_unique, sizeof(hone_value_t));
        if (type == HONE_TYPE_STR)
            p->strings = hone_alloc_array(n_unique, sizeof(char *));
        for (size_t i = 0; i < n_unique; i++) {
            p->values[i] = entries[i].value;
            if (type == HONE_TYPE_STR) {
                p->strings[i] = hone_strdup(entries[i].value.u.s);
                p->values[i].u.s = p->strings[i];
            }
        }
        if (p->kind == HONE_PARAM_CHOICE) {
            p->lower = hone_value_as_double(&p->values[0]);
            p->upper = hone_value_as_double(&p->values[n_unique - 1]);
        }
    }
    for (size_t i = 0; i < n_values; i++)
        hone_strfree(owned[i]);
    hone_free(owned);
    hone_free(entries);
    return rc;
}

int hone_space_add_choice(hone_space_t *self, const char *name, hone_type_t type,
                          const hone_value_t *values, size_t n_values,
                          int is_ordered, int log_scale, hone_error_t *err)
{
    HONE_ASSERT(self);
    int rc = s_check_name(self, name, err);
    if (rc != HONE_OK)
        return rc;
    return s_add_choice(self, name, type, values, n_values, is_ordered, log_scale, err);
}

/* ---------------------------------------------------------------------------------
 * Ranges. */

static bool s_isclose(double a, double b)
{
    /* numpy.isclose defaults */
    return fabs(a - b) <= 1e-8 + 1e-5 * fabs(b);
}

static int s_add_stepped(hone_space_t *self, const char *name, hone_type_t type,
                         double lower, double upper, double step, hone_error_t *err)
{
    /* Ax does not check the bounds order on this path; an inverted range there ends
     * in an empty choice. hone says what is wrong instead. */
    if (lower >= upper)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': upper bound must be strictly larger than lower (got [%s, %s])",
                              name, s_num(lower).text, s_num(upper).text);
    if (type == HONE_TYPE_INT && (!s_is_integral(lower) || !s_is_integral(upper)))
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': [%s, %s] is an invalid range for an int parameter "
                              "(bounds must be integers)", name, s_num(lower).text, s_num(upper).text);
    double width = upper - lower;
    double rem = fmod(width, step);
    if (!s_isclose(rem, 0.0) && !s_isclose(rem, step))
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': the range [%s, %s] must be evenly divisible by the step "
                              "size %s", name, s_num(lower).text, s_num(upper).text, s_num(step).text);
    double count_f = round(width / step) + 1.0;
    if (!(count_f <= (double) S_MAX_STEPPED_RAW))
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': step size %s gives %s values, more than the limit of %d "
                              "for a choice parameter; use a range without step_size instead",
                              name, s_num(step).text, s_num(count_f).text, HONE_SPACE_MAX_CHOICES);
    size_t count = (size_t) count_f;
    hone_value_t *raw = hone_alloc_array(count, sizeof(hone_value_t));
    /* numpy.arange computes lower + i * step (no accumulation of additions). */
    for (size_t i = 0; i < count; i++)
        raw[i] = hone_value_float(lower + (double) i * step);
    int rc = s_add_choice(self, name, type, raw, count, 1, -1, err);
    hone_free(raw);
    return rc;
}

int hone_space_add_range(hone_space_t *self, const char *name, hone_type_t type,
                         double lower, double upper, const char *scaling,
                         double step_size, hone_error_t *err)
{
    HONE_ASSERT(self);
    int rc = s_check_name(self, name, err);
    if (rc != HONE_OK)
        return rc;
    bool log_scale = false;
    if (scaling && streq(scaling, "log"))
        log_scale = true;
    else if (scaling && !streq(scaling, "linear"))
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': scaling must be \"linear\" or \"log\" (got \"%s\")", name, scaling);
    if (!isfinite(lower) || !isfinite(upper))
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': bounds must be finite numbers (got [%s, %s])",
                              name, s_num(lower).text, s_num(upper).text);
    if (type != HONE_TYPE_FLOAT && type != HONE_TYPE_INT)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': a range parameter must be of type float or int (got %s)",
                              name, hone_type_name(type));
    if (isinf(step_size))
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': step_size must be finite", name);
    if (step_size > 0) {
        if (log_scale)
            return hone_error_set(err, HONE_EINVAL,
                                  "parameter '%s': non-linear parameter scaling is not supported when "
                                  "using step_size", name);
        return s_add_stepped(self, name, type, lower, upper, step_size, err);
    }
    /* Ax's RangeParameter checks, in Ax's order. */
    if (lower >= upper)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': upper bound must be strictly larger than lower (got [%s, %s])",
                              name, s_num(lower).text, s_num(upper).text);
    if (upper - lower < 100 * HONE_SPACE_EPS)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': range [%s, %s] is very small (width below %s) and likely to "
                              "cause numerical errors; consider rescaling the parameter",
                              name, s_num(lower).text, s_num(upper).text, s_num(100 * HONE_SPACE_EPS).text);
    if (log_scale && lower <= 0)
        return hone_error_set(err, HONE_EINVAL,
                              "parameter '%s': cannot take log when the lower bound is <= 0 (got [%s, %s])",
                              name, s_num(lower).text, s_num(upper).text);
    if (type == HONE_TYPE_INT) {
        if (!s_is_integral(lower) || !s_is_integral(upper))
            return hone_error_set(err, HONE_EINVAL,
                                  "parameter '%s': [%s, %s] is an invalid range for an int parameter "
                                  "(bounds must be integers)", name, s_num(lower).text, s_num(upper).text);
        if (fabs(lower) > S_MAX_EXACT_INT || fabs(upper) > S_MAX_EXACT_INT)
            return hone_error_set(err, HONE_EINVAL,
                                  "parameter '%s': int bounds must lie within +/-2^53 (got [%s, %s])",
                                  name, s_num(lower).text, s_num(upper).text);
    }
    hone_param_t *p = s_append(self, name);
    p->kind = HONE_PARAM_RANGE;
    p->type = type;
    p->lower = lower;
    p->upper = upper;
    p->log_scale = log_scale;
    p->is_ordered = true;
    return HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * Membership. */

static bool s_integral_within_eps(double x)
{
    return isfinite(x) && fabs(x - round(x)) <= HONE_SPACE_EPS && fabs(x) <= S_MAX_EXACT_INT;
}

/* Checks one value; when canon is not NULL, writes its canonical form there. */
static int s_member(const hone_param_t *p, const hone_value_t *v, hone_value_t *canon, hone_error_t *err)
{
    bool numeric_param = p->type == HONE_TYPE_FLOAT || p->type == HONE_TYPE_INT;
    bool type_ok;
    if (numeric_param)
        type_ok = v->type == HONE_TYPE_FLOAT || v->type == HONE_TYPE_INT;   /* never a bool */
    else
        type_ok = v->type == p->type;
    if (!type_ok)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': expected a value of type %s, got one of type %s",
                              p->name, hone_type_name(p->type), hone_type_name(v->type));
    if (v->type == HONE_TYPE_STR && !v->u.s)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': a string value is NULL", p->name);

    hone_value_t typed = *v;
    if (numeric_param) {
        double x = hone_value_as_double(v);
        if (!isfinite(x))
            return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s is not a finite number",
                                  p->name, s_num(x).text);
        if (p->type == HONE_TYPE_INT && v->type == HONE_TYPE_FLOAT) {
            if (!s_integral_within_eps(x))
                return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s is not an integer",
                                      p->name, s_num(x).text);
            typed = hone_value_int((int64_t) round(x));
        } else if (p->type == HONE_TYPE_FLOAT && v->type == HONE_TYPE_INT) {
            typed = hone_value_float((double) v->u.i);
        }
    }

    if (p->kind == HONE_PARAM_RANGE) {
        double x = hone_value_as_double(v);
        if (x < p->lower - HONE_SPACE_EPS || x > p->upper + HONE_SPACE_EPS)
            return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s is outside the bounds [%s, %s]",
                                  p->name, s_val(v).text, s_num(p->lower).text, s_num(p->upper).text);
        if (canon)
            *canon = typed;
        return HONE_OK;
    }
    for (size_t j = 0; j < p->n_values; j++) {
        if (hone_value_equal(&typed, &p->values[j])) {
            if (canon)
                *canon = p->values[j];
            return HONE_OK;
        }
    }
    if (p->kind == HONE_PARAM_FIXED)
        return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s differs from the fixed value %s",
                              p->name, s_val(v).text, s_val(&p->values[0]).text);
    return hone_error_set(err, HONE_EINVAL, "parameter '%s': value %s is not one of the %zu allowed values",
                          p->name, s_val(v).text, p->n_values);
}

int hone_space_check(const hone_space_t *self, const hone_value_t *values, hone_error_t *err)
{
    HONE_ASSERT(self && values);
    for (size_t i = 0; i < self->n; i++) {
        int rc = s_member(&self->params[i], &values[i], NULL, err);
        if (rc != HONE_OK)
            return rc;
    }
    return HONE_OK;
}

int hone_space_intern(const hone_space_t *self, hone_value_t *values, hone_error_t *err)
{
    int rc = hone_space_check(self, values, err);
    if (rc != HONE_OK)
        return rc;
    /* the check passed, so rewriting cannot fail halfway */
    for (size_t i = 0; i < self->n; i++) {
        rc = s_member(&self->params[i], &values[i], &values[i], NULL);
        HONE_ASSERT(rc == HONE_OK);
    }
    return HONE_OK;
}

/* ---------------------------------------------------------------------------------
 * Center and the unit cube. */

static hone_value_t s_range_value(const hone_param_t *p, double x)
{
    if (p->type == HONE_TYPE_INT) {
        x = s_round_half_even(x);
        if (x < p->lower)
            x = p->lower;
        if (x > p->upper)
            x = p->upper;
        return hone_value_int((int64_t) x);
    }
    if (x < p->lower)
        x = p->lower;
    if (x > p->upper)
        x = p->upper;
    return hone_value_float(x);
}

void hone_space_center(const hone_space_t *self, hone_value_t *out)
{
    HONE_ASSERT(self && out);
    for (size_t i = 0; i < self->n; i++) {
        const hone_param_t *p = &self->params[i];
        if (p->kind == HONE_PARAM_RANGE) {
            double mid = p->log_scale ? exp(0.5 * (log(p->lower) + log(p->upper)))
                                      : 0.5 * (p->lower + p->upper);
            out[i] = s_range_value(p, mid);
        } else {
            out[i] = p->values[p->n_values / 2];
        }
    }
}

void hone_space_from_unit(const hone_space_t *self, const double *unit, hone_value_t *out)
{
    HONE_ASSERT(self && unit && out);
    for (size_t i = 0; i < self->n; i++) {
        const hone_param_t *p = &self->params[i];
        double u = unit[i];
        if (!(u >= 0))
            u = 0;
        if (u > 1)
            u = 1;
        if (p->kind == HONE_PARAM_RANGE) {
            double x;
            if (p->log_scale) {
                double ll = log(p->lower), lu = log(p->upper);
                x = exp(ll + u * (lu - ll));
            } else {
                x = p->lower + u * (p->upper - p->lower);
            }
            out[i] = s_range_value(p, x);
        } else if (p->kind == HONE_PARAM_CHOICE) {
            size_t j = (size_t) floor(u * (double) p->n_values);
            if (j > p->n_values - 1)
                j = p->n_values - 1;
            out[i] = p->values[j];
        } else {
            out[i] = p->values[0];
        }
    }
}

bool hone_space_points_equal(const hone_space_t *self, const hone_value_t *a, const hone_value_t *b)
{
    HONE_ASSERT(self && a && b);
    for (size_t i = 0; i < self->n; i++) {
        if (!hone_value_equal(&a[i], &b[i]))
            return false;
    }
    return true;
}
