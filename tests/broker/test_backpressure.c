#define _GNU_SOURCE
/* Back-pressure against a real hone-broker process (issue 4, promise 7): a peer that
 * sends requests and never reads its replies fills its pipe; the broker must keep
 * answering everyone else promptly (its sends never block: ZMQ_DONTWAIT on a ROUTER
 * with mandatory routing, replies to a full pipe dropped with a log line), and still
 * shut down cleanly on SIGTERM with that peer connected. Every wait is bounded; loopback
 * only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

#include "err.h"
#include "proc.h"
#include "test_support.h"
#include "wire.h"

#include "peer.h"   /* after the hone headers: czmq defines a streq macro */

#define S_REPLY_TIMEOUT_MS 5000

typedef struct {
    hone_test_broker_t *broker; /* the hone-broker process, on loopback TCP */
    uint64_t seq;               /* last seq used */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    assert_int_equal(hone_test_broker_open(&f->broker, "backpressure", HONE_TEST_TCP), 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    hone_test_broker_stop(f->broker, SIGKILL);
    hone_test_broker_destroy(&f->broker);
    free(f);
    return 0;
}

/* A request of type id with the next seq, encoded; *seq receives the seq. */
static zframe_t *s_encode(fixture_t *f, hone_msg_t *msg, uint64_t *seq)
{
    *seq = ++f->seq;
    hone_msg_set_seq(msg, *seq);
    size_t size = 0;
    uint8_t *data = hone_test_encode(msg, &size);
    zframe_t *frame = zframe_new(data, size);
    free(data);
    hone_msg_destroy(&msg);
    return frame;
}

/* Sends msg (taken) on sock and waits for an `ok` with its seq. */
static void s_call_ok(fixture_t *f, zsock_t *sock, hone_msg_t *msg)
{
    uint64_t seq;
    zframe_t *frame = s_encode(f, msg, &seq);
    assert_int_equal(zframe_send(&frame, sock, 0), 0);
    hone_msg_t *reply = hone_test_expect(hone_peer_recv(sock, S_REPLY_TIMEOUT_MS), HONE_MSG_OK);
    assert_int_equal(hone_msg_seq(reply), seq);
    hone_msg_destroy(&reply);
}

/* The seq of the next reply on sock (a heartbeat), or 0 after timeout_ms. */
static uint64_t s_reply_seq(zsock_t *sock, int timeout_ms)
{
    hone_msg_t *reply = hone_peer_recv(sock, timeout_ms);
    if (!reply)
        return 0;
    hone_test_expect(reply, HONE_MSG_HEARTBEAT);
    uint64_t seq = hone_msg_seq(reply);
    hone_msg_destroy(&reply);
    return seq;
}

/* The broker's log says it dropped replies to a peer that does not read. */
static bool s_dropped_replies(void *log_path)
{
    return hone_test_file_count(log_path, "peer is not reading (high-water mark)") > 0;
}

static void test_a_peer_that_never_reads_stalls_no_one(void **state)
{
    fixture_t *f = *state;
    /* The stalled peer: tiny receive queue, and it never reads. */
    zsock_t *stalled = zsock_new(ZMQ_DEALER);
    zsock_set_rcvhwm(stalled, 1);
    zsock_set_sndhwm(stalled, 0);
    zsock_set_linger(stalled, 0);
    assert_int_equal(zsock_connect(stalled, "%s", f->broker->endpoint), 0);
    zsock_t *normal = hone_peer_connect(f->broker->endpoint);

    /* An experiment with 200 trials, whose `list` reply is about 20 KB. */
    hone_msg_t *msg = hone_msg_new(HONE_MSG_CREATE);
    assert_int_equal(hone_msg_set_str(msg, "config",
        "{\"name\": \"big\", \"parameters\": ["
        "{\"name\": \"x1\", \"bounds\": [-5.0, 10.0], \"parameter_type\": \"float\"},"
        "{\"name\": \"x2\", \"bounds\": [0.0, 15.0], \"parameter_type\": \"float\"}],"
        " \"objective\": \"-y\", \"generation_strategy\": {\"method\": \"random_search\","
        " \"initialization_random_seed\": 7}}"), HONE_OK);
    s_call_ok(f, normal, msg);
    msg = hone_msg_new(HONE_MSG_NEXT);
    assert_int_equal(hone_msg_set_str(msg, "experiment", "big"), HONE_OK);
    assert_int_equal(hone_msg_set_int(msg, "count", 200), HONE_OK);
    s_call_ok(f, normal, msg);

    /* Rounds: a burst of `list`s from the stalled peer (10 × 500 × 20 KB, far more than
     * its pipe and the kernel's socket buffers hold), then a heartbeat from the normal
     * peer, answered promptly every time. */
    enum { ROUNDS = 10, BURST = 500 };
    int64_t worst_us = 0;
    for (int round = 0; round < ROUNDS; round++) {
        for (int i = 0; i < BURST; i++) {
            uint64_t seq;
            hone_msg_t *list = hone_msg_new(HONE_MSG_LIST);
            assert_int_equal(hone_msg_set_str(list, "experiment", "big"), HONE_OK);
            zframe_t *frame = s_encode(f, list, &seq);
            assert_int_equal(zframe_send(&frame, stalled, 0), 0);
        }
        uint64_t seq;
        zframe_t *frame = s_encode(f, hone_msg_new(HONE_MSG_HEARTBEAT), &seq);
        int64_t sent = zclock_usecs();
        assert_int_equal(zframe_send(&frame, normal, 0), 0);
        assert_int_equal(s_reply_seq(normal, S_REPLY_TIMEOUT_MS), seq);
        int64_t us = zclock_usecs() - sent;
        if (us > worst_us)
            worst_us = us;
    }
    /* Wait until the broker has read them all and dropped replies to the stalled peer
     * (its log says so), and check the normal peer is still answered at once. */
    assert_true(hone_test_poll(s_dropped_replies, f->broker->log, 10000, 50));
    uint64_t seq;
    zframe_t *frame = s_encode(f, hone_msg_new(HONE_MSG_HEARTBEAT), &seq);
    assert_int_equal(zframe_send(&frame, normal, 0), 0);
    assert_int_equal(s_reply_seq(normal, S_REPLY_TIMEOUT_MS), seq);
    fprintf(stderr, "%d × %d `list` requests from a peer that never reads; the other peer's "
            "slowest heartbeat reply: %.1f ms\n", ROUNDS, BURST, worst_us / 1000.0);
    assert_int_equal(kill(f->broker->pid, 0), 0);   /* still up */

    /* SIGTERM with the stalled peer still connected: a clean, prompt exit. */
    int status = hone_test_broker_wait(f->broker, SIGTERM, 10000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    zsock_destroy(&stalled);
    zsock_destroy(&normal);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_peer_that_never_reads_stalls_no_one, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
