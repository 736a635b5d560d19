/* msg.c: the protocol message object: its header fields (type, seq), the wire names of
 * the types (from HONE_MSG_MAP), the body field shortcuts and the one-line text form.
 * Encoding and decoding are in codec.c, the body tree in node.c. Never aborts on
 * allocation failure: the worker SDK links this file. */
#include "msg_internal.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- messages ---- */

const char *const hone_msg_names[HONE_MSG_COUNT] = {
    [HONE_MSG_INVALID] = NULL,
#define XX(id, name, dir) [HONE_MSG_##id] = name,
    HONE_MSG_MAP(XX)
#undef XX
};

const char *hone_msg_name(hone_msg_id_t id)
{
    return id > HONE_MSG_INVALID && id < HONE_MSG_COUNT ? hone_msg_names[id] : NULL;
}

hone_msg_id_t hone_msg_id_from_name(const char *name, size_t len)
{
    if (!name)
        return HONE_MSG_INVALID;
    for (int id = HONE_MSG_INVALID + 1; id < HONE_MSG_COUNT; id++)
        if (strlen(hone_msg_names[id]) == len && memcmp(hone_msg_names[id], name, len) == 0)
            return (hone_msg_id_t) id;
    return HONE_MSG_INVALID;
}

/* A message whose first chunk holds the struct and `room` more bytes. */
hone_msg_t *hone_msg_alloc(hone_msg_id_t id, size_t room)
{
    hone_arena_chunk_t *chunk = hone_arena_chunk_new(HONE_ARENA_ROUND(sizeof(hone_msg_t)) + room, NULL);
    if (!chunk)
        return NULL;
    hone_msg_t *self = hone_arena_chunk_take(chunk, sizeof *self);
    self->arena.head = chunk;
    self->arena.root = NULL;    /* the body belongs to the message, not to hone_node_destroy */
    self->body = NULL;
    self->seq = 0;
    self->id = id;
    return self;
}

hone_msg_t *hone_msg_new(hone_msg_id_t id)
{
    HONE_ASSERT(id > HONE_MSG_INVALID && id < HONE_MSG_COUNT);
    hone_msg_t *self = hone_msg_alloc(id, HONE_ARENA_FIRST_CHUNK - HONE_ARENA_ROUND(sizeof(hone_msg_t)));
    if (self)
        self->body = hone_node_alloc_container(&self->arena, HONE_NODE_MAP, 0);   /* fits in the chunk */
    return self;
}

void hone_msg_destroy(hone_msg_t **self_p)
{
    HONE_ASSERT(self_p);
    if (*self_p) {
        hone_arena_free(&(*self_p)->arena);
        *self_p = NULL;
    }
}

hone_msg_id_t hone_msg_id(const hone_msg_t *self)
{
    HONE_ASSERT(self);
    return self->id;
}

uint64_t hone_msg_seq(const hone_msg_t *self)
{
    HONE_ASSERT(self);
    return self->seq;
}

void hone_msg_set_seq(hone_msg_t *self, uint64_t seq)
{
    HONE_ASSERT(self);
    self->seq = seq;
}

hone_node_t *hone_msg_body(hone_msg_t *self)
{
    HONE_ASSERT(self);
    return self->body;
}

const hone_node_t *hone_msg_body_const(const hone_msg_t *self)
{
    HONE_ASSERT(self);
    return self->body;
}

/* ---- body shortcuts ---- */

static int s_set(hone_node_t *node)
{
    return node ? HONE_OK : HONE_ENOMEM;
}

int hone_msg_set_str(hone_msg_t *self, const char *key, const char *value)
{
    HONE_ASSERT(self && key);
    return s_set(hone_node_add_str(self->body, key, value));
}

int hone_msg_set_int(hone_msg_t *self, const char *key, int64_t value)
{
    HONE_ASSERT(self && key);
    return s_set(hone_node_add_int(self->body, key, value));
}

int hone_msg_set_float(hone_msg_t *self, const char *key, double value)
{
    HONE_ASSERT(self && key);
    return s_set(hone_node_add_float(self->body, key, value));
}

int hone_msg_set_bool(hone_msg_t *self, const char *key, bool value)
{
    HONE_ASSERT(self && key);
    return s_set(hone_node_add_bool(self->body, key, value));
}

const hone_node_t *hone_msg_get(const hone_msg_t *self, const char *key)
{
    HONE_ASSERT(self && key);
    const hone_node_t *node = hone_node_find(self->body, key);
    return node && node->type != HONE_NODE_NIL ? node : NULL;
}

/* The field under key if present and of type want (INT also accepted for FLOAT). */
static int s_get(const hone_msg_t *self, const char *key, hone_node_type_t want,
                 const hone_node_t **node, hone_error_t *err)
{
    *node = hone_msg_get(self, key);
    if (!*node)
        return hone_error_set(err, HONE_ENOTFOUND, "missing field '%s'", key);
    hone_node_type_t type = (hone_node_type_t) (*node)->type;
    if (type == want || (want == HONE_NODE_FLOAT && type == HONE_NODE_INT))
        return HONE_OK;
    return hone_error_set(err, HONE_EPROTO, "field '%s' must be %s, not %s", key,
                          want == HONE_NODE_FLOAT ? "a number" : hone_node_type_name(want),
                          hone_node_type_name(type));
}

int hone_msg_get_str(const hone_msg_t *self, const char *key, const char **out, hone_error_t *err)
{
    const hone_node_t *node;
    int rc = s_get(self, key, HONE_NODE_STR, &node, err);
    if (rc == HONE_OK)
        *out = node->u.bytes;
    return rc;
}

int hone_msg_get_int(const hone_msg_t *self, const char *key, int64_t *out, hone_error_t *err)
{
    const hone_node_t *node;
    int rc = s_get(self, key, HONE_NODE_INT, &node, err);
    if (rc == HONE_OK)
        *out = node->u.i;
    return rc;
}

int hone_msg_get_float(const hone_msg_t *self, const char *key, double *out, hone_error_t *err)
{
    const hone_node_t *node;
    int rc = s_get(self, key, HONE_NODE_FLOAT, &node, err);
    if (rc == HONE_OK)
        *out = hone_node_float(node);
    return rc;
}

int hone_msg_get_bool(const hone_msg_t *self, const char *key, bool *out, hone_error_t *err)
{
    const hone_node_t *node;
    int rc = s_get(self, key, HONE_NODE_BOOL, &node, err);
    if (rc == HONE_OK)
        *out = node->u.b;
    return rc;
}

/* ---- text form ---- */

typedef struct {
    char *buf;              /* malloc'd, NUL-terminated while ok */
    size_t len;             /* bytes in use, without the NUL */
    size_t cap;             /* bytes allocated */
    bool failed;            /* an allocation failed; buf has been freed */
} s_text_t;

static void s_text_put(s_text_t *t, const char *s, size_t n)
{
    if (t->failed)
        return;
    if (t->cap - t->len <= n) {
        size_t cap = t->cap ? t->cap : 128;
        while (cap - t->len <= n)
            cap *= 2;
        char *grown = realloc(t->buf, cap);
        if (!grown) {
            free(t->buf);
            t->buf = NULL;
            t->failed = true;
            return;
        }
        t->buf = grown;
        t->cap = cap;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
    t->buf[t->len] = '\0';
}

static void s_text_cstr(s_text_t *t, const char *s)
{
    s_text_put(t, s, strlen(s));
}

static void s_text_quoted(s_text_t *t, const char *s, size_t n)
{
    s_text_put(t, "\"", 1);
    size_t run = 0;     /* bytes copied verbatim in one go */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char) s[i];
        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        s_text_put(t, s + run, i - run);
        char esc[8];
        switch (c) {
        case '"': s_text_put(t, "\\\"", 2); break;
        case '\\': s_text_put(t, "\\\\", 2); break;
        case '\n': s_text_put(t, "\\n", 2); break;
        case '\t': s_text_put(t, "\\t", 2); break;
        case '\r': s_text_put(t, "\\r", 2); break;
        default:
            snprintf(esc, sizeof esc, "\\u%04x", c);
            s_text_cstr(t, esc);
        }
        run = i + 1;
    }
    s_text_put(t, s + run, n - run);
    s_text_put(t, "\"", 1);
}

static bool s_bare_key(const char *key)
{
    if (!*key)
        return false;
    for (const char *c = key; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9')
              || *c == '_' || *c == '-' || *c == '.'))
            return false;
    return true;
}

/* The shortest %g form that reads back as the same double, always with a '.' or an
 * exponent so that a float never looks like an int. */
static void s_text_float(s_text_t *t, double f)
{
    char num[40];
    if (isnan(f) || isinf(f)) {
        s_text_cstr(t, isnan(f) ? "nan" : f > 0 ? "inf" : "-inf");
        return;
    }
    /* 15 digits always suffice to be shortest for normal doubles; subnormals carry
     * fewer significant digits, so they search from 1 */
    for (int prec = f != 0 && fabs(f) < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(num, sizeof num, "%.*g", prec, f);
        if (strtod(num, NULL) == f)
            break;
    }
    if (!strpbrk(num, ".e"))
        strcat(num, ".0");
    s_text_cstr(t, num);
}

static void s_text_node(s_text_t *t, const hone_node_t *node, int depth)
{
    char num[32];
    switch ((hone_node_type_t) node->type) {
    case HONE_NODE_NIL: s_text_put(t, "nil", 3); return;
    case HONE_NODE_BOOL: s_text_cstr(t, node->u.b ? "true" : "false"); return;
    case HONE_NODE_INT:
        snprintf(num, sizeof num, "%" PRId64, node->u.i);
        s_text_cstr(t, num);
        return;
    case HONE_NODE_FLOAT: s_text_float(t, node->u.f); return;
    case HONE_NODE_STR: s_text_quoted(t, node->u.bytes, node->len); return;
    case HONE_NODE_BIN:
        s_text_put(t, "h'", 2);
        for (uint32_t i = 0; i < node->len && i < 32; i++) {
            snprintf(num, sizeof num, "%02x", (unsigned char) node->u.bytes[i]);
            s_text_put(t, num, 2);
        }
        s_text_cstr(t, node->len > 32 ? "...'" : "'");
        return;
    case HONE_NODE_ARRAY:
    case HONE_NODE_MAP:
        break;
    }
    bool map = node->type == HONE_NODE_MAP;
    s_text_put(t, map ? "{" : "[", 1);
    if (depth >= HONE_NODE_MAX_DEPTH && node->len)
        s_text_put(t, "...", 3);
    for (uint32_t i = 0; i < node->len && depth < HONE_NODE_MAX_DEPTH && !t->failed; i++) {
        if (i)
            s_text_put(t, ", ", 2);
        if (map) {
            const char *key = node->u.kids->at[i].key;
            if (s_bare_key(key))
                s_text_cstr(t, key);
            else
                s_text_quoted(t, key, strlen(key));
            s_text_put(t, ": ", 2);
        }
        s_text_node(t, node->u.kids->at[i].node, depth + 1);
    }
    s_text_put(t, map ? "}" : "]", 1);
}

char *hone_msg_to_text(const hone_msg_t *self)
{
    HONE_ASSERT(self);
    s_text_t t = { 0 };
    char head[48];
    snprintf(head, sizeof head, " seq=%" PRIu64 " ", self->seq);
    s_text_cstr(&t, hone_msg_names[self->id]);
    s_text_cstr(&t, head);
    s_text_node(&t, self->body, 1);
    return t.failed ? NULL : t.buf;
}
