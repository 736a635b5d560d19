#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "proc.h"
#include "test_support.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char *s_join(const char *dir, const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", dir, name) < 0)
        abort();
    return path;
}

hone_test_broker_t *hone_test_broker_new(const char *tag, hone_test_transport_t transport)
{
    hone_test_broker_t *self = calloc(1, sizeof *self);
    if (!self)
        abort();
    self->dir = hone_test_tmpdir(tag);
    self->data = s_join(self->dir, "data");
    self->log = s_join(self->dir, "broker.log");
    if (transport == HONE_TEST_IPC)
        snprintf(self->endpoint, sizeof self->endpoint, "ipc://%s/broker.sock", self->dir);
    else
        snprintf(self->endpoint, sizeof self->endpoint, "tcp://127.0.0.1:%d", hone_test_free_port());
    self->pid = -1;
    return self;
}

int hone_test_broker_start(hone_test_broker_t *self, const char *const extra[])
{
    self->pid = hone_test_start_broker_args(self->data, self->endpoint, self->log, extra, NULL);
    if (self->pid > 0)
        return 0;
    char *log = hone_test_read_file(self->log, NULL);
    fprintf(stderr, "broker did not start; its log:\n%s\n", log ? log : "(none)");
    free(log);
    return -1;
}

int hone_test_broker_open(hone_test_broker_t **out, const char *tag, hone_test_transport_t transport)
{
    *out = hone_test_broker_new(tag, transport);
    if (hone_test_broker_start(*out, NULL) == 0)
        return 0;
    hone_test_broker_destroy(out);
    return -1;
}

void hone_test_broker_stop(hone_test_broker_t *self, int sig)
{
    if (self->pid > 0)
        hone_test_stop(self->pid, sig);
    self->pid = -1;
}

int hone_test_broker_wait(hone_test_broker_t *self, int sig, int timeout_ms)
{
    assert_true(self->pid > 0);
    if (sig)
        assert_int_equal(kill(self->pid, sig), 0);
    int status = -1;
    if (hone_test_wait(self->pid, timeout_ms, &status) != 0)
        fail_msg("hone-broker did not end within %d ms", timeout_ms);
    self->pid = -1;
    return status;
}

void hone_test_broker_show_log(const hone_test_broker_t *self)
{
    if (!getenv("HONE_TEST_SHOW_LOG"))
        return;
    char *log = hone_test_read_file(self->log, NULL);
    fprintf(stderr, "---- broker log ----\n%s", log ? log : "");
    free(log);
}

void hone_test_broker_destroy(hone_test_broker_t **self_p)
{
    hone_test_broker_t *self = *self_p;
    if (!self)
        return;
    hone_test_broker_stop(self, SIGTERM);
    if (!getenv("HONE_TEST_KEEP"))
        hone_test_rmtree(self->dir);
    free(self->dir);
    free(self->data);
    free(self->log);
    free(self);
    *self_p = NULL;
}

int hone_test_broker_setup(void **state)
{
    hone_test_broker_t *self = NULL;
    int rc = hone_test_broker_open(&self, "broker", HONE_TEST_TCP);
    *state = self;
    return rc;
}

int hone_test_broker_teardown(void **state)
{
    hone_test_broker_t *self = *state;
    hone_test_broker_stop(self, SIGTERM);
    hone_test_broker_show_log(self);
    hone_test_broker_destroy(&self);
    *state = NULL;
    return 0;
}

/* ---- hone-worker ---- */

static char *s_worker_file(const hone_test_broker_t *broker, const char *name, const char *suffix)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s.%s", broker->dir, name, suffix) < 0)
        abort();
    return path;
}

pid_t hone_test_spawn_worker(const hone_test_broker_t *broker, const char *experiment, const char *name,
                             const char *const options[], const char *const program[])
{
    char *worker = hone_test_program("hone-worker");
    char *argv[64] = { worker, "--broker", (char *) broker->endpoint, "--experiment", (char *) experiment,
                       "--name", (char *) name };
    int n = 7;
    for (int i = 0; options && options[i] && n < 62; i++)
        argv[n++] = (char *) options[i];
    argv[n++] = "--";
    for (int i = 0; program[i] && n < 63; i++)
        argv[n++] = (char *) program[i];
    argv[n] = NULL;
    char *out = s_worker_file(broker, name, "out"), *err = s_worker_file(broker, name, "err");
    pid_t pid = hone_test_spawn(argv, out, err);
    free(out);
    free(err);
    free(worker);
    assert_true(pid > 0);
    return pid;
}

void hone_test_wait_worker(const hone_test_broker_t *broker, pid_t pid, const char *name, int timeout_ms)
{
    int status = 0;
    if (hone_test_wait(pid, timeout_ms, &status) != 0) {
        hone_test_stop(pid, SIGKILL);
        fail_msg("hone-worker %s did not finish within %d ms", name, timeout_ms);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *log = hone_test_worker_log(broker, name);
        fail_msg("hone-worker %s exited with status %d; stderr:\n%s", name, status, log);
    }
}

char *hone_test_worker_log(const hone_test_broker_t *broker, const char *name)
{
    char *path = s_worker_file(broker, name, "err");
    char *log = hone_test_read_file(path, NULL);
    free(path);
    return log ? log : strdup("");
}

/* ---- hone ---- */

char *hone_test_hone(const hone_test_broker_t *broker, const char *const args[])
{
    char *program = hone_test_program("hone");
    char *argv[32] = { program, "--broker", (char *) broker->endpoint };
    int n = 3;
    for (int i = 0; args[i] && n < 31; i++)
        argv[n++] = (char *) args[i];
    argv[n] = NULL;
    hone_test_output_t r = hone_test_run(broker->dir, argv, 10000);
    if (r.status != 0)
        fail_msg("`hone %s` exited with %d:\n%s", args[0], r.status, r.err);
    free(program);
    free(r.err);
    return r.out;
}
