/* lease.h: the broker's lease table: which worker holds which running trial, when each
 * lease expires, and which workers were seen lately (for `status`).
 *
 * A lease is keyed by (experiment, trial) and carries the token the worker must echo
 * (the trial's attempt number), the worker's name and ROUTER routing id, and its
 * deadline: the time it was last heard from plus its expiry window (heartbeat interval
 * × liveness). Deadlines live in a binary min-heap, so
 *   - adding, touching or removing a lease costs O(log n),
 *   - finding the expired leases costs O(1) when none is due (one comparison with the
 *     earliest deadline) and O(log n) per expired lease,
 * which keeps the reactor's tick independent of the number of leases: 10 000 leases
 * cost a tick what 10 do. hone_lease_ops counts the heap's comparisons and moves, so
 * tests can check that without timing anything. A second index by routing id serves
 * heartbeats that name no trial (older peers).
 *
 * The roster remembers, per experiment, the named workers seen in the last
 * HONE_LEASE_ROSTER_KEEP_MS (idle ones included), for the workers table of `status`.
 *
 * Times are monotonic milliseconds given by the caller (no clock is read here, so tests
 * drive it with a fake clock). Internal to the broker; used by the reactor thread only.
 * Memory: aborts on out-of-memory (broker policy). */
#ifndef HONE_LEASE_H
#define HONE_LEASE_H

#include "err.h"

/* Longest ROUTER routing id (libzmq's limit). */
#define HONE_LEASE_ID_MAX 255
/* Idle workers stay in the roster this long after their last message. */
#define HONE_LEASE_ROSTER_KEEP_MS (5 * 60 * 1000)

typedef struct _hone_lease_table_t hone_lease_table_t;

/* One lease. Owned by the table; read its fields, change them only through the table
 * (the heap and the indexes depend on them). Valid until it is removed or expired. */
typedef struct hone_lease {
    char *experiment;                   /* experiment name */
    uint32_t trial;                     /* trial index */
    uint64_t token;                     /* the lease token: the trial's attempt number */
    char *worker;                       /* the name the worker gave; "" when none */
    uint8_t identity[HONE_LEASE_ID_MAX]; /* its current ROUTER routing id */
    size_t id_len;                      /* bytes in identity; 0: not known (after a restart) */
    int64_t assigned_ms;                /* when the trial was handed out (or the lease re-armed) */
    int64_t last_seen_ms;               /* when the worker was last heard from */
    int64_t expiry_ms;                  /* window: heartbeat interval × liveness */
    int64_t deadline_ms;                /* last_seen_ms + expiry_ms */
} hone_lease_t;

/* A row of the workers table (hone_lease_workers). */
typedef struct hone_lease_worker {
    char *worker;                       /* name, or "@" and the routing id in hex when none */
    int64_t last_seen_ms;               /* monotonic time of its last message */
    bool leased;                        /* it holds a lease (the fields below are set) */
    uint32_t trial;                     /* the leased trial */
    uint64_t token;                     /* the lease token */
    int64_t assigned_ms;                /* when the lease started */
} hone_lease_worker_t;

hone_lease_table_t *hone_lease_table_new(void);
void hone_lease_table_destroy(hone_lease_table_t **self_p);

/* Leases held. */
size_t hone_lease_count(const hone_lease_table_t *self);

/* Adds a lease (replacing one on the same trial) with deadline now_ms + expiry_ms.
 * worker may be NULL (""); identity may be NULL with id_len 0 (not known yet; a lease
 * re-armed after a restart). Returns the lease, owned by the table. */
hone_lease_t *hone_lease_add(hone_lease_table_t *self, const char *experiment, uint32_t trial, uint64_t token,
                             const char *worker, const uint8_t *identity, size_t id_len, int64_t expiry_ms,
                             int64_t now_ms);

/* The lease on (experiment, trial), or NULL. */
hone_lease_t *hone_lease_find(const hone_lease_table_t *self, const char *experiment, uint32_t trial);

/* The worker was heard from: its deadline moves to now_ms + expiry. When identity is not
 * NULL the lease follows that routing id from now on (the worker reconnected). */
void hone_lease_touch(hone_lease_table_t *self, hone_lease_t *lease, const uint8_t *identity, size_t id_len,
                      int64_t now_ms);

/* Touches every lease held through routing id identity (a heartbeat that names no
 * lease). Returns how many. */
size_t hone_lease_touch_identity(hone_lease_table_t *self, const uint8_t *identity, size_t id_len,
                                 int64_t now_ms);

/* Removes and frees a lease. */
void hone_lease_remove(hone_lease_table_t *self, hone_lease_t *lease);

/* Tells whether lease is kept (hone_lease_keep_if). */
typedef bool (hone_lease_keep_fn)(void *arg, const hone_lease_t *lease);
/* Removes and frees every lease for which keep(arg, lease) returns false; keep must not
 * change the table. Costs O(n) calls plus O(log n) per lease removed. Returns how many
 * were removed. */
size_t hone_lease_keep_if(hone_lease_table_t *self, hone_lease_keep_fn *keep, void *arg);

/* The lease with the earliest deadline when that deadline is at or before now_ms, taken
 * out of the table (the caller frees it with hone_lease_free), else NULL. One comparison
 * when nothing is due. */
hone_lease_t *hone_lease_take_expired(hone_lease_table_t *self, int64_t now_ms);
/* Frees a lease taken out of the table. Safe on NULL. */
void hone_lease_free(hone_lease_t **lease_p);

/* The earliest deadline, or INT64_MAX without leases. */
int64_t hone_lease_next_deadline(const hone_lease_table_t *self);

/* Comparisons and element moves the heap has made since the table was created. */
uint64_t hone_lease_ops(const hone_lease_table_t *self);

/* The roster: a worker (named, or known by its routing id only) sent a message about
 * experiment at now_ms. */
void hone_lease_seen(hone_lease_table_t *self, const char *experiment, const char *worker,
                     const uint8_t *identity, size_t id_len, int64_t now_ms);

/* The workers of experiment: every lease holder and every worker seen in the last
 * HONE_LEASE_ROSTER_KEEP_MS, most recently seen first. *rows_out is a new array of
 * *n_out rows (free with hone_lease_workers_free); NULL when there are none. */
void hone_lease_workers(hone_lease_table_t *self, const char *experiment, int64_t now_ms,
                        hone_lease_worker_t **rows_out, size_t *n_out);
void hone_lease_workers_free(hone_lease_worker_t **rows_p, size_t n);

/* Writes "@" and the first bytes of identity in hex to buf: the name of a worker that
 * gave none. */
void hone_lease_id_name(const uint8_t *identity, size_t id_len, char *buf, size_t size);

#endif
