/* load_proto.c: the few protocol frames bench_load's multiplex driver speaks, built and
 * read with proto/msg.h (hone_msg_new, hone_msg_set_*, hone_msg_encode, hone_msg_decode).
 *
 * A separate translation unit because proto/msg.h brings base/err.h, whose error enum
 * the SDK's public hone.h (used by the rest of bench_load) declares again; the
 * interface below therefore uses plain C types only (declared again in bench_load.h). */
#include "msg.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Request kinds and reply kinds, as in bench_load.h. */
enum { LP_READY = 0, LP_PROGRESS = 1, LP_COMPLETE = 2, LP_HEARTBEAT = 3 };
enum { LP_R_OTHER = -1, LP_R_TRIAL = 0, LP_R_NO_WORK = 1, LP_R_OK = 2, LP_R_ERROR = 3, LP_R_HEARTBEAT = 4 };

int load_proto_encode(int kind, uint64_t seq, const char *experiment, const char *worker, uint64_t trial,
                      uint64_t lease, int n_metrics, const char *const *names, const double *means,
                      const double *sems, int64_t progression, uint8_t **data, size_t *size);
int load_proto_decode(const uint8_t *data, size_t size, int *kind, uint64_t *seq, uint64_t *trial,
                      uint64_t *lease, int64_t *heartbeat_ms, int64_t *retry_ms, int *code, char *text,
                      size_t text_size);

/* Encodes one request into a malloc'd buffer (free it with free). progression < 0: none;
 * lease 0: none (an older broker). Returns 0 or a negative HONE_E* code. */
int load_proto_encode(int kind, uint64_t seq, const char *experiment, const char *worker, uint64_t trial,
                      uint64_t lease, int n_metrics, const char *const *names, const double *means,
                      const double *sems, int64_t progression, uint8_t **data, size_t *size)
{
    static const hone_msg_id_t ids[] = { HONE_MSG_READY, HONE_MSG_PROGRESS, HONE_MSG_COMPLETE,
                                         HONE_MSG_HEARTBEAT };
    if (kind < 0 || kind > LP_HEARTBEAT)
        return HONE_EINVAL;
    hone_msg_t *msg = hone_msg_new(ids[kind]);
    if (!msg)
        return HONE_ENOMEM;
    hone_msg_set_seq(msg, seq);
    int rc = hone_msg_set_str(msg, "experiment", experiment);
    if (rc == HONE_OK && kind == LP_READY && worker)
        rc = hone_msg_set_str(msg, "worker", worker);
    if (rc == HONE_OK && kind != LP_READY) {
        rc = hone_msg_set_int(msg, "trial", (int64_t) trial);
        if (rc == HONE_OK && lease > 0)
            rc = hone_msg_set_int(msg, "lease", (int64_t) lease);
    }
    if (rc == HONE_OK && (kind == LP_PROGRESS || kind == LP_COMPLETE) && n_metrics > 0) {
        hone_node_t *map = hone_node_add_map(hone_msg_body(msg), "metrics");
        for (int i = 0; i < n_metrics && map; i++) {
            hone_node_t *pair = hone_node_add_array(map, names[i]);
            if (!pair || !hone_node_add_float(pair, NULL, means[i]) || !hone_node_add_float(pair, NULL, sems[i]))
                map = NULL;
        }
        if (!map)
            rc = HONE_ENOMEM;
    }
    if (rc == HONE_OK && (kind == LP_PROGRESS || kind == LP_COMPLETE) && progression >= 0)
        rc = hone_msg_set_int(msg, "progression", progression);
    if (rc == HONE_OK)
        rc = hone_msg_encode(msg, data, size);
    hone_msg_destroy(&msg);
    return rc;
}

/* Decodes one reply: its kind (LP_R_*) and seq, and for `trial` the index, lease and
 * heartbeat interval (0 when absent), for `no_work` retry_ms, for `error` the code and
 * message (in text). Returns 0, or a negative HONE_E* code with the reason in text. */
int load_proto_decode(const uint8_t *data, size_t size, int *kind, uint64_t *seq, uint64_t *trial,
                      uint64_t *lease, int64_t *heartbeat_ms, int64_t *retry_ms, int *code, char *text,
                      size_t text_size)
{
    hone_msg_t *msg = NULL;
    hone_error_t err;
    hone_error_clear(&err);
    *kind = LP_R_OTHER;
    *seq = 0;
    *trial = 0;
    *lease = 0;
    *heartbeat_ms = 0;
    *retry_ms = 0;
    *code = 0;
    if (text_size)
        text[0] = '\0';
    int rc = hone_msg_decode(data, size, &msg, seq, &err);
    if (rc != HONE_OK) {
        if (text_size) {
            strncpy(text, err.message, text_size - 1);
            text[text_size - 1] = '\0';
        }
        return rc;
    }
    hone_error_t ignored;
    int64_t v;
    switch (hone_msg_id(msg)) {
    case HONE_MSG_TRIAL:
        *kind = LP_R_TRIAL;
        rc = hone_msg_get_int(msg, "trial", &v, &err);
        if (rc == HONE_OK)
            *trial = (uint64_t) v;
        if (hone_msg_get_int(msg, "lease", &v, &ignored) == HONE_OK && v > 0)
            *lease = (uint64_t) v;
        if (hone_msg_get_int(msg, "heartbeat_ms", &v, &ignored) == HONE_OK && v > 0)
            *heartbeat_ms = v;
        break;
    case HONE_MSG_NO_WORK:
        *kind = LP_R_NO_WORK;
        if (hone_msg_get_int(msg, "retry_ms", &v, &ignored) == HONE_OK && v >= 0)
            *retry_ms = v;
        break;
    case HONE_MSG_OK:
        *kind = LP_R_OK;
        break;
    case HONE_MSG_HEARTBEAT:
        *kind = LP_R_HEARTBEAT;
        break;
    case HONE_MSG_ERROR: {
        *kind = LP_R_ERROR;
        const char *m = NULL;
        *code = hone_msg_get_int(msg, "code", &v, &ignored) == HONE_OK ? (int) v : HONE_EPROTO;
        if (hone_msg_get_str(msg, "message", &m, &ignored) == HONE_OK && text_size) {
            strncpy(text, m, text_size - 1);
            text[text_size - 1] = '\0';
        }
        break;
    }
    default:
        break;
    }
    if (rc != HONE_OK && text_size) {
        strncpy(text, err.message, text_size - 1);
        text[text_size - 1] = '\0';
    }
    hone_msg_destroy(&msg);
    return rc;
}
