/* validate.c: one pass over untrusted msgpack bytes, before anything is allocated.
 *
 * The walk keeps two pieces of state: a stack of "elements still to start" per open
 * container (for the depth limit), and `need`, the number of objects still owed by
 * every open container together. Every object takes at least one byte, so
 * `need <= bytes remaining` must hold after each header; a container that declares
 * more elements than bytes exist is refused at its header, before any decoder would
 * reserve memory for it (msgpack-c #1013). */
#include "validate.h"

#include "msg.h"

/* The explicit stack lives on the C stack; deeper limits are clamped to this. */
#define S_STACK_MAX 64

typedef enum {
    S_TOK_SCALAR,      /* nil, bool, int, float: no payload beyond the header */
    S_TOK_STR,
    S_TOK_BIN,
    S_TOK_ARRAY,
    S_TOK_MAP,
    S_TOK_EXT,         /* refused */
    S_TOK_RESERVED,    /* 0xc1, refused */
    S_TOK_TRUNCATED,   /* the header itself runs past the end */
} s_tok_kind_t;

typedef struct {
    s_tok_kind_t kind;
    bool is_uint;      /* a non-negative integer, value in uint_value */
    bool is_int;       /* any integer */
    uint64_t uint_value;
    uint64_t count;    /* payload bytes (str/bin) or elements (array/map; a map's pairs) */
    size_t head;       /* bytes taken by the header (type byte, length, scalar value) */
} s_tok_t;

static uint64_t s_be(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v = (v << 8) | p[i];
    return v;
}

/* Reads the header of the object at data[0..avail). Never reads past avail. */
static void s_token(const uint8_t *data, size_t avail, s_tok_t *tok)
{
    memset(tok, 0, sizeof *tok);
    uint8_t b = data[0];
    size_t width = 0;           /* bytes of length/value after the type byte */
    tok->kind = S_TOK_SCALAR;
    if (b <= 0x7f) {
        tok->is_int = tok->is_uint = true;
        tok->uint_value = b;
    } else if (b <= 0x8f) {
        tok->kind = S_TOK_MAP;
        tok->count = b & 0x0f;
    } else if (b <= 0x9f) {
        tok->kind = S_TOK_ARRAY;
        tok->count = b & 0x0f;
    } else if (b <= 0xbf) {
        tok->kind = S_TOK_STR;
        tok->count = b & 0x1f;
    } else if (b >= 0xe0) {
        tok->is_int = true;
    } else {
        switch (b) {
        case 0xc0: case 0xc2: case 0xc3: break;
        case 0xc1: tok->kind = S_TOK_RESERVED; break;
        case 0xc4: tok->kind = S_TOK_BIN; width = 1; break;
        case 0xc5: tok->kind = S_TOK_BIN; width = 2; break;
        case 0xc6: tok->kind = S_TOK_BIN; width = 4; break;
        case 0xc7: case 0xc8: case 0xc9:
        case 0xd4: case 0xd5: case 0xd6: case 0xd7: case 0xd8:
            tok->kind = S_TOK_EXT; break;
        case 0xca: width = 4; break;
        case 0xcb: width = 8; break;
        case 0xcc: case 0xcd: case 0xce: case 0xcf:
            tok->is_int = tok->is_uint = true;
            width = (size_t) 1 << (b - 0xcc);
            break;
        case 0xd0: case 0xd1: case 0xd2: case 0xd3:
            tok->is_int = true;
            width = (size_t) 1 << (b - 0xd0);
            break;
        case 0xd9: tok->kind = S_TOK_STR; width = 1; break;
        case 0xda: tok->kind = S_TOK_STR; width = 2; break;
        case 0xdb: tok->kind = S_TOK_STR; width = 4; break;
        case 0xdc: tok->kind = S_TOK_ARRAY; width = 2; break;
        case 0xdd: tok->kind = S_TOK_ARRAY; width = 4; break;
        case 0xde: tok->kind = S_TOK_MAP; width = 2; break;
        case 0xdf: tok->kind = S_TOK_MAP; width = 4; break;
        }
    }
    tok->head = 1 + width;
    if (tok->kind == S_TOK_EXT || tok->kind == S_TOK_RESERVED || width == 0)
        return;
    if (width > avail - 1) {
        tok->kind = S_TOK_TRUNCATED;
        return;
    }
    uint64_t v = s_be(data + 1, width);
    if (tok->kind == S_TOK_SCALAR) {
        /* a signed form holding a non-negative value still counts as a uint */
        if (tok->is_int && b >= 0xd0)
            tok->is_uint = (v >> (8 * width - 1)) == 0;
        tok->uint_value = v;
    } else {
        tok->count = v;
    }
}

static const char *s_kind_name(s_tok_kind_t kind)
{
    switch (kind) {
    case S_TOK_STR: return "str";
    case S_TOK_BIN: return "bin";
    case S_TOK_ARRAY: return "array";
    case S_TOK_MAP: return "map";
    default: return "value";
    }
}

hone_validate_limits_t hone_validate_default_limits(void)
{
    hone_validate_limits_t limits = {
        .max_bytes = HONE_PROTO_MAX_BYTES,
        .max_depth = HONE_PROTO_MAX_DEPTH,
        .max_str = HONE_PROTO_MAX_STR,
        .max_items = HONE_PROTO_MAX_ITEMS,
    };
    return limits;
}

int hone_validate(const uint8_t *data, size_t size, const hone_validate_limits_t *limits,
                  hone_error_t *err)
{
    hone_validate_limits_t defaults;
    if (!limits) {
        defaults = hone_validate_default_limits();
        limits = &defaults;
    }
    uint32_t max_depth = limits->max_depth < S_STACK_MAX ? limits->max_depth : S_STACK_MAX;
    if (size == 0)
        return hone_error_set(err, HONE_EPROTO, "offset 0: empty message");
    if (size > limits->max_bytes)
        return hone_error_set(err, HONE_ETOOBIG, "offset 0: message of %zu bytes exceeds the %zu-byte limit",
                              size, limits->max_bytes);
    HONE_ASSERT(data);

    uint64_t left[S_STACK_MAX];   /* elements not yet started, per open container */
    uint32_t depth = 0;           /* open containers */
    uint64_t need = 1;            /* objects still owed, the top-level one included */
    uint64_t items = 0;           /* array items + map pairs seen so far */
    size_t pos = 0;
    while (need > 0) {
        if (pos >= size)
            return hone_error_set(err, HONE_EPROTO, "offset %zu: truncated, %llu more object(s) expected",
                                  pos, (unsigned long long) need);
        s_tok_t tok;
        s_token(data + pos, size - pos, &tok);
        switch (tok.kind) {
        case S_TOK_RESERVED:
            return hone_error_set(err, HONE_EPROTO, "offset %zu: reserved byte 0xc1", pos);
        case S_TOK_EXT:
            return hone_error_set(err, HONE_EPROTO, "offset %zu: extension type 0x%02x not allowed",
                                  pos, data[pos]);
        case S_TOK_TRUNCATED:
            return hone_error_set(err, HONE_EPROTO, "offset %zu: truncated, type byte 0x%02x needs %zu bytes but %zu remain",
                                  pos, data[pos], tok.head, size - pos);
        default:
            break;
        }
        size_t at = pos;
        pos += tok.head;
        size_t remaining = size - pos;
        need--;
        if (depth > 0)
            left[depth - 1]--;

        if (tok.kind == S_TOK_STR || tok.kind == S_TOK_BIN) {
            if (tok.count > remaining)
                return hone_error_set(err, HONE_EPROTO, "offset %zu: %s declares %llu bytes but only %zu remain",
                                      at, s_kind_name(tok.kind), (unsigned long long) tok.count, remaining);
            if (tok.count > limits->max_str)
                return hone_error_set(err, HONE_ETOOBIG, "offset %zu: %s of %llu bytes exceeds the %zu-byte limit",
                                      at, s_kind_name(tok.kind), (unsigned long long) tok.count,
                                      limits->max_str);
            pos += (size_t) tok.count;
            remaining -= (size_t) tok.count;
        } else if (tok.kind == S_TOK_ARRAY || tok.kind == S_TOK_MAP) {
            uint64_t elements = tok.kind == S_TOK_MAP ? 2 * tok.count : tok.count;
            if (need + elements > remaining)
                return hone_error_set(err, HONE_EPROTO,
                                      "offset %zu: %s declares %llu element(s) but only %zu byte(s) remain",
                                      at, s_kind_name(tok.kind), (unsigned long long) elements, remaining);
            if (depth + 1 > max_depth)
                return hone_error_set(err, HONE_ETOOBIG, "offset %zu: nesting deeper than %u", at,
                                      (unsigned) max_depth);
            items += tok.count;
            if (items > limits->max_items)
                return hone_error_set(err, HONE_ETOOBIG, "offset %zu: more than %zu elements in total",
                                      at, limits->max_items);
            need += elements;
            if (elements > 0)
                left[depth++] = elements;
        }
        if (need > remaining)
            return hone_error_set(err, HONE_EPROTO, "offset %zu: %llu more object(s) expected but only %zu byte(s) remain",
                                  pos, (unsigned long long) need, remaining);
        while (depth > 0 && left[depth - 1] == 0)
            depth--;
    }
    if (pos != size)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: %zu trailing byte(s) after the message",
                              pos, size - pos);
    return HONE_OK;
}

int hone_validate_header(const uint8_t *data, size_t size, hone_validate_header_t *out,
                         hone_error_t *err)
{
    HONE_ASSERT(out);
    memset(out, 0, sizeof *out);
    s_tok_t tok;
    size_t pos = 0;
    if (size == 0)
        return hone_error_set(err, HONE_EPROTO, "offset 0: empty message");
    s_token(data, size, &tok);
    if (tok.kind != S_TOK_ARRAY)
        return hone_error_set(err, HONE_EPROTO, "offset 0: a message must be an array");
    if (tok.count < 4)
        return hone_error_set(err, HONE_EPROTO, "offset 0: a message header needs at least 4 elements, not %llu",
                              (unsigned long long) tok.count);
    out->count = tok.count;
    pos += tok.head;

    size_t sig_len = strlen(HONE_PROTO_SIGNATURE);
    if (pos >= size)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: truncated before the signature", pos);
    s_token(data + pos, size - pos, &tok);
    if (tok.kind != S_TOK_STR || tok.count != sig_len || tok.head > size - pos
        || sig_len > size - pos - tok.head
        || memcmp(data + pos + tok.head, HONE_PROTO_SIGNATURE, sig_len) != 0)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: signature \"%s\" expected", pos,
                              HONE_PROTO_SIGNATURE);
    pos += tok.head + sig_len;

    if (pos >= size)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: truncated before the version", pos);
    s_token(data + pos, size - pos, &tok);
    if (tok.kind != S_TOK_SCALAR || !tok.is_uint || tok.head > size - pos)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: version must be an unsigned integer", pos);
    out->version = tok.uint_value;
    pos += tok.head;

    if (pos >= size)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: truncated before the type", pos);
    s_token(data + pos, size - pos, &tok);
    if (tok.kind != S_TOK_STR || tok.head > size - pos || tok.count > size - pos - tok.head)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: type must be a str", pos);
    out->type = data + pos + tok.head;
    out->type_len = (size_t) tok.count;
    pos += tok.head + (size_t) tok.count;

    if (pos >= size)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: truncated before the seq", pos);
    s_token(data + pos, size - pos, &tok);
    if (tok.kind != S_TOK_SCALAR || !tok.is_uint || tok.head > size - pos)
        return hone_error_set(err, HONE_EPROTO, "offset %zu: seq must be an unsigned integer", pos);
    out->seq = tok.uint_value;
    return HONE_OK;
}
