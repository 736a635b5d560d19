/* request.c: reading a request's fields and starting its reply (see request.h). */
#include "request.h"

#include <inttypes.h>

/* A missing required field is a protocol error (HONE_ENOTFOUND is kept for unknown
 * experiments and trials). */
int hone_request_need(int rc, hone_error_t *err)
{
    if (rc == HONE_ENOTFOUND) {
        err->code = HONE_EPROTO;
        return HONE_EPROTO;
    }
    return rc;
}

int hone_request_opt(int rc, bool *present)
{
    *present = rc == HONE_OK;
    return rc == HONE_ENOTFOUND ? HONE_OK : rc;
}

int hone_request_str(const hone_msg_t *req, const char *key, const char **out, hone_error_t *err)
{
    return hone_request_need(hone_msg_get_str(req, key, out, err), err);
}

int hone_request_opt_str(const hone_msg_t *req, const char *key, const char **out, hone_error_t *err)
{
    bool present;
    *out = NULL;
    int rc = hone_request_opt(hone_msg_get_str(req, key, out, err), &present);
    if (!present)
        *out = NULL;
    return rc;
}

int hone_request_trial(const hone_msg_t *req, uint32_t *out, hone_error_t *err)
{
    int64_t v = 0;
    int rc = hone_request_need(hone_msg_get_int(req, "trial", &v, err), err);
    if (rc != HONE_OK)
        return rc;
    if (v < 0)
        return hone_error_set(err, HONE_EPROTO, "field 'trial' must be uint, not %" PRId64, v);
    if (v > (int64_t) UINT32_MAX)
        return hone_error_set(err, HONE_ENOTFOUND, "no trial %" PRId64, v);
    *out = (uint32_t) v;
    return HONE_OK;
}

int hone_request_opt_progression(const hone_msg_t *req, bool *has, int64_t *out, hone_error_t *err)
{
    *out = 0;
    return hone_request_opt(hone_msg_get_int(req, "progression", out, err), has);
}

/* The optional `lease` field: *has false when absent. */
int hone_request_opt_lease(const hone_msg_t *req, bool *has, uint64_t *out, hone_error_t *err)
{
    int64_t v = 0;
    int rc = hone_request_opt(hone_msg_get_int(req, "lease", &v, err), has);
    if (rc == HONE_OK && *has && v < 0)
        rc = hone_error_set(err, HONE_EPROTO, "field 'lease' must be uint, not %" PRId64, v);
    *out = (uint64_t) v;
    return rc;
}

hone_msg_t *hone_request_reply(hone_msg_id_t id, const hone_msg_t *req)
{
    hone_msg_t *reply = hone_msg_new(id);
    HONE_ASSERT(reply);
    hone_msg_set_seq(reply, hone_msg_seq(req));
    return reply;
}
