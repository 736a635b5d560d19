/* constraint.h: a linear constraint set, Ax's parameter_constraints
 * (reference/ax-client-behaviour.md §1.4). Internal to core: not installed.
 *
 * Each constraint is a string such as "x1 + x2 <= 1" or "2*x1 >= x2 + 3": a non-strict
 * inequality between two linear forms over parameter names. It is stored as weights per
 * parameter index and a bound, Σ w·x <= bound: both sides moved to the left (lhs − rhs
 * for "<=", rhs − lhs for ">="), the bound being the negated constant term. So
 * "x1 + x2 <= 1" is {x1: 1, x2: 1} <= 1, "x1 <= x2" is {x1: 1, x2: −1} <= 0 and
 * "2*x1 >= x2 + 3" is {x2: 1, x1: −2} <= −3.
 *
 * Grammar (expr.h, shared with goals.h; what SymPy accepts for a linear form, minus
 * function calls):
 *   inequality := form ("<=" | ">=") form
 *   form       := term (("+" | "-") term)*
 *   term       := factor (("*" | "/") factor)*
 *   factor     := ("+" | "-") factor | atom [("**" | "^") factor]
 *   atom       := number | name | "(" form ")"
 * Numbers are decimal, with an optional fraction and exponent ("2", "0.5", ".5",
 * "1e-3", "2.5E+2"). Names are [A-Za-z_][A-Za-z0-9_]* with '.' allowed inside when a
 * name character follows ("layer.width"); a '-' is always a minus. A product, quotient
 * or power is accepted only when the result stays linear (2*x, x*2, x/4, 2**3*x, x**1,
 * 3*(x + y)); x*y, x**2, x/y, 2**x are non-linear. Factors nest at most
 * HONE_EXPR_MAX_DEPTH (100) deep and a constraint may name at most n_params + 1
 * distinct names, so that a hostile string of length L costs O(L) stack and memory
 * and O(L · n_params) time.
 *
 * Parameters allowed in a constraint (Ax's validate_constraint_parameters): linear-scale
 * ranges (float or int) and numeric ordered choices that are not log-scaled (stepped
 * ranges among them). A point satisfies a constraint when Σ w·x <= bound + 1e-8.
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#ifndef HONE_CONSTRAINT_H
#define HONE_CONSTRAINT_H

#include "err.h"
#include "space.h"
#include "value.h"

/* Ax's slack in the feasibility test: Σ w·x <= bound + HONE_CONSTRAINT_TOL. */
#define HONE_CONSTRAINT_TOL 1e-8

typedef struct _hone_constraint_set_t hone_constraint_set_t;

/* An empty set for a space of n_params parameters. Aborts on OOM. */
hone_constraint_set_t *hone_constraint_set_new(size_t n_params);
/* Frees the set and sets *self_p to NULL; safe on NULL and twice. */
void hone_constraint_set_destroy(hone_constraint_set_t **self_p);

/* Parses text, validates it against space (which must have the n_params parameters the
 * set was made for) and appends it. Every error message starts with
 * "parameter_constraints[i]: " where i is the constraint's position (the set's size
 * before the call), then gives Ax's message:
 *   - "Expected an inequality, found <text>": a strict '<' or '>', '==', '=', no or
 *     several comparisons, a syntax error, or a comparison without any parameter left
 *     ("x - x <= 1", "1 <= 2");
 *   - "at column <c> ('<token>'): parentheses, signs and powers nest deeper than 100
 *     levels" (hone's own limit; the column is 0-based, the token the one too deep);
 *   - "Only linear inequality parameter constraints are supported, found <text>";
 *   - "'<text>' has forbidden control characters (; [ ' \)";
 *   - "division by zero in '<text>'", "a coefficient of '<text>' is not finite" (a
 *     number, or the first operation whose result overflows);
 *   - "`x` does not exist in search space." (also for the first unknown name when the
 *     string names more than n_params + 1 distinct names);
 *   - "Duplicate parameter in constraint." (a name written twice: "x + x <= 1");
 *   - "parameter 'p': Parameter constraints are not allowed on log scale parameters.";
 *   - "Only numerical ChoiceParameters can be used in parameter constraints. Found p
 *     with type STRING." (or BOOL);
 *   - "Only ordered ChoiceParameters can be used in parameter constraints. Found p with
 *     is_ordered=False.";
 *   - "Parameters in constraints must be RangeParameters or numerical ordered
 *     ChoiceParameters. Found p, a fixed parameter (a choice with a single value)."
 * Returns HONE_OK or HONE_EINVAL (the set is then unchanged). text is copied and kept
 * as given (hone_constraint_set_text). */
int hone_constraint_set_add(hone_constraint_set_t *self, const hone_space_t *space, const char *text,
                            hone_error_t *err);

/* Number of constraints. */
size_t hone_constraint_set_size(const hone_constraint_set_t *self);
/* Number of parameters the set was made for. */
size_t hone_constraint_set_n_params(const hone_constraint_set_t *self);
/* Constraint i as given; borrowed, valid for the set's life. i < size. */
const char *hone_constraint_set_text(const hone_constraint_set_t *self, size_t i);
/* Its weights, one per parameter in the space's order (0 for parameters it does not
 * involve); borrowed, valid for the set's life. i < size. */
const double *hone_constraint_set_weights(const hone_constraint_set_t *self, size_t i);
/* Its bound. i < size. */
double hone_constraint_set_bound(const hone_constraint_set_t *self, size_t i);
/* True when some constraint gives parameter `param` a non-zero weight. */
bool hone_constraint_set_involves(const hone_constraint_set_t *self, size_t param);

/* Index of the first constraint that the parameterization violates (Σ w·x > bound +
 * HONE_CONSTRAINT_TOL), or -1 when it satisfies them all. The involved values must be
 * numbers (members of the space). */
int hone_constraint_set_violated(const hone_constraint_set_t *self, const hone_value_t *params);
/* hone_constraint_set_violated(...) < 0. */
bool hone_constraint_set_feasible(const hone_constraint_set_t *self, const hone_value_t *params);

/* Generated points sit on constraint boundaries (the best point often does), where
 * rounding can leave Σ w·x a few ulps, or the acquisition optimizer's own slack up to
 * 1e-8, above the bound: feasible for Ax, not for a user's own strict check. For each
 * constraint exceeded by at most HONE_CONSTRAINT_TOL, this moves a float range parameter
 * of it by the excess plus a few ulps, staying within its bounds; ints and choices are
 * left alone. Returns true when every constraint then holds exactly (Σ w·x <= bound);
 * false when some constraint is violated beyond the tolerance (params are then left as
 * they are) or no float parameter could absorb the excess. */
bool hone_constraint_set_tighten(const hone_constraint_set_t *self, const hone_space_t *space,
                                 hone_value_t *params);

/* Ax's center node under constraints. point holds a parameterization (the space's
 * center); when it violates a constraint, the involved parameters are moved to the
 * Chebyshev center of the polytope the constraints cut from their boxes (each parameter
 * scaled to [0, 1] over its range or its choices' span, so that units do not matter),
 * then cast into the space: ints rounded half to even and choices to the nearest value,
 * and when that breaks a constraint, the feasible combination of neighbouring integers or
 * values nearest to the center is taken. The other parameters keep their values.
 * Returns HONE_OK when point is (now) feasible, HONE_ENOTFOUND when no feasible point
 * was found (point is then unchanged). */
int hone_constraint_set_center(const hone_constraint_set_t *self, const hone_space_t *space,
                               hone_value_t *point);

#endif
