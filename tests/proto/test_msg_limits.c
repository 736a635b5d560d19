/* Unit tests for proto/msg at its limits: the decoder's refusals and their messages,
 * a frame above 1 MiB, loose encodings re-encoded canonically; the encoder's limits
 * (string, key, frame size, nesting depth, item count) at and past each; 20 000 random
 * mutations of the golden vectors never crash and whatever decodes round-trips;
 * allocation failures injected at every point leak nothing; the speed of a decode and
 * encode. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "msg.h"
#include "test_support.h"
#include "validate.h"

#include "msg_check.h"

/* ---- allocation failure injection ----
 * The test binary interposes malloc/calloc/realloc (glibc lets a program replace
 * them) so that the N-th allocation inside a window fails. Not under ASan, which
 * owns the allocator. */
#if defined(__SANITIZE_ADDRESS__)
#define S_CAN_FAIL_ALLOC 0
#else
#define S_CAN_FAIL_ALLOC 1
extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void __libc_free(void *p);
static long s_alloc_countdown = -1;   /* <0: never fail; 0: fail the next allocation */
static long s_alloc_failures;         /* allocations refused so far */
static bool s_alloc_track;            /* count live blocks in s_alloc_live */
static long s_alloc_live;             /* blocks allocated minus blocks freed while tracking */

static bool s_alloc_fails(void)
{
    if (s_alloc_countdown < 0)
        return false;
    if (s_alloc_countdown-- == 0) {
        s_alloc_failures++;
        return true;
    }
    return false;
}
static void *s_counted(void *p)
{
    if (p && s_alloc_track)
        s_alloc_live++;
    return p;
}
void *malloc(size_t size) { return s_alloc_fails() ? NULL : s_counted(__libc_malloc(size)); }
void *calloc(size_t n, size_t size) { return s_alloc_fails() ? NULL : s_counted(__libc_calloc(n, size)); }
void *realloc(void *p, size_t size)
{
    if (s_alloc_fails())
        return NULL;
    void *q = __libc_realloc(p, size);
    return p ? q : s_counted(q);
}
void free(void *p)
{
    if (p && s_alloc_track)
        s_alloc_live--;
    __libc_free(p);
}
#endif

/* ---- the decoder's refusals and loose forms ---- */

static void test_decode_details(void **state)
{
    (void) state;
    hone_error_t err;
    hone_msg_t *msg = NULL;
    size_t n;
    uint8_t *data = s_read_vector("proto/vectors/hostile/version_99.msgpack", &n);
    assert_int_equal(hone_msg_decode(data, n, &msg, NULL, &err), HONE_EVERSION);
    assert_string_equal(err.message, "protocol version 99 not supported (this peer speaks 1); type 'ready', seq 77");
    free(data);
    data = s_read_vector("proto/vectors/hostile/unknown_type.msgpack", &n);
    assert_int_equal(hone_msg_decode(data, n, &msg, NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "unknown message type 'teleport'");
    free(data);
    data = s_read_vector("proto/vectors/hostile/duplicate_keys_nested.msgpack", &n);
    assert_int_equal(hone_msg_decode(data, n, &msg, NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "duplicate map key 'loss' (in field 'metrics')");
    free(data);
    data = s_read_vector("proto/vectors/hostile/int_above_int64.msgpack", &n);
    assert_int_equal(hone_msg_decode(data, n, &msg, NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "integer above 2^63-1 (in field 'trial')");
    free(data);
    data = s_read_vector("proto/vectors/hostile/nested_100.msgpack", &n);
    assert_int_equal(hone_msg_decode(data, n, &msg, NULL, &err), HONE_ETOOBIG);
    assert_non_null(strstr(err.message, "nesting deeper than 16"));
    free(data);
    /* inside predict's points array, the field path names the point */
    data = s_read_vector("proto/vectors/hostile/predict_point_duplicate_keys.msgpack", &n);
    assert_int_equal(hone_msg_decode(data, n, &msg, NULL, &err), HONE_EPROTO);
    if (!strstr(err.message, "duplicate map key 'x1'") || !strstr(err.message, "points"))
        fail_msg("unexpected message: %s", err.message);
    free(data);
    data = s_read_vector("proto/vectors/hostile/predict_points_huge_count.msgpack", &n);
    uint64_t predict_seq = 0;
    assert_int_equal(hone_msg_decode(data, n, &msg, &predict_seq, &err), HONE_EPROTO);
    assert_true(predict_seq == 30);
    assert_non_null(strstr(err.message, "array declares 4294967295 element(s)"));
    free(data);

    /* a frame above 1 MiB */
    size_t big = HONE_PROTO_MAX_BYTES + 1;
    uint8_t *huge = calloc(1, big);
    huge[0] = 0x95;
    uint64_t seq = 1;
    assert_int_equal(hone_msg_decode(huge, big, &msg, &seq, &err), HONE_ETOOBIG);
    free(huge);

    /* float32 and non-canonical ints decode (and re-encode canonically) */
    static const uint8_t loose[] = { 0x95, 0xa4, 'H', 'O', 'N', 'E', 0xd0, 0x01, 0xa2, 'o', 'k', 0xcd, 0x00, 0x07,
                                     0x82, 0xa1, 'f', 0xca, 0x3f, 0xc0, 0x00, 0x00, 0xa1, 'i', 0xd1, 0x00, 0x05 };
    assert_int_equal(hone_msg_decode(loose, sizeof loose, &msg, &seq, &err), HONE_OK);
    assert_true(seq == 7);
    double f = 0;
    int64_t i = 0;
    assert_int_equal(hone_msg_get_float(msg, "f", &f, &err), HONE_OK);
    assert_true(f == 1.5);
    assert_int_equal(hone_msg_get_int(msg, "i", &i, &err), HONE_OK);
    assert_int_equal(i, 5);
    uint8_t *out;
    assert_int_equal(hone_msg_encode(msg, &out, &n), HONE_OK);
    static const uint8_t canonical[] = { 0x95, 0xa4, 'H', 'O', 'N', 'E', 0x01, 0xa2, 'o', 'k', 0x07, 0x82, 0xa1, 'f',
                                         0xcb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0, 0xa1, 'i', 0x05 };
    assert_int_equal(n, sizeof canonical);
    assert_memory_equal(out, canonical, n);
    free(out);
    hone_msg_destroy(&msg);
}

/* ---- the encoder's limits ---- */

static void test_encode_limits(void **state)
{
    (void) state;
    uint8_t *data = NULL;
    size_t size = 0;
    char *text = malloc(HONE_PROTO_MAX_STR + 2);
    memset(text, 'a', HONE_PROTO_MAX_STR + 1);
    text[HONE_PROTO_MAX_STR + 1] = '\0';

    hone_msg_t *msg = s_new(HONE_MSG_HEARTBEAT, 1);
    hone_node_add_strn(hone_msg_body(msg), "s", text, HONE_PROTO_MAX_STR);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_OK);
    hone_free(data);
    hone_node_add_strn(hone_msg_body(msg), "s", text, HONE_PROTO_MAX_STR + 1);
    data = NULL;
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_ETOOBIG);
    assert_null(data);
    hone_node_add_bin(hone_msg_body(msg), "s", text, HONE_PROTO_MAX_STR + 1);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_ETOOBIG);
    hone_msg_destroy(&msg);

    /* a key over the limit */
    msg = s_new(HONE_MSG_HEARTBEAT, 1);
    hone_msg_set_int(msg, text, 1);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_ETOOBIG);
    hone_msg_destroy(&msg);

    /* the whole frame over 1 MiB */
    msg = s_new(HONE_MSG_HEARTBEAT, 1);
    hone_node_t *list = hone_node_add_array(hone_msg_body(msg), "l");
    for (int i = 0; i < 16; i++)   /* 16 x 64003 bytes fit in 1 MiB, 17 do not */
        hone_node_add_strn(list, NULL, text, 64000);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_OK);
    hone_free(data);
    hone_node_add_strn(list, NULL, text, 64000);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_ETOOBIG);
    hone_msg_destroy(&msg);

    /* depth: 14 nested arrays in the body is the deepest a message can carry */
    msg = s_new(HONE_MSG_HEARTBEAT, 1);
    hone_node_t *node = hone_node_add_array(hone_msg_body(msg), "deep");
    for (int i = 1; i < 14; i++)
        node = hone_node_add_array(node, NULL);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_OK);
    hone_msg_t *back = NULL;
    assert_int_equal(hone_msg_decode(data, size, &back, NULL, NULL), HONE_OK);
    hone_msg_destroy(&back);
    hone_free(data);
    hone_node_add_array(node, NULL);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_ETOOBIG);
    hone_msg_destroy(&msg);

    /* items: 5 in the header, 1 for the body's pair, so the array may hold 99994 */
    msg = s_new(HONE_MSG_HEARTBEAT, 1);
    list = hone_node_add_array(hone_msg_body(msg), "l");
    for (int i = 0; i < HONE_PROTO_MAX_ITEMS - 6; i++)
        hone_node_add_nil(list, NULL);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_OK);
    assert_int_equal(hone_msg_decode(data, size, &back, NULL, NULL), HONE_OK);
    hone_msg_destroy(&back);
    hone_free(data);
    hone_node_add_nil(list, NULL);
    assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_ETOOBIG);
    hone_msg_destroy(&msg);
    free(text);
}

/* ---- random mutations ---- */

static uint64_t s_rng = 0x2545f4914f6cdd1dull;
static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void test_mutations_never_crash(void **state)
{
    (void) state;
    char names[128][64];
    size_t n = s_golden_names(names, 128);
    uint8_t *vec[128];
    size_t vec_size[128];
    for (size_t i = 0; i < n; i++) {
        char rel[128];
        snprintf(rel, sizeof rel, "proto/vectors/%s.msgpack", names[i]);
        vec[i] = s_read_vector(rel, &vec_size[i]);
    }
    int decoded = 0, codes[20] = { 0 };
    uint8_t buf[4096];
    for (int iter = 0; iter < 20000; iter++) {
        size_t pick = s_next() % n;
        if (vec_size[pick] > sizeof buf - 64)
            continue;
        size_t size = vec_size[pick];
        memcpy(buf, vec[pick], size);
        int edits = 1 + (int) (s_next() % 4);
        for (int k = 0; k < edits && size > 0; k++) {
            size_t at = s_next() % size;
            switch (s_next() % 6) {
            case 0: buf[at] = (uint8_t) s_next(); break;
            case 1: buf[at] ^= (uint8_t) (1u << (s_next() % 8)); break;
            case 2: size = at; break;                                   /* truncate */
            case 3:                                                     /* delete a byte */
                memmove(buf + at, buf + at + 1, size - at - 1);
                size--;
                break;
            case 4:                                                     /* insert a byte */
                memmove(buf + at + 1, buf + at, size - at);
                buf[at] = (uint8_t) s_next();
                size++;
                break;
            default: {                                                  /* interesting values */
                static const uint8_t hot[] = { 0xc1, 0xdd, 0xdf, 0xdb, 0xc6, 0xd4, 0xcf, 0xff, 0x00, 0x7f, 0x80, 0x90 };
                buf[at] = hot[s_next() % sizeof hot];
            }
            }
        }
        hone_msg_t *msg = NULL;
        hone_error_t err;
        uint64_t seq = 0;
        int rc = hone_msg_decode(buf, size, &msg, &seq, &err);
        codes[-rc]++;
        if (rc != HONE_OK) {
            assert_true(rc == HONE_EPROTO || rc == HONE_ETOOBIG || rc == HONE_EVERSION);
            assert_null(msg);
            continue;
        }
        decoded++;
        /* whatever decodes re-encodes, and decodes again to the same thing */
        uint8_t *data = NULL;
        size_t data_size = 0;
        assert_int_equal(hone_msg_encode(msg, &data, &data_size), HONE_OK);
        hone_msg_t *back = NULL;
        assert_int_equal(hone_msg_decode(data, data_size, &back, NULL, &err), HONE_OK);
        char *a = hone_msg_to_text(msg), *b = hone_msg_to_text(back);
        assert_string_equal(a, b);
        free(a);
        free(b);
        free(data);
        hone_msg_destroy(&back);
        hone_msg_destroy(&msg);
    }
    print_message("mutations: %d decoded, %d EPROTO, %d ETOOBIG, %d EVERSION\n", decoded, codes[-HONE_EPROTO],
                  codes[-HONE_ETOOBIG], codes[-HONE_EVERSION]);
    assert_true(decoded > 500);
    for (size_t i = 0; i < n; i++)
        free(vec[i]);
}

/* ---- allocation failures ---- */

static void test_allocation_failures(void **state)
{
    (void) state;
#if S_CAN_FAIL_ALLOC
    size_t size;
    uint8_t *golden = s_read_vector("proto/vectors/ok_list.msgpack", &size);
    long failures = 0;
    for (long k = 0; k < 64; k++) {
        hone_error_t err;
        hone_msg_t *msg = NULL;
        s_alloc_failures = 0;
        s_alloc_live = 0;
        s_alloc_track = true;
        s_alloc_countdown = k;
        int rc = hone_msg_decode(golden, size, &msg, NULL, &err);
        char *text = msg ? hone_msg_to_text(msg) : NULL;
        uint8_t *data = NULL;
        size_t n = 0;
        int erc = msg ? hone_msg_encode(msg, &data, &n) : HONE_ENOMEM;
        hone_msg_t *built = hone_msg_new(HONE_MSG_OK);
        hone_node_t *trials = built ? hone_node_add_array(hone_msg_body(built), "trials") : NULL;
        hone_node_t *copy = hone_node_add_copy(trials, NULL, msg ? hone_msg_body(msg) : NULL);
        int src = built ? hone_msg_set_str(built, "note", "a string long enough to need a copy") : HONE_ENOMEM;
        s_alloc_countdown = -1;
        failures += s_alloc_failures;
        if (s_alloc_failures == 0) {
            assert_int_equal(rc, HONE_OK);
            assert_non_null(text);
            assert_int_equal(erc, HONE_OK);
            assert_non_null(copy);
            assert_int_equal(src, HONE_OK);
        } else {
            assert_true(rc == HONE_OK || rc == HONE_ENOMEM);
            assert_true(erc == HONE_OK || erc == HONE_ENOMEM);
            assert_true(src == HONE_OK || src == HONE_ENOMEM);
        }
        if (rc == HONE_OK && erc == HONE_OK)
            assert_memory_equal(data, golden, size);
        free(text);
        free(data);
        hone_msg_destroy(&built);
        hone_msg_destroy(&msg);
        s_alloc_track = false;
        if (s_alloc_live != 0)
            fail_msg("failing allocation %ld leaked %ld block(s)", k, s_alloc_live);
    }
    assert_true(failures > 3);
    print_message("%ld allocation failures injected, no leaks\n", failures);
    free(golden);
#else
    skip();
#endif
}

/* ---- speed ---- */

static void test_speed(void **state)
{
    (void) state;
    size_t size;
    uint8_t *data = s_read_vector("proto/vectors/trial.msgpack", &size);
    struct timespec t0, t1;
    int rounds = 100000;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < rounds; i++) {
        hone_msg_t *msg = NULL;
        assert_int_equal(hone_msg_decode(data, size, &msg, NULL, NULL), HONE_OK);
        uint8_t *out;
        size_t n;
        assert_int_equal(hone_msg_encode(msg, &out, &n), HONE_OK);
        free(out);
        hone_msg_destroy(&msg);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double us = ((double) (t1.tv_sec - t0.tv_sec) * 1e9 + (double) (t1.tv_nsec - t0.tv_nsec)) / 1e3 / rounds;
    print_message("decode+encode of a %zu-byte message: %.2f us\n", size, us);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decode_details),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
