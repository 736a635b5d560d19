/* runner.h: what the files of hone-worker share (internal, never installed).
 *
 * hone_worker.c holds main, the options, the worker's own signals and the trial loop;
 * command.c builds the program's arguments and environment from a trial; program.c
 * spawns the program in its own process group, watches it (output, heartbeats,
 * signals, the SIGTERM → SIGKILL grace) and reaps it; readings.c turns its stdout
 * lines into readings. */
#ifndef HONE_CLI_RUNNER_H
#define HONE_CLI_RUNNER_H

#include "json_line.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define HONE_RUNNER_LOG "worker"         /* the log topic of hone-worker */
#define HONE_RUNNER_TAIL_MAX 1000        /* bytes of stderr kept for a failure reason */

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
} hone_runner_args_t;

typedef struct {
    hone_runner_args_t args;              /* the command line */
    hone_worker_t *worker;      /* connection to the broker */
    int signal_pipe[2];         /* self-pipe: [0] read by the loop */
    int interrupted;            /* SIGINT or SIGTERM received, 0 if none */
} hone_runner_t;

/* One evaluation of one trial. */
typedef struct {
    hone_runner_t *runner;         /* the worker around it */
    const hone_trial_t *trial;  /* the trial being evaluated */
    uint64_t index;             /* its index */
    pid_t pid;                  /* the program (and its process group) */
    int out_fd;                 /* its stdout, -1 after EOF */
    int err_fd;                 /* its stderr, -1 after EOF */
    char *line;                 /* stdout bytes not yet ended by a newline */
    size_t line_len;            /* bytes in line */
    size_t line_cap;            /* allocated bytes */
    char tail[HONE_RUNNER_TAIL_MAX];      /* last bytes of stderr */
    size_t tail_len;            /* bytes in tail */
    hone_json_reading_t last;   /* the last reading (n == 0: none yet) */
    bool exited;                /* the program has been reaped */
    int status;                 /* its wait status */
    bool stopped;               /* the trial is not ours any more (lease lost, abandoned) */
    bool early;                 /* the broker stopped the trial early: acknowledge it at the end */
    int64_t kill_at;            /* when to send SIGKILL, 0: not scheduled */
} hone_run_t;

/* ---- hone_worker.c ---- */

/* Reads pending signal numbers; remembers SIGINT/SIGTERM. */
void hone_runner_read_signals(hone_runner_t *r);

/* ---- command.c: the program's command line and environment ---- */

/* Substitutes the trial's parameters into the command (r->args.command); the vector is
 * freed with hone_command_free. On error, why says what is wrong. */
int hone_command_argv(hone_runner_t *r, const hone_trial_t *trial, char ***argv_out, char *why, size_t why_size);

/* The environment of the program: ours plus the inherited one (minus stale HONE_ ones),
 * freed with hone_command_free; NULL when memory runs out. */
char **hone_command_env(const hone_trial_t *trial);

/* Frees a NULL-terminated vector of strings and the strings; NULL is a no-op. */
void hone_command_free(char **v);

/* ---- readings.c: the program's stdout ---- */

/* Takes n bytes of the program's stdout: each whole line is a reading or passed on. */
void hone_readings_stdout(hone_run_t *run, const char *data, size_t n);

/* Takes one line (without its newline): a reading is kept and sent, another line is
 * copied to stdout. */
void hone_readings_line(hone_run_t *run, const char *line, size_t len);

/* "loss=0.31, acc=0.9±0.01" */
void hone_readings_format(const hone_json_reading_t *r, char *buf, size_t size);

/* ---- program.c: the program's process group ---- */

/* Starts the program with stdout and stderr on pipes, in its own process group, with
 * default signal handling. Returns 0 or an errno value. */
int hone_program_spawn(hone_run_t *run, char **argv, char **env);

/* Runs the loop until the program has exited and its output is read. */
void hone_program_watch(hone_run_t *run);

/* Sends sig to the program's process group (or to the program alone). */
void hone_program_signal(hone_run_t *run, int sig);

/* Asks the program to stop (SIGTERM or the signal received) and schedules SIGKILL. */
void hone_program_stop(hone_run_t *run, int sig);

/* After a reply to a reading or a heartbeat: SIGTERM when the broker stopped the trial
 * early, SIGKILL after --stop-grace. */
void hone_program_check_early_stop(hone_run_t *run);

/* The failure reason of a program that did not exit 0. */
void hone_program_failure_reason(const hone_run_t *run, char *reason, size_t size);

/* A pipe whose ends are closed on exec; 0 or -1 (errno set). */
int hone_program_pipe(int fds[2]);

int hone_program_set_nonblocking(int fd);

#endif
