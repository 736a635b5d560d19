/* proc.h: the fixture of the tests that run the real programs: a hone-broker child on
 * a temporary directory of its own, hone-worker children attached to it, and `hone`
 * runs against it. Include after <cmocka.h>'s prerequisites. */
#ifndef HONE_TEST_PROC_H
#define HONE_TEST_PROC_H

#include <sys/types.h>

/* Where the broker listens. */
typedef enum {
    HONE_TEST_TCP,      /* tcp://127.0.0.1:PORT, a port free when the fixture is made */
    HONE_TEST_IPC,      /* ipc://DIR/broker.sock */
} hone_test_transport_t;

/* A hone-broker child and its files. */
typedef struct {
    char *dir;          /* the test's temporary directory, removed by _destroy */
    char *data;         /* DIR/data: the broker's store, kept across restarts */
    char *log;          /* DIR/broker.log: its stderr, appended by every start */
    char endpoint[256]; /* where it listens, the same across restarts */
    pid_t pid;          /* the running broker, or -1 */
} hone_test_broker_t;

/* Makes the directory and picks the endpoint; the broker is not started. */
hone_test_broker_t *hone_test_broker_new(const char *tag, hone_test_transport_t transport);
/* Starts the broker (again) on the store and the endpoint, with extra hone-broker
 * arguments (NULL-terminated, or NULL); returns once it listens. Returns 0, or -1 when
 * it did not start (its log is printed on stderr). */
int hone_test_broker_start(hone_test_broker_t *self, const char *const extra[]);
/* _new and _start: *out is the running broker, or NULL after -1. */
int hone_test_broker_open(hone_test_broker_t **out, const char *tag, hone_test_transport_t transport);
/* Stops the broker with sig (hone_test_stop: SIGKILL after 5 s); a no-op when none runs. */
void hone_test_broker_stop(hone_test_broker_t *self, int sig);
/* Sends sig (0: none) and waits up to timeout_ms for the broker to end; returns its
 * wait status. Fails the test when it is still running. */
int hone_test_broker_wait(hone_test_broker_t *self, int sig, int timeout_ms);
/* Prints the broker's log on stderr when HONE_TEST_SHOW_LOG is set. */
void hone_test_broker_show_log(const hone_test_broker_t *self);
/* Stops a running broker (SIGTERM), removes the directory (kept when HONE_TEST_KEEP is
 * set, for a look at the broker's log after a failure), frees; safe twice. */
void hone_test_broker_destroy(hone_test_broker_t **self_p);

/* cmocka setup: *state is a broker running on loopback TCP; -1 when it did not start. */
int hone_test_broker_setup(void **state);
/* cmocka teardown: stops the broker in *state (SIGTERM), prints its log when
 * HONE_TEST_SHOW_LOG is set, and destroys it. */
int hone_test_broker_teardown(void **state);
/* A test run with a broker of its own (hone_test_broker_setup), in a CMUnitTest array. */
#define HONE_BROKER_TEST(test) cmocka_unit_test_setup_teardown(test, hone_test_broker_setup, hone_test_broker_teardown)

/* Starts `hone-worker --broker ENDPOINT --experiment EXPERIMENT --name NAME OPTIONS...
 * -- PROGRAM...` (options and program NULL-terminated; options may be NULL), its stdout
 * and stderr in DIR/NAME.out and DIR/NAME.err. Returns its pid. */
pid_t hone_test_spawn_worker(const hone_test_broker_t *broker, const char *experiment, const char *name,
                             const char *const options[], const char *const program[]);
/* Waits up to timeout_ms for that hone-worker to exit 0; fails the test with its
 * stderr when it exits otherwise, and kills it when it does not exit in time. */
void hone_test_wait_worker(const hone_test_broker_t *broker, pid_t pid, const char *name, int timeout_ms);
/* The stderr of hone-worker NAME so far (malloc'd; "" when there is none). */
char *hone_test_worker_log(const hone_test_broker_t *broker, const char *name);

/* Runs `hone --broker ENDPOINT ARGS...` (args NULL-terminated) to its end (at most
 * 10 s) and returns its stdout (malloc'd); fails the test unless it exits 0. */
char *hone_test_hone(const hone_test_broker_t *broker, const char *const args[]);

#endif
