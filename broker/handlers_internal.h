/* handlers_internal.h: what the files of the broker's request handlers share; only they
 * include it (handlers.h is their API to the reactor).
 *   handlers.c     the state, dispatch, the fields every request reads, inline
 *                  generation, and the model fits handed to the generator thread and
 *                  what comes back from it;
 *   leasing.c      the leases of trials handed to workers: arming, checking a report
 *                  against its lease, expiry, the re-sync after a failed batch (the
 *                  table itself is lease.h);
 *   worker_role.c  ready, progress, complete, fail and heartbeat, and the readings and
 *                  status changes that attach and mark share with them;
 *   client_role.c  create, next, mark, best, status, list and predict;
 *   client_goals.c pareto and attach_baseline (several goals);
 *   early_stop.c   early stopping: decisions on readings, the stop repeated until
 *                  acknowledged, should_stop, decision jobs on the generator thread.
 * Functions carry the name of their file. Each is described at its definition; every
 * one runs on the reactor thread. */
#ifndef HONE_HANDLERS_INTERNAL_H
#define HONE_HANDLERS_INTERNAL_H

#include "handlers.h"
#include "lease.h"
#include "parking.h"

#include <czmq.h>   /* after the hone headers: czmq defines a streq macro */

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
    bool resync;                /* a batch failed: re-sync the leases before going on (leasing.c) */
};

/* A request whose reply is deferred: parked behind an experiment's generation, or
 * waiting for its own job (the job's arg). A prefetch refill is a job without request. */
typedef struct {
    hone_handlers_peer_t peer;  /* who to answer */
    hone_msg_t *request;        /* owned; NULL for a refill */
    char *experiment;           /* job: the experiment's name (owned) */
    size_t trials_before;       /* job: the snapshot's trial count when it was taken */
} hone_handlers_deferred_t;

/* A model fit that a handler (`ready`, `next`, `best`, `pareto`, `predict`, `should_stop`) wants
 * off the reactor. */
typedef struct {
    hone_experiment_t *exp;     /* NULL: none */
    hone_generator_kind_t kind; /* what to run */
    uint32_t count;             /* GENERATE: trials asked for */
    bool refill;                /* GENERATE: for the prefetch queue (CANDIDATE trials) */
    size_t n_points;            /* PREDICT: points */
    hone_value_t *points;       /* PREDICT: [n_points × space size], interned; owned */
    const char *metric;         /* PREDICT: the metric asked for (borrowed from the request), or NULL */
    uint32_t trial;             /* STOP: the trial a `should_stop` asks about */
} hone_handlers_offload_t;

/* Builders and setters fail only when memory is exhausted: the broker aborts then. (S_:
 * these macros belong to the handlers' files only.) */
#define S_ADD(call) HONE_ASSERT((call) != NULL)
#define S_SET(call) HONE_ASSERT((call) == HONE_OK)

/* hone_leasing_check: the report repeats one already applied (same trial, same lease, the
 * status it asks for is the trial's): answer as the first time, change nothing. */
#define HONE_LEASING_DUPLICATE 1

/* ---- handlers.c ---- */

hone_handlers_deferred_t *hone_handlers_deferred_new(const hone_handlers_peer_t *peer, hone_msg_t **request);
int hone_handlers_metrics(hone_handlers_t *self, const hone_msg_t *req, bool required, size_t *n, hone_error_t *err);
int hone_handlers_experiment(hone_handlers_t *self, const hone_msg_t *req, hone_experiment_t **exp,
                             const char **name, hone_error_t *err);
const hone_trial_t *hone_handlers_trial(const hone_experiment_t *exp, uint32_t index, hone_error_t *err);
bool hone_handlers_offloads(const hone_handlers_t *self, const hone_experiment_t *exp);
int hone_handlers_generate(hone_handlers_t *self, hone_experiment_t **exp, uint32_t max, const char *worker,
                           bool leased, uint32_t *indices, uint32_t *n, hone_error_t *err);

/* ---- leasing.c ---- */

bool hone_leasing_same_peer(const hone_lease_t *lease, const hone_handlers_peer_t *peer);
hone_lease_t *hone_leasing_arm(hone_handlers_t *self, const hone_experiment_t *exp, uint32_t index,
                               const hone_handlers_peer_t *peer, int64_t now_ms);
void hone_leasing_drop(hone_handlers_t *self, const char *experiment, uint32_t trial);
void hone_leasing_adopt(hone_handlers_t *self, const hone_experiment_t *exp, bool again);
int hone_leasing_check(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                       hone_experiment_t *exp, uint32_t index, hone_trial_status_t to, int64_t now_ms,
                       hone_lease_t **lease_out, hone_error_t *err);
void hone_leasing_resync_if_due(hone_handlers_t *self, int64_t now_ms);

/* ---- worker_role.c ---- */

int hone_worker_role_ready_reply(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                                 int64_t now_ms, const hone_experiment_t *exp, const char *name,
                                 const char *worker, int rc, uint32_t index, hone_msg_t **reply,
                                 hone_error_t *err);
int hone_worker_role_ready(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                           int64_t now_ms, hone_msg_t **reply, hone_handlers_offload_t *offload, hone_error_t *err);
int hone_worker_role_readings(hone_handlers_t *self, const hone_msg_t *req, bool worker_role,
                              const hone_handlers_peer_t *peer, int64_t now_ms, hone_msg_t **reply,
                              hone_error_t *err);
int hone_worker_role_finish(hone_handlers_t *self, const hone_msg_t *req, hone_experiment_t *exp,
                            uint32_t index, hone_trial_status_t to, const char *reason, size_t n_readings,
                            bool require_running, hone_msg_t **reply, hone_error_t *err);
int hone_worker_role_report(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                            int64_t now_ms, hone_trial_status_t to, hone_msg_t **reply, hone_error_t *err);
int hone_worker_role_heartbeat(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                               int64_t now_ms, hone_msg_t **reply, hone_error_t *err);

/* ---- client_role.c ---- */

int hone_client_role_create(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err);
int hone_client_role_next_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                                const uint32_t *indices, uint32_t n, hone_msg_t **reply);
int hone_client_role_next(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                          hone_handlers_offload_t *offload, hone_error_t *err);
int hone_client_role_mark(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err);
int hone_client_role_best_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                                const hone_best_point_t *best, hone_msg_t **reply);
int hone_client_role_best(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                          hone_handlers_offload_t *offload, hone_error_t *err);
int hone_client_role_status(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err);
int hone_client_role_list(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply, hone_error_t *err);
int hone_client_role_predict_reply(const hone_msg_t *req, const hone_generator_job_t *job, hone_msg_t **reply);
int hone_client_role_predict(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                             hone_handlers_offload_t *offload, hone_error_t *err);

/* ---- client_goals.c ---- */

int hone_client_goals_pareto_reply(const hone_msg_t *req, const hone_experiment_t *exp, int rc,
                                   const hone_frontier_t *frontier, hone_msg_t **reply);
int hone_client_goals_pareto(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                             hone_handlers_offload_t *offload, hone_error_t *err);
int hone_client_goals_attach_baseline(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                                      hone_error_t *err);

/* ---- early_stop.c ---- */

void hone_early_stop_stopper_destroy(void **item);
void hone_early_stop_touch_curve(hone_handlers_t *self, const char *name, uint32_t index);
bool hone_early_stop_pending(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                             const hone_experiment_t *exp, uint32_t index);
void hone_early_stop_seen(hone_handlers_t *self, const hone_experiment_t *exp, uint32_t index,
                          const hone_handlers_peer_t *peer, int64_t now_ms);
void hone_early_stop_put(hone_msg_t *reply, const hone_trial_t *t);
int hone_early_stop_mark(hone_experiment_t *exp, uint32_t index, const hone_stop_decision_t *decision,
                         hone_error_t *err);
bool hone_early_stop_evaluate(hone_handlers_t *self, hone_experiment_t *exp, uint32_t index, size_t n,
                              bool *queue, hone_stop_decision_t *decision);
void hone_early_stop_enqueue(hone_handlers_t *self, const char *name, uint32_t index);
int hone_early_stop_ack(hone_handlers_t *self, const hone_msg_t *req, const hone_handlers_peer_t *peer,
                        hone_experiment_t *exp, uint32_t index, size_t n, int64_t now_ms, hone_msg_t **reply,
                        hone_error_t *err);
int hone_early_stop_should_stop(hone_handlers_t *self, const hone_msg_t *req, hone_msg_t **reply,
                                hone_handlers_offload_t *offload, hone_error_t *err);
void hone_early_stop_offload(hone_handlers_t *self, const hone_handlers_peer_t *peer, hone_msg_t **request,
                             const hone_experiment_t *exp, uint32_t trial);
int hone_early_stop_on_decided(hone_handlers_t *self, hone_generator_job_t *job, hone_handlers_deferred_t *d,
                               hone_msg_t **reply, hone_error_t *err);

#endif
