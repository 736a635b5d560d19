/* metrics.h: the `metrics` field of requests (progress, complete, attach, mark), built
 * from the caller's parallel arrays after checking them. Internal to the SDK. */
#ifndef HONE_SDK_METRICS_H
#define HONE_SDK_METRICS_H

#include "err.h"
#include "log.h"
#include "msg.h"
#include "hone.h"

/* Most readings one request may carry. */
#define HONE_METRICS_MAX 10000

/* Checks the readings: n <= HONE_METRICS_MAX, names non-empty and unique, means finite,
 * sems NULL or each NAN (unknown) or finite and >= 0; n >= 1 unless allow_empty.
 * HONE_EINVAL names the offending entry. */
int hone_metrics_check(size_t n, const char *const names[], const double means[], const double sems[],
                       bool allow_empty, hone_error_t *err);

/* Adds `metrics` (name → mean, or [mean, sem]) to the body of msg; nothing when n is 0.
 * Call hone_metrics_check first. HONE_OK or HONE_ENOMEM. */
int hone_metrics_put(hone_msg_t *msg, size_t n, const char *const names[], const double means[],
                     const double sems[], hone_error_t *err);

#endif
