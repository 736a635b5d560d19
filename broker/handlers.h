/* handlers.h: what the broker does with each request of the worker and client roles
 * (proto/PROTOCOL.md message table). No sockets here: a handler takes a decoded
 * request and returns the reply to send.
 *
 * Durability: a reply that acknowledges a change is returned only after the store
 * transaction holding the change has committed. A rejected request changes nothing in
 * memory or on disk; a failed write is undone in memory (registry reload) and answered
 * with HONE_ESTORE.
 *
 * It also keeps the lease table: which worker identity holds which running trial, and
 * when that worker was last heard from (expiry comes with the lease work).
 *
 * Internal to the broker; one thread. Memory: aborts on out-of-memory. */
#ifndef HONE_HANDLERS_H
#define HONE_HANDLERS_H

#include "msg.h"
#include "registry.h"

typedef struct _hone_handlers_t hone_handlers_t;

/* Retry hint sent with no_work when every budgeted trial is running. */
#define HONE_HANDLERS_RETRY_MS 250
/* Most trials one `next` may ask for. */
#define HONE_HANDLERS_NEXT_MAX 1000

/* registry is borrowed and must outlive the handlers. */
hone_handlers_t *hone_handlers_new(hone_registry_t *registry);
void hone_handlers_destroy(hone_handlers_t **self_p);

/* Handles one request from the peer with routing id identity[0..id_len) and returns
 * its reply (never NULL; the caller owns it): `ok`, `trial`, `no_work`, `heartbeat` or
 * `error`, carrying the request's seq. now_ms is the monotonic time, for leases. */
hone_msg_t *hone_handlers_dispatch(hone_handlers_t *self, const uint8_t *identity, size_t id_len,
                                   const hone_msg_t *request, int64_t now_ms);

/* An `error` reply {code, name, message} for seq; message NULL uses hone_strerror. */
hone_msg_t *hone_handlers_error(uint64_t seq, int code, const char *message);

/* Number of leases held (running trials handed to workers). */
size_t hone_handlers_lease_count(const hone_handlers_t *self);

#endif
