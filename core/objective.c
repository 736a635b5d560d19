/* objective.c: the single-metric objective string ("loss", "-loss"). */
#include "objective.h"

#include "alloc.h"

#include <ctype.h>

static bool s_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool s_name_char(char c)
{
    return isalnum((unsigned char) c) || c == '_' || c == '.' || c == '/' || c == ':' || c == '|'
           || c == '~' || c == '@' || ((unsigned char) c >= 0x80);   /* UTF-8 letters */
}

static int s_unsupported(hone_error_t *err, const char *text)
{
    return hone_error_set(err, HONE_EINVAL,
                          "objective '%s': only a single metric name with an optional leading '-' "
                          "(minimize) is supported; scalarized ('a + 2*b') and multi-objective "
                          "('a, -b') objectives are not supported yet", text);
}

int hone_objective_parse(const char *text, char **metric_out, bool *minimize_out, hone_error_t *err)
{
    if (!text)
        return hone_error_set(err, HONE_EINVAL, "objective must not be empty");
    if (strpbrk(text, ";['\\"))
        return hone_error_set(err, HONE_EINVAL,
                              "objective '%s' has forbidden control characters (; [ ' \\)", text);
    const char *start = text;
    const char *end = text + strlen(text);
    while (start < end && s_space(*start))
        start++;
    while (end > start && s_space(end[-1]))
        end--;
    if (start == end)
        return hone_error_set(err, HONE_EINVAL, "objective must not be empty");
    bool minimize = false;
    if (*start == '-' || *start == '+') {
        minimize = (*start == '-');
        start++;
        while (start < end && s_space(*start))
            start++;
        if (start == end)
            return hone_error_set(err, HONE_EINVAL, "objective '%s' names no metric", text);
    }
    if (isdigit((unsigned char) *start) || *start == '.')
        return hone_error_set(err, HONE_EINVAL,
                              "objective '%s': a metric name cannot start with a digit or '.' "
                              "(a constant term is not an objective)", text);
    size_t ident = 0;   /* length of the current space-separated word */
    for (const char *c = start; c < end; c++) {
        if (s_name_char(*c)) {
            ident++;
        } else if (s_space(*c)) {
            ident = 0;
        } else if (*c == '-') {
            /* Ax keeps '-' inside a name only after an identifier of two or more
             * characters ("val-loss"); elsewhere it is a subtraction. */
            if (ident < 2 || c + 1 >= end || !s_name_char(c[1]))
                return s_unsupported(err, text);
            ident++;
        } else {
            return s_unsupported(err, text);
        }
    }
    *metric_out = hone_strndup(start, (size_t) (end - start));
    *minimize_out = minimize;
    return HONE_OK;
}
