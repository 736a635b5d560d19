/* transport.h: one DEALER connection to a broker, with request/reply matching by seq
 * and the lazy-pirate retry (on a timeout: close the socket, wait a back-off that
 * doubles, connect a new one, send again with the same seq). Internal to the SDK; the only module that calls libzmq.
 *
 * Uses libzmq directly rather than czmq: czmq keeps a process-wide context, installs
 * SIGINT/SIGTERM handlers, prints warnings at exit and aborts on OOM, none of which a
 * library embedded in a host process may do (CONVENTIONS.md §10, §14, §19). */
#ifndef HONE_SDK_TRANSPORT_H
#define HONE_SDK_TRANSPORT_H

#include "err.h"
#include "log.h"
#include "msg.h"
#include "hone.h"

typedef struct _hone_transport_t hone_transport_t;

/* Validates opts (NULL: defaults) and connects a DEALER to endpoint (NULL: the default).
 * libzmq picks the routing id; a new socket gets a new one (PROTOCOL.md 2.4). Errors:
 * HONE_EINVAL (bad endpoint or options), HONE_ENOMEM, HONE_EIO; err says which. */
int hone_transport_open(hone_transport_t **out, const char *endpoint, const hone_options_t *opts,
                        hone_error_t *err);
void hone_transport_destroy(hone_transport_t **self_p);
/* Encrypts and authenticates with CURVE from now on: reads this peer's key pair from
 * key_path (a secret certificate, NAME.key_secret; NAME.key works when its _secret
 * sibling exists) and the broker's public key from broker_key_path (cert.h), then
 * replaces the socket. While a socket exists, a refusal of the broker (a key not in its
 * allow-list, or a mechanism mismatch) ends the wait with HONE_EPERM. Errors: HONE_EINVAL
 * (a missing argument, a file that is not a certificate, no secret key), HONE_EIO
 * (cannot read a file), HONE_EUNSUPPORTED (libzmq without CURVE), HONE_ENOMEM; on error
 * nothing changes. */
int hone_transport_set_curve(hone_transport_t *self, const char *key_path, const char *broker_key_path,
                             hone_error_t *err);
void hone_transport_set_log(hone_transport_t *self, hone_log_fn *fn, void *arg);
/* Logs through the installed function, if any (the SDK is silent otherwise). */
void hone_transport_log(hone_transport_t *self, hone_log_level_t level, const char *fmt, ...) HONE_PRINTF(3, 4);
const char *hone_transport_endpoint(const hone_transport_t *self);

/* Sends request (its seq is set here; the caller keeps ownership) and waits for the reply
 * with the same seq. An `error` reply becomes its code, with the broker's message in err;
 * any other reply is returned in *reply_out (the caller destroys it). Errors as listed in
 * hone.h for every request (HONE_ETIMEDOUT, HONE_EINTR, HONE_EPROTO, HONE_EPERM, ...). */
int hone_transport_call(hone_transport_t *self, hone_msg_t *request, hone_msg_t **reply_out,
                        hone_error_t *err);

/* A new request of type id whose body has `experiment` (when not NULL). HONE_ENOMEM. */
int hone_transport_request(hone_msg_id_t id, const char *experiment, hone_msg_t **out, hone_error_t *err);

/* Sleeps ms milliseconds; HONE_EINTR when a signal arrives first. */
int hone_transport_sleep(int32_t ms, hone_error_t *err);

#endif
