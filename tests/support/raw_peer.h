/* raw_peer.h: the fixture of the integration tests that reach past the SDK: a
 * hone-broker process, and DEALERs (libzmq) speaking the protocol to it for the
 * requests and fields the SDK does not expose. Include after <cmocka.h>'s
 * prerequisites, and before hone.h (which repeats what msg.h declares otherwise). */
#ifndef HONE_TEST_RAW_PEER_H
#define HONE_TEST_RAW_PEER_H

#include <stdint.h>

#include "msg.h"
#include "proc.h"

typedef struct {
    hone_test_broker_t *broker; /* the hone-broker process, on loopback TCP */
    void *zctx;                 /* the ZeroMQ context of the raw DEALERs */
    uint64_t seq;               /* last seq given to a raw request: hone_test_req(&f->seq, ...) */
} hone_raw_fixture_t;

/* cmocka setup: *state is a fixture whose broker runs; -1 when it did not start. */
int hone_raw_setup(void **state);
/* cmocka teardown: stops the broker (SIGTERM), prints its log when HONE_TEST_SHOW_LOG
 * is set, removes its directory, frees the fixture. */
int hone_raw_teardown(void **state);
/* A test run with a fixture of its own (hone_raw_setup), in a CMUnitTest array. */
#define HONE_RAW_TEST(test) cmocka_unit_test_setup_teardown(test, hone_raw_setup, hone_raw_teardown)

/* A DEALER with linger 0 connected to the broker (close it with zmq_close). */
void *hone_raw_connect(hone_raw_fixture_t *f);
/* Sends msg, encoded, and destroys it. */
void hone_raw_send(void *sock, hone_msg_t **msg);
/* The next reply, decoded; it must come within timeout_ms. */
hone_msg_t *hone_raw_recv(void *sock, int timeout_ms);
/* Sends msg (taken) on a fresh DEALER and returns the reply, which must come within
 * timeout_ms. */
hone_msg_t *hone_raw_call(hone_raw_fixture_t *f, hone_msg_t *msg, int timeout_ms);

#endif
