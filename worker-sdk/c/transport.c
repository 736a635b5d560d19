#include "transport.h"
#include "cert.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <zmq.h>

#define S_RECONNECT_IVL_MS 100
#define S_RECONNECT_IVL_MAX_MS 2000
#define S_BACKOFF_FIRST_MS 1000
#define S_BACKOFF_MAX_MS 32000

struct _hone_transport_t {
    void *ctx;                  /* this connection's own libzmq context */
    void *socket;               /* the DEALER; NULL after a timeout until the next send */
    char *endpoint;             /* where to connect */
    int32_t timeout_ms;         /* wait for one reply */
    int32_t retries;            /* re-sends after a timeout */
    uint64_t seq;               /* seq of the last request sent */
    hone_log_fn *log_fn;        /* the host's log function, or NULL: silent */
    void *log_arg;              /* its argument */
    bool curve;                 /* encrypt and authenticate with the keys below */
    char curve_public[HONE_CERT_KEY_LEN + 1];   /* this peer's public key, Z85 */
    char curve_secret[HONE_CERT_KEY_LEN + 1];   /* this peer's secret key, Z85 */
    char curve_server[HONE_CERT_KEY_LEN + 1];   /* the broker's public key, Z85 */
    void *monitor;              /* PAIR receiving the DEALER's handshake failures, or NULL */
    unsigned monitors;          /* monitor endpoints made so far, to name the next one */
    bool handshake_failed;      /* a CURVE handshake failed without detail since the send */
    bool refused;               /* the last HONE_EPERM came from the handshake, not a reply */
};

void hone_transport_log(hone_transport_t *self, hone_log_level_t level, const char *fmt, ...)
{
    if (!self->log_fn)
        return;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    self->log_fn((int32_t) level, text, self->log_arg);
}

/* libzmq errno values of the calls used here, turned into hone codes. */
static int s_zmq_code(int e)
{
    switch (e) {
    case ENOMEM: return HONE_ENOMEM;
    case EINTR: return HONE_EINTR;
    case EINVAL:
    case EPROTONOSUPPORT:
    case ENOCOMPATPROTO:
    case ENODEV:
        return HONE_EINVAL;
    default:
        return HONE_EIO;
    }
}

/* The monitor is stopped first, while its reader is still connected: libzmq sends
 * events from its I/O thread with blocking sends, and an event sent to a monitor whose
 * reader is gone would stall that thread (and with it the next socket). */
static void s_close_socket(hone_transport_t *self)
{
    if (self->socket && self->monitor)
        zmq_socket_monitor(self->socket, NULL, 0);
    if (self->socket) {
        zmq_close(self->socket);
        self->socket = NULL;
    }
    if (self->monitor) {
        zmq_close(self->monitor);
        self->monitor = NULL;
    }
}

/* Watches sock's security handshakes, so that a broker that refuses this peer's key (or
 * wants one) is reported at once rather than as a timeout. Best effort: without a
 * monitor, such a refusal is a timeout. */
static void s_monitor(hone_transport_t *self, void *sock)
{
    char endpoint[64];
    snprintf(endpoint, sizeof endpoint, "inproc://hone-monitor-%u", ++self->monitors);
    if (zmq_socket_monitor(sock, endpoint, ZMQ_EVENT_HANDSHAKE_FAILED_AUTH | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                                               | ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL) != 0)
        return;
    void *pair = zmq_socket(self->ctx, ZMQ_PAIR);
    int linger = 0;
    int unlimited = 0;      /* events are read only during calls: never make libzmq wait */
    if (pair && (zmq_setsockopt(pair, ZMQ_LINGER, &linger, sizeof linger) != 0
                 || zmq_setsockopt(pair, ZMQ_RCVHWM, &unlimited, sizeof unlimited) != 0
                 || zmq_connect(pair, endpoint) != 0)) {
        zmq_close(pair);
        pair = NULL;
    }
    if (!pair)
        zmq_socket_monitor(sock, NULL, 0);
    self->monitor = pair;
}

/* Reads the monitor's events. Returns HONE_EPERM (err says why) when the broker refused
 * this peer: a key it does not allow, or a security mechanism other than its own;
 * HONE_OK otherwise. */
static int s_read_monitor(hone_transport_t *self, hone_error_t *err)
{
    for (;;) {
        zmq_msg_t head, address;
        zmq_msg_init(&head);
        if (zmq_msg_recv(&head, self->monitor, ZMQ_DONTWAIT) < 0) {
            zmq_msg_close(&head);
            return HONE_OK;
        }
        uint16_t event = 0;
        uint32_t value = 0;
        if (zmq_msg_size(&head) >= 6) {
            memcpy(&event, zmq_msg_data(&head), 2);
            memcpy(&value, (uint8_t *) zmq_msg_data(&head) + 2, 4);
        }
        bool more = zmq_msg_more(&head);
        zmq_msg_close(&head);
        while (more) {
            zmq_msg_init(&address);
            if (zmq_msg_recv(&address, self->monitor, ZMQ_DONTWAIT) < 0)
                more = false;
            else
                more = zmq_msg_more(&address);
            zmq_msg_close(&address);
        }
        self->refused = event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH
                        || (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
                            && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH);
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
            return hone_error_set(err, HONE_EPERM, "the broker at %s refused this key (status %u): its public "
                                  "key %s is not in the broker's allow-list (KEYS/clients)", self->endpoint,
                                  (unsigned) value, self->curve ? self->curve_public : "(none)");
        if (event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL && value == ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH)
            return hone_error_set(err, HONE_EPERM, self->curve
                                  ? "the broker at %s does not use CURVE keys (it was started without --keys); "
                                    "connect without a key"
                                  : "the broker at %s requires CURVE keys: give this peer's key and the "
                                    "broker's public key (--key FILE --broker-key FILE, or hone_*_set_curve)",
                                  self->endpoint);
        if (self->curve && (event == ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL || event == ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL))
            self->handshake_failed = true;
    }
}

static int s_connect(hone_transport_t *self, hone_error_t *err)
{
    void *sock = zmq_socket(self->ctx, ZMQ_DEALER);
    if (!sock)
        return hone_error_set(err, s_zmq_code(zmq_errno()), "cannot create a socket: %s",
                              zmq_strerror(zmq_errno()));
    int linger = 0;
    int ivl = S_RECONNECT_IVL_MS;
    int ivl_max = S_RECONNECT_IVL_MAX_MS;
    int64_t max_size = (int64_t) HONE_PROTO_MAX_BYTES;
    if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof linger) != 0
        || zmq_setsockopt(sock, ZMQ_RECONNECT_IVL, &ivl, sizeof ivl) != 0
        || zmq_setsockopt(sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof ivl_max) != 0
        || zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size) != 0) {
        int e = zmq_errno();
        zmq_close(sock);
        return hone_error_set(err, s_zmq_code(e), "cannot set socket options: %s", zmq_strerror(e));
    }
    if (self->curve
        && (zmq_setsockopt(sock, ZMQ_CURVE_SERVERKEY, self->curve_server, sizeof self->curve_server) != 0
            || zmq_setsockopt(sock, ZMQ_CURVE_PUBLICKEY, self->curve_public, sizeof self->curve_public) != 0
            || zmq_setsockopt(sock, ZMQ_CURVE_SECRETKEY, self->curve_secret, sizeof self->curve_secret) != 0)) {
        int e = zmq_errno();
        zmq_close(sock);
        return hone_error_set(err, e == EINVAL ? HONE_EUNSUPPORTED : s_zmq_code(e),
                              "cannot use CURVE keys on the socket: %s", zmq_strerror(e));
    }
    s_monitor(self, sock);
    if (zmq_connect(sock, self->endpoint) != 0) {
        int e = zmq_errno();
        if (self->monitor) {
            zmq_close(self->monitor);
            self->monitor = NULL;
        }
        zmq_close(sock);
        return hone_error_set(err, s_zmq_code(e), "cannot connect to '%s': %s", self->endpoint,
                              zmq_strerror(e));
    }
    self->socket = sock;
    return HONE_OK;
}

int hone_transport_open(hone_transport_t **out, const char *endpoint, const hone_options_t *opts,
                        hone_error_t *err)
{
    *out = NULL;
    hone_options_t defaults;
    hone_options_init(&defaults);
    if (!opts)
        opts = &defaults;
    if (opts->timeout_ms <= 0)
        return hone_error_set(err, HONE_EINVAL, "options: timeout_ms must be > 0 (got %d)",
                              (int) opts->timeout_ms);
    if (opts->retries < 0)
        return hone_error_set(err, HONE_EINVAL, "options: retries must be >= 0 (got %d)",
                              (int) opts->retries);
    for (size_t i = 0; i < HONE_ARRAY_LEN(opts->reserved); i++)
        if (opts->reserved[i] != 0)
            return hone_error_set(err, HONE_EINVAL,
                                  "options: reserved[%zu] must be 0 (initialise with hone_options_init)", i);
    if (!endpoint)
        endpoint = HONE_DEFAULT_ENDPOINT;
    if (!*endpoint)
        return hone_error_set(err, HONE_EINVAL, "empty endpoint");

    hone_transport_t *self = calloc(1, sizeof *self);
    if (!self)
        return hone_error_set(err, HONE_ENOMEM, "out of memory");
    self->timeout_ms = opts->timeout_ms;
    self->retries = opts->retries;
    self->endpoint = strdup(endpoint);
    if (!self->endpoint) {
        hone_transport_destroy(&self);
        return hone_error_set(err, HONE_ENOMEM, "out of memory");
    }
    self->ctx = zmq_ctx_new();
    if (!self->ctx) {
        int e = zmq_errno();
        hone_transport_destroy(&self);
        return hone_error_set(err, s_zmq_code(e), "cannot create a ZeroMQ context: %s", zmq_strerror(e));
    }
    /* Connect now so that a malformed endpoint is reported by open, not by the first call. */
    int rc = s_connect(self, err);
    if (rc != HONE_OK) {
        hone_transport_destroy(&self);
        return rc;
    }
    *out = self;
    return HONE_OK;
}

void hone_transport_destroy(hone_transport_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    hone_transport_t *self = *self_p;
    s_close_socket(self);
    if (self->ctx)
        zmq_ctx_term(self->ctx);
    free(self->endpoint);
    free(self);
    *self_p = NULL;
}

int hone_transport_set_curve(hone_transport_t *self, const char *key_path, const char *broker_key_path,
                             hone_error_t *err)
{
    if (!key_path || !*key_path || !broker_key_path || !*broker_key_path)
        return hone_error_set(err, HONE_EINVAL, "give both this peer's key file and the broker's public key file");
    if (!zmq_has("curve"))
        return hone_error_set(err, HONE_EUNSUPPORTED, "this libzmq was built without CURVE security");
    hone_cert_t mine, broker;
    int rc = hone_cert_load(key_path, true, &mine, err);
    if (rc == HONE_OK)
        rc = hone_cert_load(broker_key_path, false, &broker, err);
    if (rc != HONE_OK)
        return rc;
    /* The old socket and whatever it queued go; the next call connects afresh. */
    s_close_socket(self);
    self->curve = true;
    memcpy(self->curve_public, mine.public_key, sizeof self->curve_public);
    memcpy(self->curve_secret, mine.secret_key, sizeof self->curve_secret);
    memcpy(self->curve_server, broker.public_key, sizeof self->curve_server);
    memset(&mine, 0, sizeof mine);
    rc = s_connect(self, err);
    if (rc != HONE_OK)
        self->curve = false;
    return rc;
}

void hone_transport_set_log(hone_transport_t *self, hone_log_fn *fn, void *arg)
{
    self->log_fn = fn;
    self->log_arg = fn ? arg : NULL;
}

const char *hone_transport_endpoint(const hone_transport_t *self)
{
    return self->endpoint;
}

int hone_transport_request(hone_msg_id_t id, const char *experiment, hone_msg_t **out, hone_error_t *err)
{
    *out = hone_msg_new(id);
    if (*out && (!experiment || hone_msg_set_str(*out, "experiment", experiment) == HONE_OK))
        return HONE_OK;
    hone_msg_destroy(out);
    return hone_error_set(err, HONE_ENOMEM, "out of memory");
}

int hone_transport_sleep(int32_t ms, hone_error_t *err)
{
    if (ms <= 0)
        return HONE_OK;
    if (poll(NULL, 0, ms) < 0 && errno == EINTR)
        return hone_error_set(err, HONE_EINTR, "interrupted by a signal");
    return HONE_OK;
}

/* Turns an `error` reply into its code and message. */
static int s_error_reply(const hone_msg_t *reply, hone_error_t *err)
{
    int64_t code = 0;
    const char *message = NULL;
    const char *name = NULL;
    hone_error_t ignored;
    if (hone_msg_get_int(reply, "code", &code, &ignored) != HONE_OK || code >= 0 || code < INT32_MIN
        || streq(hone_err_name((int) code), "HONE_EUNKNOWN"))
        return hone_error_set(err, HONE_EPROTO, "the broker sent an error reply without a valid code");
    if (hone_msg_get_str(reply, "message", &message, &ignored) != HONE_OK || !*message) {
        if (hone_msg_get_str(reply, "name", &name, &ignored) != HONE_OK)
            name = hone_err_name((int) code);
        return hone_error_set(err, (int) code, "%s (%s)", hone_strerror((int) code), name);
    }
    return hone_error_set(err, (int) code, "%s", message);
}

/* Receives one message (all its frames) and keeps the last non-empty frame, so that a
 * broker sending an empty delimiter frame first is understood too. */
static int s_receive(hone_transport_t *self, zmq_msg_t *frame, hone_error_t *err)
{
    zmq_msg_init(frame);
    bool more = true;
    while (more) {
        zmq_msg_t part;
        zmq_msg_init(&part);
        if (zmq_msg_recv(&part, self->socket, ZMQ_DONTWAIT) < 0) {
            int e = zmq_errno();
            zmq_msg_close(&part);
            zmq_msg_close(frame);
            if (e == EAGAIN)
                return HONE_EAGAIN;
            return hone_error_set(err, s_zmq_code(e), "receive failed: %s", zmq_strerror(e));
        }
        more = zmq_msg_more(&part);
        if (zmq_msg_size(&part) > 0)
            zmq_msg_move(frame, &part);
        zmq_msg_close(&part);
    }
    return HONE_OK;
}

/* Waits for the reply with seq until deadline. HONE_ETIMEDOUT when none came. */
static int s_await(hone_transport_t *self, uint64_t seq, int64_t deadline, hone_msg_t **reply_out,
                   hone_error_t *err)
{
    for (;;) {
        int64_t remaining = deadline - hone_clock_mono_ms();
        if (remaining <= 0)
            return HONE_ETIMEDOUT;
        zmq_pollitem_t items[2] = { { .socket = self->socket, .events = ZMQ_POLLIN },
                                    { .socket = self->monitor, .events = ZMQ_POLLIN } };
        int n = zmq_poll(items, self->monitor ? 2 : 1, (long) remaining);
        if (n < 0) {
            int e = zmq_errno();
            if (e == EINTR)
                return hone_error_set(err, HONE_EINTR, "interrupted by a signal while waiting for the broker");
            return hone_error_set(err, s_zmq_code(e), "poll failed: %s", zmq_strerror(e));
        }
        if (self->monitor && (items[1].revents & ZMQ_POLLIN)) {
            int rc = s_read_monitor(self, err);
            if (rc != HONE_OK)
                return rc;
        }
        if (n == 0 || !(items[0].revents & ZMQ_POLLIN))
            continue;
        zmq_msg_t frame;
        self->handshake_failed = false;
        int rc = s_receive(self, &frame, err);
        if (rc == HONE_EAGAIN)
            continue;
        if (rc != HONE_OK)
            return rc;
        hone_msg_t *reply = NULL;
        uint64_t reply_seq = 0;
        hone_error_t derr;
        hone_error_clear(&derr);
        rc = hone_msg_decode(zmq_msg_data(&frame), zmq_msg_size(&frame), &reply, &reply_seq, &derr);
        zmq_msg_close(&frame);
        if (rc != HONE_OK) {
            if (rc == HONE_ENOMEM)
                return hone_error_set(err, HONE_ENOMEM, "out of memory decoding a reply");
            if (reply_seq == seq)
                return hone_error_set(err, rc, "malformed reply from the broker: %s", derr.message);
            hone_transport_log(self, HONE_LOG_WARN, "dropped a malformed message from %s: %s",
                               self->endpoint, derr.message);
            continue;
        }
        if (hone_msg_seq(reply) != seq) {
            hone_transport_log(self, HONE_LOG_DEBUG, "dropped a stale '%s' reply (seq %llu, waiting for %llu)",
                               hone_msg_name(hone_msg_id(reply)) ? hone_msg_name(hone_msg_id(reply)) : "?",
                               (unsigned long long) hone_msg_seq(reply), (unsigned long long) seq);
            hone_msg_destroy(&reply);
            continue;
        }
        if (hone_msg_id(reply) == HONE_MSG_ERROR) {
            rc = s_error_reply(reply, err);
            hone_msg_destroy(&reply);
            return rc;
        }
        *reply_out = reply;
        return HONE_OK;
    }
}

/* Queues the encoded request, waiting for room until deadline. */
static int s_send(hone_transport_t *self, const uint8_t *data, size_t size, int64_t deadline,
                  hone_error_t *err)
{
    for (;;) {
        if (zmq_send(self->socket, data, size, ZMQ_DONTWAIT) >= 0)
            return HONE_OK;
        int e = zmq_errno();
        if (e != EAGAIN && e != EINTR)
            return hone_error_set(err, s_zmq_code(e), "send failed: %s", zmq_strerror(e));
        int64_t remaining = deadline - hone_clock_mono_ms();
        if (remaining <= 0)
            return HONE_ETIMEDOUT;
        zmq_pollitem_t item = { .socket = self->socket, .events = ZMQ_POLLOUT };
        if (zmq_poll(&item, 1, (long) remaining) < 0 && zmq_errno() == EINTR)
            return hone_error_set(err, HONE_EINTR, "interrupted by a signal while sending");
    }
}

/* Wait before resend number attempt + 1: min(timeout, 1 s) doubled per attempt, <= 32 s. */
static int32_t s_backoff_ms(int32_t timeout_ms, int32_t attempt)
{
    int64_t delay = timeout_ms < S_BACKOFF_FIRST_MS ? timeout_ms : S_BACKOFF_FIRST_MS;
    for (int32_t i = 0; i < attempt && delay < S_BACKOFF_MAX_MS; i++)
        delay *= 2;
    return (int32_t) (delay < S_BACKOFF_MAX_MS ? delay : S_BACKOFF_MAX_MS);
}

int hone_transport_call(hone_transport_t *self, hone_msg_t *request, hone_msg_t **reply_out,
                        hone_error_t *err)
{
    *reply_out = NULL;
    self->handshake_failed = false;
    self->refused = false;
    uint64_t seq = ++self->seq;
    hone_msg_set_seq(request, seq);
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = hone_msg_encode(request, &data, &size);
    if (rc != HONE_OK)
        return hone_error_set(err, rc, rc == HONE_ETOOBIG ? "request too large (limit %u bytes)"
                                                          : "out of memory encoding a request (limit %u bytes)",
                              HONE_PROTO_MAX_BYTES);
    const char *what = hone_msg_name(hone_msg_id(request));
    for (int32_t attempt = 0; attempt <= self->retries; attempt++) {
        if (!self->socket) {
            rc = s_connect(self, err);
            if (rc != HONE_OK)
                break;
        }
        int64_t deadline = hone_clock_mono_ms() + self->timeout_ms;
        rc = s_send(self, data, size, deadline, err);
        if (rc == HONE_OK)
            rc = s_await(self, seq, deadline, reply_out, err);
        if (rc == HONE_EPERM && self->refused) {
            /* The handshake was refused: the request never reached the broker, and the
             * same key would be refused again (RFC 26). The next call starts afresh. */
            s_close_socket(self);
            break;
        }
        if (rc != HONE_ETIMEDOUT)
            break;
        /* Lazy pirate: the socket may hold a dead connection; start afresh, after a
         * back-off that doubles (PROTOCOL.md 2.7). */
        s_close_socket(self);
        hone_transport_log(self, HONE_LOG_WARN, "no reply to '%s' from %s within %d ms (attempt %d of %d)",
                           what ? what : "?", self->endpoint, (int) self->timeout_ms, (int) attempt + 1,
                           (int) self->retries + 1);
        if (attempt < self->retries) {
            rc = hone_transport_sleep(s_backoff_ms(self->timeout_ms, attempt), err);
            if (rc != HONE_OK)
                break;
            rc = HONE_ETIMEDOUT;
        }
    }
    free(data);
    if (rc == HONE_ETIMEDOUT)
        hone_error_set(err, HONE_ETIMEDOUT, "no reply from the broker at %s (%d attempt%s of %d ms)%s",
                       self->endpoint, (int) self->retries + 1, self->retries ? "s" : "", (int) self->timeout_ms,
                       self->handshake_failed ? "; the CURVE handshake failed: is the broker key the public key "
                                                "of this broker (its KEYS/broker.key)?" : "");
    return rc;
}
