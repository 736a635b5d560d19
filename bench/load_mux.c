/* load_mux.c: the multiplex driver: one ZeroMQ context, a raw DEALER socket per simulated
 * worker, and --driver-threads threads that each drive their share of the workers from
 * an epoll set of the sockets' ZMQ_FDs, a list of sockets left readable, and a timer heap
 * (load_timers.c). The workers' protocol state machine is in load_worker.c. */
#define _GNU_SOURCE
#include "bench_load.h"

#include <zmq.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void s_ready_init(load_ready_t *r, int workers)
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

static void s_ready_free(load_ready_t *r)
{
    free(r->ring);
    free(r->queued);
    r->ring = NULL;
    r->queued = NULL;
    r->n = 0;
}

static void s_ready_push(load_ready_t *r, int id)
{
    if (r->queued[id])
        return;
    r->queued[id] = true;
    r->ring[(r->head + r->n++) % r->cap] = id;
}

/* The oldest listed worker, removed from the list; -1 if the list is empty. */
static int s_ready_pop(load_ready_t *r)
{
    if (r->n == 0)
        return -1;
    int id = r->ring[r->head];
    r->head = (r->head + 1) % r->cap;
    r->n--;
    r->queued[id] = false;
    return id;
}

/* Whether worker i's socket holds a message, from ZMQ_EVENTS. Reading ZMQ_EVENTS also
 * processes the socket's pending commands, which is what re-arms its ZMQ_FD. On an error
 * (EINTR) the answer is yes: a drain attempt then finds out at the cost of one recv. */
static bool s_mux_readable(load_mux_t *mx, int i)
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
static void s_mux_check(load_mux_t *mx, int i)
{
    if (s_mux_readable(mx, i))
        s_ready_push(&mx->ready, i);
}

/* Sets or clears worker i's timer from its state: the end of a back-off (MW_TO_READY), or
 * the end of thinking or the next heartbeat, whichever comes first (MW_THINK). */
static void s_mux_rearm(load_mux_t *mx, int i)
{
    load_mw_t *mw = &mx->mw[i];
    if (mw->state == MW_TO_READY) {
        load_timers_set(&mx->timers, i, mw->wake_ns);
    } else if (mw->state == MW_THINK) {
        int64_t beat = mw->beat_ns + mw->heartbeat_ms * 1000000;
        load_timers_set(&mx->timers, i, beat < mw->wake_ns ? beat : mw->wake_ns);
    } else {
        load_timers_clear(&mx->timers, i);
    }
}

/* Worker i's timer is due: ready after a back-off, the end of thinking, or a heartbeat
 * while thinking. */
static void s_mux_timer(load_mux_t *mx, int i, int64_t now)
{
    load_mw_t *mw = &mx->mw[i];
    if (mw->state == MW_TO_READY && mw->wake_ns <= now) {
        load_worker_to_ready(mx, i, now);
    } else if (mw->state == MW_THINK) {
        if (mw->wake_ns <= now) {
            load_worker_report_first(mx, i, now);
        } else if (now - mw->beat_ns >= mw->heartbeat_ms * 1000000) {
            mw->beat_ns = now;
            load_worker_send(mx, i, LP_HEARTBEAT, now);
        }
    }
    s_mux_rearm(mx, i);
    s_mux_check(mx, i);
}

/* Receives and handles every message worker i's socket holds. ZMQ_EVENTS is read again
 * after each one because handling a reply sends the next request (see s_mux_check). */
static void s_mux_drain(load_mux_t *mx, int i, zmq_msg_t *msg)
{
    do {
        if (zmq_msg_recv(msg, mx->mw[i].sock, ZMQ_DONTWAIT) < 0) {
            /* EAGAIN: this recv processed the socket's commands, so ZMQ_FD fires for the
             * next message; EINTR: nothing was processed, try again */
            if (zmq_errno() == EINTR)
                s_ready_push(&mx->ready, i);
            break;
        }
        load_worker_reply(mx, i, zmq_msg_data(msg), zmq_msg_size(msg));
    } while (s_mux_readable(mx, i));
    s_mux_rearm(mx, i);
}

/* Drains the listed workers, including any listed meanwhile. */
static void s_mux_drain_ready(load_mux_t *mx, zmq_msg_t *msg)
{
    int i;
    while ((i = s_ready_pop(&mx->ready)) >= 0)
        s_mux_drain(mx, i, msg);
}

/* How long epoll_wait may sleep: until the earliest timer, in ms rounded up, and at most
 * 10 ms so that the stop flag is seen. */
static int s_mux_timeout_ms(const load_mux_t *mx, int64_t now)
{
    int64_t next = load_timers_next(&mx->timers);
    if (next > now + 10000000)
        next = now + 10000000;
    int64_t ms = (next - now + 999999) / 1000000;
    return ms > 0 ? (int) ms : 0;
}

/* The thread's timers, ready list and epoll set, every worker's ZMQ_FD registered in it
 * edge-triggered (the fd only says that ZMQ_EVENTS may have changed). Exits on failure,
 * as on out of memory: the main thread is already waiting for this one at the barrier. */
static void s_mux_open(load_mux_t *mx)
{
    int n = mx->count;
    load_timers_init(&mx->timers, n);
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

static void s_mux_close(load_mux_t *mx)
{
    close(mx->epfd);
    mx->epfd = -1;
    free(mx->events);
    mx->events = NULL;
    load_timers_free(&mx->timers);
    s_ready_free(&mx->ready);
}

/* One driver thread. Each wake-up costs what is due, not W: the timers that expired (a
 * heap) and the sockets whose ZMQ_FD fired (an epoll set) or that a send left readable. */
static void *s_mux_main(void *arg)
{
    load_mux_t *mx = arg;
    load_run_t *run = mx->run;
    int n = mx->count;
    s_mux_open(mx);
    for (int i = 0; i < n; i++) {
        mx->mw[i].state = MW_TO_READY;
        mx->mw[i].wake_ns = 0;
    }
    pthread_barrier_wait(&run->start);
    int64_t t0 = load_now_ns();
    for (int i = 0; i < n; i++) {
        if (run->opts->think_ms > 0)    /* an open workload: start out of step */
            mx->mw[i].wake_ns = t0 + (int64_t) (run->opts->think_ms * load_worker_uniform(&mx->mw[i]) * 1e6);
        s_mux_rearm(mx, i);
    }
    zmq_msg_t msg;
    zmq_msg_init(&msg);
    while (!load_run_should_stop(run)) {
        int64_t now = load_now_ns();
        int i;
        while ((i = load_timers_pop_due(&mx->timers, now)) >= 0)
            s_mux_timer(mx, i, now);
        s_mux_drain_ready(mx, &msg);
        int k = epoll_wait(mx->epfd, mx->events, n, s_mux_timeout_ms(mx, load_now_ns()));
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
void *load_mux_start(load_run_t *run, load_worker_t *w, int n_workers, load_mw_t *mw, load_mux_t *mux, int n_mux)
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
