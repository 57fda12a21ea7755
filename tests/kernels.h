/* SPDX-License-Identifier: MIT */
/*
 * Running a CMocka test once per kernel.
 *
 * The kernels are those built into the library, as focal_kernel_name()
 * lists them: no test spells the list. KERNEL_TESTS(f) is one placeholder
 * entry that run_group() (through kernel_expand()) turns into one CMUnitTest
 * per kernel, each being what cmocka_unit_test_prestate_setup_teardown()
 * builds except that the test name carries the kernel ("f/avx2"), so the
 * CMocka and ctest output says which kernel passed, failed or was skipped.
 * The kernel name is the test's initial state; kernel_enter() selects it (or
 * skips the test when the CPU lacks it) and the teardown restores "auto".
 * FOCAL_TEST_KERNELS=sve,neon (a comma list) in the environment keeps only
 * the cases of those kernels (kernels.c says why).
 */
#ifndef FOCAL_TESTS_KERNELS_H
#define FOCAL_TESTS_KERNELS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* The kernels built into the library (focal_kernel_name), at most
 * KERNEL_MAX. */
#define KERNEL_MAX 16
int kernel_count(void);
const char *kernel_name(int i);

/* index of name among them, or -1 */
int kernel_index(const char *name);

/* Select the kernel named by *state; skip() the test when it is unsupported.
 * Prints the kernel being run. Returns the kernel name. */
const char *kernel_enter(void **state);

/* Teardown: back to the automatic choice. */
int kernel_restore_auto(void **state);

/* true when focal_set_isa(name) succeeds; leaves the active kernel as it was */
bool kernel_supported(const char *name);

/* The placeholder's initial state. */
extern const char kernel_each[];

/* A placeholder for one case of f per kernel; the teardown restores "auto". */
#define KERNEL_TESTS(f) KERNEL_TESTS_TEARDOWN(f, kernel_restore_auto)
#define KERNEL_TESTS_TEARDOWN(f, teardown)                                         \
    {                                                                              \
        .name = #f, .test_func = f, .setup_func = NULL, .teardown_func = teardown, \
        .initial_state = (void *)kernel_each                                       \
    }

/* tests[] with every placeholder replaced by one case per kernel, named
 * "<name>/<kernel>", the kernel name as its initial state. *count: in, the
 * number of tests; out, the number returned. Allocated: release with
 * kernel_expand_free(). */
struct CMUnitTest *kernel_expand(const struct CMUnitTest *tests, size_t *count);
void kernel_expand_free(struct CMUnitTest *tests, size_t count);

/* Run the group (placeholders expanded); an optional argv[1] is a CMocka
 * name filter, e.g. "*\/avx2". */
int run_group(const char *name, const struct CMUnitTest *tests, size_t count,
              int argc, char **argv);

#endif
