#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "err.h"

#include "broker_thread.h"  /* after hone's headers: czmq defines a streq macro */
#include "peer.h"

hone_broker_thread_t *hone_broker_thread_open(const char *tag, const char *data_dir, uint64_t map_size,
                                              uint64_t map_size_max)
{
    hone_broker_thread_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    assert_int_equal(pipe(self->stop), 0);
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://hone-test-%s-%d", tag, (int) getpid());
    hone_broker_options_t options = {
        .data_dir = data_dir, .endpoint = endpoint, .stop_fd = self->stop[0],
        .map_size = map_size, .map_size_max = map_size_max,
    };
    hone_error_t err;
    assert_int_equal(hone_broker_open(&self->broker, &options, &err), HONE_OK);
    self->peer = hone_peer_connect(endpoint);
    return self;
}

static void *s_run(void *arg)
{
    hone_error_t err;
    hone_error_clear(&err);
    hone_broker_run(arg, &err);
    return NULL;
}

void hone_broker_thread_start(hone_broker_thread_t *self)
{
    assert_int_equal(pthread_create(&self->thread, NULL, s_run, self->broker), 0);
    self->started = true;
}

void hone_broker_thread_replies(hone_broker_thread_t *self, hone_msg_t **replies, size_t n, uint64_t first_seq,
                                int timeout_ms)
{
    for (size_t got = 0; got < n; got++) {
        hone_msg_t *reply = hone_peer_recv(self->peer, timeout_ms);
        assert_non_null(reply);
        uint64_t seq = hone_msg_seq(reply);
        assert_true(seq >= first_seq && seq < first_seq + n && !replies[seq - first_seq]);
        replies[seq - first_seq] = reply;
    }
}

void hone_broker_thread_destroy(hone_broker_thread_t **self_p)
{
    hone_broker_thread_t *self = *self_p;
    if (!self)
        return;
    if (self->started) {
        assert_int_equal(write(self->stop[1], "x", 1), 1);
        pthread_join(self->thread, NULL);
    }
    zsock_destroy(&self->peer);
    hone_broker_destroy(&self->broker);
    close(self->stop[0]);
    close(self->stop[1]);
    free(self);
    *self_p = NULL;
}
