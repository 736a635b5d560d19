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
    HONE_RNG_GP_FIT = 6,         /* restarts of the GP fit from prior draws */
    HONE_RNG_ACQF = 7,           /* acquisition optimization of one BO step */
};

/* One splitmix64 step: advances *state by 0x9e3779b97f4a7c15 and returns the mixed
 * value. Cannot fail. */
uint64_t hone_rng_splitmix64(uint64_t *state);
/* Seed of the stream for purpose: the output of one splitmix64 step from the state
 * seed ^ (purpose * 0xd1b54a32d192ed03). Distinct purposes of one seed always give
 * distinct results. Frozen: changing it changes every seeded result. */
uint64_t hone_rng_derive(uint64_t seed, uint64_t purpose);
/* Sets the xoshiro256** state to four consecutive splitmix64 outputs from seed. */
void hone_rng_seed(hone_rng_t *self, uint64_t seed);
uint64_t hone_rng_next(hone_rng_t *self);           /* 64 uniform bits */
double hone_rng_uniform(hone_rng_t *self);          /* [0, 1), (next >> 11) * 2^-53 */
/* Uniform in [0, n), unbiased (rejection of the 2^64 mod n lowest values, then
 * modulo); n == 0 is a programming error and panics. */
uint64_t hone_rng_below(hone_rng_t *self, uint64_t n);

/* The functions are pure apart from the state they are given; a hone_rng_t must not
 * be shared between threads without external locking. */

#endif
