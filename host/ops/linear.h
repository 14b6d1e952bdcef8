/* Fully connected layer (EfficientNet's classifier): N x C x 1 x 1 →
 * N x K x 1 x 1, y = W·x + b, summed in fp32. Internal: the model builders
 * create it. */
#ifndef EFFVK_HOST_OPS_LINEAR_H
#define EFFVK_HOST_OPS_LINEAR_H

#include "layer.h"

/* `weight` is PyTorch's Linear.weight [K][C] row-major, `bias` [K] (NULL: no
 * bias); both are copied. Its kernel name is "linear".
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL ctx, out or weight; zero or more
 * than 2^24 features), EVK_ERROR_OUT_OF_HOST_MEMORY, device memory errors. */
evk_status evk_linear_create(evk_context *ctx, uint32_t in_features, uint32_t out_features,
                             const float *weight, const float *bias, evk_layer **out);

/* The [K4][C4] mat4 device layout of `weight` (column j of the mat4 of
 * quads (k4, c4) holds W[4·k4 + i][4·c4 + j] in row i; padding is zero);
 * allocated with evk_alloc, its size in *bytes. */
float *evk_linear_pack(evk_context *ctx, uint32_t in_features, uint32_t out_features,
                       const float *weight, size_t *bytes);

#endif
