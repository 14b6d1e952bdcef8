/* Builds ONNX protobuf bytes by hand for the tests and the fuzzer: a small
 * writer of the wire format, onnx.proto's field numbers, and a valid model
 * with a Conv node, attributes of each kind and initializers in raw and
 * typed form. Allocation failures abort. */
#ifndef EFFVK_TESTS_ONNX_FILE_H
#define EFFVK_TESTS_ONNX_FILE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Field numbers (onnx.proto). */
enum {
    MODEL_IR_VERSION = 1,
    MODEL_PRODUCER = 2,
    MODEL_GRAPH = 7,
    MODEL_OPSET = 8,
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
    ATTR_TYPE = 20,
    TENSOR_DIMS = 1,
    TENSOR_DATA_TYPE = 2,
    TENSOR_FLOAT_DATA = 4,
    TENSOR_INT32_DATA = 5,
    TENSOR_INT64_DATA = 7,
    TENSOR_NAME = 8,
    TENSOR_RAW_DATA = 9,
    TENSOR_DOUBLE_DATA = 10,
    TENSOR_EXTERNAL_DATA = 13,
    TENSOR_DATA_LOCATION = 14,
    ENTRY_KEY = 1,
    ENTRY_VALUE = 2,
    VALUE_NAME = 1,
    VALUE_TYPE = 2,
    TYPE_TENSOR = 1,
    TENSOR_TYPE_ELEM = 1,
    TENSOR_TYPE_SHAPE = 2,
    SHAPE_DIM = 1,
    DIM_VALUE = 1,
    DIM_PARAM = 2
};

typedef struct pb {
    unsigned char *bytes;
    size_t size, capacity;
} pb;

static inline void pb_raw(pb *b, const void *data, size_t n)
{
    if (b->size + n > b->capacity) {
        b->capacity = 2 * (b->size + n) + 64;
        b->bytes = realloc(b->bytes, b->capacity);
        if (!b->bytes)
            abort();
    }
    if (n)
        memcpy(b->bytes + b->size, data, n);
    b->size += n;
}

static inline void pb_varint(pb *b, uint64_t v)
{
    do {
        unsigned char byte = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        pb_raw(b, &byte, 1);
        v >>= 7;
    } while (v);
}

static inline void pb_tag(pb *b, uint32_t field, uint32_t wire_type)
{
    pb_varint(b, (uint64_t)field << 3 | wire_type);
}

static inline void pb_int(pb *b, uint32_t field, int64_t v)
{
    pb_tag(b, field, 0);
    pb_varint(b, (uint64_t)v);
}

static inline void pb_le(pb *b, uint64_t bits, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; ++i) {
        unsigned char byte = (unsigned char)(bits >> (8 * i));
        pb_raw(b, &byte, 1);
    }
}

static inline void pb_float(pb *b, uint32_t field, float value)
{
    uint32_t bits;
    memcpy(&bits, &value, sizeof bits);
    pb_tag(b, field, 5);
    pb_le(b, bits, 4);
}

static inline void pb_bytes(pb *b, uint32_t field, const void *data, size_t n)
{
    pb_tag(b, field, 2);
    pb_varint(b, n);
    pb_raw(b, data, n);
}

static inline void pb_str(pb *b, uint32_t field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

/* Appends `sub` as field `field` and frees it. */
static inline void pb_msg(pb *b, uint32_t field, pb *sub)
{
    pb_bytes(b, field, sub->bytes, sub->size);
    free(sub->bytes);
    *sub = (pb){0};
}

static inline void pb_packed(pb *b, uint32_t field, const int64_t *values, size_t n)
{
    pb run = {0};
    for (size_t i = 0; i < n; ++i)
        pb_varint(&run, (uint64_t)values[i]);
    pb_msg(b, field, &run);
}

static inline void pb_packed_floats(pb *b, uint32_t field, const float *values, size_t n)
{
    pb run = {0};
    for (size_t i = 0; i < n; ++i) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        pb_le(&run, bits, 4);
    }
    pb_msg(b, field, &run);
}

/* A TensorProto's name (NULL: none), data type and packed dims. */
static inline pb pb_tensor(const char *name, int32_t type, const int64_t *dims, size_t rank)
{
    pb t = {0};
    pb_packed(&t, TENSOR_DIMS, dims, rank);
    pb_int(&t, TENSOR_DATA_TYPE, type);
    if (name)
        pb_str(&t, TENSOR_NAME, name);
    return t;
}

/* A graph input or output: a FLOAT tensor whose dims are dim_values, or
 * dim_params where `params[d]` is not NULL; rank < 0: no shape. */
static inline void pb_value(pb *graph, uint32_t field, const char *name, const int64_t *dims,
                            const char *const *params, int rank)
{
    pb shape = {0}, tensor_type = {0}, type = {0}, value = {0};
    for (int d = 0; d < rank; ++d) {
        pb dim = {0};
        if (params && params[d])
            pb_str(&dim, DIM_PARAM, params[d]);
        else
            pb_int(&dim, DIM_VALUE, dims[d]);
        pb_msg(&shape, SHAPE_DIM, &dim);
    }
    pb_int(&tensor_type, TENSOR_TYPE_ELEM, 1);
    if (rank >= 0)
        pb_msg(&tensor_type, TENSOR_TYPE_SHAPE, &shape);
    free(shape.bytes);
    pb_msg(&type, TYPE_TENSOR, &tensor_type);
    pb_str(&value, VALUE_NAME, name);
    pb_msg(&value, VALUE_TYPE, &type);
    pb_msg(graph, field, &value);
}

/* Wraps a GraphProto into a ModelProto (IR 8, opset 13) and frees it. */
static inline pb pb_model(pb *graph)
{
    pb model = {0}, opset = {0}, other = {0};
    pb_int(&model, MODEL_IR_VERSION, 8);
    pb_str(&model, MODEL_PRODUCER, "effvk-test");
    pb_msg(&model, MODEL_GRAPH, graph);
    pb_str(&other, OPSET_DOMAIN, "com.microsoft");
    pb_int(&other, OPSET_VERSION, 1);
    pb_msg(&model, MODEL_OPSET, &other);
    pb_str(&opset, OPSET_DOMAIN, "");
    pb_int(&opset, OPSET_VERSION, 13);
    pb_msg(&model, MODEL_OPSET, &opset);
    return model;
}

static inline void pb_attribute(pb *node, const char *name, int type, pb *value_fields)
{
    pb a = {0};
    pb_str(&a, ATTR_NAME, name);
    pb_raw(&a, value_fields->bytes, value_fields->size);
    pb_int(&a, ATTR_TYPE, type);
    free(value_fields->bytes);
    *value_fields = (pb){0};
    pb_msg(node, NODE_ATTRIBUTE, &a);
}

/* The test model: Conv 'conv1' (x, w, b) -> y with kernel_shape (packed
 * ints), pads (unpacked ints), alpha (float), auto_pad (string), value (a
 * tensor), scales (floats) and modes (strings); w [2, 1, 3, 3] in raw_data
 * (value i / 2), b [2] in float_data {0.5, -1}; input x [N, 1, 5, 5] (N a
 * dim_param), w listed as an input too, output y without a shape. */
static inline pb pb_conv_model(void)
{
    pb node = {0}, v = {0}, graph = {0};
    pb_str(&node, NODE_INPUT, "x");
    pb_str(&node, NODE_INPUT, "w");
    pb_str(&node, NODE_INPUT, "b");
    pb_str(&node, NODE_OUTPUT, "y");
    pb_str(&node, NODE_NAME, "conv1");
    pb_str(&node, NODE_OP_TYPE, "Conv");
    pb_packed(&v, ATTR_INTS, (const int64_t[]){3, 3}, 2);
    pb_attribute(&node, "kernel_shape", 7, &v);
    for (int i = 0; i < 4; ++i)
        pb_int(&v, ATTR_INTS, 1);
    pb_attribute(&node, "pads", 7, &v);
    pb_float(&v, ATTR_F, 0.5f);
    pb_attribute(&node, "alpha", 1, &v);
    pb_str(&v, ATTR_S, "NOTSET");
    pb_attribute(&node, "auto_pad", 3, &v);
    pb value = pb_tensor(NULL, 1, (const int64_t[]){2}, 1);
    pb_packed_floats(&value, TENSOR_FLOAT_DATA, (const float[]){1.5f, -2.0f}, 2);
    pb_msg(&v, ATTR_T, &value);
    pb_attribute(&node, "value", 4, &v);
    pb_float(&v, ATTR_FLOATS, 0.25f);
    pb_float(&v, ATTR_FLOATS, 4.0f);
    pb_attribute(&node, "scales", 6, &v);
    pb_str(&v, ATTR_STRINGS, "a");
    pb_str(&v, ATTR_STRINGS, "bc");
    pb_attribute(&node, "modes", 8, &v);
    pb_msg(&graph, GRAPH_NODE, &node);
    pb_str(&graph, GRAPH_NAME, "g");
    pb w = pb_tensor("w", 1, (const int64_t[]){2, 1, 3, 3}, 4);
    float weights[18];
    for (int i = 0; i < 18; ++i)
        weights[i] = (float)i / 2;
    pb_tag(&w, TENSOR_RAW_DATA, 2);
    pb_varint(&w, sizeof weights);
    for (int i = 0; i < 18; ++i) {
        uint32_t bits;
        memcpy(&bits, &weights[i], sizeof bits);
        pb_le(&w, bits, 4);
    }
    pb_msg(&graph, GRAPH_INITIALIZER, &w);
    pb b = pb_tensor("b", 1, (const int64_t[]){2}, 1);
    pb_packed_floats(&b, TENSOR_FLOAT_DATA, (const float[]){0.5f, -1.0f}, 2);
    pb_msg(&graph, GRAPH_INITIALIZER, &b);
    pb_value(&graph, GRAPH_INPUT, "x", (const int64_t[]){0, 1, 5, 5},
             (const char *const[]){"N", NULL, NULL, NULL}, 4);
    pb_value(&graph, GRAPH_INPUT, "w", (const int64_t[]){2, 1, 3, 3}, NULL, 4);
    pb_value(&graph, GRAPH_OUTPUT, "y", NULL, NULL, -1);
    return pb_model(&graph);
}

/* ---- Graphs of several nodes (test_onnx_fusion*.c). */

/* Attributes of one value each, appended to a node (or to a pb that
 * pb_node later copies into one). */
static inline void pb_attribute_int(pb *node, const char *name, int64_t value)
{
    pb v = {0};
    pb_int(&v, ATTR_I, value);
    pb_attribute(node, name, 2, &v);
}

static inline void pb_attribute_float(pb *node, const char *name, float value)
{
    pb v = {0};
    pb_float(&v, ATTR_F, value);
    pb_attribute(node, name, 1, &v);
}

static inline void pb_attribute_ints(pb *node, const char *name, const int64_t *values, size_t n)
{
    pb v = {0};
    pb_packed(&v, ATTR_INTS, values, n);
    pb_attribute(node, name, 7, &v);
}

static inline void pb_attribute_string(pb *node, const char *name, const char *value)
{
    pb v = {0};
    pb_str(&v, ATTR_S, value);
    pb_attribute(node, name, 3, &v);
}

/* A NodeProto in `graph`: its op type, name, NULL-ended inputs ("" an
 * omitted optional one) and outputs, and the attributes `attributes` holds
 * (pb_attribute* fields, freed; NULL: none). */
static inline void pb_node(pb *graph, const char *op_type, const char *name,
                           const char *const *inputs, const char *const *outputs, pb *attributes)
{
    pb node = {0};
    for (; inputs && *inputs; ++inputs)
        pb_str(&node, NODE_INPUT, *inputs);
    for (; outputs && *outputs; ++outputs)
        pb_str(&node, NODE_OUTPUT, *outputs);
    pb_str(&node, NODE_NAME, name);
    pb_str(&node, NODE_OP_TYPE, op_type);
    if (attributes) {
        pb_raw(&node, attributes->bytes, attributes->size);
        free(attributes->bytes);
        *attributes = (pb){0};
    }
    pb_msg(graph, GRAPH_NODE, &node);
}

/* Initializers: FLOAT in raw_data, INT64 in packed int64_data. */
static inline void pb_float_initializer(pb *graph, const char *name, const int64_t *dims,
                                        size_t rank, const float *values, size_t count)
{
    pb t = pb_tensor(name, 1, dims, rank);
    pb_tag(&t, TENSOR_RAW_DATA, 2);
    pb_varint(&t, 4 * count);
    for (size_t i = 0; i < count; ++i) {
        uint32_t bits;
        memcpy(&bits, &values[i], sizeof bits);
        pb_le(&t, bits, 4);
    }
    pb_msg(graph, GRAPH_INITIALIZER, &t);
}

static inline void pb_int64_initializer(pb *graph, const char *name, const int64_t *dims,
                                        size_t rank, const int64_t *values, size_t count)
{
    pb t = pb_tensor(name, 7, dims, rank);
    pb_packed(&t, TENSOR_INT64_DATA, values, count);
    pb_msg(graph, GRAPH_INITIALIZER, &t);
}

/* A malloc'd copy of exactly `size` bytes, so that AddressSanitizer sees a
 * read past the end. */
static inline unsigned char *pb_exact(const unsigned char *bytes, size_t size)
{
    unsigned char *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    if (size)
        memcpy(copy, bytes, size);
    return copy;
}

#endif
