/* broker.h: the hone broker: one czmq reactor, one ROUTER socket, the experiment
 * registry and its LMDB store.
 *
 * Peers are DEALER sockets (workers and clients); each request is one frame holding a
 * protocol message (proto/msg.h) and gets exactly one reply frame. Malformed input is
 * answered with an `error` message and logged; it never stops the broker. Replies that
 * acknowledge a change are sent only after the change is committed to the store.
 *
 * Durability (PROTOCOL.md section 8): with group commit (the default) the changes made
 * while the reactor serves what its socket holds go into one LMDB write transaction,
 * committed synchronously when the socket is drained (on a real disk after waiting up to
 * 1 ms for the peers the last commit answered), or after 256 messages, or once the batch
 * has been open as long as a commit takes, or at 1024 changes, or by a 2 ms safety timer
 * for changes made outside the socket's reader; every reply made meanwhile is held and
 * sent only once that commit has returned. If
 * the commit fails (e.g. the store is full at its map-size cap), the experiments are
 * reloaded from the store and each held acknowledgement is replaced by a HONE_ESTORE
 * error. HONE_BROKER_COMMIT_EACH commits every change on its own before its reply (one
 * fdatasync per message: the comparison point of bench/load.sh).
 *
 * Socket settings: ZMQ_MAXMSGSIZE = HONE_PROTO_MAX_BYTES (a larger frame makes libzmq
 * drop the connection before any parsing), ZMQ_ROUTER_MANDATORY with non-blocking
 * sends (a reply to a vanished or saturated peer is logged and dropped), and a linger
 * so that replies already queued at shutdown are still delivered.
 *
 * Threads: everything runs on the thread that calls hone_broker_run, except model fits:
 * generation for every method but random_search runs on the broker's generator thread
 * (generator.h) while the requests of that one experiment wait (handlers.h). A stop
 * lets a generation in progress finish, be stored and be answered first. */
#ifndef HONE_BROKER_H
#define HONE_BROKER_H

#include "err.h"

#define HONE_BROKER_DATA_DEFAULT "./hone-data"
#define HONE_BROKER_BIND_DEFAULT "tcp://127.0.0.1:5555"
#define HONE_BROKER_LINGER_MS 1000

typedef struct _hone_broker_t hone_broker_t;

/* When the store commits (see above). */
typedef enum {
    HONE_BROKER_COMMIT_GROUP = 0,   /* one commit for the changes of a reactor turn (default) */
    HONE_BROKER_COMMIT_EACH = 1,    /* one commit per change ("per-message") */
} hone_broker_commit_t;

/* Zero-initialised options give every default. */
typedef struct hone_broker_options {
    const char *data_dir;       /* store directory; NULL: HONE_BROKER_DATA_DEFAULT */
    const char *endpoint;       /* ZeroMQ endpoint to bind; NULL: HONE_BROKER_BIND_DEFAULT */
    const char *keys_dir;       /* CURVE key directory (auth.h); NULL: no authentication */
    int stop_fd;                /* a descriptor (> 0) whose readability stops
                                   hone_broker_run, e.g. a signalfd for SIGINT/SIGTERM;
                                   0 or negative: none */
    uint64_t map_size;          /* initial LMDB map size; 0: the store's default */
    uint64_t map_size_max;      /* its growth cap; 0: the store's default (store.h) */
    int linger_ms;              /* socket linger at close; 0: HONE_BROKER_LINGER_MS */
    hone_broker_commit_t commit; /* group commit (0, the default) or one per change */
} hone_broker_options_t;

/* Opens the store, loads every experiment, starts the authenticator when
 * options->keys_dir is set (auth.h: the socket becomes a CURVE server that lets in only
 * the keys of the allow-list, and a key's role limits what it may send) and binds the
 * socket. Errors: HONE_ESTORE (cannot open or load the store), HONE_EINVAL (a bad key
 * directory; err->message names the file), HONE_EIO (cannot start the authenticator,
 * or cannot create or bind the socket; err->message is e.g. "cannot bind
 * tcp://127.0.0.1:5555: Address already in use"). On error *out is NULL and nothing is
 * left open. */
int hone_broker_open(hone_broker_t **out, const hone_broker_options_t *options, hone_error_t *err);

/* The endpoint actually bound (a wildcard port resolved); borrowed, valid for the
 * broker's life. */
const char *hone_broker_endpoint(const hone_broker_t *self);

/* Logs the ready line ("listening on ENDPOINT (data DIR, N experiment(s)) ..."), which
 * says whether keys are used and, without keys, that a loopback endpoint admits this host
 * only; warns when a network endpoint has no authentication. Then serves requests until
 * options.stop_fd becomes readable (or czmq's own interrupt flag is raised when the
 * program kept czmq's signal handler). Returns HONE_OK on a requested stop, HONE_EIO
 * when the reactor failed. */
int hone_broker_run(hone_broker_t *self, hone_error_t *err);

/* Closes the socket (lingering), the registry and the store. Safe on NULL. */
void hone_broker_destroy(hone_broker_t **self_p);

#endif
