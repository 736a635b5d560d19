/* Unit tests for base/: error codes, error objects, logging levels and sinks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "err.h"
#include "log.h"

static void test_names_round_trip(void **state)
{
    (void) state;
    int codes[] = { HONE_OK, HONE_EINVAL, HONE_ENOTFOUND, HONE_ESTATE, HONE_EPROTO, HONE_EVERSION, HONE_EINTR };
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++) {
        int back = 1;
        assert_int_equal(hone_err_from_name(hone_err_name(codes[i]), &back), HONE_OK);
        assert_int_equal(back, codes[i]);
        assert_string_not_equal(hone_strerror(codes[i]), "unknown error");
    }
    assert_string_equal(hone_err_name(HONE_EINVAL), "HONE_EINVAL");
    assert_string_equal(hone_strerror(12345), "unknown error");
    int c = 0;
    assert_int_equal(hone_err_from_name("NOPE", &c), HONE_EINVAL);
    assert_int_equal(hone_err_from_name("ESTATE", &c), HONE_OK);
    assert_int_equal(c, HONE_ESTATE);
}

static void test_error_set_returns_code_and_formats(void **state)
{
    (void) state;
    hone_error_t err;
    hone_error_clear(&err);
    assert_int_equal(hone_error_set(&err, HONE_EINVAL, "parameter '%s': %d", "x", 3), HONE_EINVAL);
    assert_int_equal(err.code, HONE_EINVAL);
    assert_string_equal(err.message, "parameter 'x': 3");
    assert_int_equal(hone_error_set(NULL, HONE_ENOTFOUND, "ignored"), HONE_ENOTFOUND);
}

typedef struct { int calls; char last[256]; } sink_state_t;
static void s_sink(hone_log_level_t level, const char *msgid, const char *text, void *arg)
{
    sink_state_t *s = arg;
    s->calls++;
    snprintf(s->last, sizeof s->last, "%d %s %s", (int) level, msgid, text);
}

static int s_evaluated;
static int s_side_effect(void) { return ++s_evaluated; }

static void test_log_level_filters_before_evaluating(void **state)
{
    (void) state;
    sink_state_t s = { 0 };
    hone_log_set_sink(s_sink, &s);
    hone_log_set_level(HONE_LOG_WARN);
    s_evaluated = 0;
    hone_log_info("test", "%d", s_side_effect());
    assert_int_equal(s.calls, 0);
    assert_int_equal(s_evaluated, 0);
    hone_log_warn("test", "value %d", s_side_effect());
    assert_int_equal(s.calls, 1);
    assert_int_equal(s_evaluated, 1);
    assert_string_equal(s.last, "1 test value 1");
    hone_log_level_t lv;
    assert_int_equal(hone_log_level_parse("debug", &lv), HONE_OK);
    assert_int_equal(lv, HONE_LOG_DEBUG);
    assert_int_equal(hone_log_level_parse("loud", &lv), HONE_EINVAL);
    hone_log_set_sink(NULL, NULL);
    hone_log_set_level(HONE_LOG_INFO);
}

static void test_alloc_and_clock(void **state)
{
    (void) state;
    char *s = hone_sprintf("%s-%d", "a", 7);
    assert_string_equal(s, "a-7");
    hone_strfree(s);
    hone_free(NULL);
    int64_t a = hone_clock_mono_ms();
    int64_t b = hone_clock_mono_ms();
    assert_true(b >= a);
    assert_true(hone_clock_wall_ms() > 1700000000000LL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names_round_trip),
        cmocka_unit_test(test_error_set_returns_code_and_formats),
        cmocka_unit_test(test_log_level_filters_before_evaluating),
        cmocka_unit_test(test_alloc_and_clock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
