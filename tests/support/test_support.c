#define _GNU_SOURCE
#include "test_support.h"

#include <arpa/inet.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
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

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

void hone_test_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long) (ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
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

static int s_count_listening(const char *log_path)
{
    char *log = hone_test_read_file(log_path, NULL);
    int lines = 0;
    for (char *p = log; p && (p = strstr(p, "listening")); p++)
        lines++;
    free(log);
    return lines;
}

/* The broker is ready once its log gains a "listening" line (logged after binding);
 * counting lines first lets a restarted broker append to the same log. */
pid_t hone_test_start_broker(const char *data_dir, const char *endpoint, const char *log_path)
{
    int before = s_count_listening(log_path);
    char *program = hone_test_program("hone-broker");
    char *argv[] = { program, "--data", (char *) data_dir, "--bind", (char *) endpoint,
                     "--log-level", "info", NULL };
    pid_t pid = hone_test_spawn(argv, NULL, log_path);
    free(program);
    if (pid < 0)
        return -1;
    for (int waited = 0; waited < 10000; waited += 20) {
        if (s_count_listening(log_path) > before)
            return pid;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return -1;
        hone_test_sleep_ms(20);
    }
    hone_test_stop(pid, SIGKILL);
    return -1;
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
