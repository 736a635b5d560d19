/* goals.h: the goals of an experiment, from the strings of Ax's
 * configure_optimization(objective, outcome_constraints): objectives, outcome
 * constraints and objective thresholds (reference/ax-client-behaviour.md §2).
 * Internal to core: not installed. Out-of-memory policy: abort (hone_alloc*).
 *
 * Grammar (expr.h's linear forms, shared with constraint.h; no symbolic algebra):
 *   objective  := expr ("," expr)* [","]          a top-level ',' means multi-objective
 *   constraint := expr ("<=" | ">=") expr         also each objective threshold
 *   expr       := term (("+" | "-") term)*
 *   term       := factor (("*" | "/") factor)*
 *   factor     := ("+" | "-") factor | atom [("**" | "^") factor]
 *   atom       := number | name | "(" expr ")"
 * Every expr must stay linear in the metrics (2*a, a / 4, 3*(a + b), 2**3*a; not a*b,
 * a**2, a / b). Numbers are decimal literals ("2", ".5", "1e-3"). In a constraint the
 * bare word `baseline` is the baseline arm's value: "qps >= 0.95 * baseline" is a
 * relative constraint (the baseline is read as 1, the bound turned into a percentage).
 * Names within one expr combine as in SymPy ("a + a" is 2*a; "a - a + b" is b).
 *
 * Metric names follow Ax's sanitization (§2.4), checked against Ax's sanitize_name
 * and SymPy. A name starts with a letter, '_', a non-ASCII byte or '~' before one of
 * those, goes on with letters, digits, '_' and non-ASCII bytes, and takes in:
 *   - '.', '/', ':', '|', '@' followed by a letter, digit or '_', and '~' followed by
 *     a letter or '_' ("val.loss", "train/loss", "m:c1"); so "loss/4" is one name,
 *     as in Ax, and a division by a number needs a space: "loss / 4";
 *   - '-' followed by a letter, digit or '_' when the segment before it (since the
 *     last '-' or '@' taken in) has a letter followed by another character: "val-loss",
 *     "p99-latency", "qps-1" (one name: write "qps - 1" to subtract), but "a-b" is a
 *     minus b, "1e-5" a number, "x_1-1e-3" is x_1-1e minus 3;
 *   - a run of white space followed by a letter, digit, '_' or a "(...)" suffix, also
 *     after ':' ("CIFAR10 Test Accuracy", "scope: value"); the run becomes one space;
 *   - a "(alnum)" suffix ("latency(p50)", and so "log(qps)" names a metric).
 * Deliberate differences from Ax: names that collide with SymPy's namespace ("beta",
 * "E", "N", "gamma", ...) are accepted, since no SymPy is involved; `oo` (SymPy's
 * infinity) is refused everywhere; only the bare word is the baseline ("baseline_qps"
 * is a metric); a relative scalarized constraint is refused (Ax's docs say it cannot
 * be relative, its code accepts it); bounds are never -0; a few names Ax cannot parse
 * ("x.1.b") are accepted. Not done: Ax's newer rule that makes " - " part of a name
 * when the string has ':' or a multi-word name and no '*' ("This metric - subgroup").
 *
 * Errors: HONE_EINVAL with the message "<field>: at column <c> ('<token>'): <message>",
 * where field is "objective", "outcome_constraints[i]" or "objective_thresholds[i]", c
 * the 0-based byte column of the offending token in that string ("at column <c> (end of
 * text)" when the string ends too early), and message Ax's own where the reference
 * gives it. The place comes first so that a long quoted string cannot crowd it out of
 * the message buffer. Only an empty or NULL string, and too many bounds, have no column. */
#ifndef HONE_GOALS_H
#define HONE_GOALS_H

#include "err.h"

typedef struct _hone_goals_t hone_goals_t;

/* Limits, so that a hostile configuration cannot exhaust memory (weights are dense rows
 * over the metrics; the core aborts on out-of-memory): distinct metrics over all the
 * strings, and outcome constraints plus explicit thresholds. Ax has none. */
#define HONE_GOALS_MAX_METRICS 1024
#define HONE_GOALS_MAX_BOUNDS 1024

typedef enum { HONE_GOALS_LEQ, HONE_GOALS_GEQ } hone_goals_op_t;

/* One objective: maximize Σ weights·y. A single metric is minimized when its weight is
 * negative; a scalarized objective (several metrics) is always maximized, its signs
 * being in the weights ("a - 2*b" maximizes a − 2b). */
typedef struct {
    const double *weights;   /* one per metric (hone_goals_n_metrics), 0 if not involved */
    int metric;              /* the metric of a single-metric objective, -1 if scalarized */
    bool minimize;           /* single metric with a negative weight */
} hone_goals_objective_t;

/* An outcome constraint or objective threshold: Σ weights·y op bound. A single metric
 * has weight 1 (the bound divided by its coefficient: "2*lat <= 10" is lat <= 5). */
typedef struct {
    const double *weights;   /* one per metric, 0 if not involved */
    int metric;              /* the metric when single, -1 if scalarized */
    hone_goals_op_t op;      /* LEQ or GEQ */
    double bound;            /* absolute, or when relative the percent change from the
                              * baseline: "0.95 * baseline" is -5, "baseline" 0 */
    bool relative;           /* the bound is relative to the baseline (status quo) */
    const char *field;       /* "outcome_constraints" or "objective_thresholds" */
    size_t index;            /* the string's position in that list */
} hone_goals_bound_t;

/* Parses and validates the objective, the outcome constraints and the (optional,
 * multi-objective only) explicit objective thresholds; the strings are not kept.
 * constraints and thresholds may be NULL when their count is 0. On HONE_OK *out is a
 * new object (free with hone_goals_destroy); on error *out is NULL and err says why.
 * A pure function: any thread, no shared state. Rules, in this order:
 *   objective:
 *   - "Objective expression string must not be empty." (also blank);
 *   - "Expression <text> has forbidden control characters." (; [ ' \), at the character;
 *   - "Invalid objective expression: <text>": a syntax error, a relation, a call, a
 *     trailing ',' after a single objective, factors nested deeper than
 *     HONE_EXPR_MAX_DEPTH (100);
 *   - "Objective expression '<e>' contains a non-linear term '<t>'. Objective
 *     expressions must be linear combinations of metrics.", at the operator;
 *   - "Objective expression '<e>' contains a constant term. Objective expressions must
 *     be purely symbolic.", at the constant;
 *   - "Objective expression '<e>' names no metric" ("0", "a - a");
 *   - "Metric '<m>' appears more than once in the objective expression '<text>'." (a
 *     metric in two objectives of a multi-objective);
 *   "outcome_constraints: more than HONE_GOALS_MAX_BOUNDS (1024) outcome constraints
 *     and objective thresholds" (no column);
 *   outcome_constraints[i] and objective_thresholds[i] (then the same as the objective
 *   for forbidden characters and 'oo'):
 *   - "must be a string" (NULL, no column);
 *   - "Expected an inequality, found <text>": syntax error, strict or other relation,
 *     no metric left ("1 <= 2", "a - a >= 1"), a ',';
 *   - "Only linear outcome constraints are supported, found <text>";
 *   - "Scalarized outcome constraints cannot be relative, found <text>";
 *   - "division by zero in '<text>'", "a number in '<text>' is not finite";
 *   - "'oo' (SymPy's infinity) cannot be used: bounds must be finite", in any string;
 *   - "more than HONE_GOALS_MAX_METRICS (1024) metrics", in any string, at the first
 *     name too many over all the strings;
 *   together (§2.1-§2.3):
 *   - single (or scalarized) objective: "Outcome constraints may not be placed on the
 *     objective metric except in the multi-objective case, found <objective> and
 *     <constraint>" (a single-metric constraint on an objective metric);
 *   - multi-objective: a single-metric constraint on the metric of a single-metric
 *     objective that bounds it in the optimization direction (<= when minimized, >=
 *     when maximized) becomes that objective's threshold; otherwise it stays a
 *     constraint;
 *   - explicit thresholds: "Objective thresholds are only supported in the
 *     multi-objective case", "An objective threshold must bound a single metric, found
 *     <text>", "'<m>' is not the metric of a single-metric objective", "Constraint on
 *     <m> bounds from above but <m> is being maximized." (or below/minimized);
 *   - "Duplicate objective thresholds <m>": two thresholds for one objective;
 *   - "Duplicate outcome constraints <m>": three constraints on one metric (or on one
 *     weighted sum, up to sign), or two bounding it from the same side;
 *   - "Lower bound <l> is >= upper bound <u> for <m>": a lower and an upper bound of one
 *     metric or sum (constraints, or a constraint and a threshold), both absolute or
 *     both relative (relative bounds are compared as percentages).
 * The error column points at the offending metric of the later string. */
int hone_goals_parse(hone_goals_t **out, const char *objective, const char *const *constraints,
                     size_t n_constraints, const char *const *thresholds, size_t n_thresholds,
                     hone_error_t *err);
/* Frees the goals and sets *self_p to NULL; safe on NULL and twice. */
void hone_goals_destroy(hone_goals_t **self_p);

/* Every metric named, each once, in order of first use: the objective, then the
 * outcome constraints (thresholds only name objective metrics). Metrics whose terms
 * cancel ("a - a + b") are not named. */
size_t hone_goals_n_metrics(const hone_goals_t *self);
/* Metric i's name (sanitization undone: "val.loss", "CIFAR10 Test Accuracy");
 * borrowed, valid for the goals' life. i < n_metrics. */
const char *hone_goals_metric(const hone_goals_t *self, size_t i);
/* Index of the metric called name, or -1. */
int hone_goals_find_metric(const hone_goals_t *self, const char *name);

/* True when the objective has 2+ comma-separated objectives. */
bool hone_goals_is_multi_objective(const hone_goals_t *self);
/* Number of objectives: 1, or 2+ when multi-objective. */
size_t hone_goals_n_objectives(const hone_goals_t *self);
/* Objective k; borrowed, valid for the goals' life. k < n_objectives. */
const hone_goals_objective_t *hone_goals_objective(const hone_goals_t *self, size_t k);
/* The threshold of objective k (a reference-point coordinate), or NULL when none was
 * given (Ax then infers it from the data). Always NULL for a single objective. */
const hone_goals_bound_t *hone_goals_threshold(const hone_goals_t *self, size_t k);

/* Outcome constraints (those that did not become thresholds), in the given order. */
size_t hone_goals_n_constraints(const hone_goals_t *self);
/* Constraint i; borrowed, valid for the goals' life. i < n_constraints. */
const hone_goals_bound_t *hone_goals_constraint(const hone_goals_t *self, size_t i);

#endif
