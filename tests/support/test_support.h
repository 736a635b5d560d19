/* test_support.h: helpers shared by the test executables: temporary directories and
 * the paths of the built programs. Include after <cmocka.h>'s prerequisites. */
#ifndef HONE_TEST_SUPPORT_H
#define HONE_TEST_SUPPORT_H

#include <stddef.h>

/* Makes a fresh directory under $TMPDIR (or /tmp) and returns its malloc'd path. */
char *hone_test_tmpdir(const char *tag);
/* Removes a directory tree (best effort). */
void hone_test_rmtree(const char *path);
/* Path of a built program ("hone-broker", "hone", "hone-worker"): malloc'd. */
char *hone_test_program(const char *name);
/* Path of a file in the source tree, relative to the top: malloc'd. */
char *hone_test_source_path(const char *relative);
/* Reads a whole file into a malloc'd NUL-terminated buffer; NULL on error. */
char *hone_test_read_file(const char *path, size_t *size);

#endif
