/* SPDX-License-Identifier: MIT */
#include "kernels.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <focal/focal.h>

const char kernel_each[] = "(one case per kernel)";

int kernel_count(void)
{
    int n = 0;
    while (focal_kernel_name((size_t)n) != NULL)
        n++;
    if (n > KERNEL_MAX) {
        fprintf(stderr, "tests/kernels.c: %d kernels, KERNEL_MAX is %d\n", n, KERNEL_MAX);
        abort();
    }
    return n;
}

const char *kernel_name(int i)
{
    return i >= 0 ? focal_kernel_name((size_t)i) : NULL;
}

int kernel_index(const char *name)
{
    for (int i = 0; name != NULL && kernel_name(i) != NULL; i++)
        if (strcmp(name, kernel_name(i)) == 0)
            return i;
    return -1;
}

const char *kernel_enter(void **state)
{
    const char *name = (const char *)*state;
    int rc = focal_set_isa(name);
    if (rc == FOCAL_EISA_UNSUPPORTED) {
        print_message("[ SKIPPED  ] kernel %s not supported by this CPU\n", name);
        skip();
    }
    if (rc != FOCAL_OK)
        fail_msg("focal_set_isa(\"%s\") returned %d (%s)", name, rc, focal_strerror(rc));
    assert_string_equal(focal_isa(), name);
    print_message("[ KERNEL   ] %s\n", name);
    fflush(stdout);
    return name;
}

int kernel_restore_auto(void **state)
{
    (void)state;
    return focal_set_isa("auto") == FOCAL_OK ? 0 : -1;
}

bool kernel_supported(const char *name)
{
    char before[32];
    snprintf(before, sizeof before, "%s", focal_isa());
    bool ok = focal_set_isa(name) == FOCAL_OK;
    focal_set_isa(before);
    return ok;
}

/* "name/kernel", or a copy of name when kernel is NULL. */
static char *join_name(const char *name, const char *kernel)
{
    const size_t len = strlen(name) + (kernel ? 1 + strlen(kernel) : 0) + 1;
    char *s = malloc(len);
    if (s == NULL)
        abort();
    if (kernel)
        snprintf(s, len, "%s/%s", name, kernel);
    else
        memcpy(s, name, len);
    return s;
}

/*
 * FOCAL_TEST_KERNELS=<name>[,<name>...] keeps only those kernels' cases.
 * The aarch64 runs under qemu set it: "neon" without SVE, "sve" with it.
 * Every case compares with the scalar kernel's bits inside, so the aarch64
 * scalar build is still checked as the reference (its own cases run
 * natively on x86-64, the same C source); and the scalar and NEON code is
 * the same binary whatever the emulated vector length, so the SVE runs spend
 * their time on the one kernel that the vector length changes.
 */
static bool kernel_selected(const char *kernel)
{
    const char *list = getenv("FOCAL_TEST_KERNELS");
    if (list == NULL || *list == '\0')
        return true;
    const size_t len = strlen(kernel);
    for (const char *p = list; *p != '\0';) {
        const char *end = strchr(p, ',');
        const size_t n = end ? (size_t)(end - p) : strlen(p);
        if (n == len && strncmp(p, kernel, len) == 0)
            return true;
        p += n + (end != NULL);
    }
    return false;
}

struct CMUnitTest *kernel_expand(const struct CMUnitTest *tests, size_t *count)
{
    const size_t all_kernels = (size_t)kernel_count();
    size_t kernels = 0;
    const char *selected[KERNEL_MAX];
    for (size_t j = 0; j < all_kernels; j++)
        if (kernel_selected(focal_kernel_name(j)))
            selected[kernels++] = focal_kernel_name(j);
    size_t n = 0;
    for (size_t i = 0; i < *count; i++)
        n += tests[i].initial_state == (void *)kernel_each ? kernels : 1;
    struct CMUnitTest *out = calloc(n ? n : 1, sizeof *out);
    if (out == NULL)
        abort();
    size_t k = 0;
    for (size_t i = 0; i < *count; i++) {
        if (tests[i].initial_state != (void *)kernel_each) {
            out[k] = tests[i];
            out[k++].name = join_name(tests[i].name, NULL); /* every name is ours to free */
            continue;
        }
        for (size_t j = 0; j < kernels; j++, k++) {
            const char *kernel = selected[j];
            out[k] = tests[i];
            out[k].name = join_name(tests[i].name, kernel);
            out[k].initial_state = (void *)(uintptr_t)kernel;
        }
    }
    *count = n;
    return out;
}

void kernel_expand_free(struct CMUnitTest *tests, size_t count)
{
    for (size_t i = 0; i < count; i++)
        free((void *)tests[i].name);
    free(tests);
}

int run_group(const char *name, const struct CMUnitTest *tests, size_t count,
              int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    struct CMUnitTest *all = kernel_expand(tests, &count);
    const int rc = _cmocka_run_group_tests(name, all, count, NULL, NULL);
    kernel_expand_free(all, count);
    return rc;
}
