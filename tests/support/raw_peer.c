#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "raw_peer.h"

#include <stdlib.h>
#include <zmq.h>

#include "wire.h"

int hone_raw_setup(void **state)
{
    hone_raw_fixture_t *f = calloc(1, sizeof *f);
    if (!f || hone_test_broker_open(&f->broker, "raw", HONE_TEST_TCP) != 0)
        return -1;
    f->zctx = zmq_ctx_new();
    f->seq = 1000;
    *state = f;
    return 0;
}

int hone_raw_teardown(void **state)
{
    hone_raw_fixture_t *f = *state;
    zmq_ctx_term(f->zctx);
    void *broker = f->broker;
    hone_test_broker_teardown(&broker);
    free(f);
    return 0;
}

void *hone_raw_connect(hone_raw_fixture_t *f)
{
    void *sock = zmq_socket(f->zctx, ZMQ_DEALER);
    assert_non_null(sock);
    int linger = 0;
    zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger);
    assert_int_equal(zmq_connect(sock, f->broker->endpoint), 0);
    return sock;
}

void hone_raw_send(void *sock, hone_msg_t **msg)
{
    size_t size = 0;
    uint8_t *data = hone_test_encode(*msg, &size);
    hone_msg_destroy(msg);
    assert_true(zmq_send(sock, data, size, 0) == (int) size);
    free(data);
}

hone_msg_t *hone_raw_recv(void *sock, int timeout_ms)
{
    zmq_pollitem_t item = { .socket = sock, .events = ZMQ_POLLIN };
    assert_int_equal(zmq_poll(&item, 1, timeout_ms), 1);
    zmq_msg_t frame;
    zmq_msg_init(&frame);
    assert_true(zmq_msg_recv(&frame, sock, 0) >= 0);
    hone_msg_t *reply = hone_test_decode(zmq_msg_data(&frame), zmq_msg_size(&frame));
    zmq_msg_close(&frame);
    return reply;
}

hone_msg_t *hone_raw_call(hone_raw_fixture_t *f, hone_msg_t *msg, int timeout_ms)
{
    void *sock = hone_raw_connect(f);
    hone_raw_send(sock, &msg);
    hone_msg_t *reply = hone_raw_recv(sock, timeout_ms);
    zmq_close(sock);
    return reply;
}
