/* Nearest-neighbour upsampling by integer factors (ONNX Resize / Upsample
 * in nearest mode, PyTorch's interpolate(scale_factor=s, mode="nearest")):
 * y[i][j] = x[i / scale_h][j / scale_w]. One dispatch of
 * shaders/resize.comp. Internal: the ONNX importer creates it. */
#ifndef EFFVK_HOST_OPS_RESIZE_H
#define EFFVK_HOST_OPS_RESIZE_H

#include "layer.h"

/* Its kernel name is "resize_nearest"; its output is n × c × h·scale_h ×
 * w·scale_w. Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, a factor 0 or above
 * 64), EVK_ERROR_OUT_OF_HOST_MEMORY; the output shape is
 * EVK_ERROR_LIMIT_EXCEEDED past 2^24 rows or columns. */
evk_status evk_resize_nearest_create(evk_context *ctx, uint32_t scale_h, uint32_t scale_w,
                                     evk_layer **out);

#endif
