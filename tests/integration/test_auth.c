#define _GNU_SOURCE
/* Authentication end to end, with real processes on loopback TCP: keys made by
 * `hone keygen`, a `hone-broker --keys` in front of them, and the C SDK, `hone` and
 * `hone-worker` as peers.
 *
 *  - `hone keygen` writes the broker's directory and peer pairs (contents, modes, no
 *    overwrite), which czmq's zcert_load (the broker) reads;
 *  - an allowed worker key gets a trial and completes it (SDK and hone-worker); an
 *    allowed client key creates experiments and reads them;
 *  - a worker key cannot create an experiment or drive trials: HONE_EPERM, saying why,
 *    and nothing changes;
 *  - a key not in the allow-list, a peer without keys and a peer with the wrong broker
 *    key get nothing through: the first two are told at once (HONE_EPERM), the third
 *    times out; nothing changes either way;
 *  - a bad key directory stops the broker at start with one clear line;
 *  - without keys the broker binds to loopback by default and says so, and warns when
 *    told to listen on a network endpoint. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "hone.h"
#include "sdk_peers.h"
#include "test_support.h"

#define S_RUN_TIMEOUT_MS 60000
#define S_REFUSED_TIMEOUT_MS 1000

static const char s_config[] =
    "{\"name\": \"%s\", \"parameters\": [{\"name\": \"x\", \"bounds\": [0.0, 1.0], \"parameter_type\": \"float\"}],"
    " \"objective\": \"-y\", \"generation_strategy\": {\"method\": \"random_search\","
    " \"initialization_random_seed\": 3}, \"max_trials\": %d}";

typedef struct {
    char *dir;              /* temporary directory of the group */
    char *keys;             /* the broker's key directory */
    char *peers;            /* the peers' key pairs */
    char *hone;             /* the hone program */
    char *worker;           /* the hone-worker program */
    char *broker_program;   /* the hone-broker program */
    char endpoint[128];     /* where the broker listens */
    pid_t broker;           /* the hone-broker child */
} s_group_t;

static s_group_t s_group;

static char *s_path(const char *a, const char *b)
{
    char *p = NULL;
    assert_true(asprintf(&p, "%s/%s", a, b) > 0);
    return p;
}

/* Runs argv (argv[0] a full path) to the end, capturing its output. */
#define S_RUN(...) hone_test_run(s_group.dir, (char *const[]) { __VA_ARGS__, NULL }, S_RUN_TIMEOUT_MS)
#define S_HONE(...) S_RUN(s_group.hone, __VA_ARGS__)

static int s_lines(const char *text)
{
    int n = 0;
    for (const char *p = text; (p = strchr(p, '\n')); p++)
        n++;
    return n;
}

/* Starts hone-broker with extra arguments (NULL-terminated) on a fresh data directory;
 * waits for its "listening on" line and copies the endpoint it names into endpoint.
 * Returns the pid, or -1 when the broker exited (its status in *status). */
static pid_t s_start_broker(const char *tag, const char *const extra[], char *endpoint, size_t size, int *status,
                            char **log_out)
{
    char name[64];
    snprintf(name, sizeof name, "data-%s", tag);
    char *data = s_path(s_group.dir, name);
    snprintf(name, sizeof name, "broker-%s.log", tag);
    char *log = s_path(s_group.dir, name);
    pid_t pid = hone_test_start_broker_args(data, NULL, log, extra, status);
    free(data);
    *log_out = log;
    if (pid < 0) {
        if (*status == -1)
            fail_msg("hone-broker did not start");
        return -1;
    }
    char *text = hone_test_read_file(log, NULL);
    const char *p = strstr(text, "listening on ");
    assert_non_null(p);
    p += strlen("listening on ");
    size_t len = strcspn(p, " \n");
    assert_true(len < size);
    memcpy(endpoint, p, len);
    endpoint[len] = '\0';
    free(text);
    return pid;
}

static void s_keygen(const char *name, const char *role)
{
    hone_test_output_t r = S_HONE("keygen", (char *) name, "--role", (char *) role, "--dir", s_group.peers);
    if (r.status != 0)
        fail_msg("hone keygen %s: %s", name, r.err);
    hone_test_output_free(&r);
}

static void s_allow(const char *name)
{
    char file[64];
    snprintf(file, sizeof file, "%s.key", name);
    char *from = s_path(s_group.peers, file);
    char *clients = s_path(s_group.keys, "clients");
    char *to = s_path(clients, file);
    char *text = hone_test_read_file(from, NULL);
    assert_non_null(text);
    FILE *f = fopen(to, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(text);
    free(to);
    free(clients);
    free(from);
}

static int s_group_setup(void **state)
{
    (void) state;
    s_group.dir = hone_test_tmpdir("auth");
    s_group.keys = s_path(s_group.dir, "keys");
    s_group.peers = s_path(s_group.dir, "peers");
    s_group.hone = hone_test_program("hone");
    s_group.worker = hone_test_program("hone-worker");
    s_group.broker_program = hone_test_program("hone-broker");
    unsetenv("HONE_BROKER");
    unsetenv("HONE_KEY");
    unsetenv("HONE_BROKER_KEY");
    return 0;
}

static int s_group_teardown(void **state)
{
    (void) state;
    if (s_group.broker > 0)
        hone_test_stop(s_group.broker, SIGTERM);
    hone_test_rmtree(s_group.dir);
    free(s_group.dir);
    free(s_group.keys);
    free(s_group.peers);
    free(s_group.hone);
    free(s_group.worker);
    free(s_group.broker_program);
    return 0;
}

static char *s_peer_file(const char *name, const char *suffix)
{
    char file[64];
    snprintf(file, sizeof file, "%s%s", name, suffix);
    return s_path(s_group.peers, file);
}

static char *s_broker_key(void)
{
    return s_path(s_group.keys, "broker.key");
}

/* A client with name's key (NULL: none) and the given broker key file (NULL: the
 * broker's); one attempt of timeout_ms. */
static hone_client_t *s_client(const char *name, const char *broker_key, int32_t timeout_ms)
{
    hone_client_t *c = hone_test_client(s_group.endpoint, timeout_ms, 0);
    if (name) {
        char *key = s_peer_file(name, ".key_secret");
        char *bkey = broker_key ? strdup(broker_key) : s_broker_key();
        int rc = hone_client_set_curve(c, key, bkey);
        if (rc != HONE_OK)
            fail_msg("hone_client_set_curve: %s", hone_client_last_error(c));
        free(key);
        free(bkey);
    }
    return c;
}

static void s_create(hone_client_t *c, const char *name, int max_trials)
{
    char config[1024];
    snprintf(config, sizeof config, s_config, name, max_trials);
    hone_test_create(c, config, name);
}

/* ---- tests ---- */

static void test_keygen(void **state)
{
    (void) state;
    hone_test_output_t r = S_HONE("keygen", "--broker", s_group.keys);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "hone-broker --keys"));
    assert_string_equal(r.err, "");
    hone_test_output_free(&r);
    struct stat st;
    assert_int_equal(stat(s_group.keys, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0700);
    char *secret = s_path(s_group.keys, "broker.key_secret");
    assert_int_equal(stat(secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *text = hone_test_read_file(secret, NULL);
    assert_non_null(strstr(text, "secret-key = \""));
    free(text);
    char *public = s_broker_key();
    text = hone_test_read_file(public, NULL);
    assert_non_null(strstr(text, "public-key = \""));
    assert_null(strstr(text, "secret-key"));
    free(text);
    char *clients = s_path(s_group.keys, "clients");
    assert_int_equal(stat(clients, &st), 0);
    assert_true(S_ISDIR(st.st_mode));

    /* peers: a client, a worker (the default role), and one never allowed */
    r = S_HONE("--json", "keygen", "alice", "--role", "client", "--dir", s_group.peers);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"role\": \"client\""));
    assert_non_null(strstr(r.out, "alice.key_secret"));
    hone_test_output_free(&r);
    r = S_HONE("keygen", "gpu1", "--dir", s_group.peers);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "role worker"));
    hone_test_output_free(&r);
    s_keygen("mallory", "client");
    char *alice = s_peer_file("alice", ".key");
    text = hone_test_read_file(alice, NULL);
    assert_non_null(strstr(text, "role = \"client\""));
    assert_non_null(strstr(text, "name = \"alice\""));
    assert_null(strstr(text, "secret-key"));
    free(text);
    char *alice_secret = s_peer_file("alice", ".key_secret");
    assert_int_equal(stat(alice_secret, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    char *gpu1 = s_peer_file("gpu1", ".key");
    text = hone_test_read_file(gpu1, NULL);
    assert_non_null(strstr(text, "role = \"worker\""));
    free(text);

    /* never overwrites; refuses bad names and roles */
    r = S_HONE("keygen", "alice", "--dir", s_group.peers);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "exists"));
    assert_non_null(strstr(r.err, "HONE_EEXIST"));
    hone_test_output_free(&r);
    r = S_HONE("keygen", "--broker", s_group.keys);
    assert_int_equal(r.status, 1);
    hone_test_output_free(&r);
    r = S_HONE("keygen", "../evil", "--dir", s_group.peers);
    assert_int_equal(r.status, 2);
    hone_test_output_free(&r);
    r = S_HONE("keygen", "bob", "--role", "admin", "--dir", s_group.peers);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--role must be worker or client"));
    hone_test_output_free(&r);
    r = S_HONE("keygen", "bob", "--broker", s_group.keys);
    assert_int_equal(r.status, 2);
    hone_test_output_free(&r);
    r = S_HONE("keygen");
    assert_int_equal(r.status, 2);
    hone_test_output_free(&r);
    r = S_HONE("keygen", "--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "usage: hone [GLOBAL OPTIONS] keygen"));
    hone_test_output_free(&r);

    /* allow alice and gpu1, then start the broker with the keys */
    s_allow("alice");
    s_allow("gpu1");
    int status = 0;
    char *log = NULL;
    s_group.broker = s_start_broker("keys",
                                    (const char *[]) { "--keys", s_group.keys, "--bind", "tcp://127.0.0.1:*", NULL },
                                    s_group.endpoint, sizeof s_group.endpoint, &status, &log);
    assert_true(s_group.broker > 0);
    text = hone_test_read_file(log, NULL);
    assert_non_null(strstr(text, "CURVE"));
    assert_non_null(strstr(text, "2 peer key(s)"));
    free(text);
    free(log);
    free(gpu1);
    free(alice_secret);
    free(alice);
    free(clients);
    free(public);
    free(secret);
}

static void test_client_key_creates(void **state)
{
    (void) state;
    hone_client_t *c = s_client("alice", NULL, 10000);
    s_create(c, "auth_sdk", 3);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "auth_sdk", &st), HONE_OK);
    assert_int_equal(hone_status_max_trials(st), 3);
    hone_status_destroy(&st);
    hone_client_destroy(&c);

    /* the same through the command line, with --key / --broker-key and the environment */
    char *key = s_peer_file("alice", ".key_secret");
    char *bkey = s_broker_key();
    char *file = s_path(s_group.dir, "auth_cli.json");
    FILE *f = fopen(file, "w");
    fprintf(f, s_config, "auth_cli", 2);
    fclose(f);
    hone_test_output_t r = S_HONE("--broker", s_group.endpoint, "--key", key, "--broker-key", bkey, "create", file);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "created experiment 'auth_cli'\n");
    hone_test_output_free(&r);
    setenv("HONE_KEY", key, 1);
    setenv("HONE_BROKER_KEY", bkey, 1);
    r = S_HONE("--broker", s_group.endpoint, "--json", "status", "auth_cli");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "\"experiment\": \"auth_cli\""));
    hone_test_output_free(&r);
    unsetenv("HONE_BROKER_KEY");
    r = S_HONE("--broker", s_group.endpoint, "status", "auth_cli");
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--key needs --broker-key"));
    hone_test_output_free(&r);
    unsetenv("HONE_KEY");
    free(file);
    free(bkey);
    free(key);
}

static void test_worker_key_gets_a_trial(void **state)
{
    (void) state;
    hone_options_t opts;
    hone_options_init(&opts);
    hone_worker_t *w = NULL;
    assert_int_equal(hone_worker_open(&w, s_group.endpoint, "auth_sdk", "gpu1-sdk", &opts), HONE_OK);
    char *key = s_peer_file("gpu1", ".key");   /* NAME.key finds NAME.key_secret beside it */
    char *bkey = s_broker_key();
    assert_int_equal(hone_worker_set_curve(w, key, bkey), HONE_OK);
    hone_trial_t *t = NULL;
    int rc = hone_worker_next(w, &t, 10000);
    if (rc != HONE_OK)
        fail_msg("hone_worker_next: %s", hone_worker_last_error(w));
    assert_int_equal(hone_worker_heartbeat(w), HONE_OK);
    const char *names[] = { "y" };
    double means[] = { 0.25 };
    assert_int_equal(hone_worker_complete(w, hone_trial_index(t), 1, names, means, NULL), HONE_OK);
    hone_trial_destroy(&t);
    hone_worker_destroy(&w);

    /* hone-worker with --key runs the rest of the budget */
    char *secret = s_peer_file("gpu1", ".key_secret");
    hone_test_output_t r = S_RUN(s_group.worker, "--broker", s_group.endpoint, "--key", secret, "--broker-key", bkey,
                                 "--experiment", "auth_sdk", "--", "/bin/sh", "-c", "echo '{\"y\": 0.5}'");
    if (r.status != 0)
        fail_msg("hone-worker: %s", r.err);
    hone_test_output_free(&r);
    hone_client_t *c = s_client("alice", NULL, 10000);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "auth_sdk", &st), HONE_OK);
    assert_int_equal(hone_status_count(st, "COMPLETED"), 3);
    hone_status_destroy(&st);
    hone_client_destroy(&c);
    free(secret);
    free(bkey);
    free(key);
}

/* The trials of experiment, as seen by alice; for before/after comparisons. */
static size_t s_trial_count(const char *experiment)
{
    hone_client_t *c = s_client("alice", NULL, 10000);
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_list(c, experiment, &list), HONE_OK);
    size_t n = hone_trial_list_count(list);
    hone_trial_list_destroy(&list);
    hone_client_destroy(&c);
    return n;
}

static void s_expect_absent(const char *experiment)
{
    hone_client_t *c = s_client("alice", NULL, 10000);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, experiment, &st), HONE_ENOTFOUND);
    hone_client_destroy(&c);
}

static void test_worker_key_cannot_create_or_drive(void **state)
{
    (void) state;
    hone_client_t *c = s_client("gpu1", NULL, 10000);
    char config[1024];
    snprintf(config, sizeof config, s_config, "auth_by_worker", 5);
    char *name = NULL;
    assert_int_equal(hone_client_create(c, config, &name), HONE_EPERM);
    assert_null(name);
    assert_non_null(strstr(hone_client_last_error(c), "'create' is a client request"));
    assert_non_null(strstr(hone_client_last_error(c), "key 'gpu1' has role worker"));
    size_t before = s_trial_count("auth_cli");
    hone_trial_list_t *list = NULL;
    assert_int_equal(hone_client_next_trials(c, "auth_cli", 1, &list), HONE_EPERM);
    assert_null(list);
    assert_int_equal(hone_client_mark(c, "auth_sdk", 0, "ABANDONED", "no"), HONE_EPERM);
    hone_status_t *st = NULL;
    assert_int_equal(hone_client_status(c, "auth_sdk", &st), HONE_EPERM);
    /* the connection stays usable for what a worker may send */
    hone_client_destroy(&c);
    s_expect_absent("auth_by_worker");
    assert_int_equal(s_trial_count("auth_cli"), before);

    /* the command line says the same on one line */
    char *key = s_peer_file("gpu1", ".key_secret");
    char *bkey = s_broker_key();
    char *file = s_path(s_group.dir, "auth_by_worker.json");
    FILE *f = fopen(file, "w");
    fputs(config, f);
    fclose(f);
    hone_test_output_t r = S_HONE("--broker", s_group.endpoint, "--key", key, "--broker-key", bkey, "create", file);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_int_equal(s_lines(r.err), 1);
    assert_non_null(strstr(r.err, "hone: create: 'create' is a client request"));
    assert_non_null(strstr(r.err, "(HONE_EPERM)"));
    hone_test_output_free(&r);
    s_expect_absent("auth_by_worker");
    free(file);
    free(bkey);
    free(key);
}

static void test_refused_peers_get_nothing_through(void **state)
{
    (void) state;
    char config[1024];
    snprintf(config, sizeof config, s_config, "auth_intruder", 5);
    char *name = NULL;

    /* a key not in the allow-list: refused during the handshake, at once */
    hone_client_t *c = s_client("mallory", NULL, 5000);
    assert_int_equal(hone_client_create(c, config, &name), HONE_EPERM);
    assert_non_null(strstr(hone_client_last_error(c), "refused this key"));
    assert_int_equal(hone_client_create(c, config, &name), HONE_EPERM);    /* and again */
    hone_client_destroy(&c);

    /* no keys at all against a broker with keys */
    c = s_client(NULL, NULL, 5000);
    assert_int_equal(hone_client_create(c, config, &name), HONE_EPERM);
    assert_non_null(strstr(hone_client_last_error(c), "requires CURVE keys"));
    hone_client_destroy(&c);

    /* an allowed key that trusts the wrong broker key: no handshake, a timeout */
    char *wrong = s_peer_file("mallory", ".key");
    c = s_client("alice", wrong, S_REFUSED_TIMEOUT_MS);
    assert_int_equal(hone_client_create(c, config, &name), HONE_ETIMEDOUT);
    hone_client_destroy(&c);
    assert_null(name);
    s_expect_absent("auth_intruder");

    /* hone-worker with an unknown key stops with one line, without running anything */
    char *key = s_peer_file("mallory", ".key_secret");
    char *bkey = s_broker_key();
    size_t before = s_trial_count("auth_cli");
    hone_test_output_t r = S_RUN(s_group.worker, "--broker", s_group.endpoint, "--key", key, "--broker-key", bkey,
                                 "--experiment", "auth_cli", "--", "/bin/false");
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "HONE_EPERM"));
    hone_test_output_free(&r);
    assert_int_equal(s_trial_count("auth_cli"), before);
    free(bkey);
    free(key);
    free(wrong);
}

static void test_bad_key_directory_stops_the_broker(void **state)
{
    (void) state;
    char endpoint[128];
    int status = 0;
    char *log = NULL;
    char *missing = s_path(s_group.dir, "no-such-keys");
    pid_t pid = s_start_broker("missing",
                               (const char *[]) { "--keys", missing, "--bind", "tcp://127.0.0.1:*", NULL },
                               endpoint, sizeof endpoint, &status, &log);
    assert_int_equal(pid, -1);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    char *text = hone_test_read_file(log, NULL);
    assert_non_null(strstr(text, "hone-broker: keys: "));
    assert_non_null(strstr(text, "is not a directory"));
    assert_null(strstr(text, "listening"));
    free(text);
    free(log);
    /* the store was not touched */
    char *data = s_path(s_group.dir, "data-missing");
    struct stat st;
    assert_int_equal(stat(data, &st), -1);
    free(data);

    /* a peer directory holding junk */
    char *bad = s_path(s_group.dir, "badkeys");
    hone_test_output_t r = S_HONE("keygen", "--broker", bad);
    assert_int_equal(r.status, 0);
    hone_test_output_free(&r);
    char *clients = s_path(bad, "clients");
    char *junk = s_path(clients, "notes.txt");
    FILE *f = fopen(junk, "w");
    fputs("remember to rotate the keys\n", f);
    fclose(f);
    pid = s_start_broker("junk", (const char *[]) { "--keys", bad, "--bind", "tcp://127.0.0.1:*", NULL },
                         endpoint, sizeof endpoint, &status, &log);
    assert_int_equal(pid, -1);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 1);
    text = hone_test_read_file(log, NULL);
    assert_non_null(strstr(text, "notes.txt is not a CURVE certificate"));
    free(text);
    free(log);
    free(junk);
    free(clients);
    free(bad);
    free(missing);
}

static void test_default_bind_is_loopback(void **state)
{
    (void) state;
    hone_test_output_t r = S_RUN(s_group.broker_program, "--help");
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "default tcp://127.0.0.1:5555"));
    assert_non_null(strstr(r.out, "--keys DIR"));
    hone_test_output_free(&r);

    /* No --bind: the default endpoint, loopback, and the log says so. (Port 5555 may be
     * taken by another broker on this machine; the refusal then names it too.) */
    char endpoint[128];
    int status = 0;
    char *log = NULL;
    pid_t pid = s_start_broker("default", (const char *[]) { NULL }, endpoint, sizeof endpoint, &status, &log);
    char *text = hone_test_read_file(log, NULL);
    if (pid > 0) {
        assert_string_equal(endpoint, "tcp://127.0.0.1:5555");
        assert_non_null(strstr(text, "loopback only"));
        assert_non_null(strstr(text, "--keys to authenticate"));
        assert_null(strstr(text, "WARN"));
        hone_test_stop(pid, SIGTERM);
    } else {
        assert_non_null(strstr(text, "cannot bind tcp://127.0.0.1:5555"));
    }
    free(text);
    free(log);

    /* every interface without keys: allowed, with a warning */
    pid = s_start_broker("open", (const char *[]) { "--bind", "tcp://*:*", NULL }, endpoint, sizeof endpoint,
                         &status, &log);
    assert_true(pid > 0);
    hone_test_sleep_ms(50);
    text = hone_test_read_file(log, NULL);
    assert_non_null(strstr(text, "WARN"));
    assert_non_null(strstr(text, "no authentication"));
    assert_non_null(strstr(text, "--keys"));
    free(text);
    free(log);
    hone_test_stop(pid, SIGTERM);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_keygen),   /* makes the keys and starts the broker: first */
        cmocka_unit_test(test_client_key_creates),
        cmocka_unit_test(test_worker_key_gets_a_trial),
        cmocka_unit_test(test_worker_key_cannot_create_or_drive),
        cmocka_unit_test(test_refused_peers_get_nothing_through),
        cmocka_unit_test(test_bad_key_directory_stops_the_broker),
        cmocka_unit_test(test_default_bind_is_loopback),
    };
    return cmocka_run_group_tests(tests, s_group_setup, s_group_teardown);
}
