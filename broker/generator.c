/* generator.c: one POSIX thread, two job queues under one mutex, and a pipe that is
 * readable while finished jobs wait (a level the reactor can poll). */
#define _GNU_SOURCE     /* pthread_setname_np */
#include "generator.h"

#include "alloc.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    hone_generator_job_t *head; /* oldest */
    hone_generator_job_t *tail; /* newest */
} s_queue_t;

struct _hone_generator_t {
    pthread_t thread;           /* the generator thread */
    pthread_mutex_t lock;       /* guards todo, done and quit */
    pthread_cond_t wake;        /* signalled when todo grows or quit is set */
    s_queue_t todo;             /* submitted, not started */
    s_queue_t done;             /* finished, not collected */
    bool quit;                  /* the thread returns once todo is empty */
    int notify[2];              /* pipe: one byte in it while done is non-empty */
    size_t outstanding;         /* submitted and not collected (submitter's thread only) */
};

static void s_push(s_queue_t *q, hone_generator_job_t *job)
{
    job->next = NULL;
    if (q->tail)
        q->tail->next = job;
    else
        q->head = job;
    q->tail = job;
}

static hone_generator_job_t *s_pop(s_queue_t *q)
{
    hone_generator_job_t *job = q->head;
    if (job) {
        q->head = job->next;
        if (!q->head)
            q->tail = NULL;
        job->next = NULL;
    }
    return job;
}

/* Under the lock: a finished job joins done; the pipe gets its byte when done was
 * empty. */
static void s_finish(hone_generator_t *self, hone_generator_job_t *job)
{
    bool was_empty = self->done.head == NULL;
    s_push(&self->done, job);
    if (was_empty) {
        ssize_t w;
        do
            w = write(self->notify[1], "j", 1);
        while (w < 0 && errno == EINTR);
        HONE_ASSERT(w == 1);    /* the pipe holds at most this one byte */
    }
}

void hone_generator_job_run(hone_generator_job_t *job)
{
    HONE_ASSERT(job);
    job->started_ms = hone_clock_mono_ms();
    hone_error_clear(&job->err);
    job->n = 0;
    switch (job->kind) {
    case HONE_GENERATOR_GENERATE:
        job->rc = hone_experiment_generate(job->experiment, job->max_trials, job->indices, &job->n,
                                           &job->err);
        break;
    case HONE_GENERATOR_BEST:
        job->rc = hone_experiment_best_ex(job->experiment, true, &job->best, &job->err);
        break;
    case HONE_GENERATOR_PREDICT:
        job->rc = hone_experiment_predict_metric(job->experiment, job->metric, job->n_points, job->rows,
                                                 job->mean, job->sem, &job->err);
        break;
    case HONE_GENERATOR_PARETO:
        hone_frontier_clear(&job->frontier);
        job->rc = hone_experiment_pareto(job->experiment, true, &job->frontier, &job->err);
        break;
    case HONE_GENERATOR_STOP:
        job->rc = hone_stopping_decide_trials(&job->stop_cfg, job->curves, job->stop_minimize, job->stop_trials,
                                              job->n_stop, job->decisions, &job->err);
        break;
    }
    job->finished_ms = hone_clock_mono_ms();
}

static void *s_run(void *arg)
{
    hone_generator_t *self = arg;
    pthread_mutex_lock(&self->lock);
    for (;;) {
        while (!self->todo.head && !self->quit)
            pthread_cond_wait(&self->wake, &self->lock);
        hone_generator_job_t *job = s_pop(&self->todo);
        if (!job)
            break;      /* quit, and nothing left to do */
        pthread_mutex_unlock(&self->lock);

        hone_generator_job_run(job);

        pthread_mutex_lock(&self->lock);
        s_finish(self, job);
    }
    pthread_mutex_unlock(&self->lock);
    return NULL;
}

hone_generator_job_t *hone_generator_job_new(hone_experiment_t *experiment, uint32_t max_trials,
                                             void *arg)
{
    HONE_ASSERT(experiment && max_trials >= 1);
    hone_generator_job_t *job = hone_alloc(sizeof *job);
    job->kind = HONE_GENERATOR_GENERATE;
    job->experiment = experiment;
    job->max_trials = max_trials;
    job->arg = arg;
    job->indices = hone_alloc_array(max_trials, sizeof *job->indices);
    hone_error_clear(&job->err);
    return job;
}

hone_generator_job_t *hone_generator_job_new_best(hone_experiment_t *experiment, void *arg)
{
    HONE_ASSERT(experiment);
    hone_generator_job_t *job = hone_alloc(sizeof *job);
    job->kind = HONE_GENERATOR_BEST;
    job->experiment = experiment;
    job->arg = arg;
    hone_error_clear(&job->err);
    return job;
}

hone_generator_job_t *hone_generator_job_new_pareto(hone_experiment_t *experiment, void *arg)
{
    HONE_ASSERT(experiment);
    hone_generator_job_t *job = hone_alloc(sizeof *job);
    job->kind = HONE_GENERATOR_PARETO;
    job->experiment = experiment;
    job->arg = arg;
    hone_error_clear(&job->err);
    return job;
}

hone_generator_job_t *hone_generator_job_new_predict(hone_experiment_t *experiment, size_t n_points,
                                                     const hone_value_t *points, const char *metric, void *arg)
{
    HONE_ASSERT(experiment && n_points >= 1 && points);
    size_t dim = hone_space_size(hone_experiment_space(experiment));
    hone_generator_job_t *job = hone_alloc(sizeof *job);
    job->kind = HONE_GENERATOR_PREDICT;
    job->experiment = experiment;
    job->arg = arg;
    job->n_points = n_points;
    job->metric = metric ? hone_strdup(metric) : NULL;
    job->points = hone_alloc_array(n_points * dim, sizeof *job->points);
    memcpy(job->points, points, n_points * dim * sizeof *points);
    job->rows = hone_alloc_array(n_points, sizeof *job->rows);
    for (size_t j = 0; j < n_points; j++)
        job->rows[j] = &job->points[j * dim];
    job->mean = hone_alloc_array(n_points, sizeof *job->mean);
    job->sem = hone_alloc_array(n_points, sizeof *job->sem);
    hone_error_clear(&job->err);
    return job;
}

hone_generator_job_t *hone_generator_job_new_stop(hone_curves_t **curves_p, const hone_stopping_config_t *cfg,
                                                  bool minimize, const uint32_t *trials, size_t n, void *arg)
{
    HONE_ASSERT(curves_p && *curves_p && cfg && trials && n >= 1);
    hone_generator_job_t *job = hone_alloc(sizeof *job);
    job->kind = HONE_GENERATOR_STOP;
    job->arg = arg;
    job->curves = *curves_p;
    *curves_p = NULL;
    job->stop_cfg = *cfg;
    job->stop_minimize = minimize;
    job->n_stop = n;
    job->stop_trials = hone_alloc_array(n, sizeof *job->stop_trials);
    memcpy(job->stop_trials, trials, n * sizeof *trials);
    job->decisions = hone_alloc_array(n, sizeof *job->decisions);
    hone_error_clear(&job->err);
    return job;
}

void hone_generator_job_destroy(hone_generator_job_t **job_p)
{
    HONE_ASSERT(job_p);
    hone_generator_job_t *job = *job_p;
    if (!job)
        return;
    hone_free(job->indices);
    hone_free(job->points);
    hone_free(job->rows);
    hone_strfree(job->metric);
    hone_free(job->mean);
    hone_free(job->sem);
    hone_curves_destroy(&job->curves);
    hone_free(job->stop_trials);
    hone_free(job->decisions);
    hone_frontier_clear(&job->frontier);
    hone_free(job);
    *job_p = NULL;
}

int hone_generator_open(hone_generator_t **out, hone_error_t *err)
{
    HONE_ASSERT(out);
    *out = NULL;
    hone_generator_t *self = hone_alloc(sizeof *self);
    if (pipe(self->notify) != 0) {
        int e = errno;
        hone_free(self);
        return hone_error_set(err, HONE_EIO, "cannot create the generator's pipe: %s", strerror(e));
    }
    for (int i = 0; i < 2; i++) {
        fcntl(self->notify[i], F_SETFD, FD_CLOEXEC);
        fcntl(self->notify[i], F_SETFL, O_NONBLOCK);
    }
    HONE_ASSERT(pthread_mutex_init(&self->lock, NULL) == 0);
    HONE_ASSERT(pthread_cond_init(&self->wake, NULL) == 0);

    /* The thread starts with every signal blocked, so that SIGINT/SIGTERM always reach
     * a thread that polls (the reactor) and never interrupt a model fit. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&self->thread, NULL, s_run, self);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        pthread_cond_destroy(&self->wake);
        pthread_mutex_destroy(&self->lock);
        close(self->notify[0]);
        close(self->notify[1]);
        hone_free(self);
        return hone_error_set(err, HONE_EIO, "cannot start the generator thread: %s", strerror(rc));
    }
    pthread_setname_np(self->thread, "hone-generator");
    *out = self;
    return HONE_OK;
}

void hone_generator_destroy(hone_generator_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_generator_t *self = *self_p;
    if (!self)
        return;
    HONE_ASSERT(self->outstanding == 0);
    pthread_mutex_lock(&self->lock);
    self->quit = true;
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
    pthread_join(self->thread, NULL);
    pthread_cond_destroy(&self->wake);
    pthread_mutex_destroy(&self->lock);
    close(self->notify[0]);
    close(self->notify[1]);
    hone_free(self);
    *self_p = NULL;
}

void hone_generator_submit(hone_generator_t *self, hone_generator_job_t **job_p)
{
    HONE_ASSERT(self && job_p && *job_p);
    hone_generator_job_t *job = *job_p;
    *job_p = NULL;
    job->submitted_ms = hone_clock_mono_ms();
    self->outstanding++;
    pthread_mutex_lock(&self->lock);
    s_push(&self->todo, job);
    pthread_cond_signal(&self->wake);
    pthread_mutex_unlock(&self->lock);
}

hone_generator_job_t *hone_generator_collect(hone_generator_t *self)
{
    HONE_ASSERT(self);
    pthread_mutex_lock(&self->lock);
    hone_generator_job_t *job = s_pop(&self->done);
    if (job && !self->done.head) {
        char byte;
        ssize_t r;
        do
            r = read(self->notify[0], &byte, 1);
        while (r < 0 && errno == EINTR);
        HONE_ASSERT(r == 1);
    }
    pthread_mutex_unlock(&self->lock);
    if (job) {
        HONE_ASSERT(self->outstanding > 0);
        self->outstanding--;
    }
    return job;
}

int hone_generator_fd(const hone_generator_t *self)
{
    HONE_ASSERT(self);
    return self->notify[0];
}

size_t hone_generator_outstanding(const hone_generator_t *self)
{
    HONE_ASSERT(self);
    return self->outstanding;
}

bool hone_generator_wait(hone_generator_t *self, int timeout_ms)
{
    HONE_ASSERT(self);
    bool forever = timeout_ms < 0;
    int64_t deadline = hone_clock_mono_ms() + (forever ? 0 : timeout_ms);
    for (;;) {
        int64_t left = deadline - hone_clock_mono_ms();
        struct pollfd item = { .fd = self->notify[0], .events = POLLIN };
        int n = poll(&item, 1, forever ? -1 : left > 0 ? (int) left : 0);
        if (n > 0)
            return true;
        HONE_ASSERT(n == 0 || errno == EINTR);
        if (n == 0 && !forever && hone_clock_mono_ms() >= deadline)
            return false;
    }
}
