/* bench_load.h: what the files of the broker load benchmark (bench/bench_load) share.
 *
 * One program split by noun: bench_load.c (main, the command line), load_run.c (one
 * configuration: its broker, its drivers, its window), load_broker.c (the hone-broker
 * process and what is measured of it), load_worker.c (a simulated worker: the threads
 * driver's loop over libhone and the multiplex driver's state machine over raw frames),
 * load_mux.c (the multiplex driver's threads: epoll set of ZMQ_FDs, ready list),
 * load_timers.c (their timer heap) and load_stats.c (latency samples, the table). They
 * reach the same options, run, worker and driver structs, so those live here, with the
 * functions that cross files; everything else stays static (s_) in its file. Functions
 * here carry their file's prefix (load_broker_, load_run_, ...). Not a library interface:
 * nothing is exported. load_proto.c does not include this header (proto/msg.h and the
 * SDK's hone.h declare the same error enum), so the load_proto_* prototypes below are
 * repeated there.
 *
 * Every file defines _GNU_SOURCE before its first include (pthread barriers, mkdtemp,
 * fdatasync under -std=c11). */
#ifndef HONE_BENCH_LOAD_H
#define HONE_BENCH_LOAD_H

#include "hone.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>
#include <time.h>

struct epoll_event;                     /* sys/epoll.h, in load_mux.c */

#define LOAD_MAX_METRICS 32
#define LOAD_MAX_CONFIGS 16
#define LOAD_MAX_BROKER_ARGS 16
#define LOAD_EXPERIMENT "load"

typedef struct {
    const char *broker;                 /* hone-broker executable */
    const char *label;                  /* first column of every row */
    const char *data_root;              /* where the temporary store directories go */
    const char *attach;                 /* shell command run during the window; %p = broker pid */
    const char *broker_args[LOAD_MAX_BROKER_ARGS]; /* extra arguments for hone-broker */
    int n_broker_args;
    int workers[LOAD_MAX_CONFIGS];      /* worker counts, one configuration each */
    int n_workers;
    int readings;                       /* progress readings per trial (R) */
    int metrics;                        /* metrics per reading message (M) */
    double duration_s;                  /* measurement window */
    double warmup_s;                    /* excluded start of each run */
    uint64_t fill;                      /* fill mode: stop at this many stored readings; 0: off */
    double max_s;                       /* fill mode: stop after this long anyway; 0: no cap */
    bool header;                        /* print the table header */
    bool keep;                          /* keep the store directories */
    bool threads_driver;                /* --driver threads: one thread + SDK handle per worker */
    int mux_threads;                    /* --driver multiplex: driving threads (1 .. cores) */
    double think_ms;                    /* simulated evaluation time per trial (0: none) */
} load_opts_t;

/* A growable array of latency samples in milliseconds. */
typedef struct {
    double *v;                          /* samples */
    size_t n;                           /* used */
    size_t cap;                         /* allocated */
} load_samples_t;

typedef struct load_run load_run_t;

typedef struct {
    load_run_t *run;                    /* the run this worker belongs to */
    int id;                             /* 0 .. W-1 */
    pthread_t thread;                   /* its thread */
    hone_worker_t *worker;              /* its SDK handle */
    load_samples_t assign;              /* hone_worker_next durations (ms) */
    load_samples_t ack;                 /* hone_worker_report durations (ms) */
    uint64_t readings;                  /* readings acknowledged inside the window */
    uint64_t messages;                  /* requests acknowledged inside the window */
    uint64_t trials;                    /* trials completed inside the window */
    uint64_t errors;                    /* failed requests */
} load_worker_t;

struct load_run {
    const load_opts_t *opts;            /* options */
    const char *endpoint;               /* the broker's endpoint */
    pthread_barrier_t start;            /* all workers open, then go */
    _Atomic int64_t window_start_ns;    /* monotonic; INT64_MAX until known */
    _Atomic int64_t window_end_ns;      /* monotonic; INT64_MAX until known */
    atomic_bool stop;                   /* workers stop at their next request */
    atomic_uint_fast64_t stored;        /* fill mode: readings acknowledged so far */
    atomic_int errors_logged;           /* only the first few errors are printed */
    const char *metric_names[LOAD_MAX_METRICS]; /* "loss", "m1", "m2", ... */
    char name_buf[LOAD_MAX_METRICS][16]; /* storage of metric_names[1..] */
};

typedef struct {
    pid_t pid;                          /* the broker process */
    char dir[512];                      /* temporary directory (store/ and broker.log) */
    char endpoint[256];                 /* resolved endpoint, tcp://127.0.0.1:PORT */
} load_broker_t;

typedef struct {
    double vm_hwm_mib;                  /* peak resident set */
    double rss_anon_mib;                /* resident anonymous memory (heap) */
    double rss_file_mib;                /* resident file-backed memory (LMDB's map) */
} load_mem_t;

typedef struct {
    int workers;                        /* W */
    double window_s;                    /* measured wall time */
    uint64_t readings;                  /* acknowledged readings in the window */
    uint64_t messages;                  /* acknowledged requests in the window */
    uint64_t trials;                    /* trials completed in the window */
    uint64_t errors;                    /* failed requests */
    double assign_p50, assign_p99;      /* ms */
    double ack_p50, ack_p99;            /* ms */
    double cpu_pct;                     /* broker CPU over the window */
    double workers_cpu_pct;             /* this process's CPU over the window */
    double disk_syncs;                  /* fdatasync/s of the probe before the run */
    load_mem_t mem;                     /* broker memory after the load */
    double store_mib;                   /* data.mdb size */
    bool capped;                        /* fill mode: stopped by --max-seconds */
} load_result_t;

/* bench/load_proto.c: the multiplex driver's frames (proto/msg.h is kept out of the files
 * that include hone.h: see there, where these declarations are repeated). Request kinds,
 * then reply kinds. */
enum { LP_READY = 0, LP_PROGRESS = 1, LP_COMPLETE = 2, LP_HEARTBEAT = 3 };
enum { LP_R_OTHER = -1, LP_R_TRIAL = 0, LP_R_NO_WORK = 1, LP_R_OK = 2, LP_R_ERROR = 3, LP_R_HEARTBEAT = 4 };
int load_proto_encode(int kind, uint64_t seq, const char *experiment, const char *worker, uint64_t trial,
                      uint64_t lease, int n_metrics, const char *const *names, const double *means,
                      const double *sems, int64_t progression, uint8_t **data, size_t *size);
int load_proto_decode(const uint8_t *data, size_t size, int *kind, uint64_t *seq, uint64_t *trial,
                      uint64_t *lease, int64_t *heartbeat_ms, int64_t *retry_ms, int *code, char *text,
                      size_t text_size);

/* A simulated worker's state: what it waits for. */
typedef enum {
    MW_TO_READY,                        /* send ready at wake_ns */
    MW_WAIT_TRIAL,                      /* ready sent */
    MW_THINK,                           /* evaluating until wake_ns (--think-ms) */
    MW_WAIT_PROGRESS,                   /* progress `r` sent */
    MW_WAIT_COMPLETE,                   /* complete sent */
} load_mw_state_t;

/* A simulated worker of the multiplex driver: its protocol state (load_worker.c). */
typedef struct {
    void *sock;                         /* its DEALER socket */
    load_mw_state_t state;
    uint64_t seq;                       /* last seq sent */
    uint64_t expect;                    /* seq of the request whose reply moves the state */
    uint64_t trial, lease;              /* the trial held, its lease (0: none) */
    int64_t heartbeat_ms;               /* from the trial reply; 1000 when absent */
    int r;                              /* progress reading being sent (1..R) */
    int64_t sent_ns;                    /* when the awaited request was sent */
    int64_t wake_ns;                    /* MW_TO_READY, MW_THINK: when to act */
    int64_t beat_ns;                    /* MW_THINK: last heartbeat (or the trial's arrival) */
    char name[32];                      /* the worker's name in `ready` */
    uint64_t x;                         /* xorshift state for the readings */
} load_mw_t;

/* One pending timer: the worker and when it is due. */
typedef struct {
    int64_t when_ns;                    /* monotonic deadline */
    int id;                             /* worker index in its driver thread */
} load_timer_t;

/* A binary min-heap of timers on when_ns, at most one per worker, so that a wake-up only
 * touches the timers that are due (the back-off, think and heartbeat timers of W workers). */
typedef struct {
    load_timer_t *heap;                 /* heap[0] is the earliest deadline */
    int n;                              /* entries in use */
    int *pos;                           /* pos[id]: index of id's entry in heap, -1 if none */
} load_timers_t;

/* The workers whose socket showed ZMQ_POLLIN but is not drained yet, oldest first, each
 * at most once. ZMQ_FD only fires on a change, so a worker found readable must stay
 * listed until its messages are received, or they would be stranded. Used by load_mux.c
 * only; here because load_mux_t holds one. */
typedef struct {
    int *ring;                          /* worker indices, cap slots */
    bool *queued;                       /* queued[id]: id is in ring */
    int head;                           /* slot of the oldest entry */
    int n;                              /* entries */
    int cap;                            /* workers of the driver thread */
} load_ready_t;

/* One thread of the multiplex driver and the workers it drives (load_mux.c). */
typedef struct {
    load_run_t *run;                    /* the run */
    load_worker_t *w;                   /* statistics, as for the threads driver */
    load_mw_t *mw;                      /* protocol state of the same workers */
    int count;                          /* workers driven by this thread */
    pthread_t thread;                   /* this driver thread */
    int epfd;                           /* epoll set of the workers' ZMQ_FDs (data: worker index) */
    struct epoll_event *events;         /* epoll_wait's output, count slots */
    load_timers_t timers;               /* back-off, think and heartbeat timers */
    load_ready_t ready;                 /* workers with messages not received yet */
} load_mux_t;

/* ---- time (every file) ---- */

static inline int64_t load_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void load_sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* ---- load_stats.c: latency samples and the markdown table ---- */

/* Appends v to s (exits on out of memory). */
void load_stats_add(load_samples_t *s, double v);
/* Nearest-rank percentile q of sorted samples; NAN when there are none. */
double load_stats_percentile(const load_samples_t *s, double q);
/* Every sample of the workers' field at offset off, in one sorted array (free its v). */
load_samples_t load_stats_merge(load_worker_t *w, int n, size_t off);
/* The table's header (the fill table when opts->fill), then fflush. */
void load_stats_print_header(const load_opts_t *opts);
/* One row of the table for result r, driver being the driver column, then fflush. */
void load_stats_print_row(const load_opts_t *opts, const char *driver, const load_result_t *r);

/* ---- load_broker.c: the hone-broker process ---- */

/* Starts opts->broker on a fresh store under opts->data_root; 0 once its endpoint is known,
 * -1 on failure (call load_broker_stop in both cases). */
int load_broker_start(const load_opts_t *opts, load_broker_t *b);
/* SIGTERM (then SIGKILL) and removes its directory unless --keep. */
void load_broker_stop(const load_opts_t *opts, load_broker_t *b);
/* Size of its data.mdb in MiB, NAN if unknown. */
double load_broker_store_mib(const load_broker_t *b);
/* VmHWM, RssAnon and RssFile of pid; -1 if /proc/PID/status cannot be read. */
int load_broker_read_mem(pid_t pid, load_mem_t *mem);
/* utime + stime of every thread of pid, in seconds; negative on failure. */
double load_broker_cpu_s(pid_t pid);
/* Runs the --attach command against the broker; its pid, or -1. */
pid_t load_broker_attach(const char *cmd, pid_t broker, int workers);
/* Creates the random_search experiment LOAD_EXPERIMENT; a HONE_E* code. */
int load_broker_create_experiment(const char *endpoint);

/* ---- load_run.c: one configuration ---- */

/* Whether the workers stop now (run->stop, or the fill target reached, which sets it). */
bool load_run_should_stop(load_run_t *run);
/* Runs W = n_workers against a fresh broker and fills res; -1 if it could not run. */
int load_run_config(const load_opts_t *opts, int n_workers, load_result_t *res);

/* ---- load_worker.c: a simulated worker ---- */

/* Threads driver: the thread of worker arg (a load_worker_t *). */
void *load_worker_main(void *arg);
/* Multiplex driver, worker i of driver thread mx: */
/* uniform in [0, 1) from its xorshift state */
double load_worker_uniform(load_mw_t *mw);
/* sends request `kind` (LP_*), awaited unless a heartbeat; 0 or -1 (counted as an error) */
int load_worker_send(load_mux_t *mx, int i, int kind, int64_t now);
/* sends the first report of the trial it holds */
void load_worker_report_first(load_mux_t *mx, int i, int64_t now);
/* drops its trial and sends ready */
void load_worker_to_ready(load_mux_t *mx, int i, int64_t now);
/* handles one reply frame and sends what follows */
void load_worker_reply(load_mux_t *mx, int i, const uint8_t *data, size_t size);

/* ---- load_timers.c: the multiplex driver's timer heap (each documented there) ---- */

void load_timers_init(load_timers_t *t, int workers);
void load_timers_free(load_timers_t *t);
void load_timers_set(load_timers_t *t, int id, int64_t when_ns);
void load_timers_clear(load_timers_t *t, int id);
int64_t load_timers_next(const load_timers_t *t);
int load_timers_pop_due(load_timers_t *t, int64_t now);

/* ---- load_mux.c: the multiplex driver ---- */

/* Opens the sockets of the n_workers workers and starts n_mux driver threads, which wait
 * on run->start; the ZeroMQ context, or NULL on failure. */
void *load_mux_start(load_run_t *run, load_worker_t *w, int n_workers, load_mw_t *mw, load_mux_t *mux, int n_mux);

#endif
