/* encode.h: the model's view of a search space (reference/bo-numerics.md §1.2, §3.3).
 *
 * Each parameter becomes one or more features in [0, 1]:
 *   - a float range: (v − lo)/(hi − lo), in log space for log scaling;
 *   - an int range: the same, kept discrete as an ordinal of hi − lo + 1 levels (a
 *     log-scaled int stays continuous in log space and is rounded when decoded);
 *   - an ordered choice (ints, floats, bools, stepped ranges, two-valued strings):
 *     its index i/(k − 1), an ordinal of k levels;
 *   - an unordered choice: k one-hot columns (a group), decoded by argmax;
 *   - a fixed parameter: no feature at all (Ax's RemoveFixed).
 * The discrete structure is exposed as a hone_acqf_space_t so that the acquisition
 * optimizer returns points on the grid, and so are the parameter constraints, rewritten
 * in feature coordinates (reference/bo-numerics.md §1.2): a linear range maps as
 * v = lo + (hi − lo)·u and an ordered choice with equally spaced values as
 * v = v0 + (v_last − v0)·u, so their constraints stay linear. A constraint on an ordered
 * choice whose values are not equally spaced is not affine in u; it is left out of the
 * optimizer's constraints, and the caller checks the decoded point instead. */
#ifndef HONE_ENCODE_H
#define HONE_ENCODE_H

#include "acqf.h"
#include "constraint.h"
#include "space.h"

typedef struct _hone_encoding_t hone_encoding_t;

/* The encoding of space (borrowed: it must outlive the encoding). Aborts on OOM. */
hone_encoding_t *hone_encoding_new(const hone_space_t *space);
void hone_encoding_destroy(hone_encoding_t **self_p);

/* Number of model features (0 when every parameter is fixed). */
size_t hone_encoding_dim(const hone_encoding_t *self);
/* The discrete structure of the features (valid for the encoding's life). */
const hone_acqf_space_t *hone_encoding_acqf_space(const hone_encoding_t *self);

/* Gives the acquisition space (hone_encoding_acqf_space) the constraints of set that
 * are affine in the features, as rows A·u <= b; replaces any earlier ones; NULL or an
 * empty set removes them. set must have been made for the encoding's space; it is read
 * now and not kept. Returns the number of constraints left out (not affine). */
size_t hone_encoding_set_constraints(hone_encoding_t *self, const hone_constraint_set_t *set);

/* Parameterization (in the space's order, members of the space) → features. */
void hone_encoding_encode(const hone_encoding_t *self, const hone_value_t *params, double *x);
/* Features → the nearest parameterization of the space (ordinals rounded, one-hot groups
 * by argmax, fixed parameters at their value). Uses a scratch buffer of the encoding:
 * one thread at a time. */
void hone_encoding_decode(const hone_encoding_t *self, const double *x, hone_value_t *out);

#endif
