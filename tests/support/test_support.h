/* test_support.h: helpers shared by the test executables: temporary directories and
 * the paths of the built programs. Include after <cmocka.h>'s prerequisites. */
#ifndef HONE_TEST_SUPPORT_H
#define HONE_TEST_SUPPORT_H

#include <stddef.h>

/* Makes a fresh directory under $TMPDIR (or /tmp) and returns its malloc'd path. */
char *hone_test_tmpdir(const char *tag);
/* Removes a directory tree (best effort). */
void hone_test_rmtree(const char *path);
/* Path of a built program ("hone-broker", "hone", "hone-worker"): malloc'd. */
char *hone_test_program(const char *name);
/* Path of a file in the source tree, relative to the top: malloc'd. */
char *hone_test_source_path(const char *relative);
/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on error. */
char *hone_test_read_file(const char *path, size_t *size);

#endif

#include <sys/types.h>

/* Starts argv[0] with argv (NULL-terminated) as a child process; stdout/stderr go to
 * the given files (NULL: inherit). Returns the pid, or -1. */
pid_t hone_test_spawn(char *const argv[], const char *stdout_path, const char *stderr_path);
/* Waits up to timeout_ms for the child to exit. Returns 0 and its wait status in
 * *status, or -1 on timeout (the child is left running). */
int hone_test_wait(pid_t pid, int timeout_ms, int *status);
/* Sends sig, then waits up to 5 s (SIGKILL after that). */
void hone_test_stop(pid_t pid, int sig);
/* Starts hone-broker on data_dir bound to endpoint; returns its pid once the broker
 * answers (up to 10 s) or -1. Its log goes to data_dir/../broker-N.log. */
pid_t hone_test_start_broker(const char *data_dir, const char *endpoint, const char *log_path);
/* A TCP port on the loopback interface that was free a moment ago (bound to port 0,
 * read back, closed), for a broker's tcp://127.0.0.1:PORT endpoint. */
int hone_test_free_port(void);
/* Milliseconds to sleep in polling loops. */
void hone_test_sleep_ms(int ms);
