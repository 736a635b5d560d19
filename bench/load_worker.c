/* load_worker.c: a simulated worker. It asks for a trial, reports R progress readings of
 * M metrics, completes the trial, and counts what was acknowledged inside the window.
 * Threads driver: a blocking loop over a libhone worker handle, in its own thread.
 * Multiplex driver: the same loop as a state machine over raw protocol frames
 * (load_proto.c), driven by a load_mux.c thread with many others. */
#define _GNU_SOURCE
#include "bench_load.h"

#include <zmq.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static void s_error(load_worker_t *w, const char *what, int rc)
{
    w->errors++;
    if (atomic_fetch_add(&w->run->errors_logged, 1) < 10)
        fprintf(stderr, "bench_load: worker %d: %s: %s (%s)\n", w->id, what, hone_err_name(rc),
                hone_worker_last_error(w->worker));
}

static bool s_in_window(const load_run_t *run, int64_t t)
{
    return t >= atomic_load(&run->window_start_ns) && t < atomic_load(&run->window_end_ns);
}

/* One acknowledged request with `readings` readings, at time t. */
static void s_acked(load_worker_t *w, int64_t t, int readings)
{
    if (w->run->opts->fill)
        atomic_fetch_add(&w->run->stored, (uint_fast64_t) readings);
    if (s_in_window(w->run, t)) {
        w->messages++;
        w->readings += (uint64_t) readings;
    }
}

void *load_worker_main(void *arg)
{
    load_worker_t *w = arg;
    load_run_t *run = w->run;
    const load_opts_t *opts = run->opts;
    int m = opts->metrics;
    double means[LOAD_MAX_METRICS], sems[LOAD_MAX_METRICS];
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t) (w->id + 1);
    pthread_barrier_wait(&run->start);
    while (!load_run_should_stop(run)) {
        hone_trial_t *trial = NULL;
        int64_t t0 = load_now_ns();
        int rc = hone_worker_next(w->worker, &trial, 0);
        int64_t t1 = load_now_ns();
        if (rc != HONE_OK) {
            s_error(w, "next", rc);
            load_sleep_ms(100);
            continue;
        }
        if (s_in_window(run, t0))
            load_stats_add(&w->assign, (double) (t1 - t0) / 1e6);
        s_acked(w, t1, 0);
        uint64_t index = hone_trial_index(trial);
        hone_trial_destroy(&trial);
        bool alive = true;
        for (int r = 1; r <= opts->readings && alive && !load_run_should_stop(run); r++) {
            for (int k = 0; k < m; k++) {
                x ^= x << 13; x ^= x >> 7; x ^= x << 17;
                means[k] = 1.0 / r + (double) (x >> 11) * 0x1.0p-53 * 0.01;
                sems[k] = 0.01;
            }
            t0 = load_now_ns();
            rc = hone_worker_report(w->worker, index, (size_t) m, run->metric_names, means, sems, true, r);
            t1 = load_now_ns();
            if (rc != HONE_OK) {
                s_error(w, "report", rc);
                alive = false;
                break;
            }
            if (s_in_window(run, t0))
                load_stats_add(&w->ack, (double) (t1 - t0) / 1e6);
            s_acked(w, t1, m);
        }
        if (!alive || atomic_load(&run->stop))
            continue;       /* the trial stays RUNNING: the run is over */
        for (int k = 0; k < m; k++) {
            means[k] = 1.0 / (opts->readings + 1);
            sems[k] = 0.01;
        }
        rc = hone_worker_complete(w->worker, index, (size_t) m, run->metric_names, means, sems);
        t1 = load_now_ns();
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

static void s_mux_error(load_worker_t *w, const char *what, int code, const char *text)
{
    w->errors++;
    if (atomic_fetch_add(&w->run->errors_logged, 1) < 10)
        fprintf(stderr, "bench_load: worker %d: %s: %s (%s)\n", w->id, what, hone_err_name(code), text);
}

/* Uniform in [0, 1) from the worker's xorshift state. */
double load_worker_uniform(load_mw_t *mw)
{
    mw->x ^= mw->x << 13; mw->x ^= mw->x >> 7; mw->x ^= mw->x << 17;
    return (double) (mw->x >> 11) * 0x1.0p-53;
}

/* Sends request `kind` for worker i; it becomes the awaited one unless it is a heartbeat. */
int load_worker_send(load_mux_t *mx, int i, int kind, int64_t now)
{
    load_run_t *run = mx->run;
    const load_opts_t *opts = run->opts;
    load_mw_t *mw = &mx->mw[i];
    double means[LOAD_MAX_METRICS], sems[LOAD_MAX_METRICS];
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
    int rc = load_proto_encode(kind, seq, LOAD_EXPERIMENT, mw->name, mw->trial, mw->lease, m, run->metric_names,
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
void load_worker_report_first(load_mux_t *mx, int i, int64_t now)
{
    load_mw_t *mw = &mx->mw[i];
    mw->r = 1;
    if (load_worker_send(mx, i, mx->run->opts->readings > 0 ? LP_PROGRESS : LP_COMPLETE, now) != 0) {
        mw->state = MW_TO_READY;
        mw->wake_ns = now + 100000000;
    }
}

void load_worker_to_ready(load_mux_t *mx, int i, int64_t now)
{
    load_mw_t *mw = &mx->mw[i];
    mw->trial = 0;
    mw->lease = 0;
    if (load_worker_send(mx, i, LP_READY, now) != 0) {
        mw->state = MW_TO_READY;
        mw->wake_ns = now + 100000000;
    }
}

void load_worker_reply(load_mux_t *mx, int i, const uint8_t *data, size_t size)
{
    load_run_t *run = mx->run;
    const load_opts_t *opts = run->opts;
    load_mw_t *mw = &mx->mw[i];
    load_worker_t *w = &mx->w[i];
    int kind, code;
    uint64_t seq, trial, lease;
    int64_t hb, retry;
    char text[256];
    int64_t now = load_now_ns();
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
            load_stats_add(&w->assign, (double) (now - mw->sent_ns) / 1e6);
        s_acked(w, now, 0);
        mw->trial = trial;
        mw->lease = lease;
        mw->heartbeat_ms = hb > 0 ? hb : 1000;
        if (opts->think_ms > 0) {
            mw->state = MW_THINK;
            mw->wake_ns = now + (int64_t) (opts->think_ms * (0.5 + load_worker_uniform(mw)) * 1e6);
            mw->beat_ns = now;
        } else {
            load_worker_report_first(mx, i, now);
        }
        break;
    case MW_WAIT_PROGRESS:
        if (s_in_window(run, mw->sent_ns))
            load_stats_add(&w->ack, (double) (now - mw->sent_ns) / 1e6);
        s_acked(w, now, opts->metrics);
        if (++mw->r <= opts->readings) {
            if (load_worker_send(mx, i, LP_PROGRESS, now) != 0) {
                mw->state = MW_TO_READY;
                mw->wake_ns = now + 100000000;
            }
        } else if (load_worker_send(mx, i, LP_COMPLETE, now) != 0) {
            mw->state = MW_TO_READY;
            mw->wake_ns = now + 100000000;
        }
        break;
    case MW_WAIT_COMPLETE:
        s_acked(w, now, opts->metrics);
        if (s_in_window(run, now))
            w->trials++;
        load_worker_to_ready(mx, i, now);
        break;
    default:
        break;                          /* MW_TO_READY, MW_THINK: nothing awaited */
    }
}
