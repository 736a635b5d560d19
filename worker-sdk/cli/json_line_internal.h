/* json_line_internal.h: what json_line.c and json_render.c share and nothing else
 * includes. Not installed, not exported (hidden visibility; the CLI is not a library).
 *
 * The seam: json_line.c parses JSON lines and owns the one dump every JSON line goes
 * through (numbers written with the shortest precision that round-trips every real of
 * the line); json_render.c builds the JSON of SDK results and hands it to that dump.
 * The parser needs the dump too (hone_json_points_t keeps each point's parameters as
 * a JSON line), so it is declared here rather than duplicated. jansson stays inside
 * these two files: the CLI's other files see only json_line.h. */
#ifndef HONE_CLI_JSON_LINE_INTERNAL_H
#define HONE_CLI_JSON_LINE_INTERNAL_H

#include <jansson.h>

/* Dumps root as one line (no newline) and releases it. Returns a malloc'd text (free it
 * with free), or NULL if root is NULL or memory runs out. */
char *hone_json_line_dump(json_t *root);

#endif
