/* SPDX-License-Identifier: MIT */
/*
 * libfocal as an FFI caller sees it (ctypes, cffi, dlsym): the library is
 * dlopen()ed and every function found by name with dlsym, which gives the
 * default version of a symbol, never the one a C program's header bound it
 * to; dlvsym only where a test names a version. Nothing here links
 * libfocal.so: argv[1] is its path.
 *
 * For every released layout of focal_options (released_layouts.h), in a
 * malloc'ed buffer of exactly that size followed by canary bytes (so that
 * ASan, in the sanitize build, makes any write or read past the struct a
 * hard error, and the canary catches it elsewhere):
 *   - focal_options_init_sized writes the defaults in exactly `size` bytes;
 *   - focal_options_init by name writes the smallest layout (1.1, 48 bytes),
 *     so no by-name caller is written past; @FOCAL_1.1 writes 48 bytes,
 *     @FOCAL_1.2 64, and the default version is @@FOCAL_1.3;
 *   - each such struct gives focal_sigmoid_labels, focal_softmax_labels and
 *     focal_quality_focal the same bits as opt = NULL;
 *   - sizes of no layout, and opt NULL, are errors that write nothing.
 * And the record itself: sizeof(focal_options) of this header must be the
 * newest recorded size (docs/DESIGN.md §3, §8).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/* Types and constants only: no function of the header is called directly. */
#include <focal/focal.h>

#include "released_layouts.h"

#define CANARY 64
#define CANARY_BYTE 0xA5

typedef int (*init_sized_fn)(void *opt, size_t size);
typedef void (*init_fn)(void *opt);
typedef int (*rows_fn)(const float *x, const int32_t *labels, size_t rows, size_t classes,
                       const void *opt, float *loss, float *grad);
typedef int (*soft_fn)(const float *x, const float *scores, size_t n, const void *opt,
                       float *loss, float *grad);

static const char *library_path;
static void *lib;

/* dlsym by name: what ctypes' lib.name and cffi's lib.name do. */
static void *sym(const char *name)
{
    void *p = dlsym(lib, name);
    if (p == NULL)
        fail_msg("dlsym(%s): %s", name, dlerror());
    return p;
}

static void *vsym(const char *name, const char *version)
{
    void *p = dlvsym(lib, name, version);
    if (p == NULL)
        fail_msg("dlvsym(%s, %s): %s", name, version, dlerror());
    return p;
}

/* A buffer of exactly `size` bytes of canary, then CANARY more. The struct
 * is at the start of its own allocation: ASan's redzone follows the
 * canary, and the canary follows the struct. Exact-size buffers without a
 * canary come from exact(). */
static unsigned char *guarded(size_t size)
{
    unsigned char *b = malloc(size + CANARY);
    assert_non_null(b);
    memset(b, CANARY_BYTE, size + CANARY);
    return b;
}

static void assert_canary(const unsigned char *b, size_t from, size_t to, const char *what)
{
    for (size_t i = from; i < to; i++)
        if (b[i] != CANARY_BYTE)
            fail_msg("%s: byte %zu written (0x%02x), the struct ends at %zu", what, i, b[i],
                     from);
}

/* A copy of the struct in b (size bytes of it), the rest 0. */
static focal_options read_options(const unsigned char *b, size_t size)
{
    focal_options o;
    memset(&o, 0, sizeof o);
    memcpy(&o, b, size < sizeof o ? size : sizeof o);
    return o;
}

/* The defaults, written into the first `size` bytes and nothing else: every
 * other byte of the struct (fields, padding, a newer header's tail) is 0. */
static void assert_defaults(const unsigned char *b, size_t size, const char *what)
{
    focal_options want;
    memset(&want, 0, sizeof want);
    want.size = size;
    want.alpha = 0.25f;
    want.gamma = 2.0f;
    want.reduction = FOCAL_REDUCTION_MEAN;
    const unsigned char *w = (const unsigned char *)&want;
    for (size_t i = 0; i < size; i++)
        if (b[i] != (i < sizeof want ? w[i] : 0))
            fail_msg("%s: byte %zu of %zu is 0x%02x, want 0x%02x", what, i, size, b[i],
                     i < sizeof want ? w[i] : 0);
    focal_options o = read_options(b, size);
    assert_int_equal(o.size, size);
}

static int lp64(void)
{
    return sizeof(void *) == 8 && sizeof(size_t) == 8;
}

static size_t smallest(void)
{
    return released_layouts[0].lp64_size;
}

/* ---- the record ------------------------------------------------------------ */

/* Every public struct of this header has the size of its newest recorded
 * layout: a field appended without recording its release fails here. */
static void record_matches_header(void **state)
{
    (void)state;
    if (!lp64())
        skip();
    size_t newest = 0, prev = 0;
    for (size_t i = 0; i < RELEASED_LAYOUTS; i++) {
        assert_string_equal(released_layouts[i].type, "focal_options");
        assert_true(released_layouts[i].lp64_size > prev); /* oldest first, growing */
        prev = newest = released_layouts[i].lp64_size;
    }
    if (sizeof(focal_options) != newest)
        fail_msg("sizeof(focal_options) is %zu, the newest released layout %zu: record the "
                 "release that changed it in tests/abi/released_layouts.h and src/options.c",
                 sizeof(focal_options), newest);
    /* The smallest is the 1.1 struct, which ends after weight. */
    assert_int_equal(smallest(), offsetof(focal_options, weight) + sizeof(const float *));
}

/* ---- what init writes -------------------------------------------------------- */

static void sized_init_writes_exactly_size(void **state)
{
    (void)state;
    if (!lp64())
        skip();
    init_sized_fn init = (init_sized_fn)sym("focal_options_init_sized");
    for (size_t i = 0; i <= RELEASED_LAYOUTS; i++) {
        /* every layout, then a newer header's (unknown tail zeroed) */
        const size_t size =
            i < RELEASED_LAYOUTS ? released_layouts[i].lp64_size : sizeof(focal_options) + 24;
        unsigned char *b = guarded(size);
        assert_int_equal(init(b, size), FOCAL_OK);
        assert_canary(b, size, size + CANARY, "focal_options_init_sized");
        assert_defaults(b, size, "focal_options_init_sized");
        free(b);
    }
}

static void by_name_init_writes_the_smallest_layout(void **state)
{
    (void)state;
    if (!lp64())
        skip();
    init_fn init = (init_fn)sym("focal_options_init");
    unsigned char *b = guarded(smallest());
    init(b);
    assert_canary(b, smallest(), smallest() + CANARY, "focal_options_init (by name)");
    assert_defaults(b, smallest(), "focal_options_init (by name)");
    free(b);
    init(NULL); /* does nothing */
}

/* The versions programs built against each header call, and which one a
 * by-name caller gets. */
static void symbol_versions(void **state)
{
    (void)state;
    if (!lp64())
        skip();
    static const struct {
        const char *version;
        size_t writes;
    } versions[] = { { "FOCAL_1.1", 48 }, { "FOCAL_1.2", 64 }, { "FOCAL_1.3", 48 } };
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        init_fn init = (init_fn)vsym("focal_options_init", versions[v].version);
        const size_t size = versions[v].writes;
        unsigned char *b = guarded(size);
        init(b);
        assert_canary(b, size, size + CANARY, versions[v].version);
        assert_defaults(b, size, versions[v].version);
        free(b);
    }
    /* The by-name default is FOCAL_1.3's, frozen there. */
    assert_ptr_equal(sym("focal_options_init"), vsym("focal_options_init", "FOCAL_1.3"));
    assert_ptr_equal(sym("focal_options_init_sized"),
                     vsym("focal_options_init_sized", "FOCAL_1.3"));
}

/* ---- what the entry points read ------------------------------------------------ */

enum { ROWS = 13, CLASSES = 7, N = ROWS * CLASSES };

struct outputs {
    float loss[3], grad[3][N];
};

/* The same calls on opt: sigmoid labels, softmax labels, quality focal. */
static void run_calls(const void *opt, struct outputs *out)
{
    static float x[N], s[N];
    static int32_t labels[ROWS];
    for (int i = 0; i < N; i++) {
        x[i] = (float)((i * 37) % 23 - 11) * 0.375f;
        s[i] = (float)((i * 11) % 9) / 8.0f;
    }
    for (int r = 0; r < ROWS; r++)
        labels[r] = r % (CLASSES + 2) - 1; /* ignored, classes, background */
    memset(out, 0, sizeof *out);
    int32_t softmax_labels[ROWS];
    for (int r = 0; r < ROWS; r++)
        softmax_labels[r] = labels[r] >= CLASSES ? -1 : labels[r];
    assert_int_equal(((rows_fn)sym("focal_sigmoid_labels"))(x, labels, ROWS, CLASSES, opt,
                                                             &out->loss[0], out->grad[0]),
                     FOCAL_OK);
    assert_int_equal(((rows_fn)sym("focal_softmax_labels"))(x, softmax_labels, ROWS, CLASSES, opt,
                                                             &out->loss[1], out->grad[1]),
                     FOCAL_OK);
    assert_int_equal(((soft_fn)sym("focal_quality_focal"))(x, s, N, opt, &out->loss[2],
                                                            out->grad[2]),
                     FOCAL_OK);
}

/* Every struct any init writes is read as the defaults, bit for bit, and
 * never past its size: exact-size allocations, no canary (ASan's redzone
 * follows the struct). */
static void every_layout_gives_the_default_bits(void **state)
{
    (void)state;
    if (!lp64())
        skip();
    struct outputs want, got;
    run_calls(NULL, &want);
    init_sized_fn sized = (init_sized_fn)sym("focal_options_init_sized");
    for (size_t i = 0; i <= RELEASED_LAYOUTS; i++) {
        const size_t size =
            i < RELEASED_LAYOUTS ? released_layouts[i].lp64_size : sizeof(focal_options) + 24;
        unsigned char *b = malloc(size);
        assert_non_null(b);
        assert_int_equal(sized(b, size), FOCAL_OK);
        run_calls(b, &got);
        assert_memory_equal(&want, &got, sizeof want);
        free(b);
    }
    static const char *const versions[] = { NULL, "FOCAL_1.1", "FOCAL_1.2" };
    for (size_t v = 0; v < sizeof versions / sizeof versions[0]; v++) {
        init_fn init = versions[v] ? (init_fn)vsym("focal_options_init", versions[v])
                                   : (init_fn)sym("focal_options_init");
        const size_t size = versions[v] && strcmp(versions[v], "FOCAL_1.2") == 0
                                ? 64 : smallest();
        unsigned char *b = malloc(size);
        assert_non_null(b);
        init(b);
        run_calls(b, &got);
        assert_memory_equal(&want, &got, sizeof want);
        free(b);
    }
}

/* ---- errors -------------------------------------------------------------------- */

static void bad_sizes_write_nothing(void **state)
{
    (void)state;
    init_sized_fn init = (init_sized_fn)sym("focal_options_init_sized");
    const size_t whole = 4097 + CANARY;
    unsigned char *b = guarded(4097);
    const size_t bad[] = { 0, 1, 8, 47, 49, 56, 63, 4097, 8192, SIZE_MAX };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(init(b, bad[i]), FOCAL_EOPTIONS);
        assert_canary(b, 0, whole, "focal_options_init_sized with a bad size");
    }
    assert_int_equal(init(NULL, sizeof(focal_options)), FOCAL_ENULL);
    assert_int_equal(init(NULL, 0), FOCAL_ENULL);
    /* The largest accepted size writes 4096 bytes, not one more. */
    assert_int_equal(init(b, 4096), FOCAL_OK);
    assert_canary(b, 4096, whole, "focal_options_init_sized(4096)");
    free(b);
}

static int open_library(void **state)
{
    (void)state;
    lib = dlopen(library_path, RTLD_NOW | RTLD_LOCAL);
    if (lib == NULL) {
        fprintf(stderr, "dlopen(%s): %s\n", library_path, dlerror());
        return -1;
    }
    return 0;
}

static int close_library(void **state)
{
    (void)state;
    return lib != NULL && dlclose(lib) != 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s path/to/libfocal.so.1\n", argv[0]);
        return 2;
    }
    library_path = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record_matches_header),
        cmocka_unit_test(sized_init_writes_exactly_size),
        cmocka_unit_test(by_name_init_writes_the_smallest_layout),
        cmocka_unit_test(symbol_versions),
        cmocka_unit_test(every_layout_gives_the_default_bits),
        cmocka_unit_test(bad_sizes_write_nothing),
    };
    return cmocka_run_group_tests_name("test_ffi_layouts", tests, open_library, close_library);
}
