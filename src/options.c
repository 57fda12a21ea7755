/* SPDX-License-Identifier: MIT */
/*
 * focal_options, shared by every entry point that takes it: the released
 * layouts, the defaults (focal_options_init_sized and the symbol versions of
 * focal_options_init), the checks of the struct and of the per-row /
 * per-class arrays it points to, labels, and
 * the reduction's divisor and gradient scale (docs/DESIGN.md §2.2, §3).
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "entry.h"
#include "focal/focal.h"
#include "options.h"

/* The size of the struct that ends with `field`, padded as the compiler pads
 * it (a released layout's sizeof on every ABI, not only LP64). */
#define LAYOUT_END(field)                                                       \
    ((offsetof(focal_options, field) + sizeof(((focal_options *)0)->field) +   \
      _Alignof(focal_options) - 1) / _Alignof(focal_options) * _Alignof(focal_options))
#define FOCAL_OPTIONS_SIZE_1_1 LAYOUT_END(weight) /* 48 on LP64 */
#define FOCAL_OPTIONS_SIZE_1_2 LAYOUT_END(flags)  /* 64 on LP64 */

/* A field appended without a row below would make the newest layout a size
 * that no released program has, and its release would reach no test. */
_Static_assert(FOCAL_OPTIONS_SIZE_1_2 == sizeof(focal_options),
               "focal_options grew: add its release to options_layouts[] (docs/DESIGN.md, section 3)");

/* Every released layout of focal_options, smallest first: its size and the
 * release (FOCAL_VERSION_NUMBER) that introduced it. The one list of the
 * sizes the library accepts, read by focal_options_init_sized() and by
 * check_options() alike (docs/DESIGN.md §3). A release that appends fields
 * adds a row; rows are never removed or changed. */
static const struct {
    size_t size;
    uint32_t release;
} options_layouts[] = {
    { FOCAL_OPTIONS_SIZE_1_1, 0x010100 },
    { FOCAL_OPTIONS_SIZE_1_2, 0x010200 },
};
#define LAYOUTS (sizeof options_layouts / sizeof options_layouts[0])

/* An uninitialized struct has garbage in `size`: a size past any plausible
 * future struct is an error, not a reason to scan far into the stack. */
#define FOCAL_OPTIONS_MAX_SIZE 4096

/* A released layout, or a struct of a newer header (larger than every
 * layout we know, its unknown tail to be checked for zeros). */
static int size_accepted(size_t size)
{
    if (size > FOCAL_OPTIONS_MAX_SIZE)
        return 0;
    if (size > options_layouts[LAYOUTS - 1].size)
        return 1;
    for (size_t i = 0; i < LAYOUTS; i++)
        if (size == options_layouts[i].size)
            return 1;
    return 0;
}

/* Defaults in the first `size` bytes of *opt, nothing past them: every
 * field that fits, and zeros in whatever a newer header has past ours. */
static void options_init(focal_options *opt, size_t size)
{
    memset(opt, 0, size);
    opt->size = size;
    opt->alpha = 0.25f;
    opt->gamma = 2.0f;
    opt->reduction = FOCAL_REDUCTION_MEAN;
}

/* The caller says how many bytes its struct has (the extensible-struct rule
 * of Linux's openat2 and clone3): nothing past them is ever written, and
 * unknown sizes write nothing at all. */
FOCAL_API int focal_options_init_sized(focal_options *opt, size_t size)
{
    if (opt == NULL)
        return FOCAL_ENULL;
    if (!size_accepted(size))
        return FOCAL_EOPTIONS;
    options_init(opt, size);
    return FOCAL_OK;
}

/* Three versions of the one-argument init (docs/DESIGN.md §3). A program
 * built against the 1.1 header has room for the 1.1 struct only and is bound
 * to focal_options_init@FOCAL_1.1; one built against the 1.2 header to
 * @FOCAL_1.2, which writes the 1.2 struct. Callers that bind by name (ctypes,
 * cffi, dlsym) get the default version, whatever struct they declared: since
 * 1.3 it writes the smallest released layout, so no such caller is ever
 * written past, and it stays so in every later release (growth goes through
 * focal_options_init_sized; C programs reach that through the header's
 * macro). */
FOCAL_API void focal_options_init_1_1(focal_options *opt);
FOCAL_API void focal_options_init_1_2(focal_options *opt);
FOCAL_API void focal_options_init_1_3(focal_options *opt);
__asm__(".symver focal_options_init_1_1, focal_options_init@FOCAL_1.1");
__asm__(".symver focal_options_init_1_2, focal_options_init@FOCAL_1.2");
__asm__(".symver focal_options_init_1_3, focal_options_init@@FOCAL_1.3");

FOCAL_API void focal_options_init_1_1(focal_options *opt)
{
    if (opt != NULL)
        options_init(opt, FOCAL_OPTIONS_SIZE_1_1);
}

FOCAL_API void focal_options_init_1_2(focal_options *opt)
{
    if (opt != NULL)
        options_init(opt, FOCAL_OPTIONS_SIZE_1_2);
}

FOCAL_API void focal_options_init_1_3(focal_options *opt)
{
    if (opt != NULL)
        options_init(opt, options_layouts[0].size);
}

/* A caller built against a newer header may pass a larger struct: accept it
 * only if every field we do not know is zero (i.e. left at its default). An
 * older released layout is accepted as is; its later fields read as NULL
 * and 0 (focal_options_resolve copies it). */
static int check_options(const focal_options *opt)
{
    if (!size_accepted(opt->size))
        return FOCAL_EOPTIONS;
    const unsigned char *bytes = (const unsigned char *)opt;
    for (size_t i = sizeof(focal_options); i < opt->size; i++)
        if (bytes[i] != 0)
            return FOCAL_EOPTIONS;
    if (isnan(opt->normalizer) || isinf(opt->normalizer) || opt->normalizer < 0.0f)
        return FOCAL_ENORMALIZER;
    if (!(opt->label_smoothing >= 0.0f && opt->label_smoothing < 1.0f))
        return FOCAL_ESMOOTHING;
    if (opt->flags & ~(uint32_t)FOCAL_FLAG_QUALITY_ALPHA)
        return FOCAL_EOPTIONS;
    return FOCAL_OK;
}

int focal_options_resolve(const focal_options **opt, focal_options *defaults)
{
    if (*opt == NULL) {
        options_init(defaults, sizeof(focal_options));
        *opt = defaults;
    } else if ((*opt)->size < sizeof(focal_options)) {
        /* An older layout: never read past the caller's struct. Copy it into
         * a zeroed struct (the later fields NULL and 0), if it is one at all. */
        const size_t size = (*opt)->size;
        if (!size_accepted(size))
            return FOCAL_EOPTIONS;
        memset(defaults, 0, sizeof(*defaults));
        memcpy(defaults, *opt, size);
        *opt = defaults;
    }
    return check_options(*opt);
}

int focal_check_pos_weight(const float *pos_weight, size_t count)
{
    for (size_t i = 0; pos_weight && i < count; i++)
        if (!(pos_weight[i] >= 0.0f && pos_weight[i] <= FLT_MAX))
            return FOCAL_EPOSWEIGHT;
    return FOCAL_OK;
}

static int check_class_alpha(const float *class_alpha, size_t classes)
{
    for (size_t c = 0; class_alpha && c < classes; c++)
        if (!(class_alpha[c] >= 0.0f && class_alpha[c] <= 1.0f))
            return FOCAL_EALPHA;
    return FOCAL_OK;
}

int focal_writes_into(const float *loss, size_t loss_n, const float *grad, size_t n,
                      const void *p, size_t bytes)
{
    return focal_overlaps(loss, loss_n * sizeof(float), p, bytes) ||
           focal_overlaps(grad, n * sizeof(float), p, bytes);
}

int focal_check_rows_call(const float *logits, const void *t, size_t t_bytes, size_t rows,
                          size_t classes, const focal_options *opt, const float *loss,
                          size_t loss_none_n, const float *grad)
{
    const size_t n = rows * classes;
    /* With class_alpha the scalar alpha is ignored, so it cannot be an error. */
    int rc = focal_check_args(logits, t, n, opt->class_alpha ? 0.0f : opt->alpha, opt->gamma,
                              opt->reduction, loss, loss_none_n, grad, t_bytes);
    if (rc != FOCAL_OK)
        return rc;
    const size_t loss_n = opt->reduction == FOCAL_REDUCTION_NONE ? loss_none_n : 1;
    if (focal_writes_into(loss, loss_n, grad, n, opt->weight, rows * sizeof(float)) ||
        focal_writes_into(loss, loss_n, grad, n, opt->class_alpha, classes * sizeof(float)) ||
        focal_writes_into(loss, loss_n, grad, n, opt->pos_weight, classes * sizeof(float)))
        return FOCAL_EOVERLAP;
    /* The alpha factor of the quality loss is no option of the sigmoid loss. */
    if (opt->flags != 0)
        return FOCAL_EOPTIONS;
    rc = check_class_alpha(opt->class_alpha, classes);
    if (rc != FOCAL_OK)
        return rc;
    return focal_check_pos_weight(opt->pos_weight, classes);
}

int focal_count_labels(const int32_t *labels, size_t rows, int64_t max_label, size_t *counted)
{
    size_t k = 0;
    for (size_t r = 0; r < rows; r++) {
        if (labels[r] > max_label)
            return FOCAL_ELABEL;
        k += labels[r] >= 0;
    }
    *counted = k;
    return FOCAL_OK;
}

double focal_options_divisor(const focal_options *opt, double counted)
{
    if (opt->reduction != FOCAL_REDUCTION_NONE && opt->normalizer > 0.0f)
        return opt->normalizer;
    if (opt->reduction == FOCAL_REDUCTION_MEAN)
        return counted;
    return 1.0;
}

float focal_grad_scale(int reduction, double divisor)
{
    return reduction != FOCAL_REDUCTION_NONE && divisor > 0.0 ? (float)(1.0 / divisor) : 1.0f;
}
