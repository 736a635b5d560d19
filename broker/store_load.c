/* store_load.c: loading stored experiments (each record, then its trials, readings
 * and end, through a visitor) and counting the records of each database. */
#include "store_internal.h"

#include <math.h>
#include <stdio.h>

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
    uint8_t prefix[HONE_STORE_KEY_MAX];  /* name 0x00 */
    size_t prefix_len;
} s_loader_t;

static int s_load_trials(s_loader_t *ld, const char *name, hone_error_t *err)
{
    MDB_cursor *cur = NULL;
    int mrc = mdb_cursor_open(ld->txn, ld->store->dbi[HONE_STORE_DB_TRIALS], &cur);
    if (mrc != MDB_SUCCESS)
        return hone_store_mdb_error(err, mrc, "cursor");
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
        rec.index = hone_store_get_be32((const uint8_t *) k.mv_data + ld->prefix_len);
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
        rc = hone_store_mdb_error(err, mrc, "trial scan");
    mdb_cursor_close(cur);
    return rc;
}

static int s_load_readings(s_loader_t *ld, const char *name, hone_error_t *err)
{
    MDB_cursor *cur = NULL;
    int mrc = mdb_cursor_open(ld->txn, ld->store->dbi[HONE_STORE_DB_READINGS], &cur);
    if (mrc != MDB_SUCCESS)
        return hone_store_mdb_error(err, mrc, "cursor");
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
        rec.trial = hone_store_get_be32(p);
        rec.metric = metric;
        rec.has_progression = nul[1] == 0;
        rec.progression = rec.has_progression ? (int64_t) (hone_store_get_be64(nul + 2) ^ (1ull << 63)) : 0;
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
        rc = hone_store_mdb_error(err, mrc, "reading scan");
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
        return hone_store_mdb_error(err, mrc, "cannot begin read transaction");
    }
    int rc = HONE_OK;
    if (name) {
        MDB_val k = { .mv_size = strlen(name), .mv_data = (void *) name };
        MDB_val v;
        mrc = mdb_get(ld->txn, self->dbi[HONE_STORE_DB_EXPERIMENTS], &k, &v);
        if (mrc == MDB_SUCCESS)
            rc = s_load_one(ld, &k, &v, err);
        else if (mrc == MDB_NOTFOUND)
            rc = hone_error_set(err, HONE_ENOTFOUND, "experiment '%s' is not stored", name);
        else
            rc = hone_store_mdb_error(err, mrc, "get experiment");
    } else {
        MDB_cursor *cur = NULL;
        mrc = mdb_cursor_open(ld->txn, self->dbi[HONE_STORE_DB_EXPERIMENTS], &cur);
        if (mrc != MDB_SUCCESS)
            rc = hone_store_mdb_error(err, mrc, "cursor");
        MDB_val k, v;
        for (mrc = cur ? mdb_cursor_get(cur, &k, &v, MDB_FIRST) : MDB_NOTFOUND;
             rc == HONE_OK && mrc == MDB_SUCCESS; mrc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            rc = s_load_one(ld, &k, &v, err);
        if (rc == HONE_OK && mrc != MDB_NOTFOUND)
            rc = hone_store_mdb_error(err, mrc, "experiment scan");
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
        return hone_store_mdb_error(err, mrc, "cannot begin read transaction");
    size_t *outs[HONE_STORE_DB_COUNT] = { experiments, trials, readings };
    int rc = HONE_OK;
    for (int i = 0; i < HONE_STORE_DB_COUNT && rc == HONE_OK; i++) {
        MDB_stat st;
        if ((mrc = mdb_stat(txn, self->dbi[i], &st)) != MDB_SUCCESS)
            rc = hone_store_mdb_error(err, mrc, "stat");
        else if (outs[i])
            *outs[i] = st.ms_entries;
    }
    if (txn != self->txn)
        mdb_txn_abort(txn);
    return rc;
}
