/* request.h: reading the fields of a decoded request the way every handler does, and
 * starting its reply. A missing required field is HONE_EPROTO (HONE_ENOTFOUND is kept
 * for unknown experiments and trials); an optional one reports whether it was there.
 * Every function fills err on failure. Internal to the broker. */
#ifndef HONE_REQUEST_H
#define HONE_REQUEST_H

#include "err.h"
#include "msg.h"

/* rc of a getter for a required field: HONE_ENOTFOUND becomes HONE_EPROTO. */
int hone_request_need(int rc, hone_error_t *err);
/* rc of a getter for an optional field: *present tells; absence is HONE_OK. */
int hone_request_opt(int rc, bool *present);
/* The required str field key. */
int hone_request_str(const hone_msg_t *req, const char *key, const char **out, hone_error_t *err);
/* The optional str field key (*out NULL when absent). */
int hone_request_opt_str(const hone_msg_t *req, const char *key, const char **out, hone_error_t *err);
/* The required `trial` index (a uint that fits 32 bits; larger is HONE_ENOTFOUND). */
int hone_request_trial(const hone_msg_t *req, uint32_t *out, hone_error_t *err);
/* The optional `progression` (*has false when absent). */
int hone_request_opt_progression(const hone_msg_t *req, bool *has, int64_t *out, hone_error_t *err);
/* The optional `lease` token (*has false when absent). */
int hone_request_opt_lease(const hone_msg_t *req, bool *has, uint64_t *out, hone_error_t *err);
/* A reply of type id carrying the request's seq. Aborts on out-of-memory. */
hone_msg_t *hone_request_reply(hone_msg_id_t id, const hone_msg_t *req);

#endif
