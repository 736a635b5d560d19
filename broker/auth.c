/* auth.c: CURVE keys, the zauth allow-list and roles (see auth.h). */
#include "auth.h"

#include "alloc.h"
#include "log.h"

#include <czmq.h>
#include <errno.h>
#include <sys/stat.h>

/* libzmq 4.3 declares it in its DRAFT section only, yet Debian's 4.3.4 accepts it
 * (shared/reference/broker-reliability.md 1.7). */
#ifndef ZMQ_ZAP_ENFORCE_DOMAIN
#define ZMQ_ZAP_ENFORCE_DOMAIN 93
#endif

#define S_ZAP_ENDPOINT "inproc://zeromq.zap.01"
#define S_Z85_KEY_LEN 40

typedef enum { S_ROLE_WORKER, S_ROLE_CLIENT } s_role_t;

/* What the broker knows of one peer key. */
typedef struct {
    s_role_t role;              /* what it may send */
    char name[64];              /* its certificate's `name`, or the start of the key */
} s_peer_t;

struct _hone_auth_t {
    char *keys_dir;             /* --keys DIR */
    char *clients_dir;          /* DIR/clients: the allow-list */
    zcert_t *cert;              /* the broker's key pair */
    zactor_t *zauth;            /* the ZAP handler (its own thread) */
    zcertstore_t *store;        /* our copy of the allow-list, read for roles */
    zhashx_t *peers;            /* User-Id (Z85 public key) -> s_peer_t, keys seen so far */
    size_t key_count;           /* certificates in clients_dir at open */
};

/* A worker key may send the worker requests (W2B), heartbeats (ANY) and, to be answered
 * HONE_EPROTO like anyone, replies (B2P); client requests (C2B) need a client key. The
 * message table decides, so a request added to it later is covered without a change
 * here. */
#define S_WORKER_MAY_W2B true
#define S_WORKER_MAY_ANY true
#define S_WORKER_MAY_B2P true
#define S_WORKER_MAY_C2B false

static bool s_worker_may_send(hone_msg_id_t id)
{
    switch (id) {
#define XX(ID, name, dir) \
    case HONE_MSG_##ID: return S_WORKER_MAY_##dir;
        HONE_MSG_MAP(XX)
#undef XX
    default:
        return true;    /* not decodable: the handlers answer HONE_EPROTO */
    }
}

static bool s_is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Is the ZAP endpoint bound, i.e. is some ZAP handler running in this process? */
static bool s_zap_handler_bound(void)
{
    zsock_t *probe = zsock_new(ZMQ_REP);
    HONE_ASSERT(probe);
    bool bound = zsock_bind(probe, S_ZAP_ENDPOINT) != 0;
    if (!bound)
        zsock_unbind(probe, S_ZAP_ENDPOINT);   /* at once: closing frees it only later */
    zsock_destroy(&probe);
    return bound;
}

static bool s_is_zero_key(const char *z85)
{
    return strspn(z85, "0") == strlen(z85);
}

/* Loads DIR/broker.key_secret (through zcert_load, which prefers it) and checks it. */
static int s_load_broker_cert(hone_auth_t *self, hone_error_t *err)
{
    char *public_path = hone_sprintf("%s/%s", self->keys_dir, HONE_AUTH_BROKER_CERT);
    char *secret_path = hone_sprintf("%s/%s_secret", self->keys_dir, HONE_AUTH_BROKER_CERT);
    int rc = HONE_OK;
    struct stat st;
    if (stat(secret_path, &st) != 0) {
        rc = hone_error_set(err, HONE_EINVAL, "keys: cannot read %s: %s (make the broker's keys with "
                            "'hone keygen --broker %s')", secret_path, strerror(errno), self->keys_dir);
        goto done;
    }
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        hone_log_warn("auth", "%s is readable by other users: chmod 600 it", secret_path);
    self->cert = zcert_load(public_path);
    if (!self->cert || s_is_zero_key(zcert_secret_txt(self->cert))) {
        rc = hone_error_set(err, HONE_EINVAL, "keys: %s is not a secret CURVE certificate (zcert format "
                            "with curve/public-key and curve/secret-key, as 'hone keygen --broker' writes)",
                            secret_path);
        goto done;
    }
    char derived[S_Z85_KEY_LEN + 1];
    if (zmq_curve_public(derived, zcert_secret_txt(self->cert)) != 0
        || !streq(derived, zcert_public_txt(self->cert)))
        rc = hone_error_set(err, HONE_EINVAL, "keys: %s: its public key does not belong to its secret key",
                            secret_path);
done:
    hone_strfree(public_path);
    hone_strfree(secret_path);
    return rc;
}

/* Checks every certificate that zauth will read in DIR/clients (regular files, also in
 * subdirectories, except *_secret), the way zcertstore reads them. */
static int s_check_clients(hone_auth_t *self, hone_error_t *err)
{
    if (!s_is_dir(self->clients_dir))
        return hone_error_set(err, HONE_EINVAL, "keys: %s is not a directory (it holds the public "
                              "certificates of the workers and clients allowed in; 'hone keygen --broker "
                              "%s' makes it)", self->clients_dir, self->keys_dir);
    zdir_t *dir = zdir_new(self->clients_dir, NULL);
    if (!dir)
        return hone_error_set(err, HONE_EINVAL, "keys: cannot read %s", self->clients_dir);
    zfile_t **files = zdir_flatten(dir);
    int rc = HONE_OK;
    for (size_t i = 0; files[i] && rc == HONE_OK; i++) {
        const char *path = zfile_filename(files[i], NULL);
        size_t len = strlen(path);
        if (!zfile_is_regular(files[i]))
            continue;
        if (len >= 7 && streq(path + len - 7, "_secret")) {
            hone_log_warn("auth", "%s is a secret certificate: only public ones (NAME.key) belong in %s; "
                          "move it away", path, self->clients_dir);
            continue;
        }
        zcert_t *cert = zcert_load(path);
        if (!cert) {
            rc = hone_error_set(err, HONE_EINVAL, "keys: %s is not a CURVE certificate (zcert format, as "
                                "'hone keygen' writes); remove it from %s", path, self->clients_dir);
            break;
        }
        const char *role = zcert_meta(cert, "role");
        if (!role)
            hone_log_warn("auth", "%s has no role: it counts as a worker (add 'role = \"client\"' under "
                          "metadata for full rights)", path);
        else if (!streq(role, "worker") && !streq(role, "client"))
            rc = hone_error_set(err, HONE_EINVAL, "keys: %s: role must be \"worker\" or \"client\", not \"%s\"",
                                path, role);
        zcert_destroy(&cert);
        self->key_count++;
    }
    zdir_flatten_free(&files);
    zdir_destroy(&dir);
    if (rc == HONE_OK && self->key_count == 0)
        hone_log_warn("auth", "no keys in %s: nobody can connect until a certificate is put there "
                      "('hone keygen NAME --role worker|client' makes one)", self->clients_dir);
    return rc;
}

static void s_peer_free(void **item)
{
    hone_free(*item);
    *item = NULL;
}

int hone_auth_open(hone_auth_t **out, const char *keys_dir, hone_error_t *err)
{
    HONE_ASSERT(out && keys_dir);
    *out = NULL;
    if (!s_is_dir(keys_dir))
        return hone_error_set(err, HONE_EINVAL, "keys: %s is not a directory (make one with 'hone keygen "
                              "--broker %s')", keys_dir, keys_dir);
    hone_auth_t *self = hone_alloc(sizeof *self);
    self->keys_dir = hone_strdup(keys_dir);
    self->clients_dir = hone_sprintf("%s/%s", keys_dir, HONE_AUTH_CLIENTS_DIR);
    int rc = s_load_broker_cert(self, err);
    if (rc == HONE_OK)
        rc = s_check_clients(self, err);
    if (rc != HONE_OK)
        goto fail;

    /* zauth asserts when the ZAP endpoint is taken; say so instead. */
    if (s_zap_handler_bound()) {
        rc = hone_error_set(err, HONE_EIO, "keys: another ZAP handler is already running in this process");
        goto fail;
    }
    self->zauth = zactor_new(zauth, NULL);
    if (!self->zauth) {
        rc = hone_error_set(err, HONE_EIO, "keys: cannot start the authenticator (zauth)");
        goto fail;
    }
    if (hone_log_level() >= HONE_LOG_DEBUG && zstr_send(self->zauth, "VERBOSE") == 0)
        zsock_wait(self->zauth);    /* zauth logs each handshake through czmq's own log */
    if (zstr_sendx(self->zauth, "CURVE", self->clients_dir, NULL) != 0 || zsock_wait(self->zauth) != 0) {
        rc = hone_error_set(err, HONE_EIO, "keys: the authenticator (zauth) did not take the allow-list %s",
                            self->clients_dir);
        goto fail;
    }
    if (!s_zap_handler_bound()) {
        rc = hone_error_set(err, HONE_EIO, "keys: the authenticator (zauth) is not running");
        goto fail;
    }
    self->store = zcertstore_new(self->clients_dir);
    HONE_ASSERT(self->store);
    self->peers = zhashx_new();
    HONE_ASSERT(self->peers);
    zhashx_set_destructor(self->peers, s_peer_free);
    *out = self;
    return HONE_OK;
fail:
    hone_auth_destroy(&self);
    return rc;
}

int hone_auth_apply(hone_auth_t *self, void *raw, hone_error_t *err)
{
    HONE_ASSERT(self && raw);
    int on = 1;
    const char *failed = NULL;
    if (zmq_setsockopt(raw, ZMQ_ZAP_DOMAIN, HONE_AUTH_ZAP_DOMAIN, strlen(HONE_AUTH_ZAP_DOMAIN)) != 0)
        failed = "ZMQ_ZAP_DOMAIN";
    else if (zmq_setsockopt(raw, ZMQ_ZAP_ENFORCE_DOMAIN, &on, sizeof on) != 0)
        failed = "ZMQ_ZAP_ENFORCE_DOMAIN (libzmq 4.3 or later is needed)";
    else if (zmq_setsockopt(raw, ZMQ_CURVE_SERVER, &on, sizeof on) != 0)
        failed = "ZMQ_CURVE_SERVER";
    else if (zmq_setsockopt(raw, ZMQ_CURVE_SECRETKEY, zcert_secret_key(self->cert), 32) != 0)
        failed = "ZMQ_CURVE_SECRETKEY";
    else if (zmq_setsockopt(raw, ZMQ_CURVE_PUBLICKEY, zcert_public_key(self->cert), 32) != 0)
        failed = "ZMQ_CURVE_PUBLICKEY";
    if (failed)
        return hone_error_set(err, HONE_EIO, "cannot set %s on the socket: %s", failed, zmq_strerror(zmq_errno()));
    int mechanism = 0;
    size_t size = sizeof mechanism;
    if (zmq_getsockopt(raw, ZMQ_MECHANISM, &mechanism, &size) != 0 || mechanism != ZMQ_CURVE)
        return hone_error_set(err, HONE_EIO, "the socket's security mechanism is not CURVE");
    return HONE_OK;
}

/* The peer record of a key, read from the allow-list the first time; NULL when the key
 * is not (any more) in it. */
static const s_peer_t *s_peer(hone_auth_t *self, const char *user_id)
{
    s_peer_t *peer = zhashx_lookup(self->peers, user_id);
    if (peer)
        return peer;
    zcert_t *cert = zcertstore_lookup(self->store, user_id);   /* rereads a changed directory */
    if (!cert)
        return NULL;
    peer = hone_alloc(sizeof *peer);
    const char *role = zcert_meta(cert, "role");
    peer->role = role && streq(role, "client") ? S_ROLE_CLIENT : S_ROLE_WORKER;
    const char *name = zcert_meta(cert, "name");
    if (name && *name)
        snprintf(peer->name, sizeof peer->name, "%s", name);
    else
        snprintf(peer->name, sizeof peer->name, "%.8s...", user_id);
    if (role && !streq(role, "client") && !streq(role, "worker"))
        hone_log_warn("auth", "key '%s' has the unknown role \"%s\": it counts as a worker", peer->name, role);
    hone_log_debug("auth", "key '%s' (%s) seen for the first time", peer->name,
                   peer->role == S_ROLE_CLIENT ? "client" : "worker");
    zhashx_insert(self->peers, user_id, peer);
    return peer;
}

int hone_auth_check(hone_auth_t *self, const char *user_id, hone_msg_id_t id, hone_error_t *err)
{
    HONE_ASSERT(self);
    if (!user_id || strlen(user_id) != S_Z85_KEY_LEN)
        return hone_error_set(err, HONE_EPERM, "this connection is not authenticated with a CURVE key");
    const s_peer_t *peer = s_peer(self, user_id);
    if (!peer)
        return hone_error_set(err, HONE_EPERM, "key %s is no longer in the broker's allow-list", user_id);
    if (peer->role == S_ROLE_WORKER && !s_worker_may_send(id)) {
        const char *what = hone_msg_name(id);
        hone_log_warn("auth", "refused '%s' from worker key '%s'", what ? what : "?", peer->name);
        return hone_error_set(err, HONE_EPERM, "'%s' is a client request and key '%s' has role worker "
                              "(workers may send ready, progress, complete, fail and heartbeat; "
                              "use a key made with 'hone keygen NAME --role client')",
                              what ? what : "?", peer->name);
    }
    return HONE_OK;
}

const char *hone_auth_public_key(const hone_auth_t *self)
{
    HONE_ASSERT(self);
    return zcert_public_txt(self->cert);
}

size_t hone_auth_key_count(const hone_auth_t *self)
{
    HONE_ASSERT(self);
    return self->key_count;
}

const char *hone_auth_clients_dir(const hone_auth_t *self)
{
    HONE_ASSERT(self);
    return self->clients_dir;
}

void hone_auth_destroy(hone_auth_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_auth_t *self = *self_p;
    if (!self)
        return;
    zactor_destroy(&self->zauth);
    zhashx_destroy(&self->peers);
    zcertstore_destroy(&self->store);
    zcert_destroy(&self->cert);
    hone_strfree(self->keys_dir);
    hone_strfree(self->clients_dir);
    hone_free(self);
    *self_p = NULL;
}
