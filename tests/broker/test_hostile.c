#define _GNU_SOURCE
/* Hostile input against a real hone-broker process (PROTOCOL.md §2.7 and §3): a broker
 * on a loopback TCP port, fed over raw DEALER sockets with every hostile vector of
 * proto/vectors/hostile, truncated frames, frames above the socket's size limit, deep
 * nesting, wrongly typed fields, unknown versions, multi-frame garbage and empty
 * frames. After each case the broker must have answered with an `error` frame carrying
 * the code the protocol names (and the request's seq when its header is readable), or
 * dropped the frame (only libzmq does that, for a frame above ZMQ_MAXMSGSIZE, taking
 * the connection with it); and a normal request must still work. Finally 10 000
 * hostile frames must not make the broker's resident memory grow.
 *
 * Every wait is bounded (zpoller with timeouts); the random frames use a fixed seed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "err.h"
#include "proc.h"
#include "test_support.h"
#include "wire.h"

#include "peer.h"   /* after the hone headers: czmq defines a streq macro */

#define S_REPLY_TIMEOUT_MS 5000
/* how long a frame that gets no answer is waited for */
#define S_SILENCE_MS 300

typedef struct {
    hone_test_broker_t *broker; /* the hone-broker process, on loopback TCP */
    zsock_t *client;            /* DEALER connected to it */
    uint64_t seq;               /* last seq used by hone_test_req */
} fixture_t;

/* ---- the broker ---- */

static void s_call_ok(fixture_t *f, hone_msg_t *msg, hone_msg_id_t want);

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->seq = 1000;
    assert_int_equal(hone_test_broker_open(&f->broker, "hostile", HONE_TEST_TCP), 0);
    f->client = hone_peer_connect(f->broker->endpoint);

    /* an experiment with three trials, for the requests that must keep working */
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_CREATE, NULL);
    assert_int_equal(hone_msg_set_str(msg, "config",
        "{\"name\": \"base\", \"parameters\": ["
        "{\"name\": \"x1\", \"bounds\": [-5.0, 10.0], \"parameter_type\": \"float\"},"
        "{\"name\": \"opt\", \"values\": [\"adam\", \"sgd\"], \"parameter_type\": \"str\"}],"
        " \"objective\": \"-obj\", \"generation_strategy\": {\"method\": \"random_search\","
        " \"initialization_random_seed\": 7}, \"max_trials\": 50}"), HONE_OK);
    s_call_ok(f, msg, HONE_MSG_OK);
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "base");
    assert_int_equal(hone_msg_set_int(msg, "count", 3), HONE_OK);
    s_call_ok(f, msg, HONE_MSG_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    zsock_destroy(&f->client);
    /* still up, and stops cleanly */
    assert_int_equal(kill(f->broker->pid, 0), 0);
    int status = hone_test_broker_wait(f->broker, SIGTERM, 10000);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    hone_test_broker_show_log(f->broker);
    char *log = hone_test_read_file(f->broker->log, NULL);
    assert_non_null(log);
    assert_null(strstr(log, " ERROR ["));        /* no broker failure */
    /* one entry per line: a key holding a newline must not start a line of its own */
    for (const char *line = log; *line; line = strchr(line, '\n') + 1) {
        if (!(line[0] >= '0' && line[0] <= '9'))
            fail_msg("a log line that is not a log entry: %.80s", line);
        if (!strchr(line, '\n'))
            break;
    }
    free(log);
    hone_test_broker_destroy(&f->broker);
    free(f);
    return 0;
}

static long s_rss_kb(pid_t pid)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int) pid);
    FILE *status = fopen(path, "r");     /* a /proc file has no size to seek to */
    assert_non_null(status);
    long kb = -1;
    while (kb < 0 && fgets(line, sizeof line, status))
        if (strncmp(line, "VmRSS:", 6) == 0)
            kb = strtol(line + 6, NULL, 10);
    fclose(status);
    assert_true(kb > 0);
    return kb;
}

/* ---- frames ---- */

/* The next message's frames, or NULL after timeout_ms. */
static zmsg_t *s_recv_msg(zsock_t *sock, int timeout_ms)
{
    zpoller_t *poller = zpoller_new(sock, NULL);
    zmsg_t *msg = zpoller_wait(poller, timeout_ms) ? zmsg_recv(sock) : NULL;
    zpoller_destroy(&poller);
    return msg;
}

/* The next reply, decoded (a reply that does not decode fails the test); NULL after
 * timeout_ms. *delimited (nullable) tells whether an empty frame came first. */
static hone_msg_t *s_recv_reply(zsock_t *sock, int timeout_ms, bool *delimited)
{
    zmsg_t *msg = s_recv_msg(sock, timeout_ms);
    if (!msg)
        return NULL;
    size_t parts = zmsg_size(msg);
    zframe_t *first = zmsg_first(msg);
    bool delim = parts == 2 && zframe_size(first) == 0;
    if (delimited)
        *delimited = delim;
    assert_true(parts == 1 || delim);
    zframe_t *frame = zmsg_last(msg);
    hone_msg_t *reply = hone_test_decode(zframe_data(frame), zframe_size(frame));
    zmsg_destroy(&msg);
    return reply;
}

/* Asserts that reply is `error` with code and seq, and takes it. */
static void s_check_error(hone_msg_t **reply, int code, uint64_t seq, const char *what)
{
    if (!*reply)
        fail_msg("%s: no reply within %d ms", what, S_REPLY_TIMEOUT_MS);
    int64_t got = hone_msg_id(*reply) == HONE_MSG_ERROR ? hone_test_int(*reply, "code") : 0;
    if (got != code || hone_msg_seq(*reply) != seq) {
        char *text = hone_msg_to_text(*reply);
        fail_msg("%s: expected error %s seq=%llu, got: %s", what, hone_err_name(code),
                 (unsigned long long) seq, text);
    }
    const char *message = NULL;
    hone_error_t err;
    assert_int_equal(hone_msg_get_str(*reply, "message", &message, &err), HONE_OK);
    assert_true(message[0] != '\0');
    assert_null(strchr(message, '\n'));
    hone_msg_destroy(reply);
}

static void s_expect_error(zsock_t *sock, int code, uint64_t seq, const char *what)
{
    hone_msg_t *reply = s_recv_reply(sock, S_REPLY_TIMEOUT_MS, NULL);
    s_check_error(&reply, code, seq, what);
}

/* Sends msg (taken) and expects a reply of type want with its seq. */
static void s_call_ok(fixture_t *f, hone_msg_t *msg, hone_msg_id_t want)
{
    uint64_t seq = hone_msg_seq(msg);
    hone_peer_send(f->client, &msg);
    hone_msg_t *reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, NULL);
    assert_non_null(reply);
    if (hone_msg_id(reply) != want || hone_msg_seq(reply) != seq) {
        char *text = hone_msg_to_text(reply);
        fail_msg("expected %s seq=%llu, got: %s", hone_msg_name(want), (unsigned long long) seq, text);
    }
    hone_msg_destroy(&reply);
}

/* Sends msg (taken) and expects an error reply with code and the request's seq. */
static void s_call_error(fixture_t *f, hone_msg_t *msg, int code, const char *what)
{
    uint64_t seq = hone_msg_seq(msg);
    hone_peer_send(f->client, &msg);
    s_expect_error(f->client, code, seq, what);
}

/* The broker is up and serves normal requests: a heartbeat and a status. */
static void s_alive(fixture_t *f)
{
    assert_int_equal(kill(f->broker->pid, 0), 0);
    s_call_ok(f, hone_test_req(&f->seq, HONE_MSG_HEARTBEAT, NULL), HONE_MSG_HEARTBEAT);
    hone_msg_t *msg = hone_test_req(&f->seq, HONE_MSG_STATUS, "base");
    uint64_t seq = hone_msg_seq(msg);
    hone_peer_send(f->client, &msg);
    hone_msg_t *reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, NULL);
    assert_non_null(reply);
    assert_int_equal(hone_msg_id(reply), HONE_MSG_OK);
    assert_true(hone_msg_seq(reply) == seq);
    assert_int_equal(hone_test_int(reply, "total"), 3);
    hone_msg_destroy(&reply);
}

/* The first bytes of [ "HONE", version, type, seq, ... ] declaring count elements. */
static size_t s_header(uint8_t *p, const char *type, uint64_t version, uint64_t seq, unsigned count)
{
    size_t n = 0;
    p[n++] = (uint8_t) (0x90 | count);
    p[n++] = 0xa4;
    memcpy(p + n, "HONE", 4);
    n += 4;
    p[n++] = 0xcf;                         /* uint 64: any form must be accepted */
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t) (version >> (8 * i));
    size_t len = strlen(type);
    p[n++] = (uint8_t) (0xa0 | len);
    memcpy(p + n, type, len);
    n += len;
    p[n++] = 0xcf;
    for (int i = 7; i >= 0; i--)
        p[n++] = (uint8_t) (seq >> (8 * i));
    return n;
}

/* The seq a receiver can read from a frame's stable prefix, or 0 (PROTOCOL.md §2.7). */
static uint64_t s_readable_seq(const uint8_t *data, size_t size)
{
    hone_msg_t *msg = NULL;
    uint64_t seq = 0;
    hone_msg_decode(data, size, &msg, &seq, NULL);
    hone_msg_destroy(&msg);
    return seq;
}

/* ---- the golden and hostile vectors ---- */

typedef struct {
    char name[64];
    uint8_t *data;
    size_t size;
    int code;           /* hostile: the error expected */
    bool has_seq;       /* hostile: the header is readable */
    uint64_t seq;
} vector_t;

static size_t s_hostile_vectors(vector_t *out, size_t max)
{
    char *path = hone_test_source_path("proto/vectors/hostile/manifest.txt");
    char *manifest = hone_test_read_file(path, NULL);
    free(path);
    assert_non_null(manifest);
    size_t n = 0;
    char *save = NULL;
    for (char *line = strtok_r(manifest, "\n", &save); line && n < max; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        vector_t *v = &out[n];
        char code[32], seq[32], rel[128];
        assert_int_equal(sscanf(line, "%63s %31s %31s", v->name, code, seq), 3);
        assert_int_equal(hone_err_from_name(code, &v->code), HONE_OK);
        v->has_seq = strcmp(seq, "-") != 0;
        v->seq = v->has_seq ? strtoull(seq, NULL, 10) : 0;
        snprintf(rel, sizeof rel, "proto/vectors/hostile/%s.msgpack", v->name);
        path = hone_test_source_path(rel);
        v->data = (uint8_t *) hone_test_read_file(path, &v->size);
        free(path);
        assert_non_null(v->data);
        n++;
    }
    free(manifest);
    return n;
}

static size_t s_golden_vectors(vector_t *out, size_t max)
{
    char *dir_path = hone_test_source_path("proto/vectors");
    DIR *dir = opendir(dir_path);
    assert_non_null(dir);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(dir)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len < 9 || strcmp(e->d_name + len - 8, ".msgpack") != 0 || len - 8 >= sizeof out[n].name)
            continue;
        vector_t *v = &out[n];
        memset(v, 0, sizeof *v);
        memcpy(v->name, e->d_name, len - 8);
        char *path = NULL;
        assert_true(asprintf(&path, "%s/%s", dir_path, e->d_name) > 0);
        v->data = (uint8_t *) hone_test_read_file(path, &v->size);
        free(path);
        assert_non_null(v->data);
        n++;
    }
    closedir(dir);
    free(dir_path);
    return n;
}

static void s_free_vectors(vector_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i].data);
}

/* ---- tests ---- */

static void test_hostile_vectors(void **state)
{
    fixture_t *f = *state;
    vector_t vectors[128];
    size_t n = s_hostile_vectors(vectors, 128);
    assert_true(n >= 40);
    int malformed_before = hone_test_file_count(f->broker->log, "malformed request");
    for (size_t i = 0; i < n; i++) {
        hone_peer_send_bytes(f->client, vectors[i].data, vectors[i].size);
        s_expect_error(f->client, vectors[i].code, vectors[i].seq, vectors[i].name);
        s_alive(f);
    }
    s_free_vectors(vectors, n);
    /* each was logged (the log line is written before the reply is sent) */
    assert_true(hone_test_file_count(f->broker->log, "malformed request") - malformed_before >= (int) n);
}

static void test_truncated_frames(void **state)
{
    fixture_t *f = *state;
    vector_t vectors[128];
    size_t n = s_golden_vectors(vectors, 128);
    assert_true(n >= 40);
    size_t sent = 0;
    for (size_t i = 0; i < n; i++) {
        const vector_t *v = &vectors[i];
        /* every cut in the first 48 bytes (the header), then about 40 more: pipelined,
         * then the replies, which come in order */
        size_t cuts[128];
        size_t n_cuts = 0;
        size_t step = v->size > 48 ? (v->size - 48) / 40 + 1 : 1;
        for (size_t cut = 0; cut < v->size && n_cuts < 128; cut += cut < 48 ? 1 : step)
            cuts[n_cuts++] = cut;
        for (size_t c = 0; c < n_cuts; c++)
            hone_peer_send_bytes(f->client, v->data, cuts[c]);
        for (size_t c = 0; c < n_cuts; c++) {
            char what[160];
            snprintf(what, sizeof what, "%.63s cut at %zu of %zu bytes", v->name, cuts[c], v->size);
            s_expect_error(f->client, HONE_EPROTO, s_readable_seq(v->data, cuts[c]), what);
        }
        sent += n_cuts;
    }
    s_free_vectors(vectors, n);
    assert_true(sent > 1000);
    s_alive(f);
}

static void test_oversized_frames(void **state)
{
    fixture_t *f = *state;
    /* above ZMQ_MAXMSGSIZE: libzmq drops the frame and the connection that carried it;
     * the broker never sees it and goes on serving everybody else */
    size_t size = HONE_PROTO_MAX_BYTES + 1;
    uint8_t *big = calloc(1, HONE_PROTO_MAX_BYTES + 4096);
    assert_non_null(big);
    size_t head = s_header(big, "ready", 1, 77, 5);
    big[head] = 0x81;
    for (int round = 0; round < 5; round++) {
        zsock_t *rogue = hone_peer_connect(f->broker->endpoint);
        hone_peer_send_bytes(rogue, big, round % 2 ? size : size + 4000);
        assert_null(s_recv_msg(rogue, S_SILENCE_MS));
        zsock_destroy(&rogue);
        s_alive(f);
    }
    /* exactly at the frame limit, the protocol's own limits answer: a string above
     * 64 KiB is too big, garbage is malformed */
    uint8_t *p = big;
    size_t n = s_header(p, "create", 1, 78, 5);
    p[n++] = 0x81;
    p[n++] = 0xa6;
    memcpy(p + n, "config", 6);
    n += 6;
    size_t str_len = HONE_PROTO_MAX_BYTES - n - 5;
    p[n++] = 0xdb;
    for (int i = 3; i >= 0; i--)
        p[n++] = (uint8_t) (str_len >> (8 * i));
    memset(p + n, 'a', str_len);
    n += str_len;
    assert_int_equal(n, HONE_PROTO_MAX_BYTES);
    hone_peer_send_bytes(f->client, p, n);
    s_expect_error(f->client, HONE_ETOOBIG, 78, "a 1 MiB create");
    memset(big, 0xc1, HONE_PROTO_MAX_BYTES);
    hone_peer_send_bytes(f->client, big, HONE_PROTO_MAX_BYTES);
    s_expect_error(f->client, HONE_EPROTO, 0, "1 MiB of 0xc1");
    /* declared lengths far beyond the frame: refused before anything is allocated */
    n = s_header(p, "ready", 1, 79, 5);
    memcpy(p + n, "\x81\xa1k\xdd\xff\xff\xff\xff", 8);
    hone_peer_send_bytes(f->client, p, n + 8);
    s_expect_error(f->client, HONE_EPROTO, 79, "array of 2^32-1");
    free(big);
    s_alive(f);
}

static void test_deep_nesting(void **state)
{
    fixture_t *f = *state;
    size_t depths[] = { 1, 14, 15, 16, 100, 10000, HONE_PROTO_MAX_BYTES - 64 };
    uint8_t *p = malloc(HONE_PROTO_MAX_BYTES);
    assert_non_null(p);
    for (size_t d = 0; d < HONE_ARRAY_LEN(depths); d++) {
        for (int kind = 0; kind < 3; kind++) {
            uint64_t seq = 100 + 3 * d + (uint64_t) kind;
            size_t n = s_header(p, "heartbeat", 1, seq, 5);
            /* depth counts the header (1) and the body (2); the nested containers
             * start at level 3 */
            size_t levels = depths[d];
            if (kind == 0) {                   /* {"deep": [[[...]]]} */
                memcpy(p + n, "\x81\xa4" "deep", 6);
                n += 6;
                memset(p + n, 0x91, levels);
                n += levels;
                p[n++] = 0xc0;
            } else if (kind == 1) {            /* {"k": {"k": {...}}} */
                p[n++] = 0x81;
                for (size_t l = 0; l < levels && n + 3 < HONE_PROTO_MAX_BYTES - 8; l++) {
                    memcpy(p + n, "\xa1k\x81", 3);
                    n += 3;
                }
                memcpy(p + n, "\xa1k\xc0", 3);
                n += 3;
            } else {                           /* the body itself nested */
                memset(p + n, 0x91, levels);
                n += levels;
                p[n++] = 0x80;
            }
            /* levels containers under the body reach level levels + 2 ({"deep": 14
             * arrays} is the deepest frame allowed); a body that is not a map is
             * malformed once the depth is within the limit */
            bool fits = levels + 2 <= HONE_PROTO_MAX_DEPTH;
            int code = !fits ? HONE_ETOOBIG : kind == 2 ? HONE_EPROTO : HONE_OK;
            char what[64];
            snprintf(what, sizeof what, "nesting %zu, kind %d", levels, kind);
            hone_peer_send_bytes(f->client, p, n);
            hone_msg_t *reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, NULL);
            if (code == HONE_OK) {
                /* within the limits: a heartbeat ignores what it does not know */
                assert_non_null(reply);
                assert_int_equal(hone_msg_id(reply), HONE_MSG_HEARTBEAT);
                assert_true(hone_msg_seq(reply) == seq);
                hone_msg_destroy(&reply);
            } else {
                s_check_error(&reply, code, seq, what);
            }
        }
        s_alive(f);
    }
    free(p);
}

static void test_wrong_types(void **state)
{
    fixture_t *f = *state;
    hone_msg_t *msg;
    hone_node_t *body, *node;

    /* the field every request names */
    static const hone_msg_id_t named[] = { HONE_MSG_READY, HONE_MSG_PROGRESS, HONE_MSG_COMPLETE, HONE_MSG_FAIL,
                                           HONE_MSG_NEXT, HONE_MSG_ATTACH, HONE_MSG_MARK, HONE_MSG_BEST,
                                           HONE_MSG_STATUS, HONE_MSG_LIST, HONE_MSG_PREDICT };
    for (size_t i = 0; i < HONE_ARRAY_LEN(named); i++) {
        for (int kind = 0; kind < 6; kind++) {
            msg = hone_test_req(&f->seq, named[i], NULL);
            body = hone_msg_body(msg);
            switch (kind) {
            case 0: node = hone_node_add_int(body, "experiment", 7); break;
            case 1: node = hone_node_add_bin(body, "experiment", "base", 4); break;
            case 2: node = hone_node_add_array(body, "experiment"); break;
            case 3: node = hone_node_add_map(body, "experiment"); break;
            case 4: node = hone_node_add_float(body, "experiment", 1.5); break;
            default: node = hone_node_add_nil(body, "experiment"); break;   /* = missing */
            }
            assert_non_null(node);
            char what[64];
            snprintf(what, sizeof what, "%s with experiment of kind %d", hone_msg_name(named[i]), kind);
            s_call_error(f, msg, HONE_EPROTO, what);
        }
    }

    /* trial: not an int, negative, above 2^63-1 is refused by the decoder */
    static const hone_msg_id_t with_trial[] = { HONE_MSG_PROGRESS, HONE_MSG_COMPLETE, HONE_MSG_FAIL,
                                                HONE_MSG_ATTACH, HONE_MSG_MARK };
    for (size_t i = 0; i < HONE_ARRAY_LEN(with_trial); i++) {
        for (int kind = 0; kind < 4; kind++) {
            msg = hone_test_req(&f->seq, with_trial[i], "base");
            body = hone_msg_body(msg);
            if (kind == 0)
                assert_non_null(hone_node_add_str(body, "trial", "0"));
            else if (kind == 1)
                assert_non_null(hone_node_add_int(body, "trial", -1));
            else if (kind == 2)
                assert_non_null(hone_node_add_float(body, "trial", 0.0));
            else
                assert_non_null(hone_node_add_bool(body, "trial", true));
            assert_int_equal(hone_msg_set_str(msg, "status", "COMPLETED"), HONE_OK);
            hone_node_add_float(hone_node_add_map(body, "metrics"), "obj", 1.0);
            char what[64];
            snprintf(what, sizeof what, "%s with trial of kind %d", hone_msg_name(with_trial[i]), kind);
            s_call_error(f, msg, HONE_EPROTO, what);
        }
    }

    /* metrics: not a map, readings of the wrong shape */
    for (int kind = 0; kind < 7; kind++) {
        msg = hone_test_req(&f->seq, kind % 2 ? HONE_MSG_ATTACH : HONE_MSG_COMPLETE, "base");
        body = hone_msg_body(msg);
        assert_non_null(hone_node_add_int(body, "trial", 0));
        hone_node_t *metrics = kind == 0 ? hone_node_add_array(body, "metrics") : hone_node_add_map(body, "metrics");
        hone_node_t *pair;
        switch (kind) {
        case 0: assert_non_null(hone_node_add_float(metrics, NULL, 1.0)); break;
        case 1: assert_non_null(hone_node_add_str(metrics, "obj", "high")); break;
        case 2:
            pair = hone_node_add_array(metrics, "obj");
            assert_non_null(hone_node_add_float(pair, NULL, 1.0));
            break;
        case 3:
            pair = hone_node_add_array(metrics, "obj");
            for (int k = 0; k < 3; k++)
                assert_non_null(hone_node_add_float(pair, NULL, 1.0));
            break;
        case 4:
            pair = hone_node_add_array(metrics, "obj");
            assert_non_null(hone_node_add_str(pair, NULL, "1.0"));
            assert_non_null(hone_node_add_float(pair, NULL, 0.1));
            break;
        case 5:
            pair = hone_node_add_array(metrics, "obj");
            assert_non_null(hone_node_add_float(pair, NULL, 1.0));
            assert_non_null(hone_node_add_map(pair, NULL));
            break;
        default: assert_non_null(hone_node_add_bool(metrics, "obj", true)); break;
        }
        char what[64];
        snprintf(what, sizeof what, "metrics of kind %d", kind);
        s_call_error(f, msg, HONE_EPROTO, what);
    }

    /* the other fields */
    msg = hone_test_req(&f->seq, HONE_MSG_CREATE, NULL);
    assert_non_null(hone_node_add_bin(hone_msg_body(msg), "config", "{}", 2));
    s_call_error(f, msg, HONE_EPROTO, "create with a bin config");
    msg = hone_test_req(&f->seq, HONE_MSG_READY, "base");
    assert_int_equal(hone_msg_set_int(msg, "worker", 3), HONE_OK);
    s_call_error(f, msg, HONE_EPROTO, "ready with an int worker");
    msg = hone_test_req(&f->seq, HONE_MSG_ATTACH, "base");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    assert_int_equal(hone_msg_set_float(msg, "progression", 2.5), HONE_OK);
    hone_node_add_float(hone_node_add_map(hone_msg_body(msg), "metrics"), "obj", 1.0);
    s_call_error(f, msg, HONE_EPROTO, "attach with a float progression");
    msg = hone_test_req(&f->seq, HONE_MSG_FAIL, "base");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    assert_int_equal(hone_msg_set_bool(msg, "reason", true), HONE_OK);
    s_call_error(f, msg, HONE_EPROTO, "fail with a bool reason");
    msg = hone_test_req(&f->seq, HONE_MSG_MARK, "base");
    assert_int_equal(hone_msg_set_int(msg, "trial", 0), HONE_OK);
    assert_int_equal(hone_msg_set_int(msg, "status", 2), HONE_OK);
    s_call_error(f, msg, HONE_EPROTO, "mark with an int status");
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "base");
    assert_int_equal(hone_msg_set_bool(msg, "count", true), HONE_OK);
    s_call_error(f, msg, HONE_EPROTO, "next with a bool count");
    msg = hone_test_req(&f->seq, HONE_MSG_NEXT, "base");
    assert_int_equal(hone_msg_set_int(msg, "count", INT64_MIN), HONE_OK);
    s_call_error(f, msg, HONE_EPROTO, "next with count INT64_MIN");
    for (int kind = 0; kind < 4; kind++) {
        msg = hone_test_req(&f->seq, HONE_MSG_PREDICT, "base");
        body = hone_msg_body(msg);
        if (kind == 0)
            assert_non_null(hone_node_add_map(body, "points"));
        else if (kind == 1)
            assert_non_null(hone_node_add_float(hone_node_add_array(body, "points"), NULL, 1.0));
        else if (kind == 2)
            assert_non_null(hone_node_add_array(hone_node_add_array(body, "points"), NULL));
        else
            assert_non_null(hone_node_add_str(body, "points", "x1=1"));
        char what[64];
        snprintf(what, sizeof what, "predict with points of kind %d", kind);
        s_call_error(f, msg, HONE_EPROTO, what);
    }
    /* reply types and unknown types sent to the broker */
    s_call_error(f, hone_test_req(&f->seq, HONE_MSG_OK, NULL), HONE_EPROTO, "an ok sent to the broker");
    s_call_error(f, hone_test_req(&f->seq, HONE_MSG_ERROR, NULL), HONE_EPROTO, "an error sent to the broker");
    s_call_error(f, hone_test_req(&f->seq, HONE_MSG_TRIAL, "base"), HONE_EPROTO, "a trial sent to the broker");
    s_call_error(f, hone_test_req(&f->seq, HONE_MSG_NO_WORK, NULL), HONE_EPROTO, "a no_work sent to the broker");
    uint8_t p[64];
    size_t n = s_header(p, "\x1b[2Jnope", 1, 55, 5);
    p[n++] = 0x80;
    hone_peer_send_bytes(f->client, p, n);
    s_expect_error(f->client, HONE_EPROTO, 55, "a type with an escape sequence");
    s_alive(f);
}

static void test_unknown_versions(void **state)
{
    fixture_t *f = *state;
    static const uint64_t versions[] = { 0, 2, 3, 255, 65536, 1ull << 32, UINT64_MAX };
    uint8_t p[128];
    for (size_t i = 0; i < HONE_ARRAY_LEN(versions); i++) {
        for (unsigned count = 4; count <= 9; count++) {
            uint64_t seq = 1000 * i + count;
            size_t n = s_header(p, "ready", versions[i], seq, count);
            /* whatever follows, even truncated or malformed, the prefix decides */
            if (count == 5) {
                memcpy(p + n, "\x81\xa1x\xc1", 4);      /* a reserved byte */
                n += 4;
            } else if (count > 5) {
                memcpy(p + n, "\xdd\xff\xff\xff\xff", 5);  /* a huge array, truncated */
                n += 5;
            }
            hone_peer_send_bytes(f->client, p, n);
            char what[64];
            snprintf(what, sizeof what, "version %llu, %u elements", (unsigned long long) versions[i], count);
            s_expect_error(f->client, HONE_EVERSION, seq, what);
        }
    }
    /* a version that is not an unsigned int (-1, nil, 1.0): the prefix is not readable */
    static const char negative[] = "\x95\xa4HONE\xff\xa5ready\x01\x80";
    static const char nil[] = "\x95\xa4HONE\xc0\xa5ready\x01\x80";
    static const char real[] = "\x95\xa4HONE\xcb\x3f\xf0\0\0\0\0\0\0\xa5ready\x01\x80";
    hone_peer_send_bytes(f->client, negative, sizeof negative - 1);
    s_expect_error(f->client, HONE_EPROTO, 0, "version -1");
    hone_peer_send_bytes(f->client, nil, sizeof nil - 1);
    s_expect_error(f->client, HONE_EPROTO, 0, "version nil");
    hone_peer_send_bytes(f->client, real, sizeof real - 1);
    s_expect_error(f->client, HONE_EPROTO, 0, "version 1.0");
    s_alive(f);
}

static void test_multipart_and_empty(void **state)
{
    fixture_t *f = *state;
    hone_msg_t *hb = hone_test_req(&f->seq, HONE_MSG_HEARTBEAT, NULL);
    uint64_t hb_seq = hone_msg_seq(hb);
    uint8_t *valid = NULL;
    size_t valid_size = 0;
    assert_int_equal(hone_msg_encode(hb, &valid, &valid_size), HONE_OK);
    hone_msg_destroy(&hb);

    /* an empty frame */
    hone_peer_send_bytes(f->client, "", 0);
    s_expect_error(f->client, HONE_EPROTO, 0, "an empty frame");

    /* several frames: one error (seq 0), whatever the frames hold */
    for (int kind = 0; kind < 6; kind++) {
        zmsg_t *msg = zmsg_new();
        switch (kind) {
        case 0: zmsg_addmem(msg, valid, valid_size); zmsg_addmem(msg, valid, valid_size); break;
        case 1: for (int i = 0; i < 10; i++) zmsg_addmem(msg, "", 0); break;
        case 2: zmsg_addstr(msg, "garbage"); zmsg_addmem(msg, "", 0); break;
        case 3: zmsg_addmem(msg, valid, valid_size); zmsg_addstr(msg, "tail"); break;
        case 4: for (int i = 0; i < 100; i++) zmsg_addmem(msg, "\xc1\xc1\xc1", 3); break;
        default: zmsg_addmem(msg, "", 0); zmsg_addmem(msg, valid, valid_size); zmsg_addstr(msg, "x"); break;
        }
        assert_int_equal(zmsg_send(&msg, f->client), 0);
        bool delimited = false;
        hone_msg_t *reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, &delimited);
        char what[64];
        snprintf(what, sizeof what, "multi-frame kind %d", kind);
        s_check_error(&reply, HONE_EPROTO, 0, what);
        /* exactly one reply */
        assert_null(s_recv_msg(f->client, kind == 0 ? S_SILENCE_MS : 20));
    }

    /* the REQ form: an empty delimiter, then the frame; answered the same way */
    zmsg_t *msg = zmsg_new();
    zmsg_addmem(msg, "", 0);
    zmsg_addmem(msg, valid, valid_size);
    assert_int_equal(zmsg_send(&msg, f->client), 0);
    bool delimited = false;
    hone_msg_t *reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, &delimited);
    assert_non_null(reply);
    assert_true(delimited);
    assert_int_equal(hone_msg_id(reply), HONE_MSG_HEARTBEAT);
    assert_true(hone_msg_seq(reply) == hb_seq);
    hone_msg_destroy(&reply);
    for (int kind = 0; kind < 2; kind++) {
        msg = zmsg_new();
        zmsg_addmem(msg, "", 0);
        zmsg_addmem(msg, kind ? "\x95\xa4HONE" : "", kind ? 6 : 0);
        assert_int_equal(zmsg_send(&msg, f->client), 0);
        reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, &delimited);
        assert_true(delimited);
        s_check_error(&reply, HONE_EPROTO, 0, "delimiter then garbage");
    }
    free(valid);
    s_alive(f);
}

/* ---- bounded memory ---- */

static uint64_t s_next_random(uint64_t *state)
{
    uint64_t x = *state;   /* xorshift64 */
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

/* Sends count hostile frames (vectors, cuts, bit flips of golden frames, random bytes,
 * a few 1 MiB frames) in batches, each answered by one reply. Returns the replies. */
static size_t s_hostile_round(fixture_t *f, const vector_t *hostile, size_t n_hostile, const vector_t *golden,
                              size_t n_golden, size_t count, uint64_t *rng, uint8_t *big)
{
    uint8_t buf[4096];
    size_t replies = 0;
    for (size_t sent = 0; sent < count;) {
        size_t batch = count - sent < 100 ? count - sent : 100;
        for (size_t b = 0; b < batch; b++) {
            uint64_t r = s_next_random(rng);
            const vector_t *v;
            switch (r % 8) {
            case 0: case 1: case 2:         /* a hostile vector */
                v = &hostile[(r >> 8) % n_hostile];
                hone_peer_send_bytes(f->client, v->data, v->size);
                break;
            case 3: case 4: {               /* a golden frame cut short */
                v = &golden[(r >> 8) % n_golden];
                hone_peer_send_bytes(f->client, v->data, (size_t) ((r >> 24) % v->size));
                break;
            }
            case 5: case 6: {               /* a golden frame with one bit flipped after
                                             * the first 12 bytes */
                v = &golden[(r >> 8) % n_golden];
                size_t size = v->size < sizeof buf ? v->size : sizeof buf;
                memcpy(buf, v->data, size);
                size_t at = size > 12 ? 12 + (size_t) ((r >> 24) % (size - 12)) : 0;
                buf[at] ^= (uint8_t) (1u << ((r >> 56) % 8));
                hone_peer_send_bytes(f->client, buf, size);
                break;
            }
            default:                        /* random bytes, now and then 1 MiB */
                if ((r >> 8) % 64 == 0) {
                    for (size_t i = 0; i < HONE_PROTO_MAX_BYTES; i += 8) {
                        uint64_t x = s_next_random(rng);
                        memcpy(big + i, &x, 8);
                    }
                    big[0] = 0xdc;          /* a big array, so the walk goes deep into it */
                    hone_peer_send_bytes(f->client, big, HONE_PROTO_MAX_BYTES);
                } else {
                    size_t size = (size_t) ((r >> 16) % 512);
                    for (size_t i = 0; i < size; i++)
                        buf[i] = (uint8_t) s_next_random(rng);
                    hone_peer_send_bytes(f->client, buf, size);
                }
                break;
            }
        }
        for (size_t b = 0; b < batch; b++) {
            hone_msg_t *reply = s_recv_reply(f->client, S_REPLY_TIMEOUT_MS, NULL);
            if (!reply)
                fail_msg("no reply to hostile frame %zu (of a batch of %zu)", sent + b, batch);
            replies++;
            hone_msg_destroy(&reply);
        }
        sent += batch;
    }
    return replies;
}

static void test_memory_bounded(void **state)
{
    fixture_t *f = *state;
    vector_t hostile[128], golden[128];
    size_t n_hostile = s_hostile_vectors(hostile, 128);
    size_t n_golden = 0;
    vector_t all_golden[128];
    size_t n_all = s_golden_vectors(all_golden, 128);
    /* mutations of a golden frame may form a valid request; keep those that cannot
     * change the experiment (a create could add one, ready and next could start model
     * fits) out, so that every frame gets exactly one prompt reply */
    for (size_t i = 0; i < n_all; i++) {
        const char *name = all_golden[i].name;
        if (strncmp(name, "create", 6) && strncmp(name, "ready", 5) && strncmp(name, "next", 4)
            && strncmp(name, "predict", 7) && strncmp(name, "best", 4))
            golden[n_golden++] = all_golden[i];
        else
            free(all_golden[i].data);
    }
    uint8_t *big = malloc(HONE_PROTO_MAX_BYTES);
    assert_non_null(big);
    uint64_t rng = 0x9e3779b97f4a7c15ull;

    /* a first round brings the allocator to its working size */
    assert_int_equal(s_hostile_round(f, hostile, n_hostile, golden, n_golden, 2000, &rng, big), 2000);
    long warm = s_rss_kb(f->broker->pid);
    assert_int_equal(s_hostile_round(f, hostile, n_hostile, golden, n_golden, 5000, &rng, big), 5000);
    long mid = s_rss_kb(f->broker->pid);
    assert_int_equal(s_hostile_round(f, hostile, n_hostile, golden, n_golden, 5000, &rng, big), 5000);
    long end = s_rss_kb(f->broker->pid);
    fprintf(stderr, "broker VmRSS: %ld kB after 2000 hostile frames, %ld kB after 7000, %ld kB after 12000\n",
            warm, mid, end);
#if defined(__SANITIZE_ADDRESS__)
    /* AddressSanitizer keeps freed memory in quarantine (up to 256 MiB): only a bound */
    assert_true(end < 1024 * 1024);
#else
    /* the same traffic again must not need more memory: no leak, no growing cache */
    assert_true(end - mid < 8 * 1024);
    assert_true(end - warm < 32 * 1024);
    assert_true(end < 256 * 1024);
#endif
    free(big);
    s_free_vectors(hostile, n_hostile);
    s_free_vectors(golden, n_golden);
    s_alive(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hostile_vectors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_truncated_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deep_nesting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_versions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multipart_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_memory_bounded, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
