/* sdk_peers.h: the C SDK's clients and workers as the tests open them (a bounded time
 * per request, retries chosen), and experiments created or the test failed with the
 * broker's message. For the sdk and integration tests. Include after <cmocka.h>'s
 * prerequisites. */
#ifndef HONE_TEST_SDK_PEERS_H
#define HONE_TEST_SDK_PEERS_H

#include <stdint.h>

#include "hone.h"

/* Options with timeout_ms per attempt and retries re-sends (< 0: the SDK's default). */
hone_options_t hone_test_options(int32_t timeout_ms, int32_t retries);
/* A client of the broker at endpoint, with hone_test_options(timeout_ms, retries). */
hone_client_t *hone_test_client(const char *endpoint, int32_t timeout_ms, int32_t retries);
/* A worker called name on experiment, with timeout_ms per request and no retries. */
hone_worker_t *hone_test_worker(const char *endpoint, const char *experiment, const char *name,
                                int32_t timeout_ms);
/* Creates the experiment of config (JSON text); the broker must accept it, under name
 * when name is not NULL. */
void hone_test_create(hone_client_t *client, const char *config, const char *name);

#endif
