/* acqf.c: the generic calls on an acquisition object: every object starts with the
 * common head of acqf_impl.h, which names its type table. */
#include "acqf_impl.h"

hone_acqf_t *hone_acqf_new(const hone_acqf_type_t *type, const hone_acqf_context_t *ctx)
{
    HONE_ASSERT(type && type->create);
    hone_acqf_t *self = type->create(ctx);
    HONE_ASSERT(!self || self->type == type);
    return self;
}

void hone_acqf_destroy(hone_acqf_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    (*self_p)->type->destroy(self_p);
    *self_p = NULL;
}

const hone_acqf_type_t *hone_acqf_type_of(const hone_acqf_t *self)
{
    HONE_ASSERT(self);
    return self->type;
}

size_t hone_acqf_dim(const hone_acqf_t *self)
{
    HONE_ASSERT(self);
    return self->d;
}

int hone_acqf_eval(hone_acqf_t *self, size_t m, const double *x, double *value)
{
    HONE_ASSERT(self);
    return self->type->eval(self, m, x, value);
}

int hone_acqf_eval_grad(hone_acqf_t *self, const double *x, double *value, double *grad)
{
    HONE_ASSERT(self);
    return self->type->eval_grad(self, x, value, grad);
}
