/* library.c: version, options, and the compile-time proof that the public constants of
 * hone.h equal the project's own (base/err.h, base/log.h), which are not installed.
 *
 * hone.h is included first with its constants renamed, so that both sets can be seen in
 * this file and compared one by one. An error code added to base/err.h but not to hone.h
 * fails to compile here. (hone_strerror, hone_err_name, hone_free and hone_strfree are
 * base/'s own functions, marked HONE_EXPORT there.) */
#define hone_err_t s_public_err_t
#define hone_log_level_t s_public_log_level_t
#define HONE_OK S_PUB_OK
#define HONE_ENOMEM S_PUB_ENOMEM
#define HONE_EINVAL S_PUB_EINVAL
#define HONE_ENOTFOUND S_PUB_ENOTFOUND
#define HONE_EEXIST S_PUB_EEXIST
#define HONE_ESTATE S_PUB_ESTATE
#define HONE_EPROTO S_PUB_EPROTO
#define HONE_EVERSION S_PUB_EVERSION
#define HONE_EUNSUPPORTED S_PUB_EUNSUPPORTED
#define HONE_EEXHAUSTED S_PUB_EEXHAUSTED
#define HONE_EDONE S_PUB_EDONE
#define HONE_EAGAIN S_PUB_EAGAIN
#define HONE_ETIMEDOUT S_PUB_ETIMEDOUT
#define HONE_ESTORE S_PUB_ESTORE
#define HONE_EIO S_PUB_EIO
#define HONE_ENUMERIC S_PUB_ENUMERIC
#define HONE_EDATA S_PUB_EDATA
#define HONE_ETOOBIG S_PUB_ETOOBIG
#define HONE_EINTR S_PUB_EINTR
#define HONE_EPERM S_PUB_EPERM
#define HONE_ELEASE S_PUB_ELEASE
#define HONE_LOG_ERR S_PUB_LOG_ERR
#define HONE_LOG_WARN S_PUB_LOG_WARN
#define HONE_LOG_INFO S_PUB_LOG_INFO
#define HONE_LOG_DEBUG S_PUB_LOG_DEBUG
#include "hone.h"
#undef hone_err_t
#undef hone_log_level_t
#undef HONE_OK
#undef HONE_ENOMEM
#undef HONE_EINVAL
#undef HONE_ENOTFOUND
#undef HONE_EEXIST
#undef HONE_ESTATE
#undef HONE_EPROTO
#undef HONE_EVERSION
#undef HONE_EUNSUPPORTED
#undef HONE_EEXHAUSTED
#undef HONE_EDONE
#undef HONE_EAGAIN
#undef HONE_ETIMEDOUT
#undef HONE_ESTORE
#undef HONE_EIO
#undef HONE_ENUMERIC
#undef HONE_EDATA
#undef HONE_ETOOBIG
#undef HONE_EINTR
#undef HONE_EPERM
#undef HONE_ELEASE
#undef HONE_LOG_ERR
#undef HONE_LOG_WARN
#undef HONE_LOG_INFO
#undef HONE_LOG_DEBUG

#include "err.h"
#include "log.h"

#define XX(name, num, text) \
    _Static_assert((int) S_PUB_##name == (int) HONE_##name, "hone.h and base/err.h disagree on HONE_" #name);
HONE_ERRNO_MAP(XX)
#undef XX
_Static_assert((int) S_PUB_LOG_ERR == (int) HONE_LOG_ERR && (int) S_PUB_LOG_WARN == (int) HONE_LOG_WARN
               && (int) S_PUB_LOG_INFO == (int) HONE_LOG_INFO && (int) S_PUB_LOG_DEBUG == (int) HONE_LOG_DEBUG,
               "hone.h and base/log.h disagree on log levels");
_Static_assert(sizeof(hone_options_t) == 64, "hone_options_t is part of the ABI: its size never changes");

int32_t hone_version(void)
{
    return HONE_VERSION;
}

void hone_options_init(hone_options_t *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->timeout_ms = 10000;
    opts->retries = 3;
}
