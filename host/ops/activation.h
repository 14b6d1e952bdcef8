/* Standalone activations of imported graphs (those no convolution's epilogue
 * took): y = f(x) element by element over a packed tensor, one dispatch of
 * shaders/activation.comp. Padded channels are written as zero whatever f(0)
 * is. Internal: the ONNX importer creates them. */
#ifndef EFFVK_HOST_OPS_ACTIVATION_H
#define EFFVK_HOST_OPS_ACTIVATION_H

#include "layer.h"

typedef enum evk_unary_op {
    EVK_UNARY_CLAMP = 0,            /* min(max(x, min), max): Relu, ReLU6, Clip */
    EVK_UNARY_SIGMOID = 1,          /* 1 / (1 + exp(-x)) */
    EVK_UNARY_HARD_SIGMOID = 2,     /* max(0, min(1, alpha·x + beta)) */
    EVK_UNARY_HARD_SWISH = 3,       /* x · max(0, min(1, x / 6 + 1/2)) */
    EVK_UNARY_SILU = 4              /* x · sigmoid(x) */
} evk_unary_op;

typedef struct evk_unary_desc {
    evk_unary_op op;
    float min, max;                 /* CLAMP: min <= max; -INFINITY / INFINITY allowed */
    float alpha, beta;              /* HARD_SIGMOID: finite */
} evk_unary_desc;

/* Its kernel name is "clamp", "sigmoid", "hard_sigmoid", "hard_swish" or
 * "silu"; its output shape is its input's.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, unknown op, NaN bounds,
 * min > max, non-finite alpha or beta), EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status evk_unary_create(evk_context *ctx, const evk_unary_desc *desc, evk_layer **out);

#endif
