/* Unit tests for proto/msg against the vectors of proto/vectors: every golden vector
 * decodes to the form in NAME.json and re-encodes to the same bytes, and one of each
 * message type is there; every hostile vector is refused with its manifest code and
 * seq; messages built through the API encode to the Python-encoded golden bytes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "msg.h"
#include "test_support.h"
#include "validate.h"

#include "msg_check.h"

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_golden_vectors),
        cmocka_unit_test(test_hostile_vectors),
        cmocka_unit_test(test_api_builds_the_golden_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
