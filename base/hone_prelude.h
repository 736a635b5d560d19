/* hone_prelude.h: the few macros every hone source file may use.
 * Visibility, always-on assertions, version macros and small helpers. */
#ifndef HONE_PRELUDE_H
#define HONE_PRELUDE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define HONE_VERSION_MAJOR 0
#define HONE_VERSION_MINOR 1
#define HONE_VERSION_PATCH 0
#define HONE_MAKE_VERSION(major, minor, patch) ((major) * 10000 + (minor) * 100 + (patch))
#define HONE_VERSION HONE_MAKE_VERSION(HONE_VERSION_MAJOR, HONE_VERSION_MINOR, HONE_VERSION_PATCH)

#if defined(_WIN32)
#  define HONE_EXPORT __declspec(dllexport)
#else
#  define HONE_EXPORT __attribute__((visibility("default")))
#endif

#define HONE_PRINTF(fmt_index, first_arg) __attribute__((format(printf, fmt_index, first_arg)))
#define HONE_NORETURN __attribute__((noreturn))
#define HONE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Always-on check of a programming invariant; never used on wire or user data. */
HONE_NORETURN void hone_panic(const char *file, int line, const char *what);
#define HONE_ASSERT(cond) \
    do { if (!(cond)) hone_panic(__FILE__, __LINE__, #cond); } while (0)

static inline bool streq(const char *a, const char *b) { return strcmp(a, b) == 0; }

#endif
