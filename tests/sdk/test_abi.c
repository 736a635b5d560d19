/* The shared library's ABI: libhone.so exports every function of include/hone.h (as
 * listed in libhone.map) and nothing else of hone's internals. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

/* The names between "global:" and "local:" in the version script. */
static size_t s_exported_names(char names[][64], size_t max)
{
    char *path = hone_test_source_path("worker-sdk/c/libhone.map");
    char *text = hone_test_read_file(path, NULL);
    free(path);
    assert_non_null(text);
    char *start = strstr(text, "global:");
    char *end = strstr(text, "local:");
    assert_non_null(start);
    assert_non_null(end);
    size_t n = 0;
    for (char *p = start + 7; p < end && n < max;) {
        while (p < end && !(*p == '_' || (*p >= 'a' && *p <= 'z')))
            p++;
        char *q = p;
        while (q < end && (*q == '_' || (*q >= 'a' && *q <= 'z') || (*q >= '0' && *q <= '9')))
            q++;
        if (q > p && q - p < 64) {
            memcpy(names[n], p, (size_t) (q - p));
            names[n++][q - p] = '\0';
        }
        p = q + 1;
    }
    free(text);
    return n;
}

static void test_exports_the_api_and_nothing_else(void **state)
{
    (void) state;
    char *path = NULL;
    if (asprintf(&path, "%s/worker-sdk/c/libhone.so", HONE_BINARY_DIR) < 0)
        abort();
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
        fail_msg("dlopen %s: %s", path, dlerror());
    free(path);

    static char names[256][64];
    size_t n = s_exported_names(names, 256);
    assert_true(n >= 60);
    for (size_t i = 0; i < n; i++)
        if (!dlsym(lib, names[i]))
            fail_msg("libhone.so does not export %s", names[i]);

    /* Internals stay hidden: the codec, the logger, allocation helpers. */
    const char *hidden[] = { "hone_msg_new", "hone_msg_decode", "hone_validate", "hone_log_write",
                             "hone_alloc", "hone_error_set", "hone_transport_request" };
    for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
        if (dlsym(lib, hidden[i]))
            fail_msg("libhone.so exports internal symbol %s", hidden[i]);

    /* The exported functions work through the dynamic symbols. */
    const char *(*err_name)(int) = (const char *(*)(int)) dlsym(lib, "hone_err_name");
    assert_string_equal(err_name(-2), "HONE_EINVAL");
    dlclose(lib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exports_the_api_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
