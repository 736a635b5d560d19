/* broker.c: the reactor: ROUTER socket, framing, decoding, replies. */
#include "broker.h"

#include "alloc.h"
#include "auth.h"
#include "clock.h"
#include "generator.h"
#include "handlers.h"
#include "log.h"
#include "msg.h"
#include "registry.h"
#include "store.h"

#include <czmq.h>
#include <errno.h>
#include <inttypes.h>

/* Messages served per wake-up before the loop looks at its other readers (and, with
 * group commit, before the batch they made is committed). */
#define S_BATCH 256
/* Group commit: the longest a change waits for its commit when no reactor callback ends
 * first (a safety net: every callback of this file commits on its way out). */
#define S_COMMIT_MS 2
/* Group commit: a batch is committed once it holds this many changes. */
#define S_BATCH_MAX 1024
/* Group commit: after the socket drained, how long the reader may wait for the peers
 * that the previous commit answered (see s_on_router). */
#define S_GATHER_MS 1
/* ... and only when a commit takes at least this long on average (a real disk's sync). */
#define S_GATHER_MIN_US 300

/* A reply held until the commit of the batch it belongs to. */
typedef struct {
    hone_handlers_peer_t peer;  /* who to answer */
    uint8_t *data;              /* the encoded reply (owned) */
    size_t size;                /* bytes in data */
    uint64_t seq;               /* its seq, for the error that replaces it */
    uint64_t batch;             /* the registry batch it waits for */
    bool ack;                   /* the request changed something: when the batch fails,
                                   an error replaces it */
} s_held_t;

struct _hone_broker_t {
    hone_store_t *store;        /* LMDB state */
    hone_registry_t *registry;  /* experiments by name */
    hone_handlers_t *handlers;  /* request handlers and leases */
    hone_generator_t *generator; /* the thread that runs model fits */
    zloop_t *loop;              /* the reactor */
    zsock_t *router;            /* the one ROUTER socket */
    hone_auth_t *auth;          /* CURVE keys and the allow-list; NULL without --keys */
    void *raw;                  /* libzmq handle of router */
    char *endpoint;             /* endpoint actually bound */
    char *data_dir;             /* store directory, for logs */
    int stop_fd;                /* readable means stop; <= 0 for none */
    bool stop_requested;        /* set when stop_fd became readable */
    uint64_t served;            /* requests answered */
    uint64_t malformed;         /* requests that did not decode */
    uint64_t dropped;           /* replies that could not be sent */
    hone_broker_commit_t commit; /* one commit per change or group commit */
    s_held_t *held;             /* group commit: replies waiting for their batch (FIFO) */
    size_t held_first;          /* index of the oldest held reply */
    size_t held_len;            /* one past the newest */
    size_t held_cap;            /* slots in held */
    uint64_t changes_seen;      /* hone_registry_changes when the last reply was made */
    bool timer_armed;           /* the S_COMMIT_MS safety timer is pending */
    uint64_t commits;           /* batches committed */
    uint64_t committed;         /* changes in them */
    size_t largest;             /* changes in the largest batch */
    uint64_t failed;            /* batches that could not be stored */
    int64_t commit_us;          /* time spent in those commits (the syncs, mostly) */
    int64_t opened_us;          /* when the open batch got its first change */
    int64_t commit_avg_us;      /* moving average of the commit time */
    size_t turn_msgs;           /* requests read since the last commit */
    size_t last_msgs;           /* requests read before the last commit */
    uint64_t gathers;           /* waits for more requests before a commit */
    int tick_ms;                /* period of the lease tick timer in force */
};

/* A short printable form of a routing id for logs ("0x0080001a2b"). */
static const char *s_peer(const hone_handlers_peer_t *peer, char *buf, size_t size)
{
    const uint8_t *p = peer->identity;
    size_t n = peer->id_len;
    size_t used = (size_t) snprintf(buf, size, "0x");
    for (size_t i = 0; i < n && i < 16 && used + 3 < size; i++)
        used += (size_t) snprintf(buf + used, size - used, "%02x", p[i]);
    if (n > 16 && used + 4 < size)
        snprintf(buf + used, size - used, "...");
    return buf;
}

static void s_free_payload(void *data, void *hint)
{
    (void) hint;
    hone_free(data);
}

/* Encodes a reply and takes it; a reply that cannot be encoded becomes an error. */
static void s_encode(const hone_handlers_peer_t *peer, hone_msg_t **reply, uint8_t **data, size_t *size)
{
    char name[64];
    int rc = hone_msg_encode(*reply, data, size);
    if (rc != HONE_OK) {
        HONE_ASSERT(rc != HONE_ENOMEM);
        hone_log_warn("broker", "reply to %s seq=%" PRIu64 " cannot be encoded: %s",
                      s_peer(peer, name, sizeof name), hone_msg_seq(*reply), hone_strerror(rc));
        uint64_t seq = hone_msg_seq(*reply);
        hone_msg_destroy(reply);
        *reply = hone_handlers_error(seq, rc, rc == HONE_ETOOBIG
                                                  ? "the reply would exceed the message size limit"
                                                  : "the reply cannot be encoded");
        rc = hone_msg_encode(*reply, data, size);
        HONE_ASSERT(rc == HONE_OK);
    }
    hone_msg_destroy(reply);
}

/* Sends an encoded reply to peer and takes data; a reply that cannot be sent is logged
 * and dropped (the peer vanished or is at its high-water mark). */
static void s_send_data(hone_broker_t *self, const hone_handlers_peer_t *peer, uint8_t *data, size_t size)
{
    char name[64];
    const char *failed = NULL;
    if (zmq_send(self->raw, peer->identity, peer->id_len, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        failed = "routing frame";
    else if (peer->delimiter && zmq_send(self->raw, "", 0, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        failed = "delimiter";
    if (failed) {
        hone_free(data);
    } else {
        zmq_msg_t payload;
        HONE_ASSERT(zmq_msg_init_data(&payload, data, size, s_free_payload, NULL) == 0);
        if (zmq_msg_send(&payload, self->raw, ZMQ_DONTWAIT) < 0) {
            failed = "payload";
            zmq_msg_close(&payload);
        }
    }
    if (failed) {
        int e = zmq_errno();
        self->dropped++;
        hone_log_warn("broker", "reply to %s dropped (%s): %s", s_peer(peer, name, sizeof name), failed,
                      e == EHOSTUNREACH ? "peer is gone"
                      : e == EAGAIN     ? "peer is not reading (high-water mark)"
                                        : zmq_strerror(e));
    }
}

/* ---- group commit ----
 *
 * With group commit the registry writes every change into one open LMDB transaction,
 * the batch, and the replies made meanwhile are held here, in order, tagged with their
 * batch. The batch is committed
 *   (a) by the ROUTER reader (s_on_router) once the socket is drained, possibly after a
 *       wait of at most S_GATHER_MS for the peers the last commit answered (s_gather),
 *       or after S_BATCH messages, or once the batch has been open as long as an
 *       average commit takes (s_read), so that a cheap commit (tmpfs) is not delayed
 *       for nothing;
 *   (b) when any other reactor callback of this file ends: a generation coming back,
 *       the lease tick, a stop;
 *   (c) by the S_COMMIT_MS timer, armed when a batch opens, for a change made anywhere
 *       else (a safety net);
 *   (d) when the batch reaches S_BATCH_MAX changes.
 * So a batch holds whatever arrived while the previous commit was syncing: with W
 * workers waiting for their replies, tens of changes share one commit, and a lone
 * request is committed at once, with no timer wait. When the commit returns, the batch
 * function (s_on_batch) sends the held replies; when it fails, the registry has reloaded
 * every changed experiment, each held acknowledgement is replaced by a HONE_ESTORE error
 * (a reply to a request that changed nothing goes out as it is), and the handlers
 * re-sync their leases with the reloaded experiments. Replies are held whenever a batch
 * is open, reads included, so nothing a peer sees can run ahead of the disk. The commit
 * itself runs on the reactor thread (LMDB's write transaction belongs to the thread that
 * began it); overlapping it with serving the next batch would need a writer thread that
 * owns every write transaction (bench/README.md, "Load"). */

static void s_held_push(hone_broker_t *self, const hone_handlers_peer_t *peer, uint8_t *data, size_t size,
                        uint64_t seq, uint64_t batch, bool ack)
{
    if (self->held_first == self->held_len)
        self->held_first = self->held_len = 0;
    if (self->held_len == self->held_cap) {
        size_t live = self->held_len - self->held_first;
        if (self->held_first > 0 && live < self->held_cap / 2) {
            memmove(self->held, self->held + self->held_first, live * sizeof *self->held);
        } else {
            self->held_cap = self->held_cap ? self->held_cap * 2 : 64;
            self->held = hone_realloc_array(self->held, self->held_cap, sizeof *self->held);
            if (self->held_first > 0)
                memmove(self->held, self->held + self->held_first, live * sizeof *self->held);
        }
        self->held_first = 0;
        self->held_len = live;
    }
    s_held_t *h = &self->held[self->held_len++];
    h->peer = *peer;
    h->data = data;
    h->size = size;
    h->seq = seq;
    h->batch = batch;
    h->ack = ack;
}

/* Sends (ok) or refuses the held replies of batches up to batch. */
static void s_release(hone_broker_t *self, uint64_t batch, const hone_error_t *err)
{
    while (self->held_first < self->held_len && self->held[self->held_first].batch <= batch) {
        s_held_t *h = &self->held[self->held_first++];
        if (!err || !h->ack) {
            s_send_data(self, &h->peer, h->data, h->size);
            continue;
        }
        hone_free(h->data);
        char message[HONE_ERROR_MESSAGE_MAX + 64];
        snprintf(message, sizeof message, "not stored, nothing was changed: %s", err->message);
        hone_msg_t *reply = hone_handlers_error(h->seq, HONE_ESTORE, message);
        uint8_t *data = NULL;
        size_t size = 0;
        s_encode(&h->peer, &reply, &data, &size);
        s_send_data(self, &h->peer, data, size);
    }
    if (self->held_first == self->held_len)
        self->held_first = self->held_len = 0;
}

/* Commits the open batch, if any; s_on_batch then releases its replies. */
static void s_commit(hone_broker_t *self)
{
    size_t pending = hone_registry_pending(self->registry);
    if (pending == 0)
        return;
    hone_error_t err;
    hone_error_clear(&err);
    int64_t t0 = hone_clock_mono_us();
    int rc = hone_registry_commit(self->registry, &err);
    int64_t took = hone_clock_mono_us() - t0;
    self->commit_us += took;
    self->commit_avg_us += (took - self->commit_avg_us) / 8;
    self->last_msgs = self->turn_msgs;
    self->turn_msgs = 0;
    if (rc == HONE_OK) {
        self->commits++;
        self->committed += pending;
        if (pending > self->largest)
            self->largest = pending;
    }
}

static int s_on_commit_timer(zloop_t *loop, int timer_id, void *arg)
{
    (void) loop;
    (void) timer_id;
    hone_broker_t *self = arg;
    self->timer_armed = false;
    s_commit(self);
    return 0;
}

/* The registry's batch function. */
static void s_on_batch(void *arg, hone_registry_batch_event_t event, uint64_t batch, const hone_error_t *err)
{
    hone_broker_t *self = arg;
    switch (event) {
    case HONE_REGISTRY_BATCH_OPENED:
        self->opened_us = hone_clock_mono_us();
        if (!self->timer_armed && self->loop
            && zloop_timer(self->loop, S_COMMIT_MS, 1, s_on_commit_timer, self) >= 0)
            self->timer_armed = true;
        break;
    case HONE_REGISTRY_BATCH_COMMITTED:
        s_release(self, batch, NULL);
        break;
    case HONE_REGISTRY_BATCH_FAILED:
        self->failed++;
        s_release(self, batch, err);
        /* the leases armed or dropped in the batch are re-synced before the next request */
        if (self->handlers)
            hone_handlers_batch_failed(self->handlers);
        break;
    }
}

/* Sends a reply now, or holds it until the open batch commits. Takes the reply. */
static void s_send(hone_broker_t *self, const hone_handlers_peer_t *peer, hone_msg_t **reply)
{
    uint64_t changes = hone_registry_changes(self->registry);
    bool ack = changes != self->changes_seen;
    self->changes_seen = changes;
    uint64_t seq = hone_msg_seq(*reply);
    uint8_t *data = NULL;
    size_t size = 0;
    s_encode(peer, reply, &data, &size);
    size_t pending = hone_registry_pending(self->registry);
    if (pending == 0 && self->held_first == self->held_len) {
        s_send_data(self, peer, data, size);
        return;
    }
    s_held_push(self, peer, data, size, seq, hone_registry_batch(self->registry), ack);
    if (pending >= S_BATCH_MAX)
        s_commit(self);
}

/* Reads and discards the rest of a multi-frame message. */
static void s_drain(hone_broker_t *self)
{
    int more = 1;
    size_t len = sizeof more;
    while (zmq_getsockopt(self->raw, ZMQ_RCVMORE, &more, &len) == 0 && more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        int rc = zmq_msg_recv(&part, self->raw, ZMQ_DONTWAIT);
        zmq_msg_close(&part);
        if (rc < 0)
            break;
        len = sizeof more;
    }
}

/* A deferred reply (hone_handlers_reply_fn): a generation came back. */
static void s_on_reply(void *arg, const hone_handlers_peer_t *peer, hone_msg_t **reply)
{
    hone_broker_t *self = arg;
    self->served++;
    s_send(self, peer, reply);
}

/* Serves one message whose routing frame has been read. */
static void s_serve(hone_broker_t *self, const zmq_msg_t *id)
{
    char name[64];
    hone_handlers_peer_t peer = { .id_len = zmq_msg_size((zmq_msg_t *) id) };
    if (peer.id_len > sizeof peer.identity) {
        /* libzmq never makes one; refuse rather than answer a truncated id */
        s_drain(self);
        return;
    }
    memcpy(peer.identity, zmq_msg_data((zmq_msg_t *) id), peer.id_len);
    zmq_msg_t part;
    zmq_msg_init(&part);
    if (zmq_msg_recv(&part, self->raw, ZMQ_DONTWAIT) < 0) {
        zmq_msg_close(&part);
        return;
    }
    /* A REQ peer puts an empty delimiter first; answer it the same way. */
    if (zmq_msg_size(&part) == 0 && zmq_msg_more(&part)) {
        peer.delimiter = true;
        zmq_msg_close(&part);
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, self->raw, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&part);
            return;
        }
    }
    hone_msg_t *reply = NULL;
    if (zmq_msg_more(&part)) {
        s_drain(self);
        self->malformed++;
        hone_log_warn("broker", "request from %s has several frames; a request is one frame",
                      s_peer(&peer, name, sizeof name));
        reply = hone_handlers_error(0, HONE_EPROTO, "a request must be exactly one frame");
    } else {
        hone_msg_t *request = NULL;
        uint64_t seq = 0;
        hone_error_t err;
        hone_error_clear(&err);
        int rc = hone_msg_decode(zmq_msg_data(&part), zmq_msg_size(&part), &request, &seq, &err);
        if (rc != HONE_OK) {
            HONE_ASSERT(rc != HONE_ENOMEM);
            self->malformed++;
            hone_log_warn("broker", "malformed request from %s (%zu bytes): %s %s",
                          s_peer(&peer, name, sizeof name), zmq_msg_size(&part), hone_err_name(rc),
                          err.message);
            hone_msg_destroy(&request);
            reply = hone_handlers_error(seq, rc, err.message);
        } else {
            if (hone_log_level() >= HONE_LOG_DEBUG)
                hone_log_debug("broker", "%s seq=%" PRIu64 " from %s",
                               hone_msg_name(hone_msg_id(request)), hone_msg_seq(request),
                               s_peer(&peer, name, sizeof name));
            /* With keys, the role of the sender's key decides what it may ask. */
            if (self->auth
                && hone_auth_check(self->auth, zmq_msg_gets(&part, "User-Id"),
                                   hone_msg_id(request), &err) != HONE_OK) {
                reply = hone_handlers_error(hone_msg_seq(request), err.code, err.message);
                hone_msg_destroy(&request);
            } else {
                /* NULL: deferred, s_on_reply sends it */
                self->changes_seen = hone_registry_changes(self->registry);
                reply = hone_handlers_dispatch(self->handlers, &peer, &request, hone_clock_mono_ms());
            }
        }
    }
    zmq_msg_close(&part);
    if (reply) {
        self->served++;
        s_send(self, &peer, &reply);
    }
}

enum { S_DRAINED, S_DUE, S_LIMIT };

/* Reads and serves messages until the socket is drained (S_DRAINED), max were read
 * (S_LIMIT) or, with group commit, the open batch has been open for as long as a commit
 * takes (S_DUE): holding the first replies longer than that would cost them more than a
 * commit of their own. Adds the messages read to *n. */
static int s_read(hone_broker_t *self, int max, int *n)
{
    for (;;) {
        if (*n >= max)
            return S_LIMIT;
        if (hone_registry_pending(self->registry) > 0
            && hone_clock_mono_us() - self->opened_us >= self->commit_avg_us)
            return S_DUE;
        zmq_msg_t id;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, self->raw, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&id);
            if (e != EAGAIN && e != EINTR)
                hone_log_warn("broker", "receive failed: %s", zmq_strerror(e));
            return S_DRAINED;
        }
        if (zmq_msg_more(&id))
            s_serve(self, &id);
        zmq_msg_close(&id);
        (*n)++;
        self->turn_msgs++;
    }
}

/* After the socket drained, whether to wait up to S_GATHER_MS for more before committing:
 * only when commits are slow (a sync to a real disk, not tmpfs), and only while the open
 * batch has fewer requests than the one before it: the peers that the last commit
 * answered are likely on their way back (a worker answers an `ok` within a fraction of a
 * millisecond), and one commit for all of them costs one sync instead of two or three.
 * A lone client never waits (its batch is as large as the last one), and a peer that
 * does not come back costs the others S_GATHER_MS once. */
static bool s_gather(const hone_broker_t *self)
{
    return self->commit == HONE_BROKER_COMMIT_GROUP && hone_registry_pending(self->registry) > 0
           && self->commit_avg_us >= S_GATHER_MIN_US && self->turn_msgs < self->last_msgs
           && hone_clock_mono_us() - self->opened_us < S_GATHER_MS * 1000;
}

/* Serves what the socket holds and commits: at the end, and with group commit also when
 * the batch is due (s_read) or after a short wait for more (s_gather). */
static int s_on_router(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    (void) sock;
    hone_broker_t *self = arg;
    int served = 0;
    for (;;) {
        int why = s_read(self, S_BATCH, &served);
        if (why == S_LIMIT)
            break;
        if (why == S_DUE) {
            s_commit(self);
            continue;
        }
        if (!s_gather(self))
            break;
        zmq_pollitem_t item = { .socket = self->raw, .events = ZMQ_POLLIN };
        self->gathers++;
        if (zmq_poll(&item, 1, S_GATHER_MS) <= 0)
            break;
    }
    s_commit(self);     /* drained, or S_BATCH served: one commit for all of them */
    return 0;
}

static int s_on_generated(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    hone_broker_t *self = arg;
    hone_handlers_collect(self->handlers, hone_clock_mono_ms());
    s_commit(self);
    return 0;
}

/* The lease tick (handlers.h): expires the leases that are due; costs one comparison
 * when none is. The period follows the shortest heartbeat interval in use. */
static int s_on_tick(zloop_t *loop, int timer_id, void *arg)
{
    hone_broker_t *self = arg;
    hone_handlers_tick(self->handlers, hone_clock_mono_ms());
    s_commit(self);     /* expiries are changes too: stored before anything reveals them */
    int want = hone_handlers_tick_ms(self->handlers);
    if (want != self->tick_ms) {
        zloop_timer_end(loop, timer_id);
        self->tick_ms = want;
        if (zloop_timer(loop, (size_t) want, 0, s_on_tick, self) < 0)
            hone_log_err("broker", "cannot re-arm the lease timer: leases no longer expire");
    }
    return 0;
}

static int s_on_stop(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    hone_broker_t *self = arg;
    self->stop_requested = true;
    hone_log_info("broker", "stop requested");
    s_commit(self);
    return -1;
}

static bool s_is_loopback(const char *endpoint)
{
    static const char *const prefixes[] = { "tcp://127.", "tcp://localhost:", "tcp://[::1]:",
                                            "tcp://lo:" };
    for (size_t i = 0; i < HONE_ARRAY_LEN(prefixes); i++)
        if (strncmp(endpoint, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

/* Reachable from other hosts: a network transport that is not bound to loopback. */
static bool s_is_network(const char *endpoint)
{
    static const char *const prefixes[] = { "tcp://", "ws://", "wss://", "udp://", "pgm://", "epgm://",
                                            "norm://", "vmci://", "tipc://" };
    if (s_is_loopback(endpoint))
        return false;
    for (size_t i = 0; i < HONE_ARRAY_LEN(prefixes); i++)
        if (strncmp(endpoint, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    return false;
}

static int s_bind(hone_broker_t *self, const char *endpoint, int linger_ms, hone_error_t *err)
{
    self->router = zsock_new(ZMQ_ROUTER);
    if (!self->router)
        return hone_error_set(err, HONE_EIO, "cannot create the ROUTER socket: %s",
                              zmq_strerror(zmq_errno()));
    self->raw = zsock_resolve(self->router);
    zsock_set_maxmsgsize(self->router, (int) HONE_PROTO_MAX_BYTES);
    zsock_set_router_mandatory(self->router, 1);
    zsock_set_linger(self->router, linger_ms);
    if (self->auth) {
        int rc = hone_auth_apply(self->auth, self->raw, err);
        if (rc != HONE_OK)
            return rc;
    }
    if (zsock_bind(self->router, "%s", endpoint) < 0)
        return hone_error_set(err, HONE_EIO, "cannot bind %s: %s", endpoint, zmq_strerror(zmq_errno()));
    char *last = zsock_last_endpoint(self->router);
    self->endpoint = hone_strdup(last && *last ? last : endpoint);
    zstr_free(&last);
    return HONE_OK;
}

int hone_broker_open(hone_broker_t **out, const hone_broker_options_t *options, hone_error_t *err)
{
    HONE_ASSERT(out && options);
    *out = NULL;
    const char *dir = options->data_dir ? options->data_dir : HONE_BROKER_DATA_DEFAULT;
    const char *endpoint = options->endpoint ? options->endpoint : HONE_BROKER_BIND_DEFAULT;
    hone_broker_t *self = hone_alloc(sizeof *self);
    self->stop_fd = options->stop_fd;
    self->data_dir = hone_strdup(dir);

    /* Keys first: a bad key directory is reported before the store is touched. */
    int rc = options->keys_dir ? hone_auth_open(&self->auth, options->keys_dir, err) : HONE_OK;
    if (rc != HONE_OK)
        goto fail;
    hone_store_options_t store_options = { .map_size = options->map_size,
                                           .map_size_max = options->map_size_max };
    rc = hone_store_open(&self->store, dir, &store_options, err);
    if (rc == HONE_OK)
        rc = hone_registry_open(&self->registry, self->store, err);
    if (rc != HONE_OK) {
        rc = HONE_ESTORE;
        if (err)
            err->code = rc;
        goto fail;
    }
    self->commit = options->commit;
    self->commit_avg_us = 1000;     /* a guess until the first commits are timed */
    hone_registry_on_batch(self->registry, s_on_batch, self);
    hone_registry_set_group_commit(self->registry, self->commit == HONE_BROKER_COMMIT_GROUP);
    self->handlers = hone_handlers_new(self->registry);
    rc = hone_generator_open(&self->generator, err);
    if (rc != HONE_OK)
        goto fail;
    hone_handlers_use_generator(self->handlers, self->generator, s_on_reply, self);
    rc = s_bind(self, endpoint, options->linger_ms > 0 ? options->linger_ms : HONE_BROKER_LINGER_MS, err);
    if (rc != HONE_OK)
        goto fail;

    self->loop = zloop_new();
    HONE_ASSERT(self->loop);
    if (zloop_reader(self->loop, self->router, s_on_router, self) != 0) {
        rc = hone_error_set(err, HONE_EIO, "cannot register the socket with the reactor");
        goto fail;
    }
    zloop_reader_set_tolerant(self->loop, self->router);
    zmq_pollitem_t generated = { .socket = NULL, .fd = hone_generator_fd(self->generator),
                                 .events = ZMQ_POLLIN };
    if (zloop_poller(self->loop, &generated, s_on_generated, self) != 0) {
        rc = hone_error_set(err, HONE_EIO, "cannot watch the generator");
        goto fail;
    }
    self->tick_ms = hone_handlers_tick_ms(self->handlers);
    if (zloop_timer(self->loop, (size_t) self->tick_ms, 0, s_on_tick, self) < 0) {
        rc = hone_error_set(err, HONE_EIO, "cannot start the lease timer");
        goto fail;
    }
    if (self->stop_fd > 0) {
        zmq_pollitem_t item = { .socket = NULL, .fd = self->stop_fd, .events = ZMQ_POLLIN };
        if (zloop_poller(self->loop, &item, s_on_stop, self) != 0) {
            rc = hone_error_set(err, HONE_EIO, "cannot watch the stop descriptor");
            goto fail;
        }
    }
    *out = self;
    return HONE_OK;
fail:
    hone_broker_destroy(&self);
    return rc;
}

const char *hone_broker_endpoint(const hone_broker_t *self)
{
    HONE_ASSERT(self);
    return self->endpoint;
}

int hone_broker_run(hone_broker_t *self, hone_error_t *err)
{
    HONE_ASSERT(self);
    const char *endpoint = self->endpoint;
    size_t experiments = hone_registry_size(self->registry);
    if (self->auth)
        hone_log_info("broker", "listening on %s (data %s, %zu experiment(s)); CURVE, broker key %s, "
                      "%zu peer key(s) allowed in %s", endpoint, self->data_dir, experiments,
                      hone_auth_public_key(self->auth), hone_auth_key_count(self->auth),
                      hone_auth_clients_dir(self->auth));
    else if (s_is_loopback(endpoint))
        hone_log_info("broker", "listening on %s (data %s, %zu experiment(s)); loopback only, this host "
                      "alone can connect: use --bind to listen elsewhere, --keys to authenticate",
                      endpoint, self->data_dir, experiments);
    else
        hone_log_info("broker", "listening on %s (data %s, %zu experiment(s))", endpoint, self->data_dir,
                      experiments);
    if (self->commit == HONE_BROKER_COMMIT_GROUP)
        hone_log_info("broker", "commit: group (one synchronous LMDB commit per reactor turn, at most %d "
                      "changes or %d ms; replies wait for it)", S_BATCH_MAX, S_COMMIT_MS);
    else
        hone_log_info("broker", "commit: per-message (one synchronous LMDB commit per change)");
    if (!self->auth && s_is_network(endpoint))
        hone_log_warn("broker", "no authentication: anyone who can reach %s can create experiments and "
                      "report results; use --keys DIR (see 'hone keygen')", endpoint);
    /* zloop_start returns when a handler asks to stop, and also when a signal interrupts
     * its poll (EINTR): then the loop simply goes on, and the stop descriptor, readable by
     * now if the signal was SIGINT/SIGTERM, ends it on the next turn. */
    int interrupted = 0;
    for (;;) {
        errno = 0;
        zloop_start(self->loop);
        if (self->stop_requested || zmq_errno() != EINTR || ++interrupted > 1000)
            break;
    }
    /* a generation in progress is finished, stored and answered before the sockets close */
    hone_handlers_finish(self->handlers);
    s_commit(self);
    hone_log_info("broker", "stopping: served %" PRIu64 " request(s), %" PRIu64 " malformed, %" PRIu64
                  " reply(ies) dropped", self->served, self->malformed, self->dropped);
    if (self->commit == HONE_BROKER_COMMIT_GROUP)
        hone_log_info("broker", "group commit: %" PRIu64 " change(s) in %" PRIu64 " commit(s), %.1f on "
                      "average, %zu at most, %.3f ms per commit, %" PRIu64 " wait(s) for more, %" PRIu64
                      " batch(es) not stored", self->committed, self->commits,
                      self->commits ? (double) self->committed / (double) self->commits : 0.0, self->largest,
                      self->commits ? (double) self->commit_us / 1e3 / (double) self->commits : 0.0,
                      self->gathers, self->failed);
    if (self->stop_requested)
        return HONE_OK;
    return hone_error_set(err, HONE_EIO, "the reactor stopped unexpectedly: %s", zmq_strerror(zmq_errno()));
}

void hone_broker_destroy(hone_broker_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_broker_t *self = *self_p;
    if (!self)
        return;
    if (self->handlers)
        hone_handlers_finish(self->handlers);   /* replies still go out */
    if (self->registry)
        s_commit(self);                         /* and so do the held ones */
    HONE_ASSERT(self->held_first == self->held_len);
    zloop_destroy(&self->loop);
    zsock_destroy(&self->router);     /* queued replies drain during the linger */
    hone_auth_destroy(&self->auth);   /* after the socket it protects */
    hone_handlers_destroy(&self->handlers);
    hone_generator_destroy(&self->generator);   /* joins the idle thread */
    hone_registry_destroy(&self->registry);
    hone_store_destroy(&self->store);
    hone_strfree(self->endpoint);
    hone_strfree(self->data_dir);
    hone_free(self->held);
    hone_free(self);
    *self_p = NULL;
}
