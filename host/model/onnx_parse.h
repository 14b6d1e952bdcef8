/* What the ONNX reader's files share (onnx_parse.c, onnx_tensor.c,
 * onnx_proto.c): the parse's state, its allocation arena, the message path
 * that every failure names, and field readers over onnx_wire.h's cursor
 * that turn a wire failure into the parse's status.
 *
 * The reader never recurses: each message type sits at a fixed depth (at
 * most 7: ModelProto, GraphProto, ValueInfoProto, TypeProto, its Tensor,
 * TensorShapeProto, Dimension) and graph attributes, ONNX's one recursion,
 * are refused, so onnx_proto.h's nesting limit holds by construction.
 * A message with a name is read in passes: the name first, so that every
 * failure inside it names it; then its fields, counting the repeated ones;
 * then, with the arrays allocated, the repeated fields again to fill them. */
#ifndef EFFVK_HOST_MODEL_ONNX_PARSE_H
#define EFFVK_HOST_MODEL_ONNX_PARSE_H

#include "model/onnx_proto.h"
#include "model/onnx_wire.h"

#if defined(__GNUC__)
#    define ONNX_PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#else
#    define ONNX_PRINTF_LIKE(f, a)
#endif

/* Field numbers (onnx.proto). */
enum {
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER_NAME = 2,
    MODEL_GRAPH = 7,
    MODEL_OPSET_IMPORT = 8,
    OPSET_DOMAIN = 1,
    OPSET_VERSION = 2,
    GRAPH_NODE = 1,
    GRAPH_NAME = 2,
    GRAPH_INITIALIZER = 5,
    GRAPH_INPUT = 11,
    GRAPH_OUTPUT = 12,
    GRAPH_SPARSE_INITIALIZER = 15,
    NODE_INPUT = 1,
    NODE_OUTPUT = 2,
    NODE_NAME = 3,
    NODE_OP_TYPE = 4,
    NODE_ATTRIBUTE = 5,
    NODE_DOMAIN = 7,
    ATTR_NAME = 1,
    ATTR_F = 2,
    ATTR_I = 3,
    ATTR_S = 4,
    ATTR_T = 5,
    ATTR_G = 6,
    ATTR_FLOATS = 7,
    ATTR_INTS = 8,
    ATTR_STRINGS = 9,
    ATTR_TENSORS = 10,
    ATTR_GRAPHS = 11,
    ATTR_TYPE = 20,
    ATTR_REF_ATTR_NAME = 21,
    ATTR_SPARSE_TENSOR = 22,
    ATTR_SPARSE_TENSORS = 23,
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_SEGMENT = 3,
    TENSOR_FLOAT_DATA = 4,
    TENSOR_INT32_DATA = 5,
    TENSOR_STRING_DATA = 6,
    TENSOR_INT64_DATA = 7,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    TENSOR_DOUBLE_DATA = 10,
    TENSOR_UINT64_DATA = 11,
    TENSOR_EXTERNAL_DATA = 13,
    TENSOR_DATA_LOCATION = 14,
    ENTRY_KEY = 1,
    ENTRY_VALUE = 2,
    VALUE_NAME = 1,
    VALUE_TYPE = 2,
    TYPE_TENSOR_TYPE = 1,
    TENSOR_TYPE_ELEM_TYPE = 1,
    TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2
};

typedef struct onnx_block onnx_block;

typedef struct onnx_parser {
    evk_context *ctx;
    const char *file, *folder; /* folder NULL: a model in memory */
    onnx_block *blocks;        /* everything the result holds */
    evk_wire_error wire_error;
    size_t path_length;
    char path[384]; /* "graph.node[3] (Conv 'conv1').attribute 'pads'" */
} onnx_parser;

#define ONNX_TRY(call)                       \
    do {                                     \
        evk_status onnx_try_status = (call); \
        if (onnx_try_status != EVK_SUCCESS)  \
            return onnx_try_status;          \
    } while (0)
/* A failed wire read left its message in p->wire_error. */
#define ONNX_WIRE(p, ok)                \
    do {                                \
        if (!(ok))                      \
            return onnx_wire_failed(p); \
    } while (0)

/* Zeroed memory from the arena (NULL when the allocator fails), freed all at
 * once by onnx_release. */
void *onnx_alloc(onnx_parser *p, size_t size);
void *onnx_array(onnx_parser *p, uint64_t count, size_t size);
void onnx_release(evk_context *ctx, onnx_block *blocks);

/* Appends to the path; returns the length to go back to with onnx_path_pop. */
size_t onnx_path_push(onnx_parser *p, const char *fmt, ...) ONNX_PRINTF_LIKE(2, 3);
void onnx_path_pop(onnx_parser *p, size_t mark);

/* Failures: "FILE: PATH: TEXT". onnx_fail is EVK_ERROR_INVALID_ARGUMENT with
 * " at offset N" after the text. */
evk_status onnx_report(onnx_parser *p, evk_status status, const char *text);
evk_status onnx_fail(onnx_parser *p, size_t offset, const char *fmt, ...) ONNX_PRINTF_LIKE(3, 4);
evk_status onnx_wire_failed(onnx_parser *p);
evk_status onnx_out_of_memory(onnx_parser *p, const char *what);

/* A field's value after its tag, of the wire type the field must have. */
evk_status onnx_read_varint(onnx_parser *p, evk_wire *w, uint32_t type, uint64_t *value);
evk_status onnx_read_payload(onnx_parser *p, evk_wire *w, uint32_t type, evk_wire *payload);
/* Copied into the arena, NUL-terminated; one holding a NUL byte is refused. */
evk_status onnx_copy_string(onnx_parser *p, const evk_wire *payload, const char *what,
                            const char **out);
evk_status onnx_read_string(onnx_parser *p, evk_wire *w, uint32_t type, const char *what,
                            const char **out);
/* String field `field` of the message `w` covers ("" when absent; the last
 * one wins, as in protobuf). */
evk_status onnx_find_string(onnx_parser *p, evk_wire w, uint32_t field, const char *what,
                            const char **out);
/* Adds the values of one occurrence of a repeated scalar field to *count. */
evk_status onnx_count_values(onnx_parser *p, evk_wire *w, uint32_t type, uint32_t scalar,
                             uint64_t *count);
/* Refuses a count past what a uint32_t count field holds. */
evk_status onnx_check_count(onnx_parser *p, size_t at, uint64_t count, const char *what,
                            uint32_t *out);

/* A TensorProto (onnx_tensor.c): the name, type, dims and, for the types
 * converted at parse, the values. */
evk_status onnx_parse_tensor_message(onnx_parser *p, evk_wire msg, evk_onnx_tensor *t);

#endif
