/* Unit tests for proto/msg's API: a round trip of every message type with a body of
 * every node type, and the names of the types; the typed getters (their values and
 * their error codes and messages) and setters replacing in place; the node tree
 * (stable pointers, NULL parents, deep copies, standalone encoding); the text form. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "msg.h"
#include "test_support.h"
#include "validate.h"

#include "msg_check.h"

/* ---- messages built through the API ---- */

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

/* ---- text form ---- */

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip_every_type),
        cmocka_unit_test(test_getters),
        cmocka_unit_test(test_node_tree),
        cmocka_unit_test(test_to_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
