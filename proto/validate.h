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
 * err->message giving the byte offset and the rule. Never allocates.
 * limits may be NULL for the protocol's limits; max_depth is clamped to 64 (the walk's
 * stack lives on the C stack). Thread-safe: no state outside the arguments. */
int hone_validate(const uint8_t *data, size_t size, const hone_validate_limits_t *limits,
                  hone_error_t *err);

/* The prefix every protocol version keeps: ["HONE", version, type, seq, ...]. */
typedef struct hone_validate_header {
    uint64_t version;       /* as sent; not compared with HONE_PROTO_VERSION here */
    uint64_t seq;
    const uint8_t *type;    /* the type name, borrowed from the frame, not NUL-terminated */
    size_t type_len;        /* bytes at type */
    uint64_t count;         /* elements the top-level array declares (>= 4) */
} hone_validate_header_t;

/* Reads only that prefix, from a frame that may be invalid or truncated beyond it, so
 * that a reply to a bad or newer-version message can still carry its seq.
 * HONE_OK when the array header, the signature, an unsigned version, a str type and an
 * unsigned seq were all readable; HONE_EPROTO otherwise (err names the offset; *out
 * is zeroed). Never allocates; does not replace hone_validate. Used by hone_msg_decode;
 * internal to proto (not exported). */
int hone_validate_header(const uint8_t *data, size_t size, hone_validate_header_t *out,
                         hone_error_t *err);

#endif
