/* SPDX-License-Identifier: MIT */
/*
 * Kernel selection: detect the CPU once at load time, honour FOCAL_ISA, and
 * publish the choice as one atomic pointer to a const kernel table. The
 * names are those of the one ISA list, src/isa_list.h (docs/DESIGN.md §6).
 *
 * Why not an IFUNC resolver: it runs during relocation, before the library's
 * own relocations are done and before getenv() can be trusted, so it could
 * neither read FOCAL_ISA nor be changed later by focal_set_isa().
 *
 * Why XGETBV as well as CPUID: CPUID says what the silicon can do; XGETBV says
 * whether the operating system saves the wider registers on a context switch.
 * A kernel running AVX-512 on an OS that does not save ZMM/opmask state would
 * see its registers silently corrupted by another process. (SLEEF 3.5.1's own
 * dispatcher checks CPUID only, which is why we call its ISA-suffixed
 * functions directly instead.)
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "focal/focal.h"
#include "focal_internal.h"
#include "isa_list.h"

#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__)
#include <sys/auxv.h>
/* Bit 22 of AT_HWCAP (Linux 4.15); older libc headers lack the name. */
#ifndef HWCAP_SVE
#define HWCAP_SVE (1UL << 22)
#endif
#endif

/* Every kernel name of src/isa_list.h, best last. kernel stays NULL for the
 * kernels this architecture does not build (`built` 0). */
typedef struct {
    const char *name;
    const focal_kernel *kernel;
    int supported;
} focal_isa_entry;

#define FOCAL_ISA_ENUM(id, name, built) ISA_##id,
enum { FOCAL_ISA_LIST(FOCAL_ISA_ENUM) ISA_COUNT };
#undef FOCAL_ISA_ENUM

#define FOCAL_ISA_ENTRY(id, name, built) [ISA_##id] = { name, NULL, 0 },
static focal_isa_entry isa_table[ISA_COUNT] = { FOCAL_ISA_LIST(FOCAL_ISA_ENTRY) };
#undef FOCAL_ISA_ENTRY

/* The names built into this library, in list order (focal_kernel_name). */
#define FOCAL_ISA_BUILT(id, name, built) built,
static const int isa_built[ISA_COUNT] = { FOCAL_ISA_LIST(FOCAL_ISA_BUILT) };
#undef FOCAL_ISA_BUILT

static _Atomic(const focal_kernel *) active_kernel;
static const focal_kernel *auto_kernel;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

#if defined(__x86_64__)
static unsigned long long read_xcr0(void)
{
    unsigned int lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((unsigned long long)hi << 32) | lo;
}

static void detect_cpu(void)
{
    unsigned int a, b, c, d;
    int fma = 0, avx = 0, avx2 = 0, avx512f = 0;
    unsigned long long xcr0 = 0;

    if (__get_cpuid(1, &a, &b, &c, &d)) {
        const int osxsave = (c >> 27) & 1;
        fma = (c >> 12) & 1;
        avx = (c >> 28) & 1;
        if (osxsave)
            xcr0 = read_xcr0();
    }
    /* XCR0 bits 1-2: SSE and YMM upper halves; 5-7: opmask, ZMM0-15 upper
     * halves, ZMM16-31. */
    const int os_ymm = (xcr0 & 0x6) == 0x6;
    const int os_zmm = (xcr0 & 0xe6) == 0xe6;
    if (__get_cpuid_max(0, NULL) >= 7) {
        __cpuid_count(7, 0, a, b, c, d);
        avx2 = (b >> 5) & 1;
        avx512f = (b >> 16) & 1;
    }

    /* The reference scalar kernel is built with -mfma (VEX encoded), so it
     * needs the same OS support as AVX; older CPUs get the no-FMA build. */
    const int fma_ok = fma && avx && os_ymm;
    isa_table[ISA_SCALAR].kernel = fma_ok ? &focal_kernel_scalar : &focal_kernel_scalar_nofma;
    isa_table[ISA_SCALAR].supported = 1;
    isa_table[ISA_AVX2].kernel = &focal_kernel_avx2;
    isa_table[ISA_AVX2].supported = fma_ok && avx2;
    isa_table[ISA_AVX512].kernel = &focal_kernel_avx512;
#ifdef FOCAL_AVX512_EMULATED
    /* Test-only build (tests/emu512): the AVX-512 kernel is emulated with
     * AVX2 + FMA, which is then all it needs. */
    (void)avx512f;
    (void)os_zmm;
    isa_table[ISA_AVX512].supported = fma_ok && avx2;
#else
    isa_table[ISA_AVX512].supported = avx512f && os_zmm;
#endif
}
#elif defined(__aarch64__)
/*
 * SVE: HWCAP_SVE says the CPU has it and the kernel saves its state. The SVE
 * kernel is vector-length agnostic but keeps the 16-lane sum layout only
 * when a vector's lanes divide 16 (128, 256 or 512 bits: 4, 8, 16 lanes;
 * kernel_sve.c). At other lengths (384 bits: 12 lanes; 1024 and 2048 bits:
 * more than 16) it is not supported and NEON stays the automatic choice.
 */
static void detect_cpu(void)
{
    const unsigned long hwcap = getauxval(AT_HWCAP);
    isa_table[ISA_SCALAR].kernel = &focal_kernel_scalar;
    isa_table[ISA_SCALAR].supported = 1;
    isa_table[ISA_NEON].kernel = &focal_kernel_neon;
    isa_table[ISA_NEON].supported = (hwcap & HWCAP_ASIMD) != 0;
    isa_table[ISA_SVE].kernel = &focal_kernel_sve;
    if (hwcap & HWCAP_SVE) {
        const size_t lanes = focal_sve_lanes(); /* only now: SIGILL without SVE */
        isa_table[ISA_SVE].supported = lanes <= FOCAL_LANES && FOCAL_LANES % lanes == 0;
    }
}
#else
static void detect_cpu(void)
{
    isa_table[ISA_SCALAR].kernel = &focal_kernel_scalar;
    isa_table[ISA_SCALAR].supported = 1;
}
#endif

static const focal_isa_entry *find_isa(const char *name)
{
    for (int i = 0; i < ISA_COUNT; i++)
        if (strcmp(isa_table[i].name, name) == 0)
            return &isa_table[i];
    return NULL;
}

static void init_dispatch(void)
{
    detect_cpu();
    for (int i = 0; i < ISA_COUNT; i++)
        if (isa_table[i].supported && isa_table[i].kernel)
            auto_kernel = isa_table[i].kernel;

    /* FOCAL_ISA can pick any kernel this CPU runs; anything else (unknown
     * name, unsupported kernel, "auto") keeps the automatic choice, so a
     * stale setting copied between machines can never crash a process. */
    const focal_kernel *chosen = auto_kernel;
    const char *env = getenv("FOCAL_ISA");
    if (env) {
        const focal_isa_entry *e = find_isa(env);
        if (e && e->supported && e->kernel)
            chosen = e->kernel;
    }
    atomic_store_explicit(&active_kernel, chosen, memory_order_release);
}

/* Load time. The lazy path below covers calls made from other libraries'
 * constructors that happen to run before this one. */
__attribute__((constructor)) static void focal_dispatch_constructor(void)
{
    pthread_once(&init_once, init_dispatch);
}

const focal_kernel *focal_active_kernel(void)
{
    const focal_kernel *k = atomic_load_explicit(&active_kernel, memory_order_acquire);
    if (__builtin_expect(k == NULL, 0)) {
        pthread_once(&init_once, init_dispatch);
        k = atomic_load_explicit(&active_kernel, memory_order_acquire);
    }
    return k;
}

/* The list's name of the active kernel (both scalar builds are "scalar"). */
FOCAL_API const char *focal_isa(void)
{
    const focal_kernel *k = focal_active_kernel();
    for (int i = 0; i < ISA_COUNT; i++)
        if (isa_table[i].kernel == k)
            return isa_table[i].name;
    return isa_table[ISA_SCALAR].name; /* not reached: the table holds every kernel */
}

FOCAL_API const char *focal_kernel_name(size_t i)
{
    for (int k = 0; k < ISA_COUNT; k++)
        if (isa_built[k] && i-- == 0)
            return isa_table[k].name;
    return NULL;
}

FOCAL_API int focal_kernel_supported(const char *name)
{
    pthread_once(&init_once, init_dispatch);
    if (name == NULL)
        return FOCAL_EISA_UNKNOWN;
    const focal_isa_entry *e = find_isa(name);
    if (e == NULL)
        return FOCAL_EISA_UNKNOWN;
    return e->supported && e->kernel != NULL;
}

FOCAL_API int focal_set_isa(const char *name)
{
    pthread_once(&init_once, init_dispatch);
    if (name == NULL)
        return FOCAL_EISA_UNKNOWN;
    if (strcmp(name, "auto") == 0) {
        atomic_store_explicit(&active_kernel, auto_kernel, memory_order_release);
        return FOCAL_OK;
    }
    const focal_isa_entry *e = find_isa(name);
    if (e == NULL)
        return FOCAL_EISA_UNKNOWN;
    if (!e->supported || e->kernel == NULL)
        return FOCAL_EISA_UNSUPPORTED;
    atomic_store_explicit(&active_kernel, e->kernel, memory_order_release);
    return FOCAL_OK;
}
