/* test_support.h: helpers shared by every test executable: temporary directories, the
 * paths of the built programs, child processes (started, waited for, or run to their
 * end with their output captured), a hone-broker child, and waiting for a condition
 * with a deadline. Include after <cmocka.h>'s prerequisites. */
#ifndef HONE_TEST_SUPPORT_H
#define HONE_TEST_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* ---- files ---- */

/* Makes a fresh directory under $TMPDIR (or /tmp) and returns its malloc'd path. */
char *hone_test_tmpdir(const char *tag);
/* Removes a directory tree (best effort). */
void hone_test_rmtree(const char *path);
/* Path of a built program ("hone-broker", "hone", "hone-worker", "hone-eval"): malloc'd. */
char *hone_test_program(const char *name);
/* Path of a file in the source tree, relative to the top: malloc'd. */
char *hone_test_source_path(const char *relative);
/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on error. */
char *hone_test_read_file(const char *path, size_t *size);
/* How many times needle occurs in the file (0 when it cannot be read). */
int hone_test_file_count(const char *path, const char *needle);

/* ---- waiting ---- */

/* Milliseconds to sleep in polling loops. */
void hone_test_sleep_ms(int ms);
/* Calls done(arg) until it returns true, sleeping poll_ms in between, for at most
 * timeout_ms (by the monotonic clock). Returns true when done said so, false when the
 * time ran out. */
bool hone_test_poll(bool (*done)(void *arg), void *arg, int timeout_ms, int poll_ms);

/* ---- child processes ---- */

/* Starts argv[0] with argv (NULL-terminated) as a child process; stdout/stderr go to
 * the given files (NULL: inherit). Returns the pid, or -1. */
pid_t hone_test_spawn(char *const argv[], const char *stdout_path, const char *stderr_path);
/* Waits up to timeout_ms for the child to exit. Returns 0 and its wait status in
 * *status, or -1 on timeout (the child is left running). */
int hone_test_wait(pid_t pid, int timeout_ms, int *status);
/* Sends sig, then waits up to 5 s (SIGKILL after that). */
void hone_test_stop(pid_t pid, int sig);

/* What a program run to its end printed, and how it ended. */
typedef struct {
    int status;         /* its exit status, or -1 when a signal ended it */
    char *out;          /* its stdout (malloc'd; "" when it printed nothing) */
    char *err;          /* its stderr, likewise */
} hone_test_output_t;

/* Runs argv (argv[0] a full path) to its end, its stdout and stderr captured in new
 * files under dir (dir/run-XXXXXX.out and .err, kept for a look). A program still
 * running after timeout_ms is killed and fails the test. */
hone_test_output_t hone_test_run(const char *dir, char *const argv[], int timeout_ms);
/* Frees what hone_test_run captured; safe twice. */
void hone_test_output_free(hone_test_output_t *output);

/* ---- hone-broker ---- */

/* Starts hone-broker on data_dir bound to endpoint, its stderr appended to log_path;
 * returns its pid once it listens (up to 10 s) or -1. */
pid_t hone_test_start_broker(const char *data_dir, const char *endpoint, const char *log_path);
/* The same with more: `hone-broker --data DATA_DIR [--bind ENDPOINT] --log-level info
 * EXTRA...` (endpoint NULL: the broker's default; extra NULL-terminated, or NULL). The
 * broker listens once its log gains a "listening" line. Returns its pid; or -1 when it
 * exited first (its wait status in *status, when status is not NULL) or did not listen
 * within 10 s (it is killed; *status is -1). */
pid_t hone_test_start_broker_args(const char *data_dir, const char *endpoint, const char *log_path,
                                  const char *const extra[], int *status);
/* A TCP port on the loopback interface that was free a moment ago (bound to port 0,
 * read back, closed), for a broker's tcp://127.0.0.1:PORT endpoint. */
int hone_test_free_port(void);

#endif
