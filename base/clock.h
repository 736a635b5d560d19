/* clock.h: time for timers and logs. */
#ifndef HONE_CLOCK_H
#define HONE_CLOCK_H

#include "hone_prelude.h"

int64_t hone_clock_mono_ms(void);   /* monotonic milliseconds, for intervals and leases */
int64_t hone_clock_mono_us(void);   /* monotonic microseconds, for benchmarks */
int64_t hone_clock_wall_ms(void);   /* milliseconds since the Unix epoch, for records */

#endif
