/* acqf_opt_internal.h: what the files of hone_acqf_optimize share. The optimizer is one
 * call split by stage over three files (acqf_opt.c: options, validation, per-call state,
 * restart selection and the driver; acqf_opt_continuous.c: feasibility, raw samples,
 * local runs and repair under the linear constraints; acqf_opt_discrete.c: grid
 * projection, neighbour moves and enumeration), and they all work on the same per-call
 * state; this header is their only seam. Not installed and not part of the acqf.h
 * contract; nothing here is exported. */
#ifndef HONE_ACQF_OPT_INTERNAL_H
#define HONE_ACQF_OPT_INTERNAL_H

#include "acqf_impl.h"

/* hone_acqf_space_t's kind[a]. */
enum {
    HONE_ACQF_OPT_KIND_CONT = 0,
    HONE_ACQF_OPT_KIND_ORDINAL = 1,
    HONE_ACQF_OPT_KIND_ONEHOT = 2
};

/* The state of one call, allocated once by s_opt_new in acqf_opt.c. */
typedef struct {
    hone_acqf_t *acqf;           /* being maximized */
    size_t d;                    /* dimension */
    const hone_acqf_space_t *space;   /* kinds, levels, groups, constraints */
    const double *excluded;      /* n_excluded × d */
    size_t n_excluded;
    int max_eval;                /* per local run */

    /* discrete structure */
    size_t n_cont;               /* continuous dimensions */
    size_t *cont;                /* their indices */
    size_t n_ord;                /* ordinal dimensions */
    size_t *ord;                 /* their indices */
    size_t n_groups;             /* one-hot groups */
    size_t *group_start;         /* group g has members member[group_start[g] .. group_start[g+1]) */
    size_t *member;              /* one-hot dimensions, grouped */

    /* the local run in progress: the variables are the dimensions in free[] */
    size_t n_free;               /* free dimensions */
    size_t *free;                /* their indices */
    double *x_full;              /* full point handed to the acquisition (d) */
    double *grad_full;           /* its gradient (d) */
    double *x_red;               /* the optimizer's variables (d) */
    double *lower;               /* 0 (d) */
    double *upper;               /* 1 (d) */
    double *a_red;               /* constraints restricted to the free dimensions (n_ineq × d) */
    double *b_red;               /* right-hand sides with the fixed dimensions moved over */
    double *x_start;             /* start of the run, for pulling back infeasible ends (d) */
    int eval_rc;                 /* first error of the acquisition in the run */

    /* neighbour moves */
    double *nbr;                 /* current point + neighbours, (1 + nbr_cap) × d */
    double *nbr_val;             /* their values */
    size_t nbr_cap;              /* neighbours at most */
    double *scratch;             /* one point (d) */
    double *rep_a;               /* constraints on the continuous dimensions (n_ineq × d) */
    double *rep_b;               /* their right-hand sides for the current discrete values */
} hone_acqf_opt_t;

/* The kind of dimension a (continuous when the space has no kinds). */
static inline int hone_acqf_opt_kind(const hone_acqf_space_t *space, size_t a)
{
    return space->kind ? space->kind[a] : HONE_ACQF_OPT_KIND_CONT;
}

/* ---- acqf_opt_continuous.c ---- */

/* True if A·x <= b holds (within 1e-8) and x is not within 1e-6 of an excluded point. */
bool hone_acqf_opt_acceptable(const hone_acqf_opt_t *o, const double *x);
/* L-BFGS (SLSQP with constraints) over the dimensions not marked in fixed (NULL: all). */
int hone_acqf_opt_local(hone_acqf_opt_t *o, double *x, const bool *fixed, int max_eval);
/* Makes x feasible through its continuous dimensions; false if nothing is left. */
bool hone_acqf_opt_repair(hone_acqf_opt_t *o, double *x);
/* Fills raw (R × d) with feasible points: Sobol points, infeasible ones replaced. */
int hone_acqf_opt_raw_samples(const hone_acqf_opt_t *o, size_t R, uint64_t seed, double *raw,
                              hone_error_t *err);

/* ---- acqf_opt_discrete.c ---- */

/* Projects x onto the grid: ordinals to the nearest level, one-hot groups by argmax. */
void hone_acqf_opt_project(const hone_acqf_opt_t *o, double *x);
/* Neighbour moves alternating with continuous polishes from x on the grid. */
int hone_acqf_opt_discrete_search(hone_acqf_opt_t *o, double *x, bool *fixed, double *value,
                                  bool *ok);
/* Number of grid points of the discrete dimensions (saturating at 2^53). */
double hone_acqf_opt_grid_size(const hone_acqf_opt_t *o);
/* Evaluates all count grid points of an all-discrete space; writes the best acceptable. */
int hone_acqf_opt_enumerate(hone_acqf_opt_t *o, size_t count, double *x_out, double *value_out,
                            hone_error_t *err);

#endif
