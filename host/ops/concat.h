/* Concatenation along channels of two packed tensors of one batch and size
 * (ONNX Concat on axis 1): one dispatch of shaders/concat.comp, one lane per
 * output quad gathering each of its four channels from a or b (the boundary
 * need not be a multiple of 4). Internal: the ONNX importer creates it. */
#ifndef EFFVK_HOST_OPS_CONCAT_H
#define EFFVK_HOST_OPS_CONCAT_H

#include "layer.h"

/* Its kernel name is "concat"; for an input (a) of `a_channels` channels
 * its output has a_channels + b_channels, a's batch and size.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, a channel count 0, a sum past
 * 2^24), EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status evk_concat_create(evk_context *ctx, uint32_t a_channels, uint32_t b_channels,
                             evk_layer **out);

/* Records y = [a, b] along channels. Errors: EVK_ERROR_SHAPE_MISMATCH when
 * a's or b's channels are not the layer's or their batch or size differ. */
evk_status evk_concat_record(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                             evk_tensor *y);

#endif
