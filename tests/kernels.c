/* SPDX-License-Identifier: MIT */
#include "kernels.h"

#include <stdio.h>
#include <string.h>

#include <focal/focal.h>

const char *const kernel_names[KERNEL_COUNT] = {"scalar", "avx2", "avx512", "neon", "sve"};

int kernel_index(const char *name)
{
    for (int i = 0; i < KERNEL_COUNT; i++)
        if (name != NULL && strcmp(name, kernel_names[i]) == 0)
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

int run_group(const char *name, const struct CMUnitTest *tests, size_t count,
              int argc, char **argv)
{
    if (argc > 1)
        cmocka_set_test_filter(argv[1]);
    return _cmocka_run_group_tests(name, tests, count, NULL, NULL);
}
