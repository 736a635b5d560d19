#define _GNU_SOURCE
/* The durability crash loop (issue 4, promise 3): at least 20 rounds of
 *
 *   start hone-broker on the same store → several workers (threads of this process, each
 *   with its own libhone worker handle and name) do random ready / progress / complete /
 *   fail → SIGKILL the broker at a random moment 10–300 ms into the round → restart it
 *
 * (the experiments have a budget of 300 trials (and 300 failures) each, so that every `list` reply stays
 * small however fast the disk is: a worker whose experiment is used up moves on to the
 * next one, crash-0, crash-1, ..., which the test creates ahead of time)
 *
 * and after every restart, checked with a client:
 *   - every ACKNOWLEDGED reading is stored with its value (each progress step writes its
 *     own metric "s<step>", so the list shows every one of them, not only the latest);
 *   - every acknowledged status (COMPLETED with its final reading, FAILED) is stored;
 *   - every acknowledged hand-out whose trial was not finished is still RUNNING, and the
 *     worker that holds it gets it back when it asks for work (resumption by name);
 *   - no trial is ever handed to two workers, nor handed out again once finished, and
 *     no more trials are RUNNING than there are workers;
 *   - the store opened cleanly: the broker's log since the restart has the store's
 *     "opened ... cleanly" line, the registry loaded the experiment, the broker is
 *     listening, and no ERROR was logged.
 * A request whose reply did not arrive (the broker died first) may or may not have been
 * stored; the checks accept both, and the worker asks again after the restart.
 *
 * Everything is on loopback (an ipc:// socket in the test's temporary directory). The
 * loop runs once per commit mode (group, the default, and per-message), ~12-20 s each.
 * Seeds are fixed (the kill moments and the workers' choices are drawn from rand_r),
 * though what a kill interrupts depends on scheduling.
 *
 * The test does catch a broker that acknowledges before its commit: with the replies of
 * a group-commit batch sent before the batch's commit instead of after it, the group
 * loop failed in round 1, 2 and 4 of three runs (a reading or a COMPLETED status
 * acknowledged but not stored), while the per-message loop, untouched by that change,
 * passed: a SIGKILL during the commit's fdatasync loses the transaction, whose meta page
 * LMDB writes only after that sync. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hone.h"
#include "proc.h"
#include "sdk_peers.h"
#include "test_support.h"

#define ROUNDS 20               /* at least this many kill-and-restart rounds */
#define WORKERS 6               /* worker threads, named w0 .. w5 */
#define STEPS 4                 /* progress steps per trial at most */
#define EXPERIMENTS 256         /* crash-0, crash-1, ...: a worker moves on when one is used up */
#define TRIALS_PER_EXP 300      /* max_trials and max_failures of each: keeps every `list` reply small */
#define SLOTS_PER_EXP (2 * TRIALS_PER_EXP) /* failed trials are replaced: at most this many */
#define KILL_MIN_MS 10
#define KILL_MAX_MS 300
#define REPLY_TIMEOUT_MS 400    /* a worker gives up on a reply (the broker is dead) */

enum { FINAL_NONE = 0, FINAL_COMPLETED = 1, FINAL_FAILED = 2 };

/* What the test process knows about one trial: only what was acknowledged, plus what
 * was sent without an answer (which the broker may or may not have stored). */
typedef struct {
    int owner;                  /* worker an acknowledged hand-out went to, -1: none */
    int final_acked;            /* FINAL_*: acknowledged terminal status */
    int final_sent;             /* FINAL_*: a terminal request sent without its answer */
    bool step_acked[STEPS + 1]; /* step k's reading was acknowledged */
} trial_rec_t;

typedef struct {
    int exp;                    /* the experiment it works on (and holds its trial in) */
    int held;                   /* trial this worker holds (acknowledged hand-out), -1 */
    bool uncertain;             /* its last request on it got no answer */
    int next_step;              /* next progress step to report */
    unsigned seed;              /* rand_r state */
    uint64_t acks;              /* acknowledged requests, all rounds */
} worker_state_t;

typedef struct {
    hone_test_broker_t *broker; /* on ipc://DIR/broker.sock, one store and log for every round */
    const char *commit;         /* hone-broker --commit value */
    pthread_mutex_t lock;       /* guards trials, violation */
    trial_rec_t *trials;        /* the ledger: [experiment × SLOTS_PER_EXP + trial] */
    atomic_int created;         /* experiments created so far */
    char violation[512];        /* the first broken promise seen by a worker thread */
    worker_state_t workers[WORKERS];
    atomic_bool stop;           /* the round is over */
} fixture_t;

typedef struct {
    fixture_t *f;
    int index;                  /* which worker */
} worker_arg_t;

static double s_value(uint32_t trial, int step) { return (double) trial * 1000.0 + (double) step; }

static void s_violation(fixture_t *f, const char *fmt, ...)
{
    pthread_mutex_lock(&f->lock);
    if (!f->violation[0]) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->violation, sizeof f->violation, fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&f->lock);
}

/* An error that only says the broker is gone (killed mid-request). */
static bool s_broker_gone(int rc)
{
    return rc == HONE_ETIMEDOUT || rc == HONE_EINTR || rc == HONE_EIO;
}

/* ---- the broker ---- */

static size_t s_file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (size_t) st.st_size : 0;
}

/* Starts hone-broker on the store; returns once it listens. *log_from is where its log
 * starts. */
static void s_start_broker(fixture_t *f, size_t *log_from)
{
    *log_from = s_file_size(f->broker->log);
    assert_int_equal(hone_test_broker_start(f->broker, (const char *[]) { "--commit", f->commit, NULL }), 0);
}

/* The broker's log since log_from: the store opened cleanly and nothing went wrong. */
static void s_check_clean_open(const fixture_t *f, size_t log_from, int round, int experiments)
{
    char loaded[64];
    snprintf(loaded, sizeof loaded, "loaded %d experiment(s)", experiments);
    char *log = hone_test_read_file(f->broker->log, NULL);
    assert_non_null(log);
    const char *since = log + log_from;
    const char *opened = strstr(since, "[store] opened");
    if (!opened || !strstr(opened, "cleanly") || !strstr(since, loaded)
        || !strstr(since, "listening on") || strstr(since, "ERROR"))
        fail_msg("round %d: the store did not open cleanly; broker log since the restart:\n%s", round, since);
    free(log);
}

/* ---- the workers ---- */

static trial_rec_t *s_rec(fixture_t *f, int exp, uint32_t idx)
{
    return &f->trials[(size_t) exp * SLOTS_PER_EXP + idx];
}

/* Records an acknowledged hand-out of trial idx of the worker's experiment to worker w. */
static void s_handed(fixture_t *f, worker_state_t *ws, int w, uint32_t idx)
{
    if (idx >= SLOTS_PER_EXP) {
        s_violation(f, "crash-%d: trial index %u beyond max_trials + max_failures", ws->exp, idx);
        return;
    }
    pthread_mutex_lock(&f->lock);
    trial_rec_t *t = s_rec(f, ws->exp, idx);
    bool twice = t->owner >= 0 && t->owner != w;
    bool finished = t->final_acked != FINAL_NONE;
    int before = t->owner;
    t->owner = w;
    pthread_mutex_unlock(&f->lock);
    if (twice)
        s_violation(f, "trial crash-%d#%u handed to w%d while w%d holds it", ws->exp, idx, w, before);
    else if (finished)
        s_violation(f, "trial crash-%d#%u handed to w%d again after its acknowledged end", ws->exp, idx, w);
    if (ws->held >= 0 && (uint32_t) ws->held != idx) {
        /* the worker's previous trial was acknowledged to it and not finished (or the
         * worker would not hold it): the broker must resume it unless the unanswered
         * terminal request was stored */
        pthread_mutex_lock(&f->lock);
        bool maybe_ended = s_rec(f, ws->exp, (uint32_t) ws->held)->final_sent != FINAL_NONE;
        pthread_mutex_unlock(&f->lock);
        if (!maybe_ended)
            s_violation(f, "w%d holds trial crash-%d#%d but was handed #%u instead of resuming it", w, ws->exp,
                        ws->held, idx);
    }
    if (ws->held != (int) idx) {
        ws->next_step = 1;
        pthread_mutex_lock(&f->lock);
        for (int s = STEPS; s >= 1; s--)
            if (s_rec(f, ws->exp, idx)->step_acked[s]) {
                ws->next_step = s + 1;
                break;
            }
        pthread_mutex_unlock(&f->lock);
    }
    ws->held = (int) idx;
    ws->uncertain = false;
}

/* The broker has no trial for the worker in its experiment (budget used up): a trial it
 * held must have ended (its unanswered terminal request was stored), or it would have
 * been resumed. Then the worker moves on to the next experiment. */
static void s_no_work(fixture_t *f, worker_state_t *ws, int w)
{
    if (ws->held >= 0) {
        pthread_mutex_lock(&f->lock);
        bool maybe_ended = s_rec(f, ws->exp, (uint32_t) ws->held)->final_sent != FINAL_NONE;
        pthread_mutex_unlock(&f->lock);
        if (!maybe_ended)
            s_violation(f, "w%d holds trial crash-%d#%d but was told there is no work", w, ws->exp, ws->held);
        ws->held = -1;
        ws->uncertain = false;
    }
    if (ws->exp + 1 < atomic_load(&f->created))
        ws->exp++;
    else
        hone_test_sleep_ms(5);  /* the main thread creates more before the next round */
}

static void *s_worker(void *arg)
{
    worker_arg_t *wa = arg;
    fixture_t *f = wa->f;
    int w = wa->index;
    worker_state_t *ws = &f->workers[w];
    char name[16];
    snprintf(name, sizeof name, "w%d", w);
    /* never send a request twice: an answer is about this one */
    hone_options_t opts = hone_test_options(REPLY_TIMEOUT_MS, 0);
    hone_worker_t *worker = NULL;
    int worker_exp = -1;        /* the experiment of the worker handle */
    while (!atomic_load(&f->stop)) {
        int rc;
        if (worker_exp != ws->exp) {
            hone_worker_destroy(&worker);
            char experiment[32];
            snprintf(experiment, sizeof experiment, "crash-%d", ws->exp);
            if (hone_worker_open(&worker, f->broker->endpoint, experiment, name, &opts) != HONE_OK) {
                s_violation(f, "w%d cannot open a worker", w);
                break;
            }
            worker_exp = ws->exp;
        }
        if (ws->held < 0 || ws->uncertain) {
            hone_trial_t *t = NULL;
            rc = hone_worker_next(worker, &t, 0);
            if (rc == HONE_OK) {
                uint32_t idx = (uint32_t) hone_trial_index(t);
                hone_trial_destroy(&t);
                s_handed(f, ws, w, idx);
                ws->acks++;
                continue;
            }
            if (rc == HONE_EAGAIN || rc == HONE_EDONE) {
                s_no_work(f, ws, w);
                continue;
            }
            if (!s_broker_gone(rc))
                s_violation(f, "w%d: ready: %s %s", w, hone_err_name(rc), hone_worker_last_error(worker));
            break;
        }
        uint32_t idx = (uint32_t) ws->held;
        int r = (int) (rand_r(&ws->seed) % 10);
        if (ws->next_step <= STEPS && r < 6) {
            int step = ws->next_step;
            char metric[16];
            snprintf(metric, sizeof metric, "s%d", step);
            const char *names[] = { metric };
            double mean = s_value(idx, step);
            rc = hone_worker_report(worker, idx, 1, names, &mean, NULL, true, step);
            if (rc == HONE_OK) {
                pthread_mutex_lock(&f->lock);
                s_rec(f, ws->exp, idx)->step_acked[step] = true;
                pthread_mutex_unlock(&f->lock);
                ws->next_step++;
                ws->acks++;
                continue;
            }
        } else {
            bool complete = r < 9 || ws->next_step > STEPS;
            int final = complete ? FINAL_COMPLETED : FINAL_FAILED;
            pthread_mutex_lock(&f->lock);
            s_rec(f, ws->exp, idx)->final_sent = final;
            pthread_mutex_unlock(&f->lock);
            if (complete) {
                const char *names[] = { "y" };
                double mean = s_value(idx, 99);
                rc = hone_worker_complete(worker, idx, 1, names, &mean, NULL);
            } else {
                rc = hone_worker_fail(worker, idx, "chosen at random");
            }
            if (rc == HONE_OK) {
                pthread_mutex_lock(&f->lock);
                s_rec(f, ws->exp, idx)->final_acked = final;
                pthread_mutex_unlock(&f->lock);
                ws->held = -1;
                ws->acks++;
                continue;
            }
        }
        if (!s_broker_gone(rc))
            s_violation(f, "w%d: trial crash-%d#%u: %s %s", w, ws->exp, idx, hone_err_name(rc),
                        hone_worker_last_error(worker));
        ws->uncertain = true;   /* stored or not: ask again after the restart */
        break;
    }
    hone_worker_destroy(&worker);
    return NULL;
}

/* ---- checks against the restarted broker ---- */

static double s_metric(const hone_trial_t *t, const char *metric)
{
    for (size_t i = 0; i < hone_trial_metric_count(t); i++)
        if (strcmp(hone_trial_metric_name(t, i), metric) == 0)
            return hone_trial_metric_mean(t, i);
    return NAN;
}

static void s_check_experiment(fixture_t *f, hone_client_t *client, int exp, int round, uint64_t *checked,
                               size_t *running_total)
{
    char experiment[32];
    snprintf(experiment, sizeof experiment, "crash-%d", exp);
    hone_trial_list_t *list = NULL;
    int rc = hone_client_list(client, experiment, &list);
    if (rc != HONE_OK)
        fail_msg("round %d: list %s: %s", round, experiment, hone_client_last_error(client));
    size_t n = hone_trial_list_count(list);
    assert_true(n <= SLOTS_PER_EXP);
    for (size_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        assert_int_equal(hone_trial_index(t), i);       /* numbering has no gap */
        if (strcmp(hone_trial_status(t), "RUNNING") == 0)
            (*running_total)++;
    }
    for (uint32_t i = 0; i < SLOTS_PER_EXP; i++) {
        const trial_rec_t *rec = s_rec(f, exp, i);
        bool known = rec->owner >= 0;
        for (int s = 1; s <= STEPS; s++)
            known = known || rec->step_acked[s];
        if (!known)
            continue;
        if (i >= n)
            fail_msg("round %d: trial %s#%u was acknowledged but is not stored (%zu trials)", round, experiment,
                     i, n);
        const hone_trial_t *t = hone_trial_list_at(list, i);
        const char *status = hone_trial_status(t);
        for (int s = 1; s <= STEPS; s++) {
            if (!rec->step_acked[s])
                continue;
            char metric[16];
            snprintf(metric, sizeof metric, "s%d", s);
            double got = s_metric(t, metric);
            if (!(got == s_value(i, s)))
                fail_msg("round %d: trial %s#%u: acknowledged reading %s = %g is %s (%g)", round, experiment, i,
                         metric, s_value(i, s), isnan(got) ? "missing" : "wrong", got);
            (*checked)++;
        }
        if (rec->final_acked == FINAL_COMPLETED) {
            if (strcmp(status, "COMPLETED") != 0 || !(s_metric(t, "y") == s_value(i, 99)))
                fail_msg("round %d: trial %s#%u: acknowledged COMPLETED, stored %s with y = %g", round,
                         experiment, i, status, s_metric(t, "y"));
            (*checked)++;
        } else if (rec->final_acked == FINAL_FAILED) {
            if (strcmp(status, "FAILED") != 0)
                fail_msg("round %d: trial %s#%u: acknowledged FAILED, stored %s", round, experiment, i, status);
            (*checked)++;
        } else if (rec->owner >= 0) {
            /* handed out and not finished: still RUNNING, unless an unanswered terminal
             * request was stored */
            const char *sent = rec->final_sent == FINAL_COMPLETED ? "COMPLETED"
                               : rec->final_sent == FINAL_FAILED  ? "FAILED"
                                                                  : NULL;
            if (strcmp(status, "RUNNING") != 0 && !(sent && strcmp(status, sent) == 0))
                fail_msg("round %d: trial %s#%u: acknowledged to w%d and not finished, stored %s", round,
                         experiment, i, rec->owner, status);
            (*checked)++;
        }
    }
    hone_trial_list_destroy(&list);
}

/* A client with 5 s per attempt and the SDK's retries. */
static hone_client_t *s_client(const fixture_t *f)
{
    return hone_test_client(f->broker->endpoint, 5000, -1);
}

static void s_check_ledger(fixture_t *f, int round, uint64_t *checked)
{
    hone_client_t *client = s_client(f);
    size_t running = 0;
    int used = 0;
    for (int w = 0; w < WORKERS; w++)
        used = f->workers[w].exp > used ? f->workers[w].exp : used;
    for (int exp = 0; exp <= used; exp++)
        s_check_experiment(f, client, exp, round, checked, &running);
    /* each worker name holds at most one RUNNING trial (a `ready` resumes it) */
    if (running > WORKERS)
        fail_msg("round %d: %zu trials RUNNING for %d workers", round, running, WORKERS);
    hone_client_destroy(&client);
}

/* Creates experiments until `upto` exist. A long lease window: the rounds are about
 * durability, not lease expiry. */
static void s_create_experiments(fixture_t *f, int upto)
{
    hone_client_t *client = s_client(f);
    for (int e = atomic_load(&f->created); e < upto && e < EXPERIMENTS; e++) {
        char config[512];
        snprintf(config, sizeof config,
                 "{\"name\": \"crash-%d\", \"objective\": \"y\", \"max_trials\": %d, \"max_failures\": %d,"
                 " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": %d},"
                 " \"leases\": {\"heartbeat_ms\": 10000, \"liveness\": 6},"
                 " \"parameters\": [{\"name\": \"a\", \"bounds\": [0, 1]},"
                 "                  {\"name\": \"b\", \"values\": [\"p\", \"q\", \"r\"]}]}",
                 e, TRIALS_PER_EXP, TRIALS_PER_EXP, 5 + e);
        char *name = NULL;
        if (hone_client_create(client, config, &name) != HONE_OK)
            fail_msg("create crash-%d: %s", e, hone_client_last_error(client));
        hone_strfree(name);
        atomic_store(&f->created, e + 1);
    }
    hone_client_destroy(&client);
}

/* ---- the test ---- */

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->broker = hone_test_broker_new("crash", HONE_TEST_IPC);
    f->trials = calloc((size_t) EXPERIMENTS * SLOTS_PER_EXP, sizeof *f->trials);
    for (size_t i = 0; i < (size_t) EXPERIMENTS * SLOTS_PER_EXP; i++)
        f->trials[i].owner = -1;
    for (int w = 0; w < WORKERS; w++) {
        f->workers[w].held = -1;
        f->workers[w].seed = 1000u + (unsigned) w;
    }
    pthread_mutex_init(&f->lock, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    hone_test_broker_destroy(&f->broker);   /* HONE_TEST_KEEP keeps its directory */
    pthread_mutex_destroy(&f->lock);
    free(f->trials);
    free(f);
    return 0;
}

static double s_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static void s_crash_loop(fixture_t *f)
{
    double start = s_now_s();
    size_t log_from = 0;
    s_start_broker(f, &log_from);
    s_check_clean_open(f, log_from, 0, 0);
    s_create_experiments(f, 8);

    unsigned seed = 20261128;
    uint64_t checked = 0;
    int rounds_with_load = 0;
    for (int round = 1; round <= ROUNDS; round++) {
        /* a few experiments ahead of the busiest worker */
        int used = 0;
        for (int w = 0; w < WORKERS; w++)
            used = f->workers[w].exp > used ? f->workers[w].exp : used;
        s_create_experiments(f, used + 8);
        atomic_store(&f->stop, false);
        pthread_t threads[WORKERS];
        worker_arg_t args[WORKERS];
        uint64_t acks_before = 0;
        for (int w = 0; w < WORKERS; w++)
            acks_before += f->workers[w].acks;
        for (int w = 0; w < WORKERS; w++) {
            args[w] = (worker_arg_t) { f, w };
            assert_int_equal(pthread_create(&threads[w], NULL, s_worker, &args[w]), 0);
        }
        int kill_ms = KILL_MIN_MS + (int) (rand_r(&seed) % (KILL_MAX_MS - KILL_MIN_MS + 1));
        hone_test_sleep_ms(kill_ms);
        int status = hone_test_broker_wait(f->broker, SIGKILL, 5000);
        assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        atomic_store(&f->stop, true);
        for (int w = 0; w < WORKERS; w++)
            pthread_join(threads[w], NULL);
        if (f->violation[0])
            fail_msg("round %d: %s", round, f->violation);
        uint64_t acks = 0;
        for (int w = 0; w < WORKERS; w++)
            acks += f->workers[w].acks;
        if (acks > acks_before)
            rounds_with_load++;

        s_start_broker(f, &log_from);
        s_check_clean_open(f, log_from, round, atomic_load(&f->created));
        uint64_t facts = 0;
        s_check_ledger(f, round, &facts);
        checked += facts;
        fprintf(stderr, "round %2d: killed after %3d ms, %4" PRIu64 " acknowledged request(s) in the round, "
                "%5" PRIu64 " acknowledged facts (all rounds) present after the restart\n", round, kill_ms,
                acks - acks_before, facts);
    }
    uint64_t acks = 0;
    for (int w = 0; w < WORKERS; w++)
        acks += f->workers[w].acks;
    double took = s_now_s() - start;
    fprintf(stderr, "crash loop (--commit %s): %d rounds in %.1f s, %" PRIu64 " acknowledged requests over %d "
            "experiment(s), %" PRIu64 " acknowledged facts checked after restarts\n", f->commit, ROUNDS, took, acks,
            atomic_load(&f->created), checked);
    /* The load really ran, and was still running when the kill came, in most rounds (the
     * workers never stop on their own). */
    assert_true(rounds_with_load >= ROUNDS / 2);
    assert_true(acks > (uint64_t) ROUNDS * 10);
    assert_true(took < 60.0);
}

/* The broker's default: group commit. */
static void test_crash_loop_group_commit(void **state)
{
    fixture_t *f = *state;
    f->commit = "group";
    s_crash_loop(f);
}

/* One commit per message: the same promises, slower. */
static void test_crash_loop_per_message(void **state)
{
    fixture_t *f = *state;
    f->commit = "per-message";
    s_crash_loop(f);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_crash_loop_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_loop_per_message, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
