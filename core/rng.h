/* rng.h: a seeded, reproducible random number generator (no global rand()).
 *
 * xoshiro256** seeded through splitmix64 (Vigna). Streams for separate purposes are
 * derived as hone_rng_seed(&r, hone_rng_derive(seed, purpose)) so that adding draws
 * to one purpose never shifts another. The state is a plain struct so it can live on
 * the stack or inside another object without allocation. */
#ifndef HONE_RNG_H
#define HONE_RNG_H

#include "hone_prelude.h"

typedef struct hone_rng {
    uint64_t s[4];   /* xoshiro256** state; never all zero */
} hone_rng_t;

/* Purposes for hone_rng_derive, fixed forever so that seeds stay reproducible. */
enum {
    HONE_RNG_SOBOL_INIT = 1,     /* scrambling of the initialization Sobol sequence */
    HONE_RNG_SOBOL_RAW = 2,      /* acquisition raw samples */
    HONE_RNG_MC_BASE = 3,        /* Monte-Carlo base samples */
    HONE_RNG_BOLTZMANN = 4,      /* restart selection */
    HONE_RNG_POLYTOPE = 5,       /* constrained sampling */
};

uint64_t hone_rng_splitmix64(uint64_t *state);
uint64_t hone_rng_derive(uint64_t seed, uint64_t purpose);
void hone_rng_seed(hone_rng_t *self, uint64_t seed);
uint64_t hone_rng_next(hone_rng_t *self);           /* 64 uniform bits */
double hone_rng_uniform(hone_rng_t *self);          /* [0, 1) with 53 bits */
uint64_t hone_rng_below(hone_rng_t *self, uint64_t n);  /* uniform in [0, n), unbiased; n > 0 */

#endif
