#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdlib.h>

#include "wire.h"

#include "peer.h"   /* after hone's headers: czmq defines a streq macro */

zsock_t *hone_peer_connect(const char *endpoint)
{
    zsock_t *sock = zsock_new(ZMQ_DEALER);
    assert_non_null(sock);
    zsock_set_linger(sock, 0);
    assert_int_equal(zsock_connect(sock, "%s", endpoint), 0);
    return sock;
}

void hone_peer_send_bytes(zsock_t *sock, const void *data, size_t size)
{
    zframe_t *frame = zframe_new(data, size);
    assert_non_null(frame);
    assert_int_equal(zframe_send(&frame, sock, 0), 0);
}

void hone_peer_send(zsock_t *sock, hone_msg_t **msg)
{
    size_t size = 0;
    uint8_t *data = hone_test_encode(*msg, &size);
    hone_peer_send_bytes(sock, data, size);
    free(data);
    hone_msg_destroy(msg);
}

hone_msg_t *hone_peer_recv(zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new(sock, NULL);
    zmsg_t *frames = zpoller_wait(poller, timeout_ms) ? zmsg_recv(sock) : NULL;
    zpoller_destroy(&poller);
    if (!frames)
        return NULL;
    zframe_t *last = zmsg_last(frames);
    hone_msg_t *reply = hone_test_decode(zframe_data(last), zframe_size(last));
    zmsg_destroy(&frames);
    return reply;
}

hone_msg_t *hone_peer_recv_seq(zsock_t *sock, uint64_t seq, int timeout_ms)
{
    int64_t deadline = zclock_mono() + timeout_ms;
    hone_msg_t *reply = NULL;
    while (!reply) {
        int64_t left = deadline - zclock_mono();
        if (left <= 0 || !(reply = hone_peer_recv(sock, (int) left)))
            break;
        if (hone_msg_seq(reply) != seq)
            hone_msg_destroy(&reply);
    }
    return reply;
}

hone_msg_t *hone_peer_call(zsock_t *sock, hone_msg_t *msg, int timeout_ms)
{
    uint64_t seq = hone_msg_seq(msg);
    hone_peer_send(sock, &msg);
    hone_msg_t *reply = hone_peer_recv_seq(sock, seq, timeout_ms);
    assert_non_null(reply);
    return reply;
}
