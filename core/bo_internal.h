/* bo_internal.h: the generator's struct and what its files share. The generator is one
 * noun split over two files (bo.c: the object, the step's acquisition (hone_bo_suggest,
 * hone_bo_fit_step) and the model for predictions and LOO; bo_data.c: the observations,
 * Ax's output transforms and the refit/append/refresh paths that bring them to the GP),
 * and both reach the same fields; this header is their only seam. Not installed and not
 * part of the bo.h contract; nothing here is exported. bo_goals.c does not include it:
 * it needs only bo.h. */
#ifndef HONE_BO_INTERNAL_H
#define HONE_BO_INTERNAL_H

#include "bo.h"

#include "encode.h"
#include "gp.h"
#include "warp.h"

/* Fixed noise stands for "noiseless" where a SEM is missing among known SEMs. */
#define HONE_BO_NOISELESS_VAR 1e-6


struct _hone_bo_t {
    const hone_space_t *space;  /* borrowed */
    const hone_constraint_set_t *constraints; /* borrowed parameter constraints, or NULL */
    hone_encoding_t *enc;       /* parameters ↔ features (and the constraints in features) */
    size_t dim;                 /* features */
    hone_kernel_kind_t kernel;  /* of the GP */
    hone_bo_acquisition_t acquisition;
    bool warping;               /* output warping in BO steps (warp.h) */
    hone_gp_t *gp;              /* kept between steps: its hyperparameters warm-start the next fit */
    size_t fitted_n;            /* observations at the last hyperparameter fit (0: none yet) */
    double *x;                  /* observed features, n × dim, in the GP's order */
    double *y;                  /* observed standardized targets, in the GP's order */
    double *yvar;               /* observed standardized noise variances, or unused */
    double *obs_raw;            /* sign·metric of each observation as read (before winsorizing) */
    double *obs_sem;            /* SEM of each observation as read (NAN: unknown) */
    uint32_t *obs_trial;        /* trial index of each observation, in the GP's order */
    double *mean;               /* scratch: posterior means at observed points */
    double *var;                /* scratch: posterior variances */
    double *excluded;           /* features of every existing arm, n × dim */
    double *pending;            /* features of running trials */
    uint32_t *cur_trial;        /* scratch: this step's observations, in trial order */
    size_t *cur_arm;            /* scratch: their rows in excluded */
    size_t *cur_new;            /* scratch: indices in cur_* of the observations to append */
    double *cur_raw, *cur_sem;  /* scratch: their sign·metric and SEM */
    uint32_t *pos;              /* scratch, by trial index: position in the GP, or S_NONE */
    size_t cap;                 /* capacity of the per-trial buffers, in trials */
    size_t n_obs;               /* observations of the last encoding (the GP's leading points) */
    bool fixed_noise;           /* of the last encoding */
    double sign;                /* +1 maximize, −1 minimize: internal y = sign·metric */
    uint32_t metric;            /* objective metric of the last encoding */
    double *weights;            /* or its scalarization's weights (n_weights, owned) */
    size_t n_weights;           /* 0: the single metric above */
    double y_mean, y_std;       /* standardization: y = sign·metric = y_mean + y_std·ỹ */
    bool warped;                /* the last encoding warped the objective (warp below) */
    hone_warp_t warp;           /* output warping of the last encoding, if warped */
    double fence;               /* winsorization cut-off of the warped sign·metric (−inf: none) */
    bool held;                  /* the GP's first n_obs points are x, y, yvar, factorized with
                                 * the constants above (appends may continue from it) */
    bool model_ready;           /* the GP is the model of the last hone_bo_fit_model data */
};

/* ---- bo_data.c: the observations and how they reach the GP ---- */

/* Whether trial t is an observation of in's objective (COMPLETED or EARLY_STOPPED, with
 * the latest reading of every metric it reads); if so, writes that reading's value and
 * SEM (NAN: unknown) to *mean and *sem, each of which may be NULL. */
bool hone_bo_observation(const hone_trial_t *t, const hone_bo_input_t *in, double *mean, double *sem);
/* Encodes in's trials and brings the GP to the model of the observations, by the refit
 * schedule when `schedule` (a BO step), by a full fit otherwise (hone_bo_fit_model).
 * Counts of pending points and excluded arms go to *n_pend_out, *n_excl_out, the step's
 * statistics to *st. Returns HONE_OK, HONE_EDATA (no observation) or HONE_ENUMERIC. */
int hone_bo_encode_fit(hone_bo_t *self, const hone_bo_input_t *in, bool schedule,
                       size_t *n_pend_out, size_t *n_excl_out, hone_bo_stats_t *st,
                       hone_error_t *err);

#endif
