/* pareto.h: the geometry of multi-objective optimization: the Pareto filter, the
 * hypervolume and each point's exclusive contribution, the box decomposition of the
 * non-dominated region that the hypervolume-improvement acquisitions (qLogNEHVI,
 * analytic EHVI) evaluate, and the inferred reference point (Ax/BoTorch). Internal to
 * core: not installed.
 *
 * Conventions. Everything is in MAXIMIZATION form: the caller negates minimized
 * objectives (and their thresholds) first. Points are n rows of m doubles, row-major
 * (y[i*m + j] is objective j of point i). A point a dominates b when a_j >= b_j for
 * every j and a != b; a weakly dominates b when a_j >= b_j for every j. A row with a NaN
 * anywhere is never on a front, never dominates and adds no volume (an unobserved
 * metric); other values should be finite. A reference point r must be finite; a point
 * counts for the hypervolume, the contributions and the decomposition only when it is
 * strictly better than r in every objective (y_j > r_j for all j), as in BoTorch (its
 * other points add no volume anyway).
 *
 * Allocation and threads. Functions that allocate do it once per call, for scratch
 * proportional to n (core policy: abort on out-of-memory), never inside their loops.
 * hone_cells_hvi, the per-sample call of the acquisitions, never allocates. Every
 * function is pure apart from its output arguments; different objects may be used from
 * different threads, and const calls may share one hone_cells_t.
 *
 * Algorithms (k = number of front points, m = objectives; see each function):
 *   filter        lexicographic sort, then each point against the front kept so far:
 *                 O(n log n) for m <= 2, O(n log n + n·k·m) otherwise.
 *   hypervolume   m = 2: sweep, O(n log n). m = 3: sweep on y3 over a 2-D staircase
 *                 (HV3D-like), O(k log k) comparisons plus O(k²) worst-case word moves
 *                 (array insertions; about 70 µs in all for k = 200). m >= 4: slicing
 *                 on the last objective down to the m = 3 sweep (HSO), O(k^(m-2) log k):
 *                 m = 4 is O(k² log k); meant for m <= 5 and moderate k.
 *   contributions exclusive volume of p = vol[r, p] − HV({min(p, q) : q ≠ p}) (the WFG
 *                 "limit set"), one hypervolume of a set whose front is usually small,
 *                 per front point.
 *   cells         m = 2: the k + 1 strips of the staircase. m = 3: one sweep on y3; each
 *                 insertion into the 2-D staircase closes the cells it cuts and opens
 *                 two, so at most 2k + 1 cells (linear, as Lacour et al.'s), O(k log k)
 *                 comparisons plus O(k²) word moves. m >= 4: a sweep on y_m whose
 *                 cross-sections are (m−1)-D decompositions; a cell that is the same in
 *                 consecutive cross-sections is extended rather than cut. m = 4:
 *                 O(k² log k) time, O(k²) cells at most, about 6k measured on random
 *                 fronts (Lacour et al.'s bound is O(k^⌊m/2⌋) = O(k²)).
 *   hvi           O(ncell·m) per point, no allocation, gradient included.
 */
#ifndef HONE_PARETO_H
#define HONE_PARETO_H

#include "err.h"

/* ---- Pareto filter ------------------------------------------------------------ */

/* True when a dominates b (a_j >= b_j for all j, a != b). NaN anywhere gives false.
 * O(m). */
bool hone_pareto_dominates(const double *a, const double *b, size_t m);

/* The non-dominated points of y (n x m). Writes their indices to idx_out (capacity n)
 * in increasing order and returns how many. Rows with a NaN are left out; with ref not
 * NULL, so are rows not strictly better than ref in every objective. Identical rows:
 * with keep_duplicates false only the first (lowest index) is kept, as BoTorch's
 * is_non_dominated(deduplicate=True) (the default Ax uses); with true all copies are
 * kept. Allocates O(n) scratch once. O(n log n) for m <= 2, O(n log n + n·k·m)
 * otherwise (k = size of the front). Can't fail (aborts on out-of-memory). */
size_t hone_pareto_front(const double *y, size_t n, size_t m, const double *ref,
                         bool keep_duplicates, size_t *idx_out);

/* ---- Hypervolume -------------------------------------------------------------- */

/* The volume of the region {z : r <= z, z weakly dominated by some y_i}, i.e. of the
 * union of the boxes [r, y_i] (y_i strictly better than r; other rows and dominated
 * rows add nothing). 0 when no row counts. Exact for every m >= 1; cost in the header
 * comment (m = 2: O(n log n); m = 3: sweep; m = 4: O(k² log k)). Allocates O(n·m)
 * scratch once. Can't fail. */
double hone_pareto_hypervolume(const double *y, size_t n, size_t m, const double *ref);

/* The exclusive hypervolume contribution of every row, contrib_out[i] =
 * HV(all rows) − HV(all rows but i), computed directly (no cancellation between two
 * large volumes). 0 for rows that are dominated, duplicated (each copy covers the
 * other), NaN, or not strictly better than ref. Sorting the front by decreasing
 * contribution gives Ax's get_pareto_frontier order (reference/ax-client-behaviour.md
 * §6.2). Allocates O(n·m) scratch once. O(k·(n log n + n·k'·m + HV of the limit set)),
 * k' the size of the limit set's front, usually small. Can't fail. */
void hone_pareto_contributions(const double *y, size_t n, size_t m, const double *ref,
                               double *contrib_out);

/* ---- Reference point ---------------------------------------------------------- */

/* The reference point (objective thresholds) Ax infers when the user gave none
 * (reference/bo-numerics.md §2.5; Ax infer_objective_thresholds → BoTorch
 * infer_reference_point with scale 0.1):
 *   P = the Pareto set of the rows of y (deduplicated; NaN rows dropped). The caller
 *       passes what Ax passes: the posterior means at the observed points, the ones
 *       infeasible for the outcome constraints removed, maximization-aligned.
 *   |P| = 1:  ref = p − 0.1·max(|p|, 1e-7)
 *   |P| >= 2: ref = nadir − 0.1·max(ideal − nadir, 1e-7), nadir/ideal = min/max over P.
 * max_ref (nullable, m values, NaN = not given) carries the thresholds the user did
 * give, as BoTorch's max_ref_point: when every threshold is given and some p in P is
 * strictly better than all of them, ref = max_ref; with some given, the nadir of the
 * |P| >= 2 rule is first capped at them, and when some p in P is strictly better than
 * the given ones those coordinates of ref are the given thresholds. With no point of
 * P better than them, the thresholds only cap the nadir (BoTorch's behaviour, kept).
 * Writes m values to ref_out.
 * Errors: HONE_EINVAL when P is empty (n = 0 or every row has a NaN) and max_ref is
 * NULL or has a NaN (BoTorch: "Empty pareto set and no max ref point provided"); with
 * P empty and max_ref complete, ref = max_ref. Ax raises earlier when no observed point
 * is feasible; that check is the caller's. Allocates O(n) scratch once. */
int hone_pareto_infer_ref(const double *y, size_t n, size_t m, const double *max_ref,
                          double *ref_out, hone_error_t *err);

/* ---- Box decomposition of the non-dominated region ---------------------------- */

/* Disjoint axis-aligned boxes ("cells") whose union is the region a new point can
 * still improve: N(P, r) = {z : z_j >= r_j for all j, and no point of P weakly
 * dominates z}, P the front of the rows strictly better than r. Its volume is infinite,
 * so cells reaching the top of an objective have hi = +INFINITY there.
 *
 * Cell c is the box [lo_c, hi_c] with lo_c = lo[c*m .. c*m+m-1] and hi_c likewise:
 *   - r_j <= lo_cj < hi_cj <= +inf; lo is always finite, hi is finite or +INFINITY;
 *   - every cell has positive volume, interiors are pairwise disjoint, and the union of
 *     the cells is the closure of N(P, r);
 *   - every lo_cj and finite hi_cj is a coordinate of r or of a point of P.
 * So for any y the hypervolume improvement is
 *     HVI(y) = HV(P ∪ {y}) − HV(P) = Σ_c Π_j max(0, min(y_j, hi_cj) − lo_cj)
 * (no max with r_j is needed: lo_c >= r). This is the region and formula of BoTorch's
 * FastNondominatedPartitioning.get_hypercell_bounds() in maximization (its row 0 = lo,
 * row 1 = hi; empty P gives the one cell [r, +inf)), though the cells themselves are
 * cut differently and their number differs. For qLogNEHVI's smoothed version the
 * acquisition clamps hi at 1e10 (reference/bo-numerics.md §2.4) before taking
 * hi − lo; hone_cells_hvi needs no clamp.
 *
 * Cell counts (k points in P): m = 1: 1; m = 2: k + 1; m = 3: at most 2k + 1; m = 4:
 * O(k²) at most, 561 cells for k = 100 and 1231 for k = 200 points spread on the unit
 * sphere (bench/bench_pareto.c).
 * Thread rules: a hone_cells_t is not synchronized; hone_cells_hvi may run
 * concurrently on one object. */
typedef struct hone_cells {
    size_t ncell;    /* number of cells */
    size_t m;        /* number of objectives */
    double *lo;      /* ncell x m, row-major: lower corners, finite, >= r */
    double *hi;      /* ncell x m, row-major: upper corners, > lo, may be +INFINITY */
    size_t cap;      /* rows allocated in lo and hi (>= ncell) */
} hone_cells_t;

/* An empty decomposition for m >= 1 objectives (ncell = 0). Aborts on out-of-memory. */
hone_cells_t *hone_cells_new(size_t m);
/* Frees self and sets *self_p to NULL; safe on NULL and twice. */
void hone_cells_destroy(hone_cells_t **self_p);

/* Replaces the cells of self by the decomposition of N(P, r) for the rows of y
 * (n x self->m; any rows: the front is extracted here, deduplicated, NaN rows and rows
 * not strictly better than ref dropped). ref: self->m finite values (asserted). The
 * arrays of self are reused and grown by doubling, so refilling one object (say one per
 * MC sample, at each preparation of the acquisition) reallocates them only when the
 * decomposition outgrows them; the call itself allocates O(k·m) scratch once. Time:
 * m = 2 O(n log n); m = 3 O(n log n) plus O(k²) word moves; m = 4 O(n log n + k² log k);
 * in general one (m−1)-D decomposition per distinct value of y_m on the front. Can't
 * fail (aborts on out-of-memory). */
void hone_cells_decompose(hone_cells_t *self, const double *y, size_t n, const double *ref);

/* HVI(y) = Σ_c Π_j max(0, min(y_j, hi_cj) − lo_cj), the hypervolume improvement of y
 * over the decomposed front (above). When grad is not NULL it receives the m partial
 * derivatives, ∂HVI/∂y_j = Σ over the cells with lo_cj < y_j < hi_cj and positive
 * volume of Π_{l≠j} (min(y_l, hi_cl) − lo_cl) (a subgradient on cell faces). A y with
 * a NaN gives 0. O(ncell·m); never allocates; can't fail. */
double hone_cells_hvi(const hone_cells_t *self, const double *y, double *grad);

/* ---- Shared by pareto.c and pareto_cells.c (not part of the module's API) ----- */

/* Sorts idx[0..n) so that y[i*m + key] decreases, ties broken by the coordinates
 * 0..m-1 in decreasing (lexicographic) order, then by increasing index: a stable,
 * deterministic merge sort; tmp has room for n indices. */
void hone_pareto_sort(size_t *idx, size_t n, size_t *tmp, const double *y, size_t m,
                      size_t key);
/* Inserts index i into idx[0..*n) kept in hone_pareto_sort's order; idx has room for
 * one more. O(log n) comparisons and one memmove. */
void hone_pareto_insert(size_t *idx, size_t *n, size_t i, const double *y, size_t m,
                        size_t key);

#endif
