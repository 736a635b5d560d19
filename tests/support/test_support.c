#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *hone_test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/hone-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
        abort();
    if (!mkdtemp(path))
        abort();
    return path;
}

static int s_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb; (void) flag; (void) ftw;
    return remove(path);
}

void hone_test_rmtree(const char *path)
{
    if (path)
        nftw(path, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *s_program_dir(const char *name)
{
    if (strcmp(name, "hone-broker") == 0)
        return "broker";
    if (strcmp(name, "hone") == 0 || strcmp(name, "hone-worker") == 0)
        return "worker-sdk/cli";
    if (strcmp(name, "hone-eval") == 0)
        return "bench";
    return "";
}

char *hone_test_program(const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s/%s", HONE_BINARY_DIR, s_program_dir(name), name) < 0)
        abort();
    return path;
}

char *hone_test_source_path(const char *relative)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", HONE_SOURCE_DIR, relative) < 0)
        abort();
    return path;
}

char *hone_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t) n + 1);
    if (buf && fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (size)
            *size = (size_t) n;
    }
    return buf;
}

void hone_test_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static int64_t s_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hone_test_poll(bool (*done)(void *arg), void *arg, int timeout_ms, int poll_ms)
{
    int64_t deadline = s_mono_ms() + timeout_ms;
    for (;;) {
        if (done(arg))
            return true;
        if (s_mono_ms() > deadline)
            return false;
        hone_test_sleep_ms(poll_ms);
    }
}

static void s_redirect(const char *path, int fd)
{
    if (!path)
        return;
    int f = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (f >= 0) {
        dup2(f, fd);
        close(f);
    }
}

pid_t hone_test_spawn(char *const argv[], const char *stdout_path, const char *stderr_path)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        s_redirect(stdout_path, STDOUT_FILENO);
        s_redirect(stderr_path, STDERR_FILENO);
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

int hone_test_wait(pid_t pid, int timeout_ms, int *status)
{
    for (int waited = 0;; waited += 10) {
        pid_t r = waitpid(pid, status, WNOHANG);
        if (r == pid)
            return 0;
        if (r < 0 || waited >= timeout_ms)
            return -1;
        hone_test_sleep_ms(10);
    }
}

void hone_test_stop(pid_t pid, int sig)
{
    int status;
    if (pid <= 0)
        return;
    kill(pid, sig);
    if (hone_test_wait(pid, 5000, &status) != 0) {
        kill(pid, SIGKILL);
        hone_test_wait(pid, 5000, &status);
    }
}

/* Program output files: dir/run-XXXXXX.out and .err (the stem made unique by .out). */
static void s_output_paths(const char *dir, char **out, char **err)
{
    if (asprintf(out, "%s/run-XXXXXX.out", dir) < 0)
        abort();
    int fd = mkstemps(*out, 4);
    assert_true(fd >= 0);
    close(fd);
    if (asprintf(err, "%.*s.err", (int) strlen(*out) - 4, *out) < 0)
        abort();
}

hone_test_output_t hone_test_run(const char *dir, char *const argv[], int timeout_ms)
{
    char *out = NULL, *err = NULL;
    s_output_paths(dir, &out, &err);
    hone_test_output_t r = { .status = -1 };
    pid_t pid = hone_test_spawn(argv, out, err);
    assert_true(pid > 0);
    int status = 0;
    if (hone_test_wait(pid, timeout_ms, &status) != 0) {
        hone_test_stop(pid, SIGKILL);
        fail_msg("%s did not finish within %d ms", argv[0], timeout_ms);
    }
    if (WIFEXITED(status))
        r.status = WEXITSTATUS(status);
    r.out = hone_test_read_file(out, NULL);
    r.err = hone_test_read_file(err, NULL);
    if (!r.out)
        r.out = calloc(1, 1);
    if (!r.err)
        r.err = calloc(1, 1);
    free(out);
    free(err);
    return r;
}

void hone_test_output_free(hone_test_output_t *output)
{
    free(output->out);
    free(output->err);
    memset(output, 0, sizeof *output);
}

int hone_test_file_count(const char *path, const char *needle)
{
    char *text = hone_test_read_file(path, NULL);
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p++)
        n++;
    free(text);
    return n;
}

/* The broker is ready once its log gains a "listening" line (logged after binding);
 * counting lines first lets a restarted broker append to the same log. */
pid_t hone_test_start_broker_args(const char *data_dir, const char *endpoint, const char *log_path,
                                  const char *const extra[], int *status)
{
    int before = hone_test_file_count(log_path, "listening");
    char *program = hone_test_program("hone-broker");
    char *argv[32] = { program, "--data", (char *) data_dir };
    int n = 3;
    if (endpoint) {
        argv[n++] = "--bind";
        argv[n++] = (char *) endpoint;
    }
    argv[n++] = "--log-level";
    argv[n++] = "info";
    for (int i = 0; extra && extra[i] && n < 31; i++)
        argv[n++] = (char *) extra[i];
    argv[n] = NULL;
    pid_t pid = hone_test_spawn(argv, NULL, log_path);
    free(program);
    int ignored;
    if (!status)
        status = &ignored;
    *status = -1;
    if (pid < 0)
        return -1;
    for (int waited = 0; waited < 10000; waited += 5) {
        if (hone_test_file_count(log_path, "listening") > before)
            return pid;
        if (waitpid(pid, status, WNOHANG) == pid)
            return -1;
        hone_test_sleep_ms(5);
    }
    hone_test_stop(pid, SIGKILL);
    *status = -1;
    return -1;
}

pid_t hone_test_start_broker(const char *data_dir, const char *endpoint, const char *log_path)
{
    return hone_test_start_broker_args(data_dir, endpoint, log_path, NULL, NULL);
}

int hone_test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof addr;
    if (fd < 0 || bind(fd, (struct sockaddr *) &addr, sizeof addr) != 0
        || getsockname(fd, (struct sockaddr *) &addr, &len) != 0) {
        perror("hone_test_free_port");
        abort();   /* no loopback port: no test can run */
    }
    close(fd);
    return ntohs(addr.sin_port);
}
