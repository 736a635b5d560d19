/* Tests of the lease table (broker/lease.c): deadlines in a min-heap, the indexes by
 * trial and by routing id, the roster, and the cost of a tick counted in heap
 * operations (never in time): 10 000 leases cost a tick what 10 do. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lease.h"

static const uint8_t s_id_a[] = { 0, 1, 2, 3 };
static const uint8_t s_id_b[] = { 0, 9, 9 };

static void test_add_find_expire_order(void **state)
{
    (void) state;
    hone_lease_table_t *t = hone_lease_table_new();
    assert_int_equal(hone_lease_count(t), 0);
    assert_true(hone_lease_next_deadline(t) == INT64_MAX);
    assert_null(hone_lease_take_expired(t, 1000000));
    /* deadlines 300, 100, 200 (now 0 + expiry) */
    hone_lease_add(t, "e", 0, 1, "w0", s_id_a, sizeof s_id_a, 300, 0);
    hone_lease_add(t, "e", 1, 1, "w1", s_id_b, sizeof s_id_b, 100, 0);
    hone_lease_t *l2 = hone_lease_add(t, "f", 1, 4, NULL, NULL, 0, 200, 0);
    assert_int_equal(hone_lease_count(t), 3);
    assert_string_equal(l2->worker, "");
    assert_int_equal(l2->id_len, 0);
    assert_true(hone_lease_next_deadline(t) == 100);
    hone_lease_t *found = hone_lease_find(t, "f", 1);
    assert_ptr_equal(found, l2);
    assert_int_equal(found->token, 4);
    assert_null(hone_lease_find(t, "f", 0));
    assert_null(hone_lease_find(t, "g", 1));

    /* nothing is due before 100; then in deadline order */
    assert_null(hone_lease_take_expired(t, 99));
    hone_lease_t *x = hone_lease_take_expired(t, 250);
    assert_non_null(x);
    assert_string_equal(x->experiment, "e");
    assert_int_equal(x->trial, 1);
    assert_null(hone_lease_find(t, "e", 1));     /* out of the indexes */
    hone_lease_free(&x);
    assert_null(x);
    x = hone_lease_take_expired(t, 250);
    assert_non_null(x);
    assert_string_equal(x->experiment, "f");
    hone_lease_free(&x);
    assert_null(hone_lease_take_expired(t, 250));
    assert_int_equal(hone_lease_count(t), 1);

    /* touching moves the deadline; re-adding a trial replaces its lease */
    hone_lease_t *l0 = hone_lease_find(t, "e", 0);
    hone_lease_touch(t, l0, NULL, 0, 280);
    assert_true(l0->deadline_ms == 580 && l0->last_seen_ms == 280);
    hone_lease_touch(t, l0, NULL, 0, 100);      /* time never goes back */
    assert_true(l0->deadline_ms == 580);
    hone_lease_t *again = hone_lease_add(t, "e", 0, 2, "w9", s_id_b, sizeof s_id_b, 50, 600);
    assert_int_equal(hone_lease_count(t), 1);
    assert_int_equal(again->token, 2);
    assert_true(hone_lease_next_deadline(t) == 650);
    hone_lease_remove(t, again);
    assert_int_equal(hone_lease_count(t), 0);
    hone_lease_table_destroy(&t);
    assert_null(t);
    hone_lease_table_destroy(&t);   /* twice is fine */
}

static void test_identity_index(void **state)
{
    (void) state;
    hone_lease_table_t *t = hone_lease_table_new();
    hone_lease_t *a1 = hone_lease_add(t, "e", 1, 1, "a", s_id_a, sizeof s_id_a, 100, 0);
    hone_lease_t *a2 = hone_lease_add(t, "f", 2, 1, "a", s_id_a, sizeof s_id_a, 100, 0);
    hone_lease_t *b = hone_lease_add(t, "e", 3, 1, "b", s_id_b, sizeof s_id_b, 100, 0);
    hone_lease_t *none = hone_lease_add(t, "e", 4, 1, "c", NULL, 0, 100, 0);
    /* a heartbeat that names no lease refreshes every lease of its routing id */
    assert_int_equal(hone_lease_touch_identity(t, s_id_a, sizeof s_id_a, 50), 2);
    assert_true(a1->deadline_ms == 150 && a2->deadline_ms == 150 && b->deadline_ms == 100);
    assert_int_equal(hone_lease_touch_identity(t, (const uint8_t *) "zz", 2, 60), 0);
    assert_int_equal(hone_lease_touch_identity(t, NULL, 0, 60), 0);
    /* a lease follows its worker to a new connection */
    hone_lease_touch(t, a2, s_id_b, sizeof s_id_b, 70);
    assert_int_equal(a2->id_len, sizeof s_id_b);
    assert_int_equal(hone_lease_touch_identity(t, s_id_b, sizeof s_id_b, 80), 2);    /* b and a2 */
    assert_int_equal(hone_lease_touch_identity(t, s_id_a, sizeof s_id_a, 80), 1);    /* a1 */
    /* a lease without a routing id takes the first one it is touched with */
    hone_lease_touch(t, none, s_id_a, sizeof s_id_a, 90);
    assert_int_equal(hone_lease_touch_identity(t, s_id_a, sizeof s_id_a, 95), 2);
    /* removing keeps the lists whole, wherever the lease sits in them */
    hone_lease_remove(t, a1);
    assert_int_equal(hone_lease_touch_identity(t, s_id_a, sizeof s_id_a, 96), 1);
    hone_lease_remove(t, none);
    assert_int_equal(hone_lease_touch_identity(t, s_id_a, sizeof s_id_a, 97), 0);
    hone_lease_t *x = hone_lease_take_expired(t, 1000);
    assert_non_null(x);
    hone_lease_free(&x);
    assert_int_equal(hone_lease_touch_identity(t, s_id_b, sizeof s_id_b, 98), 1);
    hone_lease_table_destroy(&t);
}

/* Builds a table of n leases with deadlines spread over [1000, 1000 + n). */
static hone_lease_table_t *s_table(size_t n, uint64_t seed)
{
    hone_lease_table_t *t = hone_lease_table_new();
    uint64_t x = seed;
    for (size_t i = 0; i < n; i++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint8_t id[8];
        memcpy(id, &x, sizeof id);
        hone_lease_add(t, "e", (uint32_t) i, 1, "w", id, sizeof id, 1000 + (int64_t) ((x >> 33) % n), 0);
    }
    return t;
}

/* The scaling promise, counted in heap operations: a tick with nothing due costs the
 * same with 10 000 leases as with 10; a touch and an expiry cost O(log n). */
static void test_tick_cost_independent_of_count(void **state)
{
    (void) state;
    size_t sizes[] = { 10, 10000 };
    uint64_t tick_ops[2], touch_ops[2], expire_ops[2];
    for (int k = 0; k < 2; k++) {
        size_t n = sizes[k];
        hone_lease_table_t *t = s_table(n, 7);
        /* 1000 ticks before the first deadline */
        uint64_t before = hone_lease_ops(t);
        for (int64_t now = 0; now < 1000; now++)
            assert_null(hone_lease_take_expired(t, now));
        tick_ops[k] = hone_lease_ops(t) - before;
        /* 1000 heartbeats, each pushing a lease's deadline to the back */
        before = hone_lease_ops(t);
        for (uint32_t i = 0; i < 1000; i++)
            hone_lease_touch(t, hone_lease_find(t, "e", (uint32_t) ((i * 7919u) % n)), NULL, 0,
                             (int64_t) n + 2000 + i);
        touch_ops[k] = hone_lease_ops(t) - before;
        /* expiring 10 leases */
        before = hone_lease_ops(t);
        for (int i = 0; i < 10; i++) {
            hone_lease_t *x = hone_lease_take_expired(t, INT64_MAX - 1);
            assert_non_null(x);
            hone_lease_free(&x);
        }
        expire_ops[k] = hone_lease_ops(t) - before;
        hone_lease_table_destroy(&t);
    }
    print_message("heap operations: 1000 idle ticks %llu (10 leases) vs %llu (10000); "
                  "1000 touches %llu vs %llu; 10 expiries %llu vs %llu\n",
                  (unsigned long long) tick_ops[0], (unsigned long long) tick_ops[1],
                  (unsigned long long) touch_ops[0], (unsigned long long) touch_ops[1],
                  (unsigned long long) expire_ops[0], (unsigned long long) expire_ops[1]);
    /* an idle tick is one comparison, whatever the count */
    assert_int_equal(tick_ops[0], 1000);
    assert_int_equal(tick_ops[1], 1000);
    /* log2(10000) ~ 13.3: a sift makes at most 2 comparisons and 1 swap per level */
    assert_true(touch_ops[1] <= 1000 * (3 * 14 + 3));
    assert_true(expire_ops[1] <= 10 * (3 * 14 + 4));
}

/* The heap property under a random mix of operations, against a brute-force minimum. */
static void test_heap_random_mix(void **state)
{
    (void) state;
    hone_lease_table_t *t = hone_lease_table_new();
    enum { N = 500 };
    bool live[N] = { false };
    int64_t deadline[N] = { 0 };
    uint64_t x = 12345;
    int64_t now = 0;
    for (int step = 0; step < 20000; step++) {
        x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        uint32_t i = (uint32_t) ((x >> 33) % N);
        int op = (int) ((x >> 20) % 4);
        now += (int64_t) ((x >> 40) % 3);
        hone_lease_t *l = hone_lease_find(t, "e", i);
        assert_true((l != NULL) == live[i]);
        if (op == 0 || !live[i]) {
            int64_t expiry = 1 + (int64_t) ((x >> 45) % 100);
            hone_lease_add(t, "e", i, 1, "w", NULL, 0, expiry, now);
            live[i] = true;
            deadline[i] = now + expiry;
        } else if (op == 1) {
            hone_lease_touch(t, l, NULL, 0, now);
            deadline[i] = l->last_seen_ms + l->expiry_ms;
        } else if (op == 2) {
            hone_lease_remove(t, l);
            live[i] = false;
        } else {
            hone_lease_t *e;
            while ((e = hone_lease_take_expired(t, now))) {
                assert_true(live[e->trial] && deadline[e->trial] <= now);
                live[e->trial] = false;
                hone_lease_free(&e);
            }
            for (int k = 0; k < N; k++)
                assert_false(live[k] && deadline[k] <= now);
        }
        int64_t min = INT64_MAX;
        for (int k = 0; k < N; k++)
            if (live[k] && deadline[k] < min)
                min = deadline[k];
        assert_true(hone_lease_next_deadline(t) == min);
    }
    hone_lease_table_destroy(&t);
}

static void test_roster(void **state)
{
    (void) state;
    hone_lease_table_t *t = hone_lease_table_new();
    hone_lease_seen(t, "e", "idle", s_id_a, sizeof s_id_a, 100);
    hone_lease_seen(t, "e", "busy", s_id_b, sizeof s_id_b, 200);
    hone_lease_seen(t, "e", NULL, s_id_b, sizeof s_id_b, 250);   /* no name: its routing id */
    hone_lease_seen(t, "f", "other", s_id_a, sizeof s_id_a, 300);
    hone_lease_seen(t, "e", NULL, NULL, 0, 300);                 /* nothing to name it by */
    hone_lease_add(t, "e", 7, 2, "busy", s_id_b, sizeof s_id_b, 1000, 150);
    hone_lease_add(t, "e", 8, 1, "", s_id_a, sizeof s_id_a, 1000, 160);
    hone_lease_worker_t *rows = NULL;
    size_t n = 0;
    hone_lease_workers(t, "e", 400, &rows, &n);
    assert_int_equal(n, 4);
    /* most recently seen first: @000909 (250), busy (200), @00010203 (leased at 160), idle (100) */
    assert_string_equal(rows[0].worker, "@000909");
    assert_false(rows[0].leased);
    assert_string_equal(rows[1].worker, "busy");
    assert_true(rows[1].leased);
    assert_true(rows[1].trial == 7 && rows[1].token == 2 && rows[1].assigned_ms == 150);
    assert_true(rows[1].last_seen_ms == 200);
    assert_string_equal(rows[2].worker, "@00010203");
    assert_true(rows[2].leased && rows[2].trial == 8);
    assert_string_equal(rows[3].worker, "idle");
    hone_lease_workers_free(&rows, n);
    assert_null(rows);
    /* idle workers leave the roster after HONE_LEASE_ROSTER_KEEP_MS; lease holders stay */
    hone_lease_workers(t, "e", 260 + HONE_LEASE_ROSTER_KEEP_MS, &rows, &n);
    assert_int_equal(n, 2);
    assert_true(rows[0].leased && rows[1].leased);
    hone_lease_workers_free(&rows, n);
    hone_lease_workers(t, "nobody", 0, &rows, &n);
    assert_int_equal(n, 0);
    assert_null(rows);
    char name[32];
    hone_lease_id_name(s_id_a, sizeof s_id_a, name, sizeof name);
    assert_string_equal(name, "@00010203");
    hone_lease_table_destroy(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_find_expire_order),
        cmocka_unit_test(test_identity_index),
        cmocka_unit_test(test_tick_cost_independent_of_count),
        cmocka_unit_test(test_heap_random_mix),
        cmocka_unit_test(test_roster),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
