/* args.h: command-line argument parsing shared by hone and hone-worker. */
#ifndef HONE_CLI_ARGS_H
#define HONE_CLI_ARGS_H

#include <stdbool.h>
#include <stdint.h>

/* Parses a whole decimal integer in [min, max]; false for empty text, trailing
 * characters, overflow or a value out of range. */
bool hone_args_int(const char *text, int64_t min, int64_t max, int64_t *out);

#endif
