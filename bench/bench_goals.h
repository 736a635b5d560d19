/* bench_goals.h: hone-bench-quality's several-goals problems (functions.h's
 * hone_bench_moo_t: branincurrin, dtlz2, branin_disc), run in-process through the core
 * API for bench/moo.py ("hone's rows: the interface" in bench/README.md). */
#ifndef HONE_BENCH_GOALS_H
#define HONE_BENCH_GOALS_H

#include <stdbool.h>
#include <stdint.h>

/* Whether problem is one of them. */
bool bench_goals_has(const char *problem);
/* Prints their names, one a line. */
void bench_goals_list(void);
/* hone-bench-quality's modes for them: "run" (needs have_seed) prints one JSON line with
 * every trial's point and readings and the time of each generation; "config" prints
 * the experiment config. budget 0: the problem's default. Returns the exit status. */
int bench_goals_main(const char *mode, const char *problem, const char *method, bool have_seed, uint64_t seed,
                     uint32_t budget);

#endif
