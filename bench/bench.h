/* SPDX-License-Identifier: MIT */
/* Shared between the focal-bench driver (focal_bench.c) and its summary
 * (bench_summary.c): what is measured and how benchmarks are named. */
#ifndef FOCAL_BENCH_BENCH_H
#define FOCAL_BENCH_BENCH_H

#include <stddef.h>
#include <stdio.h>

typedef enum { BENCH_FWDGRAD, BENCH_FWD, BENCH_NMODES } bench_mode;

/* Which compute floor a case has (baseline_floor.h): the calls of every
 * case, or those and the log and exp of q^gamma (soft targets, gamma outside
 * {0, 1, 2, 3}). */
typedef enum { BENCH_FLOOR_HARD, BENCH_FLOOR_SOFT, BENCH_NFLOORS } bench_floor_kind;

typedef struct bench_case {
    const char *name;  /* in benchmark names: "hard_g2"               */
    const char *title; /* for the summary                             */
    int hard;          /* hard (0/1) targets, else soft ones          */
    float alpha, gamma;
    bench_floor_kind floor;
} bench_case;

/* One implementation of the MEAN focal loss; grad == NULL is forward only.
 * Returns 0 or a FOCAL_E* code. */
typedef int (*bench_fn)(const float *x, const float *t, size_t n, float alpha, float gamma,
                        float *loss, float *grad);

typedef struct bench_impl {
    const char *name;  /* in benchmark names: "avx512", "textbook"... */
    const char *isa;   /* focal_set_isa() name; NULL for a baseline   */
    bench_fn fn;
    float only_gamma;  /* > 0: gamma is compiled in; other cases skip */
    int available;     /* set at start-up: the CPU runs this kernel   */
} bench_impl;

/* The compute floor of one kernel: its SLEEF calls and division alone, built
 * with its ISA flags. Rates: sleef_floor/<case>/<isa>/<elements>, timed like
 * the kernels; a kernel's share of its floor is its rate over the floor's. */
typedef void (*bench_floor_fn)(const float *x, size_t n, float gamma, float *out);

typedef struct bench_floor {
    const char *isa;                  /* the kernel's focal_set_isa() name */
    bench_floor_fn fn[BENCH_NFLOORS]; /* by bench_case.floor               */
    int available;                    /* set at start-up: the CPU runs it  */
} bench_floor;

/* Which clock the rates come from. 1 (the default, the library on one thread):
 * the benchmark thread's CPU time, which on a shared machine leaves out the
 * time other processes held the core. 0 (library multi-threaded, where one
 * thread's CPU time would leave out the workers): wall-clock time. */
extern int bench_cpu_clock;
struct gb_result;
double bench_result_ns(const struct gb_result *r); /* per iteration, that clock */

extern const bench_case bench_cases[];
extern const size_t bench_ncases;
/* The baselines, then (after bench_add_kernels()) every kernel built into
 * the library, as focal_kernel_name() lists them. */
#define BENCH_MAX_IMPLS 32
extern bench_impl bench_impls[BENCH_MAX_IMPLS];
extern size_t bench_nimpls;
void bench_add_kernels(void);
extern const size_t bench_sizes[];
extern const size_t bench_nsizes;
extern bench_floor bench_floors[];
extern const size_t bench_nfloors;

const char *bench_mode_name(bench_mode m);   /* "fwdgrad", "fwd"          */
const char *bench_mode_title(bench_mode m);
size_t bench_bytes_per_elem(bench_mode m);   /* 12 with gradient, else 8  */
int bench_impl_applies(const bench_impl *impl, const bench_case *c);

/* "fwdgrad/hard_g2/avx512" (the size is appended by Google Benchmark). */
void bench_family_name(char *buf, size_t len, bench_mode m, const bench_case *c,
                       const char *impl);
/* Full names: "fwdgrad/hard_g2/avx512/1048576", and the stream loop with
 * the same traffic as mode m: "stream/add/1048576" or "stream/dot/1048576". */
void bench_run_name(char *buf, size_t len, bench_mode m, const bench_case *c, const char *impl,
                    size_t n);
void bench_stream_name(char *buf, size_t len, bench_mode m, size_t n);
/* The available floor of kernel `isa`, or NULL (none built for it, or the
 * CPU lacks it). */
const bench_floor *bench_floor_of(const char *isa);
/* "sleef_floor/hard_g2/avx2", and with "/<elements>" appended. */
void bench_floor_family(char *buf, size_t len, const bench_case *c, const char *isa);
void bench_floor_run_name(char *buf, size_t len, const bench_case *c, const char *isa, size_t n);

/*
 * Thread scaling and detector shape: the library's best kernel (the one
 * focal_set_isa("auto") picks), loss + gradient, MEAN, each run with one
 * library thread ("t1") and with the default count ("tall":
 * focal_set_num_threads(0), all online CPUs unless FOCAL_NUM_THREADS is set).
 * Timed by the wall clock (the benchmark thread's CPU time leaves out the
 * workers); the CPU column is the whole process's CPU time.
 *
 * Names: threads/hard_g2/<kernel>/<t1|tall>/<elements>/process_time/real_time
 *        detector/<labels|dense|flat>/<kernel>/<t1|tall>/process_time/real_time
 */
typedef enum { BENCH_T1, BENCH_TALL, BENCH_NTHREADS } bench_threads;
typedef enum { BENCH_DET_LABELS, BENCH_DET_DENSE, BENCH_DET_FLAT, BENCH_NDET } bench_det;

#define BENCH_WALL_SUFFIX "/process_time/real_time" /* added by Google Benchmark */
#define BENCH_DET_ROWS 120000u /* RetinaNet: ~120k anchors, 80 COCO classes */
#define BENCH_DET_CLASSES 80u

extern char bench_best_isa[16];  /* focal_isa() after focal_set_isa("auto") */
extern int bench_threads_all;    /* focal_num_threads() in the "tall" runs   */
extern int bench_base_threads;   /* focal_set_num_threads() argument of the
                                    other runs: 1, or 0 with FOCAL_NUM_THREADS */
extern const bench_case *const bench_threads_case; /* hard_g2 */
extern const size_t bench_threads_sizes[];
extern const size_t bench_threads_nsizes;

const char *bench_threads_name(bench_threads t); /* "t1", "tall"            */
void bench_use_threads(bench_threads t);         /* focal_set_num_threads()  */
void bench_restore_threads(void);                /* back to bench_base_threads */

const char *bench_det_name(bench_det k);         /* "labels", "dense", "flat" */
const char *bench_det_title(bench_det k);
double bench_det_bytes_per_elem(bench_det k);    /* 4 + 4 + 4/classes, or 12 */

/* Families (Google Benchmark adds "/<elements>" for threads, then the
 * suffix) and full run names as recorded. */
void bench_threads_family(char *buf, size_t len, bench_threads t);
void bench_threads_run_name(char *buf, size_t len, bench_threads t, size_t n);
void bench_det_family(char *buf, size_t len, bench_det k, bench_threads t);
void bench_det_run_name(char *buf, size_t len, bench_det k, bench_threads t);

struct bench_data;
/* One detector-shaped call on the first `rows` rows of d's detector data,
 * alpha 0.25, gamma 2, the given reduction; returns 0 or a FOCAL_E* code. */
int bench_det_call(const struct bench_data *d, bench_det k, size_t rows, int reduction,
                   float *loss, float *grad);

/* Before anything is timed: runs every available implementation on the first
 * n elements and compares with the scalar kernel (kernels must match bit for
 * bit, baselines within 1e-3). Prints to log; returns the number of
 * mismatches. */
int bench_cross_check(const struct bench_data *d, size_t n, FILE *log);
/* The same for the thread-scaling and detector runs, on small inputs that
 * still use the workers: results must not depend on the thread count, dense
 * must match the 1.0 call bit for bit, and labels must give the dense
 * gradient on rows that are not ignored (zero on ignored rows). */
int bench_cross_check_threads(const struct bench_data *d, FILE *log);

/* The summary tables, after the benchmarks ran (d: for the detector
 * section's row counts). */
void bench_print_summary(FILE *out, const struct bench_data *d);
/* The summary's last line: the active kernel (bench_best_isa) on hard_g2,
 * loss + gradient, at each size: speed-up over the fastest baseline, share
 * of the stream loop and of its floor. */
void bench_print_verdict(FILE *out);

/* The family/ runs (bench_family.c): softmax focal at 80 and 1000 classes,
 * quality focal, varifocal, the Distribution Focal Loss at YOLOv8 shapes and
 * the box regression losses (CIoU, GIoU, smooth L1), every kernel against a
 * textbook loop. One table, bench_family_cases:
 * registration, the cross-check, the summary and --help all read it. */
typedef enum {
    BENCH_FAM_SOFTMAX,   /* focal_softmax_labels, alpha 0.25, gamma 2      */
    BENCH_FAM_QUALITY,   /* focal_quality_focal, gamma 2                   */
    BENCH_FAM_VARIFOCAL, /* focal_varifocal, alpha 0.75, gamma 2           */
    BENCH_FAM_DFL,       /* focal_distribution_focal, classes = bins       */
    BENCH_FAM_CIOU,      /* focal_box_iou_loss, CIoU, torchvision, rows =
                            boxes, classes = 4 (x1, y1, x2, y2)            */
    BENCH_FAM_GIOU,      /* the same, GIoU                                 */
    BENCH_FAM_SMOOTH_L1  /* focal_smooth_l1, beta 1/9, rows x 4 elements   */
} bench_fam_loss;

typedef struct bench_family_case {
    const char *name;  /* in benchmark names: family/<name>/<impl>       */
    const char *title; /* for the summary and --help                     */
    bench_fam_loss loss;
    size_t rows, classes; /* rows x classes elements (classes 1: flat)   */
} bench_family_case;

extern const bench_family_case bench_family_cases[];
extern const size_t bench_family_ncases;
size_t bench_family_elements(const bench_family_case *c); /* rows x classes */
/* What items/s counts: boxes (rows) for the IoU box losses, else elements. */
size_t bench_family_items(const bench_family_case *c);

/* Makes the family's inputs from d (kept by pointer: logits, soft targets,
 * the gradient buffer out). Returns 0, or -1 when d is too small or out of
 * memory (no family/ runs then). */
int bench_family_init(const struct bench_data *d);
void bench_family_free(void);
/* One call of case c, MEAN, on its first `rows` rows: impl's kernel (the
 * caller selects it with focal_set_isa) or, impl NULL, the textbook loop.
 * grad: rows x classes floats. Returns 0 or a FOCAL_E* code. */
int bench_family_call(const bench_family_case *c, const bench_impl *impl, size_t rows,
                      float *loss, float *grad);
/* Register after the kernels are probed and bench_family_init succeeded;
 * the summary prints after the main one. */
void bench_family_register(void);
void bench_family_summary(FILE *out);
/* For --help: one line per family/ case, "  <name>  <title>". */
void bench_family_usage(FILE *out);
/* Before timing, like bench_cross_check: every family case on its first
 * rows (at most about n elements), each kernel bitwise against the scalar
 * one and the textbook loop within the baseline tolerance. */
int bench_cross_check_family(size_t n, FILE *log);

#endif /* FOCAL_BENCH_BENCH_H */
