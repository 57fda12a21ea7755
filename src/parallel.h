/* SPDX-License-Identifier: MIT */
/*
 * Block-parallel execution whose results never depend on the thread count.
 *
 * Work is cut into FOCAL_BLOCK-element blocks (fixed boundaries), each block
 * returns its loss sum, and the sums are added in block order on the calling
 * thread. Which thread ran a block, and when, cannot change a single bit.
 */
#ifndef FOCAL_PARALLEL_H
#define FOCAL_PARALLEL_H

#include <stddef.h>

/* Computes elements [begin, begin + count) and writes their loss sum.
 * Returns nonzero on a data error (bad target, bad label): the run stops. */
typedef int (*focal_block_fn)(void *ctx, size_t begin, size_t count, double *sum);

/* Runs fn over [0, n) in FOCAL_BLOCK blocks, on the pool when n is large
 * enough, and adds the block sums in order into *total.
 * Returns the first nonzero value fn returned (any block's), else 0. */
int focal_run_blocks(size_t n, focal_block_fn fn, void *ctx, double *total);

#endif /* FOCAL_PARALLEL_H */
