/* registry.c: experiments by name, loaded from and written to the store. */
#include "registry.h"

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "wire.h"

#include <czmq.h>
#include <inttypes.h>

struct _hone_registry_t {
    hone_store_t *store;        /* borrowed */
    zhashx_t *experiments;      /* name → s_entry_t (owned) */
    bool group;                 /* group commit: changes join the open batch */
    zhashx_t *touched;          /* names of the experiments the open batch changed */
    size_t pending;             /* changes in the open batch; 0: none open */
    uint64_t batch;             /* number of the open batch, or of the next one */
    uint64_t changes;           /* changes written since open */
    hone_registry_batch_fn *on_batch; /* told when a batch opens and ends; may be NULL */
    void *on_batch_arg;         /* its argument */
};

typedef struct {
    hone_experiment_t *exp;     /* owned; NULL when unavailable after a store failure */
} s_entry_t;

static void s_entry_destroy(void **item)
{
    s_entry_t *entry = *item;
    if (entry) {
        hone_experiment_destroy(&entry->exp);
        hone_free(entry);
    }
    *item = NULL;
}

static void s_insert(hone_registry_t *self, const char *name, hone_experiment_t *exp)
{
    s_entry_t *entry = hone_alloc(sizeof *entry);
    entry->exp = exp;
    zhashx_update(self->experiments, name, entry);   /* destroys a previous entry */
}

/* ---- loading ---- */

typedef struct {
    hone_registry_t *registry;
    hone_experiment_t *exp;     /* being rebuilt */
    uint64_t sobol_drawn;       /* restored last */
    hone_value_t *values;       /* scratch parameterization */
    size_t loaded;              /* experiments completed */
} s_load_t;

static int s_on_experiment(const hone_store_experiment_t *rec, void *arg, hone_error_t *err)
{
    s_load_t *ld = arg;
    hone_error_t cerr;
    hone_error_clear(&cerr);
    hone_experiment_destroy(&ld->exp);
    hone_free(ld->values);
    ld->values = NULL;
    int rc = hone_experiment_from_json(&ld->exp, rec->config, strlen(rec->config), 0, &cerr);
    if (rc != HONE_OK)
        return hone_error_set(err, HONE_ESTORE, "stored experiment '%s' does not load: %s", rec->name,
                              cerr.message);
    if (!streq(hone_experiment_name(ld->exp), rec->name))
        return hone_error_set(err, HONE_ESTORE, "stored experiment '%s' has a config named '%s'",
                              rec->name, hone_experiment_name(ld->exp));
    ld->sobol_drawn = rec->sobol_drawn;
    size_t n = hone_space_size(hone_experiment_space(ld->exp));
    ld->values = hone_alloc_array(n ? n : 1, sizeof *ld->values);
    return HONE_OK;
}

static int s_on_trial(const char *name, const hone_store_trial_t *rec, void *arg, hone_error_t *err)
{
    s_load_t *ld = arg;
    hone_error_t cerr;
    hone_error_clear(&cerr);
    if (rec->index != hone_experiment_trial_count(ld->exp))
        return hone_error_set(err, HONE_ESTORE, "stored experiment '%s': trial %u follows %zu trials",
                              name, rec->index, hone_experiment_trial_count(ld->exp));
    if (!hone_trial_status_name(rec->status))
        return hone_error_set(err, HONE_ESTORE, "stored trial %s#%u: unknown status %d", name,
                              rec->index, rec->status);
    int rc = hone_wire_read_params(hone_experiment_space(ld->exp), rec->params, ld->values, &cerr);
    if (rc == HONE_OK)
        rc = hone_experiment_restore_trial(ld->exp, rec->index, (hone_trial_status_t) rec->status,
                                           ld->values, rec->note, rec->reason, &cerr);
    if (rc == HONE_OK && rec->worker)
        hone_experiment_set_worker(ld->exp, rec->index, rec->worker);
    if (rc == HONE_OK)
        rc = hone_wire_read_attempts(ld->exp, rec->index, rec->attempts, &cerr);
    if (rc != HONE_OK)
        return hone_error_set(err, HONE_ESTORE, "stored trial %s#%u does not load: %s", name,
                              rec->index, cerr.message);
    return HONE_OK;
}

static int s_on_reading(const char *name, const hone_store_reading_t *rec, void *arg,
                        hone_error_t *err)
{
    s_load_t *ld = arg;
    hone_error_t cerr;
    hone_error_clear(&cerr);
    hone_reading_in_t in = { .metric = rec->metric, .mean = rec->mean, .sem = rec->sem };
    int rc = hone_experiment_attach(ld->exp, rec->trial, &in, 1, rec->has_progression,
                                    rec->progression, false, &cerr);
    if (rc != HONE_OK)
        return hone_error_set(err, HONE_ESTORE, "stored reading %s#%u '%s' does not load: %s", name,
                              rec->trial, rec->metric, cerr.message);
    return HONE_OK;
}

static int s_on_end(const char *name, void *arg, hone_error_t *err)
{
    s_load_t *ld = arg;
    hone_experiment_restore_sobol(ld->exp, ld->sobol_drawn);
    hone_log_debug("registry", "loaded experiment '%s': %zu trials, Sobol position %llu", name,
                   hone_experiment_trial_count(ld->exp), (unsigned long long) ld->sobol_drawn);
    s_insert(ld->registry, name, ld->exp);
    ld->exp = NULL;
    ld->loaded++;
    return HONE_OK;
}

static int s_load(hone_registry_t *self, const char *name, size_t *loaded, hone_error_t *err)
{
    s_load_t ld = { .registry = self };
    hone_store_visitor_t visitor = {
        .experiment = s_on_experiment, .trial = s_on_trial, .reading = s_on_reading,
        .end = s_on_end, .arg = &ld,
    };
    int rc = hone_store_load(self->store, name, &visitor, err);
    hone_experiment_destroy(&ld.exp);
    hone_free(ld.values);
    if (loaded)
        *loaded = ld.loaded;
    return rc;
}

int hone_registry_open(hone_registry_t **out, hone_store_t *store, hone_error_t *err)
{
    HONE_ASSERT(out && store);
    *out = NULL;
    hone_registry_t *self = hone_alloc(sizeof *self);
    self->store = store;
    self->experiments = zhashx_new();
    HONE_ASSERT(self->experiments);
    zhashx_set_destructor(self->experiments, s_entry_destroy);
    self->touched = zhashx_new();     /* keys are copied; values unused */
    HONE_ASSERT(self->touched);
    self->batch = 1;
    size_t loaded = 0;
    int rc = s_load(self, NULL, &loaded, err);
    if (rc != HONE_OK) {
        rc = HONE_ESTORE;
        if (err)
            err->code = rc;
        hone_registry_destroy(&self);
        return rc;
    }
    hone_log_info("registry", "loaded %zu experiment(s) from the store", loaded);
    *out = self;
    return HONE_OK;
}

void hone_registry_destroy(hone_registry_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_registry_t *self = *self_p;
    if (!self)
        return;
    if (self->pending > 0) {
        hone_log_warn("registry", "closing with %zu uncommitted change(s) of batch %" PRIu64
                      " (never acknowledged): rolled back", self->pending, self->batch);
        hone_store_abort(self->store);
    }
    zhashx_destroy(&self->touched);
    zhashx_destroy(&self->experiments);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_registry_size(const hone_registry_t *self)
{
    HONE_ASSERT(self);
    return zhashx_size(self->experiments);
}

int hone_registry_find(hone_registry_t *self, const char *name, hone_experiment_t **out,
                       hone_error_t *err)
{
    HONE_ASSERT(self && name && out);
    *out = NULL;
    s_entry_t *entry = zhashx_lookup(self->experiments, name);
    if (!entry)
        return hone_error_set(err, HONE_ENOTFOUND, "unknown experiment '%.128s'", name);
    if (!entry->exp)
        return hone_error_set(err, HONE_ESTORE,
                              "experiment '%.128s' is unavailable after a storage failure; "
                              "restart the broker", name);
    *out = entry->exp;
    return HONE_OK;
}

int hone_registry_reload(hone_registry_t *self, const char *name, hone_error_t *err)
{
    HONE_ASSERT(self && name);
    char *key = hone_strdup(name);    /* name may belong to the experiment being replaced */
    hone_error_t lerr;
    hone_error_clear(&lerr);
    int rc = s_load(self, key, NULL, &lerr);
    if (rc == HONE_ENOTFOUND) {
        zhashx_delete(self->experiments, key);
        rc = HONE_OK;
    } else if (rc != HONE_OK) {
        hone_log_err("registry", "experiment '%s' could not be reloaded and is now unavailable: %s",
                     key, lerr.message);
        s_insert(self, key, NULL);
        rc = hone_error_set(err, HONE_ESTORE, "experiment '%s' could not be reloaded: %s", key,
                            lerr.message);
    }
    hone_strfree(key);
    return rc;
}

/* ---- writing ---- */

static void s_notify(hone_registry_t *self, hone_registry_batch_event_t event, uint64_t batch,
                     const hone_error_t *err)
{
    if (self->on_batch)
        self->on_batch(self->on_batch_arg, event, batch, err);
}

/* Makes sure a write transaction is open: per change a new one, with group commit the
 * open batch's (opening it when none is). */
static int s_txn(hone_registry_t *self, hone_error_t *err)
{
    if (self->group && self->pending > 0) {
        HONE_ASSERT(hone_store_in_txn(self->store));
        return HONE_OK;
    }
    HONE_ASSERT(!hone_store_in_txn(self->store));
    return hone_store_begin(self->store, err);
}

/* Ends the open batch as failed: nothing of it is stored. Every experiment it changed is
 * reloaded from the last commit, and the batch function is told. */
static void s_batch_failed(hone_registry_t *self, const hone_error_t *why)
{
    hone_store_abort(self->store);     /* usually closed already */
    uint64_t batch = self->batch;
    size_t pending = self->pending;
    self->pending = 0;
    self->batch++;
    hone_log_err("registry", "batch %" PRIu64 " of %zu change(s) was not stored, reloading %zu "
                 "experiment(s): %s", batch, pending, zhashx_size(self->touched), why->message);
    /* the names are copied first: a reload may replace entries of self->experiments */
    zlistx_t *names = zhashx_keys(self->touched);
    HONE_ASSERT(names);
    zhashx_purge(self->touched);
    for (const char *name = zlistx_first(names); name; name = zlistx_next(names))
        hone_registry_reload(self, name, NULL);
    zlistx_destroy(&names);
    s_notify(self, HONE_REGISTRY_BATCH_FAILED, batch, why);
}

/* After a change of name was written (rc HONE_OK) or refused (the puts after mark
 * undone as far as possible). Per change: commits or aborts. With group commit: counts
 * the change into the batch, or rolls the change back alone; when even that fails the
 * whole batch fails. Returns rc, or the commit's or rollback's failure (werr says why). */
static int s_end(hone_registry_t *self, const char *name, size_t mark, int rc, hone_error_t *werr)
{
    if (!self->group) {
        if (rc == HONE_OK)
            rc = hone_store_commit(self->store, werr);
        hone_store_abort(self->store);     /* no-op after a commit */
        if (rc == HONE_OK)
            self->changes++;
        return rc;
    }
    bool opened = self->pending == 0;
    if (rc == HONE_OK) {
        zhashx_insert(self->touched, name, (void *) 1);
        self->pending++;
        self->changes++;
        if (opened)
            s_notify(self, HONE_REGISTRY_BATCH_OPENED, self->batch, NULL);
        return HONE_OK;
    }
    if (hone_store_in_txn(self->store)) {
        hone_error_t rerr;
        hone_error_clear(&rerr);
        if (hone_store_rollback(self->store, mark, &rerr) == HONE_OK) {
            if (opened)
                hone_store_abort(self->store);    /* nothing else was in it */
            return rc;
        }
        hone_log_err("registry", "cannot undo a refused change in batch %" PRIu64 ": %s", self->batch,
                     rerr.message);
    }
    /* The transaction is gone, and with it the batch's earlier changes. */
    if (!opened)
        s_batch_failed(self, werr);
    return rc;
}

int hone_registry_create(hone_registry_t *self, hone_experiment_t **exp_p, hone_error_t *err)
{
    HONE_ASSERT(self && exp_p && *exp_p);
    hone_experiment_t *exp = *exp_p;
    const char *name = hone_experiment_name(exp);
    if (zhashx_lookup(self->experiments, name))
        return hone_error_set(err, HONE_EEXIST, "experiment '%s' already exists", name);
    hone_store_experiment_t rec = {
        .name = name,
        .config = hone_experiment_config_json(exp),
        .sobol_drawn = hone_experiment_sobol_drawn(exp),
        .created_ms = hone_clock_wall_ms(),
    };
    hone_error_t werr;
    hone_error_clear(&werr);
    int rc = s_txn(self, &werr);
    if (rc == HONE_OK) {
        size_t mark = hone_store_mark(self->store);
        rc = hone_store_put_experiment(self->store, &rec, &werr);
        rc = s_end(self, name, mark, rc, &werr);
    }
    if (rc != HONE_OK)
        return hone_error_set(err, rc == HONE_ETOOBIG ? rc : HONE_ESTORE, "%s", werr.message);
    /* With group commit a failed batch reloads the name from the store, which drops it. */
    s_insert(self, name, exp);
    *exp_p = NULL;
    return HONE_OK;
}

static int s_write(hone_registry_t *self, hone_experiment_t *exp, const hone_registry_change_t *change,
                   hone_error_t *err)
{
    const char *name = hone_experiment_name(exp);
    int64_t now = hone_clock_wall_ms();
    int rc = HONE_OK;
    if (change->experiment) {
        hone_store_experiment_t rec = {
            .name = name,
            .config = hone_experiment_config_json(exp),
            .sobol_drawn = hone_experiment_sobol_drawn(exp),
            .created_ms = now,
        };
        rc = hone_store_put_experiment(self->store, &rec, err);
    }
    const hone_space_t *space = hone_experiment_space(exp);
    for (uint32_t i = 0; rc == HONE_OK && i < change->n_trials; i++) {
        const hone_trial_t *trial = hone_experiment_trial(exp, change->trial_first + i);
        HONE_ASSERT(trial);
        hone_node_t *params = hone_node_new_map();
        HONE_ASSERT(params);
        hone_wire_fill_params(params, space, trial->params);
        hone_node_t *holder = hone_node_new_map();     /* holds the attempts array, if any */
        HONE_ASSERT(holder);
        hone_wire_add_attempts(holder, "attempts", trial);
        hone_store_trial_t rec = {
            .index = trial->index,
            .status = (int) trial->status,
            .params = params,
            .note = trial->note,
            .reason = trial->reason,
            .worker = trial->worker,
            .attempts = hone_node_get(holder, "attempts"),
            .created_ms = now,
            .updated_ms = now,
        };
        rc = hone_store_put_trial(self->store, name, &rec, err);
        hone_node_destroy(&params);
        hone_node_destroy(&holder);
    }
    for (size_t i = 0; rc == HONE_OK && i < change->n_readings; i++) {
        const hone_reading_in_t *in = &change->readings[i];
        hone_store_reading_t rec = {
            .trial = change->reading_trial,
            .metric = in->metric,
            .has_progression = change->has_progression,
            .progression = change->progression,
            .mean = in->mean,
            .sem = in->sem,
            .time_ms = now,
        };
        rc = hone_store_put_reading(self->store, name, &rec, err);
    }
    return rc;
}

int hone_registry_persist(hone_registry_t *self, hone_experiment_t *exp,
                          const hone_registry_change_t *change, hone_error_t *err)
{
    HONE_ASSERT(self && exp && change);
    hone_error_t werr;
    hone_error_clear(&werr);
    /* exp's name may go with exp when a failed batch reloads it */
    char name[256];
    snprintf(name, sizeof name, "%s", hone_experiment_name(exp));
    int rc = s_txn(self, &werr);
    if (rc == HONE_OK) {
        size_t mark = hone_store_mark(self->store);
        rc = s_write(self, exp, change, &werr);
        rc = s_end(self, name, mark, rc, &werr);
    }
    if (rc == HONE_OK)
        return HONE_OK;
    hone_log_err("registry", "write for experiment '%s' failed, reloading it: %s", name, werr.message);
    /* Through the open batch if one survived (it holds the experiment's earlier changes),
     * else from the last commit. After a failed batch it was reloaded already. */
    hone_registry_reload(self, name, NULL);
    return hone_error_set(err, HONE_ESTORE, "not stored, experiment '%s' is unchanged: %s", name,
                          werr.message);
}

/* ---- group commit ---- */

void hone_registry_set_group_commit(hone_registry_t *self, bool group)
{
    HONE_ASSERT(self && self->pending == 0);
    self->group = group;
}

void hone_registry_on_batch(hone_registry_t *self, hone_registry_batch_fn *fn, void *arg)
{
    HONE_ASSERT(self);
    self->on_batch = fn;
    self->on_batch_arg = arg;
}

uint64_t hone_registry_batch(const hone_registry_t *self)
{
    HONE_ASSERT(self);
    return self->batch;
}

size_t hone_registry_pending(const hone_registry_t *self)
{
    HONE_ASSERT(self);
    return self->pending;
}

uint64_t hone_registry_changes(const hone_registry_t *self)
{
    HONE_ASSERT(self);
    return self->changes;
}

int hone_registry_commit(hone_registry_t *self, hone_error_t *err)
{
    HONE_ASSERT(self);
    if (self->pending == 0)
        return HONE_OK;
    hone_error_t cerr;
    hone_error_clear(&cerr);
    int rc = hone_store_commit(self->store, &cerr);
    if (rc != HONE_OK) {
        size_t pending = self->pending;
        s_batch_failed(self, &cerr);
        return hone_error_set(err, HONE_ESTORE, "%zu change(s) not stored: %s", pending, cerr.message);
    }
    uint64_t batch = self->batch;
    self->pending = 0;
    self->batch++;
    zhashx_purge(self->touched);
    s_notify(self, HONE_REGISTRY_BATCH_COMMITTED, batch, NULL);
    return HONE_OK;
}
