/* bench_load.c: the broker load benchmark (bench/load.sh drives it; not run by ctest):
 * main and the command line. The files are listed in bench_load.h.
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
#include "bench_load.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

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
            LOAD_MAX_METRICS);
}

static int s_parse_workers(const char *text, load_opts_t *opts)
{
    opts->n_workers = 0;
    const char *p = text;
    while (*p) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 1 || v > 4096 || opts->n_workers == LOAD_MAX_CONFIGS)
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
    load_opts_t opts = {
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
            if (opts.metrics > LOAD_MAX_METRICS) {
                fprintf(stderr, "bench_load: --metrics is at most %d\n", LOAD_MAX_METRICS);
                return 2;
            }
        } else if (!strcmp(a, "--fill")) {
            opts.fill = (uint64_t) s_parse_positive(a, v);
        } else if (!strcmp(a, "--max-seconds")) {
            opts.max_s = s_parse_positive(a, v);
        } else if (!strcmp(a, "--label")) {
            opts.label = v;
        } else if (!strcmp(a, "--broker-arg")) {
            if (opts.n_broker_args == LOAD_MAX_BROKER_ARGS) {
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
    if (opts.header)
        load_stats_print_header(&opts);
    for (int c = 0; c < opts.n_workers; c++) {
        load_result_t r;
        if (load_run_config(&opts, opts.workers[c], &r) != 0) {
            status = 1;
            continue;
        }
        if (r.errors)
            status = 1;
        load_stats_print_row(&opts, driver, &r);
    }
    return status;
}
