/* pareto.c: the Pareto filter, the hypervolume, exclusive contributions and the
 * inferred reference point (see pareto.h). The box decomposition is in pareto_cells.c. */
#include "pareto.h"

#include <math.h>

#include "alloc.h"

/* BoTorch infer_reference_point: Ax calls it with scale = 0.1; MIN_Y_RANGE = 1e-7. */
#define S_REF_SCALE 0.1
#define S_MIN_Y_RANGE 1e-7

/* ---- Ordering ----------------------------------------------------------------- */

/* True when row i comes before row j: larger y[.][key] first, then lexicographically
 * larger rows, then the smaller index. A total order, so sorting is deterministic. */
static bool s_before(const double *y, size_t m, size_t key, size_t i, size_t j)
{
    double a = y[i * m + key], b = y[j * m + key];
    if (a != b)
        return a > b;
    for (size_t l = 0; l < m; l++) {
        a = y[i * m + l];
        b = y[j * m + l];
        if (a != b)
            return a > b;
    }
    return i < j;
}

void hone_pareto_sort(size_t *idx, size_t n, size_t *tmp, const double *y, size_t m,
                      size_t key)
{
    size_t *src = idx, *dst = tmp;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = s_before(y, m, key, src[b], src[a]) ? src[b++] : src[a++];
            while (a < mid)
                dst[o++] = src[a++];
            while (b < hi)
                dst[o++] = src[b++];
        }
        size_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != idx)
        memcpy(idx, src, n * sizeof *idx);
}

void hone_pareto_insert(size_t *idx, size_t *n, size_t i, const double *y, size_t m,
                        size_t key)
{
    size_t lo = 0, hi = *n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s_before(y, m, key, idx[mid], i))
            lo = mid + 1;
        else
            hi = mid;
    }
    memmove(idx + lo + 1, idx + lo, (*n - lo) * sizeof *idx);
    idx[lo] = i;
    (*n)++;
}

/* ---- Filter ------------------------------------------------------------------- */

bool hone_pareto_dominates(const double *a, const double *b, size_t m)
{
    bool strict = false;
    for (size_t j = 0; j < m; j++) {
        if (!(a[j] >= b[j]))
            return false;           /* also NaN */
        if (a[j] > b[j])
            strict = true;
    }
    return strict;
}

/* A row that may be on a front: no NaN and, with ref, strictly better everywhere. */
static bool s_counts(const double *row, size_t m, const double *ref)
{
    for (size_t j = 0; j < m; j++) {
        if (isnan(row[j]) || (ref && !(row[j] > ref[j])))
            return false;
    }
    return true;
}

/* The front of y into out (room for n), in hone_pareto_sort's order on key 0; returns
 * its size. tmp: room for n. In that order every point that weakly dominates another
 * comes first, so each candidate is compared with the kept front only (a point
 * dominated by a dropped one is dominated by whatever dropped that one). */
static size_t s_front(const double *y, size_t n, size_t m, const double *ref,
                      bool keep_duplicates, size_t *out, size_t *tmp)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        if (s_counts(y + i * m, m, ref))
            out[count++] = i;
    }
    hone_pareto_sort(out, count, tmp, y, m, 0);
    size_t k = 0;
    for (size_t c = 0; c < count; c++) {
        size_t i = out[c];
        const double *p = y + i * m;
        bool keep = true;
        if (m <= 2) {
            /* The kept points have y0 >= p0 and increasing y1: only the last one can
             * weakly dominate p, and a copy of p can only be that one. */
            if (k > 0) {
                const double *last = y + out[k - 1] * m;
                if (m == 1 || last[1] >= p[1])
                    keep = keep_duplicates && memcmp(last, p, m * sizeof *p) == 0;
            }
        }
        else {
            for (size_t f = 0; f < k && keep; f++) {
                const double *q = y + out[f] * m;
                bool ge = true, eq = true;
                for (size_t j = 0; j < m && ge; j++) {
                    ge = q[j] >= p[j];
                    eq = eq && q[j] == p[j];
                }
                if (ge)
                    keep = eq && keep_duplicates;   /* a copy: nothing kept dominates p */
            }
        }
        if (keep)
            out[k++] = i;
    }
    return k;
}

size_t hone_pareto_front(const double *y, size_t n, size_t m, const double *ref,
                         bool keep_duplicates, size_t *idx_out)
{
    HONE_ASSERT(m >= 1 && (n == 0 || (y && idx_out)));
    if (n == 0)
        return 0;
    size_t *tmp = hone_alloc_array(n, sizeof *tmp);
    unsigned char *mark = hone_alloc(n);
    size_t k = s_front(y, n, m, ref, keep_duplicates, idx_out, tmp);
    for (size_t f = 0; f < k; f++)
        mark[idx_out[f]] = 1;
    k = 0;
    for (size_t i = 0; i < n; i++) {
        if (mark[i])
            idx_out[k++] = i;
    }
    hone_free(mark);
    hone_free(tmp);
    return k;
}

/* ---- Hypervolume -------------------------------------------------------------- */

typedef struct s_work {
    size_t cap;         /* rows the buffers hold */
    size_t *front;      /* cap: the front being measured */
    size_t *tmp;        /* cap: sort scratch */
    double *sx, *sy;    /* cap: the 2-D staircase of the m = 3 sweep */
    size_t *child;      /* (m + 1) x cap: at depth d, the slice's points by y_{d-2} */
} s_work_t;

static void s_work_init(s_work_t *w, size_t cap, size_t m)
{
    w->cap = cap ? cap : 1;
    w->front = hone_alloc_array(w->cap, sizeof *w->front);
    w->tmp = hone_alloc_array(w->cap, sizeof *w->tmp);
    w->sx = hone_alloc_array(w->cap, sizeof *w->sx);
    w->sy = hone_alloc_array(w->cap, sizeof *w->sy);
    w->child = hone_alloc_array((m + 1) * w->cap, sizeof *w->child);
}

static void s_work_free(s_work_t *w)
{
    hone_free(w->front);
    hone_free(w->tmp);
    hone_free(w->sx);
    hone_free(w->sy);
    hone_free(w->child);
}

/* Adds (px, py) to the staircase sx (decreasing), sy (increasing) of *k points and
 * returns the area it newly dominates above (r0, r1): the parts of the gaps between
 * consecutive staircase points that fall below and left of it. */
static double s_stair_insert(double *sx, double *sy, size_t *k_io, double px, double py,
                             const double *r)
{
    size_t k = *k_io, lo = 0, hi = k;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (sx[mid] > px)
            lo = mid + 1;
        else
            hi = mid;
    }
    size_t a = lo;                                  /* points [0, a) have x > px */
    size_t ge = (a < k && sx[a] == px) ? a + 1 : a; /* points [0, ge) have x >= px */
    if (ge > 0 && sy[ge - 1] >= py)
        return 0.0;                                 /* weakly dominated */
    size_t e = a;                                   /* points [a, e) are dominated */
    while (e < k && sy[e] <= py)
        e++;
    double delta = 0.0;
    for (size_t g = a; g <= e; g++) {               /* gap g: between points g-1 and g */
        double x_lo = g < k ? sx[g] : r[0];
        double x_hi = g == a ? px : sx[g - 1];
        double y_lo = g == 0 ? r[1] : sy[g - 1];
        delta += (x_hi - x_lo) * (py - y_lo);
    }
    memmove(sx + a + 1, sx + e, (k - e) * sizeof *sx);
    memmove(sy + a + 1, sy + e, (k - e) * sizeof *sy);
    sx[a] = px;
    sy[a] = py;
    *k_io = k - (e - a) + 1;
    return delta;
}

/* Hypervolume in the first d coordinates of the rows idx[0..n), sorted by y_{d-1}
 * (hone_pareto_sort order), all strictly better than r. */
static double s_hv(s_work_t *w, const double *y, size_t m, const double *r, size_t d,
                   const size_t *idx, size_t n)
{
    if (n == 0)
        return 0.0;
    if (d == 1)
        return y[idx[0] * m] - r[0];
    if (d == 2) {
        /* Decreasing y1: a point reaching past the widest x so far adds the strip
         * between them at its height, the highest left for that strip. */
        double area = 0.0, max_x = r[0];
        for (size_t c = 0; c < n; c++) {
            const double *p = y + idx[c] * m;
            if (p[0] > max_x) {
                area += (p[0] - max_x) * (p[1] - r[1]);
                max_x = p[0];
            }
        }
        return area;
    }
    if (d == 3) {
        /* Decreasing y2: the slab between two levels has the area of the staircase of
         * the points above it. */
        size_t k = 0;
        double area = 0.0, vol = 0.0, z_prev = y[idx[0] * m + 2];
        for (size_t c = 0; c < n; c++) {
            const double *p = y + idx[c] * m;
            vol += area * (z_prev - p[2]);
            z_prev = p[2];
            area += s_stair_insert(w->sx, w->sy, &k, p[0], p[1], r);
        }
        return vol + area * (z_prev - r[2]);
    }
    /* Slicing on y_{d-1}: between two consecutive levels the cross-section is the
     * (d-1)-D dominated region of the points at or above the upper level. */
    size_t *child = w->child + d * w->cap, nc = 0;
    double vol = 0.0;
    size_t c = 0;
    while (c < n) {
        double t = y[idx[c] * m + d - 1];
        while (c < n && y[idx[c] * m + d - 1] == t)
            hone_pareto_insert(child, &nc, idx[c++], y, m, d - 2);
        double t_next = c < n ? y[idx[c] * m + d - 1] : r[d - 1];
        vol += s_hv(w, y, m, r, d - 1, child, nc) * (t - t_next);
    }
    return vol;
}

/* Hypervolume of rows y[0..n) (n <= w->cap) with the scratch of w. */
static double s_hv_rows(s_work_t *w, const double *y, size_t n, size_t m, const double *r)
{
    size_t k = s_front(y, n, m, r, false, w->front, w->tmp);
    hone_pareto_sort(w->front, k, w->tmp, y, m, m - 1);
    return s_hv(w, y, m, r, m, w->front, k);
}

double hone_pareto_hypervolume(const double *y, size_t n, size_t m, const double *ref)
{
    HONE_ASSERT(m >= 1 && ref && (n == 0 || y));
    if (n == 0)
        return 0.0;
    s_work_t w;
    s_work_init(&w, n, m);
    double hv = s_hv_rows(&w, y, n, m, ref);
    s_work_free(&w);
    return hv;
}

void hone_pareto_contributions(const double *y, size_t n, size_t m, const double *ref,
                               double *contrib_out)
{
    HONE_ASSERT(m >= 1 && ref && (n == 0 || (y && contrib_out)));
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        contrib_out[i] = 0.0;
    s_work_t w;
    s_work_init(&w, n, m);
    size_t *front = hone_alloc_array(n, sizeof *front);
    double *limit = hone_alloc_array(n * m, sizeof *limit);
    /* Copies stay in the front: the limit set of one copy then contains the other,
     * whose box covers it, and both contributions come out 0. The limit set takes
     * every other row, not only the front: a row dominated by p alone is exposed when
     * p goes. */
    size_t k = s_front(y, n, m, ref, true, front, w.tmp);
    for (size_t f = 0; f < k; f++) {
        const double *p = y + front[f] * m;
        size_t nl = 0;
        for (size_t i = 0; i < n; i++) {
            const double *q = y + i * m;
            if (i == front[f] || !s_counts(q, m, ref))
                continue;
            for (size_t j = 0; j < m; j++)
                limit[nl * m + j] = q[j] < p[j] ? q[j] : p[j];
            nl++;
        }
        double box = 1.0;
        for (size_t j = 0; j < m; j++)
            box *= p[j] - ref[j];
        double excl = box - s_hv_rows(&w, limit, nl, m, ref);
        contrib_out[front[f]] = excl > 0.0 ? excl : 0.0;
    }
    hone_free(limit);
    hone_free(front);
    s_work_free(&w);
}

/* ---- Reference point ---------------------------------------------------------- */

/* reference/bo-numerics.md §2.5 (lines 373-379): "predict the posterior mean at the
 * observed X, keep the feasible points and take their Pareto set P; ref = nadir −
 * 0.1·(ideal − nadir), with each range clamped at ≥ 1e-7; with a single Pareto point
 * p: ref = p − 0.1·max(|p|, 1e-7)"; reference/ax-client-behaviour.md §2.3 and §6.2
 * (lines 287-288, 719): missing thresholds are inferred. The partial-threshold cases
 * follow BoTorch's infer_reference_point (botorch/acquisition/multi_objective/utils.py)
 * as Ax's infer_objective_thresholds calls it (max_ref_point = the given thresholds,
 * NaN where missing; scale 0.1; scale_max_ref_point false). */
int hone_pareto_infer_ref(const double *y, size_t n, size_t m, const double *max_ref,
                          double *ref_out, hone_error_t *err)
{
    HONE_ASSERT(m >= 1 && ref_out && (n == 0 || y));
    size_t *front = hone_alloc_array(n ? n : 1, sizeof *front);
    size_t k = hone_pareto_front(y, n, m, NULL, false, front);
    size_t given = 0;
    for (size_t j = 0; max_ref && j < m; j++)
        given += !isnan(max_ref[j]);
    if (k == 0) {
        hone_free(front);
        if (!max_ref || given < m)
            return hone_error_set(err, HONE_EINVAL,
                                  "no Pareto point to infer the reference point from, and %s",
                                  max_ref ? "some objective thresholds are missing"
                                          : "no objective thresholds");
        memcpy(ref_out, max_ref, m * sizeof *ref_out);
        return HONE_OK;
    }
    /* BoTorch's better_than_ref: strictly better than every given threshold (every
     * point when none is given). */
    bool any_better = false;
    for (size_t f = 0; f < k && !any_better; f++) {
        bool better = true;
        for (size_t j = 0; max_ref && j < m && better; j++)
            better = isnan(max_ref[j]) || y[front[f] * m + j] > max_ref[j];
        any_better = better;
    }
    if (max_ref && given == m && any_better) {
        memcpy(ref_out, max_ref, m * sizeof *ref_out);
        hone_free(front);
        return HONE_OK;
    }
    if (k == 1) {
        const double *p = y + front[0] * m;
        for (size_t j = 0; j < m; j++)
            ref_out[j] = p[j] - S_REF_SCALE * fmax(fabs(p[j]), S_MIN_Y_RANGE);
    }
    else {
        for (size_t j = 0; j < m; j++) {
            double nadir = INFINITY, ideal = -INFINITY;
            for (size_t f = 0; f < k; f++) {
                nadir = fmin(nadir, y[front[f] * m + j]);
                ideal = fmax(ideal, y[front[f] * m + j]);
            }
            if (max_ref && !isnan(max_ref[j]))
                nadir = fmin(nadir, max_ref[j]);
            ref_out[j] = nadir - S_REF_SCALE * fmax(ideal - nadir, S_MIN_Y_RANGE);
        }
    }
    if (given > 0 && given < m && any_better) {
        for (size_t j = 0; j < m; j++) {
            if (!isnan(max_ref[j]))
                ref_out[j] = max_ref[j];
        }
    }
    hone_free(front);
    return HONE_OK;
}
