/* SPDX-License-Identifier: MIT */
/*
 * test_cpu_setting (aarch64): which kernel the dispatcher chose on this CPU,
 * checked against the CPU's own account (HWCAP_SVE, prctl(PR_SVE_GET_VL),
 * svcntw()) and, when the test run names it, against the CPU setting that
 * run asked for. The aarch64 workflow runs every suite once per qemu CPU
 * setting (QEMU_CPU: NEON only, SVE at 128, 256 and 512 bits, plus this
 * suite and test_dispatch at 384 bits); each run sets
 *   FOCAL_EXPECT_ISA        the kernel the dispatcher must choose
 *   FOCAL_EXPECT_SVE_BITS   the SVE vector length, 0 for no SVE
 * so that a run whose setting did not reach the emulator fails here instead
 * of silently testing another kernel. Without them (real hardware) only the
 * consistency of the dispatcher with the CPU is checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/prctl.h>

#include <cmocka.h>
#include <focal/focal.h>

#include "sve_lanes.h"

#ifndef PR_SVE_GET_VL
#define PR_SVE_GET_VL 51
#endif
#define SVE_VL_LEN_MASK 0xffff
#define CPU_HWCAP_SVE (1UL << 22)

/* The SVE vector length in bits by the kernel's account, 0 without SVE. */
static int cpu_sve_bits(void)
{
    if (!(getauxval(AT_HWCAP) & CPU_HWCAP_SVE))
        return 0;
    const int vl = prctl(PR_SVE_GET_VL, 0, 0, 0, 0);
    assert_true(vl > 0); /* HWCAP_SVE set: the call must work */
    return (vl & SVE_VL_LEN_MASK) * 8;
}

/* The library may run SVE exactly where a vector's lanes divide 16. */
static int sve_fits(int bits)
{
    const int lanes = bits / 32;
    return lanes > 0 && lanes <= 16 && 16 % lanes == 0;
}

static void test_cpu_agrees(void **state)
{
    (void)state;
    const int bits = cpu_sve_bits();
    if (bits) /* the instruction agrees with the kernel's prctl */
        assert_int_equal(test_sve_lanes() * 32, bits);
    print_message("  SVE: %d bits, focal_isa() = %s\n", bits, focal_isa());

    /* sve is built into every aarch64 library, listed after neon */
    int neon = -1, sve = -1;
    for (size_t i = 0; focal_kernel_name(i); i++) {
        if (strcmp(focal_kernel_name(i), "neon") == 0) neon = (int)i;
        if (strcmp(focal_kernel_name(i), "sve") == 0) sve = (int)i;
    }
    assert_true(neon > 0);
    assert_true(sve > neon);

    assert_int_equal(focal_kernel_supported("sve"), sve_fits(bits));
    assert_int_equal(focal_kernel_supported("neon"), 1);
    if (getenv("FOCAL_ISA") == NULL) /* the automatic choice at load time */
        assert_string_equal(focal_isa(), sve_fits(bits) ? "sve" : "neon");
    assert_int_equal(focal_set_isa("sve"), sve_fits(bits) ? FOCAL_OK : FOCAL_EISA_UNSUPPORTED);
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
}

static void test_expected_setting(void **state)
{
    (void)state;
    const char *want_isa = getenv("FOCAL_EXPECT_ISA");
    const char *want_bits = getenv("FOCAL_EXPECT_SVE_BITS");
    if (want_isa == NULL || want_bits == NULL)
        skip(); /* not a run of the aarch64 workflow */
    assert_null(getenv("FOCAL_ISA"));
    print_message("  want %s, %s SVE bits; QEMU_CPU=%s\n", want_isa, want_bits,
                  getenv("QEMU_CPU") ? getenv("QEMU_CPU") : "(unset)");
    assert_int_equal(cpu_sve_bits(), atoi(want_bits));
    assert_string_equal(focal_isa(), want_isa);
}

/* The SVE kernel against the scalar one on one call of every length up to
 * three vectors of the widest SVE vector (and a tail), misaligned: the
 * suites check far more, this makes sure the run at hand exercises SVE. */
static void test_sve_matches_scalar(void **state)
{
    (void)state;
    if (focal_kernel_supported("sve") != 1)
        skip();
    enum { N = 53 };
    float x[N + 1], t[N + 1], ls[N + 1], gs[N + 1], lv[N + 1], gv[N + 1];
    for (int i = 0; i <= N; i++) {
        x[i] = (float)(i * 37 % 29 - 14) * 0.75f;
        t[i] = (i % 7 == 0) ? 0.25f * (float)(i % 5) : (float)(i % 3 == 0);
    }
    for (size_t n = 0; n <= N; n++) {
        float sum_s, sum_v;
        assert_int_equal(focal_set_isa("scalar"), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x + 1, t + 1, n, 0.25f, 1.5f,
                                                 FOCAL_REDUCTION_NONE, ls, gs), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x + 1, t + 1, n, 0.25f, 1.5f,
                                                 FOCAL_REDUCTION_SUM, &sum_s, NULL), FOCAL_OK);
        assert_int_equal(focal_set_isa("sve"), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x + 1, t + 1, n, 0.25f, 1.5f,
                                                 FOCAL_REDUCTION_NONE, lv, gv), FOCAL_OK);
        assert_int_equal(focal_sigmoid_loss_grad(x + 1, t + 1, n, 0.25f, 1.5f,
                                                 FOCAL_REDUCTION_SUM, &sum_v, NULL), FOCAL_OK);
        assert_memory_equal(ls, lv, n * sizeof(float));
        assert_memory_equal(gs, gv, n * sizeof(float));
        assert_memory_equal(&sum_s, &sum_v, sizeof(float));
    }
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_agrees),
        cmocka_unit_test(test_expected_setting),
        cmocka_unit_test(test_sve_matches_scalar),
    };
    return cmocka_run_group_tests_name("test_cpu_setting", tests, NULL, NULL);
}
