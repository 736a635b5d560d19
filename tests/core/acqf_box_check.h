/* acqf_box_check.h: the unit-box check of an optimizer's answer, shared by the optimizer
 * tests (test_acqf_opt.c) and the LogEI tests (test_acqf.c, which run the optimizer on
 * LogEI); include after cmocka.h. The helper keeps the s_ name the tests call it by. */
#ifndef HONE_TEST_ACQF_BOX_CHECK_H
#define HONE_TEST_ACQF_BOX_CHECK_H

#include <stddef.h>

/* Every coordinate of the d-vector x lies in [0, 1]. */
static inline void s_assert_in_box(const double *x, size_t d)
{
    for (size_t a = 0; a < d; a++)
        assert_true(x[a] >= 0.0 && x[a] <= 1.0);
}

#endif
