/* points.h: the parameterizations of a `predict` request (hone_points_t), kept as the
 * request's own `points` array so that sending them is one deep copy. Accessors and
 * builders are public (hone.h); this is the SDK's internal view. */
#ifndef HONE_SDK_POINTS_H
#define HONE_SDK_POINTS_H

#include "msg.h"
#include "hone.h"

/* The `points` ARRAY node (one MAP per point). Borrowed: valid while points lives. */
const hone_node_t *hone_points_array(const hone_points_t *points);

#endif
