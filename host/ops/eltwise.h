/* Elementwise ops of the model graphs: the residual add of ResNet blocks,
 * y = act(a + b) for two tensors of one shape. Internal: the model builders
 * create it and the graph records it as a binary node. */
#ifndef EFFVK_HOST_OPS_ELTWISE_H
#define EFFVK_HOST_OPS_ELTWISE_H

#include "layer.h"

/* Its kernel name is "add"; its output shape is its input's. `activation`
 * NONE or RELU (the only ones whose value at 0 keeps padded channels zero).
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, another activation). */
evk_status evk_add_create(evk_context *ctx, evk_activation activation, evk_layer **out);

/* Records y = act(a + b); `a`, `b` and `y` of one shape. */
evk_status evk_add_record(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                          evk_tensor *y);

#endif
