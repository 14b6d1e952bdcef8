/* Tensors and weights as the context's precision stores them: float32, or
 * IEEE half at the 16-bit precisions (effvk.h, evk_precision). Biases,
 * BatchNorm shifts and reduction partials are float32 at every precision. */
#ifndef EFFVK_HOST_ELEMENT_STORAGE_H
#define EFFVK_HOST_ELEMENT_STORAGE_H

#include "memory.h"

/* Whether the context stores activations and weights as halves. */
static inline int evk_storage_is_half(const evk_context *ctx)
{
    return ctx->precision.chosen >= EVK_PRECISION_FP16_STORAGE;
}

/* Bytes of one stored activation or weight: 4 or 2. */
static inline uint32_t evk_element_bytes(const evk_context *ctx)
{
    return evk_storage_is_half(ctx) ? 2u : 4u;
}

/* Writes `count` floats as stored elements at `dst` (count · element bytes). */
void evk_store_elements(const evk_context *ctx, void *dst, const float *src, size_t count);
/* Element `index` of stored data, as a float, and the reverse. */
float evk_load_element(const evk_context *ctx, const void *src, size_t index);
void evk_store_element(const evk_context *ctx, void *dst, size_t index, float value);

/* A device buffer of `count` weights, stored at the context's precision
 * (the shaders' weight bindings read them so). */
evk_status evk_buffer_create_weights(evk_context *ctx, const float *weights, uint64_t count,
                                     const char *what, evk_buffer *out);

#endif
