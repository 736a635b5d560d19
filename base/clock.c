#include "clock.h"

#include <time.h>

static int64_t s_ns(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t) ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t hone_clock_mono_ms(void) { return s_ns(CLOCK_MONOTONIC) / 1000000; }
int64_t hone_clock_mono_us(void) { return s_ns(CLOCK_MONOTONIC) / 1000; }
int64_t hone_clock_wall_ms(void) { return s_ns(CLOCK_REALTIME) / 1000000; }
