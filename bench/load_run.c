/* load_run.c: one configuration of bench_load: probe the disk, start a broker and its
 * experiment, start W simulated workers with one of the two drivers, let them run through
 * the warm-up and the measurement window (or until the fill target), then stop them and
 * collect the counts, the latencies, and the broker's CPU and memory. */
#define _GNU_SOURCE
#include "bench_load.h"

#include <zmq.h>

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

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
    int64_t t0 = load_now_ns(), t = t0;
    long n = 0;
    while (t - t0 < (int64_t) (seconds * 1e9) && n < 1000000) {
        if (pwrite(fd, block, sizeof block, (off_t) n * (off_t) sizeof block) != (ssize_t) sizeof block
            || fdatasync(fd) != 0) {
            close(fd);
            return NAN;
        }
        n++;
        t = load_now_ns();
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

bool load_run_should_stop(load_run_t *run)
{
    if (atomic_load(&run->stop))
        return true;
    if (run->opts->fill && atomic_load(&run->stored) >= run->opts->fill) {
        atomic_store(&run->stop, true);
        return true;
    }
    return false;
}

int load_run_config(const load_opts_t *opts, int n_workers, load_result_t *res)
{
    memset(res, 0, sizeof *res);
    res->workers = n_workers;
    res->disk_syncs = s_probe_fsync(opts->data_root, 1.0);
    load_broker_t broker;
    if (load_broker_start(opts, &broker) != 0) {
        load_broker_stop(opts, &broker);
        return -1;
    }
    fprintf(stderr, "bench_load: %d worker(s), broker pid %ld at %s\n", n_workers, (long) broker.pid,
            broker.endpoint);
    if (load_broker_create_experiment(broker.endpoint) != HONE_OK) {
        load_broker_stop(opts, &broker);
        return -1;
    }

    load_run_t run;
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

    load_worker_t *w = calloc((size_t) n_workers, sizeof *w);
    if (!w) {
        load_broker_stop(opts, &broker);
        return -1;
    }
    int n_mux = opts->threads_driver ? 0 : (opts->mux_threads < n_workers ? opts->mux_threads : n_workers);
    load_mw_t *mw = NULL;
    load_mux_t *mux = NULL;
    void *mux_ctx = NULL;
    if (n_mux > 0) {
        mw = calloc((size_t) n_workers, sizeof *mw);
        mux = calloc((size_t) n_mux, sizeof *mux);
        if (!mw || !mux) {
            fprintf(stderr, "bench_load: out of memory\n");
            exit(1);
        }
        pthread_barrier_init(&run.start, NULL, (unsigned) n_mux + 1);
        mux_ctx = load_mux_start(&run, w, n_workers, mw, mux, n_mux);
        if (!mux_ctx) {
            free(mw);
            free(mux);
            free(w);
            pthread_barrier_destroy(&run.start);
            load_broker_stop(opts, &broker);
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
            int hrc = hone_worker_open(&w[i].worker, broker.endpoint, LOAD_EXPERIMENT, name, &o);
            if (hrc != HONE_OK) {
                fprintf(stderr, "bench_load: hone_worker_open #%d: %s\n", i, hone_err_name(hrc));
                rc = -1;
            }
        }
        if (rc != 0) {
            for (int i = 0; i < n_workers; i++)
                hone_worker_destroy(&w[i].worker);
            free(w);
            load_broker_stop(opts, &broker);
            return -1;
        }
        pthread_barrier_init(&run.start, NULL, (unsigned) n_workers + 1);
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setstacksize(&attr, 256 * 1024);
        for (int i = 0; i < n_workers; i++) {
            if (pthread_create(&w[i].thread, &attr, load_worker_main, &w[i]) != 0) {
                fprintf(stderr, "bench_load: cannot start worker thread %d\n", i);
                exit(1);
            }
        }
        pthread_attr_destroy(&attr);
    }

    int64_t start = load_now_ns();
    pthread_barrier_wait(&run.start);
    pid_t attach = -1;
    double cpu0 = 0, self0 = 0;
    int64_t w0 = 0, w1 = 0;
    if (opts->fill) {
        w0 = start;
        atomic_store(&run.window_start_ns, w0);
        cpu0 = load_broker_cpu_s(broker.pid);
        self0 = s_self_cpu_s();
        int64_t last_report = w0;
        uint64_t last_stored = 0;
        while (!atomic_load(&run.stop)) {
            load_sleep_ms(50);
            int64_t now = load_now_ns();
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
        w1 = load_now_ns();
        atomic_store(&run.window_end_ns, w1);
    } else {
        load_sleep_ms((int) (opts->warmup_s * 1000));
        if (opts->attach)
            attach = load_broker_attach(opts->attach, broker.pid, n_workers);
        cpu0 = load_broker_cpu_s(broker.pid);
        self0 = s_self_cpu_s();
        w0 = load_now_ns();
        atomic_store(&run.window_start_ns, w0);
        atomic_store(&run.window_end_ns, w0 + (int64_t) (opts->duration_s * 1e9));
        load_sleep_ms((int) (opts->duration_s * 1000));
        w1 = load_now_ns();
        atomic_store(&run.window_end_ns, w1);
    }
    double cpu1 = load_broker_cpu_s(broker.pid);
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
    load_broker_read_mem(broker.pid, &res->mem);
    res->store_mib = load_broker_store_mib(&broker);

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
    load_samples_t assign = load_stats_merge(w, n_workers, offsetof(load_worker_t, assign));
    load_samples_t ack = load_stats_merge(w, n_workers, offsetof(load_worker_t, ack));
    res->assign_p50 = load_stats_percentile(&assign, 0.50);
    res->assign_p99 = load_stats_percentile(&assign, 0.99);
    res->ack_p50 = load_stats_percentile(&ack, 0.50);
    res->ack_p99 = load_stats_percentile(&ack, 0.99);
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
    load_broker_stop(opts, &broker);
    return 0;
}
