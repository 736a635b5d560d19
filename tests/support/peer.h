/* peer.h: a DEALER (czmq) speaking the protocol to a broker, the real process or the
 * reactor on a thread of the test: connect, send requests or raw bytes, receive replies
 * within a timeout. For the broker tests. Include after <cmocka.h>'s prerequisites and
 * after hone's headers (czmq defines a streq macro). */
#ifndef HONE_TEST_PEER_H
#define HONE_TEST_PEER_H

#include "msg.h"

#include <czmq.h>

/* A DEALER with linger 0 connected to endpoint. */
zsock_t *hone_peer_connect(const char *endpoint);
/* Sends one frame holding size bytes of data. */
void hone_peer_send_bytes(zsock_t *sock, const void *data, size_t size);
/* Sends msg, encoded, and destroys it. */
void hone_peer_send(zsock_t *sock, hone_msg_t **msg);
/* The next reply (its last frame, decoded), or NULL when none comes within timeout_ms. */
hone_msg_t *hone_peer_recv(zsock_t *sock, int timeout_ms);
/* The next reply with that seq, dropping others, or NULL after timeout_ms. */
hone_msg_t *hone_peer_recv_seq(zsock_t *sock, uint64_t seq, int timeout_ms);
/* Sends msg (taken) and returns its reply, which must come within timeout_ms. */
hone_msg_t *hone_peer_call(zsock_t *sock, hone_msg_t *msg, int timeout_ms);

#endif
