/* Reading and writing NumPy .npy files of float32: `effvk run`'s input and
 * logits, exchanged with Python. Program code: files go through the
 * library's file_io.h and messages through evk_last_error, as the library's
 * own readers do (effvk_internal.h).
 *
 * Supported: dtype '<f4' (little-endian float32) in C order, format versions
 * 1.0, 2.0 and 3.0 on reading. Writing produces version 1.0 (a header of at
 * most NPY_MAX_RANK dimensions never needs 2.0's 32-bit length), padded
 * so that the data starts at a multiple of 64 bytes, as NumPy does.
 *
 * The header dict is parsed strictly, as the Python literal NumPy writes:
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
 * exactly these three keys once each (either quote style, no escapes), a
 * tuple of non-negative decimal integers for the shape, an optional trailing
 * comma, then spaces and a final newline. The data must be exactly
 * elements x 4 bytes.
 *
 * Statuses: EVK_ERROR_IO (cannot open, read or write), EVK_ERROR_INVALID_ARGUMENT
 * (bad magic, malformed header, truncated or overlong data, NULL argument),
 * EVK_ERROR_UNSUPPORTED (another dtype, Fortran order, an unknown version),
 * EVK_ERROR_LIMIT_EXCEEDED (rank over NPY_MAX_RANK, header over
 * NPY_MAX_HEADER_BYTES), EVK_ERROR_OUT_OF_HOST_MEMORY. Messages name the
 * file and the problem and go to evk_last_error(ctx) (ctx may be NULL). */
#ifndef EFFVK_TOOLS_NPY_H
#define EFFVK_TOOLS_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"

#define NPY_MAX_RANK 8
#define NPY_MAX_HEADER_BYTES 100000u

typedef struct npy_array {
    uint32_t rank;
    uint64_t shape[NPY_MAX_RANK];
    uint64_t count;                 /* product of the shape; 1 for rank 0 */
    float *data;                    /* count floats; NULL when count is 0 */
} npy_array;

/* Reads a whole file: *out gets shape and data (allocated with ctx's
 * allocator, or malloc without a context). On failure *out is zeroed. */
evk_status npy_read(evk_context *ctx, const char *path, npy_array *out);

/* The same from `size` bytes in memory; `name` stands for the file in
 * messages. */
evk_status npy_read_memory(evk_context *ctx, const char *name, const void *bytes, size_t size,
                         npy_array *out);

/* Frees out->data (with the same ctx as the read) and zeroes *array. */
void npy_free(evk_context *ctx, npy_array *array);

/* Writes `data` (the product of `shape` floats, C order) as '<f4'.
 * Through a temporary file renamed over `path` when complete (file_io.h): on
 * failure the previous file at `path` is unchanged and nothing else is left
 * behind; a `path` that exists and is not a regular file is refused. */
evk_status npy_write(evk_context *ctx, const char *path, const uint64_t *shape, uint32_t rank,
                   const float *data);

#endif
