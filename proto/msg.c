/* msg.c: protocol messages, the node tree, and the msgpack codec (the only msgpack-c
 * user in hone).
 *
 * Memory: every node, string and child array of one tree lives in one arena, a list
 * of chunks freed together. A decoded message is measured first and fits in exactly
 * one malloc (the message struct included); a message built through the API starts
 * with one 512-byte chunk and doubles. Nodes never move once made, so a pointer
 * returned by a builder stays valid while siblings are added; child arrays grow by
 * doubling and replaced values are left in the arena until the tree is destroyed.
 * Maps are arrays of (key, node) pairs in insertion order.
 *
 * Never aborts on allocation failure: the worker SDK links this file. */
#include "msg.h"

#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <msgpack.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "validate.h"

/* ---- arena ---- */

typedef struct s_chunk {
    struct s_chunk *next;   /* the chunk made before this one */
    size_t size;            /* usable bytes after the header */
    size_t used;            /* bytes handed out */
} s_chunk_t;

typedef struct s_arena {
    s_chunk_t *head;        /* newest chunk: allocations come from here */
    hone_node_t *root;      /* a standalone tree's root (hone_node_destroy checks it) */
} s_arena_t;

#define S_ALIGN ((size_t) 8)
#define S_ROUND(n) (((n) + S_ALIGN - 1) & ~(S_ALIGN - 1))
#define S_CHUNK_HEAD S_ROUND(sizeof(s_chunk_t))
#define S_FIRST_CHUNK ((size_t) 512)
#define S_MAX_CHUNK ((size_t) 64 << 10)   /* growth stops doubling here */
#define S_TEXT_MAX_DEPTH 64

static s_chunk_t *s_chunk_new(size_t size, s_chunk_t *next)
{
    s_chunk_t *chunk = malloc(S_CHUNK_HEAD + size);
    if (chunk) {
        chunk->next = next;
        chunk->size = size;
        chunk->used = 0;
    }
    return chunk;
}

static void *s_chunk_take(s_chunk_t *chunk, size_t n)
{
    void *p = (char *) chunk + S_CHUNK_HEAD + chunk->used;
    chunk->used += S_ROUND(n);
    return p;
}

static void *s_arena_alloc(s_arena_t *arena, size_t n)
{
    if (n > SIZE_MAX / 4)
        return NULL;
    n = S_ROUND(n);
    s_chunk_t *chunk = arena->head;
    if (chunk->size - chunk->used < n) {
        /* a decoded tree's only chunk is full and may be large: grow from its size,
         * within bounds, so that adding one field to it stays cheap */
        size_t size = chunk->size < S_FIRST_CHUNK ? S_FIRST_CHUNK : chunk->size;
        size = size < S_MAX_CHUNK / 2 ? 2 * size : S_MAX_CHUNK;
        if (size < n)
            size = n;
        chunk = s_chunk_new(size, arena->head);
        if (!chunk)
            return NULL;
        arena->head = chunk;
    }
    return s_chunk_take(chunk, n);
}

/* Frees every chunk; the arena struct itself may live in the oldest one. */
static void s_arena_free(s_arena_t *arena)
{
    s_chunk_t *chunk = arena->head;
    while (chunk) {
        s_chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
}

static char *s_arena_strndup(s_arena_t *arena, const char *s, size_t n)
{
    char *copy = s_arena_alloc(arena, n + 1);
    if (copy) {
        if (n)
            memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}

/* ---- nodes ---- */

typedef struct s_kid {
    const char *key;        /* map key (NUL-terminated, no NUL inside); NULL in an array */
    hone_node_t *node;      /* the value */
} s_kid_t;

typedef struct s_kids {
    s_arena_t *arena;       /* owns the tree; builders allocate from it */
    uint32_t cap;           /* slots in at[] */
    s_kid_t at[];           /* children in order; the node's len are in use */
} s_kids_t;

struct _hone_node_t {
    uint8_t type;           /* hone_node_type_t */
    uint32_t len;           /* str/bin bytes; array/map children */
    union {
        bool b;             /* BOOL */
        int64_t i;          /* INT */
        double f;           /* FLOAT */
        char *bytes;        /* STR/BIN: copy in the arena, NUL-terminated */
        s_kids_t *kids;     /* ARRAY/MAP */
    } u;
};

static bool s_is_container(const hone_node_t *node)
{
    return node->type == HONE_NODE_ARRAY || node->type == HONE_NODE_MAP;
}

static hone_node_t *s_node_new(s_arena_t *arena, hone_node_type_t type)
{
    hone_node_t *node = s_arena_alloc(arena, sizeof *node);
    if (node) {
        node->type = (uint8_t) type;
        node->len = 0;
        node->u.i = 0;
    }
    return node;
}

static hone_node_t *s_container_new(s_arena_t *arena, hone_node_type_t type, uint32_t cap)
{
    hone_node_t *node = s_node_new(arena, type);
    s_kids_t *kids = node ? s_arena_alloc(arena, sizeof *kids + (size_t) cap * sizeof(s_kid_t)) : NULL;
    if (!kids)
        return NULL;
    kids->arena = arena;
    kids->cap = cap;
    node->u.kids = kids;
    return node;
}

static hone_node_t *s_find(const hone_node_t *map, const char *key)
{
    const s_kids_t *kids = map->u.kids;
    for (uint32_t i = 0; i < map->len; i++)
        if (streq(kids->at[i].key, key))
            return kids->at[i].node;
    return NULL;
}

/* Puts child under key in a MAP (replacing an existing value in place) or at the end
 * of an ARRAY. Returns child, or NULL when memory runs out. */
static hone_node_t *s_attach(hone_node_t *parent, const char *key, hone_node_t *child)
{
    HONE_ASSERT((parent->type == HONE_NODE_MAP) == (key != NULL));
    s_kids_t *kids = parent->u.kids;
    if (key) {
        for (uint32_t i = 0; i < parent->len; i++) {
            if (streq(kids->at[i].key, key)) {
                kids->at[i].node = child;
                return child;
            }
        }
    }
    if (parent->len == UINT32_MAX)
        return NULL;
    const char *key_copy = key ? s_arena_strndup(kids->arena, key, strlen(key)) : NULL;
    if (key && !key_copy)
        return NULL;
    if (parent->len == kids->cap) {
        uint32_t cap = kids->cap < 4 ? 4 : kids->cap > UINT32_MAX / 2 ? UINT32_MAX : 2 * kids->cap;
        s_kids_t *grown = s_arena_alloc(kids->arena, sizeof *grown + (size_t) cap * sizeof(s_kid_t));
        if (!grown)
            return NULL;
        grown->arena = kids->arena;
        grown->cap = cap;
        if (parent->len)
            memcpy(grown->at, kids->at, parent->len * sizeof(s_kid_t));
        parent->u.kids = kids = grown;
    }
    kids->at[parent->len].key = key_copy;
    kids->at[parent->len].node = child;
    parent->len++;
    return child;
}

/* A new node of type for parent, from parent's arena; NULL parent propagates NULL. */
static hone_node_t *s_child_new(hone_node_t *parent, hone_node_type_t type)
{
    if (!parent)
        return NULL;
    HONE_ASSERT(s_is_container(parent));
    if (type == HONE_NODE_ARRAY || type == HONE_NODE_MAP)
        return s_container_new(parent->u.kids->arena, type, 0);
    return s_node_new(parent->u.kids->arena, type);
}

static hone_node_t *s_add(hone_node_t *parent, const char *key, hone_node_t *child)
{
    return child ? s_attach(parent, key, child) : NULL;
}

hone_node_t *hone_node_add_nil(hone_node_t *parent, const char *key)
{
    return s_add(parent, key, s_child_new(parent, HONE_NODE_NIL));
}

hone_node_t *hone_node_add_bool(hone_node_t *parent, const char *key, bool value)
{
    hone_node_t *node = s_child_new(parent, HONE_NODE_BOOL);
    if (node)
        node->u.b = value;
    return s_add(parent, key, node);
}

hone_node_t *hone_node_add_int(hone_node_t *parent, const char *key, int64_t value)
{
    hone_node_t *node = s_child_new(parent, HONE_NODE_INT);
    if (node)
        node->u.i = value;
    return s_add(parent, key, node);
}

hone_node_t *hone_node_add_float(hone_node_t *parent, const char *key, double value)
{
    hone_node_t *node = s_child_new(parent, HONE_NODE_FLOAT);
    if (node)
        node->u.f = value;
    return s_add(parent, key, node);
}

static hone_node_t *s_add_bytes(hone_node_t *parent, const char *key, hone_node_type_t type,
                                const void *data, size_t len)
{
    if (len > UINT32_MAX)
        return NULL;
    hone_node_t *node = s_child_new(parent, type);
    if (node) {
        node->u.bytes = s_arena_strndup(parent->u.kids->arena, data, len);
        node->len = (uint32_t) len;
    }
    return node && node->u.bytes ? s_attach(parent, key, node) : NULL;
}

hone_node_t *hone_node_add_str(hone_node_t *parent, const char *key, const char *value)
{
    HONE_ASSERT(value);
    return s_add_bytes(parent, key, HONE_NODE_STR, value, strlen(value));
}

hone_node_t *hone_node_add_strn(hone_node_t *parent, const char *key, const char *value, size_t len)
{
    HONE_ASSERT(value || len == 0);
    return s_add_bytes(parent, key, HONE_NODE_STR, value, len);
}

hone_node_t *hone_node_add_bin(hone_node_t *parent, const char *key, const void *data, size_t len)
{
    HONE_ASSERT(data || len == 0);
    return s_add_bytes(parent, key, HONE_NODE_BIN, data, len);
}

hone_node_t *hone_node_add_array(hone_node_t *parent, const char *key)
{
    return s_add(parent, key, s_child_new(parent, HONE_NODE_ARRAY));
}

hone_node_t *hone_node_add_map(hone_node_t *parent, const char *key)
{
    return s_add(parent, key, s_child_new(parent, HONE_NODE_MAP));
}

/* Deep copy of src into arena; depth guards the C stack against hand-built trees. */
static hone_node_t *s_copy(s_arena_t *arena, const hone_node_t *src, int depth)
{
    if (depth > S_TEXT_MAX_DEPTH)
        return NULL;
    if (s_is_container(src)) {
        hone_node_t *node = s_container_new(arena, (hone_node_type_t) src->type, src->len);
        if (!node)
            return NULL;
        const s_kids_t *from = src->u.kids;
        s_kids_t *to = node->u.kids;
        for (uint32_t i = 0; i < src->len; i++) {
            const char *key = from->at[i].key;
            to->at[i].key = key ? s_arena_strndup(arena, key, strlen(key)) : NULL;
            to->at[i].node = s_copy(arena, from->at[i].node, depth + 1);
            if ((key && !to->at[i].key) || !to->at[i].node)
                return NULL;
        }
        node->len = src->len;
        return node;
    }
    hone_node_t *node = s_node_new(arena, (hone_node_type_t) src->type);
    if (!node)
        return NULL;
    *node = *src;
    if (src->type == HONE_NODE_STR || src->type == HONE_NODE_BIN) {
        node->u.bytes = s_arena_strndup(arena, src->u.bytes, src->len);
        if (!node->u.bytes)
            return NULL;
    }
    return node;
}

hone_node_t *hone_node_add_copy(hone_node_t *parent, const char *key, const hone_node_t *src)
{
    if (!parent || !src)
        return NULL;
    HONE_ASSERT(s_is_container(parent));
    return s_add(parent, key, s_copy(parent->u.kids->arena, src, 1));
}

hone_node_type_t hone_node_type(const hone_node_t *node)
{
    return node ? (hone_node_type_t) node->type : HONE_NODE_NIL;
}

const char *hone_node_type_name(hone_node_type_t type)
{
    static const char *const names[] = { "nil", "bool", "int", "float", "str", "bin", "array", "map" };
    return (unsigned) type < HONE_ARRAY_LEN(names) ? names[type] : "unknown";
}

bool hone_node_bool(const hone_node_t *node)
{
    HONE_ASSERT(node && node->type == HONE_NODE_BOOL);
    return node->u.b;
}

int64_t hone_node_int(const hone_node_t *node)
{
    HONE_ASSERT(node && node->type == HONE_NODE_INT);
    return node->u.i;
}

double hone_node_float(const hone_node_t *node)
{
    HONE_ASSERT(node && (node->type == HONE_NODE_FLOAT || node->type == HONE_NODE_INT));
    return node->type == HONE_NODE_FLOAT ? node->u.f : (double) node->u.i;
}

const char *hone_node_str(const hone_node_t *node, size_t *len)
{
    HONE_ASSERT(node && (node->type == HONE_NODE_STR || node->type == HONE_NODE_BIN));
    if (len)
        *len = node->len;
    return node->u.bytes;
}

size_t hone_node_len(const hone_node_t *node)
{
    if (!node)
        return 0;
    switch (node->type) {
    case HONE_NODE_STR: case HONE_NODE_BIN: case HONE_NODE_ARRAY: case HONE_NODE_MAP:
        return node->len;
    default:
        return 0;
    }
}

const hone_node_t *hone_node_at(const hone_node_t *node, size_t i)
{
    if (!node || !s_is_container(node) || i >= node->len)
        return NULL;
    return node->u.kids->at[i].node;
}

const char *hone_node_key_at(const hone_node_t *node, size_t i)
{
    if (!node || node->type != HONE_NODE_MAP || i >= node->len)
        return NULL;
    return node->u.kids->at[i].key;
}

const hone_node_t *hone_node_get(const hone_node_t *map, const char *key)
{
    if (!map || map->type != HONE_NODE_MAP)
        return NULL;
    return s_find(map, key);
}

/* A standalone tree: the arena struct and the root share the first chunk. */
hone_node_t *hone_node_new_map(void)
{
    s_chunk_t *chunk = s_chunk_new(S_FIRST_CHUNK, NULL);
    if (!chunk)
        return NULL;
    s_arena_t *arena = s_chunk_take(chunk, sizeof *arena);
    arena->head = chunk;
    arena->root = s_container_new(arena, HONE_NODE_MAP, 0);
    return arena->root;   /* the first chunk has room for it */
}

void hone_node_destroy(hone_node_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_node_t *self = *self_p;
    if (!self)
        return;
    HONE_ASSERT(s_is_container(self));
    s_arena_t *arena = self->u.kids->arena;
    HONE_ASSERT(arena->root == self);   /* only a standalone tree's root can be destroyed */
    s_arena_free(arena);
    *self_p = NULL;
}

/* ---- encoding ---- */

typedef struct {
    msgpack_packer pk;
    uint64_t items;         /* array items + map pairs so far, the receiver's budget */
    int rc;                 /* first failure: HONE_ENOMEM or HONE_ETOOBIG */
} s_packer_t;

static void s_pack_fail(s_packer_t *p, int write_rc)
{
    if (write_rc != 0 && p->rc == HONE_OK)
        p->rc = HONE_ENOMEM;
}

static void s_pack_str(s_packer_t *p, const char *s, size_t len)
{
    if (len > HONE_PROTO_MAX_STR) {
        p->rc = HONE_ETOOBIG;
        return;
    }
    s_pack_fail(p, msgpack_pack_str_with_body(&p->pk, s, len));
}

static void s_pack_node(s_packer_t *p, const hone_node_t *node, uint32_t depth)
{
    if (p->rc != HONE_OK)
        return;
    switch ((hone_node_type_t) node->type) {
    case HONE_NODE_NIL: s_pack_fail(p, msgpack_pack_nil(&p->pk)); return;
    case HONE_NODE_BOOL:
        s_pack_fail(p, node->u.b ? msgpack_pack_true(&p->pk) : msgpack_pack_false(&p->pk));
        return;
    case HONE_NODE_INT: s_pack_fail(p, msgpack_pack_int64(&p->pk, node->u.i)); return;
    case HONE_NODE_FLOAT: s_pack_fail(p, msgpack_pack_double(&p->pk, node->u.f)); return;
    case HONE_NODE_STR: s_pack_str(p, node->u.bytes, node->len); return;
    case HONE_NODE_BIN:
        if (node->len > HONE_PROTO_MAX_STR)
            p->rc = HONE_ETOOBIG;
        else
            s_pack_fail(p, msgpack_pack_bin_with_body(&p->pk, node->u.bytes, node->len));
        return;
    case HONE_NODE_ARRAY:
    case HONE_NODE_MAP:
        break;
    }
    p->items += node->len;
    if (depth > HONE_PROTO_MAX_DEPTH || p->items > HONE_PROTO_MAX_ITEMS) {
        p->rc = HONE_ETOOBIG;
        return;
    }
    const s_kids_t *kids = node->u.kids;
    if (node->type == HONE_NODE_ARRAY) {
        s_pack_fail(p, msgpack_pack_array(&p->pk, node->len));
        for (uint32_t i = 0; i < node->len && p->rc == HONE_OK; i++)
            s_pack_node(p, kids->at[i].node, depth + 1);
    } else {
        s_pack_fail(p, msgpack_pack_map(&p->pk, node->len));
        for (uint32_t i = 0; i < node->len && p->rc == HONE_OK; i++) {
            s_pack_str(p, kids->at[i].key, strlen(kids->at[i].key));
            s_pack_node(p, kids->at[i].node, depth + 1);
        }
    }
}

/* Runs the packer over an sbuffer that starts small (msgpack-c's default first
 * allocation is 8 KiB) and hands the bytes to the caller. */
static int s_pack_finish(s_packer_t *p, msgpack_sbuffer *sb, uint8_t **data, size_t *size)
{
    if (p->rc == HONE_OK && sb->size > HONE_PROTO_MAX_BYTES)
        p->rc = HONE_ETOOBIG;
    if (p->rc != HONE_OK) {
        msgpack_sbuffer_destroy(sb);
        return p->rc;
    }
    *size = sb->size;
    *data = (uint8_t *) msgpack_sbuffer_release(sb);
    return HONE_OK;
}

static int s_pack_start(s_packer_t *p, msgpack_sbuffer *sb)
{
    msgpack_sbuffer_init(sb);
    sb->data = malloc(256);
    if (!sb->data)
        return HONE_ENOMEM;
    sb->alloc = 256;
    msgpack_packer_init(&p->pk, sb, msgpack_sbuffer_write);
    p->items = 0;
    p->rc = HONE_OK;
    return HONE_OK;
}

int hone_node_encode(const hone_node_t *self, uint8_t **data, size_t *size)
{
    HONE_ASSERT(self && data && size);
    msgpack_sbuffer sb;
    s_packer_t p;
    if (s_pack_start(&p, &sb) != HONE_OK)
        return HONE_ENOMEM;
    s_pack_node(&p, self, 1);
    return s_pack_finish(&p, &sb, data, size);
}

/* ---- decoding ---- */

/* Where a conversion error happened: the innermost map key, for the message. */
typedef struct {
    const char *key;
    size_t key_len;
} s_where_t;

/* Copies up to max bytes of an untrusted name (a type name, a map key) into buf for an
 * error message, printable ASCII only: the message is one line that the broker logs and
 * sends back, so a key holding a newline or a terminal escape must not reach it as is.
 * A NULL name (msgpack-c's pointer for an empty str) gives "". */
static const char *s_printable(const void *name, size_t len, size_t max, char *buf, size_t size)
{
    const uint8_t *p = name;
    size_t n = 0;
    for (size_t i = 0; p && i < len && n + 4 < size && i < max; i++)
        buf[n++] = p[i] >= 0x20 && p[i] < 0x7f ? (char) p[i] : '?';
    if (len > max && n + 4 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n] = '\0';
    return buf;
}

static int s_decode_error(hone_error_t *err, int code, s_where_t where, const char *what)
{
    char key[72];
    if (where.key)
        return hone_error_set(err, code, "%s (in field '%s')", what,
                              s_printable(where.key, where.key_len, 64, key, sizeof key));
    return hone_error_set(err, code, "%s", what);
}

/* Whether two msgpack-c strings hold the same bytes. An empty str has a NULL pointer,
 * which memcmp must not be given (found by tests/fuzz/fuzz_frame). */
static bool s_str_eq(const msgpack_object_str *a, const msgpack_object_str *b)
{
    return a->size == b->size && (a->size == 0 || memcmp(a->ptr, b->ptr, a->size) == 0);
}

static int s_key_cmp(const void *a, const void *b)
{
    const msgpack_object_str *x = *(const msgpack_object_str *const *) a;
    const msgpack_object_str *y = *(const msgpack_object_str *const *) b;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return x->size ? memcmp(x->ptr, y->ptr, x->size) : 0;   /* empty: NULL pointers */
}

/* Keys must be distinct: pairwise for small maps, sorted for large ones (so that a
 * 50 000-pair map costs n log n, not n²). */
static int s_check_keys(const msgpack_object_map *map, s_where_t where, hone_error_t *err)
{
    const msgpack_object_str *dup = NULL;
    if (map->size <= 16) {
        for (uint32_t i = 1; i < map->size && !dup; i++)
            for (uint32_t j = 0; j < i; j++) {
                const msgpack_object_str *a = &map->ptr[i].key.via.str, *b = &map->ptr[j].key.via.str;
                if (s_str_eq(a, b)) {
                    dup = a;
                    break;
                }
            }
    } else {
        const msgpack_object_str **sorted = malloc(map->size * sizeof *sorted);
        if (!sorted)
            return hone_error_set(err, HONE_ENOMEM, "out of memory checking map keys");
        for (uint32_t i = 0; i < map->size; i++)
            sorted[i] = &map->ptr[i].key.via.str;
        qsort(sorted, map->size, sizeof *sorted, s_key_cmp);
        for (uint32_t i = 1; i < map->size && !dup; i++)
            if (s_key_cmp(&sorted[i - 1], &sorted[i]) == 0)
                dup = sorted[i];
        free(sorted);
    }
    if (dup) {
        char what[128], key[72];
        snprintf(what, sizeof what, "duplicate map key '%s'", s_printable(dup->ptr, dup->size, 64, key, sizeof key));
        return s_decode_error(err, HONE_EPROTO, where, what);
    }
    return HONE_OK;
}

/* Checks what the validator cannot see (key types, key uniqueness, int range, float
 * kinds) and adds up the arena bytes the tree will need. Recursion is bounded by the
 * validated depth. */
static int s_measure(const msgpack_object *o, s_where_t where, size_t *bytes, hone_error_t *err)
{
    *bytes += S_ROUND(sizeof(hone_node_t));
    switch (o->type) {
    case MSGPACK_OBJECT_NIL:
    case MSGPACK_OBJECT_BOOLEAN:
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        return HONE_OK;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > INT64_MAX)
            return s_decode_error(err, HONE_EPROTO, where, "integer above 2^63-1");
        return HONE_OK;
    case MSGPACK_OBJECT_STR:
        *bytes += S_ROUND((size_t) o->via.str.size + 1);
        return HONE_OK;
    case MSGPACK_OBJECT_BIN:
        *bytes += S_ROUND((size_t) o->via.bin.size + 1);
        return HONE_OK;
    case MSGPACK_OBJECT_ARRAY:
        *bytes += S_ROUND(sizeof(s_kids_t) + o->via.array.size * sizeof(s_kid_t));
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int rc = s_measure(&o->via.array.ptr[i], where, bytes, err);
            if (rc != HONE_OK)
                return rc;
        }
        return HONE_OK;
    case MSGPACK_OBJECT_MAP:
        *bytes += S_ROUND(sizeof(s_kids_t) + o->via.map.size * sizeof(s_kid_t));
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *key = &o->via.map.ptr[i].key;
            if (key->type != MSGPACK_OBJECT_STR)
                return s_decode_error(err, HONE_EPROTO, where, "map keys must be str");
            /* an empty key has a NULL pointer, which memchr must not be given */
            if (key->via.str.size > 0 && memchr(key->via.str.ptr, '\0', key->via.str.size))
                return s_decode_error(err, HONE_EPROTO, where, "map key contains a NUL byte");
            *bytes += S_ROUND((size_t) key->via.str.size + 1);
            s_where_t inner = { key->via.str.ptr, key->via.str.size };
            int rc = s_measure(&o->via.map.ptr[i].val, inner, bytes, err);
            if (rc != HONE_OK)
                return rc;
        }
        return s_check_keys(&o->via.map, where, err);
    default:
        return s_decode_error(err, HONE_EPROTO, where, "extension types are not allowed");
    }
}

/* Builds the tree in an arena sized by s_measure, so no allocation can fail here. */
static hone_node_t *s_convert(s_arena_t *arena, const msgpack_object *o)
{
    hone_node_t *node;
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        node = s_node_new(arena, HONE_NODE_BOOL);
        node->u.b = o->via.boolean;
        return node;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        node = s_node_new(arena, HONE_NODE_INT);
        node->u.i = (int64_t) o->via.u64;
        return node;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        node = s_node_new(arena, HONE_NODE_INT);
        node->u.i = o->via.i64;
        return node;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        node = s_node_new(arena, HONE_NODE_FLOAT);
        node->u.f = o->via.f64;
        return node;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        node = s_node_new(arena, o->type == MSGPACK_OBJECT_STR ? HONE_NODE_STR : HONE_NODE_BIN);
        node->len = o->via.str.size;   /* str and bin share a layout in msgpack-c */
        node->u.bytes = s_arena_strndup(arena, o->via.str.ptr, o->via.str.size);
        return node;
    case MSGPACK_OBJECT_ARRAY:
        node = s_container_new(arena, HONE_NODE_ARRAY, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            node->u.kids->at[i].key = NULL;
            node->u.kids->at[i].node = s_convert(arena, &o->via.array.ptr[i]);
        }
        node->len = o->via.array.size;
        return node;
    case MSGPACK_OBJECT_MAP:
        node = s_container_new(arena, HONE_NODE_MAP, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_str *key = &o->via.map.ptr[i].key.via.str;
            node->u.kids->at[i].key = s_arena_strndup(arena, key->ptr, key->size);
            node->u.kids->at[i].node = s_convert(arena, &o->via.map.ptr[i].val);
        }
        node->len = o->via.map.size;
        return node;
    default:
        return s_node_new(arena, HONE_NODE_NIL);
    }
}

/* Runs msgpack-c over bytes that passed hone_validate. */
static int s_unpack(const uint8_t *data, size_t size, msgpack_unpacked *up, hone_error_t *err)
{
    size_t off = 0;
    msgpack_unpacked_init(up);
    msgpack_unpack_return r = msgpack_unpack_next(up, (const char *) data, size, &off);
    if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        return hone_error_set(err, HONE_ENOMEM, "out of memory decoding a message");
    if (r != MSGPACK_UNPACK_SUCCESS || off != size)
        return hone_error_set(err, HONE_EPROTO, "malformed msgpack (decoder status %d at offset %zu)", (int) r, off);
    return HONE_OK;
}

int hone_node_decode(const uint8_t *data, size_t size, hone_node_t **out, hone_error_t *err)
{
    HONE_ASSERT(out);
    *out = NULL;
    int rc = hone_validate(data, size, NULL, err);
    if (rc != HONE_OK)
        return rc;
    msgpack_unpacked up;
    rc = s_unpack(data, size, &up, err);
    if (rc == HONE_OK && up.data.type != MSGPACK_OBJECT_MAP)
        rc = hone_error_set(err, HONE_EPROTO, "a record must be a map, not msgpack type %d", (int) up.data.type);
    size_t bytes = S_ROUND(sizeof(s_arena_t));
    s_where_t nowhere = { NULL, 0 };
    if (rc == HONE_OK)
        rc = s_measure(&up.data, nowhere, &bytes, err);
    s_chunk_t *chunk = rc == HONE_OK ? s_chunk_new(bytes, NULL) : NULL;
    if (rc == HONE_OK && !chunk)
        rc = hone_error_set(err, HONE_ENOMEM, "out of memory decoding a record");
    if (rc == HONE_OK) {
        s_arena_t *arena = s_chunk_take(chunk, sizeof *arena);
        arena->head = chunk;
        arena->root = s_convert(arena, &up.data);
        *out = arena->root;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}

/* ---- messages ---- */

struct _hone_msg_t {
    s_arena_t arena;        /* owns the body tree and this struct (in its oldest chunk) */
    hone_node_t *body;      /* the body map */
    uint64_t seq;           /* echoed by the reply */
    hone_msg_id_t id;       /* never HONE_MSG_INVALID */
};

static const char *const s_msg_names[HONE_MSG_COUNT] = {
    [HONE_MSG_INVALID] = NULL,
#define XX(id, name, dir) [HONE_MSG_##id] = name,
    HONE_MSG_MAP(XX)
#undef XX
};

const char *hone_msg_name(hone_msg_id_t id)
{
    return id > HONE_MSG_INVALID && id < HONE_MSG_COUNT ? s_msg_names[id] : NULL;
}

hone_msg_id_t hone_msg_id_from_name(const char *name, size_t len)
{
    if (!name)
        return HONE_MSG_INVALID;
    for (int id = HONE_MSG_INVALID + 1; id < HONE_MSG_COUNT; id++)
        if (strlen(s_msg_names[id]) == len && memcmp(s_msg_names[id], name, len) == 0)
            return (hone_msg_id_t) id;
    return HONE_MSG_INVALID;
}

/* A message whose first chunk holds the struct and `room` more bytes. */
static hone_msg_t *s_msg_alloc(hone_msg_id_t id, size_t room)
{
    s_chunk_t *chunk = s_chunk_new(S_ROUND(sizeof(hone_msg_t)) + room, NULL);
    if (!chunk)
        return NULL;
    hone_msg_t *self = s_chunk_take(chunk, sizeof *self);
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
    hone_msg_t *self = s_msg_alloc(id, S_FIRST_CHUNK - S_ROUND(sizeof(hone_msg_t)));
    if (self)
        self->body = s_container_new(&self->arena, HONE_NODE_MAP, 0);   /* fits in the chunk */
    return self;
}

void hone_msg_destroy(hone_msg_t **self_p)
{
    HONE_ASSERT(self_p);
    if (*self_p) {
        s_arena_free(&(*self_p)->arena);
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

int hone_msg_encode(const hone_msg_t *self, uint8_t **data, size_t *size)
{
    HONE_ASSERT(self && data && size);
    msgpack_sbuffer sb;
    s_packer_t p;
    if (s_pack_start(&p, &sb) != HONE_OK)
        return HONE_ENOMEM;
    const char *name = s_msg_names[self->id];
    p.items = 5;
    s_pack_fail(&p, msgpack_pack_array(&p.pk, 5));
    s_pack_str(&p, HONE_PROTO_SIGNATURE, sizeof HONE_PROTO_SIGNATURE - 1);
    s_pack_fail(&p, msgpack_pack_uint64(&p.pk, HONE_PROTO_VERSION));
    s_pack_str(&p, name, strlen(name));
    s_pack_fail(&p, msgpack_pack_uint64(&p.pk, self->seq));
    s_pack_node(&p, self->body, 2);
    return s_pack_finish(&p, &sb, data, size);
}

int hone_msg_decode(const uint8_t *data, size_t size, hone_msg_t **out, uint64_t *seq_out,
                    hone_error_t *err)
{
    HONE_ASSERT(out);
    *out = NULL;
    hone_validate_header_t head;
    hone_error_t head_err;
    int head_rc = hone_validate_header(data, size, &head, &head_err);
    char type[48];
    if (head_rc == HONE_OK) {
        if (seq_out)
            *seq_out = head.seq;
        if (head.version != HONE_PROTO_VERSION)
            return hone_error_set(err, HONE_EVERSION,
                                  "protocol version %" PRIu64 " not supported (this peer speaks %d); type '%s', seq %" PRIu64,
                                  head.version, HONE_PROTO_VERSION,
                                  s_printable(head.type, head.type_len, 32, type, sizeof type), head.seq);
    }
    int rc = hone_validate(data, size, NULL, err);
    if (rc != HONE_OK)
        return rc;
    if (head_rc != HONE_OK) {
        if (err)
            *err = head_err;
        return head_rc;
    }
    if (head.count != 5)
        return hone_error_set(err, HONE_EPROTO, "a version 1 message is an array of 5 elements, not %" PRIu64,
                              head.count);
    hone_msg_id_t id = hone_msg_id_from_name((const char *) head.type, head.type_len);
    if (id == HONE_MSG_INVALID)
        return hone_error_set(err, HONE_EPROTO, "unknown message type '%s'",
                              s_printable(head.type, head.type_len, 32, type, sizeof type));

    msgpack_unpacked up;
    rc = s_unpack(data, size, &up, err);
    const msgpack_object *body = rc == HONE_OK ? &up.data.via.array.ptr[4] : NULL;
    if (rc == HONE_OK && body->type != MSGPACK_OBJECT_MAP)
        rc = hone_error_set(err, HONE_EPROTO, "the body of '%s' must be a map", s_msg_names[id]);
    size_t bytes = 0;
    s_where_t nowhere = { NULL, 0 };
    if (rc == HONE_OK)
        rc = s_measure(body, nowhere, &bytes, err);
    hone_msg_t *self = rc == HONE_OK ? s_msg_alloc(id, bytes) : NULL;
    if (rc == HONE_OK && !self)
        rc = hone_error_set(err, HONE_ENOMEM, "out of memory decoding '%s'", s_msg_names[id]);
    if (rc == HONE_OK) {
        self->seq = head.seq;
        self->body = s_convert(&self->arena, body);
        *out = self;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
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
    const hone_node_t *node = s_find(self->body, key);
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
    if (depth >= S_TEXT_MAX_DEPTH && node->len)
        s_text_put(t, "...", 3);
    for (uint32_t i = 0; i < node->len && depth < S_TEXT_MAX_DEPTH && !t->failed; i++) {
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
    s_text_cstr(&t, s_msg_names[self->id]);
    s_text_cstr(&t, head);
    s_text_node(&t, self->body, 1);
    return t.failed ? NULL : t.buf;
}
