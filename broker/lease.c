/* lease.c: leases in a binary min-heap by deadline, indexed by trial and by routing id;
 * the roster of workers seen lately. */
#include "lease.h"

#include "alloc.h"

#include <czmq.h>
#include <inttypes.h>
#include <stdio.h>

/* A lease and what the table needs to find it. The lease is the first member, so a
 * hone_lease_t * handed out is also the entry. */
typedef struct s_entry {
    hone_lease_t lease;         /* what callers see */
    size_t heap_at;             /* its slot in the heap */
    struct s_entry *id_prev;    /* the other leases of the same routing id */
    struct s_entry *id_next;
    char *key;                  /* "experiment#trial" in by_trial */
    char *id_key;               /* routing id in hex in by_identity; NULL when not known */
} s_entry_t;

/* A worker in the roster. */
typedef struct {
    char *experiment;           /* what it works on */
    char *worker;               /* its name, or "@hex" */
    int64_t last_seen_ms;       /* its last message */
} s_seen_t;

struct _hone_lease_table_t {
    zhashx_t *by_trial;         /* "experiment#trial" → s_entry_t (not owning) */
    zhashx_t *by_identity;      /* hex routing id → first s_entry_t of its list (not owning) */
    s_entry_t **heap;           /* min-heap by deadline; owns the entries */
    size_t n;                   /* leases in the heap */
    size_t cap;                 /* slots in heap */
    uint64_t ops;               /* heap comparisons and moves, for the scaling tests */
    zhashx_t *roster;           /* "experiment\x1fworker" → s_seen_t (owned) */
    size_t roster_prune_at;     /* roster size that triggers a prune of old entries */
};

#define S_ROSTER_PRUNE_MIN 1024

static void s_seen_destroy(void **item)
{
    s_seen_t *seen = *item;
    if (seen) {
        hone_strfree(seen->experiment);
        hone_strfree(seen->worker);
        hone_free(seen);
    }
    *item = NULL;
}

hone_lease_table_t *hone_lease_table_new(void)
{
    hone_lease_table_t *self = hone_alloc(sizeof *self);
    self->by_trial = zhashx_new();
    self->by_identity = zhashx_new();
    self->roster = zhashx_new();
    HONE_ASSERT(self->by_trial && self->by_identity && self->roster);
    zhashx_set_destructor(self->roster, s_seen_destroy);
    self->roster_prune_at = S_ROSTER_PRUNE_MIN;
    return self;
}

static void s_entry_free(s_entry_t *e)
{
    hone_strfree(e->lease.experiment);
    hone_strfree(e->lease.worker);
    hone_strfree(e->key);
    hone_strfree(e->id_key);
    hone_free(e);
}

void hone_lease_table_destroy(hone_lease_table_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_lease_table_t *self = *self_p;
    if (!self)
        return;
    for (size_t i = 0; i < self->n; i++)
        s_entry_free(self->heap[i]);
    hone_free(self->heap);
    zhashx_destroy(&self->by_trial);
    zhashx_destroy(&self->by_identity);
    zhashx_destroy(&self->roster);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_lease_count(const hone_lease_table_t *self)
{
    HONE_ASSERT(self);
    return self->n;
}

uint64_t hone_lease_ops(const hone_lease_table_t *self)
{
    HONE_ASSERT(self);
    return self->ops;
}

int64_t hone_lease_next_deadline(const hone_lease_table_t *self)
{
    HONE_ASSERT(self);
    return self->n > 0 ? self->heap[0]->lease.deadline_ms : INT64_MAX;
}

void hone_lease_id_name(const uint8_t *identity, size_t id_len, char *buf, size_t size)
{
    size_t used = (size_t) snprintf(buf, size, "@");
    for (size_t i = 0; i < id_len && i < 8 && used + 3 <= size; i++)
        used += (size_t) snprintf(buf + used, size - used, "%02x", identity[i]);
}

/* ---- the heap ---- */

static bool s_less(hone_lease_table_t *self, size_t a, size_t b)
{
    self->ops++;
    return self->heap[a]->lease.deadline_ms < self->heap[b]->lease.deadline_ms;
}

static void s_swap(hone_lease_table_t *self, size_t a, size_t b)
{
    self->ops++;
    s_entry_t *t = self->heap[a];
    self->heap[a] = self->heap[b];
    self->heap[b] = t;
    self->heap[a]->heap_at = a;
    self->heap[b]->heap_at = b;
}

static void s_sift_up(hone_lease_table_t *self, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!s_less(self, i, parent))
            break;
        s_swap(self, i, parent);
        i = parent;
    }
}

static void s_sift_down(hone_lease_table_t *self, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < self->n && s_less(self, l, m))
            m = l;
        if (r < self->n && s_less(self, r, m))
            m = r;
        if (m == i)
            return;
        s_swap(self, i, m);
        i = m;
    }
}

/* Restores the heap after entry i's deadline changed. */
static void s_fix(hone_lease_table_t *self, size_t i)
{
    if (i > 0 && s_less(self, i, (i - 1) / 2))
        s_sift_up(self, i);
    else
        s_sift_down(self, i);
}

/* Takes entry i out of the heap. */
static void s_heap_remove(hone_lease_table_t *self, size_t i)
{
    HONE_ASSERT(i < self->n);
    size_t last = --self->n;
    if (i != last) {
        self->heap[i] = self->heap[last];
        self->heap[i]->heap_at = i;
        self->ops++;
        s_fix(self, i);
    }
}

/* ---- the routing id index ---- */

static char *s_hex(const uint8_t *identity, size_t id_len)
{
    char *hex = hone_alloc(2 * id_len + 1);
    for (size_t i = 0; i < id_len; i++)
        snprintf(hex + 2 * i, 3, "%02x", identity[i]);
    hex[2 * id_len] = '\0';
    return hex;
}

static void s_unlink_identity(hone_lease_table_t *self, s_entry_t *e)
{
    if (!e->id_key)
        return;
    if (e->id_prev)
        e->id_prev->id_next = e->id_next;
    else if (e->id_next)
        zhashx_update(self->by_identity, e->id_key, e->id_next);
    else
        zhashx_delete(self->by_identity, e->id_key);
    if (e->id_next)
        e->id_next->id_prev = e->id_prev;
    e->id_prev = e->id_next = NULL;
    hone_strfree(e->id_key);
    e->id_key = NULL;
}

static void s_link_identity(hone_lease_table_t *self, s_entry_t *e, const uint8_t *identity, size_t id_len)
{
    if (id_len > HONE_LEASE_ID_MAX)
        id_len = HONE_LEASE_ID_MAX;
    if (e->id_key && e->lease.id_len == id_len && memcmp(e->lease.identity, identity, id_len) == 0)
        return;
    s_unlink_identity(self, e);
    memcpy(e->lease.identity, identity, id_len);
    e->lease.id_len = id_len;
    if (id_len == 0)
        return;
    e->id_key = s_hex(identity, id_len);
    s_entry_t *head = zhashx_lookup(self->by_identity, e->id_key);
    e->id_next = head;
    if (head)
        head->id_prev = e;
    zhashx_update(self->by_identity, e->id_key, e);
}

/* Takes e out of every index and the heap; the caller frees it. */
static void s_detach(hone_lease_table_t *self, s_entry_t *e)
{
    s_unlink_identity(self, e);
    zhashx_delete(self->by_trial, e->key);
    s_heap_remove(self, e->heap_at);
}

/* ---- leases ---- */

hone_lease_t *hone_lease_find(const hone_lease_table_t *self, const char *experiment, uint32_t trial)
{
    HONE_ASSERT(self && experiment);
    char key[300];
    snprintf(key, sizeof key, "%s#%" PRIu32, experiment, trial);
    s_entry_t *e = zhashx_lookup(self->by_trial, key);
    return e ? &e->lease : NULL;
}

hone_lease_t *hone_lease_add(hone_lease_table_t *self, const char *experiment, uint32_t trial, uint64_t token,
                             const char *worker, const uint8_t *identity, size_t id_len, int64_t expiry_ms,
                             int64_t now_ms)
{
    HONE_ASSERT(self && experiment && (identity || id_len == 0));
    hone_lease_t *old = hone_lease_find(self, experiment, trial);
    if (old)
        hone_lease_remove(self, old);
    s_entry_t *e = hone_alloc(sizeof *e);
    e->lease.experiment = hone_strdup(experiment);
    e->lease.trial = trial;
    e->lease.token = token;
    e->lease.worker = hone_strdup(worker ? worker : "");
    e->lease.assigned_ms = now_ms;
    e->lease.last_seen_ms = now_ms;
    e->lease.expiry_ms = expiry_ms;
    e->lease.deadline_ms = now_ms + expiry_ms;
    e->key = hone_sprintf("%s#%" PRIu32, experiment, trial);
    zhashx_insert(self->by_trial, e->key, e);
    if (id_len > 0)
        s_link_identity(self, e, identity, id_len);
    if (self->n == self->cap) {
        self->cap = self->cap ? 2 * self->cap : 64;
        self->heap = hone_realloc_array(self->heap, self->cap, sizeof *self->heap);
    }
    e->heap_at = self->n;
    self->heap[self->n++] = e;
    s_sift_up(self, e->heap_at);
    return &e->lease;
}

void hone_lease_touch(hone_lease_table_t *self, hone_lease_t *lease, const uint8_t *identity, size_t id_len,
                      int64_t now_ms)
{
    HONE_ASSERT(self && lease);
    s_entry_t *e = (s_entry_t *) lease;
    if (identity && id_len > 0)
        s_link_identity(self, e, identity, id_len);
    if (now_ms > lease->last_seen_ms)
        lease->last_seen_ms = now_ms;
    int64_t deadline = lease->last_seen_ms + lease->expiry_ms;
    if (deadline != lease->deadline_ms) {
        lease->deadline_ms = deadline;
        s_fix(self, e->heap_at);
    }
}

size_t hone_lease_touch_identity(hone_lease_table_t *self, const uint8_t *identity, size_t id_len,
                                 int64_t now_ms)
{
    HONE_ASSERT(self);
    if (id_len == 0 || id_len > HONE_LEASE_ID_MAX)
        return 0;
    char *hex = s_hex(identity, id_len);
    size_t n = 0;
    for (s_entry_t *e = zhashx_lookup(self->by_identity, hex); e; e = e->id_next, n++)
        hone_lease_touch(self, &e->lease, NULL, 0, now_ms);
    hone_strfree(hex);
    return n;
}

void hone_lease_remove(hone_lease_table_t *self, hone_lease_t *lease)
{
    HONE_ASSERT(self && lease);
    s_entry_t *e = (s_entry_t *) lease;
    s_detach(self, e);
    s_entry_free(e);
}

size_t hone_lease_keep_if(hone_lease_table_t *self, hone_lease_keep_fn *keep, void *arg)
{
    HONE_ASSERT(self && keep);
    if (self->n == 0)
        return 0;
    /* chosen first, removed after: a removal reorders the heap being walked */
    s_entry_t **drop = hone_alloc_array(self->n, sizeof *drop);
    size_t n_drop = 0;
    for (size_t i = 0; i < self->n; i++)
        if (!keep(arg, &self->heap[i]->lease))
            drop[n_drop++] = self->heap[i];
    for (size_t k = 0; k < n_drop; k++)
        hone_lease_remove(self, &drop[k]->lease);
    hone_free(drop);
    return n_drop;
}

hone_lease_t *hone_lease_take_expired(hone_lease_table_t *self, int64_t now_ms)
{
    HONE_ASSERT(self);
    if (self->n == 0)
        return NULL;
    self->ops++;
    s_entry_t *e = self->heap[0];
    if (e->lease.deadline_ms > now_ms)
        return NULL;
    s_detach(self, e);
    return &e->lease;
}

void hone_lease_free(hone_lease_t **lease_p)
{
    HONE_ASSERT(lease_p);
    if (*lease_p)
        s_entry_free((s_entry_t *) *lease_p);
    *lease_p = NULL;
}

/* ---- the roster ---- */

/* Drops the workers not seen for HONE_LEASE_ROSTER_KEEP_MS. */
static void s_roster_prune(hone_lease_table_t *self, int64_t now_ms)
{
    zlistx_t *old = zlistx_new();     /* copies of the keys to drop (the hash owns its keys) */
    HONE_ASSERT(old);
    for (s_seen_t *seen = zhashx_first(self->roster); seen; seen = zhashx_next(self->roster))
        if (now_ms - seen->last_seen_ms > HONE_LEASE_ROSTER_KEEP_MS)
            zlistx_add_end(old, hone_strdup(zhashx_cursor(self->roster)));
    for (char *key = zlistx_first(old); key; key = zlistx_next(old)) {
        zhashx_delete(self->roster, key);
        hone_strfree(key);
    }
    zlistx_destroy(&old);
    size_t size = zhashx_size(self->roster);
    self->roster_prune_at = size * 2 > S_ROSTER_PRUNE_MIN ? size * 2 : S_ROSTER_PRUNE_MIN;
}

void hone_lease_seen(hone_lease_table_t *self, const char *experiment, const char *worker,
                     const uint8_t *identity, size_t id_len, int64_t now_ms)
{
    HONE_ASSERT(self && experiment);
    char id_name[32];
    if (!worker || !*worker) {
        if (id_len == 0)
            return;
        hone_lease_id_name(identity, id_len, id_name, sizeof id_name);
        worker = id_name;
    }
    char *key = hone_sprintf("%s\x1f%s", experiment, worker);
    s_seen_t *seen = zhashx_lookup(self->roster, key);
    if (!seen) {
        if (zhashx_size(self->roster) >= self->roster_prune_at)
            s_roster_prune(self, now_ms);
        seen = hone_alloc(sizeof *seen);
        seen->experiment = hone_strdup(experiment);
        seen->worker = hone_strdup(worker);
        zhashx_insert(self->roster, key, seen);
    }
    if (now_ms > seen->last_seen_ms)
        seen->last_seen_ms = now_ms;
    hone_strfree(key);
}

static int s_row_cmp(const void *a, const void *b)
{
    const hone_lease_worker_t *x = a, *y = b;
    if (x->last_seen_ms != y->last_seen_ms)
        return x->last_seen_ms > y->last_seen_ms ? -1 : 1;
    return strcmp(x->worker, y->worker);
}

void hone_lease_workers(hone_lease_table_t *self, const char *experiment, int64_t now_ms,
                        hone_lease_worker_t **rows_out, size_t *n_out)
{
    HONE_ASSERT(self && experiment && rows_out && n_out);
    s_roster_prune(self, now_ms);
    size_t cap = 16, n = 0;
    hone_lease_worker_t *rows = hone_alloc_array(cap, sizeof *rows);
    zhashx_t *index = zhashx_new();     /* worker name → row number + 1 */
    HONE_ASSERT(index);
    for (size_t i = 0; i < self->n; i++) {
        const hone_lease_t *l = &self->heap[i]->lease;
        if (!streq(l->experiment, experiment))
            continue;
        char id_name[32];
        const char *name = l->worker;
        if (!*name) {
            hone_lease_id_name(l->identity, l->id_len, id_name, sizeof id_name);
            name = id_name;
        }
        if (n == cap) {
            cap *= 2;
            rows = hone_realloc_array(rows, cap, sizeof *rows);
        }
        rows[n] = (hone_lease_worker_t) {
            .worker = hone_strdup(name), .last_seen_ms = l->last_seen_ms, .leased = true,
            .trial = l->trial, .token = l->token, .assigned_ms = l->assigned_ms,
        };
        n++;
        zhashx_update(index, name, (void *) (uintptr_t) n);
    }
    for (s_seen_t *seen = zhashx_first(self->roster); seen; seen = zhashx_next(self->roster)) {
        if (!streq(seen->experiment, experiment))
            continue;
        uintptr_t at = (uintptr_t) zhashx_lookup(index, seen->worker);
        if (at) {
            if (seen->last_seen_ms > rows[at - 1].last_seen_ms)
                rows[at - 1].last_seen_ms = seen->last_seen_ms;
            continue;
        }
        if (n == cap) {
            cap *= 2;
            rows = hone_realloc_array(rows, cap, sizeof *rows);
        }
        rows[n++] = (hone_lease_worker_t) { .worker = hone_strdup(seen->worker), .last_seen_ms = seen->last_seen_ms };
    }
    zhashx_destroy(&index);
    if (n == 0) {
        hone_free(rows);
        rows = NULL;
    } else {
        qsort(rows, n, sizeof *rows, s_row_cmp);
    }
    *rows_out = rows;
    *n_out = n;
}

void hone_lease_workers_free(hone_lease_worker_t **rows_p, size_t n)
{
    HONE_ASSERT(rows_p);
    hone_lease_worker_t *rows = *rows_p;
    for (size_t i = 0; rows && i < n; i++)
        hone_strfree(rows[i].worker);
    hone_free(rows);
    *rows_p = NULL;
}
