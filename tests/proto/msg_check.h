/* msg_check.h: what the proto/msg tests (test_msg_vectors.c, test_msg_api.c,
 * test_msg_limits.c) share: reading the vector files of proto/vectors, the names of the
 * golden vectors, and building messages and metrics through the API. Include after
 * <cmocka.h>'s prerequisites. */
#ifndef HONE_TEST_MSG_CHECK_H
#define HONE_TEST_MSG_CHECK_H

#include <dirent.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"
#include "test_support.h"

/* ---- vector files ---- */

static inline uint8_t *s_read_vector(const char *relative, size_t *size)
{
    char *path = hone_test_source_path(relative);
    uint8_t *data = (uint8_t *) hone_test_read_file(path, size);
    if (!data)
        fail_msg("cannot read %s", path);
    free(path);
    return data;
}

static inline int s_name_cmp(const void *a, const void *b)
{
    return strcmp(a, b);
}

/* Names (without .msgpack) of the golden vectors, sorted; returns the count. */
static inline size_t s_golden_names(char names[][64], size_t max)
{
    char *dir = hone_test_source_path("proto/vectors");
    DIR *d = opendir(dir);
    assert_non_null(d);
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 8 && len < 64 && strcmp(e->d_name + len - 8, ".msgpack") == 0 && n < max) {
            memcpy(names[n], e->d_name, len - 8);
            names[n++][len - 8] = '\0';
        }
    }
    closedir(d);
    free(dir);
    qsort(names, n, sizeof names[0], s_name_cmp);
    return n;
}

/* ---- messages built through the API ---- */

static inline hone_msg_t *s_new(hone_msg_id_t id, uint64_t seq)
{
    hone_msg_t *msg = hone_msg_new(id);
    assert_non_null(msg);
    hone_msg_set_seq(msg, seq);
    return msg;
}

static inline void s_metric(hone_node_t *metrics, const char *name, double mean, double sem, bool has_sem)
{
    hone_node_t *pair = hone_node_add_array(metrics, name);
    assert_non_null(hone_node_add_float(pair, NULL, mean));
    assert_non_null(has_sem ? hone_node_add_float(pair, NULL, sem) : hone_node_add_nil(pair, NULL));
}

#endif
