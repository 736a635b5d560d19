/* wire.h: protocol messages in tests, through the proto codec: building requests,
 * encoding and decoding frames, and checking replies (each check fails the test with
 * the reply as text). For the broker and integration tests. Include after <cmocka.h>'s
 * prerequisites. */
#ifndef HONE_TEST_WIRE_H
#define HONE_TEST_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/* A request of type id with the next seq (++*seq) and, when experiment is not NULL, its
 * `experiment` field. */
hone_msg_t *hone_test_req(uint64_t *seq, hone_msg_id_t id, const char *experiment);
/* The encoded frame of msg (malloc'd, *size bytes). */
uint8_t *hone_test_encode(const hone_msg_t *msg, size_t *size);
/* The message a frame holds; the frame must decode. */
hone_msg_t *hone_test_decode(const void *data, size_t size);

/* Asserts reply is a message of type id; returns it. */
hone_msg_t *hone_test_expect(hone_msg_t *reply, hone_msg_id_t id);
/* Asserts reply is a message of type id; destroys it. */
void hone_test_expect_destroy(hone_msg_t *reply, hone_msg_id_t id);
/* Asserts reply is an `error` with code (and its name), whose message is not empty and
 * contains part (NULL: anything); destroys it. */
void hone_test_expect_error(hone_msg_t *reply, int code, const char *part);
/* The int field key of msg, which must be there. */
int64_t hone_test_int(const hone_msg_t *msg, const char *key);
/* The string field key of msg, which must be there (borrowed from msg). */
const char *hone_test_str(const hone_msg_t *msg, const char *key);
/* The string key of a map node, which must be there (borrowed from the node). */
const char *hone_test_node_str(const hone_node_t *obj, const char *key);
/* Entry index of the `trials` of a `list` reply, which must be there. */
const hone_node_t *hone_test_trial_node(const hone_msg_t *list, uint32_t index);
/* The reply as text with seq 0, for before/after comparisons (malloc'd); destroys it. */
char *hone_test_reply_text(hone_msg_t **reply);

#endif
