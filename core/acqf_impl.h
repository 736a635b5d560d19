/* acqf_impl.h: what the files that implement acquisition types (acqf_*.c), the
 * optimizer (acqf_opt.c) and the tests share about an acquisition object. Internal to
 * the core: never installed, not for the callers of acqf.h.
 *
 * LOCAL WORKAROUND (to be folded into acqf.h by its owner): acqf.h declares the type
 * table but no way for hone_acqf_optimize to reach the table of an acquisition it is
 * given, nor generic eval/destroy calls. Every acquisition object therefore starts with
 * the struct below (implementations embed it as their first member and cast), and the
 * generic calls and the optional penalized LogEI type are declared here. */
#ifndef HONE_ACQF_IMPL_H
#define HONE_ACQF_IMPL_H

#include "acqf.h"

/* The common head of every acquisition object. */
struct _hone_acqf_t {
    const hone_acqf_type_t *type;   /* the table whose create made this object */
    size_t d;                       /* input dimension (the model's) */
};

/* type->create(ctx); NULL on failure. */
hone_acqf_t *hone_acqf_new(const hone_acqf_type_t *type, const hone_acqf_context_t *ctx);
/* Destroys through the object's own table; *self_p becomes NULL; NULL is a no-op. */
void hone_acqf_destroy(hone_acqf_t **self_p);
/* The type table and the input dimension of an acquisition. */
const hone_acqf_type_t *hone_acqf_type_of(const hone_acqf_t *self);
size_t hone_acqf_dim(const hone_acqf_t *self);
/* Forwarders to the object's table (same contract as hone_acqf_type's eval and
 * eval_grad). */
int hone_acqf_eval(hone_acqf_t *self, size_t m, const double *x, double *value);
int hone_acqf_eval_grad(hone_acqf_t *self, const double *x, double *value, double *grad);

/* LogEI with a local penalty around the pending points (a hone heuristic, not BoTorch):
 *     LogEI(x) + Σ_p log(1 − exp(−½·Σ_a ((x_a − p_a)/ℓ_a)²)),
 * with ℓ the model's lengthscales: −inf at a pending point, −0.93 one lengthscale away,
 * −0.01 at three. Identical to hone_acqf_logei without pending points. Name
 * "logei_penalized". */
extern const hone_acqf_type_t hone_acqf_logei_penalized;

#endif
