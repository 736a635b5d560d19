/* fuzz_reply.c: libFuzzer target for the worker SDK's side of the wire: a frame as a
 * hostile or broken broker could send it, decoded (hone_msg_decode) and then read by the
 * SDK's reply parsers (worker-sdk/c/result.c: trial, trial list, best, Pareto frontier,
 * prediction, status) and the field reads of worker.c and transport.c (no_work, heartbeat stop,
 * error code and message).
 *
 * The SDK picks a parser by the request it sent, so a broker can put any body under
 * any parser: every parser runs on every decoded body. Each result is read back through
 * every public accessor (indices in range and one past the end), duplicated, turned into
 * a predict point (hone_points_add_trial) and encoded, then destroyed; LeakSanitizer
 * catches what a parser's error path forgets to free. Checks: a parser returns HONE_OK
 * with its object or HONE_EPROTO with NULL and a message; never an assertion.
 *
 * Built by tests/fuzz/CMakeLists.txt; run by ctest fuzz/reply. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "result.h"   /* first: it includes log.h before hone.h, as the SDK does */

#include "points.h"

#define S_CHECK(cond, ...)                                                            \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "fuzz_reply: check failed at line %d: %s: ", __LINE__, #cond); \
            fprintf(stderr, __VA_ARGS__);                                             \
            fprintf(stderr, "\n");                                                    \
            abort();                                                                  \
        }                                                                             \
    } while (0)

/* A parser's outcome: OK with an object, or EPROTO without one and a one-line message. */
static void s_outcome(int rc, const void *object, const hone_error_t *err, const char *what)
{
    if (rc == HONE_OK) {
        S_CHECK(object != NULL, "%s: OK without an object", what);
        return;
    }
    S_CHECK(rc == HONE_EPROTO, "%s gave %s", what, hone_err_name(rc));
    S_CHECK(object == NULL, "%s: an object on error", what);
    /* not checked: one line. result.c quotes the broker's map keys as they are
     * ("parameter '%s': ..."), so a key holding a newline reaches the message. */
    S_CHECK(err->code == rc && err->message[0], "%s: message '%s'", what, err->message);
}

static void s_read_string(const char *s)
{
    S_CHECK(s != NULL, "NULL string from an accessor");
    (void) strlen(s);
}

/* Reads every accessor of a trial, copies it and makes a predict point of it. */
static void s_trial(const hone_trial_t *t)
{
    (void) hone_trial_index(t);
    s_read_string(hone_trial_experiment(t));
    s_read_string(hone_trial_note(t));
    s_read_string(hone_trial_status(t));
    s_read_string(hone_trial_reason(t));
    size_t n = hone_trial_param_count(t);
    for (size_t i = 0; i <= n; i++) {
        const char *name = hone_trial_param_name(t, i);
        int32_t type = hone_trial_param_type(t, i);
        double f;
        int64_t v;
        const char *s;
        bool b;
        int rcs = hone_trial_param_double(t, i, &f) == HONE_OK;
        rcs += hone_trial_param_int(t, i, &v) == HONE_OK;
        rcs += hone_trial_param_str(t, i, &s) == HONE_OK;
        rcs += hone_trial_param_bool(t, i, &b) == HONE_OK;
        if (i == n) {
            S_CHECK(name == NULL && type == HONE_EINVAL && rcs == 0, "parameter past the end");
            continue;
        }
        s_read_string(name);
        /* an int parameter reads as int and as double; the others one way */
        S_CHECK(rcs == (type == HONE_TYPE_INT ? 2 : 1), "parameter %zu of type %d read %d ways", i, type, rcs);
        if (type == HONE_TYPE_STR)
            s_read_string(s);
        size_t at = n;
        S_CHECK(hone_trial_param_find(t, name, &at) == HONE_OK && at <= i, "find '%.40s'", name);
    }
    size_t at;
    S_CHECK(hone_trial_param_find(t, "\x01never", &at) == HONE_ENOTFOUND, "find of a missing name");
    size_t m = hone_trial_metric_count(t);
    for (size_t i = 0; i < m; i++) {
        s_read_string(hone_trial_metric_name(t, i));
        (void) hone_trial_metric_mean(t, i);
        (void) hone_trial_metric_sem(t, i);
    }
    S_CHECK(hone_trial_metric_name(t, m) == NULL && isnan(hone_trial_metric_mean(t, m)), "metric past the end");
    int64_t step;
    int rc = hone_trial_progression(t, &step);
    S_CHECK(rc == HONE_OK || rc == HONE_ENOTFOUND, "progression gave %d", rc);

    hone_trial_t *copy = NULL;
    S_CHECK(hone_trial_dup(t, &copy) == HONE_OK && copy, "hone_trial_dup");
    S_CHECK(hone_trial_index(copy) == hone_trial_index(t) && hone_trial_param_count(copy) == n
            && hone_trial_metric_count(copy) == m && strcmp(hone_trial_note(copy), hone_trial_note(t)) == 0,
            "the copy differs");
    hone_trial_destroy(&copy);
    S_CHECK(copy == NULL, "destroy leaves the pointer");

    /* a trial's parameters as a predict point, encoded as the client would send it; an
     * empty parameter name is refused by the setters (HONE_EINVAL) */
    hone_points_t *points = NULL;
    S_CHECK(hone_points_new(&points) == HONE_OK, "hone_points_new");
    rc = hone_points_add_trial(points, t);
    S_CHECK(rc == HONE_OK || rc == HONE_EINVAL, "hone_points_add_trial gave %s", hone_err_name(rc));
    if (rc == HONE_OK) {
        uint8_t *data = NULL;
        size_t size = 0;
        rc = hone_node_encode(hone_points_array(points), &data, &size);
        S_CHECK(rc == HONE_OK || rc == HONE_ETOOBIG, "encoding a point gave %s", hone_err_name(rc));
        free(data);
    }
    hone_points_destroy(&points);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    hone_msg_t *reply = NULL;
    uint64_t seq = 0;
    hone_error_t err;
    hone_error_clear(&err);
    if (hone_msg_decode(data, size, &reply, &seq, &err) != HONE_OK)
        return 0;     /* fuzz_frame checks the decoder's refusals */
    const hone_node_t *body = hone_msg_body_const(reply);

    hone_trial_t *trial = NULL;
    hone_error_clear(&err);
    int rc = hone_result_trial_parse(body, NULL, &trial, &err);
    s_outcome(rc, trial, &err, "trial");
    if (trial)
        s_trial(trial);
    hone_trial_destroy(&trial);

    hone_trial_list_t *list = NULL;
    hone_error_clear(&err);
    rc = hone_result_list_parse(hone_msg_get(reply, "trials"), "exp", &list, &err);
    s_outcome(rc, list, &err, "list");
    size_t count = hone_trial_list_count(list);
    for (size_t i = 0; i < count; i++)
        s_trial(hone_trial_list_at(list, i));
    S_CHECK(hone_trial_list_at(list, count) == NULL, "list item past the end");
    hone_trial_list_destroy(&list);

    hone_best_t *best = NULL;
    hone_error_clear(&err);
    rc = hone_result_best_parse(body, "exp", &best, &err);
    s_outcome(rc, best, &err, "best");
    if (best) {
        S_CHECK(hone_best_trial_index(best) == hone_trial_index(hone_best_trial(best)), "best index");
        s_trial(hone_best_trial(best));
        s_read_string(hone_best_metric(best));
        s_read_string(hone_best_source(best));
        (void) hone_best_value(best);
        (void) hone_best_sem(best);
        (void) hone_best_minimize(best);
    }
    hone_best_destroy(&best);

    hone_pareto_t *pareto = NULL;
    hone_error_clear(&err);
    rc = hone_result_pareto_parse(body, "exp", &pareto, &err);
    s_outcome(rc, pareto, &err, "pareto");
    for (size_t k = 0; pareto && k < hone_pareto_objective_count(pareto); k++) {
        s_read_string(hone_pareto_objective(pareto, k));
        (void) hone_pareto_ref(pareto, k);
    }
    for (size_t i = 0; pareto && i < hone_pareto_count(pareto); i++) {
        S_CHECK(hone_pareto_trial_index(pareto, i) == hone_trial_index(hone_pareto_trial(pareto, i)), "pareto index");
        s_trial(hone_pareto_trial(pareto, i));
        for (size_t k = 0; k < hone_pareto_objective_count(pareto); k++)
            (void) (hone_pareto_value(pareto, i, k) + hone_pareto_sem(pareto, i, k));
    }
    if (pareto)
        s_read_string(hone_pareto_source(pareto));
    hone_pareto_destroy(&pareto);

    /* the count the SDK expects is that of the points it sent; try the one that fits
     * and one that does not */
    const hone_node_t *predictions = hone_msg_get(reply, "predictions");
    size_t expected = hone_node_len(predictions);
    for (int k = 0; k < 2; k++) {
        hone_prediction_t *prediction = NULL;
        hone_error_clear(&err);
        rc = hone_result_prediction_parse(body, expected + (size_t) k, &prediction, &err);
        s_outcome(rc, prediction, &err, "prediction");
        size_t n = hone_prediction_count(prediction);
        S_CHECK(!prediction || n == expected, "%zu predictions, %zu expected", n, expected);
        for (size_t i = 0; i < n; i++) {
            (void) hone_prediction_mean(prediction, i);
            (void) hone_prediction_sem(prediction, i);
        }
        S_CHECK(isnan(hone_prediction_mean(prediction, n)), "prediction past the end");
        s_read_string(hone_prediction_metric(prediction));
        hone_prediction_destroy(&prediction);
    }

    hone_status_t *status = NULL;
    hone_error_clear(&err);
    rc = hone_result_status_parse(body, &status, &err);
    s_outcome(rc, status, &err, "status");
    if (status) {
        s_read_string(hone_status_experiment(status));
        s_read_string(hone_status_objective(status));
        s_read_string(hone_status_method(status));
        (void) hone_status_max_trials(status);
        (void) hone_status_total(status);
        size_t n = hone_status_entry_count(status);
        for (size_t i = 0; i < n; i++) {
            const char *name = hone_status_entry_name(status, i);
            s_read_string(name);
            (void) hone_status_entry_trials(status, i);
            (void) hone_status_count(status, name);
        }
        S_CHECK(hone_status_entry_name(status, n) == NULL, "status entry past the end");
        uint64_t best_trial;
        double best_value;
        rc = hone_status_best(status, &best_trial, &best_value);
        S_CHECK(rc == HONE_OK || rc == HONE_ENOTFOUND, "status best gave %d", rc);
    }
    hone_status_destroy(&status);

    /* worker.c (no_work, heartbeat) and transport.c (error) field reads */
    hone_error_t ignored;
    bool done = false;
    int64_t retry = 0, code = 0;
    const char *text = NULL;
    (void) hone_msg_get_bool(reply, "done", &done, &ignored);
    (void) hone_msg_get_int(reply, "retry_ms", &retry, &ignored);
    (void) hone_msg_get_str(reply, "reason", &text, &ignored);
    const hone_node_t *stop = hone_msg_get(reply, "stop");
    if (stop && hone_node_type(stop) == HONE_NODE_BOOL)
        (void) hone_node_bool(stop);
    if (hone_msg_get_int(reply, "code", &code, &ignored) == HONE_OK && code < 0 && code >= INT32_MIN) {
        s_read_string(hone_err_name((int) code));
        s_read_string(hone_strerror((int) code));
    }
    hone_msg_destroy(&reply);
    return 0;
}
