/* acqf_opt_discrete.c: the discrete side of hone_acqf_optimize (acqf_opt.c): projection
 * onto the grid of ordinal levels and one-hot groups, the greedy neighbour moves that
 * alternate with short continuous polishes, and the enumeration of small all-discrete
 * spaces. */
#include "acqf_opt_internal.h"

#include <math.h>

#include "alloc.h"

#define S_MAX_ALTERNATIONS 8      /* discrete/continuous rounds per restart */

/* ---- projection onto the grid ---- */

static size_t s_group_size(const hone_acqf_opt_t *o, size_t g)
{
    return o->group_start[g + 1] - o->group_start[g];
}

static int s_levels(const hone_acqf_opt_t *o, size_t a)
{
    return o->space->levels[a];
}

/* Ordinal level index of x (nearest level). */
static int s_level_index(double x, int levels)
{
    if (levels <= 1)
        return 0;
    double idx = nearbyint(x * (levels - 1));
    return idx < 0 ? 0 : idx > levels - 1 ? levels - 1 : (int) idx;
}

static double s_level_value(int idx, int levels)
{
    return levels <= 1 ? 0.0 : (double) idx / (levels - 1);
}

void hone_acqf_opt_project(const hone_acqf_opt_t *o, double *x)
{
    for (size_t i = 0; i < o->n_ord; i++) {
        size_t a = o->ord[i];
        int levels = s_levels(o, a);
        x[a] = s_level_value(s_level_index(x[a], levels), levels);
    }
    for (size_t g = 0; g < o->n_groups; g++) {
        const size_t *m = o->member + o->group_start[g];
        size_t size = s_group_size(o, g);
        if (size == 1) {   /* a lone column is a binary choice */
            x[m[0]] = x[m[0]] >= 0.5 ? 1.0 : 0.0;
            continue;
        }
        size_t best = 0;
        for (size_t j = 1; j < size; j++)
            if (x[m[j]] > x[m[best]])
                best = j;
        for (size_t j = 0; j < size; j++)
            x[m[j]] = j == best ? 1.0 : 0.0;
    }
    for (size_t i = 0; i < o->n_cont; i++) {
        size_t a = o->cont[i];
        x[a] = fmin(fmax(x[a], 0.0), 1.0);
    }
}

/* ---- discrete neighbour search ---- */

/* Writes the neighbours of x into o->nbr + d (after the current point at o->nbr) and
 * returns their number. */
static size_t s_neighbours(hone_acqf_opt_t *o, const double *x)
{
    size_t d = o->d;
    size_t n = 0;
    memcpy(o->nbr, x, d * sizeof(double));
    for (size_t i = 0; i < o->n_ord; i++) {
        size_t a = o->ord[i];
        int levels = s_levels(o, a);
        int idx = s_level_index(x[a], levels);
        for (int step = -1; step <= 1; step += 2) {
            if (idx + step < 0 || idx + step >= levels)
                continue;
            double *y = o->nbr + (1 + n++) * d;
            memcpy(y, x, d * sizeof(double));
            y[a] = s_level_value(idx + step, levels);
        }
    }
    for (size_t g = 0; g < o->n_groups; g++) {
        const size_t *m = o->member + o->group_start[g];
        size_t size = s_group_size(o, g);
        for (size_t j = 0; j < size; j++) {
            if (size > 1 && x[m[j]] == 1.0)
                continue;
            double *y = o->nbr + (1 + n++) * d;
            memcpy(y, x, d * sizeof(double));
            if (size == 1) {
                y[m[0]] = 1.0 - x[m[0]];
            }
            else {
                for (size_t k = 0; k < size; k++)
                    y[m[k]] = k == j ? 1.0 : 0.0;
            }
        }
    }
    HONE_ASSERT(n <= o->nbr_cap);
    return n;
}

/* From x on the grid: alternates continuous polishes (discrete dimensions fixed) and
 * greedy moves to the best acceptable neighbour. A point that is not acceptable itself
 * moves to its best acceptable neighbour even if that is worse. On return x is the final
 * point and *value its acquisition value; *ok tells whether x is acceptable. */
int hone_acqf_opt_discrete_search(hone_acqf_opt_t *o, double *x, bool *fixed, double *value,
                                  bool *ok)
{
    size_t d = o->d;
    for (size_t a = 0; a < d; a++)
        fixed[a] = hone_acqf_opt_kind(o->space, a) != HONE_ACQF_OPT_KIND_CONT;
    *ok = false;
    *value = -INFINITY;
    bool moved = true;
    for (int round = 0; round < S_MAX_ALTERNATIONS; round++) {
        if (moved && o->n_cont > 0 && hone_acqf_opt_repair(o, x)) {
            int budget = round == 0 ? o->max_eval : (o->max_eval + 3) / 4;
            int rc = hone_acqf_opt_local(o, x, fixed, budget);
            if (rc != HONE_OK)
                return rc;
        }
        size_t n = s_neighbours(o, x);
        for (size_t j = 1; j <= n && o->space->n_ineq > 0; j++)
            (void) hone_acqf_opt_repair(o, o->nbr + j * d);
        int rc = hone_acqf_eval(o->acqf, 1 + n, o->nbr, o->nbr_val);
        if (rc != HONE_OK)
            return rc;
        *value = o->nbr_val[0];
        *ok = hone_acqf_opt_acceptable(o, x) && !isnan(*value);
        size_t best = 0;
        for (size_t j = 1; j <= n; j++) {
            const double *y = o->nbr + j * d;
            if (isnan(o->nbr_val[j]) || !hone_acqf_opt_acceptable(o, y))
                continue;
            if (best == 0 ? (!*ok || o->nbr_val[j] > *value) : o->nbr_val[j] > o->nbr_val[best])
                best = j;
        }
        moved = best != 0;
        if (!moved)
            break;
        memcpy(x, o->nbr + best * d, d * sizeof(double));
        *value = o->nbr_val[best];
        *ok = true;
    }
    return HONE_OK;
}

/* ---- enumeration of all-discrete spaces ---- */

/* Number of grid points of the discrete dimensions (saturating at 2^53). */
double hone_acqf_opt_grid_size(const hone_acqf_opt_t *o)
{
    double total = 1.0;
    for (size_t i = 0; i < o->n_ord; i++)
        total *= fmax(1.0, s_levels(o, o->ord[i]));
    for (size_t g = 0; g < o->n_groups; g++) {
        size_t size = s_group_size(o, g);
        total *= size == 1 ? 2.0 : (double) size;
    }
    return fmin(total, 0x1.0p53);
}

int hone_acqf_opt_enumerate(hone_acqf_opt_t *o, size_t count, double *x_out, double *value_out,
                            hone_error_t *err)
{
    size_t d = o->d;
    double *pts = hone_alloc_array(count * d, sizeof(double));
    double *vals = hone_alloc_array(count, sizeof(double));
    size_t n = 0;
    for (size_t c = 0; c < count; c++) {
        double *y = pts + n * d;
        size_t rest = c;   /* mixed radix: ordinals first, then groups */
        for (size_t i = 0; i < o->n_ord; i++) {
            int levels = s_levels(o, o->ord[i]);
            size_t radix = levels < 1 ? 1 : (size_t) levels;
            y[o->ord[i]] = s_level_value((int) (rest % radix), levels);
            rest /= radix;
        }
        for (size_t g = 0; g < o->n_groups; g++) {
            const size_t *m = o->member + o->group_start[g];
            size_t size = s_group_size(o, g);
            size_t radix = size == 1 ? 2 : size;
            size_t pick = rest % radix;
            rest /= radix;
            if (size == 1)
                y[m[0]] = (double) pick;
            else
                for (size_t k = 0; k < size; k++)
                    y[m[k]] = k == pick ? 1.0 : 0.0;
        }
        if (hone_acqf_opt_acceptable(o, y))
            n++;
    }
    int rc = n > 0 ? hone_acqf_eval(o->acqf, n, pts, vals) : HONE_OK;
    size_t best = n;
    for (size_t i = 0; rc == HONE_OK && i < n; i++)
        if (!isnan(vals[i]) && (best == n || vals[i] > vals[best]))
            best = i;
    if (rc != HONE_OK)
        rc = hone_error_set(err, rc, "acquisition evaluation failed (%s)", hone_strerror(rc));
    else if (best == n)
        rc = hone_error_set(err, HONE_EEXHAUSTED, "every point of the discrete space is "
                            "excluded or infeasible");
    else {
        memcpy(x_out, pts + best * d, d * sizeof(double));
        if (value_out)
            *value_out = vals[best];
    }
    hone_free(pts);
    hone_free(vals);
    return rc;
}
