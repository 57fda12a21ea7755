/* SPDX-License-Identifier: MIT */
/*
 * The record of every released layout of libfocal's public structs: which
 * struct, the release that introduced the layout, its size on LP64 (x86-64,
 * aarch64), oldest first. Written down by hand on purpose, apart from
 * src/options.c's own table: a public struct whose size changes without a
 * row here fails test_ffi_layouts (the newest row must be this header's
 * sizeof), and every row is run through the library by size.
 *
 * A release that appends fields to focal_options adds its row here and to
 * options_layouts[] in src/options.c (docs/DESIGN.md §3). Rows are never
 * changed or removed: programs holding those structs are out there.
 */
#ifndef FOCAL_TESTS_RELEASED_LAYOUTS_H
#define FOCAL_TESTS_RELEASED_LAYOUTS_H

#include <stddef.h>

struct released_layout {
    const char *type;    /* the public struct                          */
    const char *release; /* the release whose header has this layout   */
    size_t lp64_size;    /* its sizeof on LP64                         */
};

static const struct released_layout released_layouts[] = {
    { "focal_options", "1.1", 48 }, /* size .. weight               */
    { "focal_options", "1.2", 64 }, /* + pos_weight, flags          */
};

#define RELEASED_LAYOUTS (sizeof released_layouts / sizeof released_layouts[0])

#endif /* FOCAL_TESTS_RELEASED_LAYOUTS_H */
