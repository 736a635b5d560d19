/* Unit tests for proto/validate: each rule at its boundary, the error text (offset and
 * rule), every prefix of every golden vector, and random mutations checked against
 * msgpack-c as an oracle (whatever the validator accepts, msgpack-c parses exactly). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "test_support.h"
#include "validate.h"

#define VALIDATE(bytes, limits, err) hone_validate((const uint8_t *) (bytes), sizeof(bytes) - 1, (limits), (err))

static int s_check(const char *bytes, size_t size, const hone_validate_limits_t *limits, hone_error_t *err)
{
    hone_error_clear(err);
    return hone_validate((const uint8_t *) bytes, size, limits, err);
}

static void test_scalars_and_every_form(void **state)
{
    (void) state;
    hone_error_t err;
    /* one object of each msgpack form, as a top-level array of 28 */
    static const char all[] =
        "\xdc\x00\x1c"
        "\x00" "\x7f" "\xe0" "\xff" "\xc0" "\xc2" "\xc3"
        "\xcc\x80" "\xcd\x01\x00" "\xce\x00\x01\x00\x00" "\xcf\x00\x00\x00\x01\x00\x00\x00\x00"
        "\xd0\x80" "\xd1\x80\x00" "\xd2\x80\x00\x00\x00" "\xd3\x80\x00\x00\x00\x00\x00\x00\x00"
        "\xca\x3f\x80\x00\x00" "\xcb\x3f\xf0\x00\x00\x00\x00\x00\x00"
        "\xa1x" "\xd9\x01y" "\xda\x00\x01z" "\xdb\x00\x00\x00\x01w"
        "\xc4\x01\x00" "\xc5\x00\x01\x00" "\xc6\x00\x00\x00\x01\x00"
        "\x90" "\x80" "\xdc\x00\x00" "\xdd\x00\x00\x00\x01\xc0";
    assert_int_equal(VALIDATE(all, NULL, &err), HONE_OK);
    /* the same with map forms */
    static const char maps[] = "\x93" "\x81\xa1k\xc0" "\xde\x00\x01\xa1k\xc0" "\xdf\x00\x00\x00\x01\xa1k\xc0";
    assert_int_equal(VALIDATE(maps, NULL, &err), HONE_OK);
    /* a top-level scalar is fine for the validator (the codec wants an array) */
    assert_int_equal(VALIDATE("\x05", NULL, &err), HONE_OK);
    assert_int_equal(VALIDATE("\xc0", NULL, &err), HONE_OK);

    /* every strict prefix of `all` is truncated, and every extension is refused */
    for (size_t n = 0; n < sizeof all - 1; n++)
        assert_int_equal(s_check(all, n, NULL, &err), HONE_EPROTO);
}

static void test_refused_bytes(void **state)
{
    (void) state;
    hone_error_t err;
    static const unsigned char ext[] = { 0xc7, 0xc8, 0xc9, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8 };
    for (size_t i = 0; i < sizeof ext; i++) {
        /* zero lengths and enough bytes: the only problem is the type itself */
        char buf[32] = { (char) 0x91, (char) ext[i] };
        assert_int_equal(s_check(buf, sizeof buf, NULL, &err), HONE_EPROTO);
        assert_non_null(strstr(err.message, "extension type"));
        assert_non_null(strstr(err.message, "offset 1"));
    }
    assert_int_equal(VALIDATE("\x92\x01\xc1", NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 2: reserved byte 0xc1");
    assert_int_equal(s_check("", 0, NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 0: empty message");
}

static void test_declared_lengths_against_remaining_bytes(void **state)
{
    (void) state;
    hone_error_t err;
    /* array32 claiming 2^32-1 elements with 3 bytes left: refused at its header */
    assert_int_equal(VALIDATE("\xdd\xff\xff\xff\xff\x01\x02\x03", NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 0: array declares 4294967295 element(s) but only 3 byte(s) remain");
    /* map: n pairs need 2n bytes */
    assert_int_equal(VALIDATE("\x82\xa1k\x01", NULL, &err), HONE_EPROTO);
    assert_int_equal(VALIDATE("\x81\xa1k\x01", NULL, &err), HONE_OK);
    assert_int_equal(VALIDATE("\xdf\x00\x00\x00\x02\x01\x02\x03", NULL, &err), HONE_EPROTO);
    /* pending elements of outer containers count too: [[x, y], z] with z missing */
    assert_int_equal(VALIDATE("\x92\x92\x01\x02", NULL, &err), HONE_EPROTO);
    assert_non_null(strstr(err.message, "offset 1"));
    /* str/bin lengths */
    assert_int_equal(VALIDATE("\xdb\x00\x00\x10\x00short", NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 0: str declares 4096 bytes but only 5 remain");
    assert_int_equal(VALIDATE("\x91\xc6\xff\xff\xff\xffxx", NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 1: bin declares 4294967295 bytes but only 2 remain");
    assert_int_equal(VALIDATE("\xa3" "ab", NULL, &err), HONE_EPROTO);
    /* a header cut inside its length field */
    assert_int_equal(VALIDATE("\x91\xda\x00", NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 1: truncated, type byte 0xda needs 3 bytes but 2 remain");
    assert_int_equal(VALIDATE("\xcb\x00\x00", NULL, &err), HONE_EPROTO);
    /* trailing bytes */
    assert_int_equal(VALIDATE("\x91\x01\x02\x03", NULL, &err), HONE_EPROTO);
    assert_string_equal(err.message, "offset 2: 2 trailing byte(s) after the message");
    assert_int_equal(VALIDATE("\xc0\xc0", NULL, &err), HONE_EPROTO);
}

static void test_limits(void **state)
{
    (void) state;
    hone_error_t err;
    hone_validate_limits_t limits = hone_validate_default_limits();
    assert_int_equal(limits.max_bytes, HONE_PROTO_MAX_BYTES);
    assert_int_equal(limits.max_depth, HONE_PROTO_MAX_DEPTH);
    assert_int_equal(limits.max_str, HONE_PROTO_MAX_STR);
    assert_int_equal(limits.max_items, HONE_PROTO_MAX_ITEMS);

    hone_validate_limits_t small = { .max_bytes = 64, .max_depth = 3, .max_str = 4, .max_items = 5 };
    /* depth: 3 nested containers pass, 4 do not (an empty innermost one counts) */
    assert_int_equal(VALIDATE("\x91\x91\x91\x01", &small, &err), HONE_OK);
    assert_int_equal(VALIDATE("\x91\x91\x90", &small, &err), HONE_OK);
    assert_int_equal(VALIDATE("\x91\x91\x91\x90", &small, &err), HONE_ETOOBIG);
    assert_string_equal(err.message, "offset 3: nesting deeper than 3");
    assert_int_equal(VALIDATE("\x91\x91\x81\xa1k\x80", &small, &err), HONE_ETOOBIG);
    /* depth is about nesting, not about the number of containers */
    assert_int_equal(VALIDATE("\x94\x91\x01\x91\x01\x91\x01\x90", &small, &err), HONE_ETOOBIG);   /* 5+ items */
    hone_validate_limits_t wide = small;
    wide.max_items = 100;
    assert_int_equal(VALIDATE("\x94\x91\x91\x01\x91\x91\x01\x91\x91\x01\x91\x91\x01", &wide, &err), HONE_OK);
    /* str and bin size */
    assert_int_equal(VALIDATE("\xa4" "abcd", &small, &err), HONE_OK);
    assert_int_equal(VALIDATE("\xa5" "abcde", &small, &err), HONE_ETOOBIG);
    assert_string_equal(err.message, "offset 0: str of 5 bytes exceeds the 4-byte limit");
    assert_int_equal(VALIDATE("\xc4\x05" "abcde", &small, &err), HONE_ETOOBIG);
    /* items: array items plus map pairs, in total */
    assert_int_equal(VALIDATE("\x92\x81\xa1k\x01\x92\x01\x02", &small, &err), HONE_OK);       /* 2+1+2 */
    assert_int_equal(VALIDATE("\x92\x81\xa1k\x01\x93\x01\x02\x03", &small, &err), HONE_ETOOBIG);
    assert_non_null(strstr(err.message, "more than 5 elements"));
    /* whole buffer */
    char big[65];
    memset(big, 0xc0, sizeof big);
    big[0] = (char) 0xdc;
    big[1] = 0;
    big[2] = 62;
    assert_int_equal(s_check(big, 65, &small, &err), HONE_ETOOBIG);
    assert_int_equal(s_check(big, 65, &wide, &err), HONE_ETOOBIG);
    wide.max_bytes = 65;
    assert_int_equal(s_check(big, 65, &wide, &err), HONE_OK);
    /* a depth limit above the internal stack is clamped, not overflowed */
    hone_validate_limits_t deep = { .max_bytes = 1 << 20, .max_depth = 1000, .max_str = 10, .max_items = 1000 };
    char nest[200];
    memset(nest, 0x91, sizeof nest);
    nest[199] = 0x01;
    assert_int_equal(s_check(nest, 64, &deep, &err), HONE_EPROTO);       /* truncated at 64 */
    assert_int_equal(s_check(nest, sizeof nest, &deep, &err), HONE_ETOOBIG);
}

/* ---- golden vectors ---- */

typedef struct {
    uint8_t *data;          /* file contents */
    size_t size;            /* bytes */
} vec_t;

static size_t s_golden(vec_t *out, size_t max)
{
    char *dir = hone_test_source_path("proto/vectors");
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 8 || strcmp(e->d_name + len - 8, ".msgpack") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        out[n].data = (uint8_t *) hone_test_read_file(path, &out[n].size);
        assert_non_null(out[n].data);
        n++;
    }
    closedir(d);
    free(dir);
    return n;
}

static void test_golden_vectors_and_their_prefixes(void **state)
{
    (void) state;
    vec_t vecs[128];
    size_t n = s_golden(vecs, 128);
    assert_true(n >= 30);
    hone_error_t err;
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(hone_validate(vecs[i].data, vecs[i].size, NULL, &err), HONE_OK);
        for (size_t cut = 0; cut < vecs[i].size; cut += vecs[i].size > 4096 ? 997 : 1)
            assert_int_equal(hone_validate(vecs[i].data, cut, NULL, &err), HONE_EPROTO);
        uint8_t *longer = malloc(vecs[i].size + 1);
        memcpy(longer, vecs[i].data, vecs[i].size);
        longer[vecs[i].size] = 0xc0;
        assert_int_equal(hone_validate(longer, vecs[i].size + 1, NULL, &err), HONE_EPROTO);
        assert_non_null(strstr(err.message, "trailing"));
        free(longer);
        free(vecs[i].data);
    }
}

/* ---- mutations against msgpack-c ---- */

static uint64_t s_rng = 0x9e3779b97f4a7c15ull;
static uint64_t s_next(void)
{
    s_rng ^= s_rng << 13;
    s_rng ^= s_rng >> 7;
    s_rng ^= s_rng << 17;
    return s_rng;
}

static void test_mutations_agree_with_msgpack_c(void **state)
{
    (void) state;
    vec_t vecs[128];
    size_t n = s_golden(vecs, 128);
    hone_error_t err;
    size_t accepted = 0;
    uint8_t buf[4096];
    msgpack_unpacked up;
    msgpack_unpacked_init(&up);
    for (int iter = 0; iter < 20000; iter++) {
        const vec_t *v = &vecs[s_next() % n];
        if (v->size > sizeof buf - 16)
            continue;
        size_t size = v->size;
        memcpy(buf, v->data, size);
        int edits = 1 + (int) (s_next() % 3);
        for (int k = 0; k < edits; k++) {
            size_t at = s_next() % size;
            switch (s_next() % 4) {
            case 0: buf[at] = (uint8_t) s_next(); break;
            case 1: buf[at] ^= (uint8_t) (1u << (s_next() % 8)); break;
            case 2: size = at + 1; break;
            default:
                if (size + 1 < sizeof buf) {
                    memmove(buf + at + 1, buf + at, size - at);
                    buf[at] = (uint8_t) s_next();
                    size++;
                }
            }
        }
        int rc = hone_validate(buf, size, NULL, &err);
        assert_true(rc == HONE_OK || rc == HONE_EPROTO || rc == HONE_ETOOBIG);
        if (rc != HONE_OK) {
            assert_non_null(strstr(err.message, "offset "));
            continue;
        }
        accepted++;
        size_t off = 0;
        assert_int_equal(msgpack_unpack_next(&up, (const char *) buf, size, &off), MSGPACK_UNPACK_SUCCESS);
        assert_int_equal(off, size);
    }
    msgpack_unpacked_destroy(&up);
    assert_true(accepted > 100);
    for (size_t i = 0; i < n; i++)
        free(vecs[i].data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalars_and_every_form),
        cmocka_unit_test(test_refused_bytes),
        cmocka_unit_test(test_declared_lengths_against_remaining_bytes),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_golden_vectors_and_their_prefixes),
        cmocka_unit_test(test_mutations_agree_with_msgpack_c),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
