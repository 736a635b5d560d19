#define _GNU_SOURCE
/* Unit tests for broker/store: records, key order, reopen, abort, savepoints (mark and
 * rollback, for group commit), reads through the open write transaction, map growth and
 * the refusal at the map-size cap, and stale reader slots cleared at open. Each test
 * uses its own temporary directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <lmdb.h>             /* only to play a second process (a backup) on the store */

#include "err.h"
#include "log.h"
#include "msg.h"
#include "store.h"
#include "test_support.h"

typedef struct {
    char *dir;                  /* the test's data directory */
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = calloc(1, sizeof *f);
    f->dir = hone_test_tmpdir("store");
    hone_log_set_level(HONE_LOG_ERR);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    hone_test_rmtree(f->dir);
    free(f->dir);
    free(f);
    return 0;
}

/* ---- a visitor that writes what it sees into a text transcript ---- */

typedef struct {
    char text[16384];           /* one line per callback */
    size_t len;                 /* bytes used */
    int64_t created;            /* created_ms of the last experiment or trial seen */
} transcript_t;

static void s_append(transcript_t *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->text + t->len, sizeof t->text - t->len, fmt, ap);
    va_end(ap);
    assert_true(n > 0 && (size_t) n < sizeof t->text - t->len);
    t->len += (size_t) n;
}

static int s_on_experiment(const hone_store_experiment_t *rec, void *arg, hone_error_t *err)
{
    (void) err;
    transcript_t *t = arg;
    t->created = rec->created_ms;
    s_append(t, "E %s sobol=%llu config=%s\n", rec->name, (unsigned long long) rec->sobol_drawn,
             rec->config);
    return HONE_OK;
}

static int s_on_trial(const char *name, const hone_store_trial_t *rec, void *arg, hone_error_t *err)
{
    (void) err;
    transcript_t *t = arg;
    t->created = rec->created_ms;
    const hone_node_t *x = hone_node_get(rec->params, "x");
    const hone_node_t *k = hone_node_get(rec->params, "k");
    s_append(t, "T %s #%u status=%d x=%g k=%lld note=%.16s reason=%s\n", name, rec->index, rec->status,
             x ? hone_node_float(x) : -1.0, k ? (long long) hone_node_int(k) : -1LL,
             rec->note ? rec->note : "-", rec->reason ? rec->reason : "-");
    return HONE_OK;
}

static int s_on_reading(const char *name, const hone_store_reading_t *rec, void *arg, hone_error_t *err)
{
    (void) err;
    transcript_t *t = arg;
    char prog[32] = "none";
    if (rec->has_progression)
        snprintf(prog, sizeof prog, "%lld", (long long) rec->progression);
    char sem[32] = "nil";
    if (!isnan(rec->sem))
        snprintf(sem, sizeof sem, "%g", rec->sem);
    s_append(t, "R %s #%u %s @%s %g %s\n", name, rec->trial, rec->metric, prog, rec->mean, sem);
    return HONE_OK;
}

static int s_on_end(const char *name, void *arg, hone_error_t *err)
{
    (void) err;
    s_append(arg, "END %s\n", name);
    return HONE_OK;
}

static int s_load(hone_store_t *store, const char *name, transcript_t *t)
{
    memset(t, 0, sizeof *t);
    hone_store_visitor_t v = { s_on_experiment, s_on_trial, s_on_reading, s_on_end, t };
    hone_error_t err;
    hone_error_clear(&err);
    return hone_store_load(store, name, &v, &err);
}

/* ---- record helpers ---- */

static void s_put_experiment(hone_store_t *store, const char *name, uint64_t sobol, int64_t created)
{
    hone_error_t err;
    char config[128];
    snprintf(config, sizeof config, "{\"name\":\"%s\"}", name);
    hone_store_experiment_t rec = { .name = name, .config = config, .sobol_drawn = sobol,
                                    .created_ms = created };
    assert_int_equal(hone_store_put_experiment(store, &rec, &err), HONE_OK);
}

static int s_put_trial(hone_store_t *store, const char *name, uint32_t index, int status, double x,
                       const char *note, const char *reason, int64_t now)
{
    hone_error_t err;
    hone_node_t *params = hone_node_new_map();
    assert_non_null(hone_node_add_float(params, "x", x));
    assert_non_null(hone_node_add_int(params, "k", (int64_t) index * 10));
    assert_non_null(hone_node_add_str(params, "opt", "adam"));
    assert_non_null(hone_node_add_bool(params, "flag", true));
    hone_store_trial_t rec = { .index = index, .status = status, .params = params, .note = note,
                               .reason = reason, .created_ms = now, .updated_ms = now };
    int rc = hone_store_put_trial(store, name, &rec, &err);
    hone_node_destroy(&params);
    return rc;
}

static void s_put_reading(hone_store_t *store, const char *name, uint32_t trial, const char *metric,
                          bool has_prog, int64_t prog, double mean, double sem)
{
    hone_error_t err;
    hone_store_reading_t rec = { .trial = trial, .metric = metric, .has_progression = has_prog,
                                 .progression = prog, .mean = mean, .sem = sem, .time_ms = 1 };
    assert_int_equal(hone_store_put_reading(store, name, &rec, &err), HONE_OK);
}

static const char *const s_expected =
    "E a sobol=7 config={\"name\":\"a\"}\n"
    "T a #0 status=3 x=0.25 k=0 note=center reason=-\n"
    "T a #1 status=2 x=0.5 k=10 note=sobol reason=worker died\n"
    "T a #256 status=4 x=0.75 k=2560 note=sobol reason=-\n"
    "R a #0 loss @-3 1.5 0.1\n"
    "R a #0 loss @5 1.25 nil\n"
    "R a #0 loss @none 1 0\n"
    "R a #1 acc @2 0.5 nil\n"
    "END a\n"
    "E ab sobol=0 config={\"name\":\"ab\"}\n"
    "T ab #0 status=4 x=1 k=0 note=sobol reason=-\n"
    "END ab\n";

/* Writes two experiments whose names share a prefix ("a", "ab"), out of key order. */
static void s_write_sample(hone_store_t *store)
{
    hone_error_t err;
    assert_int_equal(hone_store_begin(store, &err), HONE_OK);
    s_put_experiment(store, "ab", 0, 50);
    assert_int_equal(s_put_trial(store, "ab", 0, 4, 1.0, "sobol", NULL, 50), HONE_OK);
    s_put_experiment(store, "a", 7, 100);
    assert_int_equal(s_put_trial(store, "a", 256, 4, 0.75, "sobol", NULL, 100), HONE_OK);
    assert_int_equal(s_put_trial(store, "a", 1, 2, 0.5, "sobol", "worker died", 100), HONE_OK);
    assert_int_equal(s_put_trial(store, "a", 0, 3, 0.25, "center", NULL, 100), HONE_OK);
    s_put_reading(store, "a", 1, "acc", true, 2, 0.5, NAN);
    s_put_reading(store, "a", 0, "loss", false, 0, 1.0, 0.0);
    s_put_reading(store, "a", 0, "loss", true, 5, 1.25, NAN);
    s_put_reading(store, "a", 0, "loss", true, -3, 1.5, 0.1);
    assert_int_equal(hone_store_commit(store, &err), HONE_OK);
}

static void test_put_load_order(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    assert_true(hone_store_map_size(store) >= HONE_STORE_MAP_SIZE_DEFAULT);
    s_write_sample(store);

    transcript_t t;
    assert_int_equal(s_load(store, NULL, &t), HONE_OK);
    assert_string_equal(t.text, s_expected);

    /* one experiment only; its neighbour with a longer name stays out */
    assert_int_equal(s_load(store, "a", &t), HONE_OK);
    assert_non_null(strstr(t.text, "END a\n"));
    assert_null(strstr(t.text, "ab"));
    assert_int_equal(s_load(store, "nope", &t), HONE_ENOTFOUND);
    assert_int_equal(t.len, 0);

    size_t ne, nt, nr;
    assert_int_equal(hone_store_count(store, &ne, &nt, &nr, &err), HONE_OK);
    assert_int_equal(ne, 2);
    assert_int_equal(nt, 4);
    assert_int_equal(nr, 4);
    hone_store_destroy(&store);
    assert_null(store);
    hone_store_destroy(&store);   /* safe twice */
}

static void test_reopen_and_replace(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    s_write_sample(store);
    hone_store_destroy(&store);

    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    transcript_t t;
    assert_int_equal(s_load(store, NULL, &t), HONE_OK);
    assert_string_equal(t.text, s_expected);

    /* a put replaces the value but keeps the creation time */
    assert_int_equal(hone_store_begin(store, &err), HONE_OK);
    s_put_experiment(store, "a", 9, 999);
    assert_int_equal(s_put_trial(store, "a", 1, 2, 0.5, "sobol", "retry", 999), HONE_OK);
    s_put_reading(store, "a", 0, "loss", true, 5, 2.0, 0.5);
    assert_int_equal(hone_store_commit(store, &err), HONE_OK);
    hone_store_destroy(&store);

    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(s_load(store, "a", &t), HONE_OK);
    assert_non_null(strstr(t.text, "E a sobol=9 "));
    assert_non_null(strstr(t.text, "T a #1 status=2 x=0.5 k=10 note=sobol reason=retry\n"));
    assert_non_null(strstr(t.text, "R a #0 loss @5 2 0.5\n"));
    assert_null(strstr(t.text, "R a #0 loss @5 1.25"));
    size_t nr;
    assert_int_equal(hone_store_count(store, NULL, NULL, &nr, &err), HONE_OK);
    assert_int_equal(nr, 4);

    /* creation times were kept */
    hone_store_visitor_t v = { .experiment = s_on_experiment, .arg = &t };
    memset(&t, 0, sizeof t);
    assert_int_equal(hone_store_load(store, "a", &v, &err), HONE_OK);
    assert_int_equal(t.created, 100);
    hone_store_destroy(&store);
}

static void test_abort_leaves_nothing(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    s_write_sample(store);

    assert_int_equal(hone_store_begin(store, &err), HONE_OK);
    assert_true(hone_store_in_txn(store));
    s_put_experiment(store, "gone", 1, 1);
    assert_int_equal(s_put_trial(store, "gone", 0, 4, 0.1, "sobol", NULL, 1), HONE_OK);
    assert_int_equal(s_put_trial(store, "a", 0, 2, 0.9, "sobol", "changed", 1), HONE_OK);
    hone_store_abort(store);
    assert_false(hone_store_in_txn(store));
    hone_store_abort(store);    /* no-op */

    transcript_t t;
    assert_int_equal(s_load(store, "gone", &t), HONE_ENOTFOUND);
    assert_int_equal(s_load(store, NULL, &t), HONE_OK);
    assert_string_equal(t.text, s_expected);

    /* a refused put changes nothing and leaves the transaction open with what it had */
    assert_int_equal(hone_store_begin(store, &err), HONE_OK);
    s_put_experiment(store, "gone", 1, 1);
    char metric[HONE_STORE_METRIC_MAX + 2];
    memset(metric, 'm', sizeof metric - 1);
    metric[sizeof metric - 1] = '\0';
    hone_store_reading_t bad = { .trial = 0, .metric = metric, .mean = 1, .sem = NAN };
    assert_int_equal(hone_store_put_reading(store, "gone", &bad, &err), HONE_EINVAL);
    assert_true(hone_store_in_txn(store));
    /* reads go through the open write transaction and see its puts */
    assert_int_equal(s_load(store, "gone", &t), HONE_OK);
    assert_string_equal(t.text, "E gone sobol=1 config={\"name\":\"gone\"}\nEND gone\n");
    size_t ne;
    assert_int_equal(hone_store_count(store, &ne, NULL, NULL, &err), HONE_OK);
    assert_int_equal(ne, 3);
    hone_store_abort(store);
    assert_int_equal(s_load(store, "gone", &t), HONE_ENOTFOUND);
    assert_int_equal(hone_store_count(store, &ne, NULL, NULL, &err), HONE_OK);
    assert_int_equal(ne, 2);
    hone_store_destroy(&store);
}

/* Savepoints: a rollback undoes the puts after its mark and keeps the ones before. */
static void test_mark_and_rollback(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    transcript_t t;
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(hone_store_begin(store, &err), HONE_OK);
    size_t empty = hone_store_mark(store);
    s_put_experiment(store, "a", 1, 10);
    size_t m1 = hone_store_mark(store);
    assert_true(m1 > empty);
    assert_int_equal(s_put_trial(store, "a", 0, 3, 0.25, "center", NULL, 10), HONE_OK);
    s_put_reading(store, "a", 0, "loss", true, 1, 2.0, NAN);
    size_t m2 = hone_store_mark(store);
    assert_int_equal(s_put_trial(store, "a", 1, 3, 0.5, "sobol", NULL, 10), HONE_OK);
    s_put_experiment(store, "a", 2, 10);            /* a replace after the mark */

    assert_int_equal(hone_store_rollback(store, m2, &err), HONE_OK);
    assert_true(hone_store_in_txn(store));
    assert_int_equal(hone_store_mark(store), m2);
    assert_int_equal(s_load(store, "a", &t), HONE_OK);
    assert_string_equal(t.text, "E a sobol=1 config={\"name\":\"a\"}\n"
                                "T a #0 status=3 x=0.25 k=0 note=center reason=-\n"
                                "R a #0 loss @1 2 nil\n"
                                "END a\n");
    assert_int_equal(hone_store_rollback(store, m2, &err), HONE_OK);   /* nothing after it: no-op */
    assert_int_equal(hone_store_rollback(store, m1, &err), HONE_OK);
    assert_int_equal(s_load(store, "a", &t), HONE_OK);
    assert_string_equal(t.text, "E a sobol=1 config={\"name\":\"a\"}\nEND a\n");

    /* the transaction carries on and commits what it holds */
    assert_int_equal(s_put_trial(store, "a", 2, 4, 0.75, "sobol", NULL, 10), HONE_OK);
    assert_int_equal(hone_store_commit(store, &err), HONE_OK);
    hone_store_destroy(&store);
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(s_load(store, NULL, &t), HONE_OK);
    assert_string_equal(t.text, "E a sobol=1 config={\"name\":\"a\"}\n"
                                "T a #2 status=4 x=0.75 k=20 note=sobol reason=-\n"
                                "END a\n");

    /* a rollback to the start of a transaction leaves it open and empty */
    assert_int_equal(hone_store_begin(store, &err), HONE_OK);
    size_t start = hone_store_mark(store);
    s_put_experiment(store, "b", 1, 10);
    assert_int_equal(hone_store_rollback(store, start, &err), HONE_OK);
    assert_true(hone_store_in_txn(store));
    assert_int_equal(s_load(store, "b", &t), HONE_ENOTFOUND);
    assert_int_equal(hone_store_commit(store, &err), HONE_OK);
    hone_store_destroy(&store);
}

static void test_directory_lock(void **state)
{
    fixture_t *f = *state;
    hone_store_t *a = NULL, *b = NULL;
    hone_error_t err;
    assert_int_equal(hone_store_open(&a, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(hone_store_open(&b, f->dir, NULL, &err), HONE_ESTORE);
    assert_null(b);
    assert_non_null(strstr(err.message, "in use"));
    hone_store_destroy(&a);
    assert_int_equal(hone_store_open(&b, f->dir, NULL, &err), HONE_OK);
    hone_store_destroy(&b);

    /* a nested directory is created; an empty name is refused */
    char *nested = NULL;
    assert_true(asprintf(&nested, "%s/x/y/z", f->dir) > 0);
    assert_int_equal(hone_store_open(&a, nested, NULL, &err), HONE_OK);
    hone_store_destroy(&a);
    free(nested);
    assert_int_equal(hone_store_open(&a, "", NULL, &err), HONE_EINVAL);
}

/* Writes n trials with large notes in one transaction; returns the commit's code. */
static int s_fill(hone_store_t *store, const char *name, uint32_t first, uint32_t n, hone_error_t *err)
{
    static char note[2001];
    memset(note, 'n', sizeof note - 1);
    int rc = hone_store_begin(store, err);
    if (rc != HONE_OK)
        return rc;
    hone_store_experiment_t rec = { .name = name, .config = "{}", .sobol_drawn = first + n };
    rc = hone_store_put_experiment(store, &rec, err);
    for (uint32_t i = 0; rc == HONE_OK && i < n; i++) {
        hone_node_t *params = hone_node_new_map();
        assert_non_null(hone_node_add_float(params, "x", i));
        hone_store_trial_t t = { .index = first + i, .status = 4, .params = params, .note = note };
        rc = hone_store_put_trial(store, name, &t, err);
        hone_node_destroy(&params);
    }
    if (rc == HONE_OK)
        return hone_store_commit(store, err);
    hone_store_abort(store);
    return rc;
}

static void test_map_full_grows_then_refuses(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    hone_store_options_t options = { .map_size = 64 << 10, .map_size_max = 1 << 20 };
    assert_int_equal(hone_store_open(&store, f->dir, &options, &err), HONE_OK);
    uint64_t initial = hone_store_map_size(store);
    assert_true(initial < (256u << 10));

    /* about 200 KiB in one transaction: the map must grow and the batch be replayed */
    assert_int_equal(s_fill(store, "grow", 0, 100, &err), HONE_OK);
    assert_true(hone_store_map_size(store) > initial);
    size_t nt;
    assert_int_equal(hone_store_count(store, NULL, &nt, NULL, &err), HONE_OK);
    assert_int_equal(nt, 100);

    /* about 2 MiB in one transaction: beyond the cap, refused as a whole */
    hone_error_clear(&err);
    int rc = s_fill(store, "huge", 0, 1000, &err);
    assert_int_equal(rc, HONE_ESTORE);
    assert_non_null(strstr(err.message, "full"));
    assert_false(hone_store_in_txn(store));
    assert_true(hone_store_map_size(store) <= (1u << 20));
    assert_int_equal(hone_store_count(store, NULL, &nt, NULL, &err), HONE_OK);
    assert_int_equal(nt, 100);
    transcript_t t;
    assert_int_equal(s_load(store, "huge", &t), HONE_ENOTFOUND);

    /* a rollback whose replay needs more room than the map has grows it, like a put */
    hone_store_options_t tiny = { .map_size = 64 << 10, .map_size_max = 1 << 20 };
    char *dir2 = NULL;
    assert_true(asprintf(&dir2, "%s/rollback", f->dir) > 0);
    hone_store_t *other = NULL;
    assert_int_equal(hone_store_open(&other, dir2, &tiny, &err), HONE_OK);
    uint64_t small = hone_store_map_size(other);
    static char note[2001];
    memset(note, 'n', sizeof note - 1);
    assert_int_equal(hone_store_begin(other, &err), HONE_OK);
    hone_store_experiment_t rb = { .name = "rb", .config = "{}" };
    assert_int_equal(hone_store_put_experiment(other, &rb, &err), HONE_OK);
    for (uint32_t i = 0; i < 60; i++) {
        hone_node_t *params = hone_node_new_map();
        assert_non_null(hone_node_add_float(params, "x", i));
        hone_store_trial_t tr = { .index = i, .status = 4, .params = params, .note = note };
        assert_int_equal(hone_store_put_trial(other, "rb", &tr, &err), HONE_OK);
        hone_node_destroy(&params);
    }
    size_t keep = hone_store_mark(other);
    s_put_reading(other, "rb", 0, "y", false, 0, 1.0, NAN);
    assert_true(hone_store_map_size(other) > small);
    assert_int_equal(hone_store_rollback(other, keep, &err), HONE_OK);
    assert_int_equal(hone_store_commit(other, &err), HONE_OK);
    size_t nr;
    assert_int_equal(hone_store_count(other, NULL, &nt, &nr, &err), HONE_OK);
    assert_int_equal(nt, 60);
    assert_int_equal(nr, 0);
    hone_store_destroy(&other);
    free(dir2);

    /* the store still works for small writes, and what was stored survives a reopen */
    assert_int_equal(s_fill(store, "grow", 100, 1, &err), HONE_OK);
    hone_store_destroy(&store);
    assert_int_equal(hone_store_open(&store, f->dir, &options, &err), HONE_OK);
    assert_int_equal(hone_store_count(store, NULL, &nt, NULL, &err), HONE_OK);
    assert_int_equal(nt, 101);
    assert_int_equal(s_load(store, "grow", &t), HONE_OK);
    assert_non_null(strstr(t.text, "E grow sobol=101 "));
    hone_store_destroy(&store);
}

static void test_map_no_growth_refuses_cleanly(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    hone_store_options_t options = { .map_size = 128 << 10, .map_size_max = 1 };  /* never grow */
    assert_int_equal(hone_store_open(&store, f->dir, &options, &err), HONE_OK);
    uint64_t size = hone_store_map_size(store);
    assert_int_equal(s_fill(store, "small", 0, 5, &err), HONE_OK);
    assert_int_equal(s_fill(store, "big", 0, 200, &err), HONE_ESTORE);
    assert_int_equal(hone_store_map_size(store), size);
    size_t ne, nt;
    assert_int_equal(hone_store_count(store, &ne, &nt, NULL, &err), HONE_OK);
    assert_int_equal(ne, 1);
    assert_int_equal(nt, 5);
    hone_store_destroy(&store);
}

/* ---- stale reader slots ---- */

typedef struct {
    char text[4096];            /* the store's log lines */
    size_t len;
} log_capture_t;

static void s_capture(hone_log_level_t level, const char *msgid, const char *text, void *arg)
{
    (void) level;
    log_capture_t *c = arg;
    int n = snprintf(c->text + c->len, sizeof c->text - c->len, "[%s] %s\n", msgid, text);
    if (n > 0 && (size_t) n < sizeof c->text - c->len)
        c->len += (size_t) n;
}

static int s_die_reading(const hone_store_experiment_t *rec, void *arg, hone_error_t *err)
{
    (void) rec;
    (void) arg;
    (void) err;
    raise(SIGKILL);             /* killed inside a read transaction: its slot stays taken */
    return HONE_OK;
}

/* A process killed while it reads leaves its reader slot in lock.mdb. When the broker
 * opens the store alone, LMDB re-initialises the reader table anyway (it gets the lock
 * file exclusively); a slot survives only while another process keeps the environment
 * open, e.g. a backup running `mdb_copy`. Then the open clears it (mdb_reader_check) and
 * says so. The "backup" here opens the environment with LMDB directly, read-only and
 * without the directory lock, as mdb_copy would. */
static void test_stale_readers_cleared_at_open(void **state)
{
    fixture_t *f = *state;
    hone_store_t *store = NULL;
    hone_error_t err;
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(hone_store_stale_readers(store), 0);
    s_write_sample(store);
    hone_store_destroy(&store);

    int to_backup[2], from_backup[2];
    assert_int_equal(pipe(to_backup), 0);
    assert_int_equal(pipe(from_backup), 0);
    pid_t backup = fork();
    assert_true(backup >= 0);
    if (backup == 0) {
        MDB_env *env = NULL;
        char byte = 0;
        if (mdb_env_create(&env) != MDB_SUCCESS || mdb_env_set_maxdbs(env, 4) != MDB_SUCCESS
            || mdb_env_open(env, f->dir, MDB_RDONLY, 0600) != MDB_SUCCESS)
            _exit(1);
        if (write(from_backup[1], "r", 1) != 1 || read(to_backup[0], &byte, 1) < 0)
            _exit(1);
        mdb_env_close(env);
        _exit(0);
    }
    char byte = 0;
    assert_int_equal(read(from_backup[0], &byte, 1), 1);    /* the backup has it open */

    pid_t reader = fork();
    assert_true(reader >= 0);
    if (reader == 0) {
        hone_store_t *child = NULL;
        hone_error_t cerr;
        if (hone_store_open(&child, f->dir, NULL, &cerr) == HONE_OK) {
            hone_store_visitor_t v = { .experiment = s_die_reading };
            hone_store_load(child, NULL, &v, &cerr);
        }
        _exit(3);               /* not reached when the load ran */
    }
    int status = 0;
    assert_int_equal(waitpid(reader, &status, 0), reader);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);

    log_capture_t capture = { .len = 0 };
    hone_log_set_level(HONE_LOG_INFO);
    hone_log_set_sink(s_capture, &capture);
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    hone_log_set_sink(NULL, NULL);
    hone_log_set_level(HONE_LOG_ERR);
    assert_int_equal(hone_store_stale_readers(store), 1);
    assert_non_null(strstr(capture.text, "cleanly"));
    assert_non_null(strstr(capture.text, "1 stale reader slot(s) cleared"));
    transcript_t t;
    assert_int_equal(s_load(store, NULL, &t), HONE_OK);
    assert_string_equal(t.text, s_expected);
    hone_store_destroy(&store);

    /* cleared for good: the next open (the backup still there) finds none */
    assert_int_equal(hone_store_open(&store, f->dir, NULL, &err), HONE_OK);
    assert_int_equal(hone_store_stale_readers(store), 0);
    hone_store_destroy(&store);

    assert_int_equal(write(to_backup[1], "x", 1), 1);
    assert_int_equal(waitpid(backup, &status, 0), backup);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    close(to_backup[0]);
    close(to_backup[1]);
    close(from_backup[0]);
    close(from_backup[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_put_load_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_and_replace, setup, teardown),
        cmocka_unit_test_setup_teardown(test_abort_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mark_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_directory_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_full_grows_then_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_no_growth_refuses_cleanly, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_readers_cleared_at_open, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
