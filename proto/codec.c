/* codec.c: msgpack in and out, the only msgpack-c user in hone. Encodes a node tree or
 * a whole message (header array and body) under the HONE_PROTO_MAX_* limits, and
 * decodes bytes that passed hone_validate (validate.c) into a tree measured first so
 * that it takes one allocation. Never aborts on allocation failure: the worker SDK
 * links this file. */
#include "msg_internal.h"

#include <inttypes.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>

#include "validate.h"

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
    const hone_node_kids_t *kids = node->u.kids;
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

int hone_msg_encode(const hone_msg_t *self, uint8_t **data, size_t *size)
{
    HONE_ASSERT(self && data && size);
    msgpack_sbuffer sb;
    s_packer_t p;
    if (s_pack_start(&p, &sb) != HONE_OK)
        return HONE_ENOMEM;
    const char *name = hone_msg_names[self->id];
    p.items = 5;
    s_pack_fail(&p, msgpack_pack_array(&p.pk, 5));
    s_pack_str(&p, HONE_PROTO_SIGNATURE, sizeof HONE_PROTO_SIGNATURE - 1);
    s_pack_fail(&p, msgpack_pack_uint64(&p.pk, HONE_PROTO_VERSION));
    s_pack_str(&p, name, strlen(name));
    s_pack_fail(&p, msgpack_pack_uint64(&p.pk, self->seq));
    s_pack_node(&p, self->body, 2);
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
    *bytes += HONE_ARENA_ROUND(sizeof(hone_node_t));
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
        *bytes += HONE_ARENA_ROUND((size_t) o->via.str.size + 1);
        return HONE_OK;
    case MSGPACK_OBJECT_BIN:
        *bytes += HONE_ARENA_ROUND((size_t) o->via.bin.size + 1);
        return HONE_OK;
    case MSGPACK_OBJECT_ARRAY:
        *bytes += HONE_ARENA_ROUND(sizeof(hone_node_kids_t) + o->via.array.size * sizeof(hone_node_kid_t));
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            int rc = s_measure(&o->via.array.ptr[i], where, bytes, err);
            if (rc != HONE_OK)
                return rc;
        }
        return HONE_OK;
    case MSGPACK_OBJECT_MAP:
        *bytes += HONE_ARENA_ROUND(sizeof(hone_node_kids_t) + o->via.map.size * sizeof(hone_node_kid_t));
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object *key = &o->via.map.ptr[i].key;
            if (key->type != MSGPACK_OBJECT_STR)
                return s_decode_error(err, HONE_EPROTO, where, "map keys must be str");
            /* an empty key has a NULL pointer, which memchr must not be given */
            if (key->via.str.size > 0 && memchr(key->via.str.ptr, '\0', key->via.str.size))
                return s_decode_error(err, HONE_EPROTO, where, "map key contains a NUL byte");
            *bytes += HONE_ARENA_ROUND((size_t) key->via.str.size + 1);
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
static hone_node_t *s_convert(hone_arena_t *arena, const msgpack_object *o)
{
    hone_node_t *node;
    switch (o->type) {
    case MSGPACK_OBJECT_BOOLEAN:
        node = hone_node_alloc(arena, HONE_NODE_BOOL);
        node->u.b = o->via.boolean;
        return node;
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        node = hone_node_alloc(arena, HONE_NODE_INT);
        node->u.i = (int64_t) o->via.u64;
        return node;
    case MSGPACK_OBJECT_NEGATIVE_INTEGER:
        node = hone_node_alloc(arena, HONE_NODE_INT);
        node->u.i = o->via.i64;
        return node;
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64:
        node = hone_node_alloc(arena, HONE_NODE_FLOAT);
        node->u.f = o->via.f64;
        return node;
    case MSGPACK_OBJECT_STR:
    case MSGPACK_OBJECT_BIN:
        node = hone_node_alloc(arena, o->type == MSGPACK_OBJECT_STR ? HONE_NODE_STR : HONE_NODE_BIN);
        node->len = o->via.str.size;   /* str and bin share a layout in msgpack-c */
        node->u.bytes = hone_arena_strndup(arena, o->via.str.ptr, o->via.str.size);
        return node;
    case MSGPACK_OBJECT_ARRAY:
        node = hone_node_alloc_container(arena, HONE_NODE_ARRAY, o->via.array.size);
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            node->u.kids->at[i].key = NULL;
            node->u.kids->at[i].node = s_convert(arena, &o->via.array.ptr[i]);
        }
        node->len = o->via.array.size;
        return node;
    case MSGPACK_OBJECT_MAP:
        node = hone_node_alloc_container(arena, HONE_NODE_MAP, o->via.map.size);
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            const msgpack_object_str *key = &o->via.map.ptr[i].key.via.str;
            node->u.kids->at[i].key = hone_arena_strndup(arena, key->ptr, key->size);
            node->u.kids->at[i].node = s_convert(arena, &o->via.map.ptr[i].val);
        }
        node->len = o->via.map.size;
        return node;
    default:
        return hone_node_alloc(arena, HONE_NODE_NIL);
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
    size_t bytes = HONE_ARENA_ROUND(sizeof(hone_arena_t));
    s_where_t nowhere = { NULL, 0 };
    if (rc == HONE_OK)
        rc = s_measure(&up.data, nowhere, &bytes, err);
    hone_arena_chunk_t *chunk = rc == HONE_OK ? hone_arena_chunk_new(bytes, NULL) : NULL;
    if (rc == HONE_OK && !chunk)
        rc = hone_error_set(err, HONE_ENOMEM, "out of memory decoding a record");
    if (rc == HONE_OK) {
        hone_arena_t *arena = hone_arena_chunk_take(chunk, sizeof *arena);
        arena->head = chunk;
        arena->root = s_convert(arena, &up.data);
        *out = arena->root;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
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
        rc = hone_error_set(err, HONE_EPROTO, "the body of '%s' must be a map", hone_msg_names[id]);
    size_t bytes = 0;
    s_where_t nowhere = { NULL, 0 };
    if (rc == HONE_OK)
        rc = s_measure(body, nowhere, &bytes, err);
    hone_msg_t *self = rc == HONE_OK ? hone_msg_alloc(id, bytes) : NULL;
    if (rc == HONE_OK && !self)
        rc = hone_error_set(err, HONE_ENOMEM, "out of memory decoding '%s'", hone_msg_names[id]);
    if (rc == HONE_OK) {
        self->seq = head.seq;
        self->body = s_convert(&self->arena, body);
        *out = self;
    }
    msgpack_unpacked_destroy(&up);
    return rc;
}
