/* sobol.h: scrambled Sobol sequences (Joe–Kuo direction numbers, new-joe-kuo-6.21201).
 *
 * Scrambling is LMS (a random lower-triangular bit matrix with unit diagonal per
 * dimension) plus a digital shift, as in torch's SobolEngine and scipy's qmc.Sobol;
 * points come in Gray-code order (Antonov–Saleev). The scrambling draws come from
 * hone_rng (splitmix64-seeded xoshiro256**) consumed in a fixed documented order,
 * so a (dim, seed) pair gives the same points bit for bit on every machine.
 * See reference/bo-numerics.md §4. */
#ifndef HONE_SOBOL_H
#define HONE_SOBOL_H

#include "hone_prelude.h"

#define HONE_SOBOL_MAXDIM 21201
#define HONE_SOBOL_MAXBIT 30

typedef struct _hone_sobol_t hone_sobol_t;

/* Creates a generator of dimension dim (1..HONE_SOBOL_MAXDIM). With scramble false the
 * plain sequence (first point all zeros) is produced and seed is ignored.
 * Returns NULL if dim is out of range. */
hone_sobol_t *hone_sobol_new(uint32_t dim, bool scramble, uint64_t seed);
void hone_sobol_destroy(hone_sobol_t **self_p);

/* Writes the next n points, row-major (point i at out[i*dim .. i*dim+dim-1]), each
 * coordinate in [0, 1). Fails with HONE_EEXHAUSTED after 2^30 points. */
int hone_sobol_next(hone_sobol_t *self, size_t n, double *out);
/* Skips n points (as if drawn and discarded); O(n·dim) but allocation-free. */
int hone_sobol_skip(hone_sobol_t *self, uint64_t n);
/* Number of points drawn or skipped so far. */
uint64_t hone_sobol_count(const hone_sobol_t *self);
uint32_t hone_sobol_dim(const hone_sobol_t *self);

#endif
