/* log.h: one levelled, pluggable log API (CONVENTIONS.md §19).
 *
 * The default sink writes "2026-11-28T01:02:03.456Z LEVEL [msgid] text" lines to
 * stderr. Library code never prints to stdout. The level test happens inside the
 * macro, before the arguments are evaluated. The sink and level are process-wide,
 * like a logger in nng; they are set once at start-up by the program. */
#ifndef HONE_LOG_H
#define HONE_LOG_H

#include "hone_prelude.h"

typedef enum { HONE_LOG_ERR = 0, HONE_LOG_WARN = 1, HONE_LOG_INFO = 2, HONE_LOG_DEBUG = 3 } hone_log_level_t;

/* A sink receives one formatted line (no trailing newline). It may be called from any
 * thread that logs; it must be thread-safe. */
typedef void (hone_log_sink_fn)(hone_log_level_t level, const char *msgid, const char *text, void *arg);

void hone_log_set_sink(hone_log_sink_fn *sink, void *arg);   /* NULL restores stderr */
void hone_log_set_level(hone_log_level_t level);
hone_log_level_t hone_log_level(void);
/* Parses "error", "warn", "info", "debug"; returns HONE_EINVAL if unknown. */
int hone_log_level_parse(const char *name, hone_log_level_t *out);
/* A sink that drops everything (for libraries embedded in a host process). */
void hone_log_sink_null(hone_log_level_t level, const char *msgid, const char *text, void *arg);

void hone_log_write(hone_log_level_t level, const char *msgid, const char *fmt, ...) HONE_PRINTF(3, 4);

#define HONE_LOG_AT(level, msgid, ...) \
    do { if ((int) (level) <= (int) hone_log_level()) hone_log_write((level), (msgid), __VA_ARGS__); } while (0)
#define hone_log_err(msgid, ...)   HONE_LOG_AT(HONE_LOG_ERR, msgid, __VA_ARGS__)
#define hone_log_warn(msgid, ...)  HONE_LOG_AT(HONE_LOG_WARN, msgid, __VA_ARGS__)
#define hone_log_info(msgid, ...)  HONE_LOG_AT(HONE_LOG_INFO, msgid, __VA_ARGS__)
#define hone_log_debug(msgid, ...) HONE_LOG_AT(HONE_LOG_DEBUG, msgid, __VA_ARGS__)

#endif
