/* acqf_impl.h: the common head of every acquisition object, shared by the files that
 * implement acquisition types (acqf_*.c) and the optimizer (acqf_opt.c). Every
 * acquisition embeds it as its first member, which is how the generic calls of acqf.h
 * reach the object's type table. Not for the callers of acqf.h. */
#ifndef HONE_ACQF_IMPL_H
#define HONE_ACQF_IMPL_H

#include "acqf.h"

/* The common head of every acquisition object. */
struct _hone_acqf_t {
    const hone_acqf_type_t *type;   /* the table whose create made this object */
    size_t d;                       /* input dimension (the model's) */
};

#endif
