/* Unit tests for broker/parking: busy flags, first-in first-out per experiment, entries
 * that disappear when idle, and the items freed at destroy. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "parking.h"

/* An item that counts its own destruction. */
typedef struct {
    int value;                  /* what the test put in */
    int *freed;                 /* incremented when the parking frees it */
} item_t;

static void s_item_free(void **p)
{
    item_t *item = *p;
    if (item) {
        (*item->freed)++;
        free(item);
    }
    *p = NULL;
}

static item_t *s_item(int value, int *freed)
{
    item_t *item = malloc(sizeof *item);
    assert_non_null(item);
    item->value = value;
    item->freed = freed;
    return item;
}

static int s_pop_value(hone_parking_t *parking, const char *experiment)
{
    item_t *item = hone_parking_pop(parking, experiment);
    assert_non_null(item);
    int value = item->value;
    free(item);
    return value;
}

static void test_busy_and_fifo(void **state)
{
    (void) state;
    int freed = 0;
    hone_parking_t *parking = hone_parking_new(s_item_free);
    assert_false(hone_parking_busy(parking, "a"));
    assert_null(hone_parking_pop(parking, "a"));
    hone_parking_set_busy(parking, "a", false);     /* idle stays absent */
    assert_int_equal(hone_parking_count(parking), 0);

    hone_parking_set_busy(parking, "a", true);
    hone_parking_set_busy(parking, "b", true);
    assert_true(hone_parking_busy(parking, "a"));
    assert_false(hone_parking_busy(parking, "c"));
    for (int i = 0; i < 5; i++)
        hone_parking_push(parking, i % 2 ? "b" : "a", s_item(i, &freed));
    assert_int_equal(hone_parking_size(parking), 5);
    assert_int_equal(hone_parking_count(parking), 2);

    /* a freed experiment keeps its items, in arrival order, until they are taken */
    hone_parking_set_busy(parking, "a", false);
    assert_false(hone_parking_busy(parking, "a"));
    assert_int_equal(hone_parking_count(parking), 2);
    assert_int_equal(s_pop_value(parking, "a"), 0);
    /* busy again in the middle (a served item started a generation): the rest waits */
    hone_parking_set_busy(parking, "a", true);
    hone_parking_push(parking, "a", s_item(10, &freed));
    hone_parking_set_busy(parking, "a", false);
    assert_int_equal(s_pop_value(parking, "a"), 2);
    assert_int_equal(s_pop_value(parking, "a"), 4);
    assert_int_equal(s_pop_value(parking, "a"), 10);
    assert_null(hone_parking_pop(parking, "a"));
    assert_int_equal(hone_parking_count(parking), 1);   /* "a" is gone, "b" is busy */
    assert_int_equal(hone_parking_size(parking), 2);

    /* "b" still holds two items: destroy frees them */
    assert_int_equal(freed, 0);
    hone_parking_destroy(&parking);
    assert_null(parking);
    assert_int_equal(freed, 2);
    hone_parking_destroy(&parking);     /* safe twice */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_busy_and_fifo),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
