/* store.c: the LMDB environment (open, close, the directory lock), write transactions
 * with their replay log, rollback to a mark and map growth, and the translation of
 * LMDB codes. Keys and value records are in store_records.c, loading and counting in
 * store_load.c; store_internal.h holds what the three share. */
#include "store_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* Replay-log capacity kept between transactions; a larger buffer is freed at commit. */
#define S_LOG_KEEP (1u << 20)

static const char *const s_db_names[HONE_STORE_DB_COUNT] = { "experiments", "trials", "readings" };

/* Translates an LMDB code at the edge of the module. */
int hone_store_mdb_error(hone_error_t *err, int rc, const char *what)
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
        rc = hone_store_mdb_error(err, mrc, "cannot create environment");
        goto fail;
    }
    if ((mrc = mdb_env_set_maxdbs(self->env, HONE_STORE_DB_COUNT)) != MDB_SUCCESS
        || (mrc = mdb_env_set_mapsize(self->env, (size_t) self->map_size)) != MDB_SUCCESS) {
        rc = hone_store_mdb_error(err, mrc, "cannot configure environment");
        goto fail;
    }
    mrc = mdb_env_open(self->env, dir, 0, 0600);
    if (mrc != MDB_SUCCESS) {
        rc = hone_error_set(err, HONE_ESTORE, "cannot open store in '%s': %s", dir, mdb_strerror(mrc));
        goto fail;
    }
    int dead = 0;
    if ((mrc = mdb_reader_check(self->env, &dead)) != MDB_SUCCESS) {
        rc = hone_store_mdb_error(err, mrc, "reader check");
        goto fail;
    }
    s_refresh_map_size(self);
    if (self->map_size_max < self->map_size)
        self->map_size_max = self->map_size;
    self->max_key = (size_t) mdb_env_get_maxkeysize(self->env);

    MDB_txn *txn = NULL;
    if ((mrc = mdb_txn_begin(self->env, NULL, 0, &txn)) != MDB_SUCCESS) {
        rc = hone_store_mdb_error(err, mrc, "cannot begin transaction");
        goto fail;
    }
    for (int i = 0; i < HONE_STORE_DB_COUNT; i++) {
        if ((mrc = mdb_dbi_open(txn, s_db_names[i], MDB_CREATE, &self->dbi[i])) != MDB_SUCCESS) {
            mdb_txn_abort(txn);
            rc = hone_error_set(err, HONE_ESTORE, "cannot open database '%s': %s", s_db_names[i],
                                mdb_strerror(mrc));
            goto fail;
        }
    }
    if ((mrc = mdb_txn_commit(txn)) != MDB_SUCCESS) {
        rc = hone_store_mdb_error(err, mrc, "cannot create databases");
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
        return hone_store_mdb_error(err, mrc, "cannot begin write transaction");
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
                return hone_store_mdb_error(err, mrc, "cannot grow the map");
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
                return hone_store_mdb_error(err, mrc, "replay");
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

int hone_store_put(hone_store_t *self, int db, const void *key, size_t klen, const void *val,
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
            return hone_store_mdb_error(err, mrc, "put");
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
            return hone_store_mdb_error(err, mrc, "commit");
        }
        int rc = s_grow_and_replay(self, err);
        if (rc != HONE_OK)
            return rc;
    }
}
