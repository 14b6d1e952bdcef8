/* Global average pooling (EfficientNet's head): N x C x H x W → N x C x 1 x 1,
 * summed in fp32; max pooling (VGG, ResNet's stem). Internal: the model
 * builders create them. */
#ifndef EFFVK_HOST_OPS_POOL_H
#define EFFVK_HOST_OPS_POOL_H

#include "layer.h"

/* A layer that averages each channel plane of any input shape; its kernel
 * name is "global_avg_pool". */
evk_status evk_global_avg_pool_create(evk_context *ctx, evk_layer **out);

/* PyTorch's MaxPool2d(kernel, stride, pad) in floor mode: out = (in + 2·pad −
 * kernel) / stride + 1, padding never selected. Its kernel name is "max_pool".
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL; kernel 0 or above 15, stride 0 or
 * above kernel, padding above kernel / 2). */
evk_status evk_max_pool_create(evk_context *ctx, uint32_t kernel, uint32_t stride, uint32_t pad,
                               evk_layer **out);

#endif
