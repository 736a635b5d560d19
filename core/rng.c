/* rng.c: splitmix64 and xoshiro256** (Vigna), with seeding, stream derivation,
 * uniform doubles and unbiased bounded integers.
 *
 * Algorithms from S. Vigna's public descriptions (https://prng.di.unimi.it/):
 * splitmix64 is Steele, Lea and Flood's SplitMix with Stafford's "Mix13" finalizer;
 * xoshiro256** is Blackman and Vigna's generator. The constants below are part of
 * hone's reproducibility contract: changing any of them changes every seeded result. */
#include "rng.h"

/* Weyl increment of splitmix64 (2^64 / golden ratio, odd). */
#define S_SPLITMIX_GAMMA UINT64_C(0x9e3779b97f4a7c15)
/* Odd multiplier spreading the purpose before it is mixed with the seed; different
 * from the splitmix64 constants so that derive(seed, k) is not simply the k-th
 * output of a splitmix64 stream started at seed. */
#define S_DERIVE_MULT UINT64_C(0xd1b54a32d192ed03)

static inline uint64_t s_rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t hone_rng_splitmix64(uint64_t *state)
{
    HONE_ASSERT(state);
    uint64_t z = (*state += S_SPLITMIX_GAMMA);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t hone_rng_derive(uint64_t seed, uint64_t purpose)
{
    /* One splitmix64 step from seed ^ (purpose * S_DERIVE_MULT). With a plain
     * seed ^ purpose, small seeds and purposes would collide (3 ^ 1 == 0 ^ 2: seed 3's
     * purpose 1 would be seed 0's purpose 2); the odd multiplier spreads purposes
     * over all 64 bits. The multiplication is a bijection and so is splitmix64's
     * step, so distinct purposes of one seed always give distinct derived seeds. */
    uint64_t state = seed ^ (purpose * S_DERIVE_MULT);
    return hone_rng_splitmix64(&state);
}

void hone_rng_seed(hone_rng_t *self, uint64_t seed)
{
    HONE_ASSERT(self);
    /* Four consecutive splitmix64 outputs. The finalizer is a bijection, so at most
     * one of the four states maps to zero and the xoshiro state is never all zero. */
    uint64_t state = seed;
    for (int i = 0; i < 4; i++)
        self->s[i] = hone_rng_splitmix64(&state);
}

uint64_t hone_rng_next(hone_rng_t *self)
{
    uint64_t *s = self->s;
    uint64_t result = s_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s_rotl(s[3], 45);
    return result;
}

double hone_rng_uniform(hone_rng_t *self)
{
    /* The top 53 bits, scaled by 2^-53: every multiple of 2^-53 in [0, 1) equally likely. */
    return (double) (hone_rng_next(self) >> 11) * 0x1.0p-53;
}

uint64_t hone_rng_below(hone_rng_t *self, uint64_t n)
{
    HONE_ASSERT(n > 0);
    /* Rejection: accept r only when r >= 2^64 mod n, so the accepted range holds a
     * whole number of copies of [0, n). Fewer than half the draws are rejected in
     * the worst case (n just above 2^63), almost none for small n. */
    uint64_t threshold = (0 - n) % n;
    for (;;) {
        uint64_t r = hone_rng_next(self);
        if (r >= threshold)
            return r % n;
    }
}
