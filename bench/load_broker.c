/* load_broker.c: the hone-broker process bench_load measures: start it (fork/exec) on a
 * fresh store directory and an ephemeral loopback port, create its experiment, stop it,
 * attach a command to it (--attach), and read its CPU time and memory from /proc. */
#define _GNU_SOURCE
#include "bench_load.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int load_broker_read_mem(pid_t pid, load_mem_t *mem)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%ld/status", (long) pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    memset(mem, 0, sizeof *mem);
    char line[256];
    unsigned long kb;
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "VmHWM: %lu kB", &kb) == 1)
            mem->vm_hwm_mib = (double) kb / 1024.0;
        else if (sscanf(line, "RssAnon: %lu kB", &kb) == 1)
            mem->rss_anon_mib = (double) kb / 1024.0;
        else if (sscanf(line, "RssFile: %lu kB", &kb) == 1)
            mem->rss_file_mib = (double) kb / 1024.0;
    }
    fclose(f);
    return 0;
}

/* utime + stime of every thread of pid, in seconds; negative on failure. */
double load_broker_cpu_s(pid_t pid)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%ld/stat", (long) pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    const char *p = strrchr(buf, ')');     /* the command name may hold spaces */
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    /* after ")": state(3) ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
     * cmajflt utime(14) stime(15) */
    if (sscanf(p + 1, " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

static void s_remove_tree(const char *path)
{
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d))) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char child[1024];
            snprintf(child, sizeof child, "%s/%s", path, e->d_name);
            s_remove_tree(child);
        }
        closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

/* Reads the endpoint from the broker's "listening on ENDPOINT (" log line. */
static bool s_find_endpoint(const char *log_path, char *out, size_t size)
{
    FILE *f = fopen(log_path, "r");
    if (!f)
        return false;
    char line[1024];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        const char *p = strstr(line, "listening on ");
        if (!p)
            continue;
        p += strlen("listening on ");
        size_t n = strcspn(p, " \n");
        if (n > 0 && n < size) {
            memcpy(out, p, n);
            out[n] = '\0';
            found = true;
        }
    }
    fclose(f);
    return found;
}

int load_broker_start(const load_opts_t *opts, load_broker_t *b)
{
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "%s/hone-load-XXXXXX", opts->data_root);
    if (!mkdtemp(b->dir)) {
        fprintf(stderr, "bench_load: mkdtemp %s: %s\n", b->dir, strerror(errno));
        return -1;
    }
    char store[600], log_path[600];
    snprintf(store, sizeof store, "%s/store", b->dir);
    snprintf(log_path, sizeof log_path, "%s/broker.log", b->dir);
    const char *argv[8 + LOAD_MAX_BROKER_ARGS];
    int argc = 0;
    argv[argc++] = opts->broker;
    argv[argc++] = "--data";
    argv[argc++] = store;
    argv[argc++] = "--bind";
    argv[argc++] = "tcp://127.0.0.1:*";
    for (int i = 0; i < opts->n_broker_args; i++)
        argv[argc++] = opts->broker_args[i];
    argv[argc] = NULL;
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "bench_load: fork: %s\n", strerror(errno));
        return -1;
    }
    if (pid == 0) {
        int fd = open(log_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execv(opts->broker, (char *const *) argv);
        fprintf(stderr, "exec %s: %s\n", opts->broker, strerror(errno));
        _exit(127);
    }
    b->pid = pid;
    for (int i = 0; i < 1000; i++) {       /* up to 10 s */
        if (s_find_endpoint(log_path, b->endpoint, sizeof b->endpoint))
            return 0;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            fprintf(stderr, "bench_load: hone-broker exited at start-up; its log (%s):\n", log_path);
            b->pid = 0;
            FILE *f = fopen(log_path, "r");
            char line[1024];
            while (f && fgets(line, sizeof line, f))
                fputs(line, stderr);
            if (f)
                fclose(f);
            return -1;
        }
        load_sleep_ms(10);
    }
    fprintf(stderr, "bench_load: hone-broker did not report its endpoint in %s\n", log_path);
    return -1;
}

void load_broker_stop(const load_opts_t *opts, load_broker_t *b)
{
    if (b->pid > 0) {
        kill(b->pid, SIGTERM);
        int status;
        bool gone = false;
        for (int i = 0; i < 1000 && !gone; i++) {      /* up to 10 s, then SIGKILL */
            if (waitpid(b->pid, &status, WNOHANG) == b->pid)
                gone = true;
            else
                load_sleep_ms(10);
        }
        if (!gone) {
            fprintf(stderr, "bench_load: hone-broker ignored SIGTERM; killing it\n");
            kill(b->pid, SIGKILL);
            waitpid(b->pid, &status, 0);
        }
        b->pid = 0;
    }
    if (opts->keep)
        fprintf(stderr, "bench_load: kept %s\n", b->dir);
    else if (b->dir[0])
        s_remove_tree(b->dir);
}

double load_broker_store_mib(const load_broker_t *b)
{
    char path[600];
    snprintf(path, sizeof path, "%s/store/data.mdb", b->dir);
    struct stat st;
    return stat(path, &st) == 0 ? (double) st.st_size / (1024.0 * 1024.0) : NAN;
}

/* Runs `sh -c "exec CMD"` with %p replaced by the broker's pid and %w by the number
 * of workers (e.g. perf record -g -p %p -o perf.%w.data); returns its pid or -1. */
pid_t load_broker_attach(const char *cmd, pid_t broker, int workers)
{
    char expanded[2048];
    size_t o = 0;
    for (const char *p = cmd; *p && o + 32 < sizeof expanded; p++) {
        if (p[0] == '%' && p[1] == 'p') {
            o += (size_t) snprintf(expanded + o, sizeof expanded - o, "%ld", (long) broker);
            p++;
        } else if (p[0] == '%' && p[1] == 'w') {
            o += (size_t) snprintf(expanded + o, sizeof expanded - o, "%d", workers);
            p++;
        } else {
            expanded[o++] = *p;
        }
    }
    expanded[o] = '\0';
    char shell_cmd[2100];
    snprintf(shell_cmd, sizeof shell_cmd, "exec %s", expanded);
    fprintf(stderr, "bench_load: attaching: %s\n", expanded);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", shell_cmd, (char *) NULL);
        _exit(127);
    }
    return pid;
}

int load_broker_create_experiment(const char *endpoint)
{
    static const char config[] =
        "{\"name\": \"" LOAD_EXPERIMENT "\","
        " \"parameters\": ["
        "  {\"name\": \"x1\", \"bounds\": [-5.0, 10.0], \"parameter_type\": \"float\"},"
        "  {\"name\": \"x2\", \"bounds\": [0.0, 15.0], \"parameter_type\": \"float\"}],"
        " \"objective\": \"-loss\","
        " \"generation_strategy\": {\"method\": \"random_search\", \"initialization_random_seed\": 1},"
        " \"max_trials\": 0}";
    hone_client_t *client = NULL;
    hone_options_t o;
    hone_options_init(&o);
    o.timeout_ms = 10000;
    o.retries = 0;
    int rc = hone_client_open(&client, endpoint, &o);
    if (rc == HONE_OK)
        rc = hone_client_create(client, config, NULL);
    if (rc != HONE_OK)
        fprintf(stderr, "bench_load: cannot create the experiment: %s (%s)\n", hone_err_name(rc),
                hone_client_last_error(client));
    hone_client_destroy(&client);
    return rc;
}
