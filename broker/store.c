/* store.c: LMDB environment, key layout, value records and error translation. */
#include "store.h"

#include "alloc.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <math.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Replay-log capacity kept between transactions; a larger buffer is freed at commit. */
#define S_LOG_KEEP (1u << 20)

enum { S_DB_EXPERIMENTS = 0, S_DB_TRIALS = 1, S_DB_READINGS = 2, S_DB_COUNT = 3 };
static const char *const s_db_names[S_DB_COUNT] = { "experiments", "trials", "readings" };

struct _hone_store_t {
    MDB_env *env;               /* the environment (DIR/data.mdb) */
    MDB_dbi dbi[S_DB_COUNT];    /* named databases, opened once at open */
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

/* Translates an LMDB code at the edge of the module. */
static int s_mdb_error(hone_error_t *err, int rc, const char *what)
{
    if (rc == MDB_NOTFOUND)
        return hone_error_set(err, HONE_ENOTFOUND, "%s: not found", what);
    return hone_error_set(err, HONE_ESTORE, "store: %s: %s", what, mdb_strerror(rc));
}

static int s_mkdir_p(const char *dir, hone_error_t *err)
{
    char *path = hone_strdup(dir);
    int rc = HONE_OK;
    for (char *p = path + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char saved = *p;
        *p = '\0';
        if (mkdir(path, 0755) != 0 && errno != EEXIST) {
            rc = hone_error_set(err, HONE_ESTORE, "cannot create data directory '%s': %s", path,
                                strerror(errno));
            break;
        }
        *p = saved;
        if (saved == '\0')
            break;
    }
    hone_strfree(path);
    if (rc == HONE_OK) {
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = hone_error_set(err, HONE_ESTORE, "data directory '%s' is not a directory", dir);
    }
    return rc;
}

static int s_lock_dir(hone_store_t *self, hone_error_t *err)
{
    char *path = hone_sprintf("%s/hone.lock", self->dir);
    self->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int saved = errno;
    hone_strfree(path);
    if (self->lock_fd < 0)
        return hone_error_set(err, HONE_ESTORE, "cannot open lock file in '%s': %s", self->dir,
                              strerror(saved));
    if (flock(self->lock_fd, LOCK_EX | LOCK_NB) != 0) {
        saved = errno;
        if (saved == EWOULDBLOCK)
            return hone_error_set(err, HONE_ESTORE,
                                  "data directory '%s' is in use by another process", self->dir);
        return hone_error_set(err, HONE_ESTORE, "cannot lock data directory '%s': %s", self->dir,
                              strerror(saved));
    }
    return HONE_OK;
}

static void s_refresh_map_size(hone_store_t *self)
{
    MDB_envinfo info;
    if (mdb_env_info(self->env, &info) == MDB_SUCCESS)
        self->map_size = (uint64_t) info.me_mapsize;
}

int hone_store_open(hone_store_t **out, const char *dir, const hone_store_options_t *options,
                    hone_error_t *err)
{
    HONE_ASSERT(out);
    *out = NULL;
    if (!dir || !*dir)
        return hone_error_set(err, HONE_EINVAL, "data directory must not be empty");
    hone_store_t *self = hone_alloc(sizeof *self);
    self->lock_fd = -1;
    self->dir = hone_strdup(dir);
    self->map_size = options && options->map_size ? options->map_size : HONE_STORE_MAP_SIZE_DEFAULT;
    self->map_size_max = options && options->map_size_max ? options->map_size_max
                                                          : HONE_STORE_MAP_SIZE_MAX_DEFAULT;
    int rc = s_mkdir_p(dir, err);
    if (rc == HONE_OK)
        rc = s_lock_dir(self, err);
    if (rc != HONE_OK)
        goto fail;

    int mrc = mdb_env_create(&self->env);
    if (mrc != MDB_SUCCESS) {
        self->env = NULL;
        rc = s_mdb_error(err, mrc, "cannot create environment");
        goto fail;
    }
    if ((mrc = mdb_env_set_maxdbs(self->env, S_DB_COUNT)) != MDB_SUCCESS
        || (mrc = mdb_env_set_mapsize(self->env, (size_t) self->map_size)) != MDB_SUCCESS) {
        rc = s_mdb_error(err, mrc, "cannot configure environment");
        goto fail;
    }
    mrc = mdb_env_open(self->env, dir, 0, 0600);
    if (mrc != MDB_SUCCESS) {
        rc = hone_error_set(err, HONE_ESTORE, "cannot open store in '%s': %s", dir, mdb_strerror(mrc));
        goto fail;
    }
    int dead = 0;
    if ((mrc = mdb_reader_check(self->env, &dead)) != MDB_SUCCESS) {
        rc = s_mdb_error(err, mrc, "reader check");
        goto fail;
    }
    s_refresh_map_size(self);
    if (self->map_size_max < self->map_size)
        self->map_size_max = self->map_size;
    self->max_key = (size_t) mdb_env_get_maxkeysize(self->env);

    MDB_txn *txn = NULL;
    if ((mrc = mdb_txn_begin(self->env, NULL, 0, &txn)) != MDB_SUCCESS) {
        rc = s_mdb_error(err, mrc, "cannot begin transaction");
        goto fail;
    }
    for (int i = 0; i < S_DB_COUNT; i++) {
        if ((mrc = mdb_dbi_open(txn, s_db_names[i], MDB_CREATE, &self->dbi[i])) != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            rc = hone_error_set(err, HONE_ESTORE, "cannot open database '%s': %s", s_db_names[i],
                                mdb_strerror(mrc));
            goto fail;
        }
    }
    if ((mrc = mdb_txn_commit(txn)) != MDB_SUCCESS) {
        rc = s_mdb_error(err, mrc, "cannot create databases");
        goto fail;
    }
    self->stale_readers = dead;
    /* The line the crash tests look for: the environment opened and its databases are
     * readable, and how many reader slots of killed processes were reclaimed. */
    hone_log_info("store", "opened '%s' cleanly: map %llu MiB, %d stale reader slot(s) cleared",
                  dir, (unsigned long long) (self->map_size >> 20), dead);
    *out = self;
    return HONE_OK;
fail:
    hone_store_destroy(&self);
    return rc;
}

void hone_store_destroy(hone_store_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_store_t *self = *self_p;
    if (!self)
        return;
    if (self->env) {
        hone_store_abort(self);
        mdb_env_sync(self->env, 1);
        mdb_env_close(self->env);
    }
    if (self->lock_fd >= 0)
        close(self->lock_fd);    /* releases the flock */
    hone_free(self->log);
    hone_strfree(self->dir);
    hone_free(self);
    *self_p = NULL;
}

uint64_t hone_store_map_size(const hone_store_t *self)
{
    HONE_ASSERT(self);
    return self->map_size;
}

int hone_store_stale_readers(const hone_store_t *self)
{
    HONE_ASSERT(self);
    return self->stale_readers;
}

/* ---- write transactions ---- */

static int s_txn_begin(hone_store_t *self, hone_error_t *err)
{
    int mrc = mdb_txn_begin(self->env, NULL, 0, &self->txn);
    if (mrc == MDB_MAP_RESIZED) {
        /* Another process grew the map (not expected with the directory lock). */
        mdb_env_set_mapsize(self->env, 0);
        s_refresh_map_size(self);
        mrc = mdb_txn_begin(self->env, NULL, 0, &self->txn);
    }
    if (mrc != MDB_SUCCESS) {
        self->txn = NULL;
        return s_mdb_error(err, mrc, "cannot begin write transaction");
    }
    return HONE_OK;
}

int hone_store_begin(hone_store_t *self, hone_error_t *err)
{
    HONE_ASSERT(self);
    HONE_ASSERT(!self->txn);
    self->log_len = 0;
    return s_txn_begin(self, err);
}

void hone_store_abort(hone_store_t *self)
{
    HONE_ASSERT(self);
    if (self->txn)
        mdb_txn_abort(self->txn);
    self->txn = NULL;
    self->log_len = 0;
}

bool hone_store_in_txn(const hone_store_t *self)
{
    HONE_ASSERT(self);
    return self->txn != NULL;
}

/* The replay log holds [db u8][klen u32][vlen u32][key][value] in host order: it lives
 * only in memory, for the duration of one transaction. */
static void s_log_append(hone_store_t *self, int db, const void *key, size_t klen, const void *val,
                         size_t vlen)
{
    size_t need = 1 + 4 + 4 + klen + vlen;
    if (self->log_len + need > self->log_cap) {
        size_t cap = self->log_cap ? self->log_cap : 4096;
        while (cap < self->log_len + need)
            cap *= 2;
        self->log = hone_realloc_array(self->log, cap, 1);
        self->log_cap = cap;
    }
    uint8_t *p = self->log + self->log_len;
    uint32_t k32 = (uint32_t) klen, v32 = (uint32_t) vlen;
    p[0] = (uint8_t) db;
    memcpy(p + 1, &k32, 4);
    memcpy(p + 5, &v32, 4);
    memcpy(p + 9, key, klen);
    memcpy(p + 9 + klen, val, vlen);
    self->log_len += need;
}

/* Starts the write transaction afresh and replays the first limit bytes of the log into
 * it: after MDB_MAP_FULL (grow true: the transaction is unusable, or already freed by a
 * failed commit; the map is grown first, with no transaction open, as
 * mdb_env_set_mapsize requires) and for a rollback to a mark (grow false). The map keeps
 * growing while the replay does not fit, up to map_size_max; at the cap the store
 * refuses. On failure nothing is left open and the log is emptied. */
static int s_restart(hone_store_t *self, size_t limit, bool grow, hone_error_t *err)
{
    for (;;) {
        if (self->txn)
            mdb_txn_abort(self->txn);
        self->txn = NULL;
        if (grow) {
            if (self->map_size >= self->map_size_max) {
                self->log_len = 0;
                hone_log_err("store", "store is full: map size %llu bytes reached the cap; refusing writes",
                             (unsigned long long) self->map_size);
                return hone_error_set(err, HONE_ESTORE,
                                      "store is full (map size %llu bytes is at its cap); nothing was written",
                                      (unsigned long long) self->map_size);
            }
            uint64_t grown = self->map_size * 2;
            if (grown > self->map_size_max || grown < self->map_size)
                grown = self->map_size_max;
            int mrc = mdb_env_set_mapsize(self->env, (size_t) grown);
            if (mrc != MDB_SUCCESS) {
                self->log_len = 0;
                return s_mdb_error(err, mrc, "cannot grow the map");
            }
            uint64_t before = self->map_size;
            s_refresh_map_size(self);
            if (self->map_size <= before)
                self->map_size = grown;
            hone_log_warn("store", "store map full: grown from %llu to %llu bytes",
                          (unsigned long long) before, (unsigned long long) self->map_size);
        }
        int rc = s_txn_begin(self, err);
        if (rc != HONE_OK) {
            self->log_len = 0;
            return rc;
        }
        grow = false;
        for (size_t off = 0; off < limit;) {
            const uint8_t *p = self->log + off;
            uint32_t klen, vlen;
            memcpy(&klen, p + 1, 4);
            memcpy(&vlen, p + 5, 4);
            MDB_val k = { .mv_size = klen, .mv_data = (void *) (p + 9) };
            MDB_val v = { .mv_size = vlen, .mv_data = (void *) (p + 9 + klen) };
            int mrc = mdb_put(self->txn, self->dbi[p[0]], &k, &v, 0);
            if (mrc == MDB_MAP_FULL) {
                grow = true;
                break;
            }
            if (mrc != MDB_SUCCESS) {
                hone_store_abort(self);
                return s_mdb_error(err, mrc, "replay");
            }
            off += 9 + (size_t) klen + vlen;
        }
        if (!grow) {
            self->log_len = limit;
            return HONE_OK;
        }
    }
}

static int s_grow_and_replay(hone_store_t *self, hone_error_t *err)
{
    return s_restart(self, self->log_len, true, err);
}

size_t hone_store_mark(const hone_store_t *self)
{
    HONE_ASSERT(self && self->txn);
    return self->log_len;
}

int hone_store_rollback(hone_store_t *self, size_t mark, hone_error_t *err)
{
    HONE_ASSERT(self && self->txn);
    HONE_ASSERT(mark <= self->log_len);
    if (mark == self->log_len)
        return HONE_OK;
    /* LMDB has no savepoints short of nested transactions, which cost two large
     * allocations each; a rollback is rare (a change refused half-way), so it replays
     * the puts before the mark into a new transaction instead. */
    return s_restart(self, mark, false, err);
}

static int s_put(hone_store_t *self, int db, const void *key, size_t klen, const void *val,
                 size_t vlen, hone_error_t *err)
{
    HONE_ASSERT(self->txn);
    if (klen == 0 || klen > self->max_key)
        return hone_error_set(err, HONE_EINVAL, "store key of %zu bytes (limit %zu)", klen,
                              self->max_key);
    for (;;) {
        MDB_val k = { .mv_size = klen, .mv_data = (void *) key };
        MDB_val v = { .mv_size = vlen, .mv_data = (void *) val };
        int mrc = mdb_put(self->txn, self->dbi[db], &k, &v, 0);
        if (mrc == MDB_SUCCESS) {
            s_log_append(self, db, key, klen, val, vlen);
            return HONE_OK;
        }
        if (mrc != MDB_MAP_FULL) {
            hone_store_abort(self);
            return s_mdb_error(err, mrc, "put");
        }
        int rc = s_grow_and_replay(self, err);
        if (rc != HONE_OK)
            return rc;
    }
}

int hone_store_commit(hone_store_t *self, hone_error_t *err)
{
    HONE_ASSERT(self);
    HONE_ASSERT(self->txn);
    for (;;) {
        int mrc = mdb_txn_commit(self->txn);
        self->txn = NULL;     /* freed by the commit whatever its result */
        if (mrc == MDB_SUCCESS) {
            self->log_len = 0;
            if (self->log_cap > S_LOG_KEEP) {
                /* a large batch went through: do not keep its buffer for ever */
                hone_free(self->log);
                self->log = NULL;
                self->log_cap = 0;
            }
            return HONE_OK;
        }
        if (mrc != MDB_MAP_FULL) {
            self->log_len = 0;
            return s_mdb_error(err, mrc, "commit");
        }
        int rc = s_grow_and_replay(self, err);
        if (rc != HONE_OK)
            return rc;
    }
}

/* ---- keys and values ---- */

static void s_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24); p[1] = (uint8_t) (v >> 16); p[2] = (uint8_t) (v >> 8); p[3] = (uint8_t) v;
}

static uint32_t s_get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void s_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

static uint64_t s_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Large enough for any key LMDB accepts (511 bytes by default); longer keys are refused. */
#define S_KEY_MAX 1024

static int s_check_name(const char *name, hone_error_t *err)
{
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len > 255)
        return hone_error_set(err, HONE_EINVAL, "experiment name must have 1 to 255 bytes");
    return HONE_OK;
}

static size_t s_trial_key(uint8_t *key, const char *name, uint32_t index)
{
    size_t n = strlen(name);
    memcpy(key, name, n);
    key[n] = 0;
    s_be32(key + n + 1, index);
    return n + 5;
}

static size_t s_reading_key(uint8_t *key, const char *name, const hone_store_reading_t *rec)
{
    size_t n = s_trial_key(key, name, rec->trial);
    size_t m = strlen(rec->metric);
    memcpy(key + n, rec->metric, m);
    n += m;
    key[n++] = 0;
    key[n++] = rec->has_progression ? 0x00 : 0x01;
    uint64_t prog = rec->has_progression ? (uint64_t) rec->progression ^ (1ull << 63) : 0;
    s_be64(key + n, prog);
    return n + 8;
}

/* Encodes a finished record tree and puts it; the tree is destroyed. */
static int s_put_node(hone_store_t *self, int db, const uint8_t *key, size_t klen, hone_node_t **node,
                      hone_error_t *err)
{
    uint8_t *data = NULL;
    size_t size = 0;
    int rc = hone_node_encode(*node, &data, &size);
    hone_node_destroy(node);
    if (rc != HONE_OK) {
        HONE_ASSERT(rc != HONE_ENOMEM);   /* broker policy: OOM aborts */
        return hone_error_set(err, rc, "cannot encode store record: %s", hone_strerror(rc));
    }
    rc = s_put(self, db, key, klen, data, size, err);
    hone_free(data);
    return rc;
}

/* Reads the "created" field of an existing record in the write transaction; 0 if none. */
static int64_t s_existing_created(hone_store_t *self, int db, const uint8_t *key, size_t klen)
{
    MDB_val k = { .mv_size = klen, .mv_data = (void *) key };
    MDB_val v;
    if (mdb_get(self->txn, self->dbi[db], &k, &v) != MDB_SUCCESS)
        return 0;
    hone_node_t *node = NULL;
    int64_t created = 0;
    if (hone_node_decode(v.mv_data, v.mv_size, &node, NULL) == HONE_OK) {
        const hone_node_t *c = hone_node_get(node, "created");
        if (c && hone_node_type(c) == HONE_NODE_INT)
            created = hone_node_int(c);
    }
    hone_node_destroy(&node);
    return created;
}

static hone_node_t *s_new_map(void)
{
    hone_node_t *node = hone_node_new_map();
    HONE_ASSERT(node);
    return node;
}

/* Builders return NULL only on allocation failure, which aborts the broker. */
#define S_ADD(call) HONE_ASSERT((call) != NULL)

/* Deep copy of a node into a MAP or ARRAY parent (key NULL for an array). */
static void s_copy_node(hone_node_t *parent, const char *key, const hone_node_t *src)
{
    size_t len = 0;
    const char *s;
    switch (hone_node_type(src)) {
    case HONE_NODE_NIL: S_ADD(hone_node_add_nil(parent, key)); break;
    case HONE_NODE_BOOL: S_ADD(hone_node_add_bool(parent, key, hone_node_bool(src))); break;
    case HONE_NODE_INT: S_ADD(hone_node_add_int(parent, key, hone_node_int(src))); break;
    case HONE_NODE_FLOAT: S_ADD(hone_node_add_float(parent, key, hone_node_float(src))); break;
    case HONE_NODE_STR:
        s = hone_node_str(src, &len);
        S_ADD(hone_node_add_strn(parent, key, s, len));
        break;
    case HONE_NODE_BIN:
        s = hone_node_str(src, &len);
        S_ADD(hone_node_add_bin(parent, key, s, len));
        break;
    case HONE_NODE_ARRAY: {
        hone_node_t *arr = hone_node_add_array(parent, key);
        HONE_ASSERT(arr);
        for (size_t i = 0; i < hone_node_len(src); i++)
            s_copy_node(arr, NULL, hone_node_at(src, i));
        break;
    }
    case HONE_NODE_MAP: {
        hone_node_t *map = hone_node_add_map(parent, key);
        HONE_ASSERT(map);
        for (size_t i = 0; i < hone_node_len(src); i++)
            s_copy_node(map, hone_node_key_at(src, i), hone_node_at(src, i));
        break;
    }
    }
}

int hone_store_put_experiment(hone_store_t *self, const hone_store_experiment_t *rec,
                              hone_error_t *err)
{
    HONE_ASSERT(self && rec && rec->config);
    HONE_ASSERT(self->txn);
    int rc = s_check_name(rec->name, err);
    if (rc == HONE_OK && strlen(rec->config) > HONE_PROTO_MAX_STR)
        rc = hone_error_set(err, HONE_ETOOBIG, "configuration of %zu bytes exceeds the %u-byte limit",
                            strlen(rec->config), (unsigned) HONE_PROTO_MAX_STR);
    if (rc != HONE_OK)
        return rc;      /* refused before anything was put: the transaction is intact */
    size_t klen = strlen(rec->name);
    int64_t created = s_existing_created(self, S_DB_EXPERIMENTS, (const uint8_t *) rec->name, klen);
    hone_node_t *node = s_new_map();
    S_ADD(hone_node_add_str(node, "config", rec->config));
    S_ADD(hone_node_add_int(node, "sobol_drawn", (int64_t) rec->sobol_drawn));
    S_ADD(hone_node_add_int(node, "created", created ? created : rec->created_ms));
    return s_put_node(self, S_DB_EXPERIMENTS, (const uint8_t *) rec->name, klen, &node, err);
}

int hone_store_put_trial(hone_store_t *self, const char *experiment, const hone_store_trial_t *rec,
                         hone_error_t *err)
{
    HONE_ASSERT(self && rec);
    HONE_ASSERT(self->txn);
    int rc = s_check_name(experiment, err);
    if (rc == HONE_OK && (!rec->params || hone_node_type(rec->params) != HONE_NODE_MAP))
        rc = hone_error_set(err, HONE_EINVAL, "trial %u: params must be a map", rec->index);
    if (rc != HONE_OK)
        return rc;      /* refused before anything was put: the transaction is intact */
    uint8_t key[S_KEY_MAX];
    size_t klen = s_trial_key(key, experiment, rec->index);
    int64_t created = s_existing_created(self, S_DB_TRIALS, key, klen);
    hone_node_t *node = s_new_map();
    S_ADD(hone_node_add_int(node, "status", rec->status));
    s_copy_node(node, "params", rec->params);
    if (rec->note)
        S_ADD(hone_node_add_str(node, "note", rec->note));
    if (rec->reason)
        S_ADD(hone_node_add_str(node, "reason", rec->reason));
    if (rec->worker)
        S_ADD(hone_node_add_str(node, "worker", rec->worker));
    if (rec->attempts)
        s_copy_node(node, "attempts", rec->attempts);
    S_ADD(hone_node_add_int(node, "created", created ? created : rec->created_ms));
    S_ADD(hone_node_add_int(node, "updated", rec->updated_ms));
    return s_put_node(self, S_DB_TRIALS, key, klen, &node, err);
}

int hone_store_put_reading(hone_store_t *self, const char *experiment,
                           const hone_store_reading_t *rec, hone_error_t *err)
{
    HONE_ASSERT(self && rec);
    HONE_ASSERT(self->txn);
    int rc = s_check_name(experiment, err);
    size_t mlen = rec->metric ? strlen(rec->metric) : 0;
    if (rc == HONE_OK && (mlen == 0 || mlen > HONE_STORE_METRIC_MAX))
        rc = hone_error_set(err, HONE_EINVAL, "metric name must have 1 to %d bytes",
                            HONE_STORE_METRIC_MAX);
    if (rc != HONE_OK)
        return rc;      /* refused before anything was put: the transaction is intact */
    uint8_t key[S_KEY_MAX];
    size_t klen = s_reading_key(key, experiment, rec);
    hone_node_t *node = s_new_map();
    S_ADD(hone_node_add_float(node, "mean", rec->mean));
    if (isnan(rec->sem))
        S_ADD(hone_node_add_nil(node, "sem"));
    else
        S_ADD(hone_node_add_float(node, "sem", rec->sem));
    S_ADD(hone_node_add_int(node, "time", rec->time_ms));
    return s_put_node(self, S_DB_READINGS, key, klen, &node, err);
}

/* ---- loading ---- */

/* Field readers over a decoded record; they fail with HONE_ESTORE naming the record. */
static int s_field_int(const hone_node_t *rec, const char *field, int64_t *out, const char *what,
                       hone_error_t *err)
{
    const hone_node_t *n = hone_node_get(rec, field);
    if (!n || hone_node_type(n) != HONE_NODE_INT)
        return hone_error_set(err, HONE_ESTORE, "store: corrupt %s: field '%s' must be int", what, field);
    *out = hone_node_int(n);
    return HONE_OK;
}

static int s_field_num(const hone_node_t *rec, const char *field, double *out, bool nil_ok,
                       const char *what, hone_error_t *err)
{
    const hone_node_t *n = hone_node_get(rec, field);
    hone_node_type_t t = n ? hone_node_type(n) : HONE_NODE_NIL;
    if (t == HONE_NODE_NIL && nil_ok) {
        *out = NAN;
        return HONE_OK;
    }
    if (t != HONE_NODE_INT && t != HONE_NODE_FLOAT)
        return hone_error_set(err, HONE_ESTORE, "store: corrupt %s: field '%s' must be a number",
                              what, field);
    *out = hone_node_float(n);
    return HONE_OK;
}

/* An optional string: absent or nil gives NULL. */
static int s_field_str(const hone_node_t *rec, const char *field, const char **out, bool required,
                       const char *what, hone_error_t *err)
{
    const hone_node_t *n = hone_node_get(rec, field);
    *out = NULL;
    if (!n || hone_node_type(n) == HONE_NODE_NIL) {
        if (required)
            return hone_error_set(err, HONE_ESTORE, "store: corrupt %s: field '%s' missing", what, field);
        return HONE_OK;
    }
    if (hone_node_type(n) != HONE_NODE_STR)
        return hone_error_set(err, HONE_ESTORE, "store: corrupt %s: field '%s' must be str", what, field);
    *out = hone_node_str(n, NULL);
    return HONE_OK;
}

/* Decodes a value into a tree owned by the caller (a copy: LMDB memory stays inside). */
static int s_decode(const MDB_val *v, hone_node_t **out, const char *what, hone_error_t *err)
{
    hone_error_t derr;
    hone_error_clear(&derr);
    int rc = hone_node_decode(v->mv_data, v->mv_size, out, &derr);
    if (rc == HONE_OK && hone_node_type(*out) != HONE_NODE_MAP)
        rc = HONE_EPROTO;
    if (rc != HONE_OK) {
        hone_node_destroy(out);
        HONE_ASSERT(rc != HONE_ENOMEM);
        return hone_error_set(err, HONE_ESTORE, "store: corrupt %s: %s", what,
                              derr.message[0] ? derr.message : "not a map");
    }
    return HONE_OK;
}

typedef struct {
    hone_store_t *store;
    MDB_txn *txn;
    const hone_store_visitor_t *visitor;
    uint8_t prefix[S_KEY_MAX];  /* name 0x00 */
    size_t prefix_len;
} s_loader_t;

static int s_load_trials(s_loader_t *ld, const char *name, hone_error_t *err)
{
    MDB_cursor *cur = NULL;
    int mrc = mdb_cursor_open(ld->txn, ld->store->dbi[S_DB_TRIALS], &cur);
    if (mrc != MDB_SUCCESS)
        return s_mdb_error(err, mrc, "cursor");
    int rc = HONE_OK;
    MDB_val k = { .mv_size = ld->prefix_len, .mv_data = ld->prefix };
    MDB_val v;
    char what[300];
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == MDB_SUCCESS;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < ld->prefix_len || memcmp(k.mv_data, ld->prefix, ld->prefix_len) != 0)
            break;
        if (k.mv_size != ld->prefix_len + 4) {
            rc = hone_error_set(err, HONE_ESTORE, "store: corrupt trial key under '%s'", name);
            break;
        }
        hone_store_trial_t rec = { 0 };
        rec.index = s_get_be32((const uint8_t *) k.mv_data + ld->prefix_len);
        snprintf(what, sizeof what, "trial %s#%u", name, rec.index);
        hone_node_t *node = NULL;
        int64_t status = 0;
        if ((rc = s_decode(&v, &node, what, err)) != HONE_OK)
            break;
        rc = s_field_int(node, "status", &status, what, err);
        if (rc == HONE_OK) {
            rec.status = (int) status;
            rec.params = hone_node_get(node, "params");
            if (!rec.params || hone_node_type(rec.params) != HONE_NODE_MAP)
                rc = hone_error_set(err, HONE_ESTORE, "store: corrupt %s: params must be a map", what);
        }
        if (rc == HONE_OK)
            rc = s_field_str(node, "note", &rec.note, false, what, err);
        if (rc == HONE_OK)
            rc = s_field_str(node, "reason", &rec.reason, false, what, err);
        if (rc == HONE_OK)
            rc = s_field_str(node, "worker", &rec.worker, false, what, err);
        if (rc == HONE_OK) {
            /* absent in records written before leases: no attempts */
            rec.attempts = hone_node_get(node, "attempts");
            if (rec.attempts && hone_node_type(rec.attempts) == HONE_NODE_NIL)
                rec.attempts = NULL;
            if (rec.attempts && hone_node_type(rec.attempts) != HONE_NODE_ARRAY)
                rc = hone_error_set(err, HONE_ESTORE, "store: corrupt %s: attempts must be an array", what);
        }
        if (rc == HONE_OK)
            rc = s_field_int(node, "created", &rec.created_ms, what, err);
        if (rc == HONE_OK)
            rc = s_field_int(node, "updated", &rec.updated_ms, what, err);
        if (rc == HONE_OK && ld->visitor->trial)
            rc = ld->visitor->trial(name, &rec, ld->visitor->arg, err);
        hone_node_destroy(&node);
        if (rc != HONE_OK)
            break;
    }
    if (rc == HONE_OK && mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND)
        rc = s_mdb_error(err, mrc, "trial scan");
    mdb_cursor_close(cur);
    return rc;
}

static int s_load_readings(s_loader_t *ld, const char *name, hone_error_t *err)
{
    MDB_cursor *cur = NULL;
    int mrc = mdb_cursor_open(ld->txn, ld->store->dbi[S_DB_READINGS], &cur);
    if (mrc != MDB_SUCCESS)
        return s_mdb_error(err, mrc, "cursor");
    int rc = HONE_OK;
    MDB_val k = { .mv_size = ld->prefix_len, .mv_data = ld->prefix };
    MDB_val v;
    char what[600];
    char metric[HONE_STORE_METRIC_MAX + 1];
    for (mrc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); mrc == MDB_SUCCESS;
         mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const uint8_t *kp = k.mv_data;
        if (k.mv_size < ld->prefix_len || memcmp(kp, ld->prefix, ld->prefix_len) != 0)
            break;
        /* prefix, be32 trial, metric (1..max bytes), 0x00, flag, be64 */
        size_t rest = k.mv_size - ld->prefix_len;
        const uint8_t *p = kp + ld->prefix_len;
        const uint8_t *nul = rest > 4 ? memchr(p + 4, 0, rest - 4) : NULL;
        size_t mlen = nul ? (size_t) (nul - (p + 4)) : 0;
        if (!nul || mlen == 0 || mlen > HONE_STORE_METRIC_MAX || rest != 4 + mlen + 1 + 1 + 8
            || nul[1] > 1) {
            rc = hone_error_set(err, HONE_ESTORE, "store: corrupt reading key under '%s'", name);
            break;
        }
        memcpy(metric, p + 4, mlen);
        metric[mlen] = '\0';
        hone_store_reading_t rec = { 0 };
        rec.trial = s_get_be32(p);
        rec.metric = metric;
        rec.has_progression = nul[1] == 0;
        rec.progression = rec.has_progression ? (int64_t) (s_get_be64(nul + 2) ^ (1ull << 63)) : 0;
        snprintf(what, sizeof what, "reading %s#%u %s", name, rec.trial, metric);
        hone_node_t *node = NULL;
        if ((rc = s_decode(&v, &node, what, err)) != HONE_OK)
            break;
        rc = s_field_num(node, "mean", &rec.mean, false, what, err);
        if (rc == HONE_OK)
            rc = s_field_num(node, "sem", &rec.sem, true, what, err);
        if (rc == HONE_OK)
            rc = s_field_int(node, "time", &rec.time_ms, what, err);
        if (rc == HONE_OK && ld->visitor->reading)
            rc = ld->visitor->reading(name, &rec, ld->visitor->arg, err);
        hone_node_destroy(&node);
        if (rc != HONE_OK)
            break;
    }
    if (rc == HONE_OK && mrc != MDB_SUCCESS && mrc != MDB_NOTFOUND)
        rc = s_mdb_error(err, mrc, "reading scan");
    mdb_cursor_close(cur);
    return rc;
}

/* One experiment: its record (k, v), then trials, readings and end. */
static int s_load_one(s_loader_t *ld, const MDB_val *k, const MDB_val *v, hone_error_t *err)
{
    if (k->mv_size == 0 || k->mv_size > 255 || memchr(k->mv_data, 0, k->mv_size))
        return hone_error_set(err, HONE_ESTORE, "store: corrupt experiment key");
    char name[256];
    memcpy(name, k->mv_data, k->mv_size);
    name[k->mv_size] = '\0';
    memcpy(ld->prefix, name, k->mv_size);
    ld->prefix[k->mv_size] = 0;
    ld->prefix_len = k->mv_size + 1;

    char what[300];
    snprintf(what, sizeof what, "experiment '%s'", name);
    hone_node_t *node = NULL;
    int rc = s_decode(v, &node, what, err);
    if (rc != HONE_OK)
        return rc;
    hone_store_experiment_t rec = { .name = name };
    int64_t drawn = 0;
    rc = s_field_str(node, "config", &rec.config, true, what, err);
    if (rc == HONE_OK)
        rc = s_field_int(node, "sobol_drawn", &drawn, what, err);
    if (rc == HONE_OK)
        rc = s_field_int(node, "created", &rec.created_ms, what, err);
    rec.sobol_drawn = (uint64_t) drawn;
    if (rc == HONE_OK && ld->visitor->experiment)
        rc = ld->visitor->experiment(&rec, ld->visitor->arg, err);
    hone_node_destroy(&node);
    if (rc == HONE_OK)
        rc = s_load_trials(ld, name, err);
    if (rc == HONE_OK)
        rc = s_load_readings(ld, name, err);
    if (rc == HONE_OK && ld->visitor->end)
        rc = ld->visitor->end(name, ld->visitor->arg, err);
    return rc;
}

int hone_store_load(hone_store_t *self, const char *name, const hone_store_visitor_t *visitor,
                    hone_error_t *err)
{
    HONE_ASSERT(self && visitor);
    if (name && (!*name || strlen(name) > 255))
        return hone_error_set(err, HONE_ENOTFOUND, "experiment '%.64s' is not stored", name);
    s_loader_t *ld = hone_alloc(sizeof *ld);
    ld->store = self;
    ld->visitor = visitor;
    /* With a write transaction open, read through it: it sees its own puts, and LMDB
     * allows one transaction per thread. */
    ld->txn = self->txn;
    int mrc = ld->txn ? MDB_SUCCESS : mdb_txn_begin(self->env, NULL, MDB_RDONLY, &ld->txn);
    if (mrc != MDB_SUCCESS) {
        hone_free(ld);
        return s_mdb_error(err, mrc, "cannot begin read transaction");
    }
    int rc = HONE_OK;
    if (name) {
        MDB_val k = { .mv_size = strlen(name), .mv_data = (void *) name };
        MDB_val v;
        mrc = mdb_get(ld->txn, self->dbi[S_DB_EXPERIMENTS], &k, &v);
        if (mrc == MDB_SUCCESS)
            rc = s_load_one(ld, &k, &v, err);
        else if (mrc == MDB_NOTFOUND)
            rc = hone_error_set(err, HONE_ENOTFOUND, "experiment '%s' is not stored", name);
        else
            rc = s_mdb_error(err, mrc, "get experiment");
    } else {
        MDB_cursor *cur = NULL;
        mrc = mdb_cursor_open(ld->txn, self->dbi[S_DB_EXPERIMENTS], &cur);
        if (mrc != MDB_SUCCESS)
            rc = s_mdb_error(err, mrc, "cursor");
        MDB_val k, v;
        for (mrc = cur ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
             rc == HONE_OK && mrc == MDB_SUCCESS; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            rc = s_load_one(ld, &k, &v, err);
        if (rc == HONE_OK && mrc != MDB_NOTFOUND)
            rc = s_mdb_error(err, mrc, "experiment scan");
        if (cur)
            mdb_cursor_close(cur);
    }
    if (ld->txn != self->txn)
        mdb_txn_abort(ld->txn);
    hone_free(ld);
    return rc;
}

int hone_store_count(hone_store_t *self, size_t *experiments, size_t *trials, size_t *readings,
                     hone_error_t *err)
{
    HONE_ASSERT(self);
    MDB_txn *txn = self->txn;   /* the open write transaction sees its own puts */
    int mrc = txn ? MDB_SUCCESS : mdb_txn_begin(self->env, NULL, MDB_RDONLY, &txn);
    if (mrc != MDB_SUCCESS)
        return s_mdb_error(err, mrc, "cannot begin read transaction");
    size_t *outs[S_DB_COUNT] = { experiments, trials, readings };
    int rc = HONE_OK;
    for (int i = 0; i < S_DB_COUNT && rc == HONE_OK; i++) {
        MDB_stat st;
        if ((mrc = mdb_stat(txn, self->dbi[i], &st)) != MDB_SUCCESS)
            rc = s_mdb_error(err, mrc, "stat");
        else if (outs[i])
            *outs[i] = st.ms_entries;
    }
    if (txn != self->txn)
        mdb_txn_abort(txn);
    return rc;
}
