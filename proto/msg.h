/* msg.h: protocol messages and their msgpack codec (the sole msgpack-c user).
 *
 * A message on the wire is one ZeroMQ frame holding one msgpack array:
 *     [ "HONE", version (uint), type (str), seq (uint), body (map str → value) ]
 * Replies echo the request's seq. The body is a tree of nodes (nil, bool, int, float,
 * str, bin, array, map with string keys), read through typed getters that turn a
 * missing or wrongly typed field into an error naming the field.
 *
 * Decoding runs hone_validate over the bytes first (proto/validate.h), so hostile
 * input is rejected before anything is allocated.
 *
 * Memory policy: this module is linked into the worker SDK, so it never aborts: every
 * allocation failure is reported as HONE_ENOMEM (or NULL from constructors).
 * Threads: a message is not shared between threads without external locking. */
#ifndef HONE_MSG_H
#define HONE_MSG_H

#include "err.h"
#include "msg_types.h"

#define HONE_PROTO_SIGNATURE "HONE"
#define HONE_PROTO_VERSION 1
/* Limits enforced by the validator (proto/PROTOCOL.md §3). */
#define HONE_PROTO_MAX_BYTES (1u << 20)      /* one message */
#define HONE_PROTO_MAX_DEPTH 16              /* nesting of arrays and maps */
#define HONE_PROTO_MAX_STR (64u << 10)       /* one string or bin */
#define HONE_PROTO_MAX_ITEMS 100000          /* elements in all containers together */
/* Points in one `predict` request (PROTOCOL.md §4.7.8); more is HONE_EINVAL. */
#define HONE_PROTO_PREDICT_MAX 1000

typedef enum {
    HONE_NODE_NIL = 0,
    HONE_NODE_BOOL,
    HONE_NODE_INT,       /* signed or unsigned integer that fits int64 */
    HONE_NODE_FLOAT,     /* float32 or float64, held as double */
    HONE_NODE_STR,
    HONE_NODE_BIN,
    HONE_NODE_ARRAY,
    HONE_NODE_MAP,       /* keys are strings; order kept; duplicate keys rejected on decode */
} hone_node_type_t;

typedef struct _hone_node_t hone_node_t;
typedef struct _hone_msg_t hone_msg_t;

/* ---- messages ---- */

/* A new message with an empty body map; NULL on allocation failure. */
hone_msg_t *hone_msg_new(hone_msg_id_t id);
void hone_msg_destroy(hone_msg_t **self_p);
hone_msg_id_t hone_msg_id(const hone_msg_t *self);
uint64_t hone_msg_seq(const hone_msg_t *self);
void hone_msg_set_seq(hone_msg_t *self, uint64_t seq);
/* The body map, owned by the message. */
hone_node_t *hone_msg_body(hone_msg_t *self);
const hone_node_t *hone_msg_body_const(const hone_msg_t *self);
/* "ready", "trial", ...; NULL for an unknown id. */
const char *hone_msg_name(hone_msg_id_t id);
/* HONE_MSG_INVALID for an unknown name. */
hone_msg_id_t hone_msg_id_from_name(const char *name, size_t len);

/* Encodes into a buffer allocated with malloc (*data, *size); the caller frees it with
 * hone_free (or free). HONE_ENOMEM, or HONE_ETOOBIG above HONE_PROTO_MAX_BYTES (or
 * when any other HONE_PROTO_MAX_* limit would make the receiver refuse it: a str,
 * bin or key above HONE_PROTO_MAX_STR, nesting above HONE_PROTO_MAX_DEPTH counting
 * the header array, more than HONE_PROTO_MAX_ITEMS elements counting the header's 5).
 * *data and *size are untouched on error. Floats are always float64; integers take
 * the smallest msgpack form; map keys keep their insertion order. */
int hone_msg_encode(const hone_msg_t *self, uint8_t **data, size_t *size);

/* Validates then decodes one frame. Errors, with err->message saying what is wrong:
 * HONE_EPROTO (malformed, truncated, trailing bytes, bad signature, wrong header
 * types, body not a map, duplicate key), HONE_ETOOBIG (a limit exceeded),
 * HONE_EVERSION (a version newer than HONE_PROTO_VERSION; *seq_out and the type
 * name are still reported when readable so a reply can be addressed), HONE_ENOMEM.
 * An unknown message type decodes to HONE_MSG_INVALID with HONE_EPROTO (no message is
 * returned: *out stays NULL; the seq is reported and err->message names the type).
 * seq_out (nullable) receives the seq whenever the header was readable, even on error.
 * Details of this implementation:
 * - *out is set only on HONE_OK (NULL otherwise); the caller destroys it.
 * - "header readable" means the prefix ["HONE", uint version, str type, uint seq]
 *   parses, whatever follows; the type name of an EVERSION or unknown-type frame
 *   is quoted (printable ASCII, at most 32 bytes) in err->message.
 * - any version other than 1 (0 included) gives HONE_EVERSION, checked before the
 *   rest of the frame is validated; the header of version 1 has exactly 5 elements.
 * - also HONE_EPROTO: a map key that is not a str or contains a NUL byte, an
 *   integer above INT64_MAX; err->message names the innermost field. A key quoted in
 *   err->message is printable ASCII (other bytes shown as '?', at most 64 bytes), so
 *   the message stays one line whatever the frame holds.
 * - the tree is self-contained (strings copied) and takes one allocation. */
int hone_msg_decode(const uint8_t *data, size_t size, hone_msg_t **out,
                    uint64_t *seq_out, hone_error_t *err);

/* Writes a one-line human form ("ready seq=3 {experiment: \"x\"}") into a malloc'd
 * string; NULL on allocation failure. The caller frees it with hone_strfree (or free).
 * Floats always show a '.' or an exponent (1.0, 1e-07), strings are quoted with
 * \" \\ \n \t \r \uXXXX escapes, bin is h'0a0b' (first 32 bytes), keys are bare when
 * made of [A-Za-z0-9_.-]. */
char *hone_msg_to_text(const hone_msg_t *self);

/* ---- body field shortcuts (on the body map) ----
 * Setters replace an existing key; they return HONE_OK or HONE_ENOMEM.
 * Getters return HONE_OK, HONE_ENOTFOUND (absent, err: "missing field 'x'") or
 * HONE_EPROTO (wrong type, err: "field 'x' must be <type>, not <type>"). A nil value
 * counts as absent. The string from hone_msg_get_str is borrowed from the message.
 * Note for the broker: the protocol answers a missing REQUIRED field with HONE_EPROTO
 * (PROTOCOL.md §4.1), so map HONE_ENOTFOUND from these getters to HONE_EPROTO (keeping
 * the message) when replying. */
int hone_msg_set_str(hone_msg_t *self, const char *key, const char *value);
int hone_msg_set_int(hone_msg_t *self, const char *key, int64_t value);
int hone_msg_set_float(hone_msg_t *self, const char *key, double value);
int hone_msg_set_bool(hone_msg_t *self, const char *key, bool value);
int hone_msg_get_str(const hone_msg_t *self, const char *key, const char **out, hone_error_t *err);
int hone_msg_get_int(const hone_msg_t *self, const char *key, int64_t *out, hone_error_t *err);
/* Accepts an int or a float. */
int hone_msg_get_float(const hone_msg_t *self, const char *key, double *out, hone_error_t *err);
int hone_msg_get_bool(const hone_msg_t *self, const char *key, bool *out, hone_error_t *err);
/* The node under key or NULL when absent or nil. Borrowed from the message. */
const hone_node_t *hone_msg_get(const hone_msg_t *self, const char *key);

/* ---- nodes ---- */

/* Accessors. A NULL node counts as nil (so optional fields need no extra check);
 * the typed value accessors assert (HONE_ASSERT) that the node has the stated type.
 * Pointers returned stay valid until the tree is destroyed. */
hone_node_type_t hone_node_type(const hone_node_t *node);
const char *hone_node_type_name(hone_node_type_t type);   /* "nil", "bool", ... */
bool hone_node_bool(const hone_node_t *node);             /* node must be BOOL */
int64_t hone_node_int(const hone_node_t *node);           /* node must be INT */
double hone_node_float(const hone_node_t *node);          /* FLOAT, or INT converted */
/* STR or BIN: pointer (NUL-terminated for STR) and length; borrowed from the node. */
const char *hone_node_str(const hone_node_t *node, size_t *len);
size_t hone_node_len(const hone_node_t *node);            /* ARRAY/MAP elements, STR/BIN bytes; else 0 */
/* NULL when i is out of range or node is not a container. */
const hone_node_t *hone_node_at(const hone_node_t *node, size_t i);        /* ARRAY item / MAP value */
const char *hone_node_key_at(const hone_node_t *node, size_t i);           /* MAP key */
/* MAP lookup or NULL (absent, or map not a MAP). Unlike hone_msg_get, a nil value is
 * returned as a NIL node. Linear in the number of keys. */
const hone_node_t *hone_node_get(const hone_node_t *map, const char *key);

/* Builders: add to a MAP under key (replacing) or append to an ARRAY (key NULL).
 * Each returns the new node (owned by the parent) or NULL on allocation failure (or a
 * str/bin longer than UINT32_MAX bytes). The key and value are copied. A NULL parent
 * gives NULL, so a failure propagates through nested calls such as
 * hone_node_add_float(hone_node_add_map(body, "params"), "x", 0.5); a parent that is
 * not a container, or a key that does not match the parent (NULL for a MAP, non-NULL
 * for an ARRAY), is asserted. Replacing keeps the key's position; the old value stays
 * readable until the tree is destroyed. Nodes never move: a returned pointer stays
 * valid while siblings are added. */
hone_node_t *hone_node_add_nil(hone_node_t *parent, const char *key);
hone_node_t *hone_node_add_bool(hone_node_t *parent, const char *key, bool value);
hone_node_t *hone_node_add_int(hone_node_t *parent, const char *key, int64_t value);
hone_node_t *hone_node_add_float(hone_node_t *parent, const char *key, double value);
hone_node_t *hone_node_add_str(hone_node_t *parent, const char *key, const char *value);
hone_node_t *hone_node_add_strn(hone_node_t *parent, const char *key, const char *value, size_t len);
hone_node_t *hone_node_add_bin(hone_node_t *parent, const char *key, const void *data, size_t len);
hone_node_t *hone_node_add_array(hone_node_t *parent, const char *key);
hone_node_t *hone_node_add_map(hone_node_t *parent, const char *key);
/* Adds a deep copy of src (which may belong to any tree, e.g. a decoded request or a
 * stored record) under key. NULL on allocation failure, when src is NULL, or when src
 * nests deeper than 64 levels. */
hone_node_t *hone_node_add_copy(hone_node_t *parent, const char *key, const hone_node_t *src);

/* Standalone trees, for store records: a new empty map, its msgpack encoding (no
 * header) and its validated decoding. hone_node_destroy takes only the root of a
 * standalone tree (asserted) and frees the whole tree. hone_node_encode has the
 * errors and the output of hone_msg_encode, the root counting as depth 1.
 * hone_node_decode: HONE_EPROTO / HONE_ETOOBIG / HONE_ENOMEM as hone_msg_decode, and
 * HONE_EPROTO when the top-level object is not a map; *out is NULL on error. */
hone_node_t *hone_node_new_map(void);
void hone_node_destroy(hone_node_t **self_p);
int hone_node_encode(const hone_node_t *self, uint8_t **data, size_t *size);
int hone_node_decode(const uint8_t *data, size_t size, hone_node_t **out, hone_error_t *err);

#endif
