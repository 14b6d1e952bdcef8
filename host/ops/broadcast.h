/* Binary elementwise ops of imported graphs with ONNX/NumPy broadcasting
 * over the four dimensions: y = a + b or a · b where each of b's dimensions
 * is a's or 1 (an SE's per-image channel scale [N, C, 1, 1], a per-channel
 * constant [1, C, 1, 1], a scalar [1, 1, 1, 1], or a's whole shape). One
 * dispatch of shaders/broadcast.comp; padded channels stay zero (0 + 0,
 * 0 · b; a per-channel b's padded lanes are zero too). Internal: the ONNX
 * importer creates them. */
#ifndef EFFVK_HOST_OPS_BROADCAST_H
#define EFFVK_HOST_OPS_BROADCAST_H

#include "layer.h"

typedef enum evk_binary_op {
    EVK_BINARY_ADD = 0,
    EVK_BINARY_MUL = 1
} evk_binary_op;

/* A binary layer on two graph tensors, recorded by evk_binary_record; its
 * kernel name is "broadcast_add" or "broadcast_mul", its output shape a's.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, unknown op),
 * EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status evk_binary_create(evk_context *ctx, evk_binary_op op, evk_layer **out);

/* Records y = a op b; y has a's shape, b broadcasts to it.
 * Errors: EVK_ERROR_SHAPE_MISMATCH naming both shapes when a dimension of b
 * is neither a's nor 1. */
evk_status evk_binary_record(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                             evk_tensor *y);

/* A unary layer y = x op c with a constant c of shape `shape` (each
 * dimension 1 or the input's; checked when recorded) from the host array
 * `values` of `count` elements (count = the shape's elements, all finite;
 * copied to a device tensor the layer owns, at the context's precision).
 * Same kernel names, recorded by evk_layer_forward or the graph as a unary
 * node. Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, unknown op, wrong count,
 * a non-finite value named with its index), memory errors. */
evk_status evk_binary_constant_create(evk_context *ctx, evk_binary_op op, evk_shape shape,
                                      const float *values, uint64_t count, evk_layer **out);

#endif
