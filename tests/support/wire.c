#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "wire.h"

#include <stdlib.h>
#include <string.h>

#include "err.h"

hone_msg_t *hone_test_req(uint64_t *seq, hone_msg_id_t id, const char *experiment)
{
    hone_msg_t *msg = hone_msg_new(id);
    assert_non_null(msg);
    hone_msg_set_seq(msg, ++*seq);
    if (experiment)
        assert_int_equal(hone_msg_set_str(msg, "experiment", experiment), HONE_OK);
    return msg;
}

uint8_t *hone_test_encode(const hone_msg_t *msg, size_t *size)
{
    uint8_t *data = NULL;
    assert_int_equal(hone_msg_encode(msg, &data, size), HONE_OK);
    return data;
}

hone_msg_t *hone_test_decode(const void *data, size_t size)
{
    hone_msg_t *msg = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    if (hone_msg_decode(data, size, &msg, NULL, &err) != HONE_OK)
        fail_msg("a frame that does not decode: %s", err.message);
    return msg;
}

hone_msg_t *hone_test_expect(hone_msg_t *reply, hone_msg_id_t id)
{
    assert_non_null(reply);
    if (hone_msg_id(reply) != id) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected %s, got: %s", hone_msg_name(id), text);
    }
    return reply;
}

void hone_test_expect_destroy(hone_msg_t *reply, hone_msg_id_t id)
{
    hone_test_expect(reply, id);
    hone_msg_destroy(&reply);
}

void hone_test_expect_error(hone_msg_t *reply, int code, const char *part)
{
    assert_non_null(reply);
    int64_t got = 0;
    if (hone_msg_id(reply) != HONE_MSG_ERROR || hone_msg_get_int(reply, "code", &got, NULL) != HONE_OK
        || got != code) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected error %s, got: %s", hone_err_name(code), text);
    }
    assert_string_equal(hone_test_str(reply, "name"), hone_err_name(code));
    const char *message = hone_test_str(reply, "message");
    assert_true(strlen(message) > 0);
    if (part && !strstr(message, part))
        fail_msg("'%s' does not contain '%s'", message, part);
    hone_msg_destroy(&reply);
}

int64_t hone_test_int(const hone_msg_t *msg, const char *key)
{
    int64_t v = 0;
    if (hone_msg_get_int(msg, key, &v, NULL) != HONE_OK) {
        char *text = hone_msg_to_text(msg);
        fail_msg("no int '%s' in %s", key, text);
    }
    return v;
}

const char *hone_test_str(const hone_msg_t *msg, const char *key)
{
    const char *v = NULL;
    if (hone_msg_get_str(msg, key, &v, NULL) != HONE_OK) {
        char *text = hone_msg_to_text(msg);
        fail_msg("no string '%s' in %s", key, text);
    }
    return v;
}

const char *hone_test_node_str(const hone_node_t *obj, const char *key)
{
    const hone_node_t *n = hone_node_get(obj, key);
    if (!n || hone_node_type(n) != HONE_NODE_STR)
        fail_msg("no string '%s'", key);
    return hone_node_str(n, NULL);
}

const hone_node_t *hone_test_trial_node(const hone_msg_t *list, uint32_t index)
{
    const hone_node_t *trials = hone_msg_get(list, "trials");
    assert_true(trials && index < hone_node_len(trials));
    return hone_node_at(trials, index);
}

char *hone_test_reply_text(hone_msg_t **reply)
{
    hone_msg_set_seq(*reply, 0);
    char *text = hone_msg_to_text(*reply);
    assert_non_null(text);
    hone_msg_destroy(reply);
    return text;
}
