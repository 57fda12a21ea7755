/* SPDX-License-Identifier: MIT */
/* A program linked with libfocal.a: the library's load-time initialization
 * (the dispatcher's and the thread pool's constructors) must run before main,
 * exactly as with the shared library, although nothing in the program refers
 * to the constructors. They read FOCAL_ISA and FOCAL_NUM_THREADS at load time
 * and only then, so a value set in main must NOT be seen: had the linker left
 * the constructors out, the first call would initialize lazily and see it.
 * Run with both variables unset. */
#define _POSIX_C_SOURCE 200809L
#include <focal/focal.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    const int load_default = cpus > 256 ? 256 : cpus > 0 ? (int)cpus : 1;
    const int other = load_default == 1 ? 2 : 1;
    char value[16];
    int failures = 0;

    if (getenv("FOCAL_ISA") || getenv("FOCAL_NUM_THREADS")) {
        fprintf(stderr, "static_init: run with FOCAL_ISA and FOCAL_NUM_THREADS unset\n");
        return 2;
    }
    snprintf(value, sizeof value, "%d", other);
    setenv("FOCAL_NUM_THREADS", value, 1);
    setenv("FOCAL_ISA", "scalar", 1);

    const int threads = focal_num_threads();
    if (threads != load_default) {
        fprintf(stderr, "thread pool: %d threads, want the load-time default %d "
                "(FOCAL_NUM_THREADS=%d set in main was read: its constructor did not run)\n",
                threads, load_default, other);
        failures++;
    }

    char isa[32];
    snprintf(isa, sizeof isa, "%s", focal_isa());
    if (focal_set_isa("auto") != FOCAL_OK) {
        fprintf(stderr, "focal_set_isa(\"auto\") failed\n");
        return 1;
    }
    const char *automatic = focal_isa();
    if (strcmp(automatic, "scalar") == 0) {
        /* The automatic choice is scalar anyway: FOCAL_ISA=scalar changes
         * nothing and cannot tell whether the constructor ran. */
        printf("dispatch: automatic kernel is scalar on this CPU, check not conclusive\n");
    } else if (strcmp(isa, automatic) != 0) {
        fprintf(stderr, "dispatch: kernel %s, want the load-time choice %s "
                "(FOCAL_ISA=scalar set in main was read: its constructor did not run)\n",
                isa, automatic);
        failures++;
    }
    printf("static_init: kernel %s, %d threads, chosen before main: %s\n", isa, threads,
           failures ? "FAILED" : "ok");
    return failures != 0;
}
