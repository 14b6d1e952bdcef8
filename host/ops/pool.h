/* Global average pooling (EfficientNet's head): N x C x H x W → N x C x 1 x 1,
 * summed in fp32. Internal: the model builders create it. */
#ifndef EFFVK_HOST_OPS_POOL_H
#define EFFVK_HOST_OPS_POOL_H

#include "layer.h"

/* A layer that averages each channel plane of any input shape; its kernel
 * name is "global_avg_pool". */
evk_status evk_global_avg_pool_create(evk_context *ctx, evk_layer **out);

#endif
