/* encode.c: parameters ↔ model features in the unit cube. */
#include "encode.h"

#include "alloc.h"

#include <math.h>

typedef enum { S_CONT = 0, S_ORDINAL = 1, S_ONEHOT = 2, S_NONE = 3 } s_feature_kind_t;

/* How one parameter maps to features. */
typedef struct {
    s_feature_kind_t kind;   /* how it is encoded */
    size_t first;            /* its first feature */
    size_t width;            /* features it takes (k for one-hot, else 0 or 1) */
} s_slot_t;

struct _hone_encoding_t {
    const hone_space_t *space;  /* borrowed */
    s_slot_t *slots;            /* one per parameter */
    size_t dim;                 /* number of features */
    int *kind;                  /* per feature: 0 continuous, 1 ordinal, 2 one-hot member */
    int *levels;                /* per feature: ordinal levels */
    int *group;                 /* per feature: one-hot group id, else -1 */
    double *unit;               /* scratch: one coordinate per parameter for from_unit */
    double *ineq_a;             /* affine parameter constraints in features, n_ineq × dim */
    double *ineq_b;             /* their bounds */
    hone_acqf_space_t acqf;     /* view of kind/levels/group and the constraints */
};

static size_t s_choice_index(const hone_param_t *p, const hone_value_t *v)
{
    for (size_t j = 0; j < p->n_values; j++)
        if (hone_value_equal(&p->values[j], v))
            return j;
    HONE_ASSERT(!"value is not a member of the choice");
    return 0;
}

hone_encoding_t *hone_encoding_new(const hone_space_t *space)
{
    HONE_ASSERT(space);
    size_t n = hone_space_size(space);
    hone_encoding_t *self = hone_alloc(sizeof *self);
    self->space = space;
    self->slots = hone_alloc_array(n ? n : 1, sizeof *self->slots);
    self->unit = hone_alloc_array(n ? n : 1, sizeof *self->unit);
    size_t dim = 0;
    for (size_t i = 0; i < n; i++) {
        const hone_param_t *p = hone_space_param(space, i);
        s_slot_t *s = &self->slots[i];
        s->first = dim;
        if (p->kind == HONE_PARAM_FIXED) {
            s->kind = S_NONE;
            s->width = 0;
        } else if (p->kind == HONE_PARAM_RANGE) {
            s->kind = (p->type == HONE_TYPE_INT && !p->log_scale) ? S_ORDINAL : S_CONT;
            s->width = 1;
        } else if (p->is_ordered) {
            s->kind = S_ORDINAL;
            s->width = 1;
        } else {
            s->kind = S_ONEHOT;
            s->width = p->n_values;
        }
        dim += s->width;
    }
    self->dim = dim;
    self->kind = hone_alloc_array(dim ? dim : 1, sizeof(int));
    self->levels = hone_alloc_array(dim ? dim : 1, sizeof(int));
    self->group = hone_alloc_array(dim ? dim : 1, sizeof(int));
    int groups = 0;
    for (size_t i = 0; i < n; i++) {
        const hone_param_t *p = hone_space_param(space, i);
        const s_slot_t *s = &self->slots[i];
        for (size_t w = 0; w < s->width; w++) {
            size_t f = s->first + w;
            self->group[f] = -1;
            self->levels[f] = 0;
            if (s->kind == S_CONT) {
                self->kind[f] = 0;
            } else if (s->kind == S_ORDINAL) {
                self->kind[f] = 1;
                self->levels[f] = p->kind == HONE_PARAM_RANGE ? (int) (p->upper - p->lower) + 1
                                                              : (int) p->n_values;
            } else {
                self->kind[f] = 2;
                self->group[f] = groups;
            }
        }
        if (s->kind == S_ONEHOT)
            groups++;
    }
    self->acqf = (hone_acqf_space_t) {
        .d = dim, .kind = self->kind, .levels = self->levels, .group = self->group,
    };
    return self;
}

void hone_encoding_destroy(hone_encoding_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_encoding_t *self = *self_p;
    hone_free(self->slots);
    hone_free(self->unit);
    hone_free(self->kind);
    hone_free(self->levels);
    hone_free(self->group);
    hone_free(self->ineq_a);
    hone_free(self->ineq_b);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_encoding_dim(const hone_encoding_t *self) { HONE_ASSERT(self); return self->dim; }

const hone_acqf_space_t *hone_encoding_acqf_space(const hone_encoding_t *self)
{
    HONE_ASSERT(self);
    return &self->acqf;
}

/* v = offset + scale·u on the parameter's feature, when that holds exactly (a linear
 * range, an ordered numeric choice with equally spaced values). */
static bool s_affine(const hone_param_t *p, const s_slot_t *s, double *offset, double *scale)
{
    if (p->kind == HONE_PARAM_RANGE && !p->log_scale && (s->kind == S_CONT || s->kind == S_ORDINAL)) {
        *offset = p->lower;
        *scale = p->upper - p->lower;
        return true;
    }
    if (p->kind != HONE_PARAM_CHOICE || s->kind != S_ORDINAL || p->log_scale || p->n_values < 2)
        return false;
    double v0 = hone_value_as_double(&p->values[0]);
    double span = hone_value_as_double(&p->values[p->n_values - 1]) - v0;
    if (!isfinite(span) || span <= 0)
        return false;
    for (size_t j = 1; j + 1 < p->n_values; j++) {
        double expected = v0 + span * (double) j / (double) (p->n_values - 1);
        if (fabs(hone_value_as_double(&p->values[j]) - expected) > 1e-9 * span)
            return false;   /* e.g. [1, 2, 4]: only piecewise linear in u */
    }
    *offset = v0;
    *scale = span;
    return true;
}

size_t hone_encoding_set_constraints(hone_encoding_t *self, const hone_constraint_set_t *set)
{
    HONE_ASSERT(self);
    size_t n = hone_space_size(self->space);
    size_t rows = set ? hone_constraint_set_size(set) : 0;
    HONE_ASSERT(!set || hone_constraint_set_n_params(set) == n);
    hone_free(self->ineq_a);
    hone_free(self->ineq_b);
    self->ineq_a = hone_alloc_array(rows * self->dim + 1, sizeof(double));
    self->ineq_b = hone_alloc_array(rows + 1, sizeof(double));
    size_t kept = 0;
    for (size_t i = 0; i < rows; i++) {
        const double *w = hone_constraint_set_weights(set, i);
        double *row = self->ineq_a + kept * self->dim;
        double b = hone_constraint_set_bound(set, i);
        bool affine = true;
        memset(row, 0, self->dim * sizeof(double));
        for (size_t j = 0; j < n && affine; j++) {
            if (w[j] == 0.0)
                continue;
            double offset, scale;
            const hone_param_t *p = hone_space_param(self->space, j);
            affine = s_affine(p, &self->slots[j], &offset, &scale);
            if (affine) {
                /* Σ w·(offset + scale·u) <= b  ⇔  Σ (w·scale)·u <= b − Σ w·offset; unscaled,
                 * so that a slack in u is the same slack in the parameters */
                row[self->slots[j].first] = w[j] * scale;
                b -= w[j] * offset;
            }
        }
        if (affine)
            self->ineq_b[kept++] = b;
    }
    self->acqf.n_ineq = kept;
    self->acqf.ineq_a = kept ? self->ineq_a : NULL;
    self->acqf.ineq_b = kept ? self->ineq_b : NULL;
    return rows - kept;
}

static double s_range_feature(const hone_param_t *p, double v)
{
    double u = p->log_scale ? (log(v) - log(p->lower)) / (log(p->upper) - log(p->lower))
                            : (v - p->lower) / (p->upper - p->lower);
    return u < 0 ? 0 : u > 1 ? 1 : u;
}

void hone_encoding_encode(const hone_encoding_t *self, const hone_value_t *params, double *x)
{
    HONE_ASSERT(self && params && (x || self->dim == 0));
    size_t n = hone_space_size(self->space);
    for (size_t i = 0; i < n; i++) {
        const hone_param_t *p = hone_space_param(self->space, i);
        const s_slot_t *s = &self->slots[i];
        switch (s->kind) {
        case S_NONE:
            break;
        case S_CONT:
        case S_ORDINAL:
            if (p->kind == HONE_PARAM_RANGE)
                x[s->first] = s_range_feature(p, hone_value_as_double(&params[i]));
            else
                x[s->first] = p->n_values > 1
                                  ? (double) s_choice_index(p, &params[i]) / (double) (p->n_values - 1)
                                  : 0.0;
            break;
        case S_ONEHOT: {
            size_t j = s_choice_index(p, &params[i]);
            for (size_t w = 0; w < s->width; w++)
                x[s->first + w] = w == j ? 1.0 : 0.0;
            break;
        }
        }
    }
}

void hone_encoding_decode(const hone_encoding_t *self, const double *x, hone_value_t *out)
{
    HONE_ASSERT(self && out && (x || self->dim == 0));
    size_t n = hone_space_size(self->space);
    /* Build the space's own unit coordinates, then let it map and round. */
    for (size_t i = 0; i < n; i++) {
        const hone_param_t *p = hone_space_param(self->space, i);
        const s_slot_t *s = &self->slots[i];
        double u = 0.5;
        if (s->kind == S_CONT || (s->kind == S_ORDINAL && p->kind == HONE_PARAM_RANGE)) {
            u = x[s->first];
        } else if (s->kind == S_ORDINAL) {
            double k = (double) p->n_values;
            double j = nearbyint(x[s->first] * (k - 1));
            if (j < 0)
                j = 0;
            if (j > k - 1)
                j = k - 1;
            u = (j + 0.5) / k;
        } else if (s->kind == S_ONEHOT) {
            size_t best = 0;
            for (size_t w = 1; w < s->width; w++)
                if (x[s->first + w] > x[s->first + best])
                    best = w;
            u = ((double) best + 0.5) / (double) s->width;
        }
        self->unit[i] = u;
    }
    hone_space_from_unit(self->space, self->unit, out);
}
