/* Device tensors in the packed layout [N][ceil(C/4)][H][W][4], float32 or
 * half by the context's precision (element_storage.h). */
#ifndef EFFVK_HOST_TENSOR_H
#define EFFVK_HOST_TENSOR_H

#include "memory.h"

struct evk_tensor {
    evk_context *ctx;
    evk_shape shape;
    evk_buffer buffer;
};

/* Rounding-up division that cannot overflow, even for a near UINT_MAX. */
static inline uint32_t evk_div_up(uint32_t a, uint32_t b)
{
    return a / b + (a % b != 0);
}

static inline uint64_t evk_div_up_u64(uint64_t a, uint64_t b)
{
    return a / b + (a % b != 0);
}

/* The tile size at most `max` that splits `total` into equal-as-possible
 * tiles, so that the last tile is not mostly padding. */
static inline uint32_t evk_even_tile(uint32_t total, uint32_t max)
{
    return evk_div_up(total, evk_div_up(total, max));
}

/* Writes NCHW floats `src` into the packed layout at `dst`
 * (evk_tensor_bytes(ctx, s) bytes) at the context's precision, padded
 * channels zeroed. */
void evk_pack_nchw(const evk_context *ctx, evk_shape s, const float *src, void *dst);
/* Bytes of a tensor of shape `s` in `ctx` (evk_tensor_device_bytes). */
uint64_t evk_tensor_bytes(const evk_context *ctx, evk_shape s);

/* Checks an application's buffer range that must hold `needed` bytes:
 * set, large enough, not wrapping, with STORAGE_BUFFER usage, within the
 * storage buffer range, its offset aligned; `fn` names the caller. */
evk_status evk_external_range_check(evk_context *ctx, const char *fn,
                                    const evk_external_buffer *range, uint64_t needed);

/* Checks that `t` is a tensor of `ctx`; `what` names it in the message. */
evk_status evk_tensor_check(evk_context *ctx, const evk_tensor *t, const char *what);
evk_status evk_shape_check(evk_context *ctx, evk_shape shape, const char *what);

#endif
