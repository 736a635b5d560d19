#define _GNU_SOURCE
#include "test_support.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *hone_test_tmpdir(const char *tag)
{
    const char *base = getenv("TMPDIR");
    char *path = NULL;
    if (asprintf(&path, "%s/hone-%s-XXXXXX", base && *base ? base : "/tmp", tag) < 0)
        abort();
    if (!mkdtemp(path))
        abort();
    return path;
}

static int s_remove(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void) sb; (void) flag; (void) ftw;
    return remove(path);
}

void hone_test_rmtree(const char *path)
{
    if (path)
        nftw(path, s_remove, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *s_program_dir(const char *name)
{
    if (strcmp(name, "hone-broker") == 0)
        return "broker";
    if (strcmp(name, "hone") == 0 || strcmp(name, "hone-worker") == 0)
        return "worker-sdk/cli";
    return "";
}

char *hone_test_program(const char *name)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s/%s", HONE_BINARY_DIR, s_program_dir(name), name) < 0)
        abort();
    return path;
}

char *hone_test_source_path(const char *relative)
{
    char *path = NULL;
    if (asprintf(&path, "%s/%s", HONE_SOURCE_DIR, relative) < 0)
        abort();
    return path;
}

char *hone_test_read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t) n + 1);
    if (buf && fread(buf, 1, (size_t) n, f) != (size_t) n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    if (buf) {
        buf[n] = '\0';
        if (size)
            *size = (size_t) n;
    }
    return buf;
}
