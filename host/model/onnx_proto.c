#include "model/onnx_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failure.h"
#include "host_memory.h"

/* ---- Attributes. */

/* AttributeType values past onnx_proto.h's, all refused. */
enum { TYPE_TENSORS = 9, TYPE_GRAPHS = 10, TYPE_SPARSE_TENSOR = 11, TYPE_SPARSE_TENSORS = 12 };

typedef struct attribute_scan {
    evk_wire s, t;
    int has_s, has_t, has_f, has_i;
    uint64_t floats, ints, strings;
    int graph;           /* g or graphs present */
    int32_t unsupported; /* the type of tensors or sparse values present, or 0 */
} attribute_scan;

static const char *attribute_type_name(int32_t type)
{
    static const char *const names[] = {
        "UNDEFINED",      "FLOAT",      "INT",        "STRING",  "TENSOR", "GRAPH",
        "FLOATS",         "INTS",       "STRINGS",    "TENSORS", "GRAPHS", "SPARSE_TENSOR",
        "SPARSE_TENSORS", "TYPE_PROTO", "TYPE_PROTOS"};
    return type >= 0 && (size_t)type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

static evk_status scan_attribute(onnx_parser *p, evk_wire w, evk_onnx_attribute *a,
                                 attribute_scan *s)
{
    while (evk_wire_more(&w)) {
        uint32_t field, type, bits;
        uint64_t v;
        evk_wire payload;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        switch (field) {
        case ATTR_TYPE:
            ONNX_TRY(onnx_read_varint(p, &w, type, &v));
            a->type = (int32_t)(uint32_t)v;
            break;
        case ATTR_F:
            ONNX_WIRE(p, evk_wire_expect(&w, type, EVK_WIRE_I32) && evk_wire_fixed32(&w, &bits));
            memcpy(&a->f, &bits, sizeof bits);
            s->has_f = 1;
            break;
        case ATTR_I:
            ONNX_TRY(onnx_read_varint(p, &w, type, &v));
            a->i = (int64_t)v;
            s->has_i = 1;
            break;
        case ATTR_S:
            ONNX_TRY(onnx_read_payload(p, &w, type, &s->s));
            s->has_s = 1;
            break;
        case ATTR_T:
            ONNX_TRY(onnx_read_payload(p, &w, type, &s->t));
            s->has_t = 1;
            break;
        case ATTR_FLOATS:
            ONNX_TRY(onnx_count_values(p, &w, type, EVK_WIRE_I32, &s->floats));
            break;
        case ATTR_INTS:
            ONNX_TRY(onnx_count_values(p, &w, type, EVK_WIRE_VARINT, &s->ints));
            break;
        case ATTR_STRINGS:
            ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
            ++s->strings;
            break;
        case ATTR_REF_ATTR_NAME:
            return onnx_fail(p, w.field_start,
                             "ref_attr_name (a function's attribute) is not supported");
        default:
            s->graph |= field == ATTR_G || field == ATTR_GRAPHS;
            if (field == ATTR_TENSORS || field == ATTR_SPARSE_TENSOR ||
                field == ATTR_SPARSE_TENSORS)
                s->unsupported = field == ATTR_TENSORS ? TYPE_TENSORS
                    : field == ATTR_SPARSE_TENSOR      ? TYPE_SPARSE_TENSOR
                                                       : TYPE_SPARSE_TENSORS;
            ONNX_WIRE(p, evk_wire_skip(&w, type));
            break;
        }
    }
    return EVK_SUCCESS;
}

/* IR version 1 had no `type`: the field that is present says it. */
static int32_t inferred_type(const attribute_scan *s)
{
    return s->has_f  ? EVK_ONNX_ATTR_FLOAT
        : s->has_i   ? EVK_ONNX_ATTR_INT
        : s->has_s   ? EVK_ONNX_ATTR_STRING
        : s->has_t   ? EVK_ONNX_ATTR_TENSOR
        : s->graph   ? EVK_ONNX_ATTR_GRAPH
        : s->floats  ? EVK_ONNX_ATTR_FLOATS
        : s->ints    ? EVK_ONNX_ATTR_INTS
        : s->strings ? EVK_ONNX_ATTR_STRINGS
                     : 0;
}

/* The `count` values of a FLOATS, INTS or STRINGS attribute into `array`. */
static evk_status fill_attribute(onnx_parser *p, evk_wire w, int32_t type, uint32_t count,
                                 void *array)
{
    uint32_t wanted = type == EVK_ONNX_ATTR_FLOATS ? ATTR_FLOATS
        : type == EVK_ONNX_ATTR_INTS               ? ATTR_INTS
                                                   : ATTR_STRINGS;
    float *floats = array;
    int64_t *ints = array;
    const char **strings = array;
    uint32_t i = 0;
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field != wanted || i == count) {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        } else if (field == ATTR_STRINGS) {
            ONNX_TRY(onnx_read_string(p, &w, type, "a string", &strings[i++]));
        } else {
            evk_wire_scalars values;
            ONNX_WIRE(p,
                      evk_wire_scalars_begin(&w, type,
                                             field == ATTR_FLOATS ? EVK_WIRE_I32 : EVK_WIRE_VARINT,
                                             &values));
            for (uint64_t v; evk_wire_more(&values.run) && i < count; ++i) {
                ONNX_WIRE(p, evk_wire_scalars_next(&values, &v));
                if (field == ATTR_FLOATS) {
                    uint32_t bits = (uint32_t)v;
                    memcpy(&floats[i], &bits, sizeof bits);
                } else {
                    ints[i] = (int64_t)v;
                }
            }
        }
    }
    return EVK_SUCCESS;
}

static evk_status parse_attribute(onnx_parser *p, evk_wire msg, uint32_t index,
                                  evk_onnx_attribute *a)
{
    ONNX_TRY(onnx_find_string(p, msg, ATTR_NAME, "the attribute's name", &a->name));
    if (!a->name[0]) {
        onnx_path_push(p, ".attribute[%u]", index);
        return onnx_fail(p, msg.pos, "an attribute without a name");
    }
    size_t mark = onnx_path_push(p, ".attribute '%.64s'", a->name);
    a->s = "";
    attribute_scan s = {0};
    ONNX_TRY(scan_attribute(p, msg, a, &s));
    if (!a->type)
        a->type = inferred_type(&s);
    if (s.graph || a->type == EVK_ONNX_ATTR_GRAPH || a->type == TYPE_GRAPHS)
        return onnx_fail(p, msg.pos,
                         "a graph attribute: subgraphs (If/Loop/Scan) are not supported");
    int32_t type = s.unsupported ? s.unsupported : a->type;
    if (type < EVK_ONNX_ATTR_FLOAT || type > EVK_ONNX_ATTR_STRINGS)
        return onnx_fail(p, msg.pos, "attributes of type %s (%d) are not supported",
                         attribute_type_name(type), (int)type);
    if (type == EVK_ONNX_ATTR_STRING && s.has_s) {
        ONNX_TRY(onnx_copy_string(p, &s.s, "the string", &a->s));
    } else if (type == EVK_ONNX_ATTR_TENSOR) {
        if (!s.has_t)
            return onnx_fail(p, msg.pos, "a TENSOR attribute without a tensor");
        evk_onnx_tensor *t = onnx_alloc(p, sizeof *t);
        if (!t)
            return onnx_out_of_memory(p, "attribute tensor");
        ONNX_TRY(onnx_parse_tensor_message(p, s.t, t));
        a->t = t;
    } else if (type >= EVK_ONNX_ATTR_FLOATS) {
        int floats = type == EVK_ONNX_ATTR_FLOATS, ints = type == EVK_ONNX_ATTR_INTS;
        uint64_t count = floats ? s.floats : ints ? s.ints : s.strings;
        size_t size = floats ? sizeof(float) : ints ? sizeof(int64_t) : sizeof(char *);
        ONNX_TRY(onnx_check_count(p, msg.pos, count, "values", &a->count));
        void *array = onnx_array(p, count, size);
        if (!array)
            return onnx_out_of_memory(p, "attribute values");
        ONNX_TRY(fill_attribute(p, msg, type, a->count, array));
        a->floats = floats ? array : NULL;
        a->ints = ints ? array : NULL;
        a->strings = floats || ints ? NULL : array;
    }
    onnx_path_pop(p, mark);
    return EVK_SUCCESS;
}

/* ---- Nodes. */

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, so that a node with many attributes costs n log n. */
static evk_status check_unique(onnx_parser *p, size_t at, const evk_onnx_node *n)
{
    if (n->attribute_count < 2)
        return EVK_SUCCESS;
    const char **names = evk_alloc(p->ctx, n->attribute_count * sizeof *names);
    if (!names)
        return onnx_out_of_memory(p, "attribute names");
    for (uint32_t i = 0; i < n->attribute_count; ++i)
        names[i] = n->attributes[i].name;
    qsort(names, n->attribute_count, sizeof *names, compare_names);
    const char *twice = NULL;
    for (uint32_t i = 1; i < n->attribute_count && !twice; ++i)
        if (strcmp(names[i - 1], names[i]) == 0)
            twice = names[i];
    evk_free(p->ctx, names);
    return twice ? onnx_fail(p, at, "attribute '%.64s' given twice", twice) : EVK_SUCCESS;
}

static evk_status parse_node(onnx_parser *p, evk_wire msg, uint32_t index, evk_onnx_node *n)
{
    ONNX_TRY(onnx_find_string(p, msg, NODE_OP_TYPE, "op_type", &n->op_type));
    ONNX_TRY(onnx_find_string(p, msg, NODE_NAME, "the node's name", &n->name));
    int named = n->name[0] != '\0';
    size_t mark = onnx_path_push(p, ".node[%u] (%.64s%s%.64s%s)", index, n->op_type,
                                 named ? " '" : "", n->name, named ? "'" : "");
    if (!n->op_type[0])
        return onnx_fail(p, msg.pos, "a node without an op_type");
    n->domain = "";
    uint64_t counts[3] = {0}; /* input, output, attribute */
    evk_wire w = msg, payload;
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field == NODE_INPUT || field == NODE_OUTPUT || field == NODE_ATTRIBUTE) {
            ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
            ++counts[field == NODE_INPUT ? 0 : field == NODE_OUTPUT ? 1 : 2];
        } else if (field == NODE_DOMAIN) {
            ONNX_TRY(onnx_read_string(p, &w, type, "the domain", &n->domain));
        } else {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        }
    }
    ONNX_TRY(onnx_check_count(p, msg.pos, counts[0], "inputs", &n->input_count));
    ONNX_TRY(onnx_check_count(p, msg.pos, counts[1], "outputs", &n->output_count));
    ONNX_TRY(onnx_check_count(p, msg.pos, counts[2], "attributes", &n->attribute_count));
    const char **inputs = onnx_array(p, counts[0], sizeof *inputs);
    const char **outputs = onnx_array(p, counts[1], sizeof *outputs);
    evk_onnx_attribute *attributes = onnx_array(p, counts[2], sizeof *attributes);
    if (!inputs || !outputs || !attributes)
        return onnx_out_of_memory(p, "node");
    n->inputs = inputs;
    n->outputs = outputs;
    n->attributes = attributes;
    uint32_t done[3] = {0};
    for (w = msg; evk_wire_more(&w);) {
        uint32_t field, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field == NODE_INPUT && done[0] < n->input_count) {
            ONNX_TRY(onnx_read_string(p, &w, type, "an input's name", &inputs[done[0]++]));
        } else if (field == NODE_OUTPUT && done[1] < n->output_count) {
            ONNX_TRY(onnx_read_string(p, &w, type, "an output's name", &outputs[done[1]++]));
        } else if (field == NODE_ATTRIBUTE && done[2] < n->attribute_count) {
            ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
            ONNX_TRY(parse_attribute(p, payload, done[2], &attributes[done[2]]));
            ++done[2];
        } else {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        }
    }
    ONNX_TRY(check_unique(p, msg.pos, n));
    onnx_path_pop(p, mark);
    return EVK_SUCCESS;
}

/* ---- Graph inputs and outputs. */

static evk_status parse_dimension(onnx_parser *p, evk_wire w, evk_onnx_value_info *v)
{
    if (v->rank == EVK_ONNX_MAX_DIMS)
        return onnx_fail(p, w.pos, "more than %d dims", EVK_ONNX_MAX_DIMS);
    uint32_t d = v->rank++;
    v->dims[d] = -1;
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        uint64_t value;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field == DIM_VALUE) {
            ONNX_TRY(onnx_read_varint(p, &w, type, &value));
            if ((int64_t)value < 0)
                return onnx_fail(p, w.field_start, "dimension %u is negative (%lld)", d,
                                 (long long)(int64_t)value);
            v->dims[d] = (int64_t)value;
            v->dim_params[d] = "";
        } else if (field == DIM_PARAM) {
            ONNX_TRY(onnx_read_string(p, &w, type, "dim_param", &v->dim_params[d]));
            v->dims[d] = -1;
        } else {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        }
    }
    return EVK_SUCCESS;
}

/* TypeProto.tensor_type: elem_type and shape; the other kinds (sequence,
 * map, optional) leave elem_type 0. */
static evk_status parse_tensor_type(onnx_parser *p, evk_wire w, evk_onnx_value_info *v)
{
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        uint64_t value;
        evk_wire shape, dim;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field == TENSOR_TYPE_ELEM_TYPE) {
            ONNX_TRY(onnx_read_varint(p, &w, type, &value));
            v->elem_type = (int32_t)(uint32_t)value;
        } else if (field == TENSOR_TYPE_SHAPE) {
            ONNX_TRY(onnx_read_payload(p, &w, type, &shape));
            v->has_shape = 1;
            v->rank = 0;
            while (evk_wire_more(&shape)) {
                ONNX_WIRE(p, evk_wire_tag(&shape, &field, &type));
                if (field == SHAPE_DIM) {
                    ONNX_TRY(onnx_read_payload(p, &shape, type, &dim));
                    ONNX_TRY(parse_dimension(p, dim, v));
                } else {
                    ONNX_WIRE(p, evk_wire_skip(&shape, type));
                }
            }
        } else {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        }
    }
    return EVK_SUCCESS;
}

static evk_status parse_value_info(onnx_parser *p, evk_wire msg, evk_onnx_value_info *v)
{
    ONNX_TRY(onnx_find_string(p, msg, VALUE_NAME, "the value's name", &v->name));
    if (!v->name[0])
        return onnx_fail(p, msg.pos, "a value without a name");
    size_t mark = onnx_path_push(p, " '%.80s'", v->name);
    for (uint32_t d = 0; d < EVK_ONNX_MAX_DIMS; ++d)
        v->dim_params[d] = "";
    for (evk_wire w = msg; evk_wire_more(&w);) {
        uint32_t field, type;
        evk_wire type_proto, tensor_type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field != VALUE_TYPE) {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
            continue;
        }
        ONNX_TRY(onnx_read_payload(p, &w, type, &type_proto));
        while (evk_wire_more(&type_proto)) {
            ONNX_WIRE(p, evk_wire_tag(&type_proto, &field, &type));
            if (field == TYPE_TENSOR_TYPE) {
                ONNX_TRY(onnx_read_payload(p, &type_proto, type, &tensor_type));
                ONNX_TRY(parse_tensor_type(p, tensor_type, v));
            } else {
                ONNX_WIRE(p, evk_wire_skip(&type_proto, type));
            }
        }
    }
    onnx_path_pop(p, mark);
    return EVK_SUCCESS;
}

/* ---- The graph and the model. */

static evk_status parse_graph(onnx_parser *p, evk_wire msg, evk_onnx_model *m)
{
    size_t mark = onnx_path_push(p, "graph");
    m->graph_name = "";
    uint64_t nodes = 0, initializers = 0, inputs = 0, outputs = 0;
    evk_wire w = msg, payload;
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        uint64_t *count = field == GRAPH_NODE ? &nodes
            : field == GRAPH_INITIALIZER      ? &initializers
            : field == GRAPH_INPUT            ? &inputs
            : field == GRAPH_OUTPUT           ? &outputs
                                              : NULL;
        if (count) {
            ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
            ++*count;
        } else if (field == GRAPH_NAME) {
            ONNX_TRY(onnx_read_string(p, &w, type, "the graph's name", &m->graph_name));
        } else if (field == GRAPH_SPARSE_INITIALIZER) {
            return onnx_fail(p, w.field_start, "sparse initializers are not supported");
        } else {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        }
    }
    ONNX_TRY(onnx_check_count(p, msg.pos, nodes, "nodes", &m->node_count));
    ONNX_TRY(onnx_check_count(p, msg.pos, initializers, "initializers", &m->initializer_count));
    ONNX_TRY(onnx_check_count(p, msg.pos, inputs, "inputs", &m->input_count));
    ONNX_TRY(onnx_check_count(p, msg.pos, outputs, "outputs", &m->output_count));
    evk_onnx_node *node = onnx_array(p, nodes, sizeof *node);
    evk_onnx_tensor *initializer = onnx_array(p, initializers, sizeof *initializer);
    evk_onnx_value_info *input = onnx_array(p, inputs, sizeof *input);
    evk_onnx_value_info *output = onnx_array(p, outputs, sizeof *output);
    if (!node || !initializer || !input || !output)
        return onnx_out_of_memory(p, "graph");
    m->nodes = node;
    m->initializers = initializer;
    m->inputs = input;
    m->outputs = output;
    uint32_t n = 0, i = 0, in = 0, out = 0;
    for (w = msg; evk_wire_more(&w);) {
        uint32_t field, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field != GRAPH_NODE && field != GRAPH_INITIALIZER && field != GRAPH_INPUT &&
            field != GRAPH_OUTPUT) {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
            continue;
        }
        ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
        if (field == GRAPH_NODE && n < nodes) {
            ONNX_TRY(parse_node(p, payload, n, &node[n]));
            ++n;
        } else if (field == GRAPH_INITIALIZER && i < initializers) {
            size_t at = onnx_path_push(p, ".initializer[%u]", i);
            ONNX_TRY(onnx_parse_tensor_message(p, payload, &initializer[i]));
            if (!initializer[i++].name[0])
                return onnx_fail(p, payload.pos, "an initializer without a name");
            onnx_path_pop(p, at);
        } else if (field == GRAPH_INPUT && in < inputs) {
            size_t at = onnx_path_push(p, ".input[%u]", in);
            ONNX_TRY(parse_value_info(p, payload, &input[in++]));
            onnx_path_pop(p, at);
        } else if (field == GRAPH_OUTPUT && out < outputs) {
            size_t at = onnx_path_push(p, ".output[%u]", out);
            ONNX_TRY(parse_value_info(p, payload, &output[out++]));
            onnx_path_pop(p, at);
        }
    }
    onnx_path_pop(p, mark);
    return EVK_SUCCESS;
}

static evk_status parse_opset(onnx_parser *p, evk_wire w, uint32_t index, evk_onnx_model *m)
{
    size_t mark = onnx_path_push(p, "opset_import[%u]", index);
    const char *domain = "";
    uint64_t version = 0;
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field == OPSET_DOMAIN)
            ONNX_TRY(onnx_read_string(p, &w, type, "the domain", &domain));
        else if (field == OPSET_VERSION)
            ONNX_TRY(onnx_read_varint(p, &w, type, &version));
        else
            ONNX_WIRE(p, evk_wire_skip(&w, type));
    }
    if (!domain[0] || strcmp(domain, "ai.onnx") == 0)
        m->opset = (int64_t)version;
    onnx_path_pop(p, mark);
    return EVK_SUCCESS;
}

static evk_status parse_model(onnx_parser *p, evk_wire w, evk_onnx_model *m)
{
    m->producer_name = "";
    evk_wire graph = w, payload;
    int has_graph = 0;
    uint32_t opsets = 0;
    while (evk_wire_more(&w)) {
        uint32_t field, type;
        uint64_t value;
        ONNX_WIRE(p, evk_wire_tag(&w, &field, &type));
        if (field == MODEL_IR_VERSION) {
            ONNX_TRY(onnx_read_varint(p, &w, type, &value));
            m->ir_version = (int64_t)value;
        } else if (field == MODEL_PRODUCER_NAME) {
            ONNX_TRY(onnx_read_string(p, &w, type, "producer_name", &m->producer_name));
        } else if (field == MODEL_GRAPH) {
            /* Protobuf would merge the two; no exporter writes that. */
            if (has_graph)
                return onnx_fail(p, w.field_start, "a second graph");
            ONNX_TRY(onnx_read_payload(p, &w, type, &graph));
            has_graph = 1;
        } else if (field == MODEL_OPSET_IMPORT) {
            ONNX_TRY(onnx_read_payload(p, &w, type, &payload));
            ONNX_TRY(parse_opset(p, payload, opsets++, m));
        } else {
            ONNX_WIRE(p, evk_wire_skip(&w, type));
        }
    }
    if (!has_graph)
        return onnx_fail(p, w.end, "the model has no graph");
    return parse_graph(p, graph, m);
}

/* ---- The interface. */

typedef struct onnx_owner {
    evk_onnx_model model;   /* first: evk_onnx_free's argument is the owner */
    evk_onnx_tensor tensor; /* evk_onnx_parse_tensor's */
    onnx_block *blocks;
} onnx_owner;

static void begin(evk_context *ctx, const void *bytes, size_t size, const char *file,
                  const char *folder, onnx_parser *p, evk_wire *w)
{
    memset(p, 0, sizeof *p);
    p->ctx = ctx;
    p->file = file ? file : "(memory)";
    p->folder = folder;
    *w = evk_wire_begin(bytes, size, &p->wire_error);
}

static evk_status finish(onnx_parser *p, evk_status status, onnx_owner **out)
{
    onnx_owner *owner = status == EVK_SUCCESS ? onnx_alloc(p, sizeof *owner) : NULL;
    if (status == EVK_SUCCESS && !owner)
        status = onnx_out_of_memory(p, "model");
    if (status != EVK_SUCCESS) {
        onnx_release(p->ctx, p->blocks);
        return status;
    }
    owner->blocks = p->blocks;
    *out = owner;
    return EVK_SUCCESS;
}

evk_status evk_onnx_parse(evk_context *ctx, const void *bytes, size_t size, const char *file,
                          const char *folder, evk_onnx_model **out)
{
    if (!out || (!bytes && size))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_onnx_parse: %s is NULL",
                        out ? "bytes" : "out");
    *out = NULL;
    onnx_parser p;
    evk_wire w;
    begin(ctx, bytes, size, file, folder, &p, &w);
    evk_onnx_model model = {0};
    onnx_owner *owner;
    ONNX_TRY(finish(&p, parse_model(&p, w, &model), &owner));
    owner->model = model;
    *out = &owner->model;
    return EVK_SUCCESS;
}

evk_status evk_onnx_parse_tensor(evk_context *ctx, const void *bytes, size_t size, const char *file,
                                 evk_onnx_model **owner, const evk_onnx_tensor **out)
{
    if (!owner || !out || (!bytes && size))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_onnx_parse_tensor: %s is NULL",
                        !owner     ? "owner"
                            : !out ? "out"
                                   : "bytes");
    *owner = NULL;
    *out = NULL;
    onnx_parser p;
    evk_wire w;
    begin(ctx, bytes, size, file, NULL, &p, &w);
    evk_onnx_tensor tensor = {0};
    onnx_path_push(&p, "tensor");
    onnx_owner *result;
    ONNX_TRY(finish(&p, onnx_parse_tensor_message(&p, w, &tensor), &result));
    result->tensor = tensor;
    *owner = &result->model;
    *out = &result->tensor;
    return EVK_SUCCESS;
}

void evk_onnx_free(evk_context *ctx, evk_onnx_model *model)
{
    if (model)
        onnx_release(ctx, ((onnx_owner *)model)->blocks);
}

const evk_onnx_attribute *evk_onnx_attribute_find(const evk_onnx_node *node, const char *name)
{
    for (uint32_t i = 0; node && name && i < node->attribute_count; ++i)
        if (strcmp(node->attributes[i].name, name) == 0)
            return &node->attributes[i];
    return NULL;
}

const char *evk_onnx_type_name(int32_t data_type)
{
    static const char *const names[] = {
        "UNDEFINED",      "FLOAT",      "UINT8",          "INT8",       "UINT16",   "INT16",
        "INT32",          "INT64",      "STRING",         "BOOL",       "FLOAT16",  "DOUBLE",
        "UINT32",         "UINT64",     "COMPLEX64",      "COMPLEX128", "BFLOAT16", "FLOAT8E4M3FN",
        "FLOAT8E4M3FNUZ", "FLOAT8E5M2", "FLOAT8E5M2FNUZ", "UINT4",      "INT4",     "FLOAT4E2M1"};
    if (data_type >= 0 && (size_t)data_type < sizeof names / sizeof names[0])
        return names[data_type];
    static _Thread_local char text[24];
    snprintf(text, sizeof text, "type %d", (int)data_type);
    return text;
}
