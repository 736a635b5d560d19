/* config_internal.h: what the experiment configuration's files share. The JSON
 * configuration is one module split by noun over three files (config.c:
 * hone_experiment_from_json, the whole configuration, the goals, strategy, leases and
 * early-stopping blocks; config_params.c: the parameters, ranges and choices;
 * config_canonical.c: the canonical form), and they all reach the parse result and the
 * small JSON getters; this header is their only seam. Together the config files are the
 * module that uses jansson for the experiment model (CONVENTIONS.md §22), which is why
 * jansson.h is included here: only core/config*.c include this header. Not installed and
 * not part of the experiment.h contract; nothing here is exported. */
#ifndef HONE_CONFIG_INTERNAL_H
#define HONE_CONFIG_INTERNAL_H

#include "experiment.h"
#include "experiment_settings.h"

#include <jansson.h>

/* A configuration being parsed (config.c), then written out (config_canonical.c). */
typedef struct {
    hone_experiment_settings_t s;   /* what experiment.c needs */
    hone_goals_t *goals;             /* owned goals (objective, outcome constraints), until
                                      * the experiment takes them */
    const char *objective_text;      /* the objective string as given (borrowed from JSON) */
    char *objective_canonical;       /* owned: "-m" for a single metric, else as given */
    json_t *outcome_constraints;     /* the strings as given (borrowed), or NULL */
    json_t *objective_thresholds;    /* the strings as given (borrowed), or NULL */
    char *es_metric;                 /* owned early-stopping metric, or NULL */
    const char *method;              /* static string */
    hone_constraint_set_t *constraints; /* owned parameter constraints (NULL until parsed) */
} hone_config_parsed_t;

/* ---- config.c: the small JSON getters. Errors are HONE_EINVAL with the field path. ---- */

/* obj[key], with null read as absent. */
json_t *hone_config_get(const json_t *obj, const char *key);
/* Fails on the first field of obj not in allowed (NULL-terminated), listing the known
 * ones; path ("config", "leases", ...) prefixes the message. */
int hone_config_check_fields(const json_t *obj, const char *const *allowed, const char *path,
                             hone_error_t *err);
/* A JSON integer in [lo, hi] into *out; absent keeps *out. path ("leases.") prefixes key. */
int hone_config_get_uint(const json_t *obj, const char *key, const char *path, uint64_t lo, uint64_t hi,
                         uint64_t *out, hone_error_t *err);
/* A JSON boolean into *out; absent keeps *out. path prefixes key, as above. */
int hone_config_get_bool(const json_t *obj, const char *key, const char *path, bool *out, hone_error_t *err);

/* ---- config_params.c ---- */

/* parameters[index] (p) added to space as a range or a choice; errors carry the path
 * "parameters[index]...". */
int hone_config_parse_parameter(hone_space_t *space, const json_t *p, size_t index, hone_error_t *err);

/* ---- config_canonical.c ---- */

/* The canonical JSON of a parsed configuration cfg over space (sorted keys, compact,
 * defaults explicit), newly allocated (hone_strfree). Aborts only on out-of-memory. */
char *hone_config_canonical(const hone_config_parsed_t *cfg, const hone_space_t *space);

#endif
