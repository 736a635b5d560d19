/* handlers.h: what the broker does with each request of the worker and client roles
 * (proto/PROTOCOL.md message table). No sockets here: a handler takes a decoded
 * request and returns the reply to send, or sends it later through a reply function.
 *
 * Durability: a reply that acknowledges a change is returned only after the store
 * transaction holding the change has committed. A rejected request changes nothing in
 * memory or on disk; a failed write is undone in memory (registry reload) and answered
 * with HONE_ESTORE.
 *
 * Leases (PROTOCOL.md 6): every trial handed to a worker by `ready` is leased to it
 * under a token (the trial's attempt number, sent in the `trial` reply). Every message
 * from the worker about the trial refreshes the lease; when nothing was heard for the
 * experiment's heartbeat interval × liveness, hone_handlers_tick expires it: the attempt
 * is recorded on the trial as "lease expired" and the trial is re-queued (STALE, handed
 * to the next `ready` before any new trial) up to max_retries times, then FAILED. A
 * report under a lease that expired (or another worker's) is answered HONE_ELEASE and
 * changes nothing; a `complete` or `fail` repeated under the same lease gets the first
 * reply again and changes nothing. The lease table itself (lease.h) is not stored: after
 * a restart the leases of an experiment's RUNNING trials are armed again, with a whole
 * window, the first time a request names the experiment.
 *
 * Early stopping (PROTOCOL.md 6.8): for an experiment with an `early_stopping` block, a
 * `progress` reading of the strategy's metric at a progression is followed by a decision
 * for its trial, on curves kept up to date incrementally (stopping.h,
 * hone_stopping_cache_t); a stop marks the trial EARLY_STOPPED with the strategy's reason
 * in the reading's transaction and the reply says {stop: true, reason}. The stop is
 * state: the holder's later progress and heartbeats get it again, `complete` or `fail`
 * acknowledge it (the status stays), and its lease entry stays until then ("stop
 * pending"; an expiry just drops it). Costly decisions (check_safe, very large
 * experiments) run on the generator thread on a copy of the curves; `should_stop`
 * answers Ax's should_stop_trial_early without changing anything. early_stop.c has the
 * measured costs.
 *
 * Model fits off the reactor: with a generator (hone_handlers_use_generator), a `ready`
 * or `next` that needs a model fit, a `best` on the model path and every `predict` hand
 * their experiment to the generator thread and answer when the result comes back; until
 * then the experiment is busy and every request naming it waits, in arrival order
 * (parking.h). Other experiments, heartbeats and `create` are served meanwhile. This
 * gives what a snapshot would (the generation sees every reading acknowledged before the
 * request, and every running trial as a pending point) without copying the experiment:
 * the hand-over is exclusive, and the requests parked behind it wait at most for that
 * one generation.
 *
 * Internal to the broker; every function runs on the reactor thread. Memory: aborts on
 * out-of-memory. */
#ifndef HONE_HANDLERS_H
#define HONE_HANDLERS_H

#include "generator.h"
#include "msg.h"
#include "registry.h"

typedef struct _hone_handlers_t hone_handlers_t;

/* Retry hint sent with no_work when every budgeted trial is running (at most the
 * experiment's heartbeat interval: a lease may expire and give a trial back). */
#define HONE_HANDLERS_RETRY_MS 250
/* Bounds of the lease tick period (hone_handlers_tick_ms). */
#define HONE_HANDLERS_TICK_MIN_MS 5
#define HONE_HANDLERS_TICK_MAX_MS 100
/* Rows of the workers table in a `status` reply (workers_total counts them all). */
#define HONE_HANDLERS_STATUS_WORKERS_MAX 1000
/* Requests that may wait behind model fits at once, all experiments together (each
 * worker has at most one `ready` outstanding, so this is far above any real farm); past
 * it a `ready` is told no_work with a retry hint and a `next` HONE_EAGAIN, so that a
 * peer flooding requests during a fit cannot grow the broker without bound. */
#define HONE_HANDLERS_PARKED_MAX 4096
/* Most trials one `next` may ask for. */
#define HONE_HANDLERS_NEXT_MAX 1000
/* Longest ROUTER routing id (libzmq's limit). */
#define HONE_HANDLERS_ID_MAX 255

/* Who sent a request: what the reactor needs to answer it, now or later. */
typedef struct hone_handlers_peer {
    uint8_t identity[HONE_HANDLERS_ID_MAX]; /* ROUTER routing id */
    size_t id_len;                          /* bytes in identity */
    bool delimiter;                         /* a REQ peer: answer after an empty frame */
} hone_handlers_peer_t;

/* Sends a deferred reply to peer and takes it (*reply becomes NULL). Runs on the
 * reactor thread, from hone_handlers_collect or hone_handlers_finish. */
typedef void (hone_handlers_reply_fn)(void *arg, const hone_handlers_peer_t *peer, hone_msg_t **reply);

/* registry is borrowed and must outlive the handlers. Without a generator every
 * generation runs inline. */
hone_handlers_t *hone_handlers_new(hone_registry_t *registry);
void hone_handlers_destroy(hone_handlers_t **self_p);

/* Runs the generations and `best`s that can be slow (every method but "random_search")
 * and every `predict` on generator (borrowed; it must outlive the handlers, and the
 * caller calls hone_handlers_collect when hone_generator_fd is readable). Replies that
 * wait for them go through reply(arg, ...). Call once, before the first request. */
void hone_handlers_use_generator(hone_handlers_t *self, hone_generator_t *generator,
                                 hone_handlers_reply_fn *reply, void *arg);

/* Handles one request from peer and takes it (*request becomes NULL). Returns the
 * reply (the caller owns it: `ok`, `trial`, `no_work`, `heartbeat` or `error`, carrying
 * the request's seq), or NULL when the reply is deferred: the request started a job on
 * the generator thread (a generation, a model-path `best` or `pareto`, a `predict`, a costly
 * `should_stop`), or it names an experiment that is busy generating and waits behind it
 * (see parking.h). A deferred reply is sent through the reply
 * function later, exactly once (except at shutdown, see hone_handlers_finish). Replies
 * to one peer may therefore come out of order (PROTOCOL.md 2.1: match them by seq).
 * now_ms is the monotonic time, for leases. */
hone_msg_t *hone_handlers_dispatch(hone_handlers_t *self, const hone_handlers_peer_t *peer,
                                   hone_msg_t **request, int64_t now_ms);

/* Finishes the generations that came back: stores their trials, answers their
 * requests, then serves the requests parked behind them in arrival order (which may
 * start the next generation). Call when hone_generator_fd is readable. */
void hone_handlers_collect(hone_handlers_t *self, int64_t now_ms);

/* For shutdown; blocks. Waits for the generations already handed to the generator (at
 * most one per busy experiment), stores and answers them, and serves the requests
 * parked behind them, except those that would start another slow generation: they
 * are dropped unanswered, like requests still unread in the socket, and the peer
 * resends them (PROTOCOL.md 2.1 item 7); a parked `best` or `predict` is answered
 * inline. No model fit starts on the generator from here on.
 * Idempotent; a no-op without a generator. */
void hone_handlers_finish(hone_handlers_t *self);

/* An `error` reply {code, name, message} for seq; message NULL uses hone_strerror. */
hone_msg_t *hone_handlers_error(uint64_t seq, int code, const char *message);

/* Number of leases held (running trials handed to workers). */
size_t hone_handlers_lease_count(const hone_handlers_t *self);

/* Expires every lease whose deadline is at or before now_ms (monotonic): each trial is
 * re-queued or failed and stored (a write that fails leaves the trial RUNNING and its
 * lease re-armed for another window). Returns the number of leases expired. Costs one
 * comparison when none is due, whatever the number of leases (lease.h). Call it every
 * hone_handlers_tick_ms milliseconds. */
size_t hone_handlers_tick(hone_handlers_t *self, int64_t now_ms);

/* Group commit: tells the handlers that a batch failed (registry.h,
 * HONE_REGISTRY_BATCH_FAILED). The registry has reloaded every experiment the batch
 * changed, so a lease armed or dropped in the batch may no longer match its trial; the
 * handlers re-sync the lease table (hone_handlers_resync_leases) before they serve a
 * request, collect a job or tick again. It only records that, so it may be called from
 * inside the registry's batch function (which must not call back into the registry). */
void hone_handlers_batch_failed(hone_handlers_t *self);

/* Brings the lease table in line with the experiments as the registry holds them now:
 * drops every lease whose trial is no longer RUNNING under that hand-out (the lease's
 * token and worker), except a "stop pending" one (PROTOCOL.md 6.8: the trial was
 * stopped early during that hand-out and the worker has not acknowledged it yet), and
 * arms a lease, a whole window from now_ms, for every RUNNING trial handed to a worker
 * that has none (as after a restart). Returns the number of leases dropped. Not from
 * inside the registry's batch function. */
size_t hone_handlers_resync_leases(hone_handlers_t *self, int64_t now_ms);

/* The period to tick at: a tenth of the shortest heartbeat interval of any lease so far,
 * within [HONE_HANDLERS_TICK_MIN_MS, HONE_HANDLERS_TICK_MAX_MS]; it can only shrink. A
 * lease is expired at most one period after its deadline. */
int hone_handlers_tick_ms(const hone_handlers_t *self);

#endif
