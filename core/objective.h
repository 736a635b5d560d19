/* objective.h: the objective string of Ax's configure_optimization
 * (reference/ax-client-behaviour.md §2.1, §2.4). Internal to core: not installed.
 *
 * Only a single metric is supported for now: "m" maximizes m, "-m" (or "- m")
 * minimizes it, "+m" maximizes it. Names follow Ax's sanitization: they may contain
 * spaces ("CIFAR10 Test Accuracy"), '.', '/', ':', '|', '~', '@', and '-' after an
 * identifier of at least two characters ("val-loss"). Scalarized ("a + 2*b") and
 * multi-objective ("a, -b") strings are refused with a message saying so. */
#ifndef HONE_OBJECTIVE_H
#define HONE_OBJECTIVE_H

#include "err.h"

/* Parses text. On success *metric_out is the metric name (caller frees with
 * hone_strfree) and *minimize_out its direction. Errors: HONE_EINVAL with a message
 * quoting the objective (empty, forbidden characters ; [ ' \, a constant, or a grammar
 * hone does not support yet). */
int hone_objective_parse(const char *text, char **metric_out, bool *minimize_out, hone_error_t *err);

#endif
