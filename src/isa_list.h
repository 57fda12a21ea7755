/* SPDX-License-Identifier: MIT */
/*
 * The one list of libfocal's kernels (docs/DESIGN.md §6). Everything that
 * names kernels takes the names from here: the dispatcher's table, FOCAL_ISA,
 * focal_set_isa, focal_kernel_supported, and focal_kernel_name, through which
 * the tests, focal-bench and the Python binding get them.
 *
 * FOCAL_ISA_LIST(X) calls X(ID, "name", built) once per kernel, in order of
 * preference (the automatic choice is the last supported one). `built` is 1
 * when this architecture's build of the library contains the kernel, 0 when
 * it exists only on another architecture: such a name is known (focal_set_isa
 * answers FOCAL_EISA_UNSUPPORTED, not FOCAL_EISA_UNKNOWN) but never listed by
 * focal_kernel_name. A name here must have a kernel on some architecture.
 */
#ifndef FOCAL_ISA_LIST_H
#define FOCAL_ISA_LIST_H

#if defined(__x86_64__)
#  define FOCAL_ON_X86_64 1
#else
#  define FOCAL_ON_X86_64 0
#endif
#if defined(__aarch64__)
#  define FOCAL_ON_AARCH64 1
#else
#  define FOCAL_ON_AARCH64 0
#endif

#define FOCAL_ISA_LIST(X)                     \
    X(SCALAR, "scalar", 1)                    \
    X(AVX2, "avx2", FOCAL_ON_X86_64)          \
    X(AVX512, "avx512", FOCAL_ON_X86_64)      \
    X(NEON, "neon", FOCAL_ON_AARCH64)        \
    X(SVE, "sve", FOCAL_ON_AARCH64)

#endif /* FOCAL_ISA_LIST_H */
