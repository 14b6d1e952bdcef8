/* Reading .safetensors files (internal; the model loader builds on it).
 *
 * The format: an 8-byte little-endian header length N, N bytes of a JSON
 * object, then the data section. Each member of the object but
 * "__metadata__" describes a tensor:
 *   "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}
 * with byte offsets relative to the start of the data section, stored raw
 * and little-endian. "__metadata__" maps keys to string values.
 *
 * Opening validates everything before returning: the header length (within
 * the file, at most EVK_SAFETENSORS_MAX_HEADER_BYTES), the JSON (strict, see
 * json.h), the fields of each tensor (exactly dtype, shape, data_offsets),
 * dtypes, shapes (non-negative dimensions, at most EVK_SAFETENSORS_MAX_RANK of
 * them, element and byte counts without overflow), offsets (inside the data
 * section, end - begin = elements x dtype size) and overlaps between tensors.
 * Gaps between tensors and bytes after the last one are allowed.
 *
 * Dtypes: every whole-byte dtype of the format is known, so a file's layout
 * can be checked at open; F32, F16 and BF16 can be read (widened to float).
 * Other dtypes (I64 among them: BatchNorm's num_batches_tracked in a PyTorch
 * state_dict) open fine and fail only when read as float, with
 * EVK_ERROR_UNSUPPORTED. An unknown dtype string fails the open, as do the
 * sub-byte dtypes (F4, F6_*) whose sizes are not whole bytes.
 *
 * Errors name the file, the tensor or key and the problem:
 *   "EVK_ERROR_INVALID_ARGUMENT: w.safetensors: tensor 'fc.weight':
 *    data_offsets [0, 12] hold 12 bytes, shape [2, 3] of F32 needs 6 elements
 *    of 4 bytes"
 * Statuses: EVK_ERROR_IO (the file cannot be opened or read),
 * EVK_ERROR_INVALID_ARGUMENT (malformed file, NULL argument, unknown tensor
 * name), EVK_ERROR_LIMIT_EXCEEDED (header over the size limit, rank over the
 * rank limit), EVK_ERROR_UNSUPPORTED (reading a dtype that is not a float
 * type), EVK_ERROR_SHAPE_MISMATCH (a read whose count is not the tensor's
 * element count), EVK_ERROR_OUT_OF_HOST_MEMORY.
 * Messages go to evk_last_error(ctx), or evk_last_error(NULL) when the file
 * was opened without a context. */
#ifndef EFFVK_HOST_MODEL_SAFETENSORS_H
#define EFFVK_HOST_MODEL_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"

#define EVK_SAFETENSORS_MAX_HEADER_BYTES 100000000u
#define EVK_SAFETENSORS_MAX_RANK 8

typedef struct evk_safetensors evk_safetensors;

typedef enum evk_safetensors_dtype {
    EVK_ST_F32,
    EVK_ST_F16,
    EVK_ST_BF16,
    /* Known, checked at open, not readable as float. */
    EVK_ST_F64,
    EVK_ST_I64,
    EVK_ST_I32,
    EVK_ST_I16,
    EVK_ST_I8,
    EVK_ST_U64,
    EVK_ST_U32,
    EVK_ST_U16,
    EVK_ST_U8,
    EVK_ST_BOOL,
    EVK_ST_F8_E4M3,
    EVK_ST_F8_E5M2,
    EVK_ST_F8_E8M0,
    EVK_ST_C64
} evk_safetensors_dtype;

typedef struct evk_safetensors_info {
    const char *name;               /* valid until the file is closed */
    evk_safetensors_dtype dtype;
    const char *dtype_name;         /* "F32", as in the file */
    uint32_t rank;
    uint64_t shape[EVK_SAFETENSORS_MAX_RANK];
    uint64_t element_count;         /* product of the shape; 1 for rank 0 */
    uint64_t byte_size;
    /* The raw little-endian bytes, inside the mapping; not necessarily
     * aligned for the element type. */
    const void *data;
} evk_safetensors_info;

/* Maps the file (or, when mapping fails, reads it into memory) and validates
 * it; anything but a regular file is refused without blocking (file_io.h). `ctx` may be NULL; when given, its allocator is
 * used and errors are reported on it. On failure *out is NULL. The file must
 * not be truncated while open: reading a mapping past the file's end raises
 * SIGBUS on POSIX systems. */
evk_status evk_safetensors_open(evk_context *ctx, const char *path, evk_safetensors **out);

/* The same over `size` bytes in memory, which the caller keeps unchanged
 * until evk_safetensors_close. `name` stands for the file in messages. */
evk_status evk_safetensors_open_memory(evk_context *ctx, const char *name, const void *bytes,
                                       size_t size, evk_safetensors **out);

/* Unmaps or frees everything; accepts NULL. */
void evk_safetensors_close(evk_safetensors *st);

/* Number of tensors, and their names in strcmp order: index 0..count-1. */
size_t evk_safetensors_count(const evk_safetensors *st);
const char *evk_safetensors_name(const evk_safetensors *st, size_t index);

/* Describes the tensor `name`. Errors: EVK_ERROR_INVALID_ARGUMENT (no such
 * tensor, NULL argument). */
evk_status evk_safetensors_find(const evk_safetensors *st, const char *name,
                                evk_safetensors_info *info);

/* Copies the tensor `name` into `dst` as float, widening F16 and BF16
 * (subnormals, infinities and NaNs kept). `count` must be its element count.
 * Errors: EVK_ERROR_INVALID_ARGUMENT, EVK_ERROR_SHAPE_MISMATCH,
 * EVK_ERROR_UNSUPPORTED. */
evk_status evk_safetensors_read_f32(const evk_safetensors *st, const char *name, float *dst,
                                    size_t count);

/* The value of `key` in "__metadata__", or NULL when absent. */
const char *evk_safetensors_metadata(const evk_safetensors *st, const char *key);

#endif
