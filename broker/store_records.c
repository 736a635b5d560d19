/* store_records.c: the key layout (experiment name; name 0x00 be32 trial; name 0x00
 * be32 trial metric 0x00 flag be64 progression) and the value records put under it:
 * experiments, trials and readings as msgpack maps. */
#include "store_internal.h"

#include <math.h>

/* ---- keys and values ---- */

static void s_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24); p[1] = (uint8_t) (v >> 16); p[2] = (uint8_t) (v >> 8); p[3] = (uint8_t) v;
}

uint32_t hone_store_get_be32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16) | ((uint32_t) p[2] << 8) | p[3];
}

static void s_be64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t) v;
}

uint64_t hone_store_get_be64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

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
    rc = hone_store_put(self, db, key, klen, data, size, err);
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
    int64_t created = s_existing_created(self, HONE_STORE_DB_EXPERIMENTS, (const uint8_t *) rec->name, klen);
    hone_node_t *node = s_new_map();
    S_ADD(hone_node_add_str(node, "config", rec->config));
    S_ADD(hone_node_add_int(node, "sobol_drawn", (int64_t) rec->sobol_drawn));
    S_ADD(hone_node_add_int(node, "created", created ? created : rec->created_ms));
    return s_put_node(self, HONE_STORE_DB_EXPERIMENTS, (const uint8_t *) rec->name, klen, &node, err);
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
    uint8_t key[HONE_STORE_KEY_MAX];
    size_t klen = s_trial_key(key, experiment, rec->index);
    int64_t created = s_existing_created(self, HONE_STORE_DB_TRIALS, key, klen);
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
    return s_put_node(self, HONE_STORE_DB_TRIALS, key, klen, &node, err);
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
    uint8_t key[HONE_STORE_KEY_MAX];
    size_t klen = s_reading_key(key, experiment, rec);
    hone_node_t *node = s_new_map();
    S_ADD(hone_node_add_float(node, "mean", rec->mean));
    if (isnan(rec->sem))
        S_ADD(hone_node_add_nil(node, "sem"));
    else
        S_ADD(hone_node_add_float(node, "sem", rec->sem));
    S_ADD(hone_node_add_int(node, "time", rec->time_ms));
    return s_put_node(self, HONE_STORE_DB_READINGS, key, klen, &node, err);
}
