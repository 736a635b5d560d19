/* validate.h: checks untrusted msgpack bytes before anything is allocated.
 *
 * Walks the bytes once with an explicit stack: every declared length or count must
 * fit in the bytes that remain (each element takes at least one byte), nesting stays
 * within max_depth, strings within max_str, the total number of elements within
 * max_items, and exactly one object fills the buffer. Extension types are refused. */
#ifndef HONE_VALIDATE_H
#define HONE_VALIDATE_H

#include "err.h"

typedef struct hone_validate_limits {
    size_t max_bytes;       /* whole buffer */
    uint32_t max_depth;     /* arrays/maps nested */
    size_t max_str;         /* bytes in one str/bin */
    size_t max_items;       /* array items + map pairs in total */
} hone_validate_limits_t;

/* The protocol's limits (HONE_PROTO_MAX_*). */
hone_validate_limits_t hone_validate_default_limits(void);

/* HONE_OK, HONE_EPROTO (malformed/truncated/trailing/ext type) or HONE_ETOOBIG, with
 * err->message giving the byte offset and the rule. Never allocates. */
int hone_validate(const uint8_t *data, size_t size, const hone_validate_limits_t *limits,
                  hone_error_t *err);

#endif
