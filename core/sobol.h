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
 * plain sequence (first point all zeros, identical to scipy.stats.qmc.Sobol(dim,
 * scramble=False)) is produced and seed is ignored. With scramble true the LMS matrices
 * and shifts are drawn from hone_rng_seed(seed) in the order documented in sobol.c;
 * pass a derived seed (hone_rng_derive) to keep purposes apart. Only the first dim
 * rows of the direction-number table are read; the generator holds about
 * 128·dim bytes. Returns NULL if dim is out of range; aborts on out of memory. */
hone_sobol_t *hone_sobol_new(uint32_t dim, bool scramble, uint64_t seed);
/* Frees the generator and sets *self_p to NULL; a NULL *self_p is a no-op. */
void hone_sobol_destroy(hone_sobol_t **self_p);

/* Writes the next n points, row-major (point i at out[i*dim .. i*dim+dim-1]), each
 * coordinate a multiple of 2^-30 in [0, 1). out must hold n*dim doubles (it may be
 * NULL when n is 0). Does not allocate.
 * Returns HONE_OK, or HONE_EEXHAUSTED if the count would pass 2^30 points; then
 * nothing is written and the state is unchanged. */
int hone_sobol_next(hone_sobol_t *self, size_t n, double *out);
/* Skips n points, leaving exactly the state that drawing and discarding them would;
 * O(30·dim) whatever n is, allocation-free.
 * Returns HONE_OK, or HONE_EEXHAUSTED (state unchanged) if the count would pass 2^30. */
int hone_sobol_skip(hone_sobol_t *self, uint64_t n);
/* Number of points drawn or skipped so far. */
uint64_t hone_sobol_count(const hone_sobol_t *self);
/* The dimension given to hone_sobol_new. */
uint32_t hone_sobol_dim(const hone_sobol_t *self);

/* A generator is not thread-safe; separate generators may be used from separate
 * threads (they share only the constant direction-number table). */

#endif
