/* experiment_arms.c: the set of arms in use by an experiment's trials (every trial that
 * is not FAILED), an open-addressing hash set keyed by FNV-1a of the parameterization.
 * Generation asks it whether a candidate is new; experiment.c keeps it current as
 * trials are added and fail. Separate because it is a data structure of its own, with
 * its own invariants (tombstones, power-of-two capacity); reaches the experiment's
 * fields through experiment_internal.h.
 *
 * Out-of-memory policy: abort (hone_alloc*), as everywhere in core. */
#include "experiment_internal.h"

#include "alloc.h"

/* ---------------------------------------------------------------------------------
 * Arm set. */

static uint64_t s_fnv(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

uint64_t hone_experiment_arm_hash(const hone_value_t *values, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) {
        unsigned char type = (unsigned char) values[i].type;
        h = s_fnv(h, &type, 1);
        switch (values[i].type) {
        case HONE_TYPE_FLOAT: {
            double f = values[i].u.f == 0 ? 0.0 : values[i].u.f;   /* -0.0 equals 0.0 */
            uint64_t bits;
            memcpy(&bits, &f, sizeof bits);
            h = s_fnv(h, &bits, sizeof bits);
            break;
        }
        case HONE_TYPE_INT: {
            uint64_t bits = (uint64_t) values[i].u.i;
            h = s_fnv(h, &bits, sizeof bits);
            break;
        }
        case HONE_TYPE_BOOL: {
            unsigned char b = values[i].u.b ? 1 : 0;
            h = s_fnv(h, &b, 1);
            break;
        }
        case HONE_TYPE_STR:
            h = s_fnv(h, values[i].u.s, strlen(values[i].u.s) + 1);
            break;
        }
    }
    return h ? h : 1;
}

/* The slot holding an arm equal to values, or SIZE_MAX. */
size_t hone_experiment_arms_find(const hone_experiment_t *self, const hone_value_t *values, uint64_t hash)
{
    if (self->cap_arms == 0)
        return SIZE_MAX;
    size_t mask = self->cap_arms - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        const hone_experiment_arm_slot_t *s = &self->arms[i];
        if (s->hash == 0)
            return SIZE_MAX;
        if (s->count > 0 && s->hash == hash
            && hone_space_points_equal(self->space, self->trials[s->trial].params, values))
            return i;
    }
}

static void s_arms_place(hone_experiment_arm_slot_t *arms, size_t cap, hone_experiment_arm_slot_t slot)
{
    size_t mask = cap - 1;
    size_t i = slot.hash & mask;
    while (arms[i].hash != 0 && arms[i].count > 0)
        i = (i + 1) & mask;
    arms[i] = slot;
}

static void s_arms_grow(hone_experiment_t *self)
{
    size_t cap = 16;
    while (cap < 4 * (self->n_arm_used + 1))
        cap *= 2;
    hone_experiment_arm_slot_t *arms = hone_alloc_array(cap, sizeof(hone_experiment_arm_slot_t));
    for (size_t i = 0; i < self->cap_arms; i++) {
        if (self->arms[i].hash != 0 && self->arms[i].count > 0)
            s_arms_place(arms, cap, self->arms[i]);
    }
    hone_free(self->arms);
    self->arms = arms;
    self->cap_arms = cap;
    self->n_arm_tomb = 0;
}

void hone_experiment_arms_add(hone_experiment_t *self, uint32_t trial)
{
    const hone_value_t *params = self->trials[trial].params;
    uint64_t hash = hone_experiment_arm_hash(params, hone_space_size(self->space));
    size_t at = hone_experiment_arms_find(self, params, hash);
    if (at != SIZE_MAX) {
        self->arms[at].count++;
        return;
    }
    if (2 * (self->n_arm_used + self->n_arm_tomb + 1) > self->cap_arms)
        s_arms_grow(self);
    size_t mask = self->cap_arms - 1;
    size_t i = hash & mask;
    while (self->arms[i].hash != 0 && self->arms[i].count > 0)
        i = (i + 1) & mask;
    if (self->arms[i].hash != 0)
        self->n_arm_tomb--;   /* reusing a tombstone */
    self->arms[i] = (hone_experiment_arm_slot_t) { .hash = hash, .trial = trial, .count = 1 };
    self->n_arm_used++;
}

void hone_experiment_arms_remove(hone_experiment_t *self, uint32_t trial)
{
    const hone_value_t *params = self->trials[trial].params;
    size_t at = hone_experiment_arms_find(self, params,
                                          hone_experiment_arm_hash(params, hone_space_size(self->space)));
    HONE_ASSERT(at != SIZE_MAX);
    if (--self->arms[at].count == 0) {
        self->n_arm_used--;
        self->n_arm_tomb++;
    }
}
