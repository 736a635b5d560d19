/* curve.c: storage, lookup, interpolation and normalization of learning curves. */
#include "curve.h"

#include <math.h>
#include <stdlib.h>

#include "alloc.h"

struct _hone_curves_t {
    hone_curve_t *curves;       /* sorted by trial index */
    size_t n;                   /* number of curves */
    size_t cap;                 /* allocated slots */
};

hone_curves_t *hone_curves_new(void)
{
    return hone_alloc(sizeof(hone_curves_t));
}

void hone_curves_destroy(hone_curves_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_curves_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        hone_free(self->curves[i].points);
    hone_free(self->curves);
    hone_free(self);
    *self_p = NULL;
}

/* First position whose trial is >= trial. */
static size_t s_lower_trial(const hone_curves_t *self, uint32_t trial)
{
    size_t lo = 0, hi = self->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (self->curves[mid].trial < trial)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

ptrdiff_t hone_curves_position(const hone_curves_t *self, uint32_t trial)
{
    HONE_ASSERT(self);
    size_t i = s_lower_trial(self, trial);
    return i < self->n && self->curves[i].trial == trial ? (ptrdiff_t) i : -1;
}

static hone_curve_t *s_find(hone_curves_t *self, uint32_t trial)
{
    ptrdiff_t i = hone_curves_position(self, trial);
    return i < 0 ? NULL : &self->curves[i];
}

void hone_curves_set_trial(hone_curves_t *self, uint32_t trial, hone_trial_status_t status)
{
    HONE_ASSERT(self);
    HONE_ASSERT(hone_trial_status_name((int) status) != NULL);
    size_t i = s_lower_trial(self, trial);
    if (i < self->n && self->curves[i].trial == trial) {
        self->curves[i].status = status;
        return;
    }
    if (self->n == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 16;
        self->curves = hone_realloc_array(self->curves, self->cap, sizeof(hone_curve_t));
    }
    memmove(&self->curves[i + 1], &self->curves[i], (self->n - i) * sizeof(hone_curve_t));
    self->curves[i] = (hone_curve_t) { .trial = trial, .status = status };
    self->n++;
}

/* First point whose progression is >= progression. */
static size_t s_lower_point(const hone_curve_t *curve, int64_t progression)
{
    size_t lo = 0, hi = curve->n_points;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (curve->points[mid].progression < progression)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int hone_curves_add_point(hone_curves_t *self, uint32_t trial, int64_t progression, double value,
                          hone_error_t *err)
{
    HONE_ASSERT(self);
    hone_curve_t *curve = s_find(self, trial);
    if (!curve)
        return hone_error_set(err, HONE_ENOTFOUND, "curves: trial %u is not known", trial);
    if (!isfinite(value))
        return hone_error_set(err, HONE_EINVAL,
                              "curves: trial %u, progression %lld: the value must be finite (got %g)",
                              trial, (long long) progression, value);
    size_t i = curve->n_points;
    if (i > 0 && curve->points[i - 1].progression >= progression) {
        i = s_lower_point(curve, progression);
        if (curve->points[i].progression == progression)
            return HONE_OK; /* Ax keeps the first value of a duplicated step */
    }
    if (curve->n_points == curve->cap_points) {
        curve->cap_points = curve->cap_points ? 2 * curve->cap_points : 8;
        curve->points = hone_realloc_array(curve->points, curve->cap_points, sizeof(hone_curve_point_t));
    }
    memmove(&curve->points[i + 1], &curve->points[i], (curve->n_points - i) * sizeof(hone_curve_point_t));
    curve->points[i] = (hone_curve_point_t) { .progression = progression, .value = value };
    curve->n_points++;
    return HONE_OK;
}

int hone_curves_set_last_check(hone_curves_t *self, uint32_t trial, int64_t progression,
                               hone_error_t *err)
{
    HONE_ASSERT(self);
    hone_curve_t *curve = s_find(self, trial);
    if (!curve)
        return hone_error_set(err, HONE_ENOTFOUND, "curves: trial %u is not known", trial);
    curve->has_last_check = true;
    curve->last_check = progression;
    return HONE_OK;
}

int hone_curves_clear_points(hone_curves_t *self, uint32_t trial, hone_error_t *err)
{
    HONE_ASSERT(self);
    hone_curve_t *curve = s_find(self, trial);
    if (!curve)
        return hone_error_set(err, HONE_ENOTFOUND, "curves: trial %u is not known", trial);
    curve->n_points = 0;    /* the array is kept for the refill */
    return HONE_OK;
}

int hone_curves_clear_last_check(hone_curves_t *self, uint32_t trial, hone_error_t *err)
{
    HONE_ASSERT(self);
    hone_curve_t *curve = s_find(self, trial);
    if (!curve)
        return hone_error_set(err, HONE_ENOTFOUND, "curves: trial %u is not known", trial);
    curve->has_last_check = false;
    curve->last_check = 0;
    return HONE_OK;
}

hone_curves_t *hone_curves_dup(const hone_curves_t *self)
{
    HONE_ASSERT(self);
    hone_curves_t *copy = hone_curves_new();
    if (self->n == 0)
        return copy;
    copy->curves = hone_alloc_array(self->n, sizeof(hone_curve_t));
    copy->cap = copy->n = self->n;
    for (size_t i = 0; i < self->n; i++) {
        const hone_curve_t *c = &self->curves[i];
        copy->curves[i] = *c;
        copy->curves[i].points = NULL;
        copy->curves[i].cap_points = c->n_points;
        if (c->n_points > 0) {
            copy->curves[i].points = hone_alloc_array(c->n_points, sizeof(hone_curve_point_t));
            memcpy(copy->curves[i].points, c->points, c->n_points * sizeof(hone_curve_point_t));
        }
    }
    return copy;
}

size_t hone_curves_size(const hone_curves_t *self)
{
    HONE_ASSERT(self);
    return self->n;
}

const hone_curve_t *hone_curves_at(const hone_curves_t *self, size_t i)
{
    HONE_ASSERT(self && i < self->n);
    return &self->curves[i];
}

const hone_curve_t *hone_curves_find(const hone_curves_t *self, uint32_t trial)
{
    ptrdiff_t i = hone_curves_position(self, trial);
    return i < 0 ? NULL : &self->curves[i];
}

bool hone_curves_range(const hone_curves_t *self, int64_t *min_out, int64_t *max_out)
{
    HONE_ASSERT(self);
    bool any = false;
    int64_t lo = 0, hi = 0;
    for (size_t i = 0; i < self->n; i++) {
        const hone_curve_t *c = &self->curves[i];
        if (c->n_points == 0)
            continue;
        int64_t first = c->points[0].progression, last = c->points[c->n_points - 1].progression;
        if (!any || first < lo)
            lo = first;
        if (!any || last > hi)
            hi = last;
        any = true;
    }
    if (any) {
        *min_out = lo;
        *max_out = hi;
    }
    return any;
}

size_t hone_curves_with_data(const hone_curves_t *self)
{
    HONE_ASSERT(self);
    size_t n = 0;
    for (size_t i = 0; i < self->n; i++)
        n += self->curves[i].n_points > 0;
    return n;
}

bool hone_curve_value_at(const hone_curve_t *curve, int64_t progression, double *value_out)
{
    HONE_ASSERT(curve);
    size_t n = curve->n_points;
    if (n == 0 || progression < curve->points[0].progression || progression > curve->points[n - 1].progression)
        return false;
    size_t i = s_lower_point(curve, progression);
    const hone_curve_point_t *right = &curve->points[i];
    if (right->progression == progression) {
        *value_out = right->value;
        return true;
    }
    /* strictly inside (points[i-1], points[i]): i >= 1 because progression > first */
    const hone_curve_point_t *left = &curve->points[i - 1];
    double t = (double) (progression - left->progression) / (double) (right->progression - left->progression);
    *value_out = left->value + t * (right->value - left->value);
    return true;
}

const hone_curve_point_t *hone_curve_last(const hone_curve_t *curve)
{
    HONE_ASSERT(curve);
    return curve->n_points ? &curve->points[curve->n_points - 1] : NULL;
}

hone_progression_scale_t hone_curves_scale(const hone_curves_t *self, bool normalize)
{
    hone_progression_scale_t scale = { .normalized = false };
    int64_t lo, hi;
    if (normalize && hone_curves_range(self, &lo, &hi))
        scale = (hone_progression_scale_t) { .normalized = true, .min = lo, .max = hi };
    return scale;
}

double hone_progression_scale_apply(const hone_progression_scale_t *scale, int64_t progression)
{
    if (!scale->normalized)
        return (double) progression;
    if (scale->max == scale->min)
        return 1.0;
    return (double) (progression - scale->min) / (double) (scale->max - scale->min);
}

static int s_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
    return (x > y) - (x < y);
}

size_t hone_curves_rows(const hone_curves_t *self, const hone_progression_scale_t *scale, double lo,
                        double hi, int64_t **buf, size_t *cap)
{
    HONE_ASSERT(self && scale && buf && cap);
    size_t n = 0;
    for (size_t i = 0; i < self->n; i++) {
        const hone_curve_t *c = &self->curves[i];
        /* the scale is increasing, so the points in [lo, hi] are contiguous */
        size_t a = 0, b = c->n_points;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (hone_progression_scale_apply(scale, c->points[mid].progression) < lo)
                a = mid + 1;
            else
                b = mid;
        }
        for (size_t k = a; k < c->n_points; k++) {
            if (hone_progression_scale_apply(scale, c->points[k].progression) > hi)
                break;
            if (n == *cap) {
                *cap = *cap ? 2 * *cap : 64;
                *buf = hone_realloc_array(*buf, *cap, sizeof(int64_t));
            }
            (*buf)[n++] = c->points[k].progression;
        }
    }
    if (n > 1) {
        qsort(*buf, n, sizeof(int64_t), s_cmp_i64);
        size_t m = 1;
        for (size_t k = 1; k < n; k++)
            if ((*buf)[k] != (*buf)[m - 1])
                (*buf)[m++] = (*buf)[k];
        n = m;
    }
    return n;
}
