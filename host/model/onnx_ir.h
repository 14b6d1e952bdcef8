/* The importer's view of an ONNX graph: values with static shapes and ops
 * that are effvk layers or about to become part of one.
 *
 * onnx_lower.c turns each ONNX node into one op (or none: Identity,
 * Dropout, the shape arithmetic of exporters, evaluated on the host), with
 * shapes inferred from the graph input's. onnx_fuse.c then merges ops into
 * effvk's layers (a convolution's BatchNorm, bias and activation; MBConv
 * with squeeze-excitation; HetConv; OctConv) and removes what no output
 * needs; onnx_build.c creates the layers and the graph. No device is
 * needed before onnx_build.c, so costs come without one. */
#ifndef EFFVK_HOST_MODEL_ONNX_IR_H
#define EFFVK_HOST_MODEL_ONNX_IR_H

#include "activation.h"
#include "broadcast.h"
#include "onnx_proto.h"
#include "pool.h"

#define IR_NONE UINT32_MAX

/* A value: a feature map N x C x H x W (rank 4), a matrix [N, K] held as
 * N x K x 1 x 1 (rank 2), or a constant (an initializer, a Constant node's
 * output or the result of shape arithmetic), whose floats or ints are
 * `constant`'s. */
typedef struct ir_value {
    const char *name;
    uint32_t rank; /* 0 until the producer is lowered */
    evk_shape shape;
    const evk_onnx_tensor *constant;
    uint32_t producer; /* the op writing it, IR_NONE for inputs and constants */
    /* A reshape that moves no data (Flatten of N x C x 1 x 1, Squeeze,
     * Identity) is a view of another value: ops read and write only values
     * that are no view. */
    uint32_t view_of;
    uint32_t consumers; /* live ops reading it, plus one per graph output */
    int graph_output;
} ir_value;

typedef enum ir_kind {
    IR_CONV,            /* Conv, Gemm, MatMul (+ BatchNorm, bias, activation) */
    IR_BATCHNORM,       /* a BatchNormalization no conv took */
    IR_UNARY,           /* Relu, Clip, Sigmoid, HardSigmoid, HardSwish, SiLU */
    IR_BINARY,          /* Add, Mul of two values (broadcast) */
    IR_BINARY_CONSTANT, /* Add, Mul by a constant */
    IR_GLOBAL_POOL,
    IR_MAX_POOL,
    IR_AVG_POOL,
    IR_RESIZE, /* nearest, integer factors */
    IR_CROP,   /* a Slice of the top-left of a feature map */
    IR_CONCAT,
    IR_MBCONV,
    IR_HETCONV,
    IR_OCTCONV
} ir_kind;

/* The convolution part of an op: evk_conv2d_desc's fields (weights as
 * the op holds them, padding that may differ between the sides) and
 * whether it was a matrix product (Gemm, MatMul: a linear layer when it
 * has no activation). */
typedef struct ir_conv {
    evk_conv2d_desc desc;
    int linear;
} ir_conv;

typedef struct ir_op {
    ir_kind kind;
    int dead;
    uint32_t first_node; /* the ONNX node it started from: its name */
    uint32_t in[3], in_count;
    uint32_t out[2], out_count;
    ir_conv conv;
    evk_batchnorm batchnorm; /* IR_BATCHNORM */
    evk_unary_desc unary;
    evk_binary_op binary;
    evk_activation activation;      /* IR_BINARY add: ReLU fused after it */
    const evk_onnx_tensor *operand; /* IR_BINARY_CONSTANT */
    evk_shape operand_shape;
    evk_pool2d_desc pool;
    uint32_t scale_h, scale_w; /* IR_RESIZE */
    evk_mbconv_desc mbconv;
    evk_hetconv_desc hetconv;
    evk_octconv_desc octconv;
} ir_op;

typedef struct ir_graph {
    evk_context *ctx; /* for allocation and messages; may be NULL */
    const char *file; /* names the model in messages */
    const evk_onnx_model *onnx;
    uint32_t value_count, value_capacity;
    ir_value *values;
    uint32_t op_count, op_capacity;
    ir_op *ops;
    uint32_t *node_owner; /* [onnx->node_count]: the op each node became, or IR_NONE */
    uint32_t input;       /* the graph input's value */
    uint32_t output;      /* the graph output's value */
    uint32_t output_rank; /* as the graph names it: 2 ([N, K]) or 4 */
    /* Arrays the passes made (folded weights, host-evaluated constants),
     * freed with the graph. */
    void **owned;
    uint32_t owned_count, owned_capacity;
} ir_graph;

/* Lowers the parsed model with the input shape `input` (a dynamic
 * dimension takes the options' batch, height or width; a fixed one must
 * agree with a non-zero option). Errors name the node, its op type and the
 * attribute: EVK_ERROR_UNSUPPORTED (an operator, attribute value or data
 * type effvk does not run), EVK_ERROR_SHAPE_MISMATCH, EVK_ERROR_INVALID_ARGUMENT
 * (a malformed graph: an undefined value, a value defined twice, a missing
 * input), EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status evk_onnx_lower(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                          const evk_model_options *opts, ir_graph *g);

/* Runs the fusion passes and removes dead ops. */
evk_status evk_onnx_fuse(ir_graph *g);

void evk_ir_free(ir_graph *g);

/* Helpers the passes share (onnx_lower.c). */
uint32_t evk_ir_add_value(ir_graph *g, const char *name);
evk_status evk_ir_add_op(ir_graph *g, ir_kind kind, uint32_t node, uint32_t *out);
/* An array of `count` floats the graph frees; NULL on failure (reported). */
float *evk_ir_floats(ir_graph *g, uint64_t count);
/* The ONNX node's op type and name for messages: "Conv 'conv1'". */
const char *evk_ir_node_label(const ir_graph *g, uint32_t node, char *buffer, size_t size);

#endif
