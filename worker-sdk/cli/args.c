#include "args.h"

#include <errno.h>
#include <stdlib.h>

bool hone_args_int(const char *text, int64_t min, int64_t max, int64_t *out)
{
    if (!text || !*text)
        return false;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}
