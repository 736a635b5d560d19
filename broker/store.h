/* store.h: the broker's durable state in LMDB (the sole LMDB user).
 *
 * One environment in a data directory (DIR/data.mdb, DIR/lock.mdb) with three named
 * databases; keys sort so that a prefix scan returns an experiment's records in order:
 *
 *   "experiments"  name                                        → {config, sobol_drawn, created}
 *   "trials"       name 0x00 be32(index)                       → {status, params, note, reason,
 *                                                                  worker, attempts, created,
 *                                                                  updated}
 *   "readings"     name 0x00 be32(trial) metric 0x00 flag be64(progression)
 *                                                              → {mean, sem, time}
 *
 * flag is 0x00 when the reading has a progression and 0x01 when it has none, and the
 * progression is stored with its sign bit flipped so that keys sort numerically.
 * Values are msgpack maps built with the proto codec's standalone trees; no other
 * encoding is used. Everything handed to a caller is copied out of LMDB before the
 * transaction that read it ends.
 *
 * Writes go through one write transaction at a time: hone_store_begin, any number of
 * puts, then hone_store_commit (durable when it returns HONE_OK: the environment is
 * opened fully synchronous, so a commit is an fdatasync of the data pages and a
 * synchronous write of the meta page) or hone_store_abort. The broker groups many
 * changes into one transaction (registry.h, "group commit"); hone_store_mark and
 * hone_store_rollback undo the puts of one change without losing the others.
 *
 * Map full: when a put or the commit meets MDB_MAP_FULL the store aborts the
 * transaction, doubles the map size while no transaction is open (up to
 * options.map_size_max), replays the puts of the transaction so far and carries on; at
 * the cap it refuses with HONE_ESTORE ("store is full") and the whole transaction is
 * rolled back, so nothing is ever half written and nothing unstored is acknowledged.
 *
 * Reads (hone_store_load, hone_store_count) go through the open write transaction when
 * there is one, so they see its puts; otherwise through a short read transaction.
 *
 * Stale readers: a process killed while it held a reader slot (any process that ever
 * read, without MDB_NOTLS) leaves the slot behind. When the broker is the only process
 * with the environment open, LMDB re-initialises the reader table at open anyway; when
 * another one keeps it open (a backup running mdb_copy, mdb_stat), the table survives,
 * and hone_store_open clears the slots of dead processes (mdb_reader_check). Its
 * "opened DIR cleanly" log line says how many.
 *
 * Errors: LMDB codes never leave this module. MDB_NOTFOUND becomes HONE_ENOTFOUND and
 * every other LMDB failure HONE_ESTORE, with mdb_strerror's text in err->message.
 *
 * Memory: the store aborts on out-of-memory (broker policy, base/alloc.h).
 * Threads: a store is used by one thread (the broker's reactor); it is not shareable.
 * A data directory is locked by the process that opens it (an exclusive flock on
 * DIR/hone.lock), so two brokers never write the same store. */
#ifndef HONE_STORE_H
#define HONE_STORE_H

#include "err.h"
#include "msg.h"

#define HONE_STORE_MAP_SIZE_DEFAULT (1ull << 30)        /* 1 GiB reserved up front */
#define HONE_STORE_MAP_SIZE_MAX_DEFAULT (64ull << 30)   /* growth cap: 64 GiB */
#define HONE_STORE_METRIC_MAX 256                       /* bytes in a metric name (key size) */

typedef struct _hone_store_t hone_store_t;

typedef struct hone_store_options {
    uint64_t map_size;          /* initial map size in bytes; 0: HONE_STORE_MAP_SIZE_DEFAULT */
    uint64_t map_size_max;      /* growth cap; 0: HONE_STORE_MAP_SIZE_MAX_DEFAULT; below
                                   map_size means "never grow" */
} hone_store_options_t;

/* An experiment record. On put, created_ms is kept from an existing record of the same
 * name (so it is the creation time) and only used for a new one. */
typedef struct hone_store_experiment {
    const char *name;           /* [A-Za-z0-9_.-]{1,128} as core enforces; no NUL */
    const char *config;         /* canonical JSON configuration, NUL-terminated */
    uint64_t sobol_drawn;       /* Sobol points drawn so far */
    int64_t created_ms;         /* wall-clock creation time */
} hone_store_experiment_t;

/* A trial record. On put, created_ms is kept from an existing record with the same key
 * and updated_ms is always written. */
typedef struct hone_store_trial {
    uint32_t index;             /* trial index */
    int status;                 /* hone_trial_status_t code (Ax's stored integer) */
    const hone_node_t *params;  /* MAP parameter name → value; borrowed */
    const char *note;           /* "center", "sobol", ...; NULL when none */
    const char *reason;         /* why it failed or was abandoned; NULL when none */
    const char *worker;         /* the worker evaluating it; NULL when none */
    const hone_node_t *attempts; /* ARRAY of its hand-outs to workers (wire.h,
                                   hone_wire_add_attempts); borrowed; NULL when none
                                   (and in records written before leases) */
    int64_t created_ms;         /* wall-clock creation time */
    int64_t updated_ms;         /* wall-clock time of this write */
} hone_store_trial_t;

/* A reading record: the key is (trial, metric, progression); a put replaces. */
typedef struct hone_store_reading {
    uint32_t trial;             /* trial index */
    const char *metric;         /* 1..HONE_STORE_METRIC_MAX bytes, no NUL */
    bool has_progression;       /* false: "no step" */
    int64_t progression;        /* the step, when has_progression */
    double mean;                /* the mean */
    double sem;                 /* standard error, NAN when unknown (stored as nil) */
    int64_t time_ms;            /* wall-clock time of the reading */
} hone_store_reading_t;

/* Opens (creating when missing, with parents) the store in directory dir.
 * options may be NULL for the defaults. Clears stale reader slots left by killed
 * processes (mdb_reader_check) and takes the directory lock.
 * Errors: HONE_EINVAL (empty dir), HONE_ESTORE (cannot create or open the directory or
 * the environment, the directory is locked by another process; err says which and
 * why). On error *out is left NULL. */
int hone_store_open(hone_store_t **out, const char *dir, const hone_store_options_t *options,
                    hone_error_t *err);

/* Aborts an open write transaction, flushes, closes the environment and releases the
 * directory lock. Sets *self_p to NULL; safe on NULL. */
void hone_store_destroy(hone_store_t **self_p);

/* Current size of the memory map in bytes (grows on MDB_MAP_FULL). */
uint64_t hone_store_map_size(const hone_store_t *self);

/* Reader slots of dead processes that hone_store_open cleared (mdb_reader_check). */
int hone_store_stale_readers(const hone_store_t *self);

/* Starts the write transaction. Only one may be open (an assertion).
 * Errors: HONE_ESTORE. */
int hone_store_begin(hone_store_t *self, hone_error_t *err);
/* Commits the write transaction; when it returns HONE_OK the data is on disk. On error
 * the transaction is rolled back (nothing of it is stored). MDB_MAP_FULL at commit grows
 * the map and retries, as for a put.
 * Errors: HONE_ESTORE (including "store full" at the map-size cap). */
int hone_store_commit(hone_store_t *self, hone_error_t *err);
/* Rolls the write transaction back; a no-op when none is open. */
void hone_store_abort(hone_store_t *self);
bool hone_store_in_txn(const hone_store_t *self);

/* A savepoint in the open write transaction: everything put so far. Constant time. */
size_t hone_store_mark(const hone_store_t *self);
/* Undoes every put made after mark (from hone_store_mark in the same transaction); the
 * puts before it stay. Costs a replay of those puts (it is meant for the rare change that
 * fails half-way). Errors: HONE_ESTORE (LMDB failure or the store full during the replay:
 * the whole transaction is then rolled back, hone_store_in_txn is false). */
int hone_store_rollback(hone_store_t *self, size_t mark, hone_error_t *err);

/* Puts into the open write transaction (an assertion if none is open).
 * Errors: HONE_EINVAL (name, metric or key too long or containing NUL) and HONE_ETOOBIG
 * (config text above HONE_PROTO_MAX_STR, which could not be read back): the record is
 * refused before anything is put and the transaction stays open and unchanged.
 * HONE_ESTORE (an LMDB failure, or the store full at its cap): the whole transaction is
 * rolled back (hone_store_in_txn is false); the caller may begin again. */
int hone_store_put_experiment(hone_store_t *self, const hone_store_experiment_t *rec,
                              hone_error_t *err);
int hone_store_put_trial(hone_store_t *self, const char *experiment, const hone_store_trial_t *rec,
                         hone_error_t *err);
int hone_store_put_reading(hone_store_t *self, const char *experiment,
                           const hone_store_reading_t *rec, hone_error_t *err);

/* Callbacks of hone_store_load. Records and the strings and nodes they point to are
 * valid only during the call (they are copies; LMDB memory is never exposed). A
 * callback returning non-zero stops the load; that code is returned. Any may be NULL. */
typedef struct hone_store_visitor {
    int (*experiment)(const hone_store_experiment_t *rec, void *arg, hone_error_t *err);
    int (*trial)(const char *experiment, const hone_store_trial_t *rec, void *arg,
                 hone_error_t *err);
    int (*reading)(const char *experiment, const hone_store_reading_t *rec, void *arg,
                   hone_error_t *err);
    /* After an experiment's trials and readings. */
    int (*end)(const char *experiment, void *arg, hone_error_t *err);
    void *arg;                  /* passed to every callback */
} hone_store_visitor_t;

/* Walks every experiment (name == NULL) or one, in one read transaction (or in the open
 * write transaction, whose puts it then sees): for each experiment in name order, its
 * record, then its trials in index order, then its readings in key order (trial,
 * metric, progression), then end. The visitor must not write to the store.
 * Errors: HONE_ENOTFOUND (name given and not stored), HONE_ESTORE (LMDB failure or a
 * record that does not decode; err names it), or a callback's code. */
int hone_store_load(hone_store_t *self, const char *name, const hone_store_visitor_t *visitor,
                    hone_error_t *err);

/* Numbers of stored records, including the puts of an open write transaction (for tests
 * and logs). Errors: HONE_ESTORE. */
int hone_store_count(hone_store_t *self, size_t *experiments, size_t *trials, size_t *readings,
                     hone_error_t *err);

#endif
