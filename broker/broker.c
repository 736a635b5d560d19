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

/* Messages served per wake-up before the loop looks at its other readers. */
#define S_BATCH 256

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

/* Encodes and sends a reply to peer; a reply that cannot be sent is logged and dropped
 * (the peer vanished or is at its high-water mark). Takes the reply. */
static void s_send(hone_broker_t *self, const hone_handlers_peer_t *peer, hone_msg_t **reply)
{
    char name[64];
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = hone_msg_encode(*reply, &data, &size);
    if (rc != HONE_OK) {
        HONE_ASSERT(rc != HONE_ENOMEM);
        hone_log_warn("broker", "reply to %s seq=%" PRIu64 " cannot be encoded: %s",
                      s_peer(peer, name, sizeof name), hone_msg_seq(*reply), hone_strerror(rc));
        uint64_t seq = hone_msg_seq(*reply);
        hone_msg_destroy(reply);
        *reply = hone_handlers_error(seq, rc, rc == HONE_ETOOBIG
                                                  ? "the reply would exceed the message size limit"
                                                  : "the reply cannot be encoded");
        rc = hone_msg_encode(*reply, &data, &size);
        HONE_ASSERT(rc == HONE_OK);
    }
    hone_msg_destroy(reply);

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

static int s_on_router(zloop_t *loop, zsock_t *sock, void *arg)
{
    (void) loop;
    (void) sock;
    hone_broker_t *self = arg;
    for (int i = 0; i < S_BATCH; i++) {
        zmq_msg_t id;
        zmq_msg_init(&id);
        if (zmq_msg_recv(&id, self->raw, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&id);
            if (e != EAGAIN && e != EINTR)
                hone_log_warn("broker", "receive failed: %s", zmq_strerror(e));
            break;
        }
        if (zmq_msg_more(&id))
            s_serve(self, &id);
        zmq_msg_close(&id);
    }
    return 0;
}

static int s_on_generated(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    hone_broker_t *self = arg;
    hone_handlers_collect(self->handlers, hone_clock_mono_ms());
    return 0;
}

static int s_on_stop(zloop_t *loop, zmq_pollitem_t *item, void *arg)
{
    (void) loop;
    (void) item;
    hone_broker_t *self = arg;
    self->stop_requested = true;
    hone_log_info("broker", "stop requested");
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
    hone_store_options_t store_options = { .map_size = options->map_size };
    rc = hone_store_open(&self->store, dir, &store_options, err);
    if (rc == HONE_OK)
        rc = hone_registry_open(&self->registry, self->store, err);
    if (rc != HONE_OK) {
        rc = HONE_ESTORE;
        if (err)
            err->code = rc;
        goto fail;
    }
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
    hone_log_info("broker", "stopping: served %" PRIu64 " request(s), %" PRIu64 " malformed, %" PRIu64
                  " reply(ies) dropped", self->served, self->malformed, self->dropped);
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
    zloop_destroy(&self->loop);
    zsock_destroy(&self->router);     /* queued replies drain during the linger */
    hone_auth_destroy(&self->auth);   /* after the socket it protects */
    hone_handlers_destroy(&self->handlers);
    hone_generator_destroy(&self->generator);   /* joins the idle thread */
    hone_registry_destroy(&self->registry);
    hone_store_destroy(&self->store);
    hone_strfree(self->endpoint);
    hone_strfree(self->data_dir);
    hone_free(self);
    *self_p = NULL;
}
