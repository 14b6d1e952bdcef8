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

/* A 2-D pooling window as ONNX's MaxPool and AveragePool give it. Output
 * rows: (h + pad_top + pad_bottom − kernel_h) / stride_h + 1, rounded down,
 * or up with ceil_mode, where (as PyTorch) a last window that would start
 * in the bottom padding is dropped; columns alike. Windows are clipped to
 * the map for max pooling (padding never wins). */
typedef struct evk_pool2d_desc {
    uint32_t kernel_h, kernel_w;    /* 1 to 15 */
    uint32_t stride_h, stride_w;    /* 1 to 15 */
    uint32_t pad_top, pad_left, pad_bottom, pad_right; /* each below its kernel size */
    int ceil_mode;
    /* Average pooling: divide by the window's size within the padded map
     * (count_include_pad, clipped at the padded map's end as PyTorch does),
     * else by its pixels inside the map. Ignored by max pooling. */
    int count_include_pad;
} evk_pool2d_desc;

/* Max pooling (kernel name "max_pool") and average pooling ("avg_pool") of
 * a desc. Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, a field out of range),
 * EVK_ERROR_OUT_OF_HOST_MEMORY; the output shape is
 * EVK_ERROR_SHAPE_MISMATCH when the window does not fit the padded input. */
evk_status evk_max_pool2d_create(evk_context *ctx, const evk_pool2d_desc *desc, evk_layer **out);
evk_status evk_avg_pool2d_create(evk_context *ctx, const evk_pool2d_desc *desc, evk_layer **out);

#endif
