/* err.h: the one error enum of the project, and an error object that carries a message.
 *
 * The numbers are part of the wire protocol (proto/PROTOCOL.md, "Error codes"):
 * never renumber, only append. */
#ifndef HONE_ERR_H
#define HONE_ERR_H

#include "hone_prelude.h"

/* XX(NAME, number, "short description") */
#define HONE_ERRNO_MAP(XX)                                                  \
    XX(OK,          0,   "success")                                        \
    XX(ENOMEM,      -1,  "out of memory")                                  \
    XX(EINVAL,      -2,  "invalid argument")                               \
    XX(ENOTFOUND,   -3,  "not found")                                      \
    XX(EEXIST,      -4,  "already exists")                                 \
    XX(ESTATE,      -5,  "not allowed in the current state")               \
    XX(EPROTO,      -6,  "malformed message")                              \
    XX(EVERSION,    -7,  "unsupported protocol version")                   \
    XX(EUNSUPPORTED,-8,  "unsupported operation")                          \
    XX(EEXHAUSTED,  -9,  "search space exhausted")                         \
    XX(EDONE,       -10, "experiment budget spent")                        \
    XX(EAGAIN,      -11, "no work now, try again later")                   \
    XX(ETIMEDOUT,   -12, "timed out")                                      \
    XX(ESTORE,      -13, "storage failure")                                \
    XX(EIO,         -14, "input/output error")                             \
    XX(ENUMERIC,    -15, "numerical failure")                              \
    XX(EDATA,       -16, "more data required")                             \
    XX(ETOOBIG,     -17, "too large")                                      \
    XX(EINTR,       -18, "interrupted")                                    \
    XX(EPERM,       -19, "permission denied")                              \
    XX(ELEASE,      -20, "lease expired or not held")

typedef enum {
#define XX(name, num, text) HONE_##name = num,
    HONE_ERRNO_MAP(XX)
#undef XX
} hone_err_t;

/* Description of a code ("invalid argument"); never NULL, static storage. */
HONE_EXPORT const char *hone_strerror(int code);
/* Symbolic name of a code ("HONE_EINVAL"); never NULL, static storage. */
HONE_EXPORT const char *hone_err_name(int code);
/* Parses a symbolic name ("HONE_EINVAL" or "EINVAL"); returns HONE_EINVAL if unknown. */
int hone_err_from_name(const char *name, int *code_out);

/* An error with a human message that names the offending field and the rule.
 * Functions that validate user input take a nullable hone_error_t *. */
#define HONE_ERROR_MESSAGE_MAX 512
typedef struct hone_error {
    int code;                               /* a HONE_E* code, HONE_OK when clear */
    char message[HONE_ERROR_MESSAGE_MAX];   /* one line, no trailing newline */
} hone_error_t;

/* Sets *err (when err is not NULL) and returns code, so callers can write
 * `return hone_error_set(err, HONE_EINVAL, "parameter '%s': ...", name);`. */
int hone_error_set(hone_error_t *err, int code, const char *fmt, ...) HONE_PRINTF(3, 4);
void hone_error_clear(hone_error_t *err);

#endif
