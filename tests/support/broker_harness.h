/* broker_harness.h: the broker's request handlers in this process, over a store in a
 * temporary directory, with a fake clock: what hone-broker's reactor does with each
 * request, without sockets. With a generator (model fits on its thread), the harness
 * keeps the deferred replies. Include after <cmocka.h>'s prerequisites. */
#ifndef HONE_TEST_BROKER_HARNESS_H
#define HONE_TEST_BROKER_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "generator.h"
#include "handlers.h"
#include "msg.h"
#include "registry.h"
#include "store.h"

#define HONE_HARNESS_REPLIES_MAX 64

typedef struct {
    char *dir;                   /* temporary directory holding the store */
    hone_store_t *store;         /* NULL while closed */
    hone_registry_t *registry;   /* NULL while closed */
    hone_handlers_t *handlers;   /* NULL while closed, or opened without handlers */
    hone_generator_t *generator; /* NULL unless hone_harness_use_generator */
    uint64_t seq;                /* last seq given to a request: hone_test_req(&h->seq, ...) */
    int64_t now;                 /* the fake monotonic clock given to the handlers (1000000 at first) */
    int batches_failed;          /* failed group-commit batches (hone_harness_open_group) */
    hone_msg_t *replies[HONE_HARNESS_REPLIES_MAX]; /* deferred replies, in the order sent */
    char peers[HONE_HARNESS_REPLIES_MAX][16];      /* the peer each was sent to */
    size_t n_replies;            /* deferred replies kept */
} hone_harness_t;

/* Makes the temporary directory; nothing is open. */
hone_harness_t *hone_harness_new(const char *tag);
/* Opens the store (options NULL: the defaults), the registry and the handlers. */
void hone_harness_open(hone_harness_t *self, const hone_store_options_t *options);
/* Opens the store and the registry only. */
void hone_harness_open_registry(hone_harness_t *self, const hone_store_options_t *options);
/* Closes what is open, then opens as hone-broker runs: the registry in group commit,
 * with a batch function that counts failed batches and tells the handlers of them. */
void hone_harness_open_group(hone_harness_t *self, const hone_store_options_t *options);
/* Closes the handlers (finishing the generator's work first), the generator, the
 * registry and the store; forgets the deferred replies. Safe when closed. */
void hone_harness_close(hone_harness_t *self);
/* As a restart over the open store: new registry and handlers, without the generator
 * (which stays open); the deferred replies are forgotten. */
void hone_harness_reload(hone_harness_t *self);
/* Commits the registry's open batch, which must succeed. */
void hone_harness_commit(hone_harness_t *self);
/* Opens a generator and hands the handlers' model fits to it; their deferred replies
 * are kept in replies/peers. */
void hone_harness_use_generator(hone_harness_t *self);
/* Closes and frees everything and removes the directory; safe twice. */
void hone_harness_destroy(hone_harness_t **self_p);

/* cmocka setup: *state is a harness with the handlers open over a store with the
 * default options, and the log silenced (the failures the tests provoke are expected). */
int hone_harness_setup(void **state);
/* cmocka teardown: destroys the harness in *state and gives the log its default sink. */
int hone_harness_teardown(void **state);
/* A test run with a harness of its own (hone_harness_setup), in a CMUnitTest array. */
#define HONE_HARNESS_TEST(test) cmocka_unit_test_setup_teardown(test, hone_harness_setup, hone_harness_teardown)

/* The peer called id (its routing id). */
hone_handlers_peer_t hone_harness_peer(const char *id);
/* Dispatches msg (taken) from peer `from` at the fake time; returns the immediate reply,
 * or NULL when it was deferred. */
hone_msg_t *hone_harness_dispatch(hone_harness_t *self, const char *from, hone_msg_t *msg);
/* The same for a request answered at once: returns its reply. */
hone_msg_t *hone_harness_call(hone_harness_t *self, const char *from, hone_msg_t *msg);
/* Collects the generator's jobs until n deferred replies are kept (a served request may
 * start a job that finishes within the same collect, so more may come), waiting at most
 * timeout_ms for each. */
void hone_harness_collect_until(hone_harness_t *self, size_t n, int timeout_ms);
/* Collects until the generator has no job left, waiting at most timeout_ms for each. */
void hone_harness_collect_all(hone_harness_t *self, int timeout_ms);
/* Destroys the deferred replies kept. */
void hone_harness_forget_replies(hone_harness_t *self);

#endif
