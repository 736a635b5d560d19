/* program.c: hone-worker's program for one trial as a process: spawned with
 * posix_spawnp (never through a shell) in its own process group, with stdout and stderr
 * on pipes; watched in a poll loop with the worker's self-pipe and the heartbeat timer;
 * stopped with SIGTERM, then SIGKILL after a grace period; reaped, with the end of its
 * stderr kept as a failure reason. */
#include "clock.h"
#include "err.h"
#include "log.h"
#include "runner.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define S_LOG HONE_RUNNER_LOG
#define S_KILL_GRACE_MS 5000            /* SIGTERM → SIGKILL when interrupted or the trial is lost */
#define S_EXIT_POLL_MS 50               /* pipes closed, program still running */

void hone_program_signal(hone_run_t *run, int sig)
{
    if (!run->exited && kill(-run->pid, sig) != 0 && errno == ESRCH)
        kill(run->pid, sig);
}

/* Asks the program to stop (SIGTERM or the signal received) and schedules SIGKILL. */
static void s_stop_program_after(hone_run_t *run, int sig, int64_t grace_ms)
{
    hone_program_signal(run, sig);
    if (!run->kill_at)
        run->kill_at = hone_clock_mono_ms() + grace_ms;
}

void hone_program_stop(hone_run_t *run, int sig)
{
    s_stop_program_after(run, sig, S_KILL_GRACE_MS);
}

/* After a reply to a reading or a heartbeat: when the broker stopped the trial early
 * (the SDK's flag), SIGTERM to the program's process group, SIGKILL after --stop-grace.
 * The trial is acknowledged once the program is gone (s_run_trial). */
void hone_program_check_early_stop(hone_run_t *run)
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

static void s_on_stderr(hone_run_t *run, const char *data, size_t n)
{
    if (fwrite(data, 1, n, stderr) != n) {
        /* stderr is gone: nothing to tell anyone */
    }
    if (n >= HONE_RUNNER_TAIL_MAX) {
        memcpy(run->tail, data + n - HONE_RUNNER_TAIL_MAX, HONE_RUNNER_TAIL_MAX);
        run->tail_len = HONE_RUNNER_TAIL_MAX;
        return;
    }
    if (run->tail_len + n > HONE_RUNNER_TAIL_MAX) {
        size_t drop = run->tail_len + n - HONE_RUNNER_TAIL_MAX;
        memmove(run->tail, run->tail + drop, run->tail_len - drop);
        run->tail_len -= drop;
    }
    memcpy(run->tail + run->tail_len, data, n);
    run->tail_len += n;
}

/* Reads what fd has; closes it at EOF. */
static void s_drain(hone_run_t *run, int *fd, bool is_stdout)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(*fd, buf, sizeof buf);
        if (n > 0) {
            if (is_stdout)
                hone_readings_stdout(run, buf, (size_t) n);
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

static void s_heartbeat(hone_run_t *run)
{
    hone_worker_t *w = run->runner->worker;
    int rc = hone_worker_heartbeat(w);
    if (rc == HONE_OK)
        hone_program_check_early_stop(run);
    if ((rc == HONE_ESTATE || rc == HONE_ELEASE) && !run->stopped) {
        /* stopped, or the lease expired and the trial went to another worker: the
         * evaluation is not wanted any more, and nothing is reported */
        hone_log_info(S_LOG, "trial %" PRIu64 " %s: %s", run->index,
                      rc == HONE_ELEASE ? "lost its lease" : "stopped by the broker", hone_worker_last_error(w));
        run->stopped = true;
        hone_program_stop(run, SIGTERM);
    } else if (rc != HONE_OK && rc != HONE_EINTR && rc != HONE_ESTATE && rc != HONE_ELEASE) {
        hone_log_warn(S_LOG, "heartbeat failed: %s (%s)", hone_worker_last_error(w), hone_err_name(rc));
    }
}

/* Runs the loop until the program has exited and its output is read. */
void hone_program_watch(hone_run_t *run)
{
    hone_runner_t *r = run->runner;
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
            hone_program_stop(run, SIGKILL);
        }
        if (fds[0].revents) {
            int before = r->interrupted;
            hone_runner_read_signals(r);
            if (r->interrupted && r->interrupted != before) {
                hone_log_warn(S_LOG, "interrupted: stopping trial %" PRIu64, run->index);
                if (before)
                    hone_program_signal(run, SIGKILL);  /* a second signal: no more grace */
                else
                    hone_program_stop(run, r->interrupted);
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
            hone_program_signal(run, SIGKILL);
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
        hone_readings_line(run, run->line, run->line_len);
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
void hone_program_failure_reason(const hone_run_t *run, char *reason, size_t size)
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

int hone_program_set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

int hone_program_pipe(int fds[2])
{
    if (pipe(fds) != 0)
        return -1;
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

/* Starts the program with stdout and stderr on pipes, in its own process group, with
 * default signal handling. Returns 0 or an errno value. */
int hone_program_spawn(hone_run_t *run, char **argv, char **env)
{
    int out[2], err[2];
    if (hone_program_pipe(out) != 0)
        return errno;
    if (hone_program_pipe(err) != 0) {
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
    hone_program_set_nonblocking(run->out_fd);
    hone_program_set_nonblocking(run->err_fd);
    return 0;
}
