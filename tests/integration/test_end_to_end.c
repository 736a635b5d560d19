#define _GNU_SOURCE
/* End to end, with real processes on loopback: hone-broker, hone-worker running
 * programs, and the C SDK in this process.
 *
 *  - several hone-workers finish an experiment's budget, and every stored reading is
 *    the true value of the benchmark function at the trial's parameters;
 *  - hone-worker runs the Python example worker;
 *  - the broker is killed with SIGKILL while a worker streams readings, again and again,
 *    and after each restart every acknowledged reading and status is still there and
 *    the experiment carries on;
 *  - hone-workers ride through a broker SIGKILL + restart and still finish the budget. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <math.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "functions.h"
#include "hone.h"
#include "proc.h"
#include "sdk_peers.h"
#include "test_support.h"

/* A client with one attempt of 5 s. */
static hone_client_t *s_client(const hone_test_broker_t *broker)
{
    return hone_test_client(broker->endpoint, 5000, 0);
}

/* The value of metric in trial t, or NAN. */
static double s_metric(const hone_trial_t *t, const char *metric)
{
    for (size_t i = 0; i < hone_trial_metric_count(t); i++)
        if (strcmp(hone_trial_metric_name(t, i), metric) == 0)
            return hone_trial_metric_mean(t, i);
    return NAN;
}

static double s_param(const hone_trial_t *t, const char *name)
{
    size_t i = 0;
    double v = NAN;
    assert_int_equal(hone_trial_param_find(t, name, &i), HONE_OK);
    assert_int_equal(hone_trial_param_double(t, i, &v), HONE_OK);
    return v;
}

static const char s_branin_config[] =
    "{\"name\": \"branin\", \"objective\": \"-branin\", \"max_trials\": 12,"
    " \"generation_strategy\": {\"initialization_random_seed\": 11},"
    " \"parameters\": [{\"name\": \"x1\", \"bounds\": [-5, 10]},"
    "                  {\"name\": \"x2\", \"bounds\": [0, 15]}]}";

static void test_workers_finish_the_budget(void **state)
{
    hone_test_broker_t *broker = *state;
    hone_client_t *client = s_client(broker);
    hone_test_create(client, s_branin_config, NULL);

    char *eval = hone_test_program("hone-eval");
    const char *program[] = { eval, "branin", "{x1}", "{x2}", NULL };
    pid_t workers[3];
    char names[3][16];
    for (int w = 0; w < 3; w++) {
        snprintf(names[w], sizeof names[w], "w%d", w);
        workers[w] = hone_test_spawn_worker(broker, "branin", names[w], NULL, program);
        assert_true(workers[w] > 0);
    }
    for (int w = 0; w < 3; w++)
        hone_test_wait_worker(broker, workers[w], names[w], 60000);
    free(eval);

    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list(client, "branin", &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), 12);
    double best = INFINITY, observed[12];
    for (size_t i = 0; i < 12; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        assert_int_equal(hone_trial_index(t), i);
        assert_string_equal(hone_trial_status(t), "COMPLETED");
        double x[2] = { s_param(t, "x1"), s_param(t, "x2") };
        double expected = hone_bench_branin(x, 2);
        assert_true(fabs(s_metric(t, "branin") - expected) <= 1e-12 * (1 + fabs(expected)));
        observed[i] = expected;
        if (expected < best)
            best = expected;
    }
    /* The center comes first: the midpoints of both ranges. */
    assert_true(fabs(s_param(hone_trial_list_at(list, 0), "x1") - 2.5) < 1e-12);
    assert_true(fabs(s_param(hone_trial_list_at(list, 0), "x2") - 7.5) < 1e-12);
    hone_trial_list_destroy(&list);

    hone_best_t *b = NULL;
    assert_int_equal(hone_client_best(client, "branin", &b), HONE_OK);
    /* A "fast" experiment: `best` takes the model path (a GP on all the data, with
     * inferred noise), whose value is the posterior mean at the chosen trial, close to its
     * observation but not equal; timing may change which trial is observed best, so the
     * model may pick another trial that is nearly as good. */
    uint64_t chosen = hone_best_trial_index(b);
    assert_true(chosen < 12);
    assert_true(observed[chosen] <= best + 2.0);
    assert_true(fabs(hone_best_value(b) - observed[chosen]) < 2.0);
    assert_true(hone_best_minimize(b));
    assert_true(strcmp(hone_best_source(b), "model") == 0 || strcmp(hone_best_source(b), "raw") == 0);
    hone_best_destroy(&b);

    hone_status_t *status = NULL;
    assert_int_equal(hone_client_status(client, "branin", &status), HONE_OK);
    assert_int_equal(hone_status_count(status, "COMPLETED"), 12);
    assert_int_equal(hone_status_count(status, "RUNNING"), 0);
    hone_status_destroy(&status);
    hone_client_destroy(&client);
}

/* Issue 3's end-to-end check: BO through the broker, with two hone-workers each, beats
 * random search on Branin for the same seeds (25 trials; few seeds, for CI: the full
 * comparison is bench/quality.py). Both methods share each seed's center and Sobol
 * points, so the difference is what the model does after them. */
static void test_bo_beats_random_search_through_the_broker(void **state)
{
    hone_test_broker_t *broker = *state;
    hone_client_t *client = s_client(broker);
    char *eval = hone_test_program("hone-eval");
    const char *program[] = { eval, "branin", "{x1}", "{x2}", NULL };
    static const char *const methods[] = { "fast", "random_search" };
    enum { SEEDS = 3, TRIALS = 25 };
    double best[2][SEEDS];
    for (int seed = 0; seed < SEEDS; seed++) {
        for (int m = 0; m < 2; m++) {
            char name[32], config[512];
            snprintf(name, sizeof name, "branin-%s-%d", methods[m], seed);
            snprintf(config, sizeof config,
                     "{\"name\": \"%s\", \"objective\": \"-branin\", \"max_trials\": %d,"
                     " \"generation_strategy\": {\"method\": \"%s\", \"initialization_random_seed\": %d},"
                     " \"parameters\": [{\"name\": \"x1\", \"bounds\": [-5, 10]},"
                     " {\"name\": \"x2\", \"bounds\": [0, 15]}]}",
                     name, TRIALS, methods[m], 100 + seed);
            hone_test_create(client, config, NULL);
            pid_t workers[2];
            char names[2][48];
            for (int w = 0; w < 2; w++) {
                snprintf(names[w], sizeof names[w], "%s-w%d", name, w);
                workers[w] = hone_test_spawn_worker(broker, name, names[w], NULL, program);
                assert_true(workers[w] > 0);
            }
            for (int w = 0; w < 2; w++)
                hone_test_wait_worker(broker, workers[w], names[w], 120000);
            hone_trial_list_t *list = NULL;
            assert_int_equal(hone_client_list(client, name, &list), HONE_OK);
            assert_int_equal(hone_trial_list_count(list), TRIALS);
            best[m][seed] = INFINITY;
            for (size_t i = 0; i < TRIALS; i++)
                best[m][seed] = fmin(best[m][seed], s_metric(hone_trial_list_at(list, i), "branin"));
            hone_trial_list_destroy(&list);
        }
        fprintf(stderr, "seed %d: BO %.5f, random search %.5f (optimum 0.397887)\n", seed,
                best[0][seed], best[1][seed]);
    }
    free(eval);
    hone_client_destroy(&client);
    /* BO better in most seeds and, in the median, close to the optimum, where random
     * search's 25 points typically end 0.5 to 3 above it. (Per seed, two asynchronous
     * workers make the BO run timing-dependent: a seed may end a little worse.) */
    int wins = 0;
    for (int seed = 0; seed < SEEDS; seed++)
        wins += best[0][seed] < best[1][seed];
    assert_true(wins >= SEEDS - 1);
    double bo[SEEDS];
    for (int seed = 0; seed < SEEDS; seed++)
        bo[seed] = best[0][seed];
    for (int i = 1; i < SEEDS; i++)   /* SEEDS = 3: sort for the median */
        for (int j = i; j > 0 && bo[j] < bo[j - 1]; j--) {
            double t = bo[j];
            bo[j] = bo[j - 1];
            bo[j - 1] = t;
        }
    assert_true(bo[SEEDS / 2] < 0.6);
}

static void test_worker_runs_the_python_example(void **state)
{
    hone_test_broker_t *broker = *state;
    hone_client_t *client = s_client(broker);
    char *path = hone_test_source_path("examples/hartmann6.json");
    char *config = hone_test_read_file(path, NULL);
    assert_non_null(config);
    hone_test_create(client, config, NULL);
    free(config);
    free(path);

    char *script = hone_test_source_path("examples/hartmann6_worker.py");
    const char *program[] = { "python3", script, "{x1}", "{x2}", "{x3}", "{x4}", "{x5}", "{x6}", NULL };
    pid_t worker = hone_test_spawn_worker(broker, "hartmann6", "py", NULL, program);
    assert_true(worker > 0);
    hone_test_wait_worker(broker, worker, "py", 120000);
    free(script);

    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list(client, "hartmann6", &list), HONE_OK);
    assert_int_equal(hone_trial_list_count(list), 40);
    for (size_t i = 0; i < hone_trial_list_count(list); i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        assert_string_equal(hone_trial_status(t), "COMPLETED");
        double x[6];
        for (int k = 0; k < 6; k++) {
            char name[4] = { 'x', (char) ('1' + k), 0 };
            x[k] = s_param(t, name);
        }
        /* The Python program prints with repr precision: 17 significant digits. */
        double expected = hone_bench_hartmann6(x, 6);
        assert_true(fabs(s_metric(t, "hartmann6") - expected) < 1e-12);
    }
    hone_trial_list_destroy(&list);
    hone_client_destroy(&client);
}

/* ---- SIGKILL the broker while a worker streams readings ---- */

#define LEDGER_MAX 4096
typedef struct {
    int64_t last_step;      /* last acknowledged progression, -1 if none */
    bool completed;         /* completion acknowledged */
} ledger_entry_t;

typedef struct {
    const hone_test_broker_t *broker;
    ledger_entry_t entries[LEDGER_MAX];
    uint64_t max_trial;     /* largest acknowledged trial index + 1 */
    atomic_bool stop;
    int acks;               /* acknowledged operations in this round */
} ledger_t;

static double s_reading(uint64_t trial, int64_t step) { return (double) trial * 1000.0 + (double) step; }

/* A worker in a thread: next, three progress readings, complete; records each
 * acknowledgement. Returns when the broker stops answering (or on stop). */
static void *s_load(void *arg)
{
    ledger_t *l = arg;
    hone_options_t opts = hone_test_options(1000, 0);
    hone_worker_t *w = NULL;
    if (hone_worker_open(&w, l->broker->endpoint, "crash", "crash-worker", &opts) != HONE_OK)
        return NULL;
    const char *metric[] = { "y" };
    while (!atomic_load(&l->stop)) {
        hone_trial_t *t = NULL;
        if (hone_worker_next(w, &t, 0) != HONE_OK)
            break;
        uint64_t idx = hone_trial_index(t);
        hone_trial_destroy(&t);
        if (idx >= LEDGER_MAX)
            break;
        l->entries[idx].last_step = -1;
        if (idx + 1 > l->max_trial)
            l->max_trial = idx + 1;
        l->acks++;
        bool ok = true;
        for (int64_t step = 1; step <= 3 && ok; step++) {
            double mean = s_reading(idx, step);
            ok = hone_worker_report(w, idx, 1, metric, &mean, NULL, true, step) == HONE_OK;
            if (ok) {
                l->entries[idx].last_step = step;
                l->acks++;
            }
        }
        if (!ok)
            break;
        double final = s_reading(idx, 99);
        if (hone_worker_complete(w, idx, 1, metric, &final, NULL) != HONE_OK)
            break;
        l->entries[idx].completed = true;
        l->acks++;
    }
    hone_worker_destroy(&w);
    return NULL;
}

static void s_check_ledger(const ledger_t *l, hone_client_t *client)
{
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list(client, "crash", &list), HONE_OK);
    size_t n = hone_trial_list_count(list);
    assert_true(n >= l->max_trial);     /* every acknowledged trial exists */
    for (size_t i = 0; i < n; i++) {
        const hone_trial_t *t = hone_trial_list_at(list, i);
        assert_int_equal(hone_trial_index(t), i);   /* numbering has no gap */
        if (i >= l->max_trial)
            continue;
        const ledger_entry_t *e = &l->entries[i];
        const char *status = hone_trial_status(t);
        if (e->completed) {
            assert_string_equal(status, "COMPLETED");
            assert_true(s_metric(t, "y") == s_reading(i, 99));
        } else if (e->last_step >= 1) {
            /* The acknowledged reading is there (a later one may have been stored
             * without its acknowledgement reaching the worker). */
            int64_t step = -1;
            if (strcmp(status, "COMPLETED") != 0) {
                assert_int_equal(hone_trial_progression(t, &step), HONE_OK);
                assert_true(step >= e->last_step);
                assert_true(s_metric(t, "y") == s_reading(i, step));
            }
        }
    }
    hone_trial_list_destroy(&list);
}

static void test_sigkill_loses_no_acknowledged_reading(void **state)
{
    hone_test_broker_t *broker = *state;
    hone_client_t *client = s_client(broker);
    hone_test_create(client, "{\"name\": \"crash\", \"objective\": \"y\","
                             " \"generation_strategy\": {\"initialization_random_seed\": 5},"
                             " \"parameters\": [{\"name\": \"a\", \"bounds\": [0, 1]},"
                             "                  {\"name\": \"b\", \"values\": [\"p\", \"q\", \"r\"]}]}", NULL);
    hone_client_destroy(&client);

    static ledger_t ledger;
    memset(&ledger, 0, sizeof ledger);
    ledger.broker = broker;
    unsigned seed = 20261128;
    int rounds = 8, total_acks = 0;
    for (int round = 0; round < rounds; round++) {
        atomic_store(&ledger.stop, false);
        ledger.acks = 0;
        pthread_t load;
        assert_int_equal(pthread_create(&load, NULL, s_load, &ledger), 0);
        hone_test_sleep_ms(60 + (int) (rand_r(&seed) % 240));
        hone_test_broker_wait(broker, SIGKILL, 5000);
        atomic_store(&ledger.stop, true);
        pthread_join(load, NULL);
        total_acks += ledger.acks;

        assert_int_equal(hone_test_broker_start(broker, NULL), 0);
        client = s_client(broker);
        s_check_ledger(&ledger, client);
        hone_client_destroy(&client);
    }
    /* The load really ran: many acknowledged operations across the rounds. */
    assert_true(total_acks > rounds * 4);
    assert_true(ledger.max_trial > (uint64_t) rounds);
}

/* Experiment "restart" has 10 trials COMPLETED (of 30). */
static bool s_third_done(void *client)
{
    hone_status_t *status = NULL;
    if (hone_client_status(client, "restart", &status) != HONE_OK)
        return false;
    uint64_t done = hone_status_count(status, "COMPLETED");
    hone_status_destroy(&status);
    return done >= 10;
}

static void test_workers_ride_through_a_broker_restart(void **state)
{
    hone_test_broker_t *broker = *state;
    hone_client_t *client = s_client(broker);
    hone_test_create(client, "{\"name\": \"restart\", \"objective\": \"-branin\", \"max_trials\": 30,"
                             " \"generation_strategy\": {\"initialization_random_seed\": 3},"
                             " \"parameters\": [{\"name\": \"x1\", \"bounds\": [-5, 10]},"
                             "                  {\"name\": \"x2\", \"bounds\": [0, 15]}]}", NULL);
    char *eval = hone_test_program("hone-eval");
    const char *program[] = { eval, "--delay-ms", "40", "branin", "{x1}", "{x2}", NULL };
    pid_t workers[2] = { hone_test_spawn_worker(broker, "restart", "r0", NULL, program),
                         hone_test_spawn_worker(broker, "restart", "r1", NULL, program) };

    /* Wait until about a third of the budget is done, then kill and restart. */
    hone_test_poll(s_third_done, client, 30000, 50);
    hone_client_destroy(&client);
    hone_test_broker_wait(broker, SIGKILL, 5000);
    hone_test_sleep_ms(300);
    assert_int_equal(hone_test_broker_start(broker, NULL), 0);

    hone_test_wait_worker(broker, workers[0], "r0", 90000);
    hone_test_wait_worker(broker, workers[1], "r1", 90000);
    free(eval);

    client = s_client(broker);
    hone_status_t *status = NULL;
    assert_int_equal(hone_client_status(client, "restart", &status), HONE_OK);
    assert_int_equal(hone_status_count(status, "COMPLETED"), 30);
    assert_int_equal(hone_status_count(status, "RUNNING"), 0);
    hone_status_destroy(&status);
    hone_client_destroy(&client);
}

/* A worker that asks for work while the broker thinks it holds a trial lost the reply
 * that handed it out; it gets the same trial back, also after a broker restart. */
static void test_worker_resumes_its_trial(void **state)
{
    hone_test_broker_t *broker = *state;
    hone_client_t *client = s_client(broker);
    hone_test_create(client, s_branin_config, NULL);
    hone_client_destroy(&client);

    hone_worker_t *w = NULL, *again = NULL;
    hone_trial_t *t = NULL, *t2 = NULL;
    assert_int_equal(hone_worker_open(&w, broker->endpoint, "branin", "resumer", NULL), HONE_OK);
    assert_int_equal(hone_worker_next(w, &t, 0), HONE_OK);
    uint64_t held = hone_trial_index(t);
    hone_trial_destroy(&t);
    hone_worker_destroy(&w);

    /* Same name on a new connection: the same trial. */
    assert_int_equal(hone_worker_open(&again, broker->endpoint, "branin", "resumer", NULL), HONE_OK);
    assert_int_equal(hone_worker_next(again, &t2, 0), HONE_OK);
    assert_int_equal(hone_trial_index(t2), held);
    hone_trial_destroy(&t2);
    hone_worker_destroy(&again);

    /* Another worker gets another trial. */
    assert_int_equal(hone_worker_open(&w, broker->endpoint, "branin", "other", NULL), HONE_OK);
    assert_int_equal(hone_worker_next(w, &t, 0), HONE_OK);
    assert_int_not_equal(hone_trial_index(t), held);
    hone_trial_destroy(&t);
    hone_worker_destroy(&w);

    /* After SIGKILL and a restart, the holder still gets its trial back. */
    hone_test_broker_wait(broker, SIGKILL, 5000);
    assert_int_equal(hone_test_broker_start(broker, NULL), 0);
    assert_int_equal(hone_worker_open(&w, broker->endpoint, "branin", "resumer", NULL), HONE_OK);
    assert_int_equal(hone_worker_next(w, &t, 0), HONE_OK);
    assert_int_equal(hone_trial_index(t), held);
    hone_trial_destroy(&t);
    /* Once it is completed, the next request makes a new trial. */
    const char *metric[] = { "branin" };
    double value = 1.0;
    assert_int_equal(hone_worker_complete(w, held, 1, metric, &value, NULL), HONE_OK);
    assert_int_equal(hone_worker_next(w, &t, 0), HONE_OK);
    assert_true(hone_trial_index(t) > held);
    hone_trial_destroy(&t);
    hone_worker_destroy(&w);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest tests[] = {
        HONE_BROKER_TEST(test_workers_finish_the_budget),
        HONE_BROKER_TEST(test_bo_beats_random_search_through_the_broker),
        HONE_BROKER_TEST(test_worker_runs_the_python_example),
        HONE_BROKER_TEST(test_sigkill_loses_no_acknowledged_reading),
        HONE_BROKER_TEST(test_workers_ride_through_a_broker_restart),
        HONE_BROKER_TEST(test_worker_resumes_its_trial),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
