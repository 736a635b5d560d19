/* registry.c: experiments by name, loaded from and written to the store. */
#include "registry.h"

#include "alloc.h"
#include "clock.h"
#include "log.h"
#include "wire.h"

#include <czmq.h>

struct _hone_registry_t {
    hone_store_t *store;        /* borrowed */
    zhashx_t *experiments;      /* name → s_entry_t (owned) */
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
    int rc = hone_store_begin(self->store, err);
    if (rc == HONE_OK)
        rc = hone_store_put_experiment(self->store, &rec, err);
    if (rc == HONE_OK)
        rc = hone_store_commit(self->store, err);
    if (rc != HONE_OK) {
        hone_store_abort(self->store);
        if (rc != HONE_ETOOBIG)
            rc = HONE_ESTORE;
        if (err)
            err->code = rc;
        return rc;
    }
    s_insert(self, name, exp);
    *exp_p = NULL;
    return HONE_OK;
}

static int s_write(hone_registry_t *self, hone_experiment_t *exp, const hone_registry_change_t *change,
                   hone_error_t *err)
{
    const char *name = hone_experiment_name(exp);
    int64_t now = hone_clock_wall_ms();
    int rc = hone_store_begin(self->store, err);
    if (rc == HONE_OK && change->experiment) {
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
        hone_store_trial_t rec = {
            .index = trial->index,
            .status = (int) trial->status,
            .params = params,
            .note = trial->note,
            .reason = trial->reason,
            .worker = trial->worker,
            .created_ms = now,
            .updated_ms = now,
        };
        rc = hone_store_put_trial(self->store, name, &rec, err);
        hone_node_destroy(&params);
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
    if (rc == HONE_OK)
        rc = hone_store_commit(self->store, err);
    hone_store_abort(self->store);    /* no-op after a commit */
    return rc;
}

int hone_registry_persist(hone_registry_t *self, hone_experiment_t *exp,
                          const hone_registry_change_t *change, hone_error_t *err)
{
    HONE_ASSERT(self && exp && change);
    hone_error_t werr;
    hone_error_clear(&werr);
    int rc = s_write(self, exp, change, &werr);
    if (rc == HONE_OK)
        return HONE_OK;
    char *name = hone_strdup(hone_experiment_name(exp));
    hone_log_err("registry", "write for experiment '%s' failed, reloading it: %s", name, werr.message);
    hone_registry_reload(self, name, NULL);
    rc = hone_error_set(err, HONE_ESTORE, "not stored, experiment '%s' is unchanged: %s", name,
                        werr.message);
    hone_strfree(name);
    return rc;
}
