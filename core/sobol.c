/* sobol.c: Sobol sequences with Joe-Kuo direction numbers, optional LMS scrambling
 * plus digital shift, Gray-code (Antonov-Saleev) generation.
 *
 * Points are 30-bit integers x scaled by 2^-30. Point i of dimension j is
 *     x_i = shift_j ^ XOR over the set bits k of gray(i) = i ^ (i >> 1) of V_j[k],
 * which next() walks one Gray-code step at a time and skip() evaluates directly.
 * See reference/bo-numerics.md §4. */
#include "sobol.h"

#include "alloc.h"
#include "err.h"
#include "rng.h"

#include "sobol_dirnums.inc"

_Static_assert(sizeof s_sobol_poly / sizeof s_sobol_poly[0] == HONE_SOBOL_MAXDIM,
               "sobol_dirnums.inc does not match HONE_SOBOL_MAXDIM");
_Static_assert(HONE_SOBOL_MAXBIT == 30, "the scrambling draws assume 30 bits");

#define S_MAXN (UINT64_C(1) << HONE_SOBOL_MAXBIT)   /* points before exhaustion */

struct _hone_sobol_t {
    uint32_t dim;       /* coordinates per point, 1..HONE_SOBOL_MAXDIM */
    uint64_t count;     /* points drawn or skipped so far, at most S_MAXN */
    uint32_t *v;        /* direction integers (scrambled if asked), v[k * dim + j] */
    uint32_t *shift;    /* digital shift = point 0, per dimension; zero if unscrambled */
    uint32_t *x;        /* point number count as 30-bit integers (stale once exhausted) */
};

static inline uint32_t s_parity(uint32_t w)
{
#if defined(__GNUC__)
    return (uint32_t) __builtin_parity(w);
#else
    w ^= w >> 16;
    w ^= w >> 8;
    w ^= w >> 4;
    w ^= w >> 2;
    w ^= w >> 1;
    return w & 1u;
#endif
}

/* Reads width bits (at most 32) at bit position pos of the packed m-value stream. */
static uint32_t s_mbits_read(uint64_t pos, unsigned width)
{
    size_t word = (size_t) (pos >> 5);
    unsigned off = (unsigned) (pos & 31);
    uint64_t bits = s_sobol_mbits[word] >> off;
    if (off + width > 32)
        bits |= (uint64_t) s_sobol_mbits[word + 1] << (32 - off);
    return (uint32_t) (bits & ((UINT64_C(1) << width) - 1));
}

static unsigned s_degree(uint32_t poly)
{
    unsigned s = 0;
    while (poly >> (s + 1))
        s++;
    return s;
}

/* Fills v[k * dim + j], k = 0..29, for j = 0..dim-1, reading only those dimensions
 * of the table. m_k follows the Joe-Kuo recurrence (1-based k, degree s, poly
 * coefficients a_1..a_(s-1)):
 *     m_k = 2 a_1 m_(k-1) ^ 4 a_2 m_(k-2) ^ ... ^ 2^(s-1) a_(s-1) m_(k-s+1)
 *           ^ 2^s m_(k-s) ^ m_(k-s),
 * and v_k = m_k << (30 - k). Dimension 1 has every m_k = 1. */
static void s_direction_numbers(uint32_t *v, uint32_t dim)
{
    uint32_t m[HONE_SOBOL_MAXBIT];
    uint64_t pos = 0;   /* bit position of dimension j in s_sobol_mbits */
    for (uint32_t j = 0; j < dim; j++) {
        uint32_t poly = s_sobol_poly[j];
        unsigned s = s_degree(poly);
        if (j == 0) {
            for (unsigned k = 0; k < HONE_SOBOL_MAXBIT; k++)
                m[k] = 1;
        }
        else {
            /* 0-based: m[k] is m_(k+1); m[0] == 1 is implied by the encoding. */
            m[0] = 1;
            for (unsigned k = 1; k < s && k < HONE_SOBOL_MAXBIT; k++) {
                m[k] = 2 * s_mbits_read(pos, k) + 1;
                pos += k;
            }
            for (unsigned k = s; k < HONE_SOBOL_MAXBIT; k++) {
                uint32_t next = m[k - s] ^ (m[k - s] << s);
                for (unsigned i = 1; i < s; i++)
                    if ((poly >> (s - i)) & 1u)
                        next ^= m[k - i] << i;
                m[k] = next;
            }
        }
        for (unsigned k = 0; k < HONE_SOBOL_MAXBIT; k++)
            v[(size_t) k * dim + j] = m[k] << (HONE_SOBOL_MAXBIT - 1 - k);
    }
}

/* LMS scrambling plus digital shift, drawing from hone_rng seeded with seed.
 *
 * Order of the draws (part of the reproducibility contract, never change it):
 *   1. Shifts: for j = 0..dim-1, one hone_rng_next() each; shift_j is its top 30
 *      bits (r >> 34).
 *   2. LMS matrices: for j = 0..dim-1, for row p = 1..29 (row-major), one
 *      hone_rng_next() r per row. Digits are numbered from the most significant
 *      (p = 0 is 2^-1, integer bit 29); L_j is lower triangular with unit diagonal,
 *      and its entry L_j[p][q] for q < p is bit 63 - q of r. Row 0 is just the
 *      diagonal and consumes no draw.
 * Scrambled direction integer: digit p of V'_j[k] is parity(row_p(L_j) & V_j[k]).
 * Digit p of a scrambled point then depends only on digits 0..p of the unscrambled
 * one, through an invertible map, which keeps every (t, m, s)-net property. */
static void s_scramble(hone_sobol_t *self, uint64_t seed)
{
    const uint32_t dim = self->dim;
    hone_rng_t rng;
    hone_rng_seed(&rng, seed);
    for (uint32_t j = 0; j < dim; j++)
        self->shift[j] = (uint32_t) (hone_rng_next(&rng) >> (64 - HONE_SOBOL_MAXBIT));

    uint32_t row[HONE_SOBOL_MAXBIT];   /* row[p]: mask of the input bits feeding output digit p */
    for (uint32_t j = 0; j < dim; j++) {
        row[0] = UINT32_C(1) << (HONE_SOBOL_MAXBIT - 1);
        for (unsigned p = 1; p < HONE_SOBOL_MAXBIT; p++) {
            uint64_t r = hone_rng_next(&rng);
            /* top p bits of r, r's bit 63 - q landing on integer bit 29 - q */
            uint32_t below = (uint32_t) (r >> (64 - p)) << (HONE_SOBOL_MAXBIT - p);
            row[p] = below | (UINT32_C(1) << (HONE_SOBOL_MAXBIT - 1 - p));
        }
        for (unsigned k = 0; k < HONE_SOBOL_MAXBIT; k++) {
            uint32_t in = self->v[(size_t) k * dim + j];
            uint32_t out = 0;
            for (unsigned p = 0; p < HONE_SOBOL_MAXBIT; p++)
                out |= s_parity(row[p] & in) << (HONE_SOBOL_MAXBIT - 1 - p);
            self->v[(size_t) k * dim + j] = out;
        }
    }
}

/* Sets x to point number index (< S_MAXN) directly from the Gray code of index. */
static void s_seek(hone_sobol_t *self, uint64_t index)
{
    const uint32_t dim = self->dim;
    uint64_t gray = index ^ (index >> 1);
    memcpy(self->x, self->shift, (size_t) dim * sizeof *self->x);
    for (unsigned k = 0; gray; k++, gray >>= 1) {
        if (gray & 1u) {
            const uint32_t *vk = self->v + (size_t) k * dim;
            for (uint32_t j = 0; j < dim; j++)
                self->x[j] ^= vk[j];
        }
    }
}

hone_sobol_t *hone_sobol_new(uint32_t dim, bool scramble, uint64_t seed)
{
    if (dim < 1 || dim > HONE_SOBOL_MAXDIM)
        return NULL;
    hone_sobol_t *self = hone_alloc(sizeof *self);
    self->dim = dim;
    self->count = 0;
    /* one block: HONE_SOBOL_MAXBIT direction integers, the shift and the point */
    self->v = hone_alloc_array((size_t) dim * (HONE_SOBOL_MAXBIT + 2), sizeof *self->v);
    self->shift = self->v + (size_t) dim * HONE_SOBOL_MAXBIT;
    self->x = self->shift + dim;
    s_direction_numbers(self->v, dim);
    if (scramble)
        s_scramble(self, seed);
    memcpy(self->x, self->shift, (size_t) dim * sizeof *self->x);
    return self;
}

void hone_sobol_destroy(hone_sobol_t **self_p)
{
    HONE_ASSERT(self_p);
    hone_sobol_t *self = *self_p;
    if (!self)
        return;
    hone_free(self->v);
    hone_free(self);
    *self_p = NULL;
}

int hone_sobol_next(hone_sobol_t *self, size_t n, double *out)
{
    HONE_ASSERT(self);
    HONE_ASSERT(out || n == 0);
    if ((uint64_t) n > S_MAXN - self->count)
        return HONE_EEXHAUSTED;
    const uint32_t dim = self->dim;
    uint32_t *x = self->x;
    for (size_t i = 0; i < n; i++) {
        double *row = out + i * dim;
        for (uint32_t j = 0; j < dim; j++)
            row[j] = (double) x[j] * 0x1.0p-30;
        uint64_t index = self->count++;
        if (self->count == S_MAXN)
            break;   /* the last point: there is no next Gray-code step */
        /* Gray code: point index+1 differs from point index by V[c], c being the
         * rightmost zero bit of index. */
        unsigned c = 0;
        while ((index >> c) & 1u)
            c++;
        const uint32_t *vc = self->v + (size_t) c * dim;
        for (uint32_t j = 0; j < dim; j++)
            x[j] ^= vc[j];
    }
    return HONE_OK;
}

int hone_sobol_skip(hone_sobol_t *self, uint64_t n)
{
    HONE_ASSERT(self);
    if (n > S_MAXN - self->count)
        return HONE_EEXHAUSTED;
    if (n == 0)
        return HONE_OK;
    self->count += n;
    if (self->count < S_MAXN)
        s_seek(self, self->count);
    return HONE_OK;
}

uint64_t hone_sobol_count(const hone_sobol_t *self)
{
    HONE_ASSERT(self);
    return self->count;
}

uint32_t hone_sobol_dim(const hone_sobol_t *self)
{
    HONE_ASSERT(self);
    return self->dim;
}
