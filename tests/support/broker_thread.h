/* broker_thread.h: hone-broker's reactor (hone_broker_run) on a thread of the test, at
 * an inproc endpoint, with a DEALER peer. Requests the peer sends before the thread
 * starts are queued, so they reach an idle broker together. Include after
 * <cmocka.h>'s prerequisites and after hone's headers (czmq defines a streq macro). */
#ifndef HONE_TEST_BROKER_THREAD_H
#define HONE_TEST_BROKER_THREAD_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker.h"
#include "msg.h"

#include <czmq.h>

typedef struct {
    hone_broker_t *broker;      /* the broker, served by thread once started */
    zsock_t *peer;              /* a DEALER connected to it */
    int stop[2];                /* a pipe: writing to stop[1] ends hone_broker_run */
    pthread_t thread;           /* runs hone_broker_run */
    bool started;               /* thread is running */
} hone_broker_thread_t;

/* Opens a broker on data_dir with the given map sizes at inproc://hone-test-TAG-PID and
 * connects the peer; the reactor does not run yet. */
hone_broker_thread_t *hone_broker_thread_open(const char *tag, const char *data_dir, uint64_t map_size,
                                              uint64_t map_size_max);
/* Runs the reactor on its thread. */
void hone_broker_thread_start(hone_broker_thread_t *self);
/* Receives n replies on the peer, each within timeout_ms, into replies[seq - first_seq]:
 * each seq of [first_seq, first_seq + n) exactly once. */
void hone_broker_thread_replies(hone_broker_thread_t *self, hone_msg_t **replies, size_t n, uint64_t first_seq,
                                int timeout_ms);
/* Stops the reactor, joins its thread, closes the peer and the broker; safe twice. */
void hone_broker_thread_destroy(hone_broker_thread_t **self_p);

#endif
