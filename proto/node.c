/* node.c: the node tree of a message body or a store record: builders (hone_node_add_*,
 * deep copy), typed getters, and standalone trees (hone_node_new_map/destroy). Nodes
 * live in an arena (arena.c); their layout is in msg_internal.h. Never aborts on
 * allocation failure: the worker SDK links this file. */
#include "msg_internal.h"

static bool s_is_container(const hone_node_t *node)
{
    return node->type == HONE_NODE_ARRAY || node->type == HONE_NODE_MAP;
}

hone_node_t *hone_node_alloc(hone_arena_t *arena, hone_node_type_t type)
{
    hone_node_t *node = hone_arena_alloc(arena, sizeof *node);
    if (node) {
        node->type = (uint8_t) type;
        node->len = 0;
        node->u.i = 0;
    }
    return node;
}

hone_node_t *hone_node_alloc_container(hone_arena_t *arena, hone_node_type_t type, uint32_t cap)
{
    hone_node_t *node = hone_node_alloc(arena, type);
    hone_node_kids_t *kids = node ? hone_arena_alloc(arena, sizeof *kids + (size_t) cap * sizeof(hone_node_kid_t)) : NULL;
    if (!kids)
        return NULL;
    kids->arena = arena;
    kids->cap = cap;
    node->u.kids = kids;
    return node;
}

hone_node_t *hone_node_find(const hone_node_t *map, const char *key)
{
    const hone_node_kids_t *kids = map->u.kids;
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
    hone_node_kids_t *kids = parent->u.kids;
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
    const char *key_copy = key ? hone_arena_strndup(kids->arena, key, strlen(key)) : NULL;
    if (key && !key_copy)
        return NULL;
    if (parent->len == kids->cap) {
        uint32_t cap = kids->cap < 4 ? 4 : kids->cap > UINT32_MAX / 2 ? UINT32_MAX : 2 * kids->cap;
        hone_node_kids_t *grown = hone_arena_alloc(kids->arena, sizeof *grown + (size_t) cap * sizeof(hone_node_kid_t));
        if (!grown)
            return NULL;
        grown->arena = kids->arena;
        grown->cap = cap;
        if (parent->len)
            memcpy(grown->at, kids->at, parent->len * sizeof(hone_node_kid_t));
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
        return hone_node_alloc_container(parent->u.kids->arena, type, 0);
    return hone_node_alloc(parent->u.kids->arena, type);
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
        node->u.bytes = hone_arena_strndup(parent->u.kids->arena, data, len);
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
static hone_node_t *s_copy(hone_arena_t *arena, const hone_node_t *src, int depth)
{
    if (depth > HONE_NODE_MAX_DEPTH)
        return NULL;
    if (s_is_container(src)) {
        hone_node_t *node = hone_node_alloc_container(arena, (hone_node_type_t) src->type, src->len);
        if (!node)
            return NULL;
        const hone_node_kids_t *from = src->u.kids;
        hone_node_kids_t *to = node->u.kids;
        for (uint32_t i = 0; i < src->len; i++) {
            const char *key = from->at[i].key;
            to->at[i].key = key ? hone_arena_strndup(arena, key, strlen(key)) : NULL;
            to->at[i].node = s_copy(arena, from->at[i].node, depth + 1);
            if ((key && !to->at[i].key) || !to->at[i].node)
                return NULL;
        }
        node->len = src->len;
        return node;
    }
    hone_node_t *node = hone_node_alloc(arena, (hone_node_type_t) src->type);
    if (!node)
        return NULL;
    *node = *src;
    if (src->type == HONE_NODE_STR || src->type == HONE_NODE_BIN) {
        node->u.bytes = hone_arena_strndup(arena, src->u.bytes, src->len);
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
    return hone_node_find(map, key);
}

/* A standalone tree: the arena struct and the root share the first chunk. */
hone_node_t *hone_node_new_map(void)
{
    hone_arena_chunk_t *chunk = hone_arena_chunk_new(HONE_ARENA_FIRST_CHUNK, NULL);
    if (!chunk)
        return NULL;
    hone_arena_t *arena = hone_arena_chunk_take(chunk, sizeof *arena);
    arena->head = chunk;
    arena->root = hone_node_alloc_container(arena, HONE_NODE_MAP, 0);
    return arena->root;   /* the first chunk has room for it */
}

void hone_node_destroy(hone_node_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_node_t *self = *self_p;
    if (!self)
        return;
    HONE_ASSERT(s_is_container(self));
    hone_arena_t *arena = self->u.kids->arena;
    HONE_ASSERT(arena->root == self);   /* only a standalone tree's root can be destroyed */
    hone_arena_free(arena);
    *self_p = NULL;
}
