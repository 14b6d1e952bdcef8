/* An ONNX model in memory: what the importer reads of ModelProto, GraphProto,
 * NodeProto, AttributeProto, TensorProto and ValueInfoProto, parsed by a
 * strict reader of the protobuf wire format (onnx_wire.h).
 *
 * Only what the importer needs is kept; unknown fields are skipped by their
 * wire type, as protobuf requires. Everything is in one allocation arena
 * owned by the evk_onnx_model (strings NUL-terminated). Tensors of the
 * floating types (FLOAT, FLOAT16, BFLOAT16, DOUBLE) are converted to float32
 * at parse time; the integer types (INT64, INT32, INT8, UINT8, INT16,
 * UINT16, BOOL) to int64; any other type (STRING, complex, ...) is kept as
 * a type with neither array, and the importer refuses it by name when it
 * needs its values. Values come from raw_data (little-endian) or the typed
 * fields (float_data, int32_data, int64_data, double_data), or from an
 * external data file (data_location EXTERNAL, key "location" with "offset"
 * and "length"), which must lie inside the model's folder.
 *
 * Errors name the file and what is wrong ("model.onnx: graph.node[3]
 * .attribute[1]: a length of 4000000000 bytes at offset 812 runs past the
 * end (1200 bytes)"). Limits: at most EVK_ONNX_MAX_DIMS dimensions, element
 * counts that fit in 2^40 and whose bytes fit in size_t, every length within
 * what remains of its message, nesting of at most 16 messages (a graph
 * attribute inside a node is refused). */
#ifndef EFFVK_HOST_MODEL_ONNX_PROTO_H
#define EFFVK_HOST_MODEL_ONNX_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"

#define EVK_ONNX_MAX_DIMS 8

/* TensorProto.DataType values. */
enum {
    EVK_ONNX_FLOAT = 1, EVK_ONNX_UINT8 = 2, EVK_ONNX_INT8 = 3, EVK_ONNX_UINT16 = 4,
    EVK_ONNX_INT16 = 5, EVK_ONNX_INT32 = 6, EVK_ONNX_INT64 = 7, EVK_ONNX_STRING = 8,
    EVK_ONNX_BOOL = 9, EVK_ONNX_FLOAT16 = 10, EVK_ONNX_DOUBLE = 11, EVK_ONNX_UINT32 = 12,
    EVK_ONNX_UINT64 = 13, EVK_ONNX_BFLOAT16 = 16
};

typedef struct evk_onnx_tensor {
    const char *name;               /* "" when unnamed (an attribute's) */
    int32_t data_type;              /* EVK_ONNX_* */
    uint32_t rank;
    int64_t dims[EVK_ONNX_MAX_DIMS];
    uint64_t count;                 /* product of dims (1 for rank 0) */
    const float *floats;            /* [count] for the floating types, else NULL */
    const int64_t *ints;            /* [count] for the integer types and BOOL, else NULL */
} evk_onnx_tensor;

/* AttributeProto.AttributeType values. */
enum {
    EVK_ONNX_ATTR_FLOAT = 1, EVK_ONNX_ATTR_INT = 2, EVK_ONNX_ATTR_STRING = 3,
    EVK_ONNX_ATTR_TENSOR = 4, EVK_ONNX_ATTR_GRAPH = 5, EVK_ONNX_ATTR_FLOATS = 6,
    EVK_ONNX_ATTR_INTS = 7, EVK_ONNX_ATTR_STRINGS = 8
};

typedef struct evk_onnx_attribute {
    const char *name;
    int32_t type;                   /* EVK_ONNX_ATTR_*; a graph-typed one is refused at parse */
    float f;
    int64_t i;
    const char *s;                  /* STRING, NUL-terminated (bytes with a NUL refused) */
    const evk_onnx_tensor *t;       /* TENSOR */
    uint32_t count;                 /* FLOATS / INTS / STRINGS: element count */
    const float *floats;
    const int64_t *ints;
    const char *const *strings;     /* STRINGS, each NUL-terminated */
} evk_onnx_attribute;

typedef struct evk_onnx_node {
    const char *name;               /* "" when unnamed */
    const char *op_type;
    const char *domain;             /* "" is the default ONNX domain ("ai.onnx" too) */
    uint32_t input_count, output_count, attribute_count;
    const char *const *inputs;      /* "" is an omitted optional input */
    const char *const *outputs;
    const evk_onnx_attribute *attributes;
} evk_onnx_node;

/* A graph input's or output's declared type: elem_type and each dimension,
 * dim_value, or -1 with `dim_params[d]` its symbolic name ("" if none). */
typedef struct evk_onnx_value_info {
    const char *name;
    int32_t elem_type;              /* 0 when the type is not a tensor or absent */
    uint32_t rank;                  /* 0 also when the shape is absent */
    int has_shape;
    int64_t dims[EVK_ONNX_MAX_DIMS];
    const char *dim_params[EVK_ONNX_MAX_DIMS];
} evk_onnx_value_info;

typedef struct evk_onnx_model {
    int64_t ir_version;
    int64_t opset;                  /* the default domain's opset_import version (0: none) */
    const char *producer_name;
    const char *graph_name;
    uint32_t node_count, initializer_count, input_count, output_count;
    const evk_onnx_node *nodes;
    const evk_onnx_tensor *initializers;
    /* Graph inputs as declared: initializers may be listed here too (older
     * exporters do); the importer skips those. */
    const evk_onnx_value_info *inputs;
    const evk_onnx_value_info *outputs;
} evk_onnx_model;

/* Parses the `size` bytes of a ModelProto. `file` names it in messages;
 * `folder` is where external data files are looked up (the model file's
 * folder; NULL: a tensor with external data is refused, as for a model in
 * memory). The bytes may be freed once this returns. Memory from ctx's
 * allocator (ctx NULL: malloc).
 * Errors: EVK_ERROR_INVALID_ARGUMENT (malformed wire data, a limit above
 * exceeded, a wrong count of typed values for a tensor's dims, an external
 * data path that leaves the folder or is absolute), EVK_ERROR_IO (an external
 * data file), EVK_ERROR_OUT_OF_HOST_MEMORY. */
evk_status evk_onnx_parse(evk_context *ctx, const void *bytes, size_t size, const char *file,
                          const char *folder, evk_onnx_model **out);

/* Parses a lone TensorProto (the conformance tests' input_0.pb). The tensor
 * is owned by *owner, freed with evk_onnx_free. */
evk_status evk_onnx_parse_tensor(evk_context *ctx, const void *bytes, size_t size,
                                 const char *file, evk_onnx_model **owner,
                                 const evk_onnx_tensor **out);

void evk_onnx_free(evk_context *ctx, evk_onnx_model *model);

/* The attribute `name` of a node, or NULL. */
const evk_onnx_attribute *evk_onnx_attribute_find(const evk_onnx_node *node, const char *name);

/* The name of a TensorProto data type ("FLOAT16", "INT64"; "type 42" for
 * unknown ones, in a static buffer per thread). */
const char *evk_onnx_type_name(int32_t data_type);

#endif
