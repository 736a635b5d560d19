/* bench_load.c: the broker load benchmark (bench/load.sh drives it; not run by ctest).
 *
 * Starts a real hone-broker (fork/exec) on a fresh store directory and an ephemeral
 * loopback port, creates a random_search experiment (so the optimizer costs nothing),
 * and runs W simulated workers. Two drivers (--driver): multiplex (default) drives them
 * all from one thread (--driver-threads N) as raw ZeroMQ DEALER sockets speaking the
 * protocol (frames from proto/msg.h through load_proto.c), a state machine per worker,
 * their ZMQ_FDs in one epoll set and their timers in a heap, so that a wake-up costs what
 * is ready or due, not W, and the generator takes little CPU from the broker; threads gives
 * each worker a thread and a libhone worker handle (the original generator). Every
 * worker loops: ask for a trial (hone_worker_next), report R progress readings
 * (hone_worker_report, M metrics each, progression 1..R), complete it with M final
 * readings. Nothing is evaluated: the workers send as fast as the broker answers.
 *
 * Two modes:
 *   throughput (default): for each W in --workers, a fresh broker; after a warm-up, a
 *     measurement window of --duration seconds. A reading counts when the reply that
 *     acknowledges it (ok to progress or complete) arrived inside the window. Latencies
 *     are taken for requests sent inside the window: assignment = hone_worker_next
 *     (ready sent → trial received), ack = hone_worker_report (progress sent → ok).
 *   fill (--fill N): one broker, W workers (default 512) until N readings are stored,
 *     then the broker's memory.
 * After the load (workers still connected) the broker's /proc/PID/status is read:
 * VmHWM (peak resident set), RssAnon and RssFile (LMDB's mapped pages). Broker CPU % is
 * (utime + stime) over the window / the window's wall time, all threads together;
 * workers CPU % is the same for this process (100 % = one core). Before each run a
 * 1-second probe appends 4 KiB blocks with fdatasync in --data-root: the disk's sync rate
 * at that moment, to read the durable figures of a shared machine against.
 *
 * --think-ms T (multiplex): a simulated evaluation, uniform in [T/2, 3T/2], between a
 * trial's arrival and its first progress (heartbeats meanwhile): an open workload. With
 * T = 0 the loop is closed, and at W workers the assignment latency is at least about
 * W / (requests per second) (Little's law).
 *
 * Threads driver: each worker owns one SDK handle, hence one ZeroMQ context with its I/O and reaper
 * threads: 512 workers are 512 + 1024 threads and about 3 500 descriptors in this
 * process (the soft RLIMIT_NOFILE is raised to the hard limit).
 *
 * Output: one markdown table per mode on stdout (a header unless --no-header, then one
 * row per configuration); progress and diagnostics on stderr. Exit status 1 if any
 * request failed or the broker could not be started. */
#define _GNU_SOURCE
#include "hone.h"

#include <zmq.h>

#include <dirent.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define S_MAX_METRICS 32
#define S_MAX_CONFIGS 16
#define S_MAX_BROKER_ARGS 16
#define S_EXPERIMENT "load"

typedef struct {
    const char *broker;                 /* hone-broker executable */
    const char *label;                  /* first column of every row */
    const char *data_root;              /* where the temporary store directories go */
    const char *attach;                 /* shell command run during the window; %p = broker pid */
    const char *broker_args[S_MAX_BROKER_ARGS]; /* extra arguments for hone-broker */
    int n_broker_args;
    int workers[S_MAX_CONFIGS];         /* worker counts, one configuration each */
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
} s_opts_t;

/* A growable array of latency samples in milliseconds. */
typedef struct {
    double *v;                          /* samples */
    size_t n;                           /* used */
    size_t cap;                         /* allocated */
} s_samples_t;

typedef struct s_run s_run_t;

typedef struct {
    s_run_t *run;                       /* the run this worker belongs to */
    int id;                             /* 0 .. W-1 */
    pthread_t thread;                   /* its thread */
    hone_worker_t *worker;              /* its SDK handle */
    s_samples_t assign;                 /* hone_worker_next durations (ms) */
    s_samples_t ack;                    /* hone_worker_report durations (ms) */
    uint64_t readings;                  /* readings acknowledged inside the window */
    uint64_t messages;                  /* requests acknowledged inside the window */
    uint64_t trials;                    /* trials completed inside the window */
    uint64_t errors;                    /* failed requests */
} s_worker_t;

struct s_run {
    const s_opts_t *opts;               /* options */
    const char *endpoint;               /* the broker's endpoint */
    pthread_barrier_t start;            /* all workers open, then go */
    _Atomic int64_t window_start_ns;    /* monotonic; INT64_MAX until known */
    _Atomic int64_t window_end_ns;      /* monotonic; INT64_MAX until known */
    atomic_bool stop;                   /* workers stop at their next request */
    atomic_uint_fast64_t stored;        /* fill mode: readings acknowledged so far */
    atomic_int errors_logged;           /* only the first few errors are printed */
    const char *metric_names[S_MAX_METRICS]; /* "loss", "m1", "m2", ... */
    char name_buf[S_MAX_METRICS][16];   /* storage of metric_names[1..] */
};

typedef struct {
    pid_t pid;                          /* the broker process */
    char dir[512];                      /* temporary directory (store/ and broker.log) */
    char endpoint[256];                 /* resolved endpoint, tcp://127.0.0.1:PORT */
} s_broker_t;

typedef struct {
    double vm_hwm_mib;                  /* peak resident set */
    double rss_anon_mib;                /* resident anonymous memory (heap) */
    double rss_file_mib;                /* resident file-backed memory (LMDB's map) */
} s_mem_t;

/* ---- time, samples, /proc ---- */

static int64_t s_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void s_sleep_ms(int ms)
{
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static void s_samples_add(s_samples_t *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *p = realloc(s->v, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "bench_load: out of memory\n");
            exit(1);
        }
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = v;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples; NAN when there are none. */
static double s_percentile(const s_samples_t *s, double q)
{
    if (s->n == 0)
        return NAN;
    size_t rank = (size_t) ceil(q * (double) s->n);
    if (rank < 1)
        rank = 1;
    return s->v[rank - 1];
}

/* Appends every sample of the workers' field at offset `off` into one sorted array. */
static s_samples_t s_merge(s_worker_t *w, int n, size_t off)
{
    s_samples_t all = { 0 };
    for (int i = 0; i < n; i++) {
        const s_samples_t *s = (const s_samples_t *) ((const char *) &w[i] + off);
        for (size_t j = 0; j < s->n; j++)
            s_samples_add(&all, s->v[j]);
    }
    if (all.n)
        qsort(all.v, all.n, sizeof *all.v, s_cmp_double);
    return all;
}

static int s_read_mem(pid_t pid, s_mem_t *mem)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long) pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(mem, 0, sizeof *mem);
    char line[256];
    unsigned long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
            mem->vm_hwm_mib = (double) kb / 1024.0;
        else if (sscanf(line, "RssAnon: %lu kB", &kb) == 1)
            mem->rss_anon_mib = (double) kb / 1024.0;
        else if (sscanf(line, "RssFile: %lu kB", &kb) == 1)
            mem->rss_file_mib = (double) kb / 1024.0;
    }
    fclose(f);
    return 0;
}

/* utime + stime of every thread of pid, in seconds; negative on failure. */
static double s_read_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long) pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')');     /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

/* ---- the broker process ---- */

static void s_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            s_remove_tree(child);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Reads the endpoint from the broker's "listening on ENDPOINT (" log line. */
static bool s_find_endpoint(const char *log_path, char *out, size_t size)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "listening on ");
        if (!p)
            continue;
        p += strlen("listening on ");
        size_t n = strcspn(p, " \n");
        if (n > 0 && n < size) {
            memcpy(out, p, n);
            out[n] = '\0';
            found = true;
        }
    }
    fclose(f);
    return found;
}

static int s_broker_start(const s_opts_t *opts, s_broker_t *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/hone-load-XXXXXX", opts->data_root);
    if (!mkdtemp(b->dir)) {
        fprintf(stderr, "bench_load: mkdtemp %s: %s\n", b->dir, strerror(errno));
        return -1;
    }
    char store[600], log_path[600];
    snprintf(store, sizeof store, "%s/store", b->dir);
    snprintf(log_path, sizeof log_path, "%s/broker.log", b->dir);
    const char *argv[8 + S_MAX_BROKER_ARGS];
    int argc = 0;
    argv[argc++] = opts->broker;
    argv[argc++] = "--data";
    argv[argc++] = store;
    argv[argc++] = "--bind";
    argv[argc++] = "tcp://127.0.0.1:*";
    for (int i = 0; i < opts->n_broker_args; i++)
        argv[argc++] = opts->broker_args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_load: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(opts->broker, (char *const *) argv);
        fprintf(stderr, "exec %s: %s\n", opts->broker, strerror(errno));
        _exit(127);
    }
    b->pid = pid;
    for (int i = 0; i < 1000; i++) {       /* up to 10 s */
        if (s_find_endpoint(log_path, b->endpoint, sizeof b->endpoint))
            return 0;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "bench_load: hone-broker exited at start-up; its log (%s):\n", log_path);
            b->pid = 0;
            FILE *f = fopen(log_path, "r");
            char line[1024];
            while (f && fgets(line, sizeof line, f))
                fputs(line, stderr);
            if (f)
                fclose(f);
            return -1;
        }
        s_sleep_ms(10);
    }
    fprintf(stderr, "bench_load: hone-broker did not report its endpoint in %s\n", log_path);
    return -1;
}

static void s_broker_stop(const s_opts_t *opts, s_broker_t *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        int status;
        bool gone = false;
        for (int i = 0; i < 1000 && !gone; i++) {      /* up to 10 s, then SIGKILL */
            if (waitpid(b->pid, &status, WNOHANG) == b->pid)
                gone = true;
            else
                s_sleep_ms(10);
        }
        if (!gone) {
            fprintf(stderr, "bench_load: hone-broker ignored SIGTERM; killing it\n");
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &status, 0);
        }
        b->pid = 0;
    }
    if (opts->keep)
        fprintf(stderr, "bench_load: kept %s\n", b->dir);
    else if (b->dir[0])
        s_remove_tree(b->dir);
}

static double s_store_mib(const s_broker_t *b)
{
    char path[600];
    snprintf(path, sizeof path, "%s/store/data.mdb", b->dir);
    struct stat st;
    return stat(path, &st) == 0 ? (double) st.st_size / (1024.0 * 1024.0) : NAN;
}

/* Appends 4 KiB blocks to a temporary file in dir with one fdatasync each, for about
 * `seconds`: the disk's synchronous-write rate right before a run, since a shared disk
 * varies a lot (an LMDB commit costs two such syncs: fdatasync, then the meta page's
 * O_DSYNC write). Returns syncs per second, NAN on failure. */
static double s_probe_fsync(const char *dir, double seconds)
{
    char path[600];
    snprintf(path, sizeof path, "%s/hone-load-probe-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return NAN;
    unlink(path);
    char block[4096];
    memset(block, 0x5a, sizeof block);
    int64_t t0 = s_now_ns(), t = t0;
    long n = 0;
    while (t - t0 < (int64_t) (seconds * 1e9) && n < 1000000) {
        if (pwrite(fd, block, sizeof block, (off_t) n * (off_t) sizeof block) != (ssize_t) sizeof block
            || fdatasync(fd) != 0) {
            close(fd);
            return NAN;
        }
        n++;
        t = s_now_ns();
    }
    close(fd);
    return (double) n * 1e9 / (double) (t - t0);
}

/* CPU seconds (user + system) of this process, i.e. the simulated workers. */
static double s_self_cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec
           + (double) ru.ru_stime.tv_usec / 1e6;
}

/* Runs `sh -c "exec CMD"` with %p replaced by the broker's pid and %w by the number
 * of workers (e.g. perf record -g -p %p -o perf.%w.data); returns its pid or -1. */
static pid_t s_attach_start(const char *cmd, pid_t broker, int workers)
{
    char expanded[2048];
    size_t o = 0;
    for (const char *p = cmd; *p && o + 32 < sizeof expanded; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            o += (size_t) snprintf(expanded + o, sizeof expanded - o, "%ld", (long) broker);
            p++;
        } else if (p[0] == '%' && p[1] == 'w') {
            o += (size_t) snprintf(expanded + o, sizeof expanded - o, "%d", workers);
            p++;
        } else {
            expanded[o++] = *p;
        }
    }
    expanded[o] = '\0';
    char shell_cmd[2100];
    snprintf(shell_cmd, sizeof shell_cmd, "exec %s", expanded);
    fprintf(stderr, "bench_load: attaching: %s\n", expanded);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", shell_cmd, (char *) NULL);
        _exit(127);
    }
    return pid;
}

/* ---- workers ---- */

static void s_error(s_worker_t *w, const char *what, int rc)
{
    w->errors++;
    if (atomic_fetch_add(&w->run->errors_logged, 1) < 10)
        fprintf(stderr, "bench_load: worker %d: %s: %s (%s)\n", w->id, what, hone_err_name(rc),
                hone_worker_last_error(w->worker));
}

static bool s_in_window(const s_run_t *run, int64_t t)
{
    return t >= atomic_load(&run->window_start_ns) && t < atomic_load(&run->window_end_ns);
}

static bool s_should_stop(s_run_t *run)
{
    if (atomic_load(&run->stop))
        return true;
    if (run->opts->fill && atomic_load(&run->stored) >= run->opts->fill) {
        atomic_store(&run->stop, true);
        return true;
    }
    return false;
}

/* One acknowledged request with `readings` readings, at time t. */
static void s_acked(s_worker_t *w, int64_t t, int readings)
{
    if (w->run->opts->fill)
        atomic_fetch_add(&w->run->stored, (uint_fast64_t) readings);
    if (s_in_window(w->run, t)) {
        w->messages++;
        w->readings += (uint64_t) readings;
    }
}

static void *s_worker_main(void *arg)
{
    s_worker_t *w = arg;
    s_run_t *run = w->run;
    const s_opts_t *opts = run->opts;
    int m = opts->metrics;
    double means[S_MAX_METRICS], sems[S_MAX_METRICS];
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t) (w->id + 1);
    pthread_barrier_wait(&run->start);
    while (!s_should_stop(run)) {
        hone_trial_t *trial = NULL;
        int64_t t0 = s_now_ns();
        int rc = hone_worker_next(w->worker, &trial, 0);
        int64_t t1 = s_now_ns();
        if (rc != HONE_OK) {
            s_error(w, "next", rc);
            s_sleep_ms(100);
            continue;
        }
        if (s_in_window(run, t0))
            s_samples_add(&w->assign, (double) (t1 - t0) / 1e6);
        s_acked(w, t1, 0);
        uint64_t index = hone_trial_index(trial);
        hone_trial_destroy(&trial);
        bool alive = true;
        for (int r = 1; r <= opts->readings && alive && !s_should_stop(run); r++) {
            for (int k = 0; k < m; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                means[k] = 1.0 / r + (double) (x >> 11) * 0x1.0p-53 * 0.01;
                sems[k] = 0.01;
            }
            t0 = s_now_ns();
            rc = hone_worker_report(w->worker, index, (size_t) m, run->metric_names, means, sems, true, r);
            t1 = s_now_ns();
            if (rc != HONE_OK) {
                s_error(w, "report", rc);
                alive = false;
                break;
            }
            if (s_in_window(run, t0))
                s_samples_add(&w->ack, (double) (t1 - t0) / 1e6);
            s_acked(w, t1, m);
        }
        if (!alive || atomic_load(&run->stop))
            continue;       /* the trial stays RUNNING: the run is over */
        for (int k = 0; k < m; k++) {
            means[k] = 1.0 / (opts->readings + 1);
            sems[k] = 0.01;
        }
        rc = hone_worker_complete(w->worker, index, (size_t) m, run->metric_names, means, sems);
        t1 = s_now_ns();
        if (rc != HONE_OK) {
            s_error(w, "complete", rc);
            continue;
        }
        s_acked(w, t1, m);
        if (s_in_window(run, t1))
            w->trials++;
    }
    return NULL;
}

/* ---- the multiplex driver: raw DEALER sockets, one thread drives many workers ---- */

/* bench/load_proto.c (proto/msg.h kept out of this file: see there). */
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
} s_mw_state_t;

typedef struct {
    void *sock;                         /* its DEALER socket */
    s_mw_state_t state;
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
} s_mw_t;

/* One pending timer: the worker and when it is due. */
typedef struct {
    int64_t when_ns;                    /* monotonic deadline */
    int id;                             /* worker index in its driver thread */
} s_timer_t;

/* A binary min-heap of timers on when_ns, at most one per worker, so that a wake-up only
 * touches the timers that are due (the back-off, think and heartbeat timers of W workers). */
typedef struct {
    s_timer_t *heap;                    /* heap[0] is the earliest deadline */
    int n;                              /* entries in use */
    int *pos;                           /* pos[id]: index of id's entry in heap, -1 if none */
} s_timers_t;

static void s_timers_init(s_timers_t *t, int workers)
{
    t->heap = malloc((size_t) workers * sizeof *t->heap);
    t->pos = malloc((size_t) workers * sizeof *t->pos);
    if (!t->heap || !t->pos) {
        fprintf(stderr, "bench_load: out of memory\n");
        exit(1);
    }
    t->n = 0;
    for (int i = 0; i < workers; i++)
        t->pos[i] = -1;
}

static void s_timers_free(s_timers_t *t)
{
    free(t->heap);
    free(t->pos);
    t->heap = NULL;
    t->pos = NULL;
    t->n = 0;
}

static void s_timers_place(s_timers_t *t, int k, s_timer_t e)
{
    t->heap[k] = e;
    t->pos[e.id] = k;
}

/* Moves the entry at k up, or else down, until the heap order holds again. */
static void s_timers_fix(s_timers_t *t, int k)
{
    s_timer_t e = t->heap[k];
    while (k > 0 && t->heap[(k - 1) / 2].when_ns > e.when_ns) {
        s_timers_place(t, k, t->heap[(k - 1) / 2]);
        k = (k - 1) / 2;
    }
    for (;;) {
        int c = 2 * k + 1;
        if (c >= t->n)
            break;
        if (c + 1 < t->n && t->heap[c + 1].when_ns < t->heap[c].when_ns)
            c++;
        if (t->heap[c].when_ns >= e.when_ns)
            break;
        s_timers_place(t, k, t->heap[c]);
        k = c;
    }
    s_timers_place(t, k, e);
}

/* Worker id's timer becomes when_ns, replacing the one it had. */
static void s_timers_set(s_timers_t *t, int id, int64_t when_ns)
{
    int k = t->pos[id];
    if (k < 0)
        k = t->n++;
    s_timers_place(t, k, (s_timer_t) { .when_ns = when_ns, .id = id });
    s_timers_fix(t, k);
}

/* Worker id has no timer any more (no-op if it had none). */
static void s_timers_clear(s_timers_t *t, int id)
{
    int k = t->pos[id];
    if (k < 0)
        return;
    t->pos[id] = -1;
    s_timer_t last = t->heap[--t->n];
    if (k < t->n) {
        s_timers_place(t, k, last);
        s_timers_fix(t, k);
    }
}

/* The earliest deadline; INT64_MAX if no worker waits on a timer. */
static int64_t s_timers_next(const s_timers_t *t)
{
    return t->n ? t->heap[0].when_ns : INT64_MAX;
}

/* Removes the earliest timer if it is due at `now` and returns its worker; -1 if none is. */
static int s_timers_pop_due(s_timers_t *t, int64_t now)
{
    if (t->n == 0 || t->heap[0].when_ns > now)
        return -1;
    int id = t->heap[0].id;
    s_timers_clear(t, id);
    return id;
}

/* The workers whose socket showed ZMQ_POLLIN but is not drained yet, oldest first, each
 * at most once. ZMQ_FD only fires on a change, so a worker found readable must stay
 * listed until its messages are received, or they would be stranded. */
typedef struct {
    int *ring;                          /* worker indices, cap slots */
    bool *queued;                       /* queued[id]: id is in ring */
    int head;                           /* slot of the oldest entry */
    int n;                              /* entries */
    int cap;                            /* workers of the driver thread */
} s_ready_t;

static void s_ready_init(s_ready_t *r, int workers)
{
    r->ring = malloc((size_t) workers * sizeof *r->ring);
    r->queued = calloc((size_t) workers, sizeof *r->queued);
    if (!r->ring || !r->queued) {
        fprintf(stderr, "bench_load: out of memory\n");
        exit(1);
    }
    r->head = 0;
    r->n = 0;
    r->cap = workers;
}

static void s_ready_free(s_ready_t *r)
{
    free(r->ring);
    free(r->queued);
    r->ring = NULL;
    r->queued = NULL;
    r->n = 0;
}

static void s_ready_push(s_ready_t *r, int id)
{
    if (r->queued[id])
        return;
    r->queued[id] = true;
    r->ring[(r->head + r->n++) % r->cap] = id;
}

/* The oldest listed worker, removed from the list; -1 if the list is empty. */
static int s_ready_pop(s_ready_t *r)
{
    if (r->n == 0)
        return -1;
    int id = r->ring[r->head];
    r->head = (r->head + 1) % r->cap;
    r->n--;
    r->queued[id] = false;
    return id;
}

typedef struct {
    s_run_t *run;                       /* the run */
    s_worker_t *w;                      /* statistics, as for the threads driver */
    s_mw_t *mw;                         /* protocol state of the same workers */
    int count;                          /* workers driven by this thread */
    pthread_t thread;                   /* this driver thread */
    int epfd;                           /* epoll set of the workers' ZMQ_FDs (data: worker index) */
    struct epoll_event *events;         /* epoll_wait's output, count slots */
    s_timers_t timers;                  /* back-off, think and heartbeat timers */
    s_ready_t ready;                    /* workers with messages not received yet */
} s_mux_t;

static void s_mux_error(s_worker_t *w, const char *what, int code, const char *text)
{
    w->errors++;
    if (atomic_fetch_add(&w->run->errors_logged, 1) < 10)
        fprintf(stderr, "bench_load: worker %d: %s: %s (%s)\n", w->id, what, hone_err_name(code), text);
}

/* Uniform in [0, 1) from the worker's xorshift state. */
static double s_mux_uniform(s_mw_t *mw)
{
    mw->x ^= mw->x << 13; mw->x ^= mw->x >> 7; mw->x ^= mw->x << 17;
    return (double) (mw->x >> 11) * 0x1.0p-53;
}

/* Sends request `kind` for worker i; it becomes the awaited one unless it is a heartbeat. */
static int s_mux_send(s_mux_t *mx, int i, int kind, int64_t now)
{
    s_run_t *run = mx->run;
    const s_opts_t *opts = run->opts;
    s_mw_t *mw = &mx->mw[i];
    double means[S_MAX_METRICS], sems[S_MAX_METRICS];
    int m = kind == LP_PROGRESS || kind == LP_COMPLETE ? opts->metrics : 0;
    for (int k = 0; k < m; k++) {
        if (kind == LP_PROGRESS) {
            mw->x ^= mw->x << 13; mw->x ^= mw->x >> 7; mw->x ^= mw->x << 17;
            means[k] = 1.0 / mw->r + (double) (mw->x >> 11) * 0x1.0p-53 * 0.01;
        } else {
            means[k] = 1.0 / (opts->readings + 1);
        }
        sems[k] = 0.01;
    }
    uint8_t *data = NULL;
    size_t size = 0;
    uint64_t seq = ++mw->seq;
    int rc = load_proto_encode(kind, seq, S_EXPERIMENT, mw->name, mw->trial, mw->lease, m, run->metric_names,
                               means, sems, kind == LP_PROGRESS ? mw->r : -1, &data, &size);
    if (rc != 0) {
        s_mux_error(&mx->w[i], "encode", rc, "cannot encode a request");
        return -1;
    }
    int n = zmq_send(mw->sock, data, size, 0);
    free(data);
    if (n < 0) {
        s_mux_error(&mx->w[i], "send", HONE_EIO, zmq_strerror(zmq_errno()));
        return -1;
    }
    if (kind != LP_HEARTBEAT) {
        mw->expect = seq;
        mw->sent_ns = now;
        mw->state = kind == LP_READY ? MW_WAIT_TRIAL : kind == LP_PROGRESS ? MW_WAIT_PROGRESS : MW_WAIT_COMPLETE;
    }
    return 0;
}

/* After a trial arrived, or when the thinking is over: the first report. */
static void s_mux_report_first(s_mux_t *mx, int i, int64_t now)
{
    s_mw_t *mw = &mx->mw[i];
    mw->r = 1;
    if (s_mux_send(mx, i, mx->run->opts->readings > 0 ? LP_PROGRESS : LP_COMPLETE, now) != 0) {
        mw->state = MW_TO_READY;
        mw->wake_ns = now + 100000000;
    }
}

static void s_mux_to_ready(s_mux_t *mx, int i, int64_t now)
{
    s_mw_t *mw = &mx->mw[i];
    mw->trial = 0;
    mw->lease = 0;
    if (s_mux_send(mx, i, LP_READY, now) != 0) {
        mw->state = MW_TO_READY;
        mw->wake_ns = now + 100000000;
    }
}

static void s_mux_reply(s_mux_t *mx, int i, const uint8_t *data, size_t size)
{
    s_run_t *run = mx->run;
    const s_opts_t *opts = run->opts;
    s_mw_t *mw = &mx->mw[i];
    s_worker_t *w = &mx->w[i];
    int kind, code;
    uint64_t seq, trial, lease;
    int64_t hb, retry;
    char text[256];
    int64_t now = s_now_ns();
    int rc = load_proto_decode(data, size, &kind, &seq, &trial, &lease, &hb, &retry, &code, text, sizeof text);
    if (rc == 0 && seq != mw->expect)
        return;                         /* a heartbeat's reply */
    if (rc != 0 || kind == LP_R_ERROR || kind == LP_R_OTHER
        || (mw->state == MW_WAIT_TRIAL && kind != LP_R_TRIAL && kind != LP_R_NO_WORK)
        || ((mw->state == MW_WAIT_PROGRESS || mw->state == MW_WAIT_COMPLETE) && kind != LP_R_OK)) {
        const char *what = mw->state == MW_WAIT_TRIAL ? "next" : mw->state == MW_WAIT_PROGRESS ? "report" : "complete";
        s_mux_error(w, what, rc != 0 ? rc : kind == LP_R_ERROR ? code : HONE_EPROTO,
                    rc != 0 || kind == LP_R_ERROR ? text : "unexpected reply");
        mw->state = MW_TO_READY;
        mw->wake_ns = now + 100000000;
        return;
    }
    switch (mw->state) {
    case MW_WAIT_TRIAL:
        if (kind == LP_R_NO_WORK) {
            mw->state = MW_TO_READY;
            mw->wake_ns = now + retry * 1000000;
            return;
        }
        if (s_in_window(run, mw->sent_ns))
            s_samples_add(&w->assign, (double) (now - mw->sent_ns) / 1e6);
        s_acked(w, now, 0);
        mw->trial = trial;
        mw->lease = lease;
        mw->heartbeat_ms = hb > 0 ? hb : 1000;
        if (opts->think_ms > 0) {
            mw->state = MW_THINK;
            mw->wake_ns = now + (int64_t) (opts->think_ms * (0.5 + s_mux_uniform(mw)) * 1e6);
            mw->beat_ns = now;
        } else {
            s_mux_report_first(mx, i, now);
        }
        break;
    case MW_WAIT_PROGRESS:
        if (s_in_window(run, mw->sent_ns))
            s_samples_add(&w->ack, (double) (now - mw->sent_ns) / 1e6);
        s_acked(w, now, opts->metrics);
        if (++mw->r <= opts->readings) {
            if (s_mux_send(mx, i, LP_PROGRESS, now) != 0) {
                mw->state = MW_TO_READY;
                mw->wake_ns = now + 100000000;
            }
        } else if (s_mux_send(mx, i, LP_COMPLETE, now) != 0) {
            mw->state = MW_TO_READY;
            mw->wake_ns = now + 100000000;
        }
        break;
    case MW_WAIT_COMPLETE:
        s_acked(w, now, opts->metrics);
        if (s_in_window(run, now))
            w->trials++;
        s_mux_to_ready(mx, i, now);
        break;
    default:
        break;                          /* MW_TO_READY, MW_THINK: nothing awaited */
    }
}

/* Whether worker i's socket holds a message, from ZMQ_EVENTS. Reading ZMQ_EVENTS also
 * processes the socket's pending commands, which is what re-arms its ZMQ_FD. On an error
 * (EINTR) the answer is yes: a drain attempt then finds out at the cost of one recv. */
static bool s_mux_readable(s_mux_t *mx, int i)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(mx->mw[i].sock, ZMQ_EVENTS, &events, &len) != 0)
        return true;
    return (events & ZMQ_POLLIN) != 0;
}

/* Lists worker i as ready if its socket holds a message. Called when its ZMQ_FD fired, and
 * after every send on it outside s_mux_drain: zmq_send processes the socket's commands too,
 * so it can consume the edge announcing a reply already queued, which ZMQ_FD would then
 * never report. */
static void s_mux_check(s_mux_t *mx, int i)
{
    if (s_mux_readable(mx, i))
        s_ready_push(&mx->ready, i);
}

/* Sets or clears worker i's timer from its state: the end of a back-off (MW_TO_READY), or
 * the end of thinking or the next heartbeat, whichever comes first (MW_THINK). */
static void s_mux_rearm(s_mux_t *mx, int i)
{
    s_mw_t *mw = &mx->mw[i];
    if (mw->state == MW_TO_READY) {
        s_timers_set(&mx->timers, i, mw->wake_ns);
    } else if (mw->state == MW_THINK) {
        int64_t beat = mw->beat_ns + mw->heartbeat_ms * 1000000;
        s_timers_set(&mx->timers, i, beat < mw->wake_ns ? beat : mw->wake_ns);
    } else {
        s_timers_clear(&mx->timers, i);
    }
}

/* Worker i's timer is due: ready after a back-off, the end of thinking, or a heartbeat
 * while thinking. */
static void s_mux_timer(s_mux_t *mx, int i, int64_t now)
{
    s_mw_t *mw = &mx->mw[i];
    if (mw->state == MW_TO_READY && mw->wake_ns <= now) {
        s_mux_to_ready(mx, i, now);
    } else if (mw->state == MW_THINK) {
        if (mw->wake_ns <= now) {
            s_mux_report_first(mx, i, now);
        } else if (now - mw->beat_ns >= mw->heartbeat_ms * 1000000) {
            mw->beat_ns = now;
            s_mux_send(mx, i, LP_HEARTBEAT, now);
        }
    }
    s_mux_rearm(mx, i);
    s_mux_check(mx, i);
}

/* Receives and handles every message worker i's socket holds. ZMQ_EVENTS is read again
 * after each one because handling a reply sends the next request (see s_mux_check). */
static void s_mux_drain(s_mux_t *mx, int i, zmq_msg_t *msg)
{
    do {
        if (zmq_msg_recv(msg, mx->mw[i].sock, ZMQ_DONTWAIT) < 0) {
            /* EAGAIN: this recv processed the socket's commands, so ZMQ_FD fires for the
             * next message; EINTR: nothing was processed, try again */
            if (zmq_errno() == EINTR)
                s_ready_push(&mx->ready, i);
            break;
        }
        s_mux_reply(mx, i, zmq_msg_data(msg), zmq_msg_size(msg));
    } while (s_mux_readable(mx, i));
    s_mux_rearm(mx, i);
}

/* Drains the listed workers, including any listed meanwhile. */
static void s_mux_drain_ready(s_mux_t *mx, zmq_msg_t *msg)
{
    int i;
    while ((i = s_ready_pop(&mx->ready)) >= 0)
        s_mux_drain(mx, i, msg);
}

/* How long epoll_wait may sleep: until the earliest timer, in ms rounded up, and at most
 * 10 ms so that the stop flag is seen. */
static int s_mux_timeout_ms(const s_mux_t *mx, int64_t now)
{
    int64_t next = s_timers_next(&mx->timers);
    if (next > now + 10000000)
        next = now + 10000000;
    int64_t ms = (next - now + 999999) / 1000000;
    return ms > 0 ? (int) ms : 0;
}

/* The thread's timers, ready list and epoll set, every worker's ZMQ_FD registered in it
 * edge-triggered (the fd only says that ZMQ_EVENTS may have changed). Exits on failure,
 * as on out of memory: the main thread is already waiting for this one at the barrier. */
static void s_mux_open(s_mux_t *mx)
{
    int n = mx->count;
    s_timers_init(&mx->timers, n);
    s_ready_init(&mx->ready, n);
    mx->events = calloc((size_t) n, sizeof *mx->events);
    mx->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (!mx->events || mx->epfd < 0) {
        fprintf(stderr, "bench_load: epoll set: %s\n", mx->events ? strerror(errno) : "out of memory");
        exit(1);
    }
    for (int i = 0; i < n; i++) {
        int fd;
        size_t len = sizeof fd;
        struct epoll_event ev = { .events = EPOLLIN | EPOLLET, .data.u32 = (uint32_t) i };
        if (zmq_getsockopt(mx->mw[i].sock, ZMQ_FD, &fd, &len) != 0) {
            fprintf(stderr, "bench_load: ZMQ_FD of socket #%d: %s\n", mx->w[i].id, zmq_strerror(zmq_errno()));
            exit(1);
        }
        if (epoll_ctl(mx->epfd, EPOLL_CTL_ADD, fd, &ev) != 0) {
            fprintf(stderr, "bench_load: epoll_ctl: %s\n", strerror(errno));
            exit(1);
        }
    }
}

static void s_mux_close(s_mux_t *mx)
{
    close(mx->epfd);
    mx->epfd = -1;
    free(mx->events);
    mx->events = NULL;
    s_timers_free(&mx->timers);
    s_ready_free(&mx->ready);
}

/* One driver thread. Each wake-up costs what is due, not W: the timers that expired (a
 * heap) and the sockets whose ZMQ_FD fired (an epoll set) or that a send left readable. */
static void *s_mux_main(void *arg)
{
    s_mux_t *mx = arg;
    s_run_t *run = mx->run;
    int n = mx->count;
    s_mux_open(mx);
    for (int i = 0; i < n; i++) {
        mx->mw[i].state = MW_TO_READY;
        mx->mw[i].wake_ns = 0;
    }
    pthread_barrier_wait(&run->start);
    int64_t t0 = s_now_ns();
    for (int i = 0; i < n; i++) {
        if (run->opts->think_ms > 0)    /* an open workload: start out of step */
            mx->mw[i].wake_ns = t0 + (int64_t) (run->opts->think_ms * s_mux_uniform(&mx->mw[i]) * 1e6);
        s_mux_rearm(mx, i);
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (!s_should_stop(run)) {
        int64_t now = s_now_ns();
        int i;
        while ((i = s_timers_pop_due(&mx->timers, now)) >= 0)
            s_mux_timer(mx, i, now);
        s_mux_drain_ready(mx, &msg);
        int k = epoll_wait(mx->epfd, mx->events, n, s_mux_timeout_ms(mx, s_now_ns()));
        if (k < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "bench_load: epoll_wait: %s\n", strerror(errno));
            break;
        }
        for (int e = 0; e < k; e++)
            s_mux_check(mx, (int) mx->events[e].data.u32);
        s_mux_drain_ready(mx, &msg);
    }
    zmq_msg_close(&msg);
    s_mux_close(mx);
    return NULL;
}

/* Opens the multiplex driver's sockets (one ZeroMQ context, one I/O thread) and starts
 * its threads; they wait on run->start. Returns the context, NULL on failure. */
static void *s_mux_start(s_run_t *run, s_worker_t *w, int n_workers, s_mw_t *mw, s_mux_t *mux, int n_mux)
{
    void *ctx = zmq_ctx_new();
    if (!ctx)
        return NULL;
    int linger = 0;
    int64_t max_size = 1 << 20;
    for (int i = 0; i < n_workers; i++) {
        w[i].run = run;
        w[i].id = i;
        snprintf(mw[i].name, sizeof mw[i].name, "load-w%03d", i);
        mw[i].x = 0x9E3779B97F4A7C15ull * (uint64_t) (i + 1);
        mw[i].sock = zmq_socket(ctx, ZMQ_DEALER);
        if (!mw[i].sock || zmq_setsockopt(mw[i].sock, ZMQ_LINGER, &linger, sizeof linger) != 0
            || zmq_setsockopt(mw[i].sock, ZMQ_MAXMSGSIZE, &max_size, sizeof max_size) != 0
            || zmq_connect(mw[i].sock, run->endpoint) != 0) {
            fprintf(stderr, "bench_load: socket #%d: %s\n", i, zmq_strerror(zmq_errno()));
            for (int j = 0; j <= i; j++)
                if (mw[j].sock)
                    zmq_close(mw[j].sock);
            zmq_ctx_term(ctx);
            return NULL;
        }
    }
    int per = n_workers / n_mux, extra = n_workers % n_mux, first = 0;
    for (int t = 0; t < n_mux; t++) {
        mux[t].run = run;
        mux[t].count = per + (t < extra);
        mux[t].w = w + first;
        mux[t].mw = mw + first;
        first += mux[t].count;
        if (pthread_create(&mux[t].thread, NULL, s_mux_main, &mux[t]) != 0) {
            fprintf(stderr, "bench_load: cannot start a driver thread\n");
            exit(1);
        }
    }
    return ctx;
}

static int s_create_experiment(const char *endpoint)
{
    static const char config[] =
        "{\"name\": \"" S_EXPERIMENT "\","
        " \"parameters\": ["
        "  {\"name\": \"x1\", \"bounds\": [-5.0, 10.0], \"parameter_type\": \"float\"},"
        "  {\"name\": \"x2\", \"bounds\": [0.0, 15.0], \"parameter_type\": \"float\"}],"
        " \"objective\": \"-loss\","
        " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 1},"
        " \"max_trials\": 0}";
    hone_client_t *client = NULL;
    hone_options_t o;
    hone_options_init(&o);
    o.timeout_ms = 10000;
    o.retries = 0;
    int rc = hone_client_open(&client, endpoint, &o);
    if (rc == HONE_OK)
        rc = hone_client_create(client, config, NULL);
    if (rc != HONE_OK)
        fprintf(stderr, "bench_load: cannot create the experiment: %s (%s)\n", hone_err_name(rc),
                hone_client_last_error(client));
    hone_client_destroy(&client);
    return rc;
}

/* ---- one configuration ---- */

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
    s_mem_t mem;                        /* broker memory after the load */
    double store_mib;                   /* data.mdb size */
    bool capped;                        /* fill mode: stopped by --max-seconds */
} s_result_t;

static int s_run_config(const s_opts_t *opts, int n_workers, s_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->workers = n_workers;
    res->disk_syncs = s_probe_fsync(opts->data_root, 1.0);
    s_broker_t broker;
    if (s_broker_start(opts, &broker) != 0) {
        s_broker_stop(opts, &broker);
        return -1;
    }
    fprintf(stderr, "bench_load: %d worker(s), broker pid %ld at %s\n", n_workers, (long) broker.pid,
            broker.endpoint);
    if (s_create_experiment(broker.endpoint) != HONE_OK) {
        s_broker_stop(opts, &broker);
        return -1;
    }

    s_run_t run;
    memset(&run, 0, sizeof run);
    run.opts = opts;
    run.endpoint = broker.endpoint;
    atomic_init(&run.window_start_ns, INT64_MAX);
    atomic_init(&run.window_end_ns, INT64_MAX);
    atomic_init(&run.stop, false);
    atomic_init(&run.stored, 0);
    atomic_init(&run.errors_logged, 0);
    run.metric_names[0] = "loss";
    for (int k = 1; k < opts->metrics; k++) {
        snprintf(run.name_buf[k], sizeof run.name_buf[k], "m%d", k);
        run.metric_names[k] = run.name_buf[k];
    }

    s_worker_t *w = calloc((size_t) n_workers, sizeof *w);
    if (!w) {
        s_broker_stop(opts, &broker);
        return -1;
    }
    int n_mux = opts->threads_driver ? 0 : (opts->mux_threads < n_workers ? opts->mux_threads : n_workers);
    s_mw_t *mw = NULL;
    s_mux_t *mux = NULL;
    void *mux_ctx = NULL;
    if (n_mux > 0) {
        mw = calloc((size_t) n_workers, sizeof *mw);
        mux = calloc((size_t) n_mux, sizeof *mux);
        if (!mw || !mux) {
            fprintf(stderr, "bench_load: out of memory\n");
            exit(1);
        }
        pthread_barrier_init(&run.start, NULL, (unsigned) n_mux + 1);
        mux_ctx = s_mux_start(&run, w, n_workers, mw, mux, n_mux);
        if (!mux_ctx) {
            free(mw);
            free(mux);
            free(w);
            pthread_barrier_destroy(&run.start);
            s_broker_stop(opts, &broker);
            return -1;
        }
    } else {
        hone_options_t o;
        hone_options_init(&o);
        o.timeout_ms = 120000;    /* a queue of 512 synchronous commits is slow, not lost */
        o.retries = 0;            /* a resent ready would leave an extra RUNNING trial */
        int rc = 0;
        for (int i = 0; i < n_workers && rc == 0; i++) {
            char name[32];
            snprintf(name, sizeof name, "load-w%03d", i);
            w[i].run = &run;
            w[i].id = i;
            int hrc = hone_worker_open(&w[i].worker, broker.endpoint, S_EXPERIMENT, name, &o);
            if (hrc != HONE_OK) {
                fprintf(stderr, "bench_load: hone_worker_open #%d: %s\n", i, hone_err_name(hrc));
                rc = -1;
            }
        }
        if (rc != 0) {
            for (int i = 0; i < n_workers; i++)
                hone_worker_destroy(&w[i].worker);
            free(w);
            s_broker_stop(opts, &broker);
            return -1;
        }
        pthread_barrier_init(&run.start, NULL, (unsigned) n_workers + 1);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        for (int i = 0; i < n_workers; i++) {
            if (pthread_create(&w[i].thread, &attr, s_worker_main, &w[i]) != 0) {
                fprintf(stderr, "bench_load: cannot start worker thread %d\n", i);
                exit(1);
            }
        }
        pthread_attr_destroy(&attr);
    }

    int64_t start = s_now_ns();
    pthread_barrier_wait(&run.start);
    pid_t attach = -1;
    double cpu0 = 0, self0 = 0;
    int64_t w0 = 0, w1 = 0;
    if (opts->fill) {
        w0 = start;
        atomic_store(&run.window_start_ns, w0);
        cpu0 = s_read_cpu_s(broker.pid);
        self0 = s_self_cpu_s();
        int64_t last_report = w0;
        uint64_t last_stored = 0;
        while (!atomic_load(&run.stop)) {
            s_sleep_ms(50);
            int64_t now = s_now_ns();
            if (atomic_load(&run.stored) >= opts->fill)
                atomic_store(&run.stop, true);
            if (opts->max_s > 0 && now - w0 >= (int64_t) (opts->max_s * 1e9)) {
                fprintf(stderr, "bench_load: --max-seconds %.0f reached before %" PRIu64 " readings\n",
                        opts->max_s, opts->fill);
                res->capped = true;
                atomic_store(&run.stop, true);
            }
            if (now - last_report > 10 * 1000000000LL) {
                uint64_t stored = atomic_load(&run.stored);
                fprintf(stderr, "bench_load: %" PRIu64 " readings stored after %.0f s (%.0f/s lately)\n",
                        stored, (double) (now - w0) / 1e9,
                        (double) (stored - last_stored) * 1e9 / (double) (now - last_report));
                last_report = now;
                last_stored = stored;
            }
        }
        w1 = s_now_ns();
        atomic_store(&run.window_end_ns, w1);
    } else {
        s_sleep_ms((int) (opts->warmup_s * 1000));
        if (opts->attach)
            attach = s_attach_start(opts->attach, broker.pid, n_workers);
        cpu0 = s_read_cpu_s(broker.pid);
        self0 = s_self_cpu_s();
        w0 = s_now_ns();
        atomic_store(&run.window_start_ns, w0);
        atomic_store(&run.window_end_ns, w0 + (int64_t) (opts->duration_s * 1e9));
        s_sleep_ms((int) (opts->duration_s * 1000));
        w1 = s_now_ns();
        atomic_store(&run.window_end_ns, w1);
    }
    double cpu1 = s_read_cpu_s(broker.pid);
    double self1 = s_self_cpu_s();
    if (attach > 0) {
        kill(attach, SIGINT);
        int status;
        waitpid(attach, &status, 0);
    }
    atomic_store(&run.stop, true);
    if (n_mux > 0) {
        for (int t = 0; t < n_mux; t++)
            pthread_join(mux[t].thread, NULL);
    } else {
        for (int i = 0; i < n_workers; i++)
            pthread_join(w[i].thread, NULL);
    }
    s_read_mem(broker.pid, &res->mem);
    res->store_mib = s_store_mib(&broker);

    res->window_s = (double) (w1 - w0) / 1e9;
    res->cpu_pct = cpu0 >= 0 && cpu1 >= 0 ? 100.0 * (cpu1 - cpu0) / res->window_s : NAN;
    res->workers_cpu_pct = 100.0 * (self1 - self0) / res->window_s;
    for (int i = 0; i < n_workers; i++) {
        res->readings += w[i].readings;
        res->messages += w[i].messages;
        res->trials += w[i].trials;
        res->errors += w[i].errors;
    }
    if (opts->fill)
        res->readings = atomic_load(&run.stored);
    s_samples_t assign = s_merge(w, n_workers, offsetof(s_worker_t, assign));
    s_samples_t ack = s_merge(w, n_workers, offsetof(s_worker_t, ack));
    res->assign_p50 = s_percentile(&assign, 0.50);
    res->assign_p99 = s_percentile(&assign, 0.99);
    res->ack_p50 = s_percentile(&ack, 0.50);
    res->ack_p99 = s_percentile(&ack, 0.99);
    fprintf(stderr, "bench_load: %zu assignment and %zu reading-ack samples\n", assign.n, ack.n);
    free(assign.v);
    free(ack.v);

    for (int i = 0; i < n_workers; i++) {
        if (n_mux > 0)
            zmq_close(mw[i].sock);
        else
            hone_worker_destroy(&w[i].worker);
        free(w[i].assign.v);
        free(w[i].ack.v);
    }
    if (mux_ctx)
        zmq_ctx_term(mux_ctx);
    free(mw);
    free(mux);
    free(w);
    pthread_barrier_destroy(&run.start);
    s_broker_stop(opts, &broker);
    return 0;
}

/* ---- command line ---- */

static void s_usage(FILE *out)
{
    fprintf(out,
            "usage: bench_load [options]\n"
            "  --broker PATH       hone-broker executable (default: ../broker/hone-broker next to this program)\n"
            "  --workers LIST      worker counts, one fresh broker each (default 1,64,512)\n"
            "  --duration S        measurement window in seconds (default 10)\n"
            "  --warmup S          excluded start of each run (default 2)\n"
            "  --readings R        progress readings per trial (default 10)\n"
            "  --metrics M         metrics per reading message (default 1, at most %d)\n"
            "  --fill N            fill mode: run until N readings are stored, report memory\n"
            "                      (workers: the first of --workers, default 512)\n"
            "  --max-seconds S     fill mode: stop after S seconds even if N is not reached (default: no cap)\n"
            "  --label TEXT        first column of the rows (default \"baseline\")\n"
            "  --broker-arg ARG    extra argument for hone-broker (repeatable)\n"
            "  --data-root DIR     parent of the temporary store directories (default $TMPDIR or /tmp;\n"
            "                      a real disk, not tmpfs, or the commits are not durable)\n"
            "  --attach CMD        run CMD (via sh) during the window, stop it with SIGINT at its end;\n"
            "                      %%p is the broker's pid, %%w the worker count\n"
            "  --driver D          how the W workers are simulated (default multiplex):\n"
            "                      multiplex: raw DEALER sockets speaking the protocol, polled together\n"
            "                      by --driver-threads threads (default 1), a state machine per worker;\n"
            "                      threads: one thread and one libhone worker handle per worker\n"
            "  --driver-threads N  multiplex: driving threads (default 1; more than the cores is pointless)\n"
            "  --think-ms T        multiplex: simulated evaluation time between receiving a trial and\n"
            "                      its first report, uniform in [T/2, 3T/2], heartbeats sent meanwhile;\n"
            "                      first ready spread over [0, T] (default 0: a closed loop, no think time)\n"
            "  --keep              keep the store directories\n"
            "  --no-header         print only the table rows\n",
            S_MAX_METRICS);
}

static int s_parse_workers(const char *text, s_opts_t *opts)
{
    opts->n_workers = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || opts->n_workers == S_MAX_CONFIGS)
            return -1;
        opts->workers[opts->n_workers++] = (int) v;
        p = end;
        if (*p == ',')
            p++;
        else if (*p)
            return -1;
    }
    return opts->n_workers > 0 ? 0 : -1;
}

static double s_parse_positive(const char *name, const char *text)
{
    char *end;
    double v = strtod(text, &end);
    if (end == text || *end || !(v > 0)) {
        fprintf(stderr, "bench_load: %s must be a positive number, not '%s'\n", name, text);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static char default_broker[4096];
    s_opts_t opts = {
        .label = "baseline", .readings = 10, .metrics = 1, .duration_s = 10, .warmup_s = 2,
        .header = true, .mux_threads = 1,
    };
    const char *tmp = getenv("TMPDIR");
    opts.data_root = tmp && *tmp ? tmp : "/tmp";
    s_parse_workers("1,64,512", &opts);
    bool workers_given = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            s_usage(stdout);
            return 0;
        } else if (!strcmp(a, "--keep")) {
            opts.keep = true;
            takes = false;
        } else if (!strcmp(a, "--no-header")) {
            opts.header = false;
            takes = false;
        } else if (!v) {
            fprintf(stderr, "bench_load: %s needs a value (see --help)\n", a);
            return 2;
        } else if (!strcmp(a, "--broker")) {
            opts.broker = v;
        } else if (!strcmp(a, "--workers")) {
            if (s_parse_workers(v, &opts) != 0) {
                fprintf(stderr, "bench_load: --workers takes a list such as 1,64,512 (1..4096 each)\n");
                return 2;
            }
            workers_given = true;
        } else if (!strcmp(a, "--duration")) {
            opts.duration_s = s_parse_positive(a, v);
        } else if (!strcmp(a, "--warmup")) {
            opts.warmup_s = s_parse_positive(a, v);
        } else if (!strcmp(a, "--readings")) {
            opts.readings = (int) s_parse_positive(a, v);
        } else if (!strcmp(a, "--metrics")) {
            opts.metrics = (int) s_parse_positive(a, v);
            if (opts.metrics > S_MAX_METRICS) {
                fprintf(stderr, "bench_load: --metrics is at most %d\n", S_MAX_METRICS);
                return 2;
            }
        } else if (!strcmp(a, "--fill")) {
            opts.fill = (uint64_t) s_parse_positive(a, v);
        } else if (!strcmp(a, "--max-seconds")) {
            opts.max_s = s_parse_positive(a, v);
        } else if (!strcmp(a, "--label")) {
            opts.label = v;
        } else if (!strcmp(a, "--broker-arg")) {
            if (opts.n_broker_args == S_MAX_BROKER_ARGS) {
                fprintf(stderr, "bench_load: too many --broker-arg\n");
                return 2;
            }
            opts.broker_args[opts.n_broker_args++] = v;
        } else if (!strcmp(a, "--data-root")) {
            opts.data_root = v;
        } else if (!strcmp(a, "--attach")) {
            opts.attach = v;
        } else if (!strcmp(a, "--driver")) {
            if (!strcmp(v, "threads")) {
                opts.threads_driver = true;
            } else if (!strcmp(v, "multiplex")) {
                opts.threads_driver = false;
            } else {
                fprintf(stderr, "bench_load: --driver is multiplex or threads, not '%s'\n", v);
                return 2;
            }
        } else if (!strcmp(a, "--driver-threads")) {
            opts.mux_threads = (int) s_parse_positive(a, v);
        } else if (!strcmp(a, "--think-ms")) {
            char *end;
            opts.think_ms = strtod(v, &end);
            if (end == v || *end || !(opts.think_ms >= 0)) {
                fprintf(stderr, "bench_load: --think-ms must be a number >= 0, not '%s'\n", v);
                return 2;
            }
        } else {
            fprintf(stderr, "bench_load: unknown option '%s' (see --help)\n", a);
            return 2;
        }
        if (takes)
            i++;
    }
    if (!opts.broker) {
        char self[3072];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "bench_load: cannot find hone-broker; pass --broker\n");
            return 2;
        }
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash)
            *slash = '\0';
        snprintf(default_broker, sizeof default_broker, "%s/../broker/hone-broker", self);
        opts.broker = default_broker;
    }
    if (access(opts.broker, X_OK) != 0) {
        fprintf(stderr, "bench_load: %s is not executable (pass --broker)\n", opts.broker);
        return 2;
    }
    if (opts.fill && !workers_given) {
        opts.workers[0] = 512;
        opts.n_workers = 1;
    }
    /* Every SDK handle owns a ZeroMQ context (2 threads, ~6 descriptors) and a socket. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);

    if (opts.threads_driver && opts.think_ms > 0) {
        fprintf(stderr, "bench_load: --think-ms needs --driver multiplex\n");
        return 2;
    }
    char driver[64];
    if (opts.threads_driver)
        snprintf(driver, sizeof driver, "threads");
    else if (opts.think_ms > 0)
        snprintf(driver, sizeof driver, "multiplex, think %g ms", opts.think_ms);
    else
        snprintf(driver, sizeof driver, "multiplex");
    int status = 0;
    if (opts.header) {
        if (opts.fill) {
            printf("| label | driver | workers | metrics/msg | stored readings | trials completed | wall s | readings/s "
                   "| broker CPU %% | workers CPU %% | disk fdatasync/s | broker VmHWM MiB | RssAnon MiB | RssFile MiB "
                   "| data.mdb MiB | errors |\n");
            printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        } else {
            printf("| label | driver | workers | R × M | window s | trials/s | acked readings/s | acked msgs/s "
                   "| assign p50 ms | assign p99 ms | reading ack p50 ms | reading ack p99 ms "
                   "| broker CPU %% | workers CPU %% | disk fdatasync/s | broker VmHWM MiB | errors |\n");
            printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        }
        fflush(stdout);
    }
    for (int c = 0; c < opts.n_workers; c++) {
        s_result_t r;
        if (s_run_config(&opts, opts.workers[c], &r) != 0) {
            status = 1;
            continue;
        }
        if (r.errors)
            status = 1;
        if (opts.fill) {
            printf("| %s | %s | %d | %d | %" PRIu64 "%s | %" PRIu64 " | %.1f | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %" PRIu64 " |\n",
                   opts.label, driver, r.workers, opts.metrics, r.readings,
                   r.capped ? " (stopped by --max-seconds)" : "", r.trials, r.window_s,
                   (double) r.readings / r.window_s, r.cpu_pct, r.workers_cpu_pct, r.disk_syncs,
                   r.mem.vm_hwm_mib, r.mem.rss_anon_mib,
                   r.mem.rss_file_mib, r.store_mib, r.errors);
        } else {
            printf("| %s | %s | %d | %d × %d | %.1f | %.1f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.1f | %" PRIu64 " |\n",
                   opts.label, driver, r.workers, opts.readings, opts.metrics, r.window_s,
                   (double) r.trials / r.window_s, (double) r.readings / r.window_s,
                   (double) r.messages / r.window_s, r.assign_p50, r.assign_p99, r.ack_p50, r.ack_p99,
                   r.cpu_pct, r.workers_cpu_pct, r.disk_syncs, r.mem.vm_hwm_mib, r.errors);
        }
        fflush(stdout);
    }
    return status;
}
