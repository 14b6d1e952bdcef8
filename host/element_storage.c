#include <stdint.h>
#include <string.h>

#include "element_storage.h"
#include "half_float.h"
#include "saturating.h"

void evk_store_elements(const evk_context *ctx, void *dst, const float *src, size_t count)
{
    if (!evk_storage_is_half(ctx)) {
        memcpy(dst, src, count * sizeof *src);
        return;
    }
    uint16_t *halves = dst;
    for (size_t i = 0; i < count; ++i)
        halves[i] = evk_f32_to_f16(src[i]);
}

void evk_store_element(const evk_context *ctx, void *dst, size_t index, float value)
{
    if (evk_storage_is_half(ctx))
        ((uint16_t *)dst)[index] = evk_f32_to_f16(value);
    else
        ((float *)dst)[index] = value;
}

float evk_load_element(const evk_context *ctx, const void *src, size_t index)
{
    if (evk_storage_is_half(ctx))
        return evk_f16_to_f32(((const uint16_t *)src)[index]);
    return ((const float *)src)[index];
}

evk_status evk_buffer_create_weights(evk_context *ctx, const float *weights, uint64_t count,
                                     const char *what, evk_buffer *out)
{
    uint64_t bytes = evk_mul_sat(count, evk_element_bytes(ctx));
    if (bytes == EVK_SATURATED || bytes > SIZE_MAX)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: %llu weights do not fit in memory",
                        what, (unsigned long long)count);
    if (!evk_storage_is_half(ctx))
        return evk_buffer_create_with_data(ctx, weights, bytes, what, out);
    void *halves = evk_alloc(ctx, (size_t)bytes ? (size_t)bytes : 1);
    if (!halves)
        return evk_fail_oom(ctx, what);
    evk_store_elements(ctx, halves, weights, (size_t)count);
    evk_status s = evk_buffer_create_with_data(ctx, halves, bytes, what, out);
    evk_free(ctx, halves);
    return s;
}
