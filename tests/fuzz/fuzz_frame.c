/* fuzz_frame.c: libFuzzer target for the broker's input path (proto/validate.c and
 * proto/msg.c), fed with whole frames as they come off the ROUTER socket.
 *
 * For each input it runs what the broker runs (hone_msg_decode, which validates first)
 * plus the validator alone, the header reader and the record decoder, and checks:
 * - codes: decode returns OK, EPROTO, ETOOBIG or EVERSION (never ENOMEM within the
 *   fuzzer's memory); a frame the validator refuses is refused with the same code (or
 *   EVERSION, read from the stable prefix first); a frame it accepts is one msgpack-c
 *   parses (only the decoder's own rules may refuse it: key types and uniqueness, the
 *   int range, the header, the type name) and never gives ETOOBIG; the error message
 *   is one non-empty line; *out is set exactly on success; seq_out is written exactly
 *   when the stable header prefix is readable;
 * - limits: validation under smaller limits implies validation under the protocol's;
 * - the decoded tree: every node reached through the accessors the handlers use, depth,
 *   string sizes and item counts within the protocol limits, map keys unique and
 *   free of NUL, total string bytes within the frame;
 * - memory: the bytes the decoder allocates at its peak stay within a fixed multiple of
 *   the frame size (tracked with the sanitizer allocator's hooks);
 * - typed getters: hone_msg_get_{str,int,float,bool} on every field name a handler
 *   reads agree with the node's type (OK / ENOTFOUND for absent or nil / EPROTO);
 * - round trip: re-encoding succeeds, decodes to an equal tree and re-encodes to the
 *   same bytes (the canonical form is a fixed point); so do hone_node_add_copy of the
 *   body, the standalone hone_node_encode/decode and hone_msg_to_text.
 * Leaks are LeakSanitizer's job (every object is destroyed before returning).
 *
 * Built by tests/fuzz/CMakeLists.txt (a clang sub-build); run by ctest fuzz/frame and
 * bench/fuzz.sh. Reproduce a finding with `build/tests/fuzz/fuzz_frame CRASH_FILE`. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "msg.h"
#include "validate.h"

/* The allocation hooks need AddressSanitizer's allocator; the coverage build
 * (cov_frame, without sanitizers) skips the memory check. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define S_TRACK_MEMORY 1
#include <sanitizer/allocator_interface.h>
#endif
#endif

/* Peak bytes hone_msg_decode may hold per input byte, plus a constant: msgpack-c's
 * objects (24 bytes each, a map pair 48) and zone chunks, then the arena (a 16-byte
 * node and a 16-byte child slot per element, strings rounded to 8 with their NUL). One
 * input byte can be one element, so about 64 bytes each at worst; 128 leaves room. */
#define S_DECODE_BYTES_PER_BYTE 128
#define S_DECODE_BYTES_FIXED ((size_t) 256 << 10)

#define S_CHECK(cond, ...)                                                            \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_frame: check failed at line %d: %s: ", __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, "\n");                                                    \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* ---- allocation tracking (sanitizer hooks; counted only while s_tracking) ---- */

static volatile int s_tracking;
static size_t s_live;        /* bytes allocated and not yet freed since tracking began */
static size_t s_peak;        /* largest s_live seen */

#ifdef S_TRACK_MEMORY

static void s_on_malloc(const volatile void *ptr, size_t size)
{
    (void) ptr;
    if (!s_tracking)
        return;
    s_live += size;
    if (s_live > s_peak)
        s_peak = s_live;
}

static void s_on_free(const volatile void *ptr)
{
    if (!s_tracking || !ptr)
        return;
    size_t size = __sanitizer_get_allocated_size((const void *) ptr);
    s_live = size > s_live ? 0 : s_live - size;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void) argc;
    (void) argv;
    __sanitizer_install_malloc_and_free_hooks(s_on_malloc, s_on_free);
    return 0;
}
#endif

/* ---- the tree ---- */

typedef struct {
    size_t nodes;            /* nodes seen, the body included */
    size_t items;            /* array elements + map pairs */
    size_t bytes;            /* str/bin payload + key bytes */
    unsigned depth;          /* deepest container, the header array being level 1 */
} s_stats_t;

/* Walks node (at nesting level depth) through the public accessors only, as the
 * handlers do, checking each against the protocol limits. */
static void s_walk(const hone_node_t *node, unsigned depth, s_stats_t *st)
{
    S_CHECK(node != NULL, "NULL node inside a decoded tree");
    st->nodes++;
    hone_node_type_t type = hone_node_type(node);
    S_CHECK(strcmp(hone_node_type_name(type), "unknown") != 0, "node type %d", (int) type);
    size_t len = hone_node_len(node);
    switch (type) {
    case HONE_NODE_NIL:
    case HONE_NODE_BOOL:
        S_CHECK(len == 0, "scalar of length %zu", len);
        if (type == HONE_NODE_BOOL)
            (void) hone_node_bool(node);
        break;
    case HONE_NODE_INT: {
        int64_t i = hone_node_int(node);
        S_CHECK(hone_node_float(node) == (double) i, "int as float");
        S_CHECK(len == 0, "int of length %zu", len);
        break;
    }
    case HONE_NODE_FLOAT:
        (void) hone_node_float(node);
        S_CHECK(len == 0, "float of length %zu", len);
        break;
    case HONE_NODE_STR:
    case HONE_NODE_BIN: {
        size_t n = (size_t) -1;
        const char *s = hone_node_str(node, &n);
        S_CHECK(s != NULL && n == len, "str/bin of %zu bytes, len %zu", n, len);
        S_CHECK(n <= HONE_PROTO_MAX_STR, "str/bin of %zu bytes", n);
        S_CHECK(s[n] == '\0', "str/bin not NUL-terminated");
        st->bytes += n;
        break;
    }
    case HONE_NODE_ARRAY:
    case HONE_NODE_MAP:
        S_CHECK(depth <= HONE_PROTO_MAX_DEPTH, "container at depth %u", depth);
        if (depth > st->depth)
            st->depth = depth;
        st->items += len;
        S_CHECK(hone_node_at(node, len) == NULL, "item past the end");
        S_CHECK(hone_node_key_at(node, len) == NULL, "key past the end");
        for (size_t i = 0; i < len; i++) {
            const hone_node_t *kid = hone_node_at(node, i);
            const char *key = hone_node_key_at(node, i);
            if (type == HONE_NODE_ARRAY) {
                S_CHECK(key == NULL, "array item with a key");
            } else {
                S_CHECK(key != NULL, "map value without a key");
                size_t key_len = strlen(key);
                S_CHECK(key_len <= HONE_PROTO_MAX_STR, "key of %zu bytes", key_len);
                st->bytes += key_len;
                /* keys are unique, so the lookup finds this very pair */
                S_CHECK(hone_node_get(node, key) == kid, "key '%.40s' finds another value", key);
            }
            s_walk(kid, depth + 1, st);
        }
        break;
    default:
        S_CHECK(0, "bad node type %d", (int) type);
    }
    if (type != HONE_NODE_MAP)
        S_CHECK(hone_node_get(node, "x") == NULL, "lookup in a non-map");
    if (type != HONE_NODE_ARRAY && type != HONE_NODE_MAP)
        S_CHECK(hone_node_at(node, 0) == NULL, "item of a scalar");
}

static bool s_same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return memcmp(&a, &b, sizeof a) == 0;   /* -0.0 differs from 0.0 */
}

/* Deep equality, map keys in order. */
static bool s_same(const hone_node_t *a, const hone_node_t *b)
{
    hone_node_type_t type = hone_node_type(a);
    if (type != hone_node_type(b) || hone_node_len(a) != hone_node_len(b))
        return false;
    size_t len = hone_node_len(a);
    switch (type) {
    case HONE_NODE_NIL: return true;
    case HONE_NODE_BOOL: return hone_node_bool(a) == hone_node_bool(b);
    case HONE_NODE_INT: return hone_node_int(a) == hone_node_int(b);
    case HONE_NODE_FLOAT: return s_same_double(hone_node_float(a), hone_node_float(b));
    case HONE_NODE_STR:
    case HONE_NODE_BIN: return memcmp(hone_node_str(a, NULL), hone_node_str(b, NULL), len) == 0;
    case HONE_NODE_ARRAY:
    case HONE_NODE_MAP:
        for (size_t i = 0; i < len; i++) {
            const char *ka = hone_node_key_at(a, i), *kb = hone_node_key_at(b, i);
            if ((ka == NULL) != (kb == NULL) || (ka && strcmp(ka, kb) != 0))
                return false;
            if (!s_same(hone_node_at(a, i), hone_node_at(b, i)))
                return false;
        }
        return true;
    }
    return false;
}

/* ---- what the handlers read ---- */

/* Every body field a handler (broker/handlers.c and the role files beside it,
 * broker/wire.c) or the SDK reads by name, plus one that never exists. */
static const char *const s_fields[] = {
    "experiment", "worker", "trial", "metrics", "progression", "reason", "config", "count",
    "status", "points", "params", "note", "retry_ms", "done", "code", "name", "message",
    "stop", "trials", "metric", "value", "sem", "minimize", "source", "seed", "predictions",
    "counts", "total", "max_trials", "objective", "method", "best", "", "no such field",
};

/* Short printable ASCII, as the field names handlers ask for. */
static bool s_printable(const char *key)
{
    size_t n = 0;
    for (; key[n]; n++)
        if (key[n] < 0x20 || key[n] > 0x7e)
            return false;
    return n < 64;
}

/* The typed getters agree with the node under key. */
static void s_getters(const hone_msg_t *msg, const char *key)
{
    const hone_node_t *node = hone_msg_get(msg, key);
    hone_node_type_t type = hone_node_type(node);   /* NIL when absent */
    const hone_node_t *raw = hone_node_get(hone_msg_body_const(msg), key);
    S_CHECK(node == NULL || node == raw, "hone_msg_get and hone_node_get disagree on '%s'", key);
    S_CHECK(node != NULL || raw == NULL || hone_node_type(raw) == HONE_NODE_NIL,
            "hone_msg_get hides a non-nil '%s'", key);

    hone_error_t err;
    const char *s = NULL;
    int64_t i = 0;
    double f = 0;
    bool b = false;
    int rcs[4];
    hone_node_type_t wants[4] = { HONE_NODE_STR, HONE_NODE_INT, HONE_NODE_FLOAT, HONE_NODE_BOOL };
    hone_error_clear(&err);
    rcs[0] = hone_msg_get_str(msg, key, &s, &err);
    rcs[1] = hone_msg_get_int(msg, key, &i, &err);
    rcs[2] = hone_msg_get_float(msg, key, &f, &err);
    rcs[3] = hone_msg_get_bool(msg, key, &b, &err);
    for (int k = 0; k < 4; k++) {
        int want;
        if (!node)
            want = HONE_ENOTFOUND;
        else if (type == wants[k] || (wants[k] == HONE_NODE_FLOAT && type == HONE_NODE_INT))
            want = HONE_OK;
        else
            want = HONE_EPROTO;
        S_CHECK(rcs[k] == want, "getter %d on '%s' (%s) gave %s", k, key, hone_node_type_name(type),
                hone_err_name(rcs[k]));
    }
    if (rcs[0] == HONE_OK)
        S_CHECK(s == hone_node_str(node, NULL), "get_str pointer");
    if (rcs[1] == HONE_OK)
        S_CHECK(i == hone_node_int(node), "get_int value");
    if (rcs[2] == HONE_OK)
        S_CHECK(s_same_double(f, hone_node_float(node)), "get_float value");
    /* the error of the last failing getter is a one-line message naming the field;
     * handlers pass their own field names (printable), not keys from the wire */
    if (rcs[3] != HONE_OK && s_printable(key))
        S_CHECK(err.message[0] && !strchr(err.message, '\n') && strstr(err.message, key) != NULL,
                "getter message '%s' for '%s'", err.message, key);
}

/* The shapes handlers look into: metrics readings, points, params. Only asks what
 * wire.c and handlers.c ask, in the order they ask it, so that an accessor assertion
 * reachable from wire data shows up here. */
static void s_shapes(const hone_msg_t *msg)
{
    const hone_node_t *metrics = hone_msg_get(msg, "metrics");
    if (hone_node_type(metrics) == HONE_NODE_MAP) {
        for (size_t i = 0; i < hone_node_len(metrics); i++) {
            const hone_node_t *v = hone_node_at(metrics, i);
            hone_node_type_t t = hone_node_type(v);
            if (t == HONE_NODE_INT || t == HONE_NODE_FLOAT) {
                (void) hone_node_float(v);
            } else if (t == HONE_NODE_ARRAY && hone_node_len(v) == 2) {
                const hone_node_t *mean = hone_node_at(v, 0), *sem = hone_node_at(v, 1);
                hone_node_type_t mt = hone_node_type(mean), st = hone_node_type(sem);
                if ((mt == HONE_NODE_INT || mt == HONE_NODE_FLOAT)
                    && (st == HONE_NODE_INT || st == HONE_NODE_FLOAT || st == HONE_NODE_NIL)) {
                    (void) hone_node_float(mean);
                    if (st != HONE_NODE_NIL)
                        (void) hone_node_float(sem);
                }
            }
        }
    }
    const hone_node_t *points = hone_msg_get(msg, "points");
    for (size_t j = 0; hone_node_type(points) == HONE_NODE_ARRAY && j < hone_node_len(points); j++) {
        const hone_node_t *point = hone_node_at(points, j);
        for (size_t i = 0; hone_node_type(point) == HONE_NODE_MAP && i < hone_node_len(point); i++) {
            const hone_node_t *v = hone_node_get(point, hone_node_key_at(point, i));
            S_CHECK(v == hone_node_at(point, i), "points[%zu] lookup", j);
        }
    }
}

/* ---- round trips ---- */

static void s_round_trip(const hone_msg_t *msg, size_t size)
{
    uint8_t *out = NULL;
    size_t n = 0;
    int rc = hone_msg_encode(msg, &out, &n);
    /* The canonical form can only grow through float32 -> float64 (5 bytes -> 9), so
     * a frame of at most half the limit always re-encodes. */
    if (rc == HONE_ETOOBIG && size > HONE_PROTO_MAX_BYTES / 2)
        return;
    S_CHECK(rc == HONE_OK, "re-encoding gave %s", hone_err_name(rc));
    S_CHECK(out != NULL && n > 0 && n <= HONE_PROTO_MAX_BYTES, "re-encoded %zu bytes", n);

    hone_msg_t *back = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    uint64_t seq = 0;
    rc = hone_msg_decode(out, n, &back, &seq, &err);
    S_CHECK(rc == HONE_OK, "the re-encoding does not decode: %s %s", hone_err_name(rc), err.message);
    S_CHECK(hone_msg_id(back) == hone_msg_id(msg) && hone_msg_seq(back) == hone_msg_seq(msg)
            && seq == hone_msg_seq(msg), "header changed in the round trip");
    S_CHECK(s_same(hone_msg_body_const(msg), hone_msg_body_const(back)), "body changed in the round trip");

    uint8_t *again = NULL;
    size_t again_n = 0;
    S_CHECK(hone_msg_encode(back, &again, &again_n) == HONE_OK, "second encoding");
    S_CHECK(again_n == n && memcmp(again, out, n) == 0, "the canonical form is not a fixed point");
    free(again);

    char *text = hone_msg_to_text(msg);
    char *text_back = hone_msg_to_text(back);
    S_CHECK(text && text_back && strcmp(text, text_back) == 0, "text forms differ");
    S_CHECK(!strchr(text, '\n'), "text form has a newline");
    free(text);
    free(text_back);

    /* the deep copy the broker uses for records gives the same bytes */
    hone_msg_t *copy = hone_msg_new(hone_msg_id(msg));
    S_CHECK(copy, "hone_msg_new");
    hone_msg_set_seq(copy, hone_msg_seq(msg));
    const hone_node_t *body = hone_msg_body_const(msg);
    for (size_t i = 0; i < hone_node_len(body); i++)
        S_CHECK(hone_node_add_copy(hone_msg_body(copy), hone_node_key_at(body, i), hone_node_at(body, i)),
                "hone_node_add_copy of '%.40s'", hone_node_key_at(body, i));
    S_CHECK(hone_msg_encode(copy, &again, &again_n) == HONE_OK, "encoding the copy");
    S_CHECK(again_n == n && memcmp(again, out, n) == 0, "the copy encodes differently");
    free(again);
    hone_msg_destroy(&copy);

    /* the body as a standalone record (how the store keeps maps) */
    S_CHECK(hone_node_encode(body, &again, &again_n) == HONE_OK, "hone_node_encode of the body");
    hone_node_t *record = NULL;
    rc = hone_node_decode(again, again_n, &record, &err);
    S_CHECK(rc == HONE_OK, "record does not decode: %s %s", hone_err_name(rc), err.message);
    S_CHECK(s_same(body, record), "record changed in the round trip");
    hone_node_destroy(&record);
    S_CHECK(record == NULL, "hone_node_destroy leaves the pointer");
    free(again);

    hone_msg_destroy(&back);
    free(out);
}

/* ---- the entry point ---- */

static bool s_is_wire_code(int rc)
{
    return rc == HONE_EPROTO || rc == HONE_ETOOBIG || rc == HONE_EVERSION;
}

static void s_check_error(const hone_error_t *err, int rc, const char *what)
{
    S_CHECK(err->code == rc, "%s: err.code %d, rc %d", what, err->code, rc);
    S_CHECK(err->message[0] != '\0', "%s: empty error message", what);
    S_CHECK(!strchr(err->message, '\n'), "%s: message with a newline: %s", what, err->message);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hone_error_t err;

    /* the validator alone */
    hone_error_clear(&err);
    int valid = hone_validate(data, size, NULL, &err);
    S_CHECK(valid == HONE_OK || valid == HONE_EPROTO || valid == HONE_ETOOBIG, "validate gave %d", valid);
    if (valid != HONE_OK) {
        s_check_error(&err, valid, "validate");
        S_CHECK(strncmp(err.message, "offset ", 7) == 0, "validate message '%s' names no offset", err.message);
    }
    /* smaller limits only ever refuse more */
    hone_validate_limits_t small = { .max_bytes = size, .max_depth = 4, .max_str = 16, .max_items = 32 };
    int valid_small = hone_validate(data, size, &small, NULL);
    if (valid_small == HONE_OK)
        S_CHECK(valid == HONE_OK, "valid under small limits but not under the protocol's");
    if (valid == HONE_ETOOBIG)
        S_CHECK(valid_small != HONE_OK, "too big for the protocol but not for smaller limits");

    /* the stable prefix */
    hone_validate_header_t head;
    int head_rc = hone_validate_header(data, size, &head, NULL);
    if (head_rc == HONE_OK) {
        S_CHECK(head.count >= 4, "header of %llu elements", (unsigned long long) head.count);
        S_CHECK(head.type >= data && head.type + head.type_len <= data + size, "type outside the frame");
    } else {
        S_CHECK(head_rc == HONE_EPROTO, "header gave %d", head_rc);
    }

    /* what the broker runs, its allocations counted */
    hone_msg_t *msg = (hone_msg_t *) &err;   /* must come back NULL on failure */
    const uint64_t unset = 0x5eed5eed5eed5eedull;
    uint64_t seq = unset;
    hone_error_clear(&err);
    s_live = s_peak = 0;
    s_tracking = 1;
    int rc = hone_msg_decode(data, size, &msg, &seq, &err);
    s_tracking = 0;
    size_t peak = s_peak;    /* 0 without the hooks */
    S_CHECK(peak <= S_DECODE_BYTES_PER_BYTE * size + S_DECODE_BYTES_FIXED,
            "decoding %zu bytes took %zu bytes at its peak", size, peak);

    if (head_rc == HONE_OK)
        S_CHECK(seq == head.seq, "seq_out %llu, header says %llu", (unsigned long long) seq,
                (unsigned long long) head.seq);
    else
        S_CHECK(seq == unset, "seq_out written for an unreadable header");
    if (head_rc == HONE_OK && head.version != HONE_PROTO_VERSION)
        S_CHECK(rc == HONE_EVERSION, "version %llu gave %s", (unsigned long long) head.version,
                hone_err_name(rc));
    if (rc == HONE_EVERSION)
        S_CHECK(head_rc == HONE_OK && head.version != HONE_PROTO_VERSION, "EVERSION without a version");
    if (valid != HONE_OK)
        S_CHECK(rc == valid || rc == HONE_EVERSION, "validator said %s, decoder %s", hone_err_name(valid),
                hone_err_name(rc));
    else
        S_CHECK(rc != HONE_ETOOBIG, "a valid frame decoded as too big");

    if (rc != HONE_OK) {
        S_CHECK(s_is_wire_code(rc), "decode gave %s", hone_err_name(rc));
        S_CHECK(msg == NULL, "*out set on error");
        s_check_error(&err, rc, "decode");
        /* what the validator accepts, msgpack-c parses: only the decoder's own rules
         * (key types and uniqueness, int range, header shape, type name) refuse it */
        if (valid == HONE_OK)
            S_CHECK(strstr(err.message, "malformed msgpack") == NULL, "validated but %s", err.message);
    } else {
        S_CHECK(msg != NULL, "*out not set on success");
        S_CHECK(valid == HONE_OK && head_rc == HONE_OK && head.count == 5, "decoded an invalid frame");
        hone_msg_id_t id = hone_msg_id(msg);
        const char *name = hone_msg_name(id);
        S_CHECK(name && strlen(name) == head.type_len && memcmp(name, head.type, head.type_len) == 0,
                "type name");
        S_CHECK(hone_msg_id_from_name(name, strlen(name)) == id, "type id");
        S_CHECK(hone_msg_seq(msg) == head.seq, "seq");

        s_stats_t st = { 0 };
        const hone_node_t *body = hone_msg_body_const(msg);
        S_CHECK(hone_node_type(body) == HONE_NODE_MAP, "body is not a map");
        s_walk(body, 2, &st);
        S_CHECK(st.items + 5 <= HONE_PROTO_MAX_ITEMS, "%zu items", st.items);
        S_CHECK(st.nodes <= size, "%zu nodes from %zu bytes", st.nodes, size);
        S_CHECK(st.bytes <= size, "%zu string bytes from %zu bytes", st.bytes, size);

        for (size_t i = 0; i < HONE_ARRAY_LEN(s_fields); i++)
            s_getters(msg, s_fields[i]);
        for (size_t i = 0; i < hone_node_len(body); i++)
            s_getters(msg, hone_node_key_at(body, i));
        s_shapes(msg);
        s_round_trip(msg, size);
        hone_msg_destroy(&msg);
        S_CHECK(msg == NULL, "hone_msg_destroy leaves the pointer");
    }

    /* the record decoder (the store's path) refuses and accepts the same bytes */
    hone_node_t *record = (hone_node_t *) &err;
    hone_error_clear(&err);
    int record_rc = hone_node_decode(data, size, &record, &err);
    if (valid != HONE_OK)
        S_CHECK(record_rc == valid, "record decoder %s, validator %s", hone_err_name(record_rc),
                hone_err_name(valid));
    if (record_rc == HONE_OK) {
        S_CHECK(record != NULL, "record not set");
        s_stats_t st = { 0 };
        s_walk(record, 1, &st);
        hone_node_destroy(&record);
    } else {
        S_CHECK(record_rc == HONE_EPROTO || record_rc == HONE_ETOOBIG, "record decoder gave %d", record_rc);
        S_CHECK(record == NULL, "record set on error");
        s_check_error(&err, record_rc, "record");
        if (valid == HONE_OK)
            S_CHECK(strstr(err.message, "malformed msgpack") == NULL, "validated but %s", err.message);
    }
    return 0;
}
