/* generator.h: the broker's generator thread, which runs hone_experiment_generate, the
 * model paths of hone_experiment_best_ex and hone_experiment_pareto, and
 * hone_experiment_predict off the reactor
 * thread so that a model fit (up to about a second) never holds up heartbeats or other
 * experiments; and early-stopping decisions that cost too much for the reactor (the
 * check_safe replay, very large experiments), on a copy of the curves.
 *
 * A job hands one experiment over to the thread: from hone_generator_submit until the
 * job comes back from hone_generator_collect, the generator thread alone may touch that
 * experiment (read or write); the submitter keeps everything else, including the store.
 * The handlers submit a snapshot (hone_experiment_snapshot), so the live experiment keeps
 * being served meanwhile, and adopt what the snapshot generated when it comes back; the
 * mutex that passes the job each way orders every access of the two threads.
 *
 * One thread serves the jobs in submission order. Finished jobs are collected on the
 * submitter's thread; hone_generator_fd is readable while some wait, so a reactor can
 * poll it. Signals are blocked on the generator thread (they reach the reactor).
 *
 * Internal to the broker. hone_generator_submit, _collect, _fd, _outstanding, _wait and
 * _destroy are called from one thread (the reactor's). Memory: aborts on
 * out-of-memory (broker policy). */
#ifndef HONE_GENERATOR_H
#define HONE_GENERATOR_H

#include "err.h"
#include "experiment.h"

typedef struct _hone_generator_t hone_generator_t;

/* What a job runs: each may fit a GP on all of the experiment's data. */
typedef enum {
    HONE_GENERATOR_GENERATE,        /* hone_experiment_generate */
    HONE_GENERATOR_BEST,            /* hone_experiment_best_ex with use_model true */
    HONE_GENERATOR_PREDICT,         /* hone_experiment_predict */
    HONE_GENERATOR_STOP,            /* hone_stopping_decide_trials, on curves (no experiment) */
    HONE_GENERATOR_PARETO,          /* hone_experiment_pareto with use_model true */
} hone_generator_kind_t;

/* One job: in-fields set by hone_generator_job_new, _new_best or _new_predict,
 * out-fields by the thread. */
typedef struct hone_generator_job {
    hone_generator_kind_t kind;     /* in */
    hone_experiment_t *experiment;  /* in: handed over while the job is submitted */
    uint32_t max_trials;            /* in, GENERATE: at most this many trials (>= 1) */
    void *arg;                      /* in: the submitter's context, never touched here */
    size_t n_points;                /* in, PREDICT: parameterizations to predict at (>= 1) */
    hone_value_t *points;           /* in, PREDICT: [n_points × space size], row after row */
    const hone_value_t **rows;      /* in, PREDICT: [n_points], row j of points */
    char *metric;                   /* in, PREDICT: the metric predicted (owned), NULL: the objective */
    uint32_t *indices;              /* out, GENERATE: [max_trials], the new trials' indices */
    uint32_t n;                     /* out, GENERATE: trials made */
    hone_best_point_t best;         /* out, BEST: the best point (when rc is HONE_OK) */
    double *mean;                   /* out, PREDICT: [n_points] posterior means (rc HONE_OK) */
    double *sem;                    /* out, PREDICT: [n_points] their SEMs */
    hone_curves_t *curves;          /* in, STOP: the early-stopping metric's curves (owned) */
    hone_stopping_config_t stop_cfg; /* in, STOP: the strategy */
    bool stop_minimize;             /* in, STOP: the metric's direction */
    uint32_t *stop_trials;          /* in, STOP: [n_stop] the trials to decide on */
    size_t n_stop;                  /* in, STOP: how many */
    hone_stop_decision_t *decisions; /* out, STOP: [n_stop] (rc HONE_OK) */
    hone_frontier_t frontier;       /* out, PARETO: the frontier (rc HONE_OK; the job owns it) */
    int rc;                         /* out: the core call's code */
    hone_error_t err;               /* out: its message */
    int64_t submitted_ms;           /* monotonic times, for logs */
    int64_t started_ms;
    int64_t finished_ms;
    struct hone_generator_job *next; /* queue link, the generator's own */
} hone_generator_job_t;

/* A job for up to max_trials (>= 1) trials of experiment (borrowed; it must outlive
 * the job). Never NULL. */
hone_generator_job_t *hone_generator_job_new(hone_experiment_t *experiment, uint32_t max_trials,
                                             void *arg);
/* A job for experiment's best point on the model path (borrowed, as above). Never NULL. */
hone_generator_job_t *hone_generator_job_new_best(hone_experiment_t *experiment, void *arg);
/* A job for experiment's Pareto frontier on the model path (borrowed, as above). Never
 * NULL. */
hone_generator_job_t *hone_generator_job_new_pareto(hone_experiment_t *experiment, void *arg);
/* A job for the predictions of metric (NULL: the objective) at n_points (>= 1)
 * parameterizations of experiment (borrowed, as above): points holds n_points rows of
 * hone_space_size values in the space's order, interned (hone_space_intern); points and
 * metric are copied. Never NULL. */
hone_generator_job_t *hone_generator_job_new_predict(hone_experiment_t *experiment, size_t n_points,
                                                     const hone_value_t *points, const char *metric, void *arg);
/* A job deciding early stopping for trials[0..n) (n >= 1) on curves, which the job takes
 * over (*curves_p becomes NULL): a copy the reactor no longer touches (hone_curves_dup).
 * cfg and trials are copied. The job has no experiment. Never NULL. */
hone_generator_job_t *hone_generator_job_new_stop(hone_curves_t **curves_p, const hone_stopping_config_t *cfg,
                                                  bool minimize, const uint32_t *trials, size_t n, void *arg);
/* Runs the job on the calling thread, for a caller without a generator (or one that
 * must not wait for it): sets the out-fields as the generator thread would. */
void hone_generator_job_run(hone_generator_job_t *job);
/* Frees the job (not its experiment, not arg; a STOP job's curves, a PARETO job's
 * frontier). Safe on NULL. */
void hone_generator_job_destroy(hone_generator_job_t **job_p);

/* Starts the thread. Errors: HONE_EIO (no pipe or no thread; err says why). */
int hone_generator_open(hone_generator_t **out, hone_error_t *err);

/* Stops and joins the thread. Every submitted job must have been collected first (an
 * assertion): see hone_generator_wait. Safe on NULL. */
void hone_generator_destroy(hone_generator_t **self_p);

/* Queues a job and takes it (*job_p becomes NULL). */
void hone_generator_submit(hone_generator_t *self, hone_generator_job_t **job_p);

/* The oldest finished job (the caller owns it and its experiment again), or NULL when
 * none is waiting. Never blocks. */
hone_generator_job_t *hone_generator_collect(hone_generator_t *self);

/* A descriptor that is readable while finished jobs wait to be collected. Borrowed,
 * valid for the generator's life; only poll it, never read it. */
int hone_generator_fd(const hone_generator_t *self);

/* Jobs submitted and not collected yet (queued, running or finished). */
size_t hone_generator_outstanding(const hone_generator_t *self);

/* Blocks until a finished job waits to be collected or timeout_ms (< 0: no limit)
 * passes. Returns true when one waits. */
bool hone_generator_wait(hone_generator_t *self, int timeout_ms);

#endif
