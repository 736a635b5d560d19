#include "alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static HONE_NORETURN void s_out_of_memory(size_t size)
{
    fprintf(stderr, "hone: out of memory allocating %zu bytes\n", size);
    abort();
}

void *hone_alloc(size_t size)
{
    void *p = calloc(1, size ? size : 1);
    if (!p)
        s_out_of_memory(size);
    return p;
}

void *hone_alloc_array(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        s_out_of_memory(SIZE_MAX);
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        s_out_of_memory(count * size);
    return p;
}

void *hone_realloc_array(void *ptr, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        s_out_of_memory(SIZE_MAX);
    size_t bytes = count * size;
    void *p = realloc(ptr, bytes ? bytes : 1);
    if (!p)
        s_out_of_memory(bytes);
    return p;
}

char *hone_strdup(const char *s)
{
    return s ? hone_strndup(s, strlen(s)) : NULL;
}

char *hone_strndup(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (!d)
        s_out_of_memory(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *hone_sprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    HONE_ASSERT(n >= 0);
    char *s = hone_alloc((size_t) n + 1);
    va_start(ap, fmt);
    vsnprintf(s, (size_t) n + 1, fmt, ap);
    va_end(ap);
    return s;
}

void hone_free(void *ptr) { free(ptr); }
void hone_strfree(char *s) { free(s); }
