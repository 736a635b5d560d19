/* handlers.c: one function per request type; validate, change through the core, store,
 * then reply. Generations, `best` on the model path and `predict` fit a model, so they
 * go to the generator thread on a snapshot of the experiment (s_submit); while an
 * experiment generates, dispatch parks its `ready` and `next` (and only those), and
 * s_on_collected adopts the new trials, stores them, answers and serves what waited. */
#include "handlers.h"

#include "alloc.h"
#include "clock.h"
#include "lease.h"
#include "log.h"
#include "parking.h"
#include "request.h"
#include "wire.h"

#include <czmq.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <sys/random.h>
#include <time.h>

struct _hone_handlers_t {
    hone_registry_t *registry;  /* borrowed */
    hone_lease_table_t *leases; /* running trials handed to workers, by deadline */
    zhashx_t *adopted;          /* names of the experiments whose leases are armed (set) */
    uint32_t min_heartbeat_ms;  /* the shortest heartbeat interval of any lease so far */
    int64_t now_ms;             /* monotonic time of the request or tick being served */
    hone_reading_in_t *readings; /* scratch for parsed metrics, grown on demand */
    size_t cap_readings;        /* slots in readings */
    hone_generator_t *generator; /* borrowed; NULL: every generation inline */
    hone_handlers_reply_fn *reply; /* sends deferred replies */
    void *reply_arg;            /* its argument */
    hone_parking_t *parking;    /* busy experiments and the requests waiting for them */
    bool finishing;             /* shutdown: no generation starts any more */
    zhashx_t *stoppers;         /* experiment name -> s_stopper_t: early stopping's curves */
};

/* Early stopping of one experiment (PROTOCOL.md 4.6.4): the curves of the strategy's
 * metric, kept up to date incrementally, and the decisions waiting for the generator. */
typedef struct {
    hone_stopping_cache_t *cache; /* the curves (stopping.h) */
    bool in_flight;             /* a decision job of this experiment is on the generator */
    uint32_t *pending;          /* trials whose readings wait for the next job, no duplicates */
    size_t n_pending;           /* how many */
    size_t cap_pending;         /* slots in pending */
} s_stopper_t;

/* A request whose reply is deferred: parked behind an experiment's generation, or
 * waiting for its own job (the job's arg). A prefetch refill is a job without request. */
typedef struct {
    hone_handlers_peer_t peer;  /* who to answer */
    hone_msg_t *request;        /* owned; NULL for a refill */
    char *experiment;           /* job: the experiment's name (owned) */
    size_t trials_before;       /* job: the snapshot's trial count when it was taken */
} s_deferred_t;

/* A model fit that s_ready, s_next, s_best or s_predict want off the reactor. */
typedef struct {
    hone_experiment_t *exp;     /* NULL: none */
    hone_generator_kind_t kind; /* what to run */
    uint32_t count;             /* GENERATE: trials asked for */
    bool refill;                /* GENERATE: for the prefetch queue (CANDIDATE trials) */
    size_t n_points;            /* PREDICT: points */
    hone_value_t *points;       /* PREDICT: [n_points × space size], interned; owned */
    uint32_t trial;             /* STOP: the trial a `should_stop` asks about */
} s_offload_t;

/* Builders and setters fail only when memory is exhausted: the broker aborts then. */
#define S_ADD(call) HONE_ASSERT((call) != NULL)
#define S_SET(call) HONE_ASSERT((call) == HONE_OK)

static s_deferred_t *s_deferred_new(const hone_handlers_peer_t *peer, hone_msg_t **request)
{
    s_deferred_t *d = hone_alloc(sizeof *d);
    d->peer = *peer;
    d->request = *request;
    *request = NULL;
    return d;
}

static void s_deferred_destroy(void **item)
{
    s_deferred_t *d = *item;
    if (d) {
        hone_msg_destroy(&d->request);
        hone_strfree(d->experiment);
        hone_free(d);
    }
    *item = NULL;
}

static void s_stopper_destroy(void **item)
{
    s_stopper_t *st = *item;
    if (st) {
        hone_stopping_cache_destroy(&st->cache);
        hone_free(st->pending);
        hone_free(st);
    }
    *item = NULL;
}

hone_handlers_t *hone_handlers_new(hone_registry_t *registry)
{
    HONE_ASSERT(registry);
    hone_handlers_t *self = hone_alloc(sizeof *self);
    self->registry = registry;
    self->leases = hone_lease_table_new();
    self->adopted = zhashx_new();
    HONE_ASSERT(self->adopted);
    self->min_heartbeat_ms = HONE_LEASE_HEARTBEAT_MS_DEFAULT;
    self->parking = hone_parking_new(s_deferred_destroy);
    self->stoppers = zhashx_new();
    HONE_ASSERT(self->stoppers);
    zhashx_set_destructor(self->stoppers, s_stopper_destroy);
    return self;
}

void hone_handlers_use_generator(hone_handlers_t *self, hone_generator_t *generator,
                                 hone_handlers_reply_fn *reply, void *arg)
{
    HONE_ASSERT(self && generator && reply && !self->generator);
    self->generator = generator;
    self->reply = reply;
    self->reply_arg = arg;
}

void hone_handlers_destroy(hone_handlers_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_handlers_t *self = *self_p;
    if (!self)
        return;
    HONE_ASSERT(!self->generator || hone_generator_outstanding(self->generator) == 0);
    hone_parking_destroy(&self->parking);
    hone_lease_table_destroy(&self->leases);
    zhashx_destroy(&self->adopted);
    zhashx_destroy(&self->stoppers);
    hone_free(self->readings);
    hone_free(self);
    *self_p = NULL;
}

size_t hone_handlers_lease_count(const hone_handlers_t *self)
{
    HONE_ASSERT(self);
    return hone_lease_count(self->leases);
}

int hone_handlers_tick_ms(const hone_handlers_t *self)
{
    HONE_ASSERT(self);
    int tick = (int) (self->min_heartbeat_ms / 10);
    return tick < HONE_HANDLERS_TICK_MIN_MS ? HONE_HANDLERS_TICK_MIN_MS
           : tick > HONE_HANDLERS_TICK_MAX_MS ? HONE_HANDLERS_TICK_MAX_MS : tick;
}

/* ---- leases ---- */

/* The lease window of exp's workers: heartbeat interval × liveness. */
static int64_t s_expiry_ms(const hone_experiment_t *exp)
{
    const hone_lease_settings_t *l = hone_experiment_leases(exp);
    return (int64_t) l->heartbeat_ms * l->liveness;
}

static bool s_same_peer(const hone_lease_t *lease, const hone_handlers_peer_t *peer)
{
    return lease->id_len == peer->id_len && memcmp(lease->identity, peer->identity, peer->id_len) == 0;
}

/* Arms the lease of RUNNING trial index of exp (its open attempt is the token), or, when
 * it is armed already, refreshes it and binds it to peer's routing id (NULL: keep it). */
static hone_lease_t *s_lease_arm(hone_handlers_t *self, const hone_experiment_t *exp, uint32_t index,
                                 const hone_handlers_peer_t *peer, int64_t now_ms)
{
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    HONE_ASSERT(t);
    const hone_attempt_t *a = hone_trial_open_attempt(t);
    HONE_ASSERT(a);
    const char *name = hone_experiment_name(exp);
    const uint8_t *id = peer ? peer->identity : NULL;
    size_t id_len = peer ? peer->id_len : 0;
    hone_lease_t *lease = hone_lease_find(self->leases, name, index);
    if (lease && lease->token == t->n_attempts) {
        hone_lease_touch(self->leases, lease, id, id_len, now_ms);
        return lease;
    }
    uint32_t heartbeat = hone_experiment_leases(exp)->heartbeat_ms;
    if (heartbeat < self->min_heartbeat_ms)
        self->min_heartbeat_ms = heartbeat;
    return hone_lease_add(self->leases, name, index, t->n_attempts, a->worker, id, id_len, s_expiry_ms(exp),
                          now_ms);
}

static void s_lease_drop(hone_handlers_t *self, const char *experiment, uint32_t trial)
{
    hone_lease_t *lease = hone_lease_find(self->leases, experiment, trial);
    if (lease)
        hone_lease_remove(self->leases, lease);
}

/* Arms a lease for every RUNNING trial of exp that was handed to a worker and has none:
 * once per experiment after the broker starts (the lease table is not stored: each
 * worker gets a whole window from now to heartbeat, report or resume), and again on
 * `status` (which repairs a lease lost when a failed write reloaded the experiment). */
static void s_adopt(hone_handlers_t *self, const hone_experiment_t *exp, bool again)
{
    const char *name = hone_experiment_name(exp);
    if (!again && zhashx_lookup(self->adopted, name))
        return;
    zhashx_update(self->adopted, name, (void *) 1);
    if (hone_experiment_count_status(exp, HONE_TRIAL_RUNNING) == 0)
        return;
    size_t armed = 0, n = hone_experiment_trial_count(exp);
    for (uint32_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, i);
        if (t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t))
            continue;
        const hone_lease_t *lease = hone_lease_find(self->leases, name, i);
        if (lease && lease->token == t->n_attempts)
            continue;
        s_lease_arm(self, exp, i, NULL, self->now_ms);
        armed++;
    }
    if (armed > 0)
        hone_log_info("handlers", "'%s': %zu running trial(s) leased again; their workers have %" PRId64
                      " ms to be heard from", name, armed, s_expiry_ms(exp));
}

/* "2024-05-01T12:00:00.250Z" for wall-clock milliseconds. */
static const char *s_wall_text(int64_t ms, char *buf, size_t size)
{
    time_t secs = (time_t) (ms / 1000);
    struct tm tm;
    if (!gmtime_r(&secs, &tm) || strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
        snprintf(buf, size, "%" PRId64 " ms", ms);
        return buf;
    }
    size_t used = strlen(buf);
    snprintf(buf + used, size - used, ".%03dZ", (int) (ms % 1000));
    return buf;
}

/* HONE_ELEASE for a report under lease `token` of trial t, which expired. */
static int s_lease_gone(const hone_experiment_t *exp, const hone_trial_t *t, uint64_t token, hone_error_t *err)
{
    const hone_attempt_t *a = &t->attempts[token - 1];
    char when[64], now[160];
    s_wall_text(a->end_ms, when, sizeof when);
    if (t->status == HONE_TRIAL_RUNNING)
        snprintf(now, sizeof now, "the trial was re-queued and runs again under lease %" PRIu32, t->n_attempts);
    else if (t->status == HONE_TRIAL_STALE)
        snprintf(now, sizeof now, "the trial was re-queued and waits for a worker");
    else if (t->status == HONE_TRIAL_FAILED && t->attempts[t->n_attempts - 1].outcome == HONE_ATTEMPT_EXPIRED)
        snprintf(now, sizeof now, "the trial is FAILED: %s", t->reason ? t->reason : "lease expired");
    else
        snprintf(now, sizeof now, "the trial was re-queued and is %s now", hone_trial_status_name((int) t->status));
    return hone_error_set(err, HONE_ELEASE, "lease %" PRIu64 " of trial %s#%" PRIu32 " expired at %s (no word "
                          "from worker '%.64s' for %" PRId64 " ms); %s; this report changed nothing", token,
                          hone_experiment_name(exp), t->index, when, a->worker, s_expiry_ms(exp), now);
}

/* s_lease_check: the report repeats one already applied (same trial, same lease, the
 * status it asks for is the trial's): answer as the first time, change nothing. */
#define S_DUPLICATE 1

/* Checks a worker's report on trial index of exp (`progress` with `to` RUNNING,
 * `complete` COMPLETED, `fail` FAILED, `heartbeat` with `to` CANDIDATE: no status)
 * against the trial's lease, and refreshes the lease when it holds. With a `lease`
 * field (PROTOCOL.md 4.6): the token must be the trial's current hand-out; a token that
 * expired, or ended otherwise and was followed by another hand-out, is HONE_ELEASE.
 * Without one (an older peer): a RUNNING trial's lease must be bound to the sender's
 * routing id (or to none yet, after a restart: the sender takes it), and a trial whose
 * lease expired is HONE_ELEASE. Returns HONE_OK (go on: the status rules decide the
 * rest), S_DUPLICATE, HONE_ENOTFOUND, HONE_EPROTO or HONE_ELEASE. *lease_out is the
 * refreshed lease, or NULL. */
static int s_lease_check(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                         hone_experiment_t *exp, uint32_t index, hone_trial_status_t to, int64_t now_ms,
                         hone_lease_t **lease_out, hone_error_t *err);

/* ---- request fields ---- */

/* Parses `metrics` into the scratch readings; absent (or nil) gives *n = 0 unless
 * required. */
static int s_metrics(hone_handlers_t *self, const hone_msg_t *req, bool required, size_t *n,
                     hone_error_t *err)
{
    *n = 0;
    const hone_node_t *node = hone_msg_get(req, "metrics");
    if (!node)
        return required ? hone_error_set(err, HONE_EPROTO, "missing field 'metrics'") : HONE_OK;
    if (hone_node_type(node) != HONE_NODE_MAP)
        return hone_error_set(err, HONE_EPROTO, "field 'metrics' must be map");
    size_t len = hone_node_len(node);
    if (len > self->cap_readings) {
        self->readings = hone_realloc_array(self->readings, len, sizeof *self->readings);
        self->cap_readings = len;
    }
    return hone_wire_read_metrics(node, self->readings, n, err);
}

static int s_experiment(hone_handlers_t *self, const hone_msg_t *req, hone_experiment_t **exp,
                        const char **name, hone_error_t *err)
{
    int rc = hone_request_str(req, "experiment", name, err);
    if (rc == HONE_OK)
        rc = hone_registry_find(self->registry, *name, exp, err);
    if (rc == HONE_OK)
        s_adopt(self, *exp, false);
    return rc;
}

static const hone_trial_t *s_trial(const hone_experiment_t *exp, uint32_t index, hone_error_t *err)
{
    const hone_trial_t *trial = hone_experiment_trial(exp, index);
    if (!trial)
        hone_error_set(err, HONE_ENOTFOUND, "experiment '%s' has no trial %" PRIu32,
                       hone_experiment_name(exp), index);
    return trial;
}

static int s_lease_check(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                         hone_experiment_t *exp, uint32_t index, hone_trial_status_t to, int64_t now_ms,
                         hone_lease_t **lease_out, hone_error_t *err)
{
    *lease_out = NULL;
    const hone_trial_t *t = s_trial(exp, index, err);
    if (!t)
        return HONE_ENOTFOUND;
    bool has_token;
    uint64_t token;
    int rc = hone_request_opt_lease(req, &has_token, &token, err);
    if (rc != HONE_OK)
        return rc;
    const char *name = hone_experiment_name(exp);
    bool reports = to != HONE_TRIAL_RUNNING && to != HONE_TRIAL_CANDIDATE;  /* complete or fail */
    const hone_attempt_t *last = t->n_attempts > 0 ? &t->attempts[t->n_attempts - 1] : NULL;
    if (has_token) {
        if (token == 0 || token > t->n_attempts)
            return hone_error_set(err, HONE_ELEASE, "lease %" PRIu64 " was never given for trial %s#%" PRIu32
                                  " (it was handed out %" PRIu32 " time(s)); this report changed nothing",
                                  token, name, index, t->n_attempts);
        const hone_attempt_t *a = &t->attempts[token - 1];
        if (a->outcome == HONE_ATTEMPT_EXPIRED)
            return s_lease_gone(exp, t, token, err);
        if (token != t->n_attempts)
            return hone_error_set(err, HONE_ELEASE, "lease %" PRIu64 " of trial %s#%" PRIu32 " ended (%s); the trial "
                                  "was handed out again under lease %" PRIu32 "; this report changed nothing",
                                  token, name, index, hone_attempt_outcome_name((int) a->outcome), t->n_attempts);
        if (a->outcome == HONE_ATTEMPT_RUNNING && t->status == HONE_TRIAL_RUNNING) {
            *lease_out = s_lease_arm(self, exp, index, peer, now_ms);
            return HONE_OK;
        }
        return reports && t->status == to ? S_DUPLICATE : HONE_OK;
    }
    /* No lease given: an older peer. */
    if (t->status == HONE_TRIAL_STALE
        || (t->status == HONE_TRIAL_FAILED && last && last->outcome == HONE_ATTEMPT_EXPIRED))
        return s_lease_gone(exp, t, t->n_attempts, err);
    if (reports && t->status == to)
        return S_DUPLICATE;
    if (t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t))
        return HONE_OK;     /* a client's trial, or the status rules answer */
    hone_lease_t *lease = hone_lease_find(self->leases, name, index);
    if (lease && lease->token == t->n_attempts && lease->id_len > 0 && !s_same_peer(lease, peer))
        return hone_error_set(err, HONE_ELEASE, "trial %s#%" PRIu32 " is leased to worker '%.64s' (lease %" PRIu64
                              ") on another connection; a report without its `lease` is accepted only from "
                              "the connection that holds it; this report changed nothing", name, index,
                              lease->worker, lease->token);
    *lease_out = s_lease_arm(self, exp, index, peer, now_ms);
    return HONE_OK;
}

hone_msg_t *hone_handlers_error(uint64_t seq, int code, const char *message)
{
    hone_msg_t *reply = hone_msg_new(HONE_MSG_ERROR);
    HONE_ASSERT(reply);
    hone_msg_set_seq(reply, seq);
    S_SET(hone_msg_set_int(reply, "code", code));
    S_SET(hone_msg_set_str(reply, "name", hone_err_name(code)));
    S_SET(hone_msg_set_str(reply, "message", message && *message ? message : hone_strerror(code)));
    return reply;
}

/* ---- shared steps ---- */

/* Whether generation and `best` for exp go to the generator thread: every method but
 * random_search (Sobol draws, raw best: microseconds) fits a model. */
static bool s_offloads(const hone_handlers_t *self, const hone_experiment_t *exp)
{
    return self->generator && !streq(hone_experiment_method(exp), "random_search");
}

/* After hone_experiment_generate (rc, *n trials in indices) on the reactor thread:
 * records the worker (and, for a worker's `ready`, leased, the first attempt of each
 * trial) and stores what the core changed (new trials and the Sobol
 * position, even when no trial was made, so a reload continues the same sequence).
 * before and sobol_before are the trial count and Sobol position from before.
 * Returns the core's code, or HONE_ESTORE when the change could not be stored; *exp is
 * then NULL (the registry reloaded it). */
static int s_generated(hone_handlers_t *self, hone_experiment_t **exp, size_t before,
                       uint64_t sobol_before, int rc, const char *worker, bool leased,
                       const uint32_t *indices, uint32_t *n, hone_error_t *err)
{
    if (rc == HONE_OK && *n == 0)
        rc = hone_error_set(err, HONE_EAGAIN, "no trial could be generated now");
    size_t after = hone_experiment_trial_count(*exp);
    for (uint32_t i = 0; i < *n; i++) {
        hone_experiment_set_worker(*exp, indices[i], worker);
        if (leased)
            hone_experiment_start_attempt(*exp, indices[i], worker, hone_clock_wall_ms());
    }
    if (after == before && hone_experiment_sobol_drawn(*exp) == sobol_before)
        return rc;
    hone_registry_change_t change = {
        .experiment = true,
        .trial_first = (uint32_t) before,
        .n_trials = (uint32_t) (after - before),
    };
    int src = hone_registry_persist(self->registry, *exp, &change, err);
    if (src != HONE_OK) {
        *exp = NULL;
        *n = 0;
        return src;
    }
    return rc;
}

/* Generates up to max trials inline and stores them (s_generated). */
static int s_generate(hone_handlers_t *self, hone_experiment_t **exp, uint32_t max,
                      const char *worker, bool leased, uint32_t *indices, uint32_t *n, hone_error_t *err)
{
    size_t before = hone_experiment_trial_count(*exp);
    uint64_t sobol_before = hone_experiment_sobol_drawn(*exp);
    *n = 0;
    int rc = hone_experiment_generate(*exp, max, indices, n, err);
    return s_generated(self, exp, before, sobol_before, rc, worker, leased, indices, n, err);
}

/* Undoes an in-memory change that could not be completed. */
static void s_undo(hone_handlers_t *self, const char *name)
{
    char *copy = hone_strdup(name);
    hone_registry_reload(self->registry, copy, NULL);
    hone_strfree(copy);
}

/* ---- early stopping (PROTOCOL.md 4.6.4 and 6.8) ----
 *
 * Only experiments with an `early_stopping` block are evaluated by the broker (opt-in;
 * a client's `should_stop` works on any experiment, with Ax's default strategy). After
 * a `progress` reading of the strategy's metric with a progression is attached to a
 * RUNNING trial, the broker decides for that trial; a stop marks it EARLY_STOPPED with
 * the decision's reason in the same transaction as the reading, and the reply carries
 * {stop: true, reason}. The stop is state, not a message: every later `progress` or
 * `heartbeat` of the holder (s_stop_pending) is answered with it again, until the
 * worker acknowledges with `complete` or `fail` (s_stop_ack); its lease entry stays,
 * meaning "stop pending", until then or until it expires (then it is dropped, s_expire).
 *
 * Cost. hone_experiment_should_stop rebuilds every curve from every reading: measured
 * (RelWithDebInfo, one core) 0.4-0.6 ms for 200 trials x 50 readings and 7-11 ms for
 * 1 000 x 100 per decision, far too much for the reactor at thousands of readings a
 * second. The broker keeps the curves in a cache per experiment instead
 * (hone_stopping_cache_t, stopping.h): before a decision only the trials whose reading
 * count changed are refilled, so a reading plus its decision cost 5-30 us at 200 x 50,
 * about 0.1 ms at 1 000 x 100 and 0.7-1.3 ms at 5 000-10 000 trials. Ax's `interval`,
 * min_progression and max_progression are checked first on the trial's own curve
 * (hone_stopping_cache_due), so most readings cost only the sync. Decisions that would
 * cost more than about a millisecond go to the generator thread on a copy of the
 * curves: every decision of an experiment with check_safe (its replay of the strategy
 * over the history took 1.5-2 ms at 200 x 50 and 6.5 ms at 1 000 x 100), and every
 * decision once the experiment has more than S_STOP_INLINE_CURVES curves. Those
 * readings are answered `ok {}` at once; the trials wait in a per-experiment batch (one
 * job in flight per experiment), and a stop decided there reaches the worker in the
 * reply to its next report or heartbeat, which the protocol allows since the stop is
 * state. */

/* Above this many curves, a decision goes to the generator (see above). */
#define S_STOP_INLINE_CURVES 2000

static s_stopper_t *s_stopper(hone_handlers_t *self, const char *name)
{
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    if (!st) {
        st = hone_alloc(sizeof *st);
        st->cache = hone_stopping_cache_new();
        int rc = zhashx_insert(self->stoppers, name, st);
        HONE_ASSERT(rc == 0);
    }
    return st;
}

/* A reading of trial index was attached (perhaps replacing one in place): its cached
 * curve is refilled before the next decision. */
static void s_stop_touch_curve(hone_handlers_t *self, const char *name, uint32_t index)
{
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    if (st)
        hone_stopping_cache_touch(st->cache, index);
}

/* Whether a decision with cfg on curves goes to the generator thread. */
static bool s_stop_offloads(const hone_handlers_t *self, const hone_stopping_config_t *cfg,
                            const hone_curves_t *curves)
{
    return self->generator && !self->finishing
           && (cfg->check_safe || hone_curves_size(curves) > S_STOP_INLINE_CURVES);
}

/* Whether the sender of a worker's report or heartbeat on trial index is the worker that
 * held the trial when it was stopped early, so that its stop is pending: the trial is
 * EARLY_STOPPED, its last hand-out ended "early stopped" (by the broker's decision or a
 * client's `mark`), and the request names that hand-out's `lease`; without `lease` (an
 * older peer), the sender's connection holds the stop-pending lease entry. Call after
 * s_lease_check accepted the request. */
static bool s_stop_pending(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                           const hone_experiment_t *exp, uint32_t index)
{
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    if (!t || t->status != HONE_TRIAL_EARLY_STOPPED || t->n_attempts == 0
        || t->attempts[t->n_attempts - 1].outcome != HONE_ATTEMPT_EARLY_STOPPED)
        return false;
    bool has_token;
    uint64_t token;
    if (hone_request_opt_lease(req, &has_token, &token, NULL) != HONE_OK)
        return false;
    if (has_token)
        return token == t->n_attempts;
    const hone_lease_t *lease = hone_lease_find(self->leases, hone_experiment_name(exp), index);
    return lease && lease->token == t->n_attempts && lease->id_len > 0 && s_same_peer(lease, peer);
}

/* The holder of a stopped trial was heard from: its stop-pending lease entry (gone after
 * a restart, which changes nothing) is refreshed and follows its connection. */
static void s_stop_seen(hone_handlers_t *self, const hone_experiment_t *exp, uint32_t index,
                        const hone_handlers_peer_t *peer, int64_t now_ms)
{
    const char *name = hone_experiment_name(exp);
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    hone_lease_t *lease = hone_lease_find(self->leases, name, index);
    if (lease && lease->token == t->n_attempts)
        hone_lease_touch(self->leases, lease, peer->identity, peer->id_len, now_ms);
    hone_lease_seen(self->leases, name, t->attempts[t->n_attempts - 1].worker, peer->identity, peer->id_len,
                    now_ms);
}

/* Adds {stop: true, reason} to a reply about stopped trial t. */
static void s_put_stop(hone_msg_t *reply, const hone_trial_t *t)
{
    S_SET(hone_msg_set_bool(reply, "stop", true));
    S_SET(hone_msg_set_str(reply, "reason", t->reason && *t->reason ? t->reason : "stopped early"));
}

/* Marks RUNNING trial index EARLY_STOPPED with decision's reason (prefixed with the
 * strategy's name) and ends its hand-out as "early stopped"; in memory only (the caller
 * stores the trial). Errors: those of hone_experiment_mark (none for a RUNNING trial
 * with a reading). */
static int s_stop_mark(hone_experiment_t *exp, uint32_t index, const hone_stop_decision_t *decision,
                       hone_error_t *err)
{
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    char reason[HONE_STOP_REASON_MAX + 64];
    snprintf(reason, sizeof reason, "%s strategy: %s", hone_stopping_type_name((int) cfg.type), decision->reason);
    int rc = hone_experiment_mark(exp, index, HONE_TRIAL_EARLY_STOPPED, reason, err);
    if (rc == HONE_OK)
        hone_experiment_end_attempt(exp, index, HONE_ATTEMPT_EARLY_STOPPED, hone_clock_wall_ms());
    return rc;
}

/* After the n readings of a `progress` (with a progression) were attached in memory to
 * RUNNING trial index: when exp has an early_stopping block and a reading is of the
 * strategy's metric, decides whether the trial stops. Returns true with *decision set
 * when it must stop now. Sets *queue instead when the decision belongs on the generator
 * (the caller queues it once the reading is stored: s_stop_enqueue). */
static bool s_stop_evaluate(hone_handlers_t *self, hone_experiment_t *exp, uint32_t index, size_t n,
                            bool *queue, hone_stop_decision_t *decision)
{
    *queue = false;
    const char *metric = NULL;
    bool minimize = false;
    const hone_stopping_config_t *cfg = hone_experiment_stopping(exp, &metric, &minimize);
    if (!cfg)
        return false;       /* opt-in */
    bool of_metric = false;
    for (size_t i = 0; i < n && !of_metric; i++)
        of_metric = streq(self->readings[i].metric, metric);
    if (!of_metric)
        return false;
    const char *name = hone_experiment_name(exp);
    s_stopper_t *st = s_stopper(self, name);
    int64_t started = hone_clock_mono_us();
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, &index, 1);
    if (!hone_stopping_cache_due(st->cache, cfg, index))
        return false;
    if (s_stop_offloads(self, cfg, curves)) {
        *queue = true;
        return false;
    }
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_stopping_decide(cfg, curves, minimize, index, decision, &err);
    if (rc == HONE_OK && decision->record_check)
        rc = hone_experiment_set_stop_check(exp, index, decision->check_progression, &err);
    if (rc != HONE_OK) {
        hone_log_warn("handlers", "early stopping of %s#%" PRIu32 ": %s", name, index, err.message);
        return false;
    }
    hone_log_debug("handlers", "early stopping of %s#%" PRIu32 " decided in %" PRId64 " us (%zu curves): %s%s", name,
                   index, hone_clock_mono_us() - started, hone_curves_size(curves),
                   decision->should_stop ? "stop: " : "go on: ", decision->reason);
    return decision->should_stop;
}

/* Hands a decision job for trials[0..n) of exp to the generator, on a copy of curves
 * (synced for them). With a request (a client's `should_stop`) the job answers it;
 * without, it is the experiment's batch (s_on_stop_decided). */
static void s_stop_submit_job(hone_handlers_t *self, const hone_handlers_peer_t *peer, hone_msg_t **request,
                              const hone_experiment_t *exp, const hone_curves_t *curves, const uint32_t *trials,
                              size_t n)
{
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    hone_curves_t *copy = hone_curves_dup(curves);
    s_deferred_t *d = request ? s_deferred_new(peer, request) : hone_alloc(sizeof *d);
    d->experiment = hone_strdup(hone_experiment_name(exp));
    hone_generator_job_t *job = hone_generator_job_new_stop(&copy, &cfg, minimize, trials, n, d);
    hone_generator_submit(self->generator, &job);
}

/* Sends experiment name's batch of pending decisions to the generator, when none is in
 * flight: the trials still RUNNING and due. While the broker is finishing the batch is
 * dropped (a trial not stopped runs on; nothing is lost). */
static void s_stop_submit(hone_handlers_t *self, const char *name)
{
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    hone_experiment_t *exp;
    if (!st || st->in_flight || st->n_pending == 0)
        return;
    if (!self->generator || self->finishing || hone_registry_find(self->registry, name, &exp, NULL) != HONE_OK) {
        st->n_pending = 0;
        return;
    }
    size_t n = 0, count = hone_experiment_trial_count(exp);
    for (size_t k = 0; k < st->n_pending; k++) {
        uint32_t index = st->pending[k];
        if (index < count && hone_experiment_trial(exp, index)->status == HONE_TRIAL_RUNNING)
            st->pending[n++] = index;
    }
    st->n_pending = 0;
    if (n == 0)
        return;
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, st->pending, n);
    size_t due = 0;
    for (size_t k = 0; k < n; k++)
        if (hone_stopping_cache_due(st->cache, &cfg, st->pending[k]))
            st->pending[due++] = st->pending[k];
    if (due == 0)
        return;
    s_stop_submit_job(self, NULL, NULL, exp, curves, st->pending, due);
    st->in_flight = true;
}

/* Queues trial index of experiment name for a decision on the generator (its reading is
 * stored) and sends the batch when none is in flight. */
static void s_stop_enqueue(hone_handlers_t *self, const char *name, uint32_t index)
{
    s_stopper_t *st = s_stopper(self, name);
    bool queued = false;
    for (size_t k = 0; k < st->n_pending && !queued; k++)
        queued = st->pending[k] == index;
    if (!queued) {
        if (st->n_pending == st->cap_pending) {
            st->cap_pending = st->cap_pending ? 2 * st->cap_pending : 16;
            st->pending = hone_realloc_array(st->pending, st->cap_pending, sizeof *st->pending);
        }
        st->pending[st->n_pending++] = index;
    }
    s_stop_submit(self, name);
}

/* `complete` or `fail` (n readings parsed, for `complete`) from the holder of a trial
 * whose stop is pending: the acknowledgement. The readings are stored (the status stays
 * EARLY_STOPPED), the stop-pending lease entry is released, and the reply is
 * ok {status: "EARLY_STOPPED", reason}. Repeating it stores the same readings again
 * under the same keys, which changes nothing. */
static int s_stop_ack(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                      hone_experiment_t *exp, uint32_t index, size_t n, int64_t now_ms, hone_msg_t **reply,
                      hone_error_t *err)
{
    char name[256];
    snprintf(name, sizeof name, "%s", hone_experiment_name(exp));
    bool has_prog = false;
    int64_t prog = 0;
    int rc = hone_request_opt_progression(req, &has_prog, &prog, err);
    if (rc == HONE_OK && n > 0)
        rc = hone_experiment_attach(exp, index, self->readings, n, has_prog, prog, false, err);
    if (rc != HONE_OK)
        return rc;
    s_stop_seen(self, exp, index, peer, now_ms);
    if (n > 0) {
        s_stop_touch_curve(self, name, index);
        hone_registry_change_t change = {
            .reading_trial = index, .readings = self->readings, .n_readings = n,
            .has_progression = has_prog, .progression = prog,
        };
        rc = hone_registry_persist(self->registry, exp, &change, err);
        if (rc != HONE_OK)
            return rc;
    }
    s_lease_drop(self, name, index);
    const hone_trial_t *t = hone_experiment_trial(exp, index);
    hone_log_info("handlers", "trial %s#%" PRIu32 ": the worker acknowledged its early stop (%s, %zu final "
                  "reading(s))", name, index, hone_msg_name(hone_msg_id(req)), n);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_str(*reply, "status", hone_trial_status_name(HONE_TRIAL_EARLY_STOPPED)));
    S_SET(hone_msg_set_str(*reply, "reason", t->reason && *t->reason ? t->reason : "stopped early"));
    return HONE_OK;
}

/* ---- worker role ---- */

/* The reply to `ready` once generation gave rc and n (0 or 1) trials at index: a
 * trial under its lease (armed or refreshed for peer), no_work, or an error code. */
static int s_ready_reply(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                         int64_t now_ms, const hone_experiment_t *exp, const char *name,
                         const char *worker, int rc, uint32_t index, hone_msg_t **reply,
                         hone_error_t *err)
{
    if (rc == HONE_OK) {
        const hone_trial_t *trial = hone_experiment_trial(exp, index);
        HONE_ASSERT(trial);
        hone_lease_t *lease = s_lease_arm(self, exp, index, peer, now_ms);
        *reply = hone_request_reply(HONE_MSG_TRIAL, req);
        S_SET(hone_msg_set_str(*reply, "experiment", name));
        S_SET(hone_msg_set_int(*reply, "trial", index));
        hone_node_t *params = hone_node_add_map(hone_msg_body(*reply), "params");
        HONE_ASSERT(params);
        hone_wire_fill_params(params, hone_experiment_space(exp), trial->params);
        S_SET(hone_msg_set_str(*reply, "note", trial->note ? trial->note : ""));
        S_SET(hone_msg_set_int(*reply, "lease", (int64_t) lease->token));
        S_SET(hone_msg_set_int(*reply, "heartbeat_ms", hone_experiment_leases(exp)->heartbeat_ms));
        hone_log_debug("handlers", "trial %s#%" PRIu32 " to worker '%s' under lease %" PRIu64, name, index,
                       worker ? worker : "", lease->token);
        return HONE_OK;
    }
    if (rc == HONE_EAGAIN || rc == HONE_EDONE || rc == HONE_EEXHAUSTED) {
        bool done = rc != HONE_EAGAIN;
        /* A running trial may come back within a heartbeat when its lease expires. */
        int64_t retry = HONE_HANDLERS_RETRY_MS;
        if (exp && hone_experiment_leases(exp)->heartbeat_ms < retry)
            retry = hone_experiment_leases(exp)->heartbeat_ms;
        *reply = hone_request_reply(HONE_MSG_NO_WORK, req);
        S_SET(hone_msg_set_int(*reply, "retry_ms", done ? 0 : retry));
        S_SET(hone_msg_set_bool(*reply, "done", done));
        S_SET(hone_msg_set_str(*reply, "reason", err->message[0] ? err->message : hone_strerror(rc)));
        return HONE_OK;
    }
    return rc;
}

/* Hands the queued trial at index (re-queued STALE, or a prefetched CANDIDATE) to
 * worker: RUNNING, a new attempt, stored. */
static int s_take_queued(hone_handlers_t *self, hone_experiment_t **exp, uint32_t index,
                         const char *worker, hone_error_t *err)
{
    hone_trial_status_t was = hone_experiment_trial(*exp, index)->status;
    int rc = hone_experiment_mark(*exp, index, HONE_TRIAL_RUNNING, NULL, err);
    if (rc != HONE_OK)
        return rc;
    hone_experiment_set_worker(*exp, index, worker);
    uint32_t token = hone_experiment_start_attempt(*exp, index, worker, hone_clock_wall_ms());
    if (was == HONE_TRIAL_STALE)
        hone_log_info("handlers", "re-queued trial %s#%" PRIu32 " to worker '%s' (attempt %" PRIu32 ")",
                      hone_experiment_name(*exp), index, worker ? worker : "", token);
    hone_registry_change_t change = { .trial_first = index, .n_trials = 1 };
    rc = hone_registry_persist(self->registry, *exp, &change, err);
    if (rc != HONE_OK)
        *exp = NULL;
    return rc;
}

static int s_ready(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                   int64_t now_ms, hone_msg_t **reply, s_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name, *worker;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_str(req, "worker", &worker, err);
    if (rc != HONE_OK)
        return rc;
    hone_lease_seen(self->leases, name, worker, peer->identity, peer->id_len, now_ms);
    uint32_t index = 0, n = 0;
    const hone_trial_t *held = hone_experiment_running_for(exp, worker);
    int64_t queued;
    if (held) {
        /* The reply that handed this trial out was lost (a broker restart or a dropped
         * link), or the worker restarted under its name: the worker would not ask for
         * work while evaluating it. It resumes under its lease. */
        hone_log_info("handlers", "worker '%s' resumes trial %s#%" PRIu32, worker, name, held->index);
        index = held->index;
        if (!hone_trial_open_attempt(held)) {
            /* stored before leases: the resumption is its first attempt */
            hone_experiment_start_attempt(exp, index, worker, hone_clock_wall_ms());
            hone_registry_change_t change = { .trial_first = index, .n_trials = 1 };
            rc = hone_registry_persist(self->registry, exp, &change, err);
            if (rc != HONE_OK)
                return rc;
        }
    } else if ((queued = hone_experiment_next_queued(exp)) >= 0) {
        /* A re-queued trial first, then the prefetch queue: handed out at once. */
        index = (uint32_t) queued;
        rc = s_take_queued(self, &exp, index, worker, err);
        if (rc != HONE_OK)
            return rc;
    } else if (s_offloads(self, exp)) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_GENERATE;
        offload->count = 1;
        return HONE_OK;
    } else {
        rc = s_generate(self, &exp, 1, worker, true, &index, &n, err);
    }
    return s_ready_reply(self, req, peer, now_ms, exp, name, worker, rc, index, reply, err);
}

/* Shared by `progress` (worker role: the trial must be RUNNING under the sender's lease,
 * and the reading refreshes it) and `attach` (client role, like Ax main: any status).
 * A `progress` may stop the trial early (s_stop_evaluate): it is then EARLY_STOPPED in
 * the reading's transaction and the reply carries {stop, reason}; a `progress` from the
 * holder of a trial already stopped is stored all the same and answered with the stop
 * again (s_stop_pending). */
static int s_readings(hone_handlers_t *self, const hone_msg_t *req, bool worker_role,
                      const hone_handlers_peer_t *peer, int64_t now_ms, hone_msg_t **reply,
                      hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    uint32_t index;
    bool has_prog;
    int64_t prog;
    size_t n;
    hone_lease_t *lease = NULL;
    bool pending = false;       /* stopped before: the stop is repeated */
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_progression(req, &has_prog, &prog, err);
    if (rc == HONE_OK)
        rc = s_metrics(self, req, true, &n, err);
    if (rc == HONE_OK && worker_role)
        rc = s_lease_check(self, req, peer, exp, index, HONE_TRIAL_RUNNING, now_ms, &lease, err);
    if (rc == HONE_OK && worker_role)
        pending = s_stop_pending(self, req, peer, exp, index);
    if (rc == HONE_OK)
        rc = hone_experiment_attach(exp, index, self->readings, n, has_prog, prog, worker_role && !pending, err);
    if (rc != HONE_OK)
        return rc;
    char key_name[256];
    snprintf(key_name, sizeof key_name, "%s", name);
    s_stop_touch_curve(self, key_name, index);
    if (pending)
        s_stop_seen(self, exp, index, peer, now_ms);
    else if (worker_role)
        hone_lease_seen(self->leases, name, lease ? lease->worker : NULL, peer->identity, peer->id_len, now_ms);
    hone_stop_decision_t decision;
    bool queue = false, stop = false;
    if (worker_role && !pending && has_prog && s_stop_evaluate(self, exp, index, n, &queue, &decision)) {
        hone_error_t why;
        hone_error_clear(&why);
        stop = s_stop_mark(exp, index, &decision, &why) == HONE_OK;
        if (!stop)
            hone_log_warn("handlers", "trial %s#%" PRIu32 " should stop early but cannot be marked: %s", key_name,
                          index, why.message);
    }
    hone_registry_change_t change = {
        .trial_first = index, .n_trials = stop ? 1 : 0,
        .reading_trial = index, .readings = self->readings, .n_readings = n,
        .has_progression = has_prog, .progression = prog,
    };
    rc = hone_registry_persist(self->registry, exp, &change, err);
    if (rc != HONE_OK)
        return rc;
    *reply = hone_request_reply(HONE_MSG_OK, req);
    if (stop || pending)
        s_put_stop(*reply, hone_experiment_trial(exp, index));
    if (stop)
        hone_log_info("handlers", "trial %s#%" PRIu32 " stopped early at progression %" PRId64 ": %s", key_name,
                      index, prog, hone_experiment_trial(exp, index)->reason);
    if (queue)
        s_stop_enqueue(self, key_name, index);
    return HONE_OK;
}

/* Shared by `complete`, `fail` and `mark`: optional readings then a status, in memory
 * and then in one transaction. The transition is checked before anything changes. */
static int s_finish(hone_handlers_t *self, const hone_msg_t *req, hone_experiment_t *exp,
                    uint32_t index, hone_trial_status_t to, const char *reason, size_t n_readings,
                    bool require_running, hone_msg_t **reply, hone_error_t *err)
{
    const char *name = hone_experiment_name(exp);
    bool has_prog = false;
    int64_t prog = 0;
    const hone_trial_t *trial = s_trial(exp, index, err);
    if (!trial)
        return HONE_ENOTFOUND;
    int rc = hone_request_opt_progression(req, &has_prog, &prog, err);
    if (rc == HONE_OK && !(n_readings > 0 && require_running))
        rc = hone_trial_check_transition(trial, to, err);
    if (rc == HONE_OK && n_readings > 0)
        rc = hone_experiment_attach(exp, index, self->readings, n_readings, has_prog, prog,
                                    require_running, err);
    if (rc != HONE_OK)
        return rc;
    rc = hone_experiment_mark(exp, index, to, reason, err);
    if (rc != HONE_OK) {
        if (n_readings > 0)
            s_undo(self, name);     /* the readings were attached in memory only */
        return rc;
    }
    /* The worker's hand-out ends with the trial (stored in the same transaction). */
    if (hone_trial_status_is_terminal(to))
        hone_experiment_end_attempt(exp, index, hone_attempt_outcome_for(to), hone_clock_wall_ms());
    hone_registry_change_t change = {
        .trial_first = index, .n_trials = 1,
        .reading_trial = index, .readings = self->readings, .n_readings = n_readings,
        .has_progression = has_prog, .progression = prog,
    };
    char key_name[256];
    snprintf(key_name, sizeof key_name, "%s", name);
    rc = hone_registry_persist(self->registry, exp, &change, err);
    if (rc != HONE_OK)
        return rc;
    if (n_readings > 0)
        s_stop_touch_curve(self, key_name, index);
    /* A worker's trial that a client stops early keeps its lease entry: the stop is
     * pending until the worker acknowledges it (s_stop_pending). */
    if (hone_trial_status_is_terminal(to) && to != HONE_TRIAL_EARLY_STOPPED)
        s_lease_drop(self, key_name, index);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_str(*reply, "status", hone_trial_status_name(to)));
    return HONE_OK;
}

/* `complete` and `fail`: the lease is checked first; a duplicate of a report already
 * applied gets the same reply and changes nothing; from the holder of a trial stopped
 * early, either one acknowledges the stop (s_stop_ack). */
static int s_report(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                    int64_t now_ms, hone_trial_status_t to, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name, *reason = NULL;
    uint32_t index;
    size_t n = 0;
    hone_lease_t *lease = NULL;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc == HONE_OK && to == HONE_TRIAL_COMPLETED)
        rc = s_metrics(self, req, false, &n, err);
    if (rc == HONE_OK && to == HONE_TRIAL_FAILED)
        rc = hone_request_opt_str(req, "reason", &reason, err);
    if (rc == HONE_OK)
        rc = s_lease_check(self, req, peer, exp, index, to, now_ms, &lease, err);
    if (rc == S_DUPLICATE) {
        hone_log_debug("handlers", "%s of trial %s#%" PRIu32 " again: answered as before, nothing changed",
                       hone_msg_name(hone_msg_id(req)), name, index);
        *reply = hone_request_reply(HONE_MSG_OK, req);
        S_SET(hone_msg_set_str(*reply, "status", hone_trial_status_name(to)));
        return HONE_OK;
    }
    if (rc != HONE_OK)
        return rc;
    if (s_stop_pending(self, req, peer, exp, index))
        return s_stop_ack(self, req, peer, exp, index, n, now_ms, reply, err);
    hone_lease_seen(self->leases, name, lease ? lease->worker : NULL, peer->identity, peer->id_len, now_ms);
    return s_finish(self, req, exp, index, to, reason, n, to == HONE_TRIAL_COMPLETED, reply, err);
}

/* `heartbeat` (PROTOCOL.md 6): with {experiment, trial, lease} it refreshes that lease,
 * and answers HONE_ELEASE when the lease is gone (the worker must drop the trial),
 * `heartbeat {stop: true, reason}` when the trial was stopped early and the worker has
 * not acknowledged it yet, or HONE_ESTATE when the trial ended otherwise (abandoned
 * meanwhile: stop). Without them (an older peer, or an idle worker) it refreshes every
 * lease held through the sender's routing id. Either way the reply to a live worker is
 * `heartbeat {}`. */
static int s_heartbeat(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                       int64_t now_ms, hone_msg_t **reply, hone_error_t *err)
{
    const char *name = NULL;
    bool has_trial, has_token;
    int64_t trial = 0;
    uint64_t token = 0;
    int rc = hone_request_opt_str(req, "experiment", &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_int(req, "trial", &trial, err), &has_trial);
    if (rc == HONE_OK)
        rc = hone_request_opt_lease(req, &has_token, &token, err);
    if (rc != HONE_OK)
        return rc;
    if (has_trial && (trial < 0 || trial > (int64_t) UINT32_MAX))
        return hone_error_set(err, HONE_EPROTO, "field 'trial' must be a trial index, not %" PRId64, trial);
    hone_experiment_t *exp;
    if (name && has_trial && has_token && s_experiment(self, req, &exp, &name, err) == HONE_OK) {
        hone_lease_t *lease = NULL;
        uint32_t index = (uint32_t) trial;
        rc = s_lease_check(self, req, peer, exp, index, HONE_TRIAL_CANDIDATE, now_ms, &lease, err);
        if (rc != HONE_OK)
            return rc;
        const hone_trial_t *t = hone_experiment_trial(exp, index);
        if (t->status != HONE_TRIAL_RUNNING && s_stop_pending(self, req, peer, exp, index)) {
            s_stop_seen(self, exp, index, peer, now_ms);
            *reply = hone_request_reply(HONE_MSG_HEARTBEAT, req);
            s_put_stop(*reply, t);
            return HONE_OK;
        }
        if (t->status != HONE_TRIAL_RUNNING)
            return hone_error_set(err, HONE_ESTATE, "trial %s#%" PRIu32 " is %s: stop evaluating it", name, index,
                                  hone_trial_status_name((int) t->status));
        hone_lease_seen(self->leases, name, lease ? lease->worker : NULL, peer->identity, peer->id_len, now_ms);
    } else {
        hone_lease_touch_identity(self->leases, peer->identity, peer->id_len, now_ms);
    }
    *reply = hone_request_reply(HONE_MSG_HEARTBEAT, req);
    return HONE_OK;
}

/* ---- lease expiry ---- */

/* Lease `lease` (taken out of the table) expired: its trial is re-queued or failed,
 * and stored. A lease that no longer matches its trial (ended meanwhile, or stopped
 * early with the stop never acknowledged) is dropped. */
static void s_expire(hone_handlers_t *self, const hone_lease_t *lease, int64_t now_ms)
{
    hone_experiment_t *exp;
    if (hone_registry_find(self->registry, lease->experiment, &exp, NULL) != HONE_OK)
        return;
    const hone_trial_t *t = hone_experiment_trial(exp, lease->trial);
    if (t && t->status == HONE_TRIAL_EARLY_STOPPED && t->n_attempts == lease->token) {
        /* a stop-pending lease: the worker went away without acknowledging the stop. The
         * trial stays EARLY_STOPPED (never re-queued, never FAILED); the entry goes. */
        hone_log_info("handlers", "trial %s#%" PRIu32 " was stopped early; worker '%s' went silent without "
                      "acknowledging it, its lease %" PRIu64 " is dropped", lease->experiment, lease->trial,
                      lease->worker, lease->token);
        return;
    }
    if (!t || t->status != HONE_TRIAL_RUNNING || !hone_trial_open_attempt(t) || t->n_attempts != lease->token)
        return;
    hone_error_t err;
    hone_error_clear(&err);
    hone_trial_status_t to;
    int rc = hone_experiment_expire(exp, lease->trial, hone_clock_wall_ms(), &to, &err);
    HONE_ASSERT(rc == HONE_OK);
    uint32_t expired = hone_trial_expired_attempts(t);
    hone_registry_change_t change = { .trial_first = lease->trial, .n_trials = 1 };
    rc = hone_registry_persist(self->registry, exp, &change, &err);
    if (rc != HONE_OK) {
        /* reloaded as it was (RUNNING): try again after another window */
        hone_log_warn("handlers", "lease %" PRIu64 " of trial %s#%" PRIu32 " expired but could not be stored: %s",
                      lease->token, lease->experiment, lease->trial, err.message);
        if (hone_registry_find(self->registry, lease->experiment, &exp, NULL) == HONE_OK
            && (t = hone_experiment_trial(exp, lease->trial)) && t->status == HONE_TRIAL_RUNNING
            && hone_trial_open_attempt(t))
            hone_lease_add(self->leases, lease->experiment, lease->trial, t->n_attempts, lease->worker,
                           lease->identity, lease->id_len, lease->expiry_ms, now_ms);
        return;
    }
    const hone_lease_settings_t *settings = hone_experiment_leases(exp);
    if (to == HONE_TRIAL_STALE)
        hone_log_warn("handlers", "lease %" PRIu64 " of trial %s#%" PRIu32 " expired: no word from worker '%s' "
                      "for %" PRId64 " ms; re-queued (retry %" PRIu32 " of %" PRIu32 ")", lease->token,
                      lease->experiment, lease->trial, lease->worker, now_ms - lease->last_seen_ms, expired,
                      settings->max_retries);
    else
        hone_log_warn("handlers", "lease %" PRIu64 " of trial %s#%" PRIu32 " expired: no word from worker '%s' "
                      "for %" PRId64 " ms; FAILED: %s", lease->token, lease->experiment, lease->trial,
                      lease->worker, now_ms - lease->last_seen_ms, t->reason ? t->reason : "lease expired");
}

size_t hone_handlers_tick(hone_handlers_t *self, int64_t now_ms)
{
    HONE_ASSERT(self);
    self->now_ms = now_ms;
    size_t n = 0;
    hone_lease_t *lease;
    while ((lease = hone_lease_take_expired(self->leases, now_ms))) {
        s_expire(self, lease, now_ms);
        hone_lease_free(&lease);
        n++;
    }
    return n;
}

/* ---- client role ---- */

static uint64_t s_random_seed(void)
{
    uint64_t seed = 0;
    if (getrandom(&seed, sizeof seed, 0) != (ssize_t) sizeof seed)
        seed = (uint64_t) zclock_usecs() * 0x9E3779B97F4A7C15ull;
    /* 53 bits: exact in JSON numbers and in every SDK language. */
    return seed & ((1ull << 53) - 1);
}

static int s_create(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    const char *config;
    int rc = hone_request_str(req, "config", &config, err);
    if (rc != HONE_OK)
        return rc;
    hone_experiment_t *exp = NULL;
    rc = hone_experiment_from_json(&exp, config, strlen(config), s_random_seed(), err);
    if (rc != HONE_OK)
        return rc;
    char name[256];
    snprintf(name, sizeof name, "%s", hone_experiment_name(exp));
    uint64_t seed = hone_experiment_seed(exp);
    rc = hone_registry_create(self->registry, &exp, err);
    hone_experiment_destroy(&exp);    /* still ours only on error */
    if (rc != HONE_OK)
        return rc;
    hone_log_info("handlers", "created experiment '%s' (seed %" PRIu64 ")", name, seed);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_str(*reply, "experiment", name));
    S_SET(hone_msg_set_int(*reply, "seed", (int64_t) seed));
    return HONE_OK;
}

/* The reply to `next` once generation gave rc and n trials at indices. */
static int s_next_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                        const uint32_t *indices, uint32_t n, hone_msg_t **reply)
{
    if (rc != HONE_OK)
        return rc;
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *trials = hone_node_add_array(hone_msg_body(*reply), "trials");
    HONE_ASSERT(trials);
    for (uint32_t i = 0; i < n; i++)
        hone_wire_add_trial(trials, NULL, exp, hone_experiment_trial(exp, indices[i]), false);
    return HONE_OK;
}

static int s_next(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                  s_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    bool present;
    int64_t count = 1;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_int(req, "count", &count, err), &present);
    if (rc != HONE_OK)
        return rc;
    if (!present)
        count = 1;
    if (count < 0)
        return hone_error_set(err, HONE_EPROTO, "field 'count' must be uint, not %" PRId64, count);
    if (count < 1 || count > HONE_HANDLERS_NEXT_MAX)
        return hone_error_set(err, HONE_EINVAL, "field 'count' must be 1 to %d, not %" PRId64,
                              HONE_HANDLERS_NEXT_MAX, count);
    /* Never make more trials than one reply can carry: a reply refused as too big after
     * the trials were stored would leave them running unknown to the client. */
    size_t bytes, items;
    hone_wire_trial_bound(hone_experiment_space(exp), &bytes, &items);
    size_t fit = (HONE_PROTO_MAX_BYTES - 4096) / bytes;
    size_t fit_items = (HONE_PROTO_MAX_ITEMS - 64) / items;
    fit = fit < fit_items ? fit : fit_items;
    if ((size_t) count > fit) {
        hone_log_debug("handlers", "next on '%s': %" PRId64 " trials asked, %zu fit in a reply", name,
                       count, fit);
        count = fit > 0 ? (int64_t) fit : 1;
    }
    if (s_offloads(self, exp)) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_GENERATE;
        offload->count = (uint32_t) count;
        return HONE_OK;
    }
    uint32_t indices[HONE_HANDLERS_NEXT_MAX];
    uint32_t n = 0;
    rc = s_generate(self, &exp, (uint32_t) count, NULL, false, indices, &n, err);
    return s_next_reply(req, exp, rc, indices, n, reply);
}

static int s_mark(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name, *status, *reason;
    uint32_t index;
    size_t n = 0;
    hone_trial_status_t to;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc == HONE_OK)
        rc = hone_request_str(req, "status", &status, err);
    if (rc == HONE_OK)
        rc = hone_request_opt_str(req, "reason", &reason, err);
    if (rc != HONE_OK)
        return rc;
    if (hone_trial_status_parse(status, &to) != HONE_OK
        || (to != HONE_TRIAL_COMPLETED && to != HONE_TRIAL_FAILED && to != HONE_TRIAL_ABANDONED
            && to != HONE_TRIAL_EARLY_STOPPED))
        return hone_error_set(err, HONE_EINVAL,
                              "field 'status' must be COMPLETED, FAILED, ABANDONED or EARLY_STOPPED, "
                              "not '%.64s'", status);
    rc = s_metrics(self, req, false, &n, err);
    if (rc != HONE_OK)
        return rc;
    if (n > 0 && to != HONE_TRIAL_COMPLETED)
        return hone_error_set(err, HONE_EINVAL, "field 'metrics' may only be given with status COMPLETED");
    return s_finish(self, req, exp, index, to, reason, n, false, reply, err);
}

/* The reply to `best` once hone_experiment_best_ex gave rc and best. */
static int s_best_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                        const hone_best_point_t *best, hone_msg_t **reply)
{
    if (rc != HONE_OK)
        return rc;
    uint32_t index = best->trial;
    const hone_trial_t *trial = hone_experiment_trial(exp, index);
    HONE_ASSERT(trial);
    bool minimize = false;
    const char *metric = hone_experiment_objective(exp, &minimize);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    S_ADD(hone_node_add_int(body, "trial", index));
    hone_node_t *params = hone_node_add_map(body, "params");
    HONE_ASSERT(params);
    hone_wire_fill_params(params, hone_experiment_space(exp), trial->params);
    S_ADD(hone_node_add_str(body, "metric", metric));
    S_ADD(hone_node_add_float(body, "value", best->mean));
    hone_wire_add_number_or_nil(body, "sem", best->sem);
    S_ADD(hone_node_add_bool(body, "minimize", minimize));
    S_ADD(hone_node_add_str(body, "source", hone_best_source_name(best->source)));
    return HONE_OK;
}

static int s_best(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                  s_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    hone_best_point_t best;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc != HONE_OK)
        return rc;
    /* While finishing, inline: a read is cheap enough to answer rather than drop. */
    if (s_offloads(self, exp) && !self->finishing) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_BEST;
        return HONE_OK;
    }
    /* The model path for "fast" experiments (a GP fit on all current data), else raw. */
    rc = hone_experiment_best_ex(exp, true, &best, err);
    return s_best_reply(req, exp, rc, &best, reply);
}

/* The lease part of `status`: settings, expiries, retries and the workers table. */
static void s_status_leases(hone_handlers_t *self, const hone_experiment_t *exp, hone_node_t *body)
{
    s_adopt(self, exp, true);   /* repairs a lease a failed write may have lost */
    const hone_lease_settings_t *settings = hone_experiment_leases(exp);
    hone_node_t *leases = hone_node_add_map(body, "leases");
    HONE_ASSERT(leases);
    S_ADD(hone_node_add_int(leases, "heartbeat_ms", settings->heartbeat_ms));
    S_ADD(hone_node_add_int(leases, "liveness", settings->liveness));
    S_ADD(hone_node_add_int(leases, "max_retries", settings->max_retries));
    /* From the stored attempts, so they survive restarts: every expiry, and the ones
     * that re-queued the trial (the last expiry of a trial that then FAILED did not). */
    uint64_t expired = 0, retries = 0;
    size_t n = hone_experiment_trial_count(exp);
    for (uint32_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, i);
        uint32_t e = hone_trial_expired_attempts(t);
        expired += e;
        bool failed = t->status == HONE_TRIAL_FAILED && t->n_attempts > 0
                      && t->attempts[t->n_attempts - 1].outcome == HONE_ATTEMPT_EXPIRED;
        retries += failed ? e - 1 : e;
    }
    S_ADD(hone_node_add_int(body, "leases_expired", (int64_t) expired));
    S_ADD(hone_node_add_int(body, "retries", (int64_t) retries));
    hone_lease_worker_t *rows = NULL;
    size_t n_rows = 0;
    hone_lease_workers(self->leases, hone_experiment_name(exp), self->now_ms, &rows, &n_rows);
    hone_node_t *workers = hone_node_add_array(body, "workers");
    HONE_ASSERT(workers);
    for (size_t i = 0; i < n_rows && i < HONE_HANDLERS_STATUS_WORKERS_MAX; i++) {
        const hone_lease_worker_t *w = &rows[i];
        hone_node_t *row = hone_node_add_map(workers, NULL);
        HONE_ASSERT(row);
        S_ADD(hone_node_add_str(row, "worker", w->worker));
        S_ADD(hone_node_add_int(row, "last_seen_ms", self->now_ms - w->last_seen_ms));
        if (w->leased) {
            S_ADD(hone_node_add_int(row, "trial", w->trial));
            S_ADD(hone_node_add_int(row, "lease", (int64_t) w->token));
            S_ADD(hone_node_add_int(row, "lease_age_ms", self->now_ms - w->assigned_ms));
        }
    }
    S_ADD(hone_node_add_int(body, "workers_total", (int64_t) n_rows));
    hone_lease_workers_free(&rows, n_rows);
}

static int s_status(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc != HONE_OK)
        return rc;
    bool minimize = false;
    const char *metric = hone_experiment_objective(exp, &minimize);
    char objective[300];
    snprintf(objective, sizeof objective, "%s%s", minimize ? "-" : "", metric);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    S_ADD(hone_node_add_str(body, "experiment", hone_experiment_name(exp)));
    S_ADD(hone_node_add_str(body, "objective", objective));
    S_ADD(hone_node_add_str(body, "method", hone_experiment_method(exp)));
    S_ADD(hone_node_add_int(body, "max_trials", hone_experiment_max_trials(exp)));
    hone_node_t *counts = hone_node_add_map(body, "counts");
    HONE_ASSERT(counts);
    /* The statuses of the trial object and STALE (lost, re-queued) always, others when used. */
    static const hone_trial_status_t listed[] = { HONE_TRIAL_RUNNING, HONE_TRIAL_COMPLETED,
                                                  HONE_TRIAL_FAILED, HONE_TRIAL_ABANDONED,
                                                  HONE_TRIAL_EARLY_STOPPED, HONE_TRIAL_STALE };
    for (size_t i = 0; i < HONE_ARRAY_LEN(listed); i++)
        S_ADD(hone_node_add_int(counts, hone_trial_status_name(listed[i]),
                                (int64_t) hone_experiment_count_status(exp, listed[i])));
    static const hone_trial_status_t others[] = { HONE_TRIAL_CANDIDATE, HONE_TRIAL_STAGED };
    for (size_t i = 0; i < HONE_ARRAY_LEN(others); i++) {
        size_t n = hone_experiment_count_status(exp, others[i]);
        if (n > 0)
            S_ADD(hone_node_add_int(counts, hone_trial_status_name(others[i]), (int64_t) n));
    }
    S_ADD(hone_node_add_int(body, "total", (int64_t) hone_experiment_trial_count(exp)));
    /* The raw path: no model fit for a status. */
    hone_best_point_t raw;
    if (hone_experiment_best_ex(exp, false, &raw, NULL) == HONE_OK) {
        hone_node_t *best = hone_node_add_map(body, "best");
        HONE_ASSERT(best);
        S_ADD(hone_node_add_int(best, "trial", raw.trial));
        S_ADD(hone_node_add_float(best, "value", raw.mean));
    }
    s_status_leases(self, exp, body);
    return HONE_OK;
}

static int s_cmp_reading(const void *a, const void *b)
{
    const hone_reading_t *x = *(const hone_reading_t *const *) a, *y = *(const hone_reading_t *const *) b;
    if (x->metric != y->metric)
        return x->metric < y->metric ? -1 : 1;
    return (x->progression > y->progression) - (x->progression < y->progression);
}

/* Adds a trial's learning curves to its trial object obj: `curves`, a map from metric
 * name (in the experiment's metric order) to its readings that have a progression, as
 * [progression, mean, sem|nil] by increasing progression (PROTOCOL.md 4.7.7). Nothing
 * when the trial has none. *scratch (*cap slots) is grown as needed. */
static void s_add_curves(hone_node_t *obj, const hone_experiment_t *exp, const hone_trial_t *t,
                         const hone_reading_t ***scratch, size_t *cap)
{
    size_t n = 0;
    for (size_t r = 0; r < t->n_readings; r++) {
        if (!t->readings[r].has_progression)
            continue;
        if (n == *cap) {
            *cap = *cap ? 2 * *cap : 64;
            *scratch = hone_realloc_array(*scratch, *cap, sizeof **scratch);
        }
        (*scratch)[n++] = &t->readings[r];
    }
    if (n == 0)
        return;
    qsort(*scratch, n, sizeof **scratch, s_cmp_reading);
    hone_node_t *curves = hone_node_add_map(obj, "curves");
    HONE_ASSERT(curves);
    hone_node_t *points = NULL;
    for (size_t k = 0; k < n; k++) {
        const hone_reading_t *r = (*scratch)[k];
        if (k == 0 || r->metric != (*scratch)[k - 1]->metric) {
            points = hone_node_add_array(curves, hone_experiment_metric_name(exp, r->metric));
            HONE_ASSERT(points);
        }
        hone_node_t *point = hone_node_add_array(points, NULL);
        HONE_ASSERT(point);
        S_ADD(hone_node_add_int(point, NULL, r->progression));
        S_ADD(hone_node_add_float(point, NULL, r->mean));
        if (isnan(r->sem))
            S_ADD(hone_node_add_nil(point, NULL));
        else
            S_ADD(hone_node_add_float(point, NULL, r->sem));
    }
}

/* `list`: every trial, or only `trial`; with `curves: true` each trial object also
 * carries its full learning curves (s_add_curves). */
static int s_list(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    bool curves = false, has_curves, has_trial;
    int64_t only = 0;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_bool(req, "curves", &curves, err), &has_curves);
    if (rc == HONE_OK)
        rc = hone_request_opt(hone_msg_get_int(req, "trial", &only, err), &has_trial);
    if (rc != HONE_OK)
        return rc;
    if (has_trial && only < 0)
        return hone_error_set(err, HONE_EPROTO, "field 'trial' must be uint, not %" PRId64, only);
    size_t n = hone_experiment_trial_count(exp);
    if (has_trial && (uint64_t) only >= n)
        return hone_error_set(err, HONE_ENOTFOUND, "experiment '%s' has no trial %" PRId64, name, only);
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *trials = hone_node_add_array(hone_msg_body(*reply), "trials");
    HONE_ASSERT(trials);
    const hone_reading_t **scratch = NULL;
    size_t cap = 0;
    for (size_t i = has_trial ? (size_t) only : 0; i < (has_trial ? (size_t) only + 1 : n); i++) {
        const hone_trial_t *t = hone_experiment_trial(exp, (uint32_t) i);
        hone_wire_add_trial(trials, NULL, exp, t, true);
        if (curves && has_curves) {
            /* the object just appended; the tree is ours to extend (nodes never move) */
            hone_node_t *obj = (hone_node_t *) hone_node_at(trials, hone_node_len(trials) - 1);
            s_add_curves(obj, exp, t, &scratch, &cap);
        }
    }
    hone_free(scratch);
    return HONE_OK;
}

/* The reply to `should_stop`: ok {stop, reason}. */
static int s_should_stop_reply(const hone_msg_t *req, const hone_stop_decision_t *decision, hone_msg_t **reply)
{
    *reply = hone_request_reply(HONE_MSG_OK, req);
    S_SET(hone_msg_set_bool(*reply, "stop", decision->should_stop));
    S_SET(hone_msg_set_str(*reply, "reason", decision->reason));
    return HONE_OK;
}

/* `should_stop` (Ax's should_stop_trial_early): decides for one trial with the
 * configured strategy, or Ax's default when the experiment has none, and never changes
 * the trial's status. On the generator when costly (see "early stopping" above). */
static int s_should_stop(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, s_offload_t *offload,
                         hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    uint32_t index;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = hone_request_trial(req, &index, err);
    if (rc != HONE_OK)
        return rc;
    if (!s_trial(exp, index, err))
        return HONE_ENOTFOUND;
    s_stopper_t *st = s_stopper(self, hone_experiment_name(exp));
    hone_stopping_config_t cfg;
    bool minimize;
    hone_stopping_cache_config(exp, &cfg, &minimize);
    const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, exp, &index, 1);
    if (s_stop_offloads(self, &cfg, curves)) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_STOP;
        offload->trial = index;
        return HONE_OK;
    }
    hone_stop_decision_t decision;
    rc = hone_stopping_decide(&cfg, curves, minimize, index, &decision, err);
    if (rc == HONE_OK && decision.record_check)
        rc = hone_experiment_set_stop_check(exp, index, decision.check_progression, err);
    if (rc != HONE_OK)
        return rc;
    return s_should_stop_reply(req, &decision, reply);
}

/* Reads `points` into *values_out, a new array of *n_out rows of space-size values,
 * interned. HONE_EPROTO for its shape; HONE_EINVAL for the number of points or a point
 * outside the space, the message naming the point ("points[2]: parameter 'x1': ..."). */
static int s_points(const hone_msg_t *req, const hone_space_t *space, hone_value_t **values_out,
                    size_t *n_out, hone_error_t *err)
{
    *values_out = NULL;
    *n_out = 0;
    const hone_node_t *points = hone_msg_get(req, "points");
    if (!points)
        return hone_error_set(err, HONE_EPROTO, "missing field 'points'");
    if (hone_node_type(points) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "field 'points' must be array, not %s",
                              hone_node_type_name(hone_node_type(points)));
    size_t n = hone_node_len(points);
    if (n < 1 || n > HONE_PROTO_PREDICT_MAX)
        return hone_error_set(err, HONE_EINVAL, "field 'points' must hold 1 to %d points, not %zu",
                              HONE_PROTO_PREDICT_MAX, n);
    size_t dim = hone_space_size(space);
    hone_value_t *values = hone_alloc_array(n * dim, sizeof *values);
    int rc = HONE_OK;
    for (size_t j = 0; rc == HONE_OK && j < n; j++) {
        const hone_node_t *point = hone_node_at(points, j);
        if (hone_node_type(point) != HONE_NODE_MAP) {
            rc = hone_error_set(err, HONE_EPROTO, "points[%zu] must be map, not %s", j,
                                hone_node_type_name(hone_node_type(point)));
            break;
        }
        hone_error_t why;
        hone_error_clear(&why);
        rc = hone_wire_read_params(space, point, &values[j * dim], &why);
        if (rc != HONE_OK) {
            /* wire.c names its field "params"; here the field is points[j] */
            const char *text = strncmp(why.message, "params: ", 8) == 0 ? why.message + 8 : why.message;
            rc = hone_error_set(err, rc, "points[%zu]: %s", j, text);
        }
    }
    if (rc != HONE_OK) {
        hone_free(values);
        return rc;
    }
    *values_out = values;
    *n_out = n;
    return HONE_OK;
}

/* The reply to `predict` once a PREDICT job ran (its code, err already taken). */
static int s_predict_reply(const hone_msg_t *req, const hone_generator_job_t *job, hone_msg_t **reply)
{
    if (job->rc != HONE_OK)
        return job->rc;
    *reply = hone_request_reply(HONE_MSG_OK, req);
    hone_node_t *body = hone_msg_body(*reply);
    hone_node_t *predictions = hone_node_add_array(body, "predictions");
    HONE_ASSERT(predictions);
    for (size_t j = 0; j < job->n_points; j++) {
        hone_node_t *prediction = hone_node_add_map(predictions, NULL);
        HONE_ASSERT(prediction);
        S_ADD(hone_node_add_float(prediction, "mean", job->mean[j]));
        S_ADD(hone_node_add_float(prediction, "sem", job->sem[j]));
    }
    S_ADD(hone_node_add_str(body, "metric", hone_experiment_objective(job->experiment, NULL)));
    return HONE_OK;
}

static int s_predict(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                     s_offload_t *offload, hone_error_t *err)
{
    hone_experiment_t *exp;
    const char *name;
    hone_value_t *points = NULL;
    size_t n = 0;
    int rc = s_experiment(self, req, &exp, &name, err);
    if (rc == HONE_OK)
        rc = s_points(req, hone_experiment_space(exp), &points, &n, err);
    if (rc != HONE_OK)
        return rc;
    /* Every method fits a GP here, random_search included. While finishing, inline: a
     * read is cheap enough to answer rather than drop (as for best). */
    if (self->generator && !self->finishing) {
        offload->exp = exp;
        offload->kind = HONE_GENERATOR_PREDICT;
        offload->n_points = n;
        offload->points = points;
        return HONE_OK;
    }
    hone_generator_job_t *job = hone_generator_job_new_predict(exp, n, points, NULL);
    hone_free(points);
    hone_generator_job_run(job);
    *err = job->err;
    rc = s_predict_reply(req, job, reply);
    hone_generator_job_destroy(&job);
    return rc;
}

/* ---- dispatch ---- */

/* Turns a handler's outcome into the reply to send (an `error` unless rc is HONE_OK)
 * and takes the handler's reply. */
static hone_msg_t *s_answer(const hone_msg_t *request, int rc, hone_msg_t **reply,
                            const hone_error_t *err)
{
    if (rc == HONE_OK) {
        HONE_ASSERT(*reply);
        hone_msg_t *out = *reply;
        *reply = NULL;
        return out;
    }
    hone_msg_destroy(reply);
    const char *type = hone_msg_name(hone_msg_id(request));
    if (rc == HONE_ESTORE)
        hone_log_warn("handlers", "%s seq=%" PRIu64 " answered HONE_ESTORE", type ? type : "?",
                      hone_msg_seq(request));
    else
        hone_log_debug("handlers", "%s seq=%" PRIu64 " rejected: %s %s", type ? type : "?",
                       hone_msg_seq(request), hone_err_name(rc), err->message);
    return hone_handlers_error(hone_msg_seq(request), rc, err->message);
}

/* The experiment a request names when it is a request that must wait while that
 * experiment generates (`ready` and `next`, so that each trial is generated with the
 * ones before it as pending points), else NULL. Everything else is served on the live
 * experiment meanwhile: the generator works on a snapshot. */
static const char *s_waits_for(const hone_msg_t *request)
{
    switch (hone_msg_id(request)) {
    case HONE_MSG_READY: case HONE_MSG_NEXT: {
        const char *name = NULL;
        return hone_msg_get_str(request, "experiment", &name, NULL) == HONE_OK ? name : NULL;
    }
    default:
        return NULL;
    }
}

/* Hands the model fit a handler asked for to the generator thread, on a snapshot of the
 * experiment (hone_experiment_snapshot): the live experiment keeps serving readings,
 * marks, status, best and predict meanwhile. A generation marks the experiment busy
 * (its `ready` and `next` wait) and takes the BO state along until it comes back
 * (s_on_collected). Takes the request (NULL for a prefetch refill; peer unused then). */
static void s_submit(hone_handlers_t *self, const hone_handlers_peer_t *peer, hone_msg_t **request,
                     const s_offload_t *offload)
{
    bool generate = offload->kind == HONE_GENERATOR_GENERATE;
    const char *name = hone_experiment_name(offload->exp);
    if (offload->kind == HONE_GENERATOR_STOP) {
        /* on a copy of the curves, not a snapshot of the experiment */
        s_stopper_t *st = s_stopper(self, name);
        const hone_curves_t *curves = hone_stopping_cache_sync(st->cache, offload->exp, &offload->trial, 1);
        s_stop_submit_job(self, peer, request, offload->exp, curves, &offload->trial, 1);
        return;
    }
    s_deferred_t *d;
    if (request) {
        d = s_deferred_new(peer, request);
    } else {
        d = hone_alloc(sizeof *d);
    }
    d->experiment = hone_strdup(name);
    hone_experiment_t *snap = hone_experiment_snapshot(offload->exp, generate);
    d->trials_before = hone_experiment_trial_count(snap);
    if (generate)
        hone_parking_set_busy(self->parking, name, true);
    hone_generator_job_t *job = NULL;
    switch (offload->kind) {
    case HONE_GENERATOR_GENERATE: job = hone_generator_job_new(snap, offload->count, d); break;
    case HONE_GENERATOR_BEST: job = hone_generator_job_new_best(snap, d); break;
    case HONE_GENERATOR_PREDICT:
        job = hone_generator_job_new_predict(snap, offload->n_points, offload->points, d);
        break;
    case HONE_GENERATOR_STOP:
        HONE_ASSERT(false);     /* handled above */
        break;
    }
    hone_generator_submit(self->generator, &job);   /* the snapshot belongs to the job now */
}

/* Tops up experiment name's prefetch queue: when it keeps candidates ahead, is not
 * generating, has fewer candidates than it wants and budget left, a refill job makes
 * the missing ones on a snapshot (as CANDIDATE trials, s_on_collected). */
static void s_refill(hone_handlers_t *self, const char *name)
{
    hone_experiment_t *exp;
    if (!self->generator || self->finishing || hone_parking_busy(self->parking, name)
        || hone_registry_find(self->registry, name, &exp, NULL) != HONE_OK)
        return;
    uint32_t want = hone_experiment_prefetch(exp);
    size_t have = hone_experiment_count_status(exp, HONE_TRIAL_CANDIDATE);
    if (want == 0 || have >= want || !s_offloads(self, exp) || !hone_experiment_budget_left(exp))
        return;
    s_offload_t offload = {
        .exp = exp, .kind = HONE_GENERATOR_GENERATE, .count = (uint32_t) (want - have), .refill = true,
    };
    s_submit(self, NULL, NULL, &offload);
}

/* Serves a request whose experiment is not busy. Takes the request; returns the reply
 * or NULL when a model fit was started (or, while finishing, refused unanswered). */
static hone_msg_t *s_serve(hone_handlers_t *self, const hone_handlers_peer_t *peer,
                           hone_msg_t **request_p, int64_t now_ms)
{
    const hone_msg_t *request = *request_p;
    hone_error_t err;
    hone_error_clear(&err);
    hone_msg_t *reply = NULL;
    s_offload_t offload = { 0 };
    hone_msg_id_t id = hone_msg_id(request);
    int rc;
    switch (id) {
    case HONE_MSG_READY: rc = s_ready(self, request, peer, now_ms, &reply, &offload, &err); break;
    case HONE_MSG_PROGRESS: rc = s_readings(self, request, true, peer, now_ms, &reply, &err); break;
    case HONE_MSG_COMPLETE: rc = s_report(self, request, peer, now_ms, HONE_TRIAL_COMPLETED, &reply, &err); break;
    case HONE_MSG_FAIL: rc = s_report(self, request, peer, now_ms, HONE_TRIAL_FAILED, &reply, &err); break;
    case HONE_MSG_HEARTBEAT: rc = s_heartbeat(self, request, peer, now_ms, &reply, &err); break;
    case HONE_MSG_CREATE: rc = s_create(self, request, &reply, &err); break;
    case HONE_MSG_NEXT: rc = s_next(self, request, &reply, &offload, &err); break;
    case HONE_MSG_ATTACH: rc = s_readings(self, request, false, peer, now_ms, &reply, &err); break;
    case HONE_MSG_MARK: rc = s_mark(self, request, &reply, &err); break;
    case HONE_MSG_BEST: rc = s_best(self, request, &reply, &offload, &err); break;
    case HONE_MSG_STATUS: rc = s_status(self, request, &reply, &err); break;
    case HONE_MSG_LIST: rc = s_list(self, request, &reply, &err); break;
    case HONE_MSG_PREDICT: rc = s_predict(self, request, &reply, &offload, &err); break;
    case HONE_MSG_SHOULD_STOP: rc = s_should_stop(self, request, &reply, &offload, &err); break;
    default: {
        const char *type = hone_msg_name(id);
        rc = hone_error_set(&err, HONE_EPROTO, "'%s' is not a request the broker accepts",
                            type ? type : "?");
        break;
    }
    }
    if (rc == HONE_OK && offload.exp) {
        HONE_ASSERT(!reply);
        if (self->finishing) {
            hone_log_info("handlers", "%s seq=%" PRIu64 " on '%s' left unanswered: the broker is stopping",
                          hone_msg_name(id), hone_msg_seq(request), hone_experiment_name(offload.exp));
            hone_msg_destroy(request_p);
        } else {
            s_submit(self, peer, request_p, &offload);
        }
        hone_free(offload.points);      /* the job holds its own copy */
        return NULL;
    }
    reply = s_answer(request, rc, &reply, &err);
    if (id == HONE_MSG_READY) {
        const char *name = s_waits_for(request);
        if (name)
            s_refill(self, name);
    }
    hone_msg_destroy(request_p);
    return reply;
}

hone_msg_t *hone_handlers_dispatch(hone_handlers_t *self, const hone_handlers_peer_t *peer,
                                   hone_msg_t **request, int64_t now_ms)
{
    HONE_ASSERT(self && peer && request && *request);
    self->now_ms = now_ms;
    const char *name = s_waits_for(*request);
    hone_experiment_t *exp;
    /* A `ready` that a prefetched candidate can answer does not wait for the generation. */
    bool candidate = name && hone_msg_id(*request) == HONE_MSG_READY
                     && hone_registry_find(self->registry, name, &exp, NULL) == HONE_OK
                     && hone_experiment_next_queued(exp) >= 0;
    if (name && !candidate && hone_parking_busy(self->parking, name)) {
        if (hone_parking_size(self->parking) >= HONE_HANDLERS_PARKED_MAX) {
            hone_msg_t *reply;
            if (hone_msg_id(*request) == HONE_MSG_READY) {
                reply = hone_request_reply(HONE_MSG_NO_WORK, *request);
                S_SET(hone_msg_set_int(reply, "retry_ms", HONE_HANDLERS_RETRY_MS));
                S_SET(hone_msg_set_bool(reply, "done", false));
                S_SET(hone_msg_set_str(reply, "reason", "too many requests are waiting for model fits"));
            } else {
                reply = hone_handlers_error(hone_msg_seq(*request), HONE_EAGAIN,
                                            "too many requests are waiting for model fits; retry later");
            }
            hone_msg_destroy(request);
            return reply;
        }
        hone_log_debug("handlers", "%s seq=%" PRIu64 " waits for the model fit on '%s'",
                       hone_msg_name(hone_msg_id(*request)), hone_msg_seq(*request), name);
        hone_parking_push(self->parking, name, s_deferred_new(peer, request));
        return NULL;
    }
    return s_serve(self, peer, request, now_ms);
}

/* ---- model fits coming back ---- */

/* Serves the requests parked behind experiment name, oldest first, until none is left
 * or one of them makes it busy again. */
static void s_drain(hone_handlers_t *self, const char *name, int64_t now_ms)
{
    s_deferred_t *d;
    while (!hone_parking_busy(self->parking, name) && (d = hone_parking_pop(self->parking, name))) {
        hone_msg_t *reply = s_serve(self, &d->peer, &d->request, now_ms);
        if (reply)
            self->reply(self->reply_arg, &d->peer, &reply);
        void *item = d;
        s_deferred_destroy(&item);
    }
}

/* A generation came back: its trials join the live experiment (RUNNING, or CANDIDATE
 * for a refill) and are stored; then the reply to the request, if any. */
static int s_on_generated(hone_handlers_t *self, hone_generator_job_t *job, s_deferred_t *d,
                          int64_t now_ms, hone_msg_t **reply, hone_error_t *err)
{
    const char *name = d->experiment;
    const hone_msg_t *request = d->request;
    hone_msg_id_t id = request ? hone_msg_id(request) : HONE_MSG_READY;
    const char *worker = NULL;
    if (request && id == HONE_MSG_READY && hone_msg_get_str(request, "worker", &worker, NULL) != HONE_OK)
        worker = NULL;
    hone_experiment_t *exp;
    int rc = hone_registry_find(self->registry, name, &exp, err);
    uint32_t n = 0;
    if (rc == HONE_OK) {
        size_t before = hone_experiment_trial_count(exp);
        uint64_t sobol_before = hone_experiment_sobol_drawn(exp);
        hone_experiment_adopt(exp, job->experiment, d->trials_before,
                              request ? HONE_TRIAL_RUNNING : HONE_TRIAL_CANDIDATE, job->indices, &n);
        rc = s_generated(self, &exp, before, sobol_before, job->rc, worker, request && id == HONE_MSG_READY,
                         job->indices, &n, err);
    }
    hone_log_debug("handlers", "generation on '%s'%s: %" PRIu32 " trial(s), %s, %" PRId64
                   " ms (queued %" PRId64 " ms)", name, request ? "" : " (prefetch)", n,
                   hone_err_name(rc), job->finished_ms - job->started_ms,
                   job->started_ms - job->submitted_ms);
    if (!request)
        return rc;
    if (id == HONE_MSG_READY)
        return s_ready_reply(self, request, &d->peer, now_ms, exp, name, worker, rc,
                             n > 0 ? job->indices[0] : 0, reply, err);
    return s_next_reply(request, exp, rc, job->indices, n, reply);
}

/* A decision job came back. A client's `should_stop` gets its answer (and the interval
 * check is recorded). The experiment's own batch stops the trials still RUNNING that it
 * decided to stop, each stored like any status change; then the next batch goes. */
static int s_on_stop_decided(hone_handlers_t *self, hone_generator_job_t *job, s_deferred_t *d, hone_msg_t **reply,
                             hone_error_t *err)
{
    const char *name = d->experiment;
    hone_experiment_t *exp = NULL;
    int rc = hone_registry_find(self->registry, name, &exp, err);
    if (d->request) {
        if (rc == HONE_OK && job->rc != HONE_OK) {
            *err = job->err;
            rc = job->rc;
        }
        if (rc != HONE_OK)
            return rc;
        const hone_stop_decision_t *decision = &job->decisions[0];
        if (decision->record_check && decision->trial < hone_experiment_trial_count(exp))
            hone_experiment_set_stop_check(exp, decision->trial, decision->check_progression, NULL);
        return s_should_stop_reply(d->request, decision, reply);
    }
    s_stopper_t *st = zhashx_lookup(self->stoppers, name);
    if (st)
        st->in_flight = false;
    if (rc == HONE_OK && job->rc != HONE_OK)
        hone_log_warn("handlers", "early stopping on '%s': %s", name, job->err.message);
    for (size_t k = 0; rc == HONE_OK && job->rc == HONE_OK && k < job->n_stop; k++) {
        const hone_stop_decision_t *decision = &job->decisions[k];
        uint32_t index = job->stop_trials[k];
        const hone_trial_t *t = hone_experiment_trial(exp, index);
        if (!t || t->status != HONE_TRIAL_RUNNING)
            continue;   /* it ended meanwhile */
        if (decision->record_check)
            hone_experiment_set_stop_check(exp, index, decision->check_progression, NULL);
        hone_error_t why;
        hone_error_clear(&why);
        if (!decision->should_stop || s_stop_mark(exp, index, decision, &why) != HONE_OK)
            continue;
        hone_registry_change_t change = { .trial_first = index, .n_trials = 1 };
        if (hone_registry_persist(self->registry, exp, &change, &why) != HONE_OK) {
            hone_log_warn("handlers", "trial %s#%" PRIu32 " should stop early but could not be stored: %s", name,
                          index, why.message);
            rc = hone_registry_find(self->registry, name, &exp, NULL);     /* reloaded */
            continue;
        }
        hone_log_info("handlers", "trial %s#%" PRIu32 " stopped early (decided off the reactor in %" PRId64
                      " ms): %s", name, index, job->finished_ms - job->started_ms,
                      hone_experiment_trial(exp, index)->reason);
    }
    s_stop_submit(self, name);
    return HONE_OK;
}

/* A job came back: adopt and store a generation, answer the request, serve what waited. */
static void s_on_collected(hone_handlers_t *self, hone_generator_job_t *job, int64_t now_ms)
{
    s_deferred_t *d = job->arg;
    const hone_msg_t *request = d->request;
    char *name = d->experiment;
    hone_error_t err = job->err;
    hone_msg_t *reply = NULL;
    if (job->kind != HONE_GENERATOR_GENERATE && request)   /* s_on_generated logs its own line */
        hone_log_debug("handlers", "%s on '%s': %s, %" PRId64 " ms (queued %" PRId64 " ms)",
                       hone_msg_name(hone_msg_id(request)), name, hone_err_name(job->rc),
                       job->finished_ms - job->started_ms, job->started_ms - job->submitted_ms);
    int rc = HONE_OK;
    switch (job->kind) {
    case HONE_GENERATOR_GENERATE:
        rc = s_on_generated(self, job, d, now_ms, &reply, &err);
        break;
    case HONE_GENERATOR_STOP:
        rc = s_on_stop_decided(self, job, d, &reply, &err);
        break;
    case HONE_GENERATOR_BEST:
        rc = s_best_reply(request, job->experiment, job->rc, &job->best, &reply);
        break;
    case HONE_GENERATOR_PREDICT:
        rc = s_predict_reply(request, job, &reply);
        break;
    }
    if (request) {
        reply = s_answer(request, rc, &reply, &err);
        self->reply(self->reply_arg, &d->peer, &reply);
    } else if (rc != HONE_OK && rc != HONE_EDONE && rc != HONE_EEXHAUSTED) {
        hone_log_warn("handlers", "prefetch on '%s': %s %s", name, hone_err_name(rc), err.message);
    }
    if (job->kind == HONE_GENERATOR_GENERATE) {
        /* Workers' `ready` and refills keep the prefetch queue topped up; a client's
         * `next` does not start it. */
        bool refill = !request || hone_msg_id(request) == HONE_MSG_READY;
        hone_parking_set_busy(self->parking, name, false);
        s_drain(self, name, now_ms);
        if (refill)
            s_refill(self, name);
    }
    hone_experiment_destroy(&job->experiment);   /* the snapshot */
    void *item = d;
    s_deferred_destroy(&item);
}

void hone_handlers_collect(hone_handlers_t *self, int64_t now_ms)
{
    HONE_ASSERT(self && self->generator);
    self->now_ms = now_ms;
    hone_generator_job_t *job;
    while ((job = hone_generator_collect(self->generator))) {
        s_on_collected(self, job, now_ms);
        hone_generator_job_destroy(&job);
    }
}

void hone_handlers_finish(hone_handlers_t *self)
{
    HONE_ASSERT(self);
    if (!self->generator || self->finishing)
        return;
    self->finishing = true;
    size_t outstanding = hone_generator_outstanding(self->generator);
    if (outstanding > 0)
        hone_log_info("handlers", "stopping: waiting for %zu generation(s) in progress (%zu request(s) "
                      "waiting behind them)", outstanding, hone_parking_size(self->parking));
    while (hone_generator_outstanding(self->generator) > 0) {
        hone_generator_wait(self->generator, -1);
        hone_handlers_collect(self, hone_clock_mono_ms());
    }
    HONE_ASSERT(hone_parking_size(self->parking) == 0 && hone_parking_count(self->parking) == 0);
}
