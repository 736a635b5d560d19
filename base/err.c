#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

const char *hone_strerror(int code)
{
    switch (code) {
#define XX(name, num, text) case num: return text;
        HONE_ERRNO_MAP(XX)
#undef XX
    }
    return "unknown error";
}

const char *hone_err_name(int code)
{
    switch (code) {
#define XX(name, num, text) case num: return "HONE_" #name;
        HONE_ERRNO_MAP(XX)
#undef XX
    }
    return "HONE_EUNKNOWN";
}

int hone_err_from_name(const char *name, int *code_out)
{
    if (strncmp(name, "HONE_", 5) == 0)
        name += 5;
#define XX(sym, num, text) if (streq(name, #sym)) { *code_out = num; return HONE_OK; }
    HONE_ERRNO_MAP(XX)
#undef XX
    return HONE_EINVAL;
}

int hone_error_set(hone_error_t *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

void hone_error_clear(hone_error_t *err)
{
    if (err) {
        err->code = HONE_OK;
        err->message[0] = '\0';
    }
}

void hone_panic(const char *file, int line, const char *what)
{
    fprintf(stderr, "hone: assertion failed at %s:%d: %s\n", file, line, what);
    fflush(stderr);
    abort();
}
