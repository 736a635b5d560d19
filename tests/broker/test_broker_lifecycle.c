#define _GNU_SOURCE
/* Tests of the hone-broker process from outside (broker_check.h): restarts, after
 * SIGKILL in the middle of a burst of pipelined changes (every acknowledged change is
 * there, the experiment continues as an uninterrupted twin would) and after a clean
 * SIGTERM (everything kept); and its command line: --help, bad options, a data
 * directory in use or that is a file, an address taken, the loopback-only notice. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "proc.h"
#include "test_support.h"
#include "wire.h"

#include "broker_check.h"   /* after the hone headers: czmq defines a streq macro */

/* ---- restart ---- */

typedef enum { OP_ATTACH, OP_MARK, OP_NEXT } op_kind_t;

static const hone_node_t *s_param(const hone_node_t *trial, const char *name)
{
    const hone_node_t *v = hone_node_get(hone_node_get(trial, "params"), name);
    assert_non_null(v);
    return v;
}

static void test_restart_after_sigkill(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "live", 42, 0);
    hone_msg_t *reply = hone_test_expect(s_next(f, "live", 10), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_READY, "live")), HONE_MSG_TRIAL);
    assert_int_equal(hone_test_int(reply, "trial"), 10);
    hone_msg_destroy(&reply);

    /* a burst of pipelined changes; the broker is killed after 9 acknowledgements */
    enum { N = 24, ACKED = 9 };
    op_kind_t kinds[N];
    uint64_t seqs[N];
    int args[N];
    for (int k = 0; k < N; k++) {
        hone_msg_t *msg;
        char metric[16];
        if (k % 8 == 7) {
            kinds[k] = OP_NEXT;
            msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "live");
        } else if (k % 2 == 0) {
            kinds[k] = OP_ATTACH;
            args[k] = k;
            msg = s_trial_req(f, HONE_MSG_ATTACH, "live", 0);
            snprintf(metric, sizeof metric, "m%d", k);
            s_metric(msg, metric, k, -1, true);
            assert_int_equal(hone_msg_set_int(msg, "progression", k), HONE_OK);
        } else {
            kinds[k] = OP_MARK;
            args[k] = 1 + k / 2;                   /* trials 1 .. 12, but not 10: */
            if (args[k] >= 10)                     /* it must stay RUNNING, and with */
                args[k]++;                         /* group commit the whole burst may */
                                                   /* be stored before the kill */
            msg = s_mark_req(f, "live", args[k], "COMPLETED");
            s_metric(msg, "obj", k, 0, false);
        }
        seqs[k] = hone_msg_seq(msg);
        hone_peer_send(f->client, &msg);
    }
    bool acked[N] = { false };
    for (int got = 0; got < ACKED; got++) {
        reply = hone_peer_recv(f->client, S_REPLY_TIMEOUT_MS);
        int k = 0;
        while (k < N && seqs[k] != hone_msg_seq(reply))
            k++;
        assert_true(k < N);
        if (hone_msg_id(reply) == HONE_MSG_OK)
            acked[k] = true;
        else
            assert_true(kinds[k] == OP_MARK && args[k] > 10);   /* trials not yet made */
        hone_msg_destroy(&reply);
    }
    int status = hone_test_broker_wait(f->broker, SIGKILL, 5000);
    assert_true(WIFSIGNALED(status));
    zsock_destroy(&f->client);
    s_start(f);

    /* every acknowledged change is there */
    hone_msg_t *list = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "live")), HONE_MSG_OK);
    size_t total = hone_node_len(hone_msg_get(list, "trials"));
    int max_prog = -1;
    size_t min_total = 11;
    for (int k = 0; k < N; k++) {
        if (!acked[k])
            continue;
        if (kinds[k] == OP_ATTACH) {
            char metric[16];
            snprintf(metric, sizeof metric, "m%d", k);
            const hone_node_t *m = hone_node_get(hone_node_get(s_list_trial(list, 0), "metrics"), metric);
            assert_non_null(m);
            assert_true(hone_node_float(hone_node_at(m, 0)) == k);
            max_prog = k;
        } else if (kinds[k] == OP_MARK) {
            const hone_node_t *t = s_list_trial(list, (uint32_t) args[k]);
            assert_string_equal(hone_test_node_str(t, "status"), "COMPLETED");
            const hone_node_t *obj = hone_node_get(hone_node_get(t, "metrics"), "obj");
            assert_true(hone_node_float(hone_node_at(obj, 0)) == k);
        } else {
            min_total++;
        }
    }
    assert_true(max_prog >= 0);
    assert_true(hone_node_int(hone_node_get(s_list_trial(list, 0), "progression")) >= max_prog);
    assert_true(total >= min_total);
    assert_string_equal(hone_test_node_str(s_list_trial(list, 10), "status"), "RUNNING");
    hone_msg_destroy(&list);

    /* the experiment continues: next index, the restored running trial, the Sobol sequence */
    reply = hone_test_expect(s_next(f, "live", 2), HONE_MSG_OK);
    assert_int_equal(hone_node_int(hone_node_get(hone_node_at(hone_msg_get(reply, "trials"), 0), "trial")),
                     total);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_COMPLETE, "live", 10);
    s_metric(msg, "obj", 0.5, 0, false);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);

    s_create_ok(f, "twin", 42, 0);
    reply = hone_test_expect(s_next(f, "twin", (int) total + 2), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    list = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "live")), HONE_MSG_OK);
    hone_msg_t *twin = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_LIST, "twin")), HONE_MSG_OK);
    assert_int_equal(hone_node_len(hone_msg_get(list, "trials")), total + 2);
    assert_int_equal(hone_node_len(hone_msg_get(twin, "trials")), total + 2);
    for (uint32_t i = 0; i < total + 2; i++) {
        const hone_node_t *a = s_list_trial(list, i), *b = s_list_trial(twin, i);
        assert_string_equal(hone_test_node_str(a, "note"), hone_test_node_str(b, "note"));
        double xa = hone_node_float(s_param(a, "x1")), xb = hone_node_float(s_param(b, "x1"));
        assert_memory_equal(&xa, &xb, sizeof xa);
        assert_int_equal(hone_node_int(s_param(a, "x2")), hone_node_int(s_param(b, "x2")));
        assert_string_equal(hone_node_str(s_param(a, "opt"), NULL), hone_node_str(s_param(b, "opt"), NULL));
    }
    hone_msg_destroy(&list);
    hone_msg_destroy(&twin);
}

static void test_restart_clean_keeps_everything(void **state)
{
    fixture_t *f = *state;
    s_create_ok(f, "keep", 9, 5);
    hone_msg_t *reply = hone_test_expect(s_next(f, "keep", 3), HONE_MSG_OK);
    hone_msg_destroy(&reply);
    hone_msg_t *msg = s_trial_req(f, HONE_MSG_PROGRESS, "keep", 1);
    s_metric(msg, "obj", 2.0, 0.25, true);
    assert_int_equal(hone_msg_set_int(msg, "progression", -4), HONE_OK);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    msg = s_trial_req(f, HONE_MSG_FAIL, "keep", 2);
    assert_int_equal(hone_msg_set_str(msg, "reason", "out of memory"), HONE_OK);
    hone_test_expect_destroy(s_call(f, msg), HONE_MSG_OK);
    char *before = s_list_text(f, "keep");

    zsock_destroy(&f->client);
    int status = hone_test_broker_wait(f->broker, SIGTERM, 5000);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    s_start(f);
    char *after = s_list_text(f, "keep");
    assert_string_equal(before, after);
    free(before);
    free(after);
    reply = hone_test_expect(s_call(f, hone_test_req(&f->seq, HONE_MSG_STATUS, "keep")), HONE_MSG_OK);
    assert_int_equal(hone_test_int(reply, "max_trials"), 5);
    assert_int_equal(hone_node_int(hone_node_get(hone_msg_get(reply, "counts"), "FAILED")), 1);
    hone_msg_destroy(&reply);
}

/* ---- the command line ---- */

/* Runs hone-broker with args to its end; returns its exit status, and its stdout and
 * stderr in *out and *err_text (malloc'd). */
static int s_run(fixture_t *f, char **args, char **out, char **err_text)
{
    char *program = hone_test_program("hone-broker");
    char *argv[16] = { program };
    int n = 1;
    for (; args[n - 1]; n++)
        argv[n] = args[n - 1];
    argv[n] = NULL;
    hone_test_output_t r = hone_test_run(f->broker->dir, argv, 10000);
    free(program);
    assert_true(r.status >= 0);     /* it exited */
    *out = r.out;
    *err_text = r.err;
    return r.status;
}

static int s_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

static void test_command_line(void **state)
{
    fixture_t *f = *state;
    char *out, *err_text;

    assert_int_equal(s_run(f, (char *[]) { "--help", NULL }, &out, &err_text), 0);
    assert_non_null(strstr(out, "usage: hone-broker"));
    assert_non_null(strstr(out, "--data DIR"));
    free(out);
    free(err_text);

    assert_int_equal(s_run(f, (char *[]) { "--bogus", NULL }, &out, &err_text), 2);
    assert_string_equal(err_text, "hone-broker: unknown option '--bogus' (see --help)\n");
    free(out);
    free(err_text);
    assert_int_equal(s_run(f, (char *[]) { "--log-level", "loud", NULL }, &out, &err_text), 2);
    assert_int_equal(s_lines(err_text), 1);
    free(out);
    free(err_text);
    assert_int_equal(s_run(f, (char *[]) { "--bind", NULL }, &out, &err_text), 2);
    assert_int_equal(s_lines(err_text), 1);
    free(out);
    free(err_text);

    /* the data directory is locked by the running broker */
    char *other = NULL;
    assert_true(asprintf(&other, "ipc://%s/other.sock", f->broker->dir) > 0);
    assert_int_equal(s_run(f, (char *[]) { "--data", f->broker->data, "--bind", other, "--log-level", "error", NULL },
                           &out, &err_text), 1);
    assert_int_equal(s_lines(err_text), 1);
    assert_non_null(strstr(err_text, "in use"));
    free(out);
    free(err_text);

    /* a data path that is a file */
    char *file = NULL;
    assert_true(asprintf(&file, "%s/broker.log", f->broker->dir) > 0);
    assert_int_equal(s_run(f, (char *[]) { "--data", file, "--bind", other, "--log-level", "error", NULL },
                           &out, &err_text), 1);
    assert_int_equal(s_lines(err_text), 1);
    assert_true(strncmp(err_text, "hone-broker: ", 13) == 0);
    free(out);
    free(err_text);
    free(file);
    free(other);

    /* the address is taken */
    zsock_t *blocker = zsock_new(ZMQ_ROUTER);
    int port = zsock_bind(blocker, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    char *endpoint = NULL, *data2 = NULL;
    assert_true(asprintf(&endpoint, "tcp://127.0.0.1:%d", port) > 0);
    assert_true(asprintf(&data2, "%s/data2", f->broker->dir) > 0);
    assert_int_equal(s_run(f, (char *[]) { "--data", data2, "--bind", endpoint, "--log-level", "error", NULL },
                           &out, &err_text), 1);
    assert_int_equal(s_lines(err_text), 1);
    assert_non_null(strstr(err_text, "hone-broker: cannot bind tcp://127.0.0.1:"));
    assert_non_null(strstr(err_text, "Address already in use"));
    free(out);
    free(err_text);
    zsock_destroy(&blocker);

    /* on loopback TCP the broker says it is reachable from this host only */
    char *log2 = NULL;
    assert_true(asprintf(&log2, "%s/broker2.log", f->broker->dir) > 0);
    pid_t pid = -1;
    for (int attempt = 0; attempt < 5 && pid < 0; attempt++) {
        blocker = zsock_new(ZMQ_ROUTER);
        port = zsock_bind(blocker, "tcp://127.0.0.1:*");
        zsock_destroy(&blocker);    /* frees the port for the broker (retried if raced) */
        free(endpoint);
        assert_true(asprintf(&endpoint, "tcp://127.0.0.1:%d", port) > 0);
        pid = hone_test_start_broker(data2, endpoint, log2);
    }
    assert_true(pid > 0);
    char *log = hone_test_read_file(log2, NULL);
    assert_non_null(strstr(log, "loopback only"));
    assert_non_null(strstr(log, "listening on tcp://127.0.0.1:"));
    free(log);
    kill(pid, SIGINT);
    int status;
    assert_int_equal(hone_test_wait(pid, 5000, &status), 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    free(log2);
    free(endpoint);
    free(data2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_restart_after_sigkill, setup, teardown),
        cmocka_unit_test_setup_teardown(test_restart_clean_keeps_everything, setup, teardown),
        cmocka_unit_test_setup_teardown(test_command_line, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
