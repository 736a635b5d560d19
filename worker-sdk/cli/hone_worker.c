/* hone_worker.c: hone-worker, which evaluates the trials of an experiment by running any
 * program once per trial (see usage below and worker-sdk/README.md).
 *
 * One thread: a poll loop over the program's stdout and stderr, a self-pipe written by
 * the SIGINT/SIGTERM handlers, and the heartbeat timer. The program is started with
 * posix_spawnp, never through a shell, in its own process group so that a stop or an
 * interruption reaches everything it started. */
#include "clock.h"
#include "err.h"
#include "log.h"
#include "args.h"
#include "json_line.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define S_LOG "worker"
#define S_TAIL_MAX 1000                 /* bytes of stderr kept for a failure reason */
#define S_LINE_MAX (1u << 20)           /* longest stdout line kept whole */
#define S_KILL_GRACE_MS 5000            /* SIGTERM → SIGKILL when interrupted or the trial is lost */
#define S_STOP_GRACE_MS 10000           /* SIGTERM → SIGKILL when stopped early (--stop-grace) */
#define S_EXIT_POLL_MS 50               /* pipes closed, program still running */
#define S_EXIT_USAGE 2
#define S_EXIT_FAILURE 1

/* Written by the signal handlers, read by the loop (program state, not library state). */
static int s_signal_fd = -1;

static void s_on_signal(int sig)
{
    int saved = errno;
    unsigned char byte = (unsigned char) sig;
    if (s_signal_fd >= 0 && write(s_signal_fd, &byte, 1) < 0) {
        /* the pipe is full: a signal is already pending */
    }
    errno = saved;
}

typedef struct {
    const char *broker;         /* endpoint, NULL: $HONE_BROKER or the default */
    const char *key;            /* this worker's secret certificate, NULL: $HONE_KEY or none */
    const char *broker_key;     /* the broker's public certificate, NULL: $HONE_BROKER_KEY or none */
    const char *experiment;     /* experiment to work on */
    const char *name;           /* worker name, NULL: host-pid */
    uint64_t max_trials;        /* 0: until the budget is spent */
    int32_t heartbeat_ms;       /* heartbeat period while the program runs; 0: the broker's */
    int32_t timeout_ms;         /* wait for one reply */
    int64_t stop_grace_ms;      /* early stop: SIGTERM, then SIGKILL after this long */
    char **command;             /* the program and its arguments, with placeholders */
} s_args_t;

typedef struct {
    s_args_t args;              /* the command line */
    hone_worker_t *worker;      /* connection to the broker */
    int signal_pipe[2];         /* self-pipe: [0] read by the loop */
    int interrupted;            /* SIGINT or SIGTERM received, 0 if none */
} s_runner_t;

/* One evaluation of one trial. */
typedef struct {
    s_runner_t *runner;         /* the worker around it */
    const hone_trial_t *trial;  /* the trial being evaluated */
    uint64_t index;             /* its index */
    pid_t pid;                  /* the program (and its process group) */
    int out_fd;                 /* its stdout, -1 after EOF */
    int err_fd;                 /* its stderr, -1 after EOF */
    char *line;                 /* stdout bytes not yet ended by a newline */
    size_t line_len;            /* bytes in line */
    size_t line_cap;            /* allocated bytes */
    char tail[S_TAIL_MAX];      /* last bytes of stderr */
    size_t tail_len;            /* bytes in tail */
    hone_json_reading_t last;   /* the last reading (n == 0: none yet) */
    bool exited;                /* the program has been reaped */
    int status;                 /* its wait status */
    bool stopped;               /* the trial is not ours any more (lease lost, abandoned) */
    bool early;                 /* the broker stopped the trial early: acknowledge it at the end */
    int64_t kill_at;            /* when to send SIGKILL, 0: not scheduled */
} s_run_t;

typedef enum { S_RUN_DONE, S_RUN_FATAL, S_RUN_INTERRUPTED } s_outcome_t;

/* ---- small helpers ---- */

typedef struct {
    char *data;                 /* NUL-terminated text */
    size_t len;                 /* bytes before the NUL */
    size_t cap;                 /* allocated bytes */
    bool oom;                   /* an append failed */
} s_buf_t;

static void s_buf_add(s_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->oom = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void s_buf_str(s_buf_t *b, const char *s)
{
    s_buf_add(b, s, strlen(s));
}

/* Shortest decimal text that reads back as v. */
static void s_format_double(double v, char *buf, size_t size)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* The text form of parameter i, as substituted and put in the environment. */
static void s_format_param(const hone_trial_t *trial, size_t i, s_buf_t *b)
{
    char num[40];
    double f;
    int64_t n;
    const char *s;
    bool flag;
    switch (hone_trial_param_type(trial, i)) {
    case HONE_TYPE_FLOAT:
        hone_trial_param_double(trial, i, &f);
        s_format_double(f, num, sizeof num);
        s_buf_str(b, num);
        break;
    case HONE_TYPE_INT:
        hone_trial_param_int(trial, i, &n);
        snprintf(num, sizeof num, "%" PRId64, n);
        s_buf_str(b, num);
        break;
    case HONE_TYPE_STR:
        hone_trial_param_str(trial, i, &s);
        s_buf_str(b, s);
        break;
    case HONE_TYPE_BOOL:
        hone_trial_param_bool(trial, i, &flag);
        s_buf_str(b, flag ? "true" : "false");
        break;
    default:
        break;
    }
}

/* "loss=0.31, acc=0.9±0.01" */
static void s_format_reading(const hone_json_reading_t *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n && used < size; i++) {
        int w = isnan(r->sems[i])
                    ? snprintf(buf + used, size - used, "%s%s=%g", i ? ", " : "", r->names[i], r->means[i])
                    : snprintf(buf + used, size - used, "%s%s=%g±%g", i ? ", " : "", r->names[i], r->means[i],
                               r->sems[i]);
        if (w < 0)
            break;
        used += (size_t) w;
    }
}

static bool s_is_identifier(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char) s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char) s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

/* Replaces {name} by the value of parameter name; {{ and }} stand for { and }. A brace
 * group that is not a parameter name but looks like one is an error (a typo); any other
 * brace is kept as it is, so JSON-like arguments pass unchanged. */
static int s_substitute(const char *arg, const hone_trial_t *trial, char **out, char *why, size_t why_size)
{
    s_buf_t b = { 0 };
    s_buf_add(&b, "", 0);
    for (const char *p = arg; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            s_buf_add(&b, p, 1);
            p += 2;
            continue;
        }
        if (p[0] == '{') {
            const char *end = p + 1;
            while (*end && *end != '}' && *end != '{' && *end != '"' && *end != '\''
                   && !isspace((unsigned char) *end))
                end++;
            size_t n = (size_t) (end - p - 1);
            if (*end == '}' && n > 0) {
                bool found = false;
                for (size_t i = 0; i < hone_trial_param_count(trial); i++) {
                    const char *name = hone_trial_param_name(trial, i);
                    if (strlen(name) == n && memcmp(name, p + 1, n) == 0) {
                        s_format_param(trial, i, &b);
                        found = true;
                        break;
                    }
                }
                if (found) {
                    p = end + 1;
                    continue;
                }
                if (s_is_identifier(p + 1, n)) {
                    snprintf(why, why_size, "argument '%s': no parameter named '%.*s' (write {{ for a literal brace)",
                             arg, (int) n, p + 1);
                    free(b.data);
                    return HONE_EINVAL;
                }
            }
        }
        s_buf_add(&b, p, 1);
        p++;
    }
    if (b.oom) {
        free(b.data);
        snprintf(why, why_size, "out of memory");
        return HONE_ENOMEM;
    }
    *out = b.data;
    return HONE_OK;
}

static void s_free_strv(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

static int s_build_argv(s_runner_t *r, const hone_trial_t *trial, char ***argv_out, char *why, size_t why_size)
{
    size_t n = 0;
    while (r->args.command[n])
        n++;
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) {
        snprintf(why, why_size, "out of memory");
        return HONE_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = s_substitute(r->args.command[i], trial, &argv[i], why, why_size);
        if (rc != HONE_OK) {
            s_free_strv(argv);
            return rc;
        }
    }
    *argv_out = argv;
    return HONE_OK;
}

static bool s_is_ours(const char *entry)
{
    return strncmp(entry, "HONE_PARAM_", 11) == 0 || strncmp(entry, "HONE_PARAMS=", 12) == 0
           || strncmp(entry, "HONE_TRIAL=", 11) == 0 || strncmp(entry, "HONE_EXPERIMENT=", 16) == 0;
}

/* The environment of the program: ours plus the inherited one (minus stale HONE_ ones).
 * Every string is a copy, so the whole vector is freed with s_free_strv. */
static char **s_build_env(const hone_trial_t *trial)
{
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    size_t n_params = hone_trial_param_count(trial);
    char **env = calloc(n_env + n_params + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n_params; i++) {
        s_buf_t b = { 0 };
        s_buf_str(&b, "HONE_PARAM_");
        s_buf_str(&b, hone_trial_param_name(trial, i));
        s_buf_str(&b, "=");
        s_format_param(trial, i, &b);
        ok = !b.oom;
        env[k++] = b.data;
    }
    char *params = hone_json_line_params(trial);
    s_buf_t b = { 0 };
    char index[32];
    snprintf(index, sizeof index, "%" PRIu64, hone_trial_index(trial));
    if (ok && params) {
        s_buf_str(&b, "HONE_PARAMS=");
        s_buf_str(&b, params);
        env[k++] = b.data;
        memset(&b, 0, sizeof b);
        s_buf_str(&b, "HONE_TRIAL=");
        s_buf_str(&b, index);
        env[k++] = b.data;
        memset(&b, 0, sizeof b);
        s_buf_str(&b, "HONE_EXPERIMENT=");
        s_buf_str(&b, hone_trial_experiment(trial));
        env[k++] = b.data;
    }
    free(params);
    ok = ok && params && k == n_params + 3;
    for (size_t i = 0; ok && i < k; i++)
        ok = env[i] != NULL;
    for (size_t i = 0; ok && i < n_env; i++)
        if (!s_is_ours(environ[i]))
            ok = (env[k++] = strdup(environ[i])) != NULL;
    if (!ok) {
        s_free_strv(env);
        return NULL;
    }
    return env;
}

static void s_sdk_log(int32_t level, const char *text, void *arg)
{
    (void) arg;
    HONE_LOG_AT((hone_log_level_t) level, "sdk", "%s", text);
}

/* Reads pending signal numbers; remembers SIGINT/SIGTERM. */
static void s_read_signals(s_runner_t *r)
{
    unsigned char bytes[16];
    ssize_t n;
    while ((n = read(r->signal_pipe[0], bytes, sizeof bytes)) > 0)
        for (ssize_t i = 0; i < n; i++)
            if (bytes[i] == SIGINT || bytes[i] == SIGTERM)
                r->interrupted = bytes[i];
}

/* ---- one trial ---- */

static void s_signal_program(s_run_t *run, int sig)
{
    if (!run->exited && kill(-run->pid, sig) != 0 && errno == ESRCH)
        kill(run->pid, sig);
}

/* Asks the program to stop (SIGTERM or the signal received) and schedules SIGKILL. */
static void s_stop_program_after(s_run_t *run, int sig, int64_t grace_ms)
{
    s_signal_program(run, sig);
    if (!run->kill_at)
        run->kill_at = hone_clock_mono_ms() + grace_ms;
}

static void s_stop_program(s_run_t *run, int sig)
{
    s_stop_program_after(run, sig, S_KILL_GRACE_MS);
}

/* After a reply to a reading or a heartbeat: when the broker stopped the trial early
 * (the SDK's flag), SIGTERM to the program's process group, SIGKILL after --stop-grace.
 * The trial is acknowledged once the program is gone (s_run_trial). */
static void s_check_early_stop(s_run_t *run)
{
    hone_worker_t *w = run->runner->worker;
    if (run->early || run->stopped || !hone_worker_stop_requested(w))
        return;
    run->early = true;
    int64_t grace = run->runner->args.stop_grace_ms;
    hone_log_info(S_LOG, "trial %" PRIu64 " stopped early by the broker; sending SIGTERM to the program (SIGKILL "
                  "after %" PRId64 ".%03d s). Why: %s", run->index, grace / 1000, (int) (grace % 1000),
                  hone_worker_stop_reason(w));
    s_stop_program_after(run, SIGTERM, grace);
}

static void s_passthrough(const char *line, size_t len)
{
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

static void s_on_line(s_run_t *run, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    hone_json_reading_t reading;
    char why[256];
    int rc = hone_json_line_parse_reading(line, len, true, &reading, why, sizeof why);
    if (rc == HONE_OK && reading.n == 0) {
        hone_json_line_reading_clear(&reading);
        rc = HONE_EINVAL;
        snprintf(why, sizeof why, "no metric in it");
    }
    if (rc != HONE_OK) {
        if (rc == HONE_EINVAL)
            hone_log_warn(S_LOG, "trial %" PRIu64 ": not a reading (%s): %.*s", run->index, why,
                          (int) (len > 200 ? 200 : len), line);
        else if (rc == HONE_ENOMEM)
            hone_log_warn(S_LOG, "trial %" PRIu64 ": out of memory parsing a line", run->index);
        s_passthrough(line, len);
        return;
    }
    hone_json_line_reading_clear(&run->last);
    run->last = reading;
    if (run->stopped)
        return;
    /* also after an early stop: the broker stores the reading (and repeats the stop) */
    hone_worker_t *w = run->runner->worker;
    rc = hone_worker_report(w, run->index, reading.n, (const char *const *) reading.names, reading.means,
                            reading.sems, reading.has_step, reading.step);
    if (rc == HONE_OK)
        s_check_early_stop(run);
    if (rc == HONE_ESTATE || rc == HONE_ELEASE) {
        hone_log_info(S_LOG, "trial %" PRIu64 " %s: %s", run->index,
                      rc == HONE_ELEASE ? "lost its lease" : "stopped by the broker", hone_worker_last_error(w));
        run->stopped = true;
        s_stop_program(run, SIGTERM);
    } else if (rc != HONE_OK && rc != HONE_EINTR) {
        hone_log_warn(S_LOG, "trial %" PRIu64 ": could not send a reading: %s (%s)", run->index,
                      hone_worker_last_error(w), hone_err_name(rc));
    }
}

/* Makes room for one more byte of the current line; false for an endless line (or no
 * memory), which is then passed on as it comes: it cannot be a reading. */
static bool s_line_room(s_run_t *run)
{
    if (run->line_len < run->line_cap)
        return true;
    if (run->line_cap >= S_LINE_MAX)
        return false;
    size_t cap = run->line_cap ? run->line_cap * 2 : 256;
    char *line = realloc(run->line, cap);
    if (!line)
        return false;
    run->line = line;
    run->line_cap = cap;
    return true;
}

static void s_on_stdout(s_run_t *run, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            s_on_line(run, run->line ? run->line : "", run->line_len);
            run->line_len = 0;
        } else if (s_line_room(run)) {
            run->line[run->line_len++] = data[i];
        } else {
            fwrite(run->line, 1, run->line_len, stdout);
            fputc(data[i], stdout);
            run->line_len = 0;
        }
    }
}

static void s_on_stderr(s_run_t *run, const char *data, size_t n)
{
    if (fwrite(data, 1, n, stderr) != n) {
        /* stderr is gone: nothing to tell anyone */
    }
    if (n >= S_TAIL_MAX) {
        memcpy(run->tail, data + n - S_TAIL_MAX, S_TAIL_MAX);
        run->tail_len = S_TAIL_MAX;
        return;
    }
    if (run->tail_len + n > S_TAIL_MAX) {
        size_t drop = run->tail_len + n - S_TAIL_MAX;
        memmove(run->tail, run->tail + drop, run->tail_len - drop);
        run->tail_len -= drop;
    }
    memcpy(run->tail + run->tail_len, data, n);
    run->tail_len += n;
}

/* Reads what fd has; closes it at EOF. */
static void s_drain(s_run_t *run, int *fd, bool is_stdout)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n > 0) {
            if (is_stdout)
                s_on_stdout(run, buf, (size_t) n);
            else
                s_on_stderr(run, buf, (size_t) n);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        close(*fd);  /* EOF or a read error */
        *fd = -1;
        return;
    }
}

static void s_heartbeat(s_run_t *run)
{
    hone_worker_t *w = run->runner->worker;
    int rc = hone_worker_heartbeat(w);
    if (rc == HONE_OK)
        s_check_early_stop(run);
    if ((rc == HONE_ESTATE || rc == HONE_ELEASE) && !run->stopped) {
        /* stopped, or the lease expired and the trial went to another worker: the
         * evaluation is not wanted any more, and nothing is reported */
        hone_log_info(S_LOG, "trial %" PRIu64 " %s: %s", run->index,
                      rc == HONE_ELEASE ? "lost its lease" : "stopped by the broker", hone_worker_last_error(w));
        run->stopped = true;
        s_stop_program(run, SIGTERM);
    } else if (rc != HONE_OK && rc != HONE_EINTR && rc != HONE_ESTATE && rc != HONE_ELEASE) {
        hone_log_warn(S_LOG, "heartbeat failed: %s (%s)", hone_worker_last_error(w), hone_err_name(rc));
    }
}

/* Runs the loop until the program has exited and its output is read. */
static void s_watch(s_run_t *run)
{
    s_runner_t *r = run->runner;
    /* the experiment's interval (its lease depends on it) unless --heartbeat-ms says */
    int32_t period = r->args.heartbeat_ms > 0 ? r->args.heartbeat_ms : hone_worker_heartbeat_interval(r->worker);
    int64_t next_heartbeat = hone_clock_mono_ms() + period;
    while (!run->exited) {
        struct pollfd fds[3] = {
            { .fd = r->signal_pipe[0], .events = POLLIN },
            { .fd = run->out_fd, .events = POLLIN },
            { .fd = run->err_fd, .events = POLLIN },
        };
        int64_t now = hone_clock_mono_ms();
        int64_t wake = next_heartbeat;
        if (run->kill_at && run->kill_at < wake)
            wake = run->kill_at;
        if (run->out_fd < 0 && run->err_fd < 0 && now + S_EXIT_POLL_MS < wake)
            wake = now + S_EXIT_POLL_MS;
        int timeout = wake > now ? (int) (wake - now) : 0;
        if (poll(fds, 3, timeout) < 0 && errno != EINTR) {
            hone_log_err(S_LOG, "poll failed: %s", strerror(errno));
            s_stop_program(run, SIGKILL);
        }
        if (fds[0].revents) {
            int before = r->interrupted;
            s_read_signals(r);
            if (r->interrupted && r->interrupted != before) {
                hone_log_warn(S_LOG, "interrupted: stopping trial %" PRIu64, run->index);
                if (before)
                    s_signal_program(run, SIGKILL);  /* a second signal: no more grace */
                else
                    s_stop_program(run, r->interrupted);
            }
        }
        if (run->out_fd >= 0 && fds[1].revents)
            s_drain(run, &run->out_fd, true);
        if (run->err_fd >= 0 && fds[2].revents)
            s_drain(run, &run->err_fd, false);
        if (waitpid(run->pid, &run->status, WNOHANG) == run->pid)
            run->exited = true;
        now = hone_clock_mono_ms();
        if (run->kill_at && now >= run->kill_at && !run->exited) {
            s_signal_program(run, SIGKILL);
            run->kill_at = now + S_KILL_GRACE_MS;
        }
        if (!run->exited && now >= next_heartbeat) {
            s_heartbeat(run);
            next_heartbeat = hone_clock_mono_ms() + period;
        }
    }
    /* Everything the program wrote is in the pipes now; a process it left behind may
     * keep them open, so read only what is there. */
    if (run->out_fd >= 0)
        s_drain(run, &run->out_fd, true);
    if (run->err_fd >= 0)
        s_drain(run, &run->err_fd, false);
    if (run->line_len > 0) {
        s_on_line(run, run->line, run->line_len);
        run->line_len = 0;
    }
    if (run->out_fd >= 0)
        close(run->out_fd);
    if (run->err_fd >= 0)
        close(run->err_fd);
    run->out_fd = run->err_fd = -1;
}

/* The failure reason of a program that did not exit 0: the tail of its stderr, else
 * what happened to it. */
static void s_failure_reason(const s_run_t *run, char *reason, size_t size)
{
    size_t start = 0, end = run->tail_len;
    while (start < end && ((unsigned char) run->tail[start] & 0xc0) == 0x80)
        start++;  /* a character cut in half by the tail */
    while (start < end && isspace((unsigned char) run->tail[start]))
        start++;
    while (end > start && isspace((unsigned char) run->tail[end - 1]))
        end--;
    if (end > start) {
        size_t n = end - start < size - 1 ? end - start : size - 1;
        memcpy(reason, run->tail + start, n);
        reason[n] = '\0';
        for (size_t i = 0; i < n; i++)
            if (reason[i] == '\0')
                reason[i] = ' ';
        hone_json_line_clean_utf8(reason);
    } else if (WIFSIGNALED(run->status)) {
        snprintf(reason, size, "program killed by signal %d (%s)", WTERMSIG(run->status), strsignal(WTERMSIG(run->status)));
    } else {
        snprintf(reason, size, "program exited with status %d", WEXITSTATUS(run->status));
    }
}

static void s_fail(s_runner_t *r, uint64_t index, const char *reason)
{
    int rc = hone_worker_fail(r->worker, index, reason);
    if (rc != HONE_OK)
        hone_log_err(S_LOG, "trial %" PRIu64 ": could not report the failure: %s (%s)", index,
                     hone_worker_last_error(r->worker), hone_err_name(rc));
}

static int s_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

static int s_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Starts the program with stdout and stderr on pipes, in its own process group, with
 * default signal handling. Returns 0 or an errno value. */
static int s_spawn(s_run_t *run, char **argv, char **env)
{
    int out[2], err[2];
    if (s_pipe(out) != 0)
        return errno;
    if (s_pipe(err) != 0) {
        int e = errno;
        close(out[0]);
        close(out[1]);
        return e;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
    sigset_t defaults, none;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGPIPE);
    sigaddset(&defaults, SIGCHLD);
    sigemptyset(&none);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setpgroup(&attr, 0);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);
    int e = posix_spawnp(&run->pid, argv[0], &actions, &attr, argv, env);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    close(out[1]);
    close(err[1]);
    if (e != 0) {
        close(out[0]);
        close(err[0]);
        return e;
    }
    run->out_fd = out[0];
    run->err_fd = err[0];
    s_set_nonblocking(run->out_fd);
    s_set_nonblocking(run->err_fd);
    return 0;
}

static s_outcome_t s_run_trial(s_runner_t *r, const hone_trial_t *trial)
{
    s_run_t run = { .runner = r, .trial = trial, .index = hone_trial_index(trial), .out_fd = -1, .err_fd = -1 };
    char why[1024];
    char **argv = NULL;
    char *params = hone_json_line_params(trial);
    hone_log_info(S_LOG, "trial %" PRIu64 " started: %s", run.index, params ? params : "");
    free(params);
    int rc = s_build_argv(r, trial, &argv, why, sizeof why);
    char **env = rc == HONE_OK ? s_build_env(trial) : NULL;
    if (rc == HONE_OK && !env) {
        snprintf(why, sizeof why, "out of memory");
        rc = HONE_ENOMEM;
    }
    int e = rc == HONE_OK ? s_spawn(&run, argv, env) : 0;
    if (rc == HONE_OK && e != 0) {
        snprintf(why, sizeof why, "cannot run '%s': %s", argv[0], strerror(e));
        rc = HONE_EIO;
    }
    s_free_strv(argv);
    s_free_strv(env);
    if (rc != HONE_OK) {
        hone_log_err(S_LOG, "trial %" PRIu64 ": %s", run.index, why);
        s_fail(r, run.index, why);
        return S_RUN_FATAL;
    }

    s_watch(&run);
    free(run.line);

    s_outcome_t outcome = S_RUN_DONE;
    char reason[S_TAIL_MAX + 1];
    if (r->interrupted) {
        s_fail(r, run.index, "worker interrupted");     /* acknowledges an early stop too */
        outcome = S_RUN_INTERRUPTED;
    } else if (run.stopped) {
        /* The broker already knows: nothing to report. */
    } else if (run.early) {
        /* Acknowledge the stop: every reading was sent as it came, so none is left to
         * carry; the trial stays EARLY_STOPPED (never COMPLETED or FAILED). */
        rc = hone_worker_complete(r->worker, run.index, 0, NULL, NULL, NULL);
        char how[96];
        if (WIFSIGNALED(run.status))
            snprintf(how, sizeof how, "the program ended by signal %d (%s)", WTERMSIG(run.status),
                     strsignal(WTERMSIG(run.status)));
        else
            snprintf(how, sizeof how, "the program exited with status %d", WEXITSTATUS(run.status));
        if (rc == HONE_OK)
            hone_log_info(S_LOG, "trial %" PRIu64 " ended EARLY_STOPPED (%s; the stop is acknowledged)", run.index,
                          how);
        else
            hone_log_err(S_LOG, "trial %" PRIu64 ": could not acknowledge its early stop: %s (%s)", run.index,
                         hone_worker_last_error(r->worker), hone_err_name(rc));
    } else if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0) {
        if (run.last.n == 0) {
            hone_log_warn(S_LOG, "trial %" PRIu64 " failed: program printed no reading", run.index);
            s_fail(r, run.index, "program printed no reading");
        } else {
            rc = hone_worker_complete(r->worker, run.index, run.last.n, (const char *const *) run.last.names,
                                      run.last.means, run.last.sems);
            char text[512];
            s_format_reading(&run.last, text, sizeof text);
            if (rc == HONE_OK && hone_worker_stop_requested(r->worker))
                hone_log_info(S_LOG, "trial %" PRIu64 " had been stopped early by the broker (it stays "
                              "EARLY_STOPPED): %s", run.index, hone_worker_stop_reason(r->worker));
            else if (rc == HONE_OK)
                hone_log_info(S_LOG, "trial %" PRIu64 " completed: %s", run.index, text);
            else
                hone_log_err(S_LOG, "trial %" PRIu64 ": could not complete it: %s (%s)", run.index,
                             hone_worker_last_error(r->worker), hone_err_name(rc));
        }
    } else {
        s_failure_reason(&run, reason, sizeof reason);
        if (WIFSIGNALED(run.status))
            hone_log_warn(S_LOG, "trial %" PRIu64 " failed (signal %d): %s", run.index, WTERMSIG(run.status), reason);
        else
            hone_log_warn(S_LOG, "trial %" PRIu64 " failed (exit status %d): %s", run.index,
                          WEXITSTATUS(run.status), reason);
        s_fail(r, run.index, reason);
    }
    hone_json_line_reading_clear(&run.last);
    return outcome;
}

/* ---- command line ---- */

static void s_usage(FILE *f)
{
    fputs("usage: hone-worker [--broker ENDPOINT] [--key FILE --broker-key FILE] --experiment NAME\n"
          "                   [--name NAME] [--max-trials K] [--heartbeat-ms MS] [--timeout MS]\n"
          "                   [--stop-grace SECONDS]\n"
          "                   -- COMMAND [ARG...]\n"
          "\n"
          "Evaluates the trials of an experiment by running COMMAND once per trial, until the\n"
          "broker says the budget is spent (exit 0) or K trials were run.\n"
          "\n"
          "options:\n"
          "  --broker ENDPOINT   the broker (default: $HONE_BROKER, else " HONE_DEFAULT_ENDPOINT ")\n"
          "  --key FILE          this worker's secret key (NAME.key_secret from 'hone keygen NAME'),\n"
          "                      for a broker started with --keys (default: $HONE_KEY)\n"
          "  --broker-key FILE   the broker's public key, KEYS/broker.key (default: $HONE_BROKER_KEY)\n"
          "  --experiment NAME   the experiment to work on (required)\n"
          "  --name NAME         this worker's identity; a worker restarted under the same\n"
          "                      name gets its running trial back (default: HOST-PID-RANDOM)\n"
          "  --max-trials K      stop after K trials (default: no limit)\n"
          "  --heartbeat-ms MS   heartbeat period while COMMAND runs (default: the experiment's\n"
          "                      leases.heartbeat_ms, from the broker; 1000 for older brokers)\n"
          "  --timeout MS        wait for each reply of the broker (default: 10000)\n"
          "  --stop-grace SECONDS  when the broker stops a trial early, COMMAND's process group\n"
          "                      gets SIGTERM, and SIGKILL this long after (default: 10;\n"
          "                      decimals allowed, 0: at once)\n"
          "  -h, --help          print this help and exit\n"
          "\n"
          "COMMAND runs directly (never through a shell). In its arguments {name} becomes the\n"
          "value of parameter name; {{ and }} stand for { and }. Its environment also has\n"
          "HONE_PARAM_<name> for each parameter, HONE_PARAMS (a JSON object of them all),\n"
          "HONE_TRIAL (the trial index) and HONE_EXPERIMENT.\n"
          "\n"
          "COMMAND reports by printing lines on stdout. A line that is a JSON object is a\n"
          "reading: each key a metric with a number (the mean) or [mean, sem]; the key \"step\"\n"
          "(an integer) is the progression, e.g. {\"loss\": 0.31, \"step\": 10}. Each reading is\n"
          "sent as it arrives; other lines are copied to stdout. Exit status 0 completes the\n"
          "trial with the last reading (no reading: the trial fails); another status or a\n"
          "signal fails it, with the end of COMMAND's stderr as the reason.\n"
          "\n"
          "Early stopping: when the experiment has an early_stopping block, the broker may\n"
          "stop a trial whose learning curve is hopeless, in its reply to a reading or a\n"
          "heartbeat. COMMAND then gets SIGTERM (SIGKILL after --stop-grace); its readings so\n"
          "far are kept, the trial ends EARLY_STOPPED (never COMPLETED or FAILED), and the\n"
          "next trial starts.\n"
          "\n"
          "exit status: 0 budget spent or K trials run; 1 error; 2 usage error;\n"
          "130/143 interrupted by SIGINT/SIGTERM (the running trial is failed).\n",
          f);
}

static int s_usage_error(const char *fmt, const char *arg)
{
    fputs("hone-worker: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs(" (try 'hone-worker --help')\n", stderr);
    return S_EXIT_USAGE;
}

/* Returns -1 when the arguments are fine, else the exit status. */
static int s_parse_args(int argc, char **argv, s_args_t *a)
{
    a->broker = getenv("HONE_BROKER");
    if (a->broker && !*a->broker)
        a->broker = NULL;
    a->key = getenv("HONE_KEY");
    if (a->key && !*a->key)
        a->key = NULL;
    a->broker_key = getenv("HONE_BROKER_KEY");
    if (a->broker_key && !*a->broker_key)
        a->broker_key = NULL;
    a->heartbeat_ms = 0;
    a->timeout_ms = 10000;
    a->stop_grace_ms = S_STOP_GRACE_MS;
    int i = 1;
    for (; i < argc; i++) {
        const char *arg = argv[i];
        if (streq(arg, "--")) {
            i++;
            break;
        }
        if (streq(arg, "-h") || streq(arg, "--help")) {
            s_usage(stdout);
            return 0;
        }
        if (arg[0] != '-')
            break;  /* the command starts here */
        const char *value = NULL;
        const char *eq = strchr(arg, '=');
        char option[32];
        if (eq && eq - arg < (ptrdiff_t) sizeof option) {
            memcpy(option, arg, (size_t) (eq - arg));
            option[eq - arg] = '\0';
            value = eq + 1;
        } else {
            snprintf(option, sizeof option, "%s", arg);
        }
        static const char *const with_value[] = { "--broker", "--experiment", "--name", "--max-trials",
                                                  "--heartbeat-ms", "--timeout", "--key", "--broker-key",
                                                  "--stop-grace" };
        bool known = false;
        for (size_t k = 0; k < HONE_ARRAY_LEN(with_value); k++)
            known = known || streq(option, with_value[k]);
        if (!known)
            return s_usage_error("unknown option '%s'", arg);
        if (!value) {
            if (i + 1 >= argc)
                return s_usage_error("option '%s' needs a value", arg);
            value = argv[++i];
        }
        int64_t n;
        if (streq(option, "--broker"))
            a->broker = value;
        else if (streq(option, "--key"))
            a->key = value;
        else if (streq(option, "--broker-key"))
            a->broker_key = value;
        else if (streq(option, "--experiment"))
            a->experiment = value;
        else if (streq(option, "--name"))
            a->name = value;
        else if (streq(option, "--max-trials")) {
            if (!hone_args_int(value, 1, INT64_MAX, &n))
                return s_usage_error("--max-trials must be a positive integer, not '%s'", value);
            a->max_trials = (uint64_t) n;
        } else if (streq(option, "--stop-grace")) {
            char *end = NULL;
            double seconds = strtod(value, &end);
            if (!*value || *end || !(seconds >= 0.0 && seconds <= 3600.0))
                return s_usage_error("--stop-grace must be a number of seconds from 0 to 3600, not '%s'", value);
            a->stop_grace_ms = (int64_t) llround(seconds * 1000.0);
        } else if (streq(option, "--heartbeat-ms")) {
            if (!hone_args_int(value, 10, 3600000, &n))
                return s_usage_error("--heartbeat-ms must be between 10 and 3600000, not '%s'", value);
            a->heartbeat_ms = (int32_t) n;
        } else {
            if (!hone_args_int(value, 1, INT32_MAX, &n))
                return s_usage_error("--timeout must be a positive number of milliseconds, not '%s'", value);
            a->timeout_ms = (int32_t) n;
        }
    }
    if (!a->experiment || !*a->experiment)
        return s_usage_error("%s", "--experiment NAME is required");
    if (!a->key != !a->broker_key)
        return s_usage_error("%s", a->key ? "--key needs --broker-key (or $HONE_BROKER_KEY) too"
                                          : "--broker-key needs --key (or $HONE_KEY) too");
    if (i >= argc)
        return s_usage_error("%s", "no command given (hone-worker [OPTIONS] -- COMMAND [ARG...])");
    a->command = &argv[i];
    return -1;
}

static int s_install_signals(s_runner_t *r)
{
    if (s_pipe(r->signal_pipe) != 0)
        return -1;
    s_set_nonblocking(r->signal_pipe[0]);
    s_set_nonblocking(r->signal_pipe[1]);
    s_signal_fd = r->signal_pipe[1];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = s_on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  /* no SA_RESTART: a blocking wait must end on a signal */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

static int s_exit_interrupted(s_runner_t *r)
{
    hone_log_warn(S_LOG, "interrupted by %s", r->interrupted == SIGINT ? "SIGINT" : "SIGTERM");
    return 128 + r->interrupted;
}

int main(int argc, char **argv)
{
    s_runner_t r;
    memset(&r, 0, sizeof r);
    int status = s_parse_args(argc, argv, &r.args);
    if (status >= 0)
        return status;
    if (s_install_signals(&r) != 0) {
        fprintf(stderr, "hone-worker: cannot create a pipe: %s\n", strerror(errno));
        return S_EXIT_FAILURE;
    }
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = r.args.timeout_ms;
    int rc = hone_worker_open(&r.worker, r.args.broker, r.args.experiment, r.args.name, &opts);
    if (rc != HONE_OK) {
        fprintf(stderr, "hone-worker: cannot connect to '%s' (%s)\n",
                r.args.broker ? r.args.broker : HONE_DEFAULT_ENDPOINT, hone_err_name(rc));
        return rc == HONE_EINVAL ? S_EXIT_USAGE : S_EXIT_FAILURE;
    }
    hone_worker_set_log(r.worker, s_sdk_log, NULL);
    if (r.args.key && (rc = hone_worker_set_curve(r.worker, r.args.key, r.args.broker_key)) != HONE_OK) {
        fprintf(stderr, "hone-worker: %s (%s)\n", hone_worker_last_error(r.worker), hone_err_name(rc));
        hone_worker_destroy(&r.worker);
        return S_EXIT_FAILURE;
    }
    uint64_t done = 0;
    status = 0;
    while (!r.args.max_trials || done < r.args.max_trials) {
        s_read_signals(&r);
        if (r.interrupted) {
            status = s_exit_interrupted(&r);
            break;
        }
        hone_trial_t *trial = NULL;
        rc = hone_worker_next(r.worker, &trial, -1);
        if (rc == HONE_EINTR || rc == HONE_EAGAIN)
            continue;
        if (rc == HONE_EDONE || rc == HONE_EEXHAUSTED) {
            hone_log_info(S_LOG, "no more trials for '%s': %s", r.args.experiment, hone_worker_last_error(r.worker));
            break;
        }
        if (rc != HONE_OK) {
            fprintf(stderr, "hone-worker: %s (%s)\n", hone_worker_last_error(r.worker), hone_err_name(rc));
            status = S_EXIT_FAILURE;
            break;
        }
        s_outcome_t outcome = s_run_trial(&r, trial);
        hone_trial_destroy(&trial);
        done++;
        if (outcome == S_RUN_INTERRUPTED) {
            status = s_exit_interrupted(&r);
            break;
        }
        if (outcome == S_RUN_FATAL) {
            status = S_EXIT_FAILURE;
            break;
        }
    }
    if (status == 0 && r.args.max_trials && done >= r.args.max_trials)
        hone_log_info(S_LOG, "ran %" PRIu64 " trial%s: done", done, done == 1 ? "" : "s");
    hone_worker_destroy(&r.worker);
    s_signal_fd = -1;
    close(r.signal_pipe[0]);
    close(r.signal_pipe[1]);
    return status;
}
