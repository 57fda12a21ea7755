/* SPDX-License-Identifier: MIT */
/*
 * test_dispatch: focal_isa / focal_set_isa, focal_kernel_name /
 * focal_kernel_supported and the FOCAL_ISA environment variable. The
 * environment is read once at load time, so those cases re-run this binary
 * (its own path, --print-isa) in a child with FOCAL_ISA set.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__aarch64__)
#include <sys/auxv.h>
#include <sys/prctl.h>
#endif

#include <focal/focal.h>

#include "kernels.h"

/* What focal_isa() said before any test touched it, and whether FOCAL_ISA was
 * set for this process (then the load-time choice is not the automatic one). */
static char startup_isa[32];
static bool env_was_set;

/* The best kernel by the library's own account: the last name in
 * focal_kernel_name order that focal_set_isa accepts (the list is in order
 * of preference). */
static const char *best_supported(void)
{
    const char *best = "scalar";
    for (int i = 1; i < kernel_count(); i++)
        if (kernel_supported(kernel_name(i)))
            best = kernel_name(i);
    return best;
}

#if defined(__aarch64__)
/* SVE that libfocal can use: HWCAP_SVE (bit 22), and a vector length from the
 * kernel (prctl PR_SVE_GET_VL, in bytes) whose float lanes divide 16. */
static bool cpu_sve_fits(void)
{
    if (!(getauxval(AT_HWCAP) & (1UL << 22)))
        return false;
    const int vl = prctl(51 /* PR_SVE_GET_VL */, 0, 0, 0, 0);
    const int lanes = vl < 0 ? 0 : (vl & 0xffff) / 4;
    return lanes > 0 && lanes <= 16 && 16 % lanes == 0;
}
#endif

/* What the CPU can run, from the compiler's own cpuid/XGETBV-based probe,
 * independent of the library's detection. cpu_requires: the library must
 * offer the kernel; cpu_allows: it may (an AVX-512 kernel may also want DQ,
 * BW or VL, so only F is necessary and F+DQ+BW+VL sufficient). */
static bool cpu_requires(const char *name)
{
    if (strcmp(name, "scalar") == 0)
        return true;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
               __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl");
    return false;
#elif defined(__aarch64__)
    if (strcmp(name, "sve") == 0)
        return cpu_sve_fits();
    return strcmp(name, "neon") == 0; /* NEON is baseline */
#else
    return false;
#endif
}

static bool cpu_allows(const char *name)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (strcmp(name, "avx512") == 0)
        return __builtin_cpu_supports("avx512f");
    return cpu_requires(name); /* and never neon */
#elif defined(__aarch64__)
    return strcmp(name, "neon") == 0 || strcmp(name, "scalar") == 0 ||
           (strcmp(name, "sve") == 0 && cpu_sve_fits());
#else
    return strcmp(name, "scalar") == 0;
#endif
}

static void test_isa_is_a_kernel_name(void **state)
{
    (void)state;
    assert_non_null(focal_isa());
    assert_true(kernel_index(focal_isa()) >= 0);
    assert_true(kernel_index(startup_isa) >= 0);
    print_message("  kernel at load time: %s%s\n", startup_isa,
                  env_was_set ? " (FOCAL_ISA was set)" : "");
}

static void test_auto_picks_best(void **state)
{
    (void)state;
    const char *best = best_supported();
    assert_int_equal(focal_set_isa("scalar"), FOCAL_OK);
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
    assert_string_equal(focal_isa(), best);
    if (!env_was_set)
        assert_string_equal(startup_isa, best);
    print_message("  auto = %s\n", best);
}

/* Success exactly for the kernels this CPU runs; on failure the active kernel
 * is unchanged. */
static void test_set_each_kernel(void **state)
{
    (void)state;
    for (int i = 0; i < kernel_count(); i++) {
        const char *name = kernel_name(i);
        assert_int_equal(focal_set_isa("scalar"), FOCAL_OK);
        int rc = focal_set_isa(name);
        print_message("  focal_set_isa(\"%s\") = %d (%s)\n", name, rc, focal_strerror(rc));
        if (rc == FOCAL_OK) {
            assert_string_equal(focal_isa(), name);
        } else {
            assert_int_equal(rc, FOCAL_EISA_UNSUPPORTED);
            assert_string_equal(focal_isa(), "scalar");
        }
        /* the library's detection must agree with the CPU's */
        if (rc == FOCAL_OK && !cpu_allows(name))
            fail_msg("focal_set_isa(\"%s\") succeeded but the CPU lacks it", name);
        if (rc != FOCAL_OK && cpu_requires(name))
            fail_msg("focal_set_isa(\"%s\") = %d but the CPU supports it", name, rc);
    }
    /* from a non-scalar kernel too: an unsupported name keeps the current one */
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
    const char *best = focal_isa();
    for (int i = 0; i < kernel_count(); i++)
        if (focal_set_isa(kernel_name(i)) != FOCAL_OK)
            assert_string_equal(focal_isa(), best);
        else
            assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
}

static void test_unknown_names(void **state)
{
    (void)state;
    const char *bad[] = {"bogus", "", "avx", "avx5120", "scalar ", " scalar", "auto2", "sse2"};
    for (int start = 0; start < 2; start++) {
        const char *initial = start ? "auto" : "scalar";
        assert_int_equal(focal_set_isa(initial), FOCAL_OK);
        char before[32];
        snprintf(before, sizeof before, "%s", focal_isa());
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            int rc = focal_set_isa(bad[i]);
            if (rc != FOCAL_EISA_UNKNOWN)
                fail_msg("focal_set_isa(\"%s\") = %d (%s), want FOCAL_EISA_UNKNOWN", bad[i], rc,
                         focal_strerror(rc));
            assert_string_equal(focal_isa(), before);
        }
        assert_int_equal(focal_set_isa(NULL), FOCAL_EISA_UNKNOWN);
        assert_string_equal(focal_isa(), before);
    }
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
}

/* focal_kernel_name: the kernels built into this library, "scalar" first,
 * each a distinct name focal_set_isa knows; NULL from the end on. */
static void test_kernel_name(void **state)
{
    (void)state;
    const int n = kernel_count();
    assert_true(n >= 1);
    assert_string_equal(focal_kernel_name(0), "scalar");
    for (int i = 0; i < n; i++) {
        const char *name = focal_kernel_name((size_t)i);
        assert_non_null(name);
        assert_true(name[0] != '\0');
        assert_true(strcmp(name, "auto") != 0);
        for (int j = 0; j < i; j++)
            assert_true(strcmp(name, focal_kernel_name((size_t)j)) != 0);
        /* a kernel of this library: known to focal_set_isa (OK or UNSUPPORTED) */
        const int rc = focal_set_isa(name);
        if (rc != FOCAL_OK && rc != FOCAL_EISA_UNSUPPORTED)
            fail_msg("focal_set_isa(\"%s\") = %d for a listed kernel", name, rc);
        print_message("  focal_kernel_name(%d) = \"%s\"\n", i, name);
    }
    assert_null(focal_kernel_name((size_t)n));
    assert_null(focal_kernel_name((size_t)n + 1));
    assert_null(focal_kernel_name(SIZE_MAX));
    /* the same pointers every time (static storage) */
    for (int i = 0; i < n; i++)
        assert_ptr_equal(focal_kernel_name((size_t)i), focal_kernel_name((size_t)i));
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
}

/* focal_kernel_supported: 1 exactly when focal_set_isa would succeed, 0 for
 * the other listed kernels, FOCAL_EISA_UNKNOWN for NULL and non-kernels; it
 * never changes the active kernel. */
static void test_kernel_supported(void **state)
{
    (void)state;
    for (int start = 0; start < 2; start++) {
        assert_int_equal(focal_set_isa(start ? "auto" : "scalar"), FOCAL_OK);
        const char *active = focal_isa();
        assert_int_equal(focal_kernel_supported(NULL), FOCAL_EISA_UNKNOWN);
        const char *bad[] = {"bogus", "", "auto", "AVX2", "scalar ", "avx5120"};
        for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
            if (focal_kernel_supported(bad[i]) != FOCAL_EISA_UNKNOWN)
                fail_msg("focal_kernel_supported(\"%s\") = %d, want FOCAL_EISA_UNKNOWN", bad[i],
                         focal_kernel_supported(bad[i]));
        for (int i = 0; i < kernel_count(); i++) {
            const char *name = kernel_name(i);
            const int yes = focal_kernel_supported(name);
            assert_string_equal(focal_isa(), active);
            print_message("  focal_kernel_supported(\"%s\") = %d\n", name, yes);
            if (yes != 0 && yes != 1)
                fail_msg("focal_kernel_supported(\"%s\") = %d, want 0 or 1", name, yes);
            assert_int_equal(yes, kernel_supported(name));
            if (yes && !cpu_allows(name))
                fail_msg("focal_kernel_supported(\"%s\") = 1 but the CPU lacks it", name);
            if (!yes && cpu_requires(name))
                fail_msg("focal_kernel_supported(\"%s\") = 0 but the CPU supports it", name);
        }
        assert_int_equal(focal_kernel_supported("scalar"), 1);
    }
#if defined(__x86_64__) || defined(__aarch64__)
    /* A kernel of libfocal that only another architecture builds is known
     * but not supported (as focal_set_isa has said since 1.0). */
#  if defined(__x86_64__)
    const char *foreign = "neon";
#  else
    const char *foreign = "avx2";
#  endif
    assert_int_equal(kernel_index(foreign), -1);
    assert_int_equal(focal_kernel_supported(foreign), 0);
    assert_int_equal(focal_set_isa(foreign), FOCAL_EISA_UNSUPPORTED);
#endif
    assert_int_equal(focal_set_isa("auto"), FOCAL_OK);
}

/* This binary's own path, resolved once in main(). Not "/proc/self/exe" at
 * exec time: under valgrind that link names valgrind's tool, not the test
 * (valgrind answers readlink() on it with the client's path, though). */
static char self_path[4096];

static void resolve_self(const char *argv0)
{
    const ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    if (n > 0) {
        self_path[n] = '\0';
        return;
    }
    /* no /proc: argv[0] (ctest gives a full path; the working directory does
     * not change before the exec, so a relative one works too) */
    snprintf(self_path, sizeof self_path, "%s", argv0 ? argv0 : "");
}

/* Run this binary with FOCAL_ISA=value (NULL: unset) and return the kernel
 * the child reports at load time. Cross builds run the tests under an
 * emulator (qemu-user), which cannot exec a foreign binary by itself: ctest
 * then names it in FOCAL_TEST_EMULATOR ("qemu-aarch64 [args]", separated by
 * spaces) and the child runs through it. */
static void child_isa(const char *value, char *out, size_t out_size)
{
    static char emu[512];
    char *args[16];
    int nargs = 0;
    assert_true(self_path[0] != '\0');
    const char *env_emu = getenv("FOCAL_TEST_EMULATOR");
    if (env_emu != NULL && *env_emu != '\0') {
        snprintf(emu, sizeof emu, "%s", env_emu);
        for (char *tok = strtok(emu, " "); tok != NULL && nargs < 13; tok = strtok(NULL, " "))
            args[nargs++] = tok;
    }
    args[nargs++] = self_path;
    args[nargs++] = "--print-isa";
    args[nargs] = NULL;

    int fds[2];
    assert_int_equal(pipe(fds), 0);
    fflush(stdout); /* nothing buffered may be duplicated into the child */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (dup2(fds[1], STDOUT_FILENO) < 0)
            _exit(126);
        if (value)
            setenv("FOCAL_ISA", value, 1);
        else
            unsetenv("FOCAL_ISA");
        execv(args[0], args);
        _exit(127);
    }
    close(fds[1]);
    size_t len = 0;
    ssize_t got;
    while (len + 1 < out_size && (got = read(fds[0], out + len, out_size - 1 - len)) != 0) {
        if (got < 0 && errno == EINTR)
            continue;
        assert_true(got > 0);
        len += (size_t)got;
    }
    out[len] = '\0';
    close(fds[0]);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    out[strcspn(out, "\n")] = '\0';
}

static void test_env_override(void **state)
{
    (void)state;
    const char *best = best_supported();
    char got[64];

    child_isa(NULL, got, sizeof got);
    print_message("  FOCAL_ISA unset   -> %s\n", got);
    assert_string_equal(got, best);

    const char *values[KERNEL_MAX + 3];
    size_t nvalues = 0;
    for (int i = 0; i < kernel_count(); i++)
        values[nvalues++] = kernel_name(i);
    values[nvalues++] = "bogus";
    values[nvalues++] = "";
    values[nvalues++] = "auto";
    for (size_t i = 0; i < nvalues; i++) {
        child_isa(values[i], got, sizeof got);
        /* a kernel the CPU runs is honoured; anything else keeps the automatic choice */
        const char *want = kernel_index(values[i]) >= 0 && kernel_supported(values[i])
                               ? values[i]
                               : best;
        print_message("  FOCAL_ISA=%-7s -> %s (want %s)\n", values[i], got, want);
        assert_string_equal(got, want);
    }
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--print-isa") == 0) {
        puts(focal_isa());
        return 0;
    }
    resolve_self(argv[0]);
    snprintf(startup_isa, sizeof startup_isa, "%s", focal_isa());
    const char *env = getenv("FOCAL_ISA");
    env_was_set = env != NULL && *env != '\0';

    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_is_a_kernel_name),
        cmocka_unit_test(test_auto_picks_best),
        cmocka_unit_test(test_set_each_kernel),
        cmocka_unit_test(test_unknown_names),
        cmocka_unit_test(test_kernel_name),
        cmocka_unit_test(test_kernel_supported),
        cmocka_unit_test(test_env_override),
    };
    return run_group("test_dispatch", tests, sizeof tests / sizeof tests[0], argc, argv);
}
