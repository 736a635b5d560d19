#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "sdk_peers.h"

hone_options_t hone_test_options(int32_t timeout_ms, int32_t retries)
{
    hone_options_t opts;
    hone_options_init(&opts);
    opts.timeout_ms = timeout_ms;
    if (retries >= 0)
        opts.retries = retries;
    return opts;
}

hone_client_t *hone_test_client(const char *endpoint, int32_t timeout_ms, int32_t retries)
{
    hone_options_t opts = hone_test_options(timeout_ms, retries);
    hone_client_t *client = NULL;
    assert_int_equal(hone_client_open(&client, endpoint, &opts), HONE_OK);
    assert_non_null(client);
    return client;
}

hone_worker_t *hone_test_worker(const char *endpoint, const char *experiment, const char *name,
                                int32_t timeout_ms)
{
    hone_options_t opts = hone_test_options(timeout_ms, 0);
    hone_worker_t *worker = NULL;
    assert_int_equal(hone_worker_open(&worker, endpoint, experiment, name, &opts), HONE_OK);
    assert_non_null(worker);
    return worker;
}

void hone_test_create(hone_client_t *client, const char *config, const char *name)
{
    char *created = NULL;
    if (hone_client_create(client, config, &created) != HONE_OK)
        fail_msg("create %s failed: %s", name ? name : "", hone_client_last_error(client));
    if (name)
        assert_string_equal(created, name);
    hone_strfree(created);
}
