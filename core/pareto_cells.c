/* pareto_cells.c: the box decomposition of the non-dominated region and the
 * hypervolume improvement over it (see pareto.h).
 *
 * The decomposition sweeps the last objective downwards. Between two consecutive
 * levels of y_d the cross-section of the non-dominated region is the (d-1)-D
 * non-dominated region of the points at or above the upper level, so a d-D cell is a
 * (d-1)-D cell of the cross-section times the range of levels over which that cell
 * stays unchanged:
 *   d = 2  one strip above the staircase per gap between consecutive points;
 *   d = 3  the cross-section is kept as a 2-D staircase; inserting a point closes the
 *          cells of the gaps it cuts and opens two, so there are at most 2k + 1 cells;
 *   d >= 4 the cross-section is decomposed again at each level (recursively), sorted,
 *          and matched with the previous level's cells: matched cells are extended,
 *          the others closed or opened. */
#include "pareto.h"

#include <math.h>

#include "alloc.h"

/* A growable list of cells with d coordinates, and for the open cells of a sweep the
 * level at which each opened. */
typedef struct s_list {
    size_t d;           /* coordinates per cell */
    size_t n;           /* cells */
    size_t cap;         /* rows allocated */
    double *lo, *hi;    /* n x d */
    double *top;        /* n, or NULL for lists without levels */
    bool with_top;      /* top is kept */
} s_list_t;

typedef struct s_ctx {
    const double *y;        /* the rows, m per row */
    size_t m;               /* objectives */
    const double *r;        /* the reference point */
    double *sx, *sy;        /* k: the staircase of the d = 3 sweep (or the d = 2 front) */
    double *gtop;           /* k + 2: level at which each staircase gap opened */
    size_t *child;          /* (m + 1) x k: at depth d, the slice's points by y_{d-2} */
    size_t stride;          /* rows of each child list */
    s_list_t *cur;          /* m + 1: at depth d, the cross-section of this level */
    s_list_t *open;         /* m + 1: at depth d, the open cells, sorted */
    s_list_t *next;         /* m + 1: at depth d, the open cells being merged */
    size_t *perm, *ptmp;    /* sort of a cross-section */
    size_t perm_cap;        /* entries allocated in perm and ptmp */
} s_ctx_t;

static void s_reserve(s_list_t *l, size_t rows)
{
    if (rows <= l->cap)
        return;
    size_t cap = l->cap ? 2 * l->cap : 16;
    if (cap < rows)
        cap = rows;
    l->lo = hone_realloc_array(l->lo, cap * l->d, sizeof *l->lo);
    l->hi = hone_realloc_array(l->hi, cap * l->d, sizeof *l->hi);
    if (l->with_top)
        l->top = hone_realloc_array(l->top, cap, sizeof *l->top);
    l->cap = cap;
}

/* Appends a row and returns its index; the caller fills lo, hi (and top). */
static size_t s_push(s_list_t *l)
{
    s_reserve(l, l->n + 1);
    return l->n++;
}

static void s_list_free(s_list_t *l)
{
    hone_free(l->lo);
    hone_free(l->hi);
    hone_free(l->top);
}

/* Appends the d-D cell [lo, hi] x [z_lo, z_hi] (lo, hi of d - 1 coordinates). */
static void s_emit(s_list_t *out, const double *lo, const double *hi, double z_lo, double z_hi)
{
    size_t d = out->d, c = s_push(out);
    memcpy(out->lo + c * d, lo, (d - 1) * sizeof *lo);
    memcpy(out->hi + c * d, hi, (d - 1) * sizeof *hi);
    out->lo[c * d + d - 1] = z_lo;
    out->hi[c * d + d - 1] = z_hi;
}

/* d = 2: idx sorted by y1 decreasing. The front in increasing y0 is the points that
 * reach past the widest y0 so far; with x_0 > ... > x_{k-1} its points by decreasing
 * y0, cell g (0..k) is [x_g, x_{g-1}] x [y_{g-1}, inf), x_{-1} = inf, y_{-1} = r1,
 * x_k = r0. */
static void s_cells2(s_ctx_t *c, const size_t *idx, size_t n, s_list_t *out)
{
    const double *y = c->y, *r = c->r;
    size_t m = c->m, k = 0;
    double max_x = r[0];
    for (size_t i = 0; i < n; i++) {
        const double *p = y + idx[i] * m;
        if (p[0] > max_x) {
            c->sx[k] = p[0];        /* increasing x, decreasing y */
            c->sy[k++] = p[1];
            max_x = p[0];
        }
    }
    for (size_t g = 0; g <= k; g++) {
        /* point g in decreasing x is sx[k - 1 - g] */
        double x_lo = g < k ? c->sx[k - 1 - g] : r[0];
        double x_hi = g == 0 ? INFINITY : c->sx[k - g];
        double y_lo = g == 0 ? r[1] : c->sy[k - g];
        size_t row = s_push(out);
        out->lo[row * 2] = x_lo;
        out->lo[row * 2 + 1] = y_lo;
        out->hi[row * 2] = x_hi;
        out->hi[row * 2 + 1] = INFINITY;
    }
}

/* Closes staircase gap g (between points g-1 and g of k) at level z: the cell
 * [x_g, x_{g-1}] x [y_{g-1}, inf) x [z, gtop[g]], unless it has no thickness. */
static void s_close_gap(s_ctx_t *c, size_t g, size_t k, double z, s_list_t *out)
{
    if (!(c->gtop[g] > z))
        return;
    double lo[2], hi[2];
    lo[0] = g < k ? c->sx[g] : c->r[0];
    lo[1] = g == 0 ? c->r[1] : c->sy[g - 1];
    hi[0] = g == 0 ? INFINITY : c->sx[g - 1];
    hi[1] = INFINITY;
    s_emit(out, lo, hi, z, c->gtop[g]);
}

/* d = 3: idx sorted by y2 decreasing. The staircase sx (decreasing), sy (increasing)
 * holds the 2-D front of the points above the sweep; gap g lies between its points
 * g-1 and g. A new point that is not weakly dominated removes the points [a, e) it
 * dominates, closes gaps a..e at its level and opens the two gaps around it. */
static void s_cells3(s_ctx_t *c, const size_t *idx, size_t n, s_list_t *out)
{
    const double *y = c->y, *r = c->r;
    size_t m = c->m, k = 0;
    double *sx = c->sx, *sy = c->sy, *gtop = c->gtop;
    gtop[0] = INFINITY;
    for (size_t i = 0; i < n; i++) {
        const double *p = y + idx[i] * m;
        size_t lo = 0, hi = k;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (sx[mid] > p[0])
                lo = mid + 1;
            else
                hi = mid;
        }
        size_t a = lo;
        size_t ge = (a < k && sx[a] == p[0]) ? a + 1 : a;
        if (ge > 0 && sy[ge - 1] >= p[1])
            continue;                       /* weakly dominated: nothing changes */
        size_t e = a;
        while (e < k && sy[e] <= p[1])
            e++;
        for (size_t g = a; g <= e; g++)
            s_close_gap(c, g, k, p[2], out);
        memmove(sx + a + 1, sx + e, (k - e) * sizeof *sx);
        memmove(sy + a + 1, sy + e, (k - e) * sizeof *sy);
        memmove(gtop + a + 2, gtop + e + 1, (k - e) * sizeof *gtop);
        sx[a] = p[0];
        sy[a] = p[1];
        gtop[a] = gtop[a + 1] = p[2];
        k = k - (e - a) + 1;
    }
    for (size_t g = 0; g <= k; g++)
        s_close_gap(c, g, k, r[2], out);
}

/* Order of cells: lo, then hi, lexicographically. */
static int s_cell_cmp(const s_list_t *a, size_t i, const s_list_t *b, size_t j)
{
    size_t d = a->d;
    const double *x = a->lo + i * d, *z = b->lo + j * d;
    for (size_t l = 0; l < d; l++) {
        if (x[l] != z[l])
            return x[l] < z[l] ? -1 : 1;
    }
    x = a->hi + i * d;
    z = b->hi + j * d;
    for (size_t l = 0; l < d; l++) {
        if (x[l] != z[l])
            return x[l] < z[l] ? -1 : 1;
    }
    return 0;
}

/* c->perm[0..l->n) = the rows of l in s_cell_cmp order (merge sort). */
static void s_sort_cells(s_ctx_t *c, const s_list_t *l)
{
    size_t n = l->n;
    if (n > c->perm_cap) {
        c->perm_cap = 2 * n;
        c->perm = hone_realloc_array(c->perm, c->perm_cap, sizeof *c->perm);
        c->ptmp = hone_realloc_array(c->ptmp, c->perm_cap, sizeof *c->ptmp);
    }
    size_t *src = c->perm, *dst = c->ptmp;
    for (size_t i = 0; i < n; i++)
        src[i] = i;
    for (size_t width = 1; width < n; width *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * width) {
            size_t mid = lo + width < n ? lo + width : n;
            size_t hi = lo + 2 * width < n ? lo + 2 * width : n;
            size_t a = lo, b = mid, o = lo;
            while (a < mid && b < hi)
                dst[o++] = s_cell_cmp(l, src[b], l, src[a]) < 0 ? src[b++] : src[a++];
            while (a < mid)
                dst[o++] = src[a++];
            while (b < hi)
                dst[o++] = src[b++];
        }
        size_t *swap = src;
        src = dst;
        dst = swap;
    }
    if (src != c->perm)
        memcpy(c->perm, src, n * sizeof *src);
}

/* Appends row i of from (d coordinates, opened at level top) to the open list to. */
static void s_keep_open(s_list_t *to, const s_list_t *from, size_t i, double top)
{
    size_t d = to->d, row = s_push(to);
    memcpy(to->lo + row * d, from->lo + i * d, d * sizeof *to->lo);
    memcpy(to->hi + row * d, from->hi + i * d, d * sizeof *to->hi);
    to->top[row] = top;
}

static void s_cells(s_ctx_t *c, size_t d, const size_t *idx, size_t n, s_list_t *out);

/* d >= 4: idx sorted by y_{d-1} decreasing. open holds the cross-section's cells that
 * are still open, sorted, with their opening levels; above the highest point the
 * cross-section is the single cell [r, inf). */
static void s_cells_levels(s_ctx_t *c, size_t d, const size_t *idx, size_t n, s_list_t *out)
{
    const double *y = c->y, *r = c->r;
    size_t m = c->m, key = d - 1;
    size_t *child = c->child + d * c->stride, nc = 0;
    s_list_t *cur = &c->cur[d], *open = &c->open[d], *next = &c->next[d];
    open->n = 0;
    size_t row = s_push(open);
    for (size_t j = 0; j < d - 1; j++) {
        open->lo[row * (d - 1) + j] = r[j];
        open->hi[row * (d - 1) + j] = INFINITY;
    }
    open->top[row] = INFINITY;
    size_t i = 0;
    while (i < n) {
        double t = y[idx[i] * m + key];
        while (i < n && y[idx[i] * m + key] == t)
            hone_pareto_insert(child, &nc, idx[i++], y, m, key - 1);
        cur->n = 0;
        s_cells(c, d - 1, child, nc, cur);
        s_sort_cells(c, cur);
        next->n = 0;
        size_t a = 0, b = 0;
        while (a < open->n || b < cur->n) {
            int cmp = a == open->n ? 1 : b == cur->n ? -1
                    : s_cell_cmp(open, a, cur, c->perm[b]);
            if (cmp < 0) {          /* gone from the cross-section: close it at t */
                if (open->top[a] > t)
                    s_emit(out, open->lo + a * (d - 1), open->hi + a * (d - 1), t, open->top[a]);
                a++;
            }
            else if (cmp > 0) {     /* new in the cross-section: opens at t */
                s_keep_open(next, cur, c->perm[b], t);
                b++;
            }
            else {                  /* unchanged: stays open */
                s_keep_open(next, open, a, open->top[a]);
                a++;
                b++;
            }
        }
        s_list_t swap = *open;
        *open = *next;
        *next = swap;
    }
    for (size_t a = 0; a < open->n; a++)
        s_emit(out, open->lo + a * (d - 1), open->hi + a * (d - 1), r[key], open->top[a]);
}

/* The cells of the first d coordinates of the rows idx[0..n), sorted by y_{d-1}
 * decreasing (hone_pareto_sort order), appended to out (d coordinates). */
static void s_cells(s_ctx_t *c, size_t d, const size_t *idx, size_t n, s_list_t *out)
{
    if (d == 1) {
        size_t row = s_push(out);
        out->lo[row] = n ? c->y[idx[0] * c->m] : c->r[0];
        out->hi[row] = INFINITY;
    }
    else if (d == 2)
        s_cells2(c, idx, n, out);
    else if (d == 3)
        s_cells3(c, idx, n, out);
    else
        s_cells_levels(c, d, idx, n, out);
}

hone_cells_t *hone_cells_new(size_t m)
{
    HONE_ASSERT(m >= 1);
    hone_cells_t *self = hone_alloc(sizeof *self);
    self->m = m;
    return self;
}

void hone_cells_destroy(hone_cells_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_cells_t *self = *self_p;
    hone_free(self->lo);
    hone_free(self->hi);
    hone_free(self);
    *self_p = NULL;
}

void hone_cells_decompose(hone_cells_t *self, const double *y, size_t n, const double *ref)
{
    HONE_ASSERT(self && ref && (n == 0 || y));
    size_t m = self->m;
    for (size_t j = 0; j < m; j++)
        HONE_ASSERT(isfinite(ref[j]));
    size_t cap = n ? n : 1;
    size_t *front = hone_alloc_array(cap, sizeof *front);
    size_t k = hone_pareto_front(y, n, m, ref, false, front);
    size_t *tmp = hone_alloc_array(cap, sizeof *tmp);
    hone_pareto_sort(front, k, tmp, y, m, m - 1);
    hone_free(tmp);

    s_ctx_t c = {.y = y, .m = m, .r = ref, .stride = k ? k : 1};
    c.sx = hone_alloc_array(c.stride, sizeof *c.sx);
    c.sy = hone_alloc_array(c.stride, sizeof *c.sy);
    c.gtop = hone_alloc_array(c.stride + 2, sizeof *c.gtop);
    if (m >= 4) {
        c.child = hone_alloc_array((m + 1) * c.stride, sizeof *c.child);
        c.cur = hone_alloc_array(m + 1, sizeof *c.cur);
        c.open = hone_alloc_array(m + 1, sizeof *c.open);
        c.next = hone_alloc_array(m + 1, sizeof *c.next);
        for (size_t d = 4; d <= m; d++) {
            c.cur[d].d = c.open[d].d = c.next[d].d = d - 1;
            c.open[d].with_top = c.next[d].with_top = true;
        }
    }
    s_list_t out = {.d = m, .cap = self->cap, .lo = self->lo, .hi = self->hi};
    s_cells(&c, m, front, k, &out);
    self->lo = out.lo;
    self->hi = out.hi;
    self->cap = out.cap;
    self->ncell = out.n;

    if (m >= 4) {
        for (size_t d = 4; d <= m; d++) {
            s_list_free(&c.cur[d]);
            s_list_free(&c.open[d]);
            s_list_free(&c.next[d]);
        }
        hone_free(c.cur);
        hone_free(c.open);
        hone_free(c.next);
        hone_free(c.child);
    }
    hone_free(c.perm);
    hone_free(c.ptmp);
    hone_free(c.gtop);
    hone_free(c.sy);
    hone_free(c.sx);
    hone_free(front);
}

double hone_cells_hvi(const hone_cells_t *self, const double *y, double *grad)
{
    size_t m = self->m;
    if (grad)
        memset(grad, 0, m * sizeof *grad);
    double total = 0.0;
    for (size_t c = 0; c < self->ncell; c++) {
        const double *lo = self->lo + c * m, *hi = self->hi + c * m;
        double vol = 1.0;
        size_t j = 0;
        for (; j < m; j++) {
            double len = (hi[j] < y[j] ? hi[j] : y[j]) - lo[j];   /* NaN stays NaN */
            if (!(len > 0.0))
                break;
            vol *= len;
        }
        if (j < m)
            continue;
        total += vol;
        if (grad) {
            /* every length is > 0, so dividing it out of the product is exact enough */
            for (j = 0; j < m; j++) {
                if (y[j] < hi[j])
                    grad[j] += vol / (y[j] - lo[j]);
            }
        }
    }
    return total;
}
