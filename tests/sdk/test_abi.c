/* The shared library's ABI: libhone.so exports every function of include/hone.h (as
 * listed in libhone.map) and nothing else of hone's internals, and the version script
 * lists exactly the functions the header declares. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dlfcn.h>
#include <stdbool.h>
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

/* The functions include/hone.h declares: the identifier before the '(' that follows
 * each HONE_EXPORT (the macro's own definition excluded). */
static size_t s_declared_names(char names[][64], size_t max)
{
    char *path = hone_test_source_path("worker-sdk/c/include/hone.h");
    char *text = hone_test_read_file(path, NULL);
    free(path);
    assert_non_null(text);
    size_t n = 0;
    for (char *p = text; (p = strstr(p, "HONE_EXPORT ")) && n < max; p++) {
        char *paren = strchr(p, '(');
        char *q = paren;
        while (q > p && q[-1] == ' ')
            q--;
        char *start = q;
        while (start > p && (start[-1] == '_' || (start[-1] >= 'a' && start[-1] <= 'z')
                             || (start[-1] >= '0' && start[-1] <= '9')))
            start--;
        if (!paren || q - start <= 0 || q - start >= 64 || strncmp(start, "hone_", 5) != 0)
            continue;
        memcpy(names[n], start, (size_t) (q - start));
        names[n++][q - start] = '\0';
    }
    free(text);
    return n;
}

static bool s_listed(char names[][64], size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(names[i], name) == 0)
            return true;
    return false;
}

static void test_map_lists_exactly_the_header(void **state)
{
    (void) state;
    static char exported[256][64], declared[256][64];
    size_t n_exported = s_exported_names(exported, 256);
    size_t n_declared = s_declared_names(declared, 256);
    for (size_t i = 0; i < n_declared; i++)
        if (!s_listed(exported, n_exported, declared[i]))
            fail_msg("hone.h declares %s but libhone.map does not export it", declared[i]);
    for (size_t i = 0; i < n_exported; i++)
        if (!s_listed(declared, n_declared, exported[i]))
            fail_msg("libhone.map exports %s, which hone.h does not declare", exported[i]);
    assert_int_equal(n_exported, n_declared);
    /* the client role's newest calls, by name */
    const char *expected[] = { "hone_client_predict", "hone_points_new", "hone_points_add_trial",
                               "hone_points_set_str", "hone_prediction_mean", "hone_prediction_sem" };
    for (size_t i = 0; i < sizeof expected / sizeof expected[0]; i++)
        assert_true(s_listed(exported, n_exported, expected[i]));
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
    int (*points_new)(void **) = (int (*)(void **)) dlsym(lib, "hone_points_new");
    int (*points_add)(void *) = (int (*)(void *)) dlsym(lib, "hone_points_add");
    size_t (*points_count)(const void *) = (size_t (*)(const void *)) dlsym(lib, "hone_points_count");
    void (*points_destroy)(void **) = (void (*)(void **)) dlsym(lib, "hone_points_destroy");
    void *points = NULL;
    assert_int_equal(points_new(&points), 0);
    assert_int_equal(points_add(points), 0);
    assert_int_equal(points_count(points), 1);
    points_destroy(&points);
    assert_null(points);
    dlclose(lib);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_map_lists_exactly_the_header),
        cmocka_unit_test(test_exports_the_api_and_nothing_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
