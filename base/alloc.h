/* alloc.h: allocation with the core/broker out-of-memory policy (CONVENTIONS.md §14).
 *
 * hone_alloc* abort the process when memory is exhausted: the broker and the core
 * cannot continue meaningfully without memory. The worker SDK does not use them; it
 * calls malloc and returns HONE_ENOMEM. hone_free and hone_strfree release what any
 * hone library handed to its caller; freeing NULL is a no-op. */
#ifndef HONE_ALLOC_H
#define HONE_ALLOC_H

#include "hone_prelude.h"

void *hone_alloc(size_t size);                   /* zeroed; never NULL */
void *hone_alloc_array(size_t count, size_t size); /* zeroed; never NULL; checks overflow */
void *hone_realloc_array(void *ptr, size_t count, size_t size); /* never NULL */
char *hone_strdup(const char *s);                /* never NULL; NULL in gives NULL out */
char *hone_strndup(const char *s, size_t n);
char *hone_sprintf(const char *fmt, ...) HONE_PRINTF(1, 2);  /* never NULL */
HONE_EXPORT void hone_free(void *ptr);
HONE_EXPORT void hone_strfree(char *s);

#endif
