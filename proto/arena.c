/* arena.c: the arena that holds a tree of nodes (and a message's struct): a list of
 * malloc'd chunks, bump-allocated and freed together (see msg_internal.h for the
 * memory layout). Never aborts on allocation failure: the worker SDK links this file. */
#include "msg_internal.h"

#include <stdlib.h>

#define S_CHUNK_HEAD HONE_ARENA_ROUND(sizeof(hone_arena_chunk_t))
#define S_MAX_CHUNK ((size_t) 64 << 10)   /* growth stops doubling here */

hone_arena_chunk_t *hone_arena_chunk_new(size_t size, hone_arena_chunk_t *next)
{
    hone_arena_chunk_t *chunk = malloc(S_CHUNK_HEAD + size);
    if (chunk) {
        chunk->next = next;
        chunk->size = size;
        chunk->used = 0;
    }
    return chunk;
}

void *hone_arena_chunk_take(hone_arena_chunk_t *chunk, size_t n)
{
    void *p = (char *) chunk + S_CHUNK_HEAD + chunk->used;
    chunk->used += HONE_ARENA_ROUND(n);
    return p;
}

void *hone_arena_alloc(hone_arena_t *arena, size_t n)
{
    if (n > SIZE_MAX / 4)
        return NULL;
    n = HONE_ARENA_ROUND(n);
    hone_arena_chunk_t *chunk = arena->head;
    if (chunk->size - chunk->used < n) {
        /* a decoded tree's only chunk is full and may be large: grow from its size,
         * within bounds, so that adding one field to it stays cheap */
        size_t size = chunk->size < HONE_ARENA_FIRST_CHUNK ? HONE_ARENA_FIRST_CHUNK : chunk->size;
        size = size < S_MAX_CHUNK / 2 ? 2 * size : S_MAX_CHUNK;
        if (size < n)
            size = n;
        chunk = hone_arena_chunk_new(size, arena->head);
        if (!chunk)
            return NULL;
        arena->head = chunk;
    }
    return hone_arena_chunk_take(chunk, n);
}

/* Frees every chunk; the arena struct itself may live in the oldest one. */
void hone_arena_free(hone_arena_t *arena)
{
    hone_arena_chunk_t *chunk = arena->head;
    while (chunk) {
        hone_arena_chunk_t *next = chunk->next;
        free(chunk);
        chunk = next;
    }
}

char *hone_arena_strndup(hone_arena_t *arena, const char *s, size_t n)
{
    char *copy = hone_arena_alloc(arena, n + 1);
    if (copy) {
        if (n)
            memcpy(copy, s, n);
        copy[n] = '\0';
    }
    return copy;
}
