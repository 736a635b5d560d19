/* result_internal.h: what the result_*.c files share and nothing else includes: the
 * trial object's body (result.c builds it, result_curves.c and result_best.c read it) and
 * the field readers every reply parser uses. Not installed, not exported. */
#ifndef HONE_SDK_RESULT_INTERNAL_H
#define HONE_SDK_RESULT_INTERNAL_H

#include "result.h"

typedef struct {
    char *name;                 /* parameter name */
    int32_t type;               /* HONE_TYPE_* */
    union {
        double f;               /* HONE_TYPE_FLOAT */
        int64_t i;              /* HONE_TYPE_INT */
        char *s;                /* HONE_TYPE_STR, owned */
        bool b;                 /* HONE_TYPE_BOOL */
    } u;
} hone_result_param_t;

typedef struct {
    char *name;                 /* metric name */
    double mean;                /* latest mean */
    double sem;                 /* its standard error, NAN when unknown */
} hone_result_metric_t;

typedef struct {
    char *metric;               /* metric name */
    int64_t *progression;       /* [n] steps, increasing */
    double *mean;               /* [n] means */
    double *sem;                /* [n] SEMs, NAN when unknown */
    size_t n;                   /* points */
} hone_result_curve_t;

struct _hone_trial_t {
    uint64_t index;             /* index in its experiment */
    char *experiment;           /* experiment name, "" when unknown */
    char *status;               /* status name, "" when not sent */
    char *note;                 /* how it was generated, "" when not sent */
    char *reason;               /* why it failed or was abandoned, "" when none */
    hone_result_param_t *params;  /* parameters in the broker's order */
    size_t n_params;            /* number of params */
    hone_result_metric_t *metrics; /* latest reading per metric */
    size_t n_metrics;           /* number of metrics */
    bool has_progression;       /* whether progression was sent */
    int64_t progression;        /* largest step reported */
    hone_result_curve_t *curves;  /* full learning curves (list with curves) */
    size_t n_curves;            /* number of curves */
};

/* strdup returning NULL on OOM (the SDK never aborts its host). */
char *hone_result_strdup(const char *s);
/* Sets err to HONE_ENOMEM and returns it. */
int hone_result_oom(hone_error_t *err);
/* The value of key in map, NULL when absent or nil. */
const hone_node_t *hone_result_field(const hone_node_t *map, const char *key);
/* An optional string field, copied; "" when absent (or fallback when given). */
int hone_result_get_str(const hone_node_t *map, const char *key, const char *fallback, char **out,
                        hone_error_t *err);
/* A non-negative int field; 0 when absent and not required. */
int hone_result_get_uint(const hone_node_t *map, const char *key, bool required, uint64_t *out,
                         hone_error_t *err);
/* Whether node is an int or a float. */
bool hone_result_is_number(const hone_node_t *node);
/* Frees a trial and everything it owns; NULL is a no-op. */
void hone_result_trial_free(hone_trial_t *t);

/* Allocates curve c's arrays for n points (the metric name is set by the caller). */
bool hone_result_curve_alloc(hone_result_curve_t *c, size_t n);
/* `curves`: {metric: [[progression, mean, sem|nil], ...]} (PROTOCOL.md 4.7.7). */
int hone_result_curves_parse(hone_trial_t *t, const hone_node_t *map, hone_error_t *err);

#endif
