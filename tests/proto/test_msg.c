/* Unit tests for proto/msg: golden vectors (decode to the form in NAME.json, re-encode
 * to the same bytes), hostile vectors (each refused with its manifest code and seq),
 * messages built through the API (equal to the Python-encoded goldens, round trips of
 * every type), getters' errors, the node tree, encoder limits, random mutations,
 * allocation failures, the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "msg.h"
#include "test_support.h"
#include "validate.h"

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

/* ---- a small JSON reader, enough for the vectors (tests only) ---- */

typedef enum { JV_NULL, JV_TRUE, JV_FALSE, JV_NUM, JV_STR, JV_ARR, JV_OBJ } jv_kind_t;

typedef struct jv {
    jv_kind_t kind;
    char *text;             /* JV_NUM: the literal; JV_STR: the UTF-8 bytes */
    size_t len;             /* JV_STR bytes; JV_ARR/JV_OBJ items */
    char **keys;            /* JV_OBJ keys, in order */
    struct jv **items;      /* JV_ARR/JV_OBJ values */
} jv_t;

typedef struct {
    const char *p;          /* next character */
} jreader_t;

static void s_ws(jreader_t *r)
{
    while (*r->p == ' ' || *r->p == '\n' || *r->p == '\r' || *r->p == '\t')
        r->p++;
}

static void s_utf8(char **out, unsigned cp)
{
    unsigned char *o = (unsigned char *) *out;
    if (cp < 0x80) {
        *o++ = (unsigned char) cp;
    } else if (cp < 0x800) {
        *o++ = (unsigned char) (0xc0 | cp >> 6);
        *o++ = (unsigned char) (0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (unsigned char) (0xe0 | cp >> 12);
        *o++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char) (0x80 | (cp & 0x3f));
    } else {
        *o++ = (unsigned char) (0xf0 | cp >> 18);
        *o++ = (unsigned char) (0x80 | ((cp >> 12) & 0x3f));
        *o++ = (unsigned char) (0x80 | ((cp >> 6) & 0x3f));
        *o++ = (unsigned char) (0x80 | (cp & 0x3f));
    }
    *out = (char *) o;
}

static char *s_jstring(jreader_t *r, size_t *len)
{
    assert_int_equal(*r->p, '"');
    r->p++;
    const char *end = r->p;
    while (*end != '"')
        end += *end == '\\' ? 2 : 1;
    char *s = malloc((size_t) (end - r->p) + 1), *o = s;
    while (*r->p != '"') {
        if (*r->p != '\\') {
            *o++ = *r->p++;
            continue;
        }
        r->p++;
        char c = *r->p++;
        switch (c) {
        case 'n': *o++ = '\n'; break;
        case 't': *o++ = '\t'; break;
        case 'r': *o++ = '\r'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'u': {
            unsigned cp = (unsigned) strtoul((char[5]) { r->p[0], r->p[1], r->p[2], r->p[3], 0 }, NULL, 16);
            r->p += 4;
            if (cp >= 0xd800 && cp < 0xdc00 && r->p[0] == '\\' && r->p[1] == 'u') {
                unsigned lo = (unsigned) strtoul((char[5]) { r->p[2], r->p[3], r->p[4], r->p[5], 0 }, NULL, 16);
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                r->p += 6;
            }
            s_utf8(&o, cp);
            break;
        }
        default: *o++ = c;   /* \" \\ \/ */
        }
    }
    r->p++;
    *len = (size_t) (o - s);
    *o = '\0';
    return s;
}

static jv_t *s_jvalue(jreader_t *r)
{
    jv_t *v = calloc(1, sizeof *v);
    s_ws(r);
    char c = *r->p;
    if (c == '{' || c == '[') {
        v->kind = c == '{' ? JV_OBJ : JV_ARR;
        r->p++;
        s_ws(r);
        while (*r->p != (c == '{' ? '}' : ']')) {
            v->items = realloc(v->items, (v->len + 1) * sizeof *v->items);
            v->keys = realloc(v->keys, (v->len + 1) * sizeof *v->keys);
            v->keys[v->len] = NULL;
            if (c == '{') {
                size_t klen;
                s_ws(r);
                v->keys[v->len] = s_jstring(r, &klen);
                s_ws(r);
                assert_int_equal(*r->p, ':');
                r->p++;
            }
            v->items[v->len++] = s_jvalue(r);
            s_ws(r);
            if (*r->p == ',')
                r->p++;
            s_ws(r);
        }
        r->p++;
    } else if (c == '"') {
        v->kind = JV_STR;
        v->text = s_jstring(r, &v->len);
    } else if (strncmp(r->p, "null", 4) == 0) {
        v->kind = JV_NULL;
        r->p += 4;
    } else if (strncmp(r->p, "true", 4) == 0) {
        v->kind = JV_TRUE;
        r->p += 4;
    } else if (strncmp(r->p, "false", 5) == 0) {
        v->kind = JV_FALSE;
        r->p += 5;
    } else {
        v->kind = JV_NUM;
        const char *start = r->p;
        while (*r->p && strchr("+-0123456789.eE", *r->p))
            r->p++;
        assert_true(r->p > start);
        v->text = strndup(start, (size_t) (r->p - start));
    }
    return v;
}

static void s_jfree(jv_t *v)
{
    for (size_t i = 0; (v->kind == JV_ARR || v->kind == JV_OBJ) && i < v->len; i++) {
        free(v->keys[i]);
        s_jfree(v->items[i]);
    }
    free(v->keys);
    free(v->items);
    free(v->text);
    free(v);
}

static const jv_t *s_jget(const jv_t *obj, const char *key)
{
    for (size_t i = 0; i < obj->len; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return obj->items[i];
    return NULL;
}

/* A {"$tag": "text"} object of the vectors' convention, or NULL. */
static const char *s_tagged(const jv_t *v, const char *tag)
{
    if (v->kind == JV_OBJ && v->len == 1 && strcmp(v->keys[0], tag) == 0 && v->items[0]->kind == JV_STR)
        return v->items[0]->text;
    return NULL;
}

static void s_expect_same(const jv_t *want, const hone_node_t *got, const char *where)
{
    const char *tag;
    if ((tag = s_tagged(want, "$float"))) {
        assert_int_equal(hone_node_type(got), HONE_NODE_FLOAT);
        double f = strtod(tag, NULL), g = hone_node_float(got);
        if (isnan(f))
            assert_true(isnan(g));
        else if (memcmp(&f, &g, sizeof f) != 0)
            fail_msg("%s: float %s decoded as %.17g", where, tag, g);
        return;
    }
    if ((tag = s_tagged(want, "$int"))) {
        assert_int_equal(hone_node_type(got), HONE_NODE_INT);
        assert_int_equal(hone_node_int(got), strtoll(tag, NULL, 10));
        return;
    }
    if ((tag = s_tagged(want, "$bin"))) {
        assert_int_equal(hone_node_type(got), HONE_NODE_BIN);
        size_t len;
        const char *bytes = hone_node_str(got, &len);
        assert_int_equal(len * 2, strlen(tag));
        for (size_t i = 0; i < len; i++) {
            unsigned byte;
            sscanf(tag + 2 * i, "%2x", &byte);
            assert_int_equal((unsigned char) bytes[i], byte);
        }
        return;
    }
    switch (want->kind) {
    case JV_NULL: assert_int_equal(hone_node_type(got), HONE_NODE_NIL); return;
    case JV_TRUE:
    case JV_FALSE:
        assert_int_equal(hone_node_type(got), HONE_NODE_BOOL);
        assert_int_equal(hone_node_bool(got), want->kind == JV_TRUE);
        return;
    case JV_NUM:
        /* the convention: a bare JSON number is always an integer */
        if (strpbrk(want->text, ".eE"))
            fail_msg("%s: bare float %s in a vector (floats are {\"$float\": ...})", where, want->text);
        if (hone_node_type(got) != HONE_NODE_INT)
            fail_msg("%s: expected int %s, got %s", where, want->text, hone_node_type_name(hone_node_type(got)));
        assert_int_equal(hone_node_int(got), strtoll(want->text, NULL, 10));
        return;
    case JV_STR: {
        assert_int_equal(hone_node_type(got), HONE_NODE_STR);
        size_t len;
        const char *s = hone_node_str(got, &len);
        assert_int_equal(len, want->len);
        assert_memory_equal(s, want->text, len);
        assert_int_equal(s[len], '\0');
        return;
    }
    case JV_ARR:
    case JV_OBJ:
        if (hone_node_type(got) != (want->kind == JV_ARR ? HONE_NODE_ARRAY : HONE_NODE_MAP))
            fail_msg("%s: expected a container, got %s", where, hone_node_type_name(hone_node_type(got)));
        assert_int_equal(hone_node_len(got), want->len);
        for (size_t i = 0; i < want->len; i++) {
            char inner[256];
            if (want->kind == JV_OBJ) {
                assert_string_equal(hone_node_key_at(got, i), want->keys[i]);
                assert_ptr_equal(hone_node_get(got, want->keys[i]), hone_node_at(got, i));
                snprintf(inner, sizeof inner, "%s.%s", where, want->keys[i]);
            } else {
                snprintf(inner, sizeof inner, "%s[%zu]", where, i);
            }
            s_expect_same(want->items[i], hone_node_at(got, i), inner);
        }
        return;
    }
}

/* ---- vector files ---- */

static uint8_t *s_read_vector(const char *relative, size_t *size)
{
    char *path = hone_test_source_path(relative);
    uint8_t *data = (uint8_t *) hone_test_read_file(path, size);
    if (!data)
        fail_msg("cannot read %s", path);
    free(path);
    return data;
}

static int s_name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names (without .msgpack) of the golden vectors, sorted; returns the count. */
static size_t s_golden_names(char names[][64], size_t max)
{
    char *dir = hone_test_source_path("proto/vectors");
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 8 && len < 64 && strcmp(e->d_name + len - 8, ".msgpack") == 0 && n < max) {
            memcpy(names[n], e->d_name, len - 8);
            names[n++][len - 8] = '\0';
        }
    }
    closedir(d);
    free(dir);
    qsort(names, n, sizeof names[0], s_name_cmp);
    return n;
}

static void test_golden_vectors(void **state)
{
    (void) state;
    char names[128][64];
    size_t n = s_golden_names(names, 128);
    assert_true(n >= 40);
    bool seen[HONE_MSG_COUNT] = { false };
    for (size_t i = 0; i < n; i++) {
        char rel[128];
        size_t size, jsize;
        snprintf(rel, sizeof rel, "proto/vectors/%s.msgpack", names[i]);
        uint8_t *data = s_read_vector(rel, &size);
        snprintf(rel, sizeof rel, "proto/vectors/%s.json", names[i]);
        char *json = (char *) s_read_vector(rel, &jsize);

        hone_msg_t *msg = NULL;
        hone_error_t err;
        uint64_t seq = 0;
        hone_error_clear(&err);
        if (hone_msg_decode(data, size, &msg, &seq, &err) != HONE_OK)
            fail_msg("%s: %s", names[i], err.message);
        jreader_t r = { json };
        jv_t *doc = s_jvalue(&r);
        assert_string_equal(hone_msg_name(hone_msg_id(msg)), s_jget(doc, "type")->text);
        const jv_t *jseq = s_jget(doc, "seq");
        uint64_t want_seq = strtoull(jseq->kind == JV_NUM ? jseq->text : s_tagged(jseq, "$int"), NULL, 10);
        assert_true(hone_msg_seq(msg) == want_seq);
        assert_true(seq == want_seq);
        s_expect_same(s_jget(doc, "body"), hone_msg_body_const(msg), names[i]);
        seen[hone_msg_id(msg)] = true;

        uint8_t *again = NULL;
        size_t again_size = 0;
        assert_int_equal(hone_msg_encode(msg, &again, &again_size), HONE_OK);
        if (again_size != size || memcmp(again, data, size) != 0)
            fail_msg("%s: re-encoding differs (%zu bytes, golden %zu)", names[i], again_size, size);
        free(again);
        hone_msg_destroy(&msg);
        assert_null(msg);
        hone_msg_destroy(&msg);
        s_jfree(doc);
        free(json);
        free(data);
    }
    for (int id = HONE_MSG_INVALID + 1; id < HONE_MSG_COUNT; id++)
        if (!seen[id])
            fail_msg("no golden vector for '%s'", hone_msg_name((hone_msg_id_t) id));
}

static void test_hostile_vectors(void **state)
{
    (void) state;
    size_t size;
    char *manifest = (char *) s_read_vector("proto/vectors/hostile/manifest.txt", &size);
    int count = 0;
    for (char *line = strtok(manifest, "\n"); line; line = strtok(NULL, "\n")) {
        if (line[0] == '#')
            continue;
        char name[64], code_name[32], seq_text[32];
        assert_int_equal(sscanf(line, "%63s %31s %31s", name, code_name, seq_text), 3);
        int code = 0;
        assert_int_equal(hone_err_from_name(code_name, &code), HONE_OK);
        char rel[128];
        snprintf(rel, sizeof rel, "proto/vectors/hostile/%s.msgpack", name);
        size_t n;
        uint8_t *data = s_read_vector(rel, &n);
        hone_msg_t *msg = (hone_msg_t *) &count;   /* must be reset to NULL */
        uint64_t seq = 0xdeadbeef;
        hone_error_t err;
        hone_error_clear(&err);
        int rc = hone_msg_decode(data, n, &msg, &seq, &err);
        if (rc != code)
            fail_msg("%s: expected %s, got %s (%s)", name, code_name, hone_err_name(rc), err.message);
        assert_null(msg);
        assert_int_equal(err.code, code);
        assert_true(strlen(err.message) > 0);
        assert_null(strchr(err.message, '\n'));
        if (strcmp(seq_text, "-") == 0)
            assert_true(seq == 0xdeadbeef);
        else if (seq != strtoull(seq_text, NULL, 10))
            fail_msg("%s: seq_out %llu, expected %s", name, (unsigned long long) seq, seq_text);
        /* seq_out may be NULL, err may be NULL */
        assert_int_equal(hone_msg_decode(data, n, &msg, NULL, NULL), code);
        free(data);
        count++;
    }
    assert_true(count >= 30);
    free(manifest);
}

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

/* ---- messages built through the API ---- */

static void s_expect_golden(const hone_msg_t *msg, const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "proto/vectors/%s.msgpack", name);
    size_t size, n;
    uint8_t *golden = s_read_vector(rel, &size), *data = NULL;
    assert_int_equal(hone_msg_encode(msg, &data, &n), HONE_OK);
    if (n != size || memcmp(data, golden, n) != 0) {
        char *text = hone_msg_to_text(msg);
        fail_msg("%s: the API-built message differs from the golden bytes: %s", name, text);
    }
    free(data);
    free(golden);
}

static hone_msg_t *s_new(hone_msg_id_t id, uint64_t seq)
{
    hone_msg_t *msg = hone_msg_new(id);
    assert_non_null(msg);
    hone_msg_set_seq(msg, seq);
    return msg;
}

static void s_metric(hone_node_t *metrics, const char *name, double mean, double sem, bool has_sem)
{
    hone_node_t *pair = hone_node_add_array(metrics, name);
    assert_non_null(hone_node_add_float(pair, NULL, mean));
    assert_non_null(has_sem ? hone_node_add_float(pair, NULL, sem) : hone_node_add_nil(pair, NULL));
}

static void test_api_builds_the_golden_bytes(void **state)
{
    (void) state;
    hone_msg_t *msg = s_new(HONE_MSG_READY, 1);
    assert_int_equal(hone_msg_set_str(msg, "experiment", "training"), HONE_OK);
    assert_int_equal(hone_msg_set_str(msg, "worker", "gpu-node-07/3"), HONE_OK);
    s_expect_golden(msg, "ready");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_TRIAL, 1);
    hone_msg_set_str(msg, "experiment", "training");
    hone_msg_set_int(msg, "trial", 12);
    hone_node_t *params = hone_node_add_map(hone_msg_body(msg), "params");
    hone_msg_set_str(msg, "note", "sobol");   /* params must survive its parent growing */
    hone_node_add_float(params, "learning_rate", 0.0031622776601683794);
    hone_node_add_int(params, "layers", 4);
    hone_node_add_int(params, "batch_size", 64);
    hone_node_add_str(params, "optimizer", "adam");
    hone_node_add_float(params, "dropout", 0.2);
    s_expect_golden(msg, "trial");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_NO_WORK, 2);
    hone_msg_set_int(msg, "retry_ms", 1000);
    hone_msg_set_bool(msg, "done", false);
    hone_msg_set_str(msg, "reason", "waiting for running trials to finish");
    s_expect_golden(msg, "no_work_retry");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_COMPLETE, 9);
    hone_msg_set_str(msg, "experiment", "training");
    hone_msg_set_int(msg, "trial", 12);
    hone_node_t *metrics = hone_node_add_map(hone_msg_body(msg), "metrics");
    s_metric(metrics, "loss", 0.25, 0, false);
    s_metric(metrics, "accuracy", 0.90625, 0.01, true);
    hone_msg_set_int(msg, "progression", 1000);
    s_expect_golden(msg, "complete");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_OK, 2);
    hone_node_t *trials = hone_node_add_array(hone_msg_body(msg), "trials");
    static const struct { double x1, x2; const char *note; } t[] = {
        { 2.5, 7.5, "center" }, { -1.7512136697769165, 11.640480756759644, "sobol" } };
    for (int i = 0; i < 2; i++) {
        hone_node_t *trial = hone_node_add_map(trials, NULL);
        hone_node_add_int(trial, "trial", i);
        hone_node_add_str(trial, "status", "RUNNING");
        hone_node_t *p = hone_node_add_map(trial, "params");
        hone_node_add_float(p, "x1", t[i].x1);
        hone_node_add_float(p, "x2", t[i].x2);
        hone_node_add_str(trial, "note", t[i].note);
    }
    s_expect_golden(msg, "ok_next");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_ERROR, 1);
    hone_msg_set_int(msg, "code", HONE_ENOTFOUND);
    hone_msg_set_str(msg, "name", hone_err_name(HONE_ENOTFOUND));
    hone_msg_set_str(msg, "message", "unknown experiment 'brannin'");
    s_expect_golden(msg, "error_not_found");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_PREDICT, 9);
    hone_msg_set_str(msg, "experiment", "branin");
    hone_node_t *points = hone_node_add_array(hone_msg_body(msg), "points");
    static const double xs[][2] = { { 2.5, 7.5 }, { -3.0, 12.25 } };
    for (int i = 0; i < 2; i++) {
        hone_node_t *point = hone_node_add_map(points, NULL);
        hone_node_add_float(point, "x1", xs[i][0]);
        hone_node_add_float(point, "x2", xs[i][1]);
    }
    s_expect_golden(msg, "predict");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_OK, 9);
    hone_node_t *predictions = hone_node_add_array(hone_msg_body(msg), "predictions");
    static const double ms[][2] = { { 55.58720124781904, 0.4971051178123394 },
                                    { 17.308617391304345, 9.618720588235295 } };
    for (int i = 0; i < 2; i++) {
        hone_node_t *prediction = hone_node_add_map(predictions, NULL);
        hone_node_add_float(prediction, "mean", ms[i][0]);
        hone_node_add_float(prediction, "sem", ms[i][1]);
    }
    hone_msg_set_str(msg, "metric", "branin");
    s_expect_golden(msg, "ok_predict");
    hone_msg_destroy(&msg);

    /* early stopping: the stop in replies, its acknowledgement, curves, should_stop */
    static const char stop_reason[] = "percentile strategy: Trial objective value 0.9375 at progression 200 is "
                                      "worse than the 50.0-th percentile (0.5) across 6 comparable trials (lower "
                                      "is better).";
    msg = s_new(HONE_MSG_OK, 7);
    hone_msg_set_bool(msg, "stop", true);
    hone_msg_set_str(msg, "reason", stop_reason);
    s_expect_golden(msg, "ok_stop");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_HEARTBEAT, 12);
    hone_msg_set_bool(msg, "stop", true);
    hone_msg_set_str(msg, "reason", stop_reason);
    s_expect_golden(msg, "heartbeat_stop");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_OK, 9);
    hone_msg_set_str(msg, "status", "EARLY_STOPPED");
    hone_msg_set_str(msg, "reason", stop_reason);
    s_expect_golden(msg, "ok_stop_ack");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_LIST, 8);
    hone_msg_set_str(msg, "experiment", "training");
    hone_msg_set_int(msg, "trial", 12);
    hone_msg_set_bool(msg, "curves", true);
    s_expect_golden(msg, "list_curves");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_SHOULD_STOP, 10);
    hone_msg_set_str(msg, "experiment", "training");
    hone_msg_set_int(msg, "trial", 12);
    s_expect_golden(msg, "should_stop");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_OK, 10);
    hone_msg_set_bool(msg, "stop", false);
    hone_msg_set_str(msg, "reason", "Trial objective value 0.4375 at progression 200 is not worse than the 50.0-th "
                                    "percentile (0.5) across 6 comparable trials (lower is better).");
    s_expect_golden(msg, "ok_should_stop");
    hone_msg_destroy(&msg);

    /* several goals: the Pareto frontier and the baseline */
    msg = s_new(HONE_MSG_PARETO, 11);
    hone_msg_set_str(msg, "experiment", "tradeoff");
    hone_msg_set_bool(msg, "use_model", false);
    s_expect_golden(msg, "pareto");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_OK, 11);
    hone_node_t *body = hone_msg_body(msg);
    hone_msg_set_str(msg, "source", "raw");
    hone_node_t *labels = hone_node_add_array(body, "objectives");
    hone_node_add_str(labels, NULL, "a");
    hone_node_add_str(labels, NULL, "b");
    hone_node_t *minimize = hone_node_add_array(body, "minimize");
    hone_node_add_bool(minimize, NULL, true);
    hone_node_add_bool(minimize, NULL, true);
    hone_node_t *ref = hone_node_add_array(body, "ref");
    hone_node_add_float(ref, NULL, 10.0);
    hone_node_add_float(ref, NULL, 4.5);
    hone_msg_set_bool(msg, "ref_inferred", true);
    hone_msg_set_float(msg, "hypervolume", 22.5);
    hone_node_t *frontier = hone_node_add_array(body, "points");
    static const struct { int trial; double x1, x2, a, b, sem_a, contribution; } f[] = {
        { 1, 0.125, 0.75, 4.0, 1.5, 0.25, 4.5 }, { 0, 0.5, 0.5, 2.0, 3.0, NAN, 3.0 },
        { 3, 0.875, 0.0, 7.0, 1.0, NAN, 1.5 } };
    for (size_t i = 0; i < HONE_ARRAY_LEN(f); i++) {
        hone_node_t *point = hone_node_add_map(frontier, NULL);
        hone_node_add_int(point, "trial", f[i].trial);
        hone_node_t *p = hone_node_add_map(point, "params");
        hone_node_add_float(p, "x1", f[i].x1);
        hone_node_add_float(p, "x2", f[i].x2);
        hone_node_t *values = hone_node_add_array(point, "values");
        hone_node_add_float(values, NULL, f[i].a);
        hone_node_add_float(values, NULL, f[i].b);
        hone_node_t *sems = hone_node_add_array(point, "sems");
        if (isnan(f[i].sem_a))
            hone_node_add_nil(sems, NULL);
        else
            hone_node_add_float(sems, NULL, f[i].sem_a);
        hone_node_add_nil(sems, NULL);
        hone_node_add_float(point, "contribution", f[i].contribution);
    }
    s_expect_golden(msg, "ok_pareto");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_ATTACH_BASELINE, 12);
    hone_msg_set_str(msg, "experiment", "tradeoff");
    hone_node_t *baseline = hone_node_add_map(hone_msg_body(msg), "params");
    hone_node_add_float(baseline, "x1", 0.5);
    hone_node_add_float(baseline, "x2", 0.25);
    s_expect_golden(msg, "attach_baseline");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_OK, 12);
    hone_msg_set_int(msg, "trial", 4);
    s_expect_golden(msg, "ok_attach_baseline");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_HEARTBEAT, UINT64_MAX);
    s_expect_golden(msg, "edge_seq_max");
    hone_msg_destroy(&msg);

    msg = s_new(HONE_MSG_HEARTBEAT, 23);
    hone_node_t *ints = hone_node_add_array(hone_msg_body(msg), "ints");
    static const int64_t forms[] = { 0, 1, 127, 128, 255, 256, 65535, 65536, 4294967295LL, 4294967296LL,
                                     9007199254740991LL, 9007199254740992LL, INT64_MAX, -1, -32, -33, -128, -129,
                                     -32768, -32769, -2147483648LL, -2147483649LL, -9007199254740992LL, INT64_MIN };
    for (size_t i = 0; i < HONE_ARRAY_LEN(forms); i++)
        hone_node_add_int(ints, NULL, forms[i]);
    s_expect_golden(msg, "edge_int_forms");
    hone_msg_destroy(&msg);
}

/* Round trip of every message type, with a body using every node type. */
static void test_round_trip_every_type(void **state)
{
    (void) state;
    for (int id = HONE_MSG_INVALID + 1; id < HONE_MSG_COUNT; id++) {
        hone_msg_t *msg = s_new((hone_msg_id_t) id, (uint64_t) id * 1000003u);
        hone_node_t *body = hone_msg_body(msg);
        hone_msg_set_str(msg, "experiment", "round-trip");
        hone_msg_set_int(msg, "trial", id);
        hone_msg_set_float(msg, "value", -0.125 * id);
        hone_msg_set_bool(msg, "flag", id % 2);
        hone_node_add_nil(body, "nothing");
        hone_node_add_bin(body, "blob", "\x00\x01\x02", 3);
        hone_node_add_strn(body, "with_nul", "a\0b", 3);
        hone_node_t *list = hone_node_add_array(body, "list");
        hone_node_add_map(list, NULL);
        hone_node_add_array(list, NULL);
        hone_node_add_int(list, NULL, INT64_MIN);

        uint8_t *data = NULL;
        size_t size = 0;
        assert_int_equal(hone_msg_encode(msg, &data, &size), HONE_OK);
        hone_msg_t *back = NULL;
        hone_error_t err;
        assert_int_equal(hone_msg_decode(data, size, &back, NULL, &err), HONE_OK);
        assert_int_equal(hone_msg_id(back), id);
        assert_true(hone_msg_seq(back) == (uint64_t) id * 1000003u);
        char *a = hone_msg_to_text(msg), *b = hone_msg_to_text(back);
        assert_string_equal(a, b);
        assert_true(strncmp(a, hone_msg_name((hone_msg_id_t) id), strlen(hone_msg_name((hone_msg_id_t) id))) == 0);
        size_t len;
        const char *s = hone_node_str(hone_msg_get(back, "with_nul"), &len);
        assert_int_equal(len, 3);
        assert_memory_equal(s, "a\0b", 4);
        uint8_t *again = NULL;
        size_t again_size = 0;
        assert_int_equal(hone_msg_encode(back, &again, &again_size), HONE_OK);
        assert_int_equal(again_size, size);
        assert_memory_equal(again, data, size);
        hone_free(again);
        hone_free(data);
        hone_strfree(a);
        hone_strfree(b);
        hone_msg_destroy(&back);
        hone_msg_destroy(&msg);
    }
    /* names */
    assert_string_equal(hone_msg_name(HONE_MSG_NO_WORK), "no_work");
    assert_null(hone_msg_name(HONE_MSG_INVALID));
    assert_null(hone_msg_name(HONE_MSG_COUNT));
    assert_int_equal(hone_msg_id_from_name("heartbeat", 9), HONE_MSG_HEARTBEAT);
    assert_int_equal(hone_msg_id_from_name("heartbeatX", 9), HONE_MSG_HEARTBEAT);
    assert_int_equal(hone_msg_id_from_name("heart", 5), HONE_MSG_INVALID);
    assert_int_equal(hone_msg_id_from_name(NULL, 0), HONE_MSG_INVALID);
}

static void test_getters(void **state)
{
    (void) state;
    hone_msg_t *msg = s_new(HONE_MSG_PROGRESS, 3);
    hone_msg_set_str(msg, "experiment", "x");
    hone_msg_set_int(msg, "trial", 4);
    hone_msg_set_float(msg, "value", 2.5);
    hone_msg_set_bool(msg, "done", true);
    hone_node_add_nil(hone_msg_body(msg), "progression");
    hone_error_t err;
    const char *s = NULL;
    int64_t i = 0;
    double f = 0;
    bool b = false;
    assert_int_equal(hone_msg_get_str(msg, "experiment", &s, &err), HONE_OK);
    assert_string_equal(s, "x");
    assert_int_equal(hone_msg_get_int(msg, "trial", &i, &err), HONE_OK);
    assert_int_equal(i, 4);
    assert_int_equal(hone_msg_get_float(msg, "trial", &f, &err), HONE_OK);   /* int accepted */
    assert_true(f == 4.0);
    assert_int_equal(hone_msg_get_float(msg, "value", &f, &err), HONE_OK);
    assert_true(f == 2.5);
    assert_int_equal(hone_msg_get_bool(msg, "done", &b, &err), HONE_OK);
    assert_true(b);

    assert_int_equal(hone_msg_get_int(msg, "count", &i, &err), HONE_ENOTFOUND);
    assert_int_equal(err.code, HONE_ENOTFOUND);
    assert_string_equal(err.message, "missing field 'count'");
    /* nil counts as absent */
    assert_int_equal(hone_msg_get_int(msg, "progression", &i, &err), HONE_ENOTFOUND);
    assert_string_equal(err.message, "missing field 'progression'");
    assert_null(hone_msg_get(msg, "progression"));
    assert_non_null(hone_node_get(hone_msg_body_const(msg), "progression"));

    assert_int_equal(hone_msg_get_int(msg, "experiment", &i, &err), HONE_EPROTO);
    assert_string_equal(err.message, "field 'experiment' must be int, not str");
    assert_int_equal(hone_msg_get_str(msg, "trial", &s, &err), HONE_EPROTO);
    assert_string_equal(err.message, "field 'trial' must be str, not int");
    assert_int_equal(hone_msg_get_float(msg, "experiment", &f, &err), HONE_EPROTO);
    assert_string_equal(err.message, "field 'experiment' must be a number, not str");
    assert_int_equal(hone_msg_get_bool(msg, "value", &b, &err), HONE_EPROTO);
    assert_string_equal(err.message, "field 'value' must be bool, not float");
    assert_int_equal(hone_msg_get_int(msg, "value", &i, &err), HONE_EPROTO);
    assert_int_equal(hone_msg_get_bool(msg, "nope", &b, NULL), HONE_ENOTFOUND);

    /* setters replace in place */
    hone_msg_set_int(msg, "experiment", 9);
    assert_int_equal(hone_node_len(hone_msg_body_const(msg)), 5);
    assert_string_equal(hone_node_key_at(hone_msg_body_const(msg), 0), "experiment");
    assert_int_equal(hone_msg_get_int(msg, "experiment", &i, &err), HONE_OK);
    assert_int_equal(i, 9);
    hone_msg_destroy(&msg);
}

static void test_node_tree(void **state)
{
    (void) state;
    hone_node_t *root = hone_node_new_map();
    assert_non_null(root);
    assert_int_equal(hone_node_type(root), HONE_NODE_MAP);
    assert_int_equal(hone_node_type(NULL), HONE_NODE_NIL);
    assert_string_equal(hone_node_type_name(HONE_NODE_BIN), "bin");
    assert_string_equal(hone_node_type_name((hone_node_type_t) 99), "unknown");

    /* pointers stay valid while siblings are added */
    hone_node_t *first = hone_node_add_array(root, "first");
    hone_node_t *kept[1000];
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        kept[i] = hone_node_add_int(root, key, i);
        hone_node_add_int(first, NULL, i);
    }
    for (int i = 0; i < 1000; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        assert_ptr_equal(hone_node_get(root, key), kept[i]);
        assert_int_equal(hone_node_int(hone_node_at(first, (size_t) i)), i);
    }
    assert_int_equal(hone_node_len(root), 1001);
    assert_int_equal(hone_node_len(first), 1000);
    assert_null(hone_node_at(first, 1000));
    assert_null(hone_node_key_at(first, 0));
    assert_null(hone_node_key_at(root, 1001));
    assert_null(hone_node_at(kept[0], 0));
    assert_null(hone_node_get(first, "k1"));
    assert_null(hone_node_get(root, "absent"));
    assert_int_equal(hone_node_len(kept[0]), 0);

    /* NULL parents propagate (an allocation failure upstream) */
    assert_null(hone_node_add_float(NULL, "x", 1.0));
    assert_null(hone_node_add_map(hone_node_add_array(NULL, "a"), NULL));

    /* deep copy, from another tree */
    hone_node_t *other = hone_node_new_map();
    hone_node_t *metrics = hone_node_add_map(other, "metrics");
    s_metric(metrics, "loss", 0.5, 0.1, true);
    hone_node_add_bin(other, "bin", "\xff", 1);
    hone_node_t *copy = hone_node_add_copy(root, "copy", other);
    assert_non_null(copy);
    assert_null(hone_node_add_copy(root, "none", NULL));
    hone_node_destroy(&other);
    assert_null(other);
    hone_node_destroy(&other);
    const hone_node_t *loss = hone_node_get(hone_node_get(copy, "metrics"), "loss");
    assert_true(hone_node_float(hone_node_at(loss, 0)) == 0.5);
    assert_true(hone_node_float(hone_node_at(loss, 1)) == 0.1);

    /* a standalone tree encodes and decodes (no header) */
    uint8_t *data;
    size_t size;
    assert_int_equal(hone_node_encode(root, &data, &size), HONE_OK);
    hone_node_t *back = NULL;
    hone_error_t err;
    assert_int_equal(hone_node_decode(data, size, &back, &err), HONE_OK);
    assert_int_equal(hone_node_len(back), 1002);
    assert_int_equal(hone_node_int(hone_node_get(back, "k999")), 999);
    uint8_t *again;
    size_t again_size;
    assert_int_equal(hone_node_encode(back, &again, &again_size), HONE_OK);
    assert_int_equal(again_size, size);
    assert_memory_equal(again, data, size);
    free(again);
    free(data);
    hone_node_destroy(&back);
    hone_node_destroy(&root);

    static const uint8_t array[] = { 0x91, 0x01 };
    assert_int_equal(hone_node_decode(array, sizeof array, &back, &err), HONE_EPROTO);
    assert_null(back);
    static const uint8_t bad[] = { 0x81, 0xa1, 'k', 0xc1 };
    assert_int_equal(hone_node_decode(bad, sizeof bad, &back, &err), HONE_EPROTO);
}

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

/* ---- text form and speed ---- */

static char *s_text_of(const char *name)
{
    char rel[128];
    snprintf(rel, sizeof rel, "proto/vectors/%s.msgpack", name);
    size_t size;
    uint8_t *data = s_read_vector(rel, &size);
    hone_msg_t *msg = NULL;
    assert_int_equal(hone_msg_decode(data, size, &msg, NULL, NULL), HONE_OK);
    char *text = hone_msg_to_text(msg);
    assert_non_null(text);
    hone_msg_destroy(&msg);
    free(data);
    return text;
}

static void test_to_text(void **state)
{
    (void) state;
    static const struct { const char *name, *text; } cases[] = {
        { "ready", "ready seq=1 {experiment: \"training\", worker: \"gpu-node-07/3\"}" },
        { "ok_empty", "ok seq=7 {}" },
        { "complete", "complete seq=9 {experiment: \"training\", trial: 12, metrics: {loss: [0.25, nil], "
                      "accuracy: [0.90625, 0.01]}, progression: 1000}" },
        { "edge_float_forms", "heartbeat seq=24 {floats: [0.0, -0.0, 1.0, -2.5, 0.1, 1e-300, 5e-324, "
                              "2.2250738585072014e-308, 1.7976931348623157e+308, 1e+16, 123456789.125, inf, -inf, nan]}" },
        { "edge_seq_max", "heartbeat seq=18446744073709551615 {}" },
        { "edge_params_all_types", "trial seq=21 {experiment: \"édition-été\", trial: 0, params: {lr: 1e-05, "
                                   "momentum: -0.0, width: 0.5, layers: 8, offset: -3, seed: 4294967296, optimizer: \"rmsprop\", "
                                   "tag: \"\", name: \"naïve ✓ 模型\", use_bn: true, frozen: false}, note: \"manual\", "
                                   "x_future: {nil: nil, bin: h'0001feff', empty_bin: h'', list: [1, 2.5, \"three\", [], {}], "
                                   "nested: {a: {b: {c: [true, nil]}}}}}" },
    };
    for (size_t i = 0; i < HONE_ARRAY_LEN(cases); i++) {
        char *text = s_text_of(cases[i].name);
        assert_string_equal(text, cases[i].text);
        free(text);
    }
    char *text = s_text_of("edge_str_forms");
    assert_non_null(strstr(text, "escapes: \"tab\\there \\\"quoted\\\" back\\\\slash\\nnew line \\u0001\""));
    assert_non_null(strstr(text, "bin16: h'000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f...'"));
    print_message("%.200s...\n", text);
    free(text);
    text = s_text_of("ok_list");
    print_message("%s\n", text);
    free(text);

    hone_msg_t *msg = s_new(HONE_MSG_ERROR, 5);
    hone_msg_set_str(msg, "odd key", "x");
    hone_msg_set_str(msg, "", "y");
    text = hone_msg_to_text(msg);
    assert_string_equal(text, "error seq=5 {\"odd key\": \"x\", \"\": \"y\"}");
    free(text);
    hone_msg_destroy(&msg);
}

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
        cmocka_unit_test(test_golden_vectors),
        cmocka_unit_test(test_hostile_vectors),
        cmocka_unit_test(test_decode_details),
        cmocka_unit_test(test_api_builds_the_golden_bytes),
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_node_tree),
        cmocka_unit_test(test_encode_limits),
        cmocka_unit_test(test_mutations_never_crash),
        cmocka_unit_test(test_allocation_failures),
        cmocka_unit_test(test_to_text),
        cmocka_unit_test(test_speed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
