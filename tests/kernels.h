/* SPDX-License-Identifier: MIT */
/*
 * Running a CMocka test once per kernel.
 *
 * KERNEL_TESTS(f) expands to five CMUnitTest entries, one per kernel name,
 * each being what cmocka_unit_test_prestate_setup_teardown() builds except that
 * the test name carries the kernel ("f/avx2"), so the CMocka and ctest output
 * says which kernel passed, failed or was skipped. The kernel name is the
 * test's initial state; kernel_enter() selects it (or skips the test when the
 * CPU or the build lacks it) and the teardown restores "auto".
 */
#ifndef FOCAL_TESTS_KERNELS_H
#define FOCAL_TESTS_KERNELS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#define KERNEL_COUNT 5
extern const char *const kernel_names[KERNEL_COUNT];

/* index of name in kernel_names, or -1 */
int kernel_index(const char *name);

/* Select the kernel named by *state; skip() the test when it is unsupported.
 * Prints the kernel being run. Returns the kernel name. */
const char *kernel_enter(void **state);

/* Teardown: back to the automatic choice. */
int kernel_restore_auto(void **state);

/* true when focal_set_isa(name) succeeds; leaves the active kernel as it was */
bool kernel_supported(const char *name);

#define KERNEL_TEST(f, k)                                                             \
    {                                                                                 \
        .name = #f "/" k, .test_func = f, .setup_func = NULL,                         \
        .teardown_func = kernel_restore_auto, .initial_state = (void *)(uintptr_t)(k) \
    }

#define KERNEL_TESTS(f)                                                                  \
    KERNEL_TEST(f, "scalar"), KERNEL_TEST(f, "avx2"), KERNEL_TEST(f, "avx512"),          \
        KERNEL_TEST(f, "neon"), KERNEL_TEST(f, "sve")

/* Run the group; an optional argv[1] is a CMocka name filter, e.g. "*\/avx2". */
int run_group(const char *name, const struct CMUnitTest *tests, size_t count,
              int argc, char **argv);

#endif
