/* readings.c: the stdout of hone-worker's program, cut into lines: a line that is a
 * JSON object is a reading, kept as the trial's last one and sent to the broker; any
 * other line is copied to stdout. */
#include "err.h"
#include "log.h"
#include "runner.h"

#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S_LOG HONE_RUNNER_LOG
#define S_LINE_MAX (1u << 20)           /* longest stdout line kept whole */

/* "loss=0.31, acc=0.9±0.01" */
void hone_readings_format(const hone_json_reading_t *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < r->n && used < size; i++) {
        int w = isnan(r->sems[i])
                    ? snprintf(buf + used, size - used, "%s%s=%g", i ? ", " : "", r->names[i], r->means[i])
                    : snprintf(buf + used, size - used, "%s%s=%g±%g", i ? ", " : "", r->names[i], r->means[i],
                               r->sems[i]);
        if (w < 0)
            break;
        used += (size_t) w;
    }
}

static void s_passthrough(const char *line, size_t len)
{
    fwrite(line, 1, len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
}

void hone_readings_line(hone_run_t *run, const char *line, size_t len)
{
    if (len > 0 && line[len - 1] == '\r')
        len--;
    hone_json_reading_t reading;
    char why[256];
    int rc = hone_json_line_parse_reading(line, len, true, &reading, why, sizeof why);
    if (rc == HONE_OK && reading.n == 0) {
        hone_json_line_reading_clear(&reading);
        rc = HONE_EINVAL;
        snprintf(why, sizeof why, "no metric in it");
    }
    if (rc != HONE_OK) {
        if (rc == HONE_EINVAL)
            hone_log_warn(S_LOG, "trial %" PRIu64 ": not a reading (%s): %.*s", run->index, why,
                          (int) (len > 200 ? 200 : len), line);
        else if (rc == HONE_ENOMEM)
            hone_log_warn(S_LOG, "trial %" PRIu64 ": out of memory parsing a line", run->index);
        s_passthrough(line, len);
        return;
    }
    hone_json_line_reading_clear(&run->last);
    run->last = reading;
    if (run->stopped)
        return;
    /* also after an early stop: the broker stores the reading (and repeats the stop) */
    hone_worker_t *w = run->runner->worker;
    rc = hone_worker_report(w, run->index, reading.n, (const char *const *) reading.names, reading.means,
                            reading.sems, reading.has_step, reading.step);
    if (rc == HONE_OK)
        hone_program_check_early_stop(run);
    if (rc == HONE_ESTATE || rc == HONE_ELEASE) {
        hone_log_info(S_LOG, "trial %" PRIu64 " %s: %s", run->index,
                      rc == HONE_ELEASE ? "lost its lease" : "stopped by the broker", hone_worker_last_error(w));
        run->stopped = true;
        hone_program_stop(run, SIGTERM);
    } else if (rc != HONE_OK && rc != HONE_EINTR) {
        hone_log_warn(S_LOG, "trial %" PRIu64 ": could not send a reading: %s (%s)", run->index,
                      hone_worker_last_error(w), hone_err_name(rc));
    }
}

/* Makes room for one more byte of the current line; false for an endless line (or no
 * memory), which is then passed on as it comes: it cannot be a reading. */
static bool s_line_room(hone_run_t *run)
{
    if (run->line_len < run->line_cap)
        return true;
    if (run->line_cap >= S_LINE_MAX)
        return false;
    size_t cap = run->line_cap ? run->line_cap * 2 : 256;
    char *line = realloc(run->line, cap);
    if (!line)
        return false;
    run->line = line;
    run->line_cap = cap;
    return true;
}

void hone_readings_stdout(hone_run_t *run, const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (data[i] == '\n') {
            hone_readings_line(run, run->line ? run->line : "", run->line_len);
            run->line_len = 0;
        } else if (s_line_room(run)) {
            run->line[run->line_len++] = data[i];
        } else {
            fwrite(run->line, 1, run->line_len, stdout);
            fputc(data[i], stdout);
            run->line_len = 0;
        }
    }
}
