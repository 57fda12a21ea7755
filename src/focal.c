/* SPDX-License-Identifier: MIT */
/*
 * The library's version and its error strings.
 */
#include <stdint.h>

#include "focal/focal.h"
#include "isa_list.h"

/* " scalar avx2 ...": every kernel name of the list. */
#define FOCAL_ISA_NAME(id, name, built) " " name
#define FOCAL_ISA_NAMES FOCAL_ISA_LIST(FOCAL_ISA_NAME)

#define FOCAL_STR_(x) #x
#define FOCAL_STR(x) FOCAL_STR_(x)

FOCAL_API uint32_t focal_version(void)
{
    return FOCAL_VERSION_NUMBER;
}

FOCAL_API const char *focal_version_string(void)
{
    return FOCAL_STR(FOCAL_VERSION_MAJOR) "." FOCAL_STR(FOCAL_VERSION_MINOR) "." FOCAL_STR(FOCAL_VERSION_PATCH);
}

FOCAL_API const char *focal_strerror(int code)
{
    switch (code) {
    case FOCAL_OK: return "success";
    case FOCAL_ENULL: return "logits or targets is NULL while n > 0, or focal_options_init_sized got opt NULL";
    case FOCAL_ENOOUTPUT: return "loss and grad are both NULL: nothing to compute";
    case FOCAL_EALPHA: return "alpha must be <= 1 (or < 0 to disable balancing), not NaN";
    case FOCAL_EGAMMA: return "gamma must be finite and >= 0";
    case FOCAL_EREDUCTION: return "reduction must be FOCAL_REDUCTION_NONE, _SUM or _MEAN";
    case FOCAL_EOVERLAP: return "an output buffer overlaps an input or the other output (only grad == logits is allowed)";
    case FOCAL_ETARGET:
        return "a target is NaN or outside its range ([0, 1]; distribution focal: "
               "[0, bins - 1))";
    case FOCAL_ESIZE: return "n is too large: n * sizeof(float) overflows size_t";
    case FOCAL_EISA_UNKNOWN: return "unknown kernel name (expected one of:" FOCAL_ISA_NAMES " auto)";
    case FOCAL_EISA_UNSUPPORTED: return "that kernel is not supported by this CPU or not built into this library";
    case FOCAL_ETHREADS: return "the thread count must be >= 0 (0: the default)";
    case FOCAL_EOPTIONS: return "focal_options: size of no released struct, unknown non-zero fields past it (use focal_options_init or focal_options_init_sized), or a field this loss does not use is set";
    case FOCAL_ENORMALIZER: return "normalizer must be finite and >= 0 (0: the default divisor)";
    case FOCAL_ESMOOTHING: return "label_smoothing must be in [0, 1)";
    case FOCAL_ELABEL: return "a label is greater than the number of classes (== classes is background for the sigmoid losses, an error for softmax; < 0 ignored)";
    case FOCAL_EPOSWEIGHT: return "pos_weight values must be finite and >= 0";
    case FOCAL_EBOXLOSS: return "unknown box loss (FOCAL_BOX_*) or convention (FOCAL_BOXES_*)";
    case FOCAL_EEPS: return "eps must be finite and >= 0";
    case FOCAL_EBETA: return "beta must be finite and >= 0 (0: L1)";
    default: return "unknown error code";
    }
}
