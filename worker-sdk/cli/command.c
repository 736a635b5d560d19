/* command.c: the command line and the environment of hone-worker's program for one
 * trial: {name} placeholders in the arguments, HONE_PARAM_<name>, HONE_PARAMS,
 * HONE_TRIAL and HONE_EXPERIMENT in the environment. */
#include "err.h"
#include "runner.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern char **environ;

typedef struct {
    char *data;                 /* NUL-terminated text */
    size_t len;                 /* bytes before the NUL */
    size_t cap;                 /* allocated bytes */
    bool oom;                   /* an append failed */
} s_buf_t;

static void s_buf_add(s_buf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *data = realloc(b->data, cap);
        if (!data) {
            b->oom = true;
            return;
        }
        b->data = data;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void s_buf_str(s_buf_t *b, const char *s)
{
    s_buf_add(b, s, strlen(s));
}

/* Shortest decimal text that reads back as v. */
static void s_format_double(double v, char *buf, size_t size)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, size, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            return;
    }
}

/* The text form of parameter i, as substituted and put in the environment. */
static void s_format_param(const hone_trial_t *trial, size_t i, s_buf_t *b)
{
    char num[40];
    double f;
    int64_t n;
    const char *s;
    bool flag;
    switch (hone_trial_param_type(trial, i)) {
    case HONE_TYPE_FLOAT:
        hone_trial_param_double(trial, i, &f);
        s_format_double(f, num, sizeof num);
        s_buf_str(b, num);
        break;
    case HONE_TYPE_INT:
        hone_trial_param_int(trial, i, &n);
        snprintf(num, sizeof num, "%" PRId64, n);
        s_buf_str(b, num);
        break;
    case HONE_TYPE_STR:
        hone_trial_param_str(trial, i, &s);
        s_buf_str(b, s);
        break;
    case HONE_TYPE_BOOL:
        hone_trial_param_bool(trial, i, &flag);
        s_buf_str(b, flag ? "true" : "false");
        break;
    default:
        break;
    }
}

static bool s_is_identifier(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char) s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char) s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
            return false;
    return true;
}

/* Replaces {name} by the value of parameter name; {{ and }} stand for { and }. A brace
 * group that is not a parameter name but looks like one is an error (a typo); any other
 * brace is kept as it is, so JSON-like arguments pass unchanged. */
static int s_substitute(const char *arg, const hone_trial_t *trial, char **out, char *why, size_t why_size)
{
    s_buf_t b = { 0 };
    s_buf_add(&b, "", 0);
    for (const char *p = arg; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            s_buf_add(&b, p, 1);
            p += 2;
            continue;
        }
        if (p[0] == '{') {
            const char *end = p + 1;
            while (*end && *end != '}' && *end != '{' && *end != '"' && *end != '\''
                   && !isspace((unsigned char) *end))
                end++;
            size_t n = (size_t) (end - p - 1);
            if (*end == '}' && n > 0) {
                bool found = false;
                for (size_t i = 0; i < hone_trial_param_count(trial); i++) {
                    const char *name = hone_trial_param_name(trial, i);
                    if (strlen(name) == n && memcmp(name, p + 1, n) == 0) {
                        s_format_param(trial, i, &b);
                        found = true;
                        break;
                    }
                }
                if (found) {
                    p = end + 1;
                    continue;
                }
                if (s_is_identifier(p + 1, n)) {
                    snprintf(why, why_size, "argument '%s': no parameter named '%.*s' (write {{ for a literal brace)",
                             arg, (int) n, p + 1);
                    free(b.data);
                    return HONE_EINVAL;
                }
            }
        }
        s_buf_add(&b, p, 1);
        p++;
    }
    if (b.oom) {
        free(b.data);
        snprintf(why, why_size, "out of memory");
        return HONE_ENOMEM;
    }
    *out = b.data;
    return HONE_OK;
}

void hone_command_free(char **v)
{
    if (!v)
        return;
    for (char **p = v; *p; p++)
        free(*p);
    free(v);
}

int hone_command_argv(hone_runner_t *r, const hone_trial_t *trial, char ***argv_out, char *why, size_t why_size)
{
    size_t n = 0;
    while (r->args.command[n])
        n++;
    char **argv = calloc(n + 1, sizeof *argv);
    if (!argv) {
        snprintf(why, why_size, "out of memory");
        return HONE_ENOMEM;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = s_substitute(r->args.command[i], trial, &argv[i], why, why_size);
        if (rc != HONE_OK) {
            hone_command_free(argv);
            return rc;
        }
    }
    *argv_out = argv;
    return HONE_OK;
}

static bool s_is_ours(const char *entry)
{
    return strncmp(entry, "HONE_PARAM_", 11) == 0 || strncmp(entry, "HONE_PARAMS=", 12) == 0
           || strncmp(entry, "HONE_TRIAL=", 11) == 0 || strncmp(entry, "HONE_EXPERIMENT=", 16) == 0;
}

/* The environment of the program: ours plus the inherited one (minus stale HONE_ ones).
 * Every string is a copy, so the whole vector is freed with hone_command_free. */
char **hone_command_env(const hone_trial_t *trial)
{
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    size_t n_params = hone_trial_param_count(trial);
    char **env = calloc(n_env + n_params + 4, sizeof *env);
    if (!env)
        return NULL;
    size_t k = 0;
    bool ok = true;
    for (size_t i = 0; ok && i < n_params; i++) {
        s_buf_t b = { 0 };
        s_buf_str(&b, "HONE_PARAM_");
        s_buf_str(&b, hone_trial_param_name(trial, i));
        s_buf_str(&b, "=");
        s_format_param(trial, i, &b);
        ok = !b.oom;
        env[k++] = b.data;
    }
    char *params = hone_json_line_params(trial);
    s_buf_t b = { 0 };
    char index[32];
    snprintf(index, sizeof index, "%" PRIu64, hone_trial_index(trial));
    if (ok && params) {
        s_buf_str(&b, "HONE_PARAMS=");
        s_buf_str(&b, params);
        env[k++] = b.data;
        memset(&b, 0, sizeof b);
        s_buf_str(&b, "HONE_TRIAL=");
        s_buf_str(&b, index);
        env[k++] = b.data;
        memset(&b, 0, sizeof b);
        s_buf_str(&b, "HONE_EXPERIMENT=");
        s_buf_str(&b, hone_trial_experiment(trial));
        env[k++] = b.data;
    }
    free(params);
    ok = ok && params && k == n_params + 3;
    for (size_t i = 0; ok && i < k; i++)
        ok = env[i] != NULL;
    for (size_t i = 0; ok && i < n_env; i++)
        if (!s_is_ours(environ[i]))
            ok = (env[k++] = strdup(environ[i])) != NULL;
    if (!ok) {
        hone_command_free(env);
        return NULL;
    }
    return env;
}
