/* The layer interface every op family implements: shape checking and
 * recording are the op's, submission and timing are shared. */
#ifndef EFFVK_HOST_LAYER_H
#define EFFVK_HOST_LAYER_H

#include "tensor.h"

typedef struct evk_layer_ops {
    const char *(*kernel_name)(const evk_layer *layer);
    evk_status (*output_shape)(const evk_layer *layer, evk_shape input, evk_shape *output);
    /* Records the layer's dispatches into the context's command buffer. */
    evk_status (*record)(evk_layer *layer, const evk_tensor *input, evk_tensor *output);
    void (*destroy)(evk_layer *layer);
} evk_layer_ops;

/* Op-specific structs start with this. */
struct evk_layer {
    evk_context *ctx;
    const evk_layer_ops *ops;
};

/* Binds a tensor's whole buffer to a dispatch. */
static inline evk_binding evk_tensor_binding(const evk_tensor *t, int writes)
{
    evk_binding b = {t->buffer.buffer, t->buffer.offset, t->buffer.bytes, writes,
                     !(t->buffer.usage & VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT)};
    return b;
}

static inline evk_binding evk_buffer_binding(const evk_buffer *buffer)
{
    evk_binding b = {buffer->buffer, 0, buffer->bytes, 0, 0};
    return b;
}

#endif
