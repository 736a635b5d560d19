/* auth.h: the broker's CURVE security: its own key pair, the ZAP handler (czmq's zauth)
 * holding the allow-list of peer keys, and the role of each key.
 *
 * A key directory (hone-broker --keys DIR, made by `hone keygen --broker DIR`) holds
 *     DIR/broker.key          the broker's public certificate (give it to every peer)
 *     DIR/broker.key_secret   the broker's secret certificate (mode 0600)
 *     DIR/clients/NAME.key    the public certificates of the peers allowed in
 * Certificates are in czmq's zcert text format. A peer certificate's metadata `role` is
 * `worker` (the worker requests only: ready, progress, complete, fail, heartbeat) or
 * `client` (every request); a certificate without one counts as a worker.
 *
 * Security properties (proto/PROTOCOL.md section 9):
 *   - the socket is a CURVE server with ZAP domain "hone", and ZMQ_ZAP_ENFORCE_DOMAIN
 *     is set, so a handshake that no ZAP handler approves fails: if the authenticator
 *     were not running, nobody (rather than everybody) would get in;
 *   - zauth approves a key only when a certificate in DIR/clients holds it; it reads
 *     the directory again when it changes, so keys can be added or removed while the
 *     broker runs (a removed key keeps the connections it already has);
 *   - the role of a message's sender comes from its connection's User-Id (the Z85
 *     public key, set by zauth), looked up in the broker's own copy of DIR/clients,
 *     never from properties a peer could send; a key's role is read the first time it
 *     sends something, so changing the role of a key that is in use needs a restart.
 *
 * Internal to the broker; everything runs on the reactor thread (zauth on its own).
 * Memory: aborts on out-of-memory. */
#ifndef HONE_BROKER_AUTH_H
#define HONE_BROKER_AUTH_H

#include "err.h"
#include "msg.h"

#define HONE_AUTH_ZAP_DOMAIN "hone"
#define HONE_AUTH_BROKER_CERT "broker.key"           /* public; the secret adds _secret */
#define HONE_AUTH_CLIENTS_DIR "clients"

typedef struct _hone_auth_t hone_auth_t;

/* Reads and checks the key directory, then starts the authenticator. Logs a warning
 * for a secret certificate readable by other users, a certificate without a role, a
 * secret certificate inside DIR/clients and an empty allow-list. Errors (err->message
 * names the file and says how to fix it): HONE_EINVAL (no such directory, no broker
 * certificate or no secret key in it, public and secret keys that do not match, no
 * clients directory, a file in it that is not a certificate, a role other than worker
 * or client), HONE_EIO (the authenticator could not be started, or another ZAP handler
 * is already running in this process). On error *out is NULL. */
int hone_auth_open(hone_auth_t **out, const char *keys_dir, hone_error_t *err);

/* Makes raw (a libzmq ROUTER socket, not yet bound) a CURVE server with this broker's
 * key and the enforced ZAP domain, and checks that its mechanism is CURVE. HONE_EIO
 * when libzmq refuses an option (err says which). */
int hone_auth_apply(hone_auth_t *self, void *raw, hone_error_t *err);

/* May the peer whose connection has this User-Id (NULL or "" when unauthenticated)
 * send a request of type id? HONE_OK, or HONE_EPERM with err->message saying why: no
 * authenticated key, a key no longer in the allow-list, or a `worker` key sending a
 * client request. */
int hone_auth_check(hone_auth_t *self, const char *user_id, hone_msg_id_t id, hone_error_t *err);

/* The broker's public key in Z85 (40 characters); borrowed, valid for self's life. */
const char *hone_auth_public_key(const hone_auth_t *self);
/* Peer certificates found in DIR/clients at open. */
size_t hone_auth_key_count(const hone_auth_t *self);
/* The allow-list directory (DIR/clients); borrowed, valid for self's life. */
const char *hone_auth_clients_dir(const hone_auth_t *self);

/* Stops the authenticator and frees everything. Destroy it after the sockets it
 * protects. Safe on NULL. */
void hone_auth_destroy(hone_auth_t **self_p);

#endif
