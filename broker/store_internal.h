/* store_internal.h: what store.c, store_records.c and store_load.c share and nothing
 * else includes: the store's body, its named databases, the key size bound, LMDB error
 * translation, the logged put and the big-endian key readers. Not part of store.h. */
#ifndef HONE_BROKER_STORE_INTERNAL_H
#define HONE_BROKER_STORE_INTERNAL_H

#include "store.h"

#include "alloc.h"
#include "log.h"

#include <lmdb.h>

enum {
    HONE_STORE_DB_EXPERIMENTS = 0, HONE_STORE_DB_TRIALS = 1, HONE_STORE_DB_READINGS = 2,
    HONE_STORE_DB_COUNT = 3
};

struct _hone_store_t {
    MDB_env *env;               /* the environment (DIR/data.mdb) */
    MDB_dbi dbi[HONE_STORE_DB_COUNT]; /* named databases, opened once at open */
    MDB_txn *txn;               /* the open write transaction or NULL */
    uint64_t map_size;          /* current map size in bytes */
    uint64_t map_size_max;      /* growth cap in bytes */
    size_t max_key;             /* mdb_env_get_maxkeysize */
    int lock_fd;                /* DIR/hone.lock, held with an exclusive flock */
    char *dir;                  /* the data directory */
    uint8_t *log;               /* puts of the open transaction, replayed after growth */
    size_t log_len;             /* bytes used in log */
    size_t log_cap;             /* bytes allocated for log */
    int stale_readers;          /* reader slots of dead processes cleared at open */
};

/* Large enough for any key LMDB accepts (511 bytes by default); longer keys are refused. */
#define HONE_STORE_KEY_MAX 1024

/* Translates an LMDB code at the edge of the module: MDB_NOTFOUND gives HONE_ENOTFOUND,
 * any other code HONE_ESTORE; err names what failed. Returns the code set. */
int hone_store_mdb_error(hone_error_t *err, int rc, const char *what);

/* Puts key/val into database db of the open write transaction and appends it to the
 * replay log, growing the map on MDB_MAP_FULL. HONE_EINVAL for a key that is empty or
 * longer than LMDB allows (the transaction is intact); HONE_ESTORE otherwise (store.c). */
int hone_store_put(hone_store_t *self, int db, const void *key, size_t klen, const void *val,
                   size_t vlen, hone_error_t *err);

/* Big-endian readers of the integers in keys (store_records.c). */
uint32_t hone_store_get_be32(const uint8_t *p);
uint64_t hone_store_get_be64(const uint8_t *p);

#endif
