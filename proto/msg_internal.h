/* msg_internal.h: what the files of the proto codec share and nothing else includes.
 * Not installed, not exported (hidden visibility): the arena, the layout of a node and
 * of a message, and the few functions that more than one of these files calls.
 *
 *   arena.c  the arena: a list of malloc'd chunks freed together
 *   node.c   the node tree: builders, getters, standalone trees for the store
 *   codec.c  msgpack in and out (the only msgpack-c user in hone)
 *   msg.c    the message object: header fields, type names, body shortcuts, text form
 *
 * Memory: every node, string and child array of one tree lives in one arena, a list
 * of chunks freed together. A decoded message is measured first and fits in exactly
 * one malloc (the message struct included); a message built through the API starts
 * with one 512-byte chunk and doubles. Nodes never move once made, so a pointer
 * returned by a builder stays valid while siblings are added; child arrays grow by
 * doubling and replaced values are left in the arena until the tree is destroyed.
 * Maps are arrays of (key, node) pairs in insertion order.
 *
 * Never aborts on allocation failure: the worker SDK links these files. */
#ifndef HONE_MSG_INTERNAL_H
#define HONE_MSG_INTERNAL_H

#include "msg.h"

/* ---- arena (arena.c) ---- */

typedef struct hone_arena_chunk {
    struct hone_arena_chunk *next;  /* the chunk made before this one */
    size_t size;                    /* usable bytes after the header */
    size_t used;                    /* bytes handed out */
} hone_arena_chunk_t;

typedef struct hone_arena {
    hone_arena_chunk_t *head;       /* newest chunk: allocations come from here */
    hone_node_t *root;              /* a standalone tree's root (hone_node_destroy checks it) */
} hone_arena_t;

#define HONE_ARENA_ALIGN ((size_t) 8)
#define HONE_ARENA_ROUND(n) (((n) + HONE_ARENA_ALIGN - 1) & ~(HONE_ARENA_ALIGN - 1))
#define HONE_ARENA_FIRST_CHUNK ((size_t) 512)
/* Recursion bound for walking hand-built trees (hone_node_add_copy, the text form). */
#define HONE_NODE_MAX_DEPTH 64

/* A chunk with size usable bytes, linked before next; NULL on allocation failure. */
hone_arena_chunk_t *hone_arena_chunk_new(size_t size, hone_arena_chunk_t *next);
/* n bytes (rounded) from chunk, which the caller knows has room. */
void *hone_arena_chunk_take(hone_arena_chunk_t *chunk, size_t n);
/* n bytes from the newest chunk, adding a chunk when it is full; NULL on failure. */
void *hone_arena_alloc(hone_arena_t *arena, size_t n);
void hone_arena_free(hone_arena_t *arena);
/* A NUL-terminated copy of n bytes of s; NULL on failure. */
char *hone_arena_strndup(hone_arena_t *arena, const char *s, size_t n);

/* ---- nodes (node.c) ---- */

typedef struct hone_node_kid {
    const char *key;        /* map key (NUL-terminated, no NUL inside); NULL in an array */
    hone_node_t *node;      /* the value */
} hone_node_kid_t;

typedef struct hone_node_kids {
    hone_arena_t *arena;    /* owns the tree; builders allocate from it */
    uint32_t cap;           /* slots in at[] */
    hone_node_kid_t at[];   /* children in order; the node's len are in use */
} hone_node_kids_t;

struct _hone_node_t {
    uint8_t type;           /* hone_node_type_t */
    uint32_t len;           /* str/bin bytes; array/map children */
    union {
        bool b;             /* BOOL */
        int64_t i;          /* INT */
        double f;           /* FLOAT */
        char *bytes;        /* STR/BIN: copy in the arena, NUL-terminated */
        hone_node_kids_t *kids;   /* ARRAY/MAP */
    } u;
};

/* A zeroed node of type from arena; NULL on allocation failure. */
hone_node_t *hone_node_alloc(hone_arena_t *arena, hone_node_type_t type);
/* An empty ARRAY or MAP with room for cap children; NULL on allocation failure. */
hone_node_t *hone_node_alloc_container(hone_arena_t *arena, hone_node_type_t type, uint32_t cap);
/* The value under key in map (a MAP node, not NULL), or NULL. */
hone_node_t *hone_node_find(const hone_node_t *map, const char *key);

/* ---- messages (msg.c) ---- */

struct _hone_msg_t {
    hone_arena_t arena;     /* owns the body tree and this struct (in its oldest chunk) */
    hone_node_t *body;      /* the body map */
    uint64_t seq;           /* echoed by the reply */
    hone_msg_id_t id;       /* never HONE_MSG_INVALID */
};

/* Wire names by id, from HONE_MSG_MAP; NULL for HONE_MSG_INVALID. */
extern const char *const hone_msg_names[HONE_MSG_COUNT];

/* A message (no body yet) whose first chunk holds the struct and `room` more bytes;
 * NULL on allocation failure. */
hone_msg_t *hone_msg_alloc(hone_msg_id_t id, size_t room);

#endif
