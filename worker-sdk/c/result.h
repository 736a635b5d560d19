/* result.h: the opaque objects the SDK returns (trial, trial list, best point,
 * Pareto frontier, prediction, status), parsed from the broker's replies. Accessors are public (hone.h);
 * the parsers below are internal. Wire data is never trusted: a missing or wrongly
 * typed field gives HONE_EPROTO with err naming the field. */
#ifndef HONE_SDK_RESULT_H
#define HONE_SDK_RESULT_H

#include "err.h"
#include "log.h"
#include "msg.h"
#include "hone.h"

/* A trial object (a map: trial, params, and optionally experiment, status, note, reason,
 * metrics, progression). experiment (nullable) is used when the map has none. */
int hone_result_trial_parse(const hone_node_t *map, const char *experiment, hone_trial_t **out,
                            hone_error_t *err);
/* The `trials` array of a next or list reply. */
int hone_result_list_parse(const hone_node_t *array, const char *experiment, hone_trial_list_t **out,
                           hone_error_t *err);
/* The body of a best reply. */
int hone_result_best_parse(const hone_node_t *body, const char *experiment, hone_best_t **out,
                           hone_error_t *err);
/* The body of a predict reply, which must hold `expected` predictions (one per point
 * sent). */
int hone_result_prediction_parse(const hone_node_t *body, size_t expected, hone_prediction_t **out,
                                 hone_error_t *err);
/* The body of a pareto reply. */
int hone_result_pareto_parse(const hone_node_t *body, const char *experiment, hone_pareto_t **out,
                             hone_error_t *err);
/* The body of a status reply. */
int hone_result_status_parse(const hone_node_t *body, hone_status_t **out, hone_error_t *err);

#endif
