/* What the lowerings of ONNX operators share (onnx_lower.c): the walk's
 * state, the values by name, a node's inputs, outputs and attributes, and
 * errors that name the node. */
#ifndef EFFVK_HOST_MODEL_ONNX_LOWER_OPS_H
#define EFFVK_HOST_MODEL_ONNX_LOWER_OPS_H

#include <stdarg.h>

#include "onnx_ir.h"

/* A lowering's answer for a node of an operator it does not handle. */
#define EVK_LOWER_NOT_MINE ((evk_status)1)

typedef struct lowering {
    ir_graph *g;
    int64_t opset;
    uint32_t node;   /* the node being lowered */
    uint32_t *table; /* value indices by name hash */
    const char **table_names;
    uint32_t table_capacity, table_used;
} lowering;

uint32_t evk_lower_find(const lowering *l, const char *name);
evk_status evk_lower_bind(lowering *l, const char *name, uint32_t value);

/* Input `index` of the node (IR_NONE when absent and not required). */
evk_status evk_lower_input(lowering *l, uint32_t index, int required, uint32_t *value);
/* A new value for output `index`. */
evk_status evk_lower_output(lowering *l, uint32_t index, uint32_t *value);
/* Output 0 names `value` (Identity, Dropout, reshapes that change nothing). */
evk_status evk_lower_alias(lowering *l, uint32_t value);
/* EVK_ERROR_UNSUPPORTED for an attribute not in the NULL-ended `known`. */
evk_status evk_lower_attributes(lowering *l, const char *const *known);
/* evk_fail with the file and the node's label before the message. */
evk_status evk_lower_fail(lowering *l, evk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* A zeroed array the graph frees (NULL on failure, not reported). */
void *evk_ir_keep(ir_graph *g, size_t bytes);

/* Shared by the lowerings on feature maps (onnx_lower_ops.c). */
const evk_onnx_node *evk_lower_node_of(const lowering *l);
const evk_onnx_attribute *evk_lower_attribute(const lowering *l, const char *name);
int64_t evk_lower_int_attribute(const lowering *l, const char *name, int64_t fallback);
float evk_lower_float_attribute(const lowering *l, const char *name, float fallback);
const char *evk_lower_string_attribute(const lowering *l, const char *name, const char *fallback);
/* The value a view is of (itself for a value that is no view). */
uint32_t evk_lower_root_of(const ir_graph *g, uint32_t v);
/* Input `index`: a value computed from the graph's input, of ONNX rank
 * `rank` (2 or 4; 0 either). */
evk_status evk_lower_value_input(lowering *l, uint32_t index, uint32_t rank, uint32_t *v);
/* Input `index`: a constant of a floating type with `count` elements (0:
 * any), all finite; absent and not required: *t NULL. */
evk_status evk_lower_weight_input(lowering *l, uint32_t index, int required, uint64_t count,
                                  const evk_onnx_tensor **t);
/* A new op of the node reading `in`, and its output 0 of `shape`. */
evk_status evk_lower_new_op(lowering *l, ir_kind kind, uint32_t in, uint32_t *op);
evk_status evk_lower_set_output(lowering *l, uint32_t op, evk_shape shape, uint32_t rank);
/* Output 0 as a view of `v` with ONNX rank `rank`. */
evk_status evk_lower_view_output(lowering *l, uint32_t v, uint32_t rank);

typedef struct window {
    uint32_t kernel[2], stride[2];
    int64_t begin[2], end[2]; /* padding per axis: top, left / bottom, right */
} window;

/* kernel_shape (or `kernel`), strides, dilations (1 only), pads and
 * auto_pad of the node's 2-D window over `x`. */
evk_status evk_lower_read_window(lowering *l, const ir_value *x, const uint32_t *kernel, window *w);
/* Output size of a window in floor mode. */
uint32_t evk_lower_floor_output(uint32_t size, int64_t begin, int64_t end, uint32_t kernel,
                                uint32_t stride);
/* A conv's end padding beyond `begin` (evk_conv2d_desc's pad_*_extra) for
 * padding `begin` / `end` of an axis of `size`: 0 when the output is the
 * same as with both sides alike (no window reaches the difference), which
 * keeps the conv in the forms the block fusions take. */
int32_t evk_lower_end_extra(uint32_t size, int64_t begin, int64_t end, uint32_t kernel,
                            uint32_t stride);

/* onnx_lower_layout.c: pooling, reshapes, Resize, Concat and Slice; Pad
 * through evk_lower_pad. */
evk_status evk_lower_layout_op(lowering *l);
/* onnx_lower_pad.c */
evk_status evk_lower_pad(lowering *l);

/* The axes of Unsqueeze, Squeeze and ReduceMean: an attribute before opset
 * 13 (18 for ReduceMean), input 1 after; none: count 0. */
evk_status evk_lower_axes(lowering *l, const int64_t **axes, uint32_t *count);

/* onnx_constants.c: Constant and the shape arithmetic on constants. */
evk_status evk_lower_constant_op(lowering *l);
/* onnx_lower_ops.c: the operators on feature maps. */
evk_status evk_lower_feature_op(lowering *l);

/* evk_onnx_lower with graph inputs bound to constants (the conformance
 * tests give a Conv's weights as inputs): each of `bound` names one. */
evk_status evk_onnx_lower_bound(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                                const evk_model_options *opts, const evk_onnx_tensor *bound,
                                uint32_t bound_count, ir_graph *g);

#endif
