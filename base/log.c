#include "log.h"
#include "err.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>

static _Atomic int s_level = HONE_LOG_INFO;
static hone_log_sink_fn *_Atomic s_sink;      /* static storage: starts NULL (clang rejects "= NULL" here) */
static void *_Atomic s_sink_arg;

static const char *const s_level_names[] = { "ERROR", "WARN", "INFO", "DEBUG" };

void hone_log_set_sink(hone_log_sink_fn *sink, void *arg)
{
    s_sink_arg = arg;
    s_sink = sink;
}

void hone_log_set_level(hone_log_level_t level) { s_level = (int) level; }
hone_log_level_t hone_log_level(void) { return (hone_log_level_t) s_level; }

int hone_log_level_parse(const char *name, hone_log_level_t *out)
{
    static const char *const names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (streq(name, names[i])) {
            *out = (hone_log_level_t) i;
            return HONE_OK;
        }
    return HONE_EINVAL;
}

void hone_log_sink_null(hone_log_level_t level, const char *msgid, const char *text, void *arg)
{
    (void) level; (void) msgid; (void) text; (void) arg;
}

static void s_stderr_sink(hone_log_level_t level, const char *msgid, const char *text)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s [%s] %s\n",
            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, s_level_names[level], msgid, text);
}

void hone_log_write(hone_log_level_t level, const char *msgid, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    hone_log_sink_fn *sink = s_sink;
    if (sink)
        sink(level, msgid, text, s_sink_arg);
    else
        s_stderr_sink(level, msgid, text);
}
