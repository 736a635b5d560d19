/* load_stats.c: bench_load's statistics (latency samples, nearest-rank percentiles over
 * every worker's samples) and its output, the markdown table on stdout. */
#define _GNU_SOURCE
#include "bench_load.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

void load_stats_add(load_samples_t *s, double v)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        double *p = realloc(s->v, cap * sizeof *p);
        if (!p) {
            fprintf(stderr, "bench_load: out of memory\n");
            exit(1);
        }
        s->v = p;
        s->cap = cap;
    }
    s->v[s->n++] = v;
}

static int s_cmp_double(const void *a, const void *b)
{
    double x = *(const double *) a, y = *(const double *) b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples; NAN when there are none. */
double load_stats_percentile(const load_samples_t *s, double q)
{
    if (s->n == 0)
        return NAN;
    size_t rank = (size_t) ceil(q * (double) s->n);
    if (rank < 1)
        rank = 1;
    return s->v[rank - 1];
}

/* Appends every sample of the workers' field at offset `off` into one sorted array. */
load_samples_t load_stats_merge(load_worker_t *w, int n, size_t off)
{
    load_samples_t all = { 0 };
    for (int i = 0; i < n; i++) {
        const load_samples_t *s = (const load_samples_t *) ((const char *) &w[i] + off);
        for (size_t j = 0; j < s->n; j++)
            load_stats_add(&all, s->v[j]);
    }
    if (all.n)
        qsort(all.v, all.n, sizeof *all.v, s_cmp_double);
    return all;
}

/* The fill table's header, or the throughput table's. */
void load_stats_print_header(const load_opts_t *opts)
{
    if (opts->fill) {
        printf("| label | driver | workers | metrics/msg | stored readings | trials completed | wall s | readings/s "
               "| broker CPU %% | workers CPU %% | disk fdatasync/s | broker VmHWM MiB | RssAnon MiB | RssFile MiB "
               "| data.mdb MiB | errors |\n");
        printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    } else {
        printf("| label | driver | workers | R × M | window s | trials/s | acked readings/s | acked msgs/s "
               "| assign p50 ms | assign p99 ms | reading ack p50 ms | reading ack p99 ms "
               "| broker CPU %% | workers CPU %% | disk fdatasync/s | broker VmHWM MiB | errors |\n");
        printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    }
    fflush(stdout);
}

void load_stats_print_row(const load_opts_t *opts, const char *driver, const load_result_t *r)
{
    if (opts->fill) {
        printf("| %s | %s | %d | %d | %" PRIu64 "%s | %" PRIu64 " | %.1f | %.0f | %.0f | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %" PRIu64 " |\n",
               opts->label, driver, r->workers, opts->metrics, r->readings,
               r->capped ? " (stopped by --max-seconds)" : "", r->trials, r->window_s,
               (double) r->readings / r->window_s, r->cpu_pct, r->workers_cpu_pct, r->disk_syncs,
               r->mem.vm_hwm_mib, r->mem.rss_anon_mib,
               r->mem.rss_file_mib, r->store_mib, r->errors);
    } else {
        printf("| %s | %s | %d | %d × %d | %.1f | %.1f | %.0f | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f | %.0f | %.1f | %" PRIu64 " |\n",
               opts->label, driver, r->workers, opts->readings, opts->metrics, r->window_s,
               (double) r->trials / r->window_s, (double) r->readings / r->window_s,
               (double) r->messages / r->window_s, r->assign_p50, r->assign_p99, r->ack_p50, r->ack_p99,
               r->cpu_pct, r->workers_cpu_pct, r->disk_syncs, r->mem.vm_hwm_mib, r->errors);
    }
    fflush(stdout);
}
