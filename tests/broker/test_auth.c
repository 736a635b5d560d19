/* Tests of broker/auth.c in one process: a key directory written with czmq's zcert, the
 * authenticator in front of a ROUTER socket on loopback TCP, DEALER peers with allowed,
 * unknown and no keys, roles, bad key directories, and what happens without the
 * authenticator (nobody gets in, because the ZAP domain is enforced). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "auth.h"         /* before czmq.h, whose streq macro would clash */
#include "test_support.h"

#include <czmq.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define S_WAIT_MS 500

typedef struct {
    char *dir;              /* the key directory */
    char *clients;          /* dir/clients */
    zcert_t *broker;        /* the broker's pair */
    zcert_t *worker;        /* allowed, role worker */
    zcert_t *client;        /* allowed, role client */
    zcert_t *plainrole;     /* allowed, no role */
    zcert_t *stranger;      /* not allowed */
} s_keys_t;

static char *s_join(const char *dir, const char *name)
{
    char *p = malloc(strlen(dir) + strlen(name) + 2);
    assert_non_null(p);
    sprintf(p, "%s/%s", dir, name);
    return p;
}

static void s_save_public(zcert_t *cert, const char *dir, const char *name)
{
    char *path = s_join(dir, name);
    assert_int_equal(zcert_save_public(cert, path), 0);
    free(path);
}

static zcert_t *s_cert(const char *role, const char *name)
{
    zcert_t *cert = zcert_new();
    assert_non_null(cert);
    if (role)
        zcert_set_meta(cert, "role", "%s", role);
    if (name)
        zcert_set_meta(cert, "name", "%s", name);
    return cert;
}

static int s_setup(void **state)
{
    s_keys_t *k = calloc(1, sizeof *k);
    k->dir = hone_test_tmpdir("auth");
    k->clients = s_join(k->dir, "clients");
    mkdir(k->clients, 0755);
    k->broker = s_cert(NULL, "broker");
    char *path = s_join(k->dir, "broker.key");
    zcert_save(k->broker, path);
    free(path);
    k->worker = s_cert("worker", "w1");
    k->client = s_cert("client", "alice");
    k->plainrole = s_cert(NULL, NULL);
    k->stranger = s_cert("client", "mallory");
    s_save_public(k->worker, k->clients, "w1.key");
    s_save_public(k->client, k->clients, "alice.key");
    s_save_public(k->plainrole, k->clients, "old.key");
    *state = k;
    return 0;
}

static int s_teardown(void **state)
{
    s_keys_t *k = *state;
    zcert_destroy(&k->broker);
    zcert_destroy(&k->worker);
    zcert_destroy(&k->client);
    zcert_destroy(&k->plainrole);
    zcert_destroy(&k->stranger);
    hone_test_rmtree(k->dir);
    free(k->dir);
    free(k->clients);
    free(k);
    return 0;
}

/* A ROUTER made a CURVE server by auth, bound on loopback; *port_out its port. */
static zsock_t *s_server(hone_auth_t *auth, int *port_out)
{
    zsock_t *router = zsock_new(ZMQ_ROUTER);
    assert_non_null(router);
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_auth_apply(auth, zsock_resolve(router), &err), HONE_OK);
    assert_int_equal(zsock_mechanism(router), ZMQ_CURVE);
    *port_out = zsock_bind(router, "tcp://127.0.0.1:*");
    assert_true(*port_out > 0);
    return router;
}

/* Sends "hello" from a DEALER with cert (NULL: no security) to the server and returns
 * the User-Id of what arrived within S_WAIT_MS (malloc'd), or NULL when nothing came. */
static char *s_exchange(zsock_t *router, int port, zcert_t *cert, const char *server_key)
{
    zsock_t *dealer = zsock_new(ZMQ_DEALER);
    assert_non_null(dealer);
    if (cert) {
        zcert_apply(cert, dealer);
        zsock_set_curve_serverkey(dealer, server_key);
    }
    assert_int_equal(zsock_connect(dealer, "tcp://127.0.0.1:%d", port), 0);
    assert_int_equal(zstr_send(dealer, "hello"), 0);
    zpoller_t *poller = zpoller_new(router, NULL);
    char *user_id = NULL;
    if (zpoller_wait(poller, S_WAIT_MS) == router) {
        zmq_msg_t id, body;
        zmq_msg_init(&id);
        zmq_msg_init(&body);
        assert_true(zmq_msg_recv(&id, zsock_resolve(router), 0) >= 0);
        assert_true(zmq_msg_recv(&body, zsock_resolve(router), 0) >= 0);
        assert_int_equal(zmq_msg_size(&body), 5);
        const char *uid = zmq_msg_gets(&body, "User-Id");
        user_id = strdup(uid ? uid : "");
        zmq_msg_close(&id);
        zmq_msg_close(&body);
    }
    zpoller_destroy(&poller);
    zsock_destroy(&dealer);
    return user_id;
}

static hone_auth_t *s_open(const char *dir)
{
    hone_auth_t *auth = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    int rc = hone_auth_open(&auth, dir, &err);
    if (rc != HONE_OK)
        fail_msg("hone_auth_open: %s", err.message);
    return auth;
}

static void test_allowed_keys_get_in_with_their_roles(void **state)
{
    s_keys_t *k = *state;
    hone_auth_t *auth = s_open(k->dir);
    assert_string_equal(hone_auth_public_key(auth), zcert_public_txt(k->broker));
    assert_int_equal(hone_auth_key_count(auth), 3);
    int port = 0;
    zsock_t *router = s_server(auth, &port);
    hone_error_t err;

    /* a worker key: its messages arrive, carrying its public key as User-Id */
    char *uid = s_exchange(router, port, k->worker, zcert_public_txt(k->broker));
    assert_non_null(uid);
    assert_string_equal(uid, zcert_public_txt(k->worker));
    const hone_msg_id_t worker_requests[] = { HONE_MSG_READY, HONE_MSG_PROGRESS, HONE_MSG_COMPLETE,
                                              HONE_MSG_FAIL, HONE_MSG_HEARTBEAT };
    for (size_t i = 0; i < sizeof worker_requests / sizeof worker_requests[0]; i++)
        assert_int_equal(hone_auth_check(auth, uid, worker_requests[i], &err), HONE_OK);
    const hone_msg_id_t client_requests[] = { HONE_MSG_CREATE, HONE_MSG_NEXT, HONE_MSG_ATTACH, HONE_MSG_MARK,
                                              HONE_MSG_BEST, HONE_MSG_STATUS, HONE_MSG_LIST, HONE_MSG_PREDICT };
    for (size_t i = 0; i < sizeof client_requests / sizeof client_requests[0]; i++) {
        hone_error_clear(&err);
        assert_int_equal(hone_auth_check(auth, uid, client_requests[i], &err), HONE_EPERM);
        assert_int_equal(err.code, HONE_EPERM);
        assert_non_null(strstr(err.message, "key 'w1' has role worker"));
        assert_non_null(strstr(err.message, hone_msg_name(client_requests[i])));
    }
    /* a reply type sent to the broker is the handlers' business (HONE_EPROTO) */
    assert_int_equal(hone_auth_check(auth, uid, HONE_MSG_OK, &err), HONE_OK);
    free(uid);

    /* a client key may send everything */
    uid = s_exchange(router, port, k->client, zcert_public_txt(k->broker));
    assert_non_null(uid);
    assert_string_equal(uid, zcert_public_txt(k->client));
    for (size_t i = 0; i < sizeof client_requests / sizeof client_requests[0]; i++)
        assert_int_equal(hone_auth_check(auth, uid, client_requests[i], &err), HONE_OK);
    assert_int_equal(hone_auth_check(auth, uid, HONE_MSG_READY, &err), HONE_OK);
    free(uid);

    /* a certificate without a role counts as a worker */
    uid = s_exchange(router, port, k->plainrole, zcert_public_txt(k->broker));
    assert_non_null(uid);
    assert_int_equal(hone_auth_check(auth, uid, HONE_MSG_READY, &err), HONE_OK);
    assert_int_equal(hone_auth_check(auth, uid, HONE_MSG_CREATE, &err), HONE_EPERM);
    free(uid);

    /* no User-Id, or a key that is not in the allow-list: nothing is allowed */
    assert_int_equal(hone_auth_check(auth, NULL, HONE_MSG_HEARTBEAT, &err), HONE_EPERM);
    assert_non_null(strstr(err.message, "not authenticated"));
    assert_int_equal(hone_auth_check(auth, "", HONE_MSG_HEARTBEAT, &err), HONE_EPERM);
    assert_int_equal(hone_auth_check(auth, zcert_public_txt(k->stranger), HONE_MSG_HEARTBEAT, &err), HONE_EPERM);
    assert_non_null(strstr(err.message, "allow-list"));

    zsock_destroy(&router);
    hone_auth_destroy(&auth);
    hone_auth_destroy(&auth);   /* safe twice */
}

static void test_unknown_and_plain_peers_get_nothing(void **state)
{
    s_keys_t *k = *state;
    hone_auth_t *auth = s_open(k->dir);
    int port = 0;
    zsock_t *router = s_server(auth, &port);
    /* a key not in the allow-list */
    assert_null(s_exchange(router, port, k->stranger, zcert_public_txt(k->broker)));
    /* no security at all */
    assert_null(s_exchange(router, port, NULL, NULL));
    /* an allowed key that trusts another server key cannot complete the handshake */
    assert_null(s_exchange(router, port, k->client, zcert_public_txt(k->stranger)));
    /* the allowed key still gets in: the refusals above were about the keys */
    char *uid = s_exchange(router, port, k->client, zcert_public_txt(k->broker));
    assert_non_null(uid);
    free(uid);
    zsock_destroy(&router);
    hone_auth_destroy(&auth);
}

static void test_keys_added_while_running(void **state)
{
    s_keys_t *k = *state;
    hone_auth_t *auth = s_open(k->dir);
    int port = 0;
    zsock_t *router = s_server(auth, &port);
    zcert_t *late = s_cert("client", "late");
    assert_null(s_exchange(router, port, late, zcert_public_txt(k->broker)));
    s_save_public(late, k->clients, "late.key");
    char *uid = NULL;
    /* zauth rereads the directory when it changes (its modification time has a
     * resolution of a second, hence the retries) */
    for (int attempt = 0; attempt < 6 && !uid; attempt++) {
        uid = s_exchange(router, port, late, zcert_public_txt(k->broker));
        if (!uid) {
            zclock_sleep(300);
            char *path = s_join(k->clients, "late.key");
            unlink(path);
            s_save_public(late, k->clients, "late.key");
            free(path);
        }
    }
    assert_non_null(uid);
    hone_error_t err;
    assert_int_equal(hone_auth_check(auth, uid, HONE_MSG_CREATE, &err), HONE_OK);
    free(uid);
    char *path = s_join(k->clients, "late.key");
    unlink(path);
    free(path);
    zcert_destroy(&late);
    zsock_destroy(&router);
    hone_auth_destroy(&auth);
}

static void test_without_the_authenticator_nobody_gets_in(void **state)
{
    s_keys_t *k = *state;
    hone_auth_t *auth = s_open(k->dir);
    int port = 0;
    zsock_t *router = s_server(auth, &port);
    char *uid = s_exchange(router, port, k->client, zcert_public_txt(k->broker));
    assert_non_null(uid);
    free(uid);
    zsock_destroy(&router);
    /* The same settings on a new socket, with the authenticator stopped: the enforced
     * ZAP domain turns "no handler" into "no entry", even for an allowed key. */
    router = zsock_new(ZMQ_ROUTER);
    hone_error_t err;
    assert_int_equal(hone_auth_apply(auth, zsock_resolve(router), &err), HONE_OK);
    hone_auth_destroy(&auth);
    port = zsock_bind(router, "tcp://127.0.0.1:*");
    assert_true(port > 0);
    assert_null(s_exchange(router, port, k->client, zcert_public_txt(k->broker)));
    zsock_destroy(&router);
}

static void test_one_handler_per_process(void **state)
{
    s_keys_t *k = *state;
    hone_auth_t *auth = s_open(k->dir);
    hone_auth_t *second = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_auth_open(&second, k->dir, &err), HONE_EIO);
    assert_null(second);
    assert_non_null(strstr(err.message, "another ZAP handler"));
    hone_auth_destroy(&auth);
    /* and the endpoint is free again afterwards */
    auth = s_open(k->dir);
    hone_auth_destroy(&auth);
}

/* hone_auth_open on dir fails with HONE_EINVAL and a message holding needle. */
static void s_expect_bad(const char *dir, const char *needle)
{
    hone_auth_t *auth = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_auth_open(&auth, dir, &err), HONE_EINVAL);
    assert_null(auth);
    if (!strstr(err.message, needle))
        fail_msg("'%s' does not contain '%s'", err.message, needle);
}

static void s_write(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_key_directories(void **state)
{
    s_keys_t *k = *state;
    char *dir = hone_test_tmpdir("badkeys");
    char *missing = s_join(dir, "missing");
    s_expect_bad(missing, "is not a directory");
    s_expect_bad(dir, "broker.key_secret");                 /* no broker certificate */

    /* a public broker certificate only */
    char *pub = s_join(dir, "broker.key");
    char *sec = s_join(dir, "broker.key_secret");
    zcert_save_public(k->broker, pub);
    s_write(sec, "metadata\ncurve\n    public-key = \"");
    s_expect_bad(dir, "is not a secret CURVE certificate");
    unlink(sec);
    /* a secret key that does not match its public key */
    s_write(sec, "");
    FILE *f = fopen(sec, "w");
    fprintf(f, "curve\n    public-key = \"%s\"\n    secret-key = \"%s\"\n", zcert_public_txt(k->client),
            zcert_secret_txt(k->broker));
    fclose(f);
    s_expect_bad(dir, "does not belong");
    unlink(sec);
    unlink(pub);
    zcert_save(k->broker, pub);

    /* no clients directory, then a junk file and a bad role in it */
    s_expect_bad(dir, "clients is not a directory");
    char *clients = s_join(dir, "clients");
    mkdir(clients, 0755);
    char *junk = s_join(clients, "junk.key");
    s_write(junk, "this is not a certificate\n");
    s_expect_bad(dir, "junk.key is not a CURVE certificate");
    unlink(junk);
    zcert_t *admin = s_cert("admin", NULL);
    s_save_public(admin, clients, "admin.key");
    s_expect_bad(dir, "role must be \"worker\" or \"client\", not \"admin\"");
    zcert_destroy(&admin);
    char *admin_path = s_join(clients, "admin.key");
    unlink(admin_path);

    /* an empty allow-list is allowed (with a warning): keys can be added later */
    hone_auth_t *auth = s_open(dir);
    assert_int_equal(hone_auth_key_count(auth), 0);
    hone_auth_destroy(&auth);

    free(admin_path);
    free(junk);
    free(clients);
    free(pub);
    free(sec);
    free(missing);
    hone_test_rmtree(dir);
    free(dir);
}

/* czmq 4.2.1's zconfig_load leaks its zfile_t when a file does not parse, which the bad
 * key directories above make it do (once per file, at start-up only). Read by
 * LeakSanitizer in sanitizer builds (hence exported); unused otherwise. */
const char *__lsan_default_suppressions(void) __attribute__((visibility("default")));
const char *__lsan_default_suppressions(void)
{
    return "leak:zconfig_load\n";
}

/* czmq is built without frame pointers: unwind slowly so that the stack reaches
 * zconfig_load. */
const char *__asan_default_options(void) __attribute__((visibility("default")));
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0";
}

int main(void)
{
    zsys_handler_set(NULL);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed_keys_get_in_with_their_roles),
        cmocka_unit_test(test_unknown_and_plain_peers_get_nothing),
        cmocka_unit_test(test_keys_added_while_running),
        cmocka_unit_test(test_without_the_authenticator_nobody_gets_in),
        cmocka_unit_test(test_one_handler_per_process),
        cmocka_unit_test(test_bad_key_directories),
    };
    int failed = cmocka_run_group_tests(tests, s_setup, s_teardown);
    zsys_shutdown();
    return failed;
}
