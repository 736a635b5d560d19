#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "broker_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "test_support.h"

hone_harness_t *hone_harness_new(const char *tag)
{
    hone_harness_t *self = calloc(1, sizeof *self);
    assert_non_null(self);
    self->dir = hone_test_tmpdir(tag);
    self->now = 1000000;
    return self;
}

void hone_harness_open_registry(hone_harness_t *self, const hone_store_options_t *options)
{
    hone_error_t err;
    assert_int_equal(hone_store_open(&self->store, self->dir, options, &err), HONE_OK);
    assert_int_equal(hone_registry_open(&self->registry, self->store, &err), HONE_OK);
}

void hone_harness_open(hone_harness_t *self, const hone_store_options_t *options)
{
    hone_harness_open_registry(self, options);
    self->handlers = hone_handlers_new(self->registry);
}

/* The registry's batch function: tells the handlers of a failed batch, as hone-broker's
 * does. */
static void s_on_batch(void *arg, hone_registry_batch_event_t event, uint64_t batch, const hone_error_t *err)
{
    hone_harness_t *self = arg;
    (void) batch;
    (void) err;
    if (event == HONE_REGISTRY_BATCH_FAILED) {
        self->batches_failed++;
        hone_handlers_batch_failed(self->handlers);
    }
}

void hone_harness_open_group(hone_harness_t *self, const hone_store_options_t *options)
{
    hone_harness_close(self);
    hone_harness_open_registry(self, options);
    hone_registry_on_batch(self->registry, s_on_batch, self);
    hone_registry_set_group_commit(self->registry, true);
    self->handlers = hone_handlers_new(self->registry);
}

void hone_harness_forget_replies(hone_harness_t *self)
{
    for (size_t i = 0; i < self->n_replies; i++)
        hone_msg_destroy(&self->replies[i]);
    self->n_replies = 0;
}

void hone_harness_close(hone_harness_t *self)
{
    if (self->generator && self->handlers)
        hone_handlers_finish(self->handlers);
    hone_handlers_destroy(&self->handlers);
    hone_generator_destroy(&self->generator);
    hone_harness_forget_replies(self);
    hone_registry_destroy(&self->registry);
    hone_store_destroy(&self->store);
}

void hone_harness_reload(hone_harness_t *self)
{
    hone_harness_forget_replies(self);
    hone_handlers_destroy(&self->handlers);
    hone_registry_destroy(&self->registry);
    hone_error_t err;
    assert_int_equal(hone_registry_open(&self->registry, self->store, &err), HONE_OK);
    self->handlers = hone_handlers_new(self->registry);
}

void hone_harness_commit(hone_harness_t *self)
{
    hone_error_t err;
    assert_int_equal(hone_registry_commit(self->registry, &err), HONE_OK);
}

static void s_keep_reply(void *arg, const hone_handlers_peer_t *peer, hone_msg_t **reply)
{
    hone_harness_t *self = arg;
    assert_true(self->n_replies < HONE_HARNESS_REPLIES_MAX);
    snprintf(self->peers[self->n_replies], sizeof self->peers[0], "%.*s", (int) peer->id_len,
             (const char *) peer->identity);
    self->replies[self->n_replies++] = *reply;
    *reply = NULL;
}

void hone_harness_use_generator(hone_harness_t *self)
{
    hone_error_t err;
    assert_int_equal(hone_generator_open(&self->generator, &err), HONE_OK);
    hone_handlers_use_generator(self->handlers, self->generator, s_keep_reply, self);
}

void hone_harness_destroy(hone_harness_t **self_p)
{
    hone_harness_t *self = *self_p;
    if (!self)
        return;
    hone_harness_close(self);
    hone_test_rmtree(self->dir);
    free(self->dir);
    free(self);
    *self_p = NULL;
}

int hone_harness_setup(void **state)
{
    hone_log_set_sink(hone_log_sink_null, NULL);
    hone_harness_t *self = hone_harness_new("harness");
    hone_harness_open(self, NULL);
    *state = self;
    return 0;
}

int hone_harness_teardown(void **state)
{
    hone_harness_t *self = *state;
    hone_harness_destroy(&self);
    *state = NULL;
    hone_log_set_sink(NULL, NULL);
    return 0;
}

hone_handlers_peer_t hone_harness_peer(const char *id)
{
    hone_handlers_peer_t peer = { .id_len = strlen(id) };
    memcpy(peer.identity, id, peer.id_len);
    return peer;
}

hone_msg_t *hone_harness_dispatch(hone_harness_t *self, const char *from, hone_msg_t *msg)
{
    hone_handlers_peer_t peer = hone_harness_peer(from);
    hone_msg_t *reply = hone_handlers_dispatch(self->handlers, &peer, &msg, self->now);
    assert_null(msg);
    return reply;
}

hone_msg_t *hone_harness_call(hone_harness_t *self, const char *from, hone_msg_t *msg)
{
    hone_msg_t *reply = hone_harness_dispatch(self, from, msg);
    assert_non_null(reply);
    return reply;
}

void hone_harness_collect_until(hone_harness_t *self, size_t n, int timeout_ms)
{
    while (self->n_replies < n) {
        assert_true(hone_generator_wait(self->generator, timeout_ms));
        hone_handlers_collect(self->handlers, self->now);
    }
}

void hone_harness_collect_all(hone_harness_t *self, int timeout_ms)
{
    while (hone_generator_outstanding(self->generator) > 0) {
        assert_true(hone_generator_wait(self->generator, timeout_ms));
        hone_handlers_collect(self->handlers, self->now);
    }
}
