/* result_list.c: the trial list of a next or list reply and its accessors. */
#include "result_internal.h"

#include <stdlib.h>

struct _hone_trial_list_t {
    hone_trial_t **items;       /* owned trials */
    size_t count;               /* number of items */
};

/* ---- trial lists ---- */

void hone_trial_list_destroy(hone_trial_list_t **list_p)
{
    if (!list_p || !*list_p)
        return;
    hone_trial_list_t *list = *list_p;
    for (size_t i = 0; i < list->count; i++)
        hone_result_trial_free(list->items[i]);
    free(list->items);
    free(list);
    *list_p = NULL;
}

int hone_result_list_parse(const hone_node_t *array, const char *experiment, hone_trial_list_t **out,
                           hone_error_t *err)
{
    *out = NULL;
    if (!array || hone_node_type(array) != HONE_NODE_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "reply field 'trials' must be an array");
    hone_trial_list_t *list = calloc(1, sizeof *list);
    size_t n = hone_node_len(array);
    if (list)
        list->items = calloc(n ? n : 1, sizeof *list->items);
    if (!list || !list->items) {
        free(list);
        return hone_result_oom(err);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = hone_result_trial_parse(hone_node_at(array, i), experiment, &list->items[i], err);
        if (rc != HONE_OK) {
            hone_trial_list_destroy(&list);
            return rc;
        }
        list->count = i + 1;
    }
    *out = list;
    return HONE_OK;
}

size_t hone_trial_list_count(const hone_trial_list_t *list)
{
    return list ? list->count : 0;
}

const hone_trial_t *hone_trial_list_at(const hone_trial_list_t *list, size_t i)
{
    return list && i < list->count ? list->items[i] : NULL;
}
