/* CPU tier: the ONNX reader (host/model/onnx_proto.c, onnx_wire.c) on
 * protobuf bytes the test writes by hand (onnx_file.h): a Conv model with
 * attributes of each kind, initializers in every encoding the reader
 * converts (raw_data, the typed fields packed and unpacked, FLOAT16,
 * BFLOAT16, DOUBLE, the integer types), graph inputs with dim_value and
 * dim_param, the opset; hostile bytes (every truncation, long varints,
 * lengths past the end, groups, wrong sizes and counts, negative and huge
 * dims, subgraphs, NUL bytes); external data in a temporary folder, paths
 * that leave it refused; and the conformance models of Debian's
 * libonnx-testdata when it is installed. */
#if !defined(_XOPEN_SOURCE)
#    define _XOPEN_SOURCE 700
#endif

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

#include "file_io.h"
#include "model/onnx_proto.h"
#include "onnx_file.h"

#define FILE_NAME "model.onnx"
#define TESTDATA "/usr/share/libonnx-testdata/data/node"

static evk_onnx_model *parse_ok(const pb *b, const char *folder)
{
    unsigned char *exact = pb_exact(b->bytes, b->size);
    evk_onnx_model *m = NULL;
    evk_status status = evk_onnx_parse(NULL, exact, b->size, FILE_NAME, folder, &m);
    free(exact);
    if (status != EVK_SUCCESS)
        fail_msg("parse failed: %s", evk_last_error(NULL));
    return m;
}

/* Parsing `b` fails with `status` and a message naming the file and `word`. */
static void expect_failure(const pb *b, const char *folder, evk_status status, const char *word)
{
    unsigned char *exact = pb_exact(b->bytes, b->size);
    evk_onnx_model *m = (evk_onnx_model *)exact;
    assert_int_equal(evk_onnx_parse(NULL, exact, b->size, FILE_NAME, folder, &m), status);
    assert_null(m);
    tu_assert_message(evk_last_error(NULL), status, word);
    tu_assert_message(evk_last_error(NULL), status, FILE_NAME);
    free(exact);
}

static const evk_onnx_tensor *parse_tensor_ok(const pb *t, evk_onnx_model **owner)
{
    const evk_onnx_tensor *out = NULL;
    unsigned char *exact = pb_exact(t->bytes, t->size);
    evk_status status = evk_onnx_parse_tensor(NULL, exact, t->size, "t.pb", owner, &out);
    free(exact);
    if (status != EVK_SUCCESS)
        fail_msg("tensor parse failed: %s", evk_last_error(NULL));
    return out;
}

static void expect_tensor_failure(pb *t, const char *word)
{
    evk_onnx_model *owner = NULL;
    const evk_onnx_tensor *out = NULL;
    unsigned char *exact = pb_exact(t->bytes, t->size);
    assert_int_equal(evk_onnx_parse_tensor(NULL, exact, t->size, "t.pb", &owner, &out),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_null(owner);
    assert_null(out);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
    free(exact);
    free(t->bytes);
    *t = (pb){0};
}

/* A model whose graph holds `initializer` alone (freed). */
static pb model_of_tensor(pb *initializer)
{
    pb graph = {0};
    pb_msg(&graph, GRAPH_INITIALIZER, initializer);
    return pb_model(&graph);
}

/* A model whose graph holds `message` (freed) as field `field` fails with
 * EVK_ERROR_INVALID_ARGUMENT naming `word`. */
static void expect_graph_failure(uint32_t field, pb *message, const char *word)
{
    pb graph = {0};
    pb_msg(&graph, field, message);
    pb b = pb_model(&graph);
    expect_failure(&b, NULL, EVK_ERROR_INVALID_ARGUMENT, word);
    free(b.bytes);
}

static void test_conv_model(void **state)
{
    (void)state;
    pb b = pb_conv_model();
    evk_onnx_model *m = parse_ok(&b, NULL);
    assert_true(m->ir_version == 8 && m->opset == 13 && m->node_count == 1);
    assert_string_equal(m->producer_name, "effvk-test");
    assert_string_equal(m->graph_name, "g");
    const evk_onnx_node *n = &m->nodes[0];
    assert_string_equal(n->op_type, "Conv");
    assert_string_equal(n->name, "conv1");
    assert_string_equal(n->domain, "");
    assert_true(n->input_count == 3 && n->output_count == 1 && n->attribute_count == 7);
    assert_string_equal(n->inputs[1], "w");
    assert_string_equal(n->outputs[0], "y");
    const evk_onnx_attribute *a = evk_onnx_attribute_find(n, "kernel_shape");
    assert_true(a && a->type == EVK_ONNX_ATTR_INTS && a->count == 2 && a->ints[1] == 3);
    a = evk_onnx_attribute_find(n, "pads");
    assert_true(a->count == 4 && a->ints[3] == 1);
    a = evk_onnx_attribute_find(n, "alpha");
    assert_true(a->type == EVK_ONNX_ATTR_FLOAT && a->f == 0.5f);
    assert_string_equal(evk_onnx_attribute_find(n, "auto_pad")->s, "NOTSET");
    const evk_onnx_tensor *t = evk_onnx_attribute_find(n, "value")->t;
    assert_string_equal(t->name, "");
    assert_true(t->count == 2 && t->floats[0] == 1.5f && t->floats[1] == -2.0f);
    a = evk_onnx_attribute_find(n, "scales");
    assert_true(a->count == 2 && a->floats[0] == 0.25f && a->floats[1] == 4.0f);
    a = evk_onnx_attribute_find(n, "modes");
    assert_true(a->type == EVK_ONNX_ATTR_STRINGS && a->count == 2);
    assert_string_equal(a->strings[1], "bc");
    assert_null(evk_onnx_attribute_find(n, "group"));
    assert_null(evk_onnx_attribute_find(NULL, "group"));

    assert_int_equal(m->initializer_count, 2);
    const evk_onnx_tensor *w = &m->initializers[0];
    assert_string_equal(w->name, "w");
    assert_true(w->rank == 4 && w->dims[0] == 2 && w->dims[3] == 3 && w->count == 18);
    assert_true(!w->ints && w->floats[17] == 8.5f);
    assert_true(m->initializers[1].floats[1] == -1.0f);

    assert_true(m->input_count == 2 && m->output_count == 1);
    const evk_onnx_value_info *x = &m->inputs[0];
    assert_string_equal(x->name, "x");
    assert_true(x->elem_type == EVK_ONNX_FLOAT && x->has_shape && x->rank == 4);
    assert_true(x->dims[0] == -1 && x->dims[1] == 1);
    assert_string_equal(x->dim_params[0], "N");
    assert_string_equal(x->dim_params[1], "");
    assert_false(m->outputs[0].has_shape);
    evk_onnx_free(NULL, m);
    evk_onnx_free(NULL, NULL);
    free(b.bytes);
}

/* The lone tensor `t` (freed) parses to `count` values equal to `floats`
 * (or `ints`, the other NULL). */
static void expect_values(pb *t, const float *floats, const int64_t *ints, uint64_t count)
{
    evk_onnx_model *owner;
    const evk_onnx_tensor *out = parse_tensor_ok(t, &owner);
    assert_int_equal(out->count, count);
    assert_true(floats ? out->floats && !out->ints : out->ints && !out->floats);
    for (uint64_t i = 0; i < count; ++i)
        if (floats ? out->floats[i] != floats[i] : out->ints[i] != ints[i])
            fail_msg("'%s' value %u differs", out->name, (unsigned)i);
    evk_onnx_free(NULL, owner);
    free(t->bytes);
    *t = (pb){0};
}

static void put_double(pb *t, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    pb_tag(t, TENSOR_DOUBLE_DATA, 1);
    pb_le(t, bits, 8);
}

static void test_float_encodings(void **state)
{
    (void)state;
    /* float_data unpacked, and in two packed runs. */
    pb t = pb_tensor("f", EVK_ONNX_FLOAT, (const int64_t[]){3}, 1);
    pb_float(&t, TENSOR_FLOAT_DATA, 1.0f);
    pb_packed_floats(&t, TENSOR_FLOAT_DATA, (const float[]){2.0f}, 1);
    pb_packed_floats(&t, TENSOR_FLOAT_DATA, (const float[]){-3.0f}, 1);
    expect_values(&t, (const float[]){1.0f, 2.0f, -3.0f}, NULL, 3);

    /* FLOAT16 in raw_data and as int32_data bit patterns: 1.0, -2.0, 65504. */
    const float halves[3] = {1.0f, -2.0f, 65504.0f};
    t = pb_tensor("h", EVK_ONNX_FLOAT16, (const int64_t[]){3}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\x00\x3c\x00\xc0\xff\x7b", 6);
    expect_values(&t, halves, NULL, 3);
    t = pb_tensor("h", EVK_ONNX_FLOAT16, (const int64_t[]){3}, 1);
    pb_packed(&t, TENSOR_INT32_DATA, (const int64_t[]){0x3c00, 0xc000, 0x7bff}, 3);
    expect_values(&t, halves, NULL, 3);

    /* BFLOAT16: the top 16 bits of a float (1.0 = 0x3f80, -0.5 = 0xbf00). */
    t = pb_tensor("bf", EVK_ONNX_BFLOAT16, (const int64_t[]){2}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\x80\x3f\x00\xbf", 4);
    expect_values(&t, (const float[]){1.0f, -0.5f}, NULL, 2);
    t = pb_tensor("bf", EVK_ONNX_BFLOAT16, (const int64_t[]){1}, 1);
    pb_int(&t, TENSOR_INT32_DATA, 0x4040);
    expect_values(&t, (const float[]){3.0f}, NULL, 1);

    /* DOUBLE in double_data (fixed64), a scalar of rank 0; too large for a float. */
    t = pb_tensor("d", EVK_ONNX_DOUBLE, NULL, 0);
    put_double(&t, -0.125);
    expect_values(&t, (const float[]){-0.125f}, NULL, 1);
    t = pb_tensor("big", EVK_ONNX_DOUBLE, NULL, 0);
    put_double(&t, 1e300);
    expect_tensor_failure(&t, "'big': DOUBLE value 1e+300 at index 0 does not fit in a float");

    /* No values needed: dims with a zero. */
    t = pb_tensor("empty", EVK_ONNX_FLOAT, (const int64_t[]){4, 0}, 2);
    expect_values(&t, (const float[]){0}, NULL, 0);
}

static void test_integer_encodings(void **state)
{
    (void)state;
    /* INT64 in int64_data packed and unpacked, and in raw_data. */
    pb t = pb_tensor("i", EVK_ONNX_INT64, (const int64_t[]){3}, 1);
    pb_packed(&t, TENSOR_INT64_DATA, (const int64_t[]){-1, INT64_MAX}, 2);
    pb_int(&t, TENSOR_INT64_DATA, INT64_MIN);
    expect_values(&t, NULL, (const int64_t[]){-1, INT64_MAX, INT64_MIN}, 3);
    t = pb_tensor("i", EVK_ONNX_INT64, (const int64_t[]){2}, 1);
    pb_tag(&t, TENSOR_RAW_DATA, 2);
    pb_varint(&t, 16);
    pb_le(&t, (uint64_t)-5, 8);
    pb_le(&t, 7, 8);
    expect_values(&t, NULL, (const int64_t[]){-5, 7}, 2);

    /* The narrow types at their natural widths in raw_data. */
    struct {
        int32_t type;
        const char *raw;
        size_t bytes;
        int64_t values[2];
    } cases[] = {
        {EVK_ONNX_INT8, "\xff\x7f", 2, {-1, 127}},
        {EVK_ONNX_UINT8, "\xff\x00", 2, {255, 0}},
        {EVK_ONNX_INT16, "\x00\x80\x01\x00", 4, {-32768, 1}},
        {EVK_ONNX_UINT16, "\xff\xff\x02\x00", 4, {65535, 2}},
        {EVK_ONNX_INT32, "\xfe\xff\xff\xff\x00\x00\x00\x80", 8, {-2, INT32_MIN}},
        {EVK_ONNX_BOOL, "\x01\x00", 2, {1, 0}},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        t = pb_tensor("n", cases[c].type, (const int64_t[]){2}, 1);
        pb_bytes(&t, TENSOR_RAW_DATA, cases[c].raw, cases[c].bytes);
        expect_values(&t, NULL, cases[c].values, 2);
    }
    /* int32_data holds INT32 and the narrow types; negative int32 varints
     * are 10 bytes long, sign-extended. */
    t = pb_tensor("n", EVK_ONNX_INT32, (const int64_t[]){2}, 1);
    pb_int(&t, TENSOR_INT32_DATA, -7);
    pb_int(&t, TENSOR_INT32_DATA, INT32_MAX);
    expect_values(&t, NULL, (const int64_t[]){-7, INT32_MAX}, 2);
    t = pb_tensor("n", EVK_ONNX_INT8, (const int64_t[]){1}, 1);
    pb_int(&t, TENSOR_INT32_DATA, -128);
    expect_values(&t, NULL, (const int64_t[]){-128}, 1);
    t = pb_tensor("n", EVK_ONNX_INT8, (const int64_t[]){1}, 1);
    pb_int(&t, TENSOR_INT32_DATA, 200);
    expect_tensor_failure(&t, "value 200 at index 0 is out of range for INT8");
    t = pb_tensor("n", EVK_ONNX_BOOL, (const int64_t[]){1}, 1);
    pb_bytes(&t, TENSOR_RAW_DATA, "\x02", 1);
    expect_tensor_failure(&t, "out of range for BOOL");
    t = pb_tensor("h", EVK_ONNX_FLOAT16, (const int64_t[]){1}, 1);
    pb_int(&t, TENSOR_INT32_DATA, 70000);
    expect_tensor_failure(&t, "not a 16-bit pattern");

    /* Types not converted keep neither array, whatever their data. */
    evk_onnx_model *owner;
    t = pb_tensor("s", EVK_ONNX_STRING, (const int64_t[]){1}, 1);
    pb_str(&t, 6, "text");
    const evk_onnx_tensor *out = parse_tensor_ok(&t, &owner);
    assert_true(!out->floats && !out->ints && out->data_type == EVK_ONNX_STRING);
    evk_onnx_free(NULL, owner);
    free(t.bytes);
    assert_string_equal(evk_onnx_type_name(EVK_ONNX_BFLOAT16), "BFLOAT16");
    assert_string_equal(evk_onnx_type_name(99), "type 99");
}

static void test_opset_and_inputs(void **state)
{
    (void)state;
    pb graph = {0}, model = {0}, opset = {0};
    pb_value(&graph, GRAPH_INPUT, "scalar", NULL, NULL, 0);
    pb_value(&graph, GRAPH_INPUT, "img", (const int64_t[]){1, 3, 224, 224}, NULL, 4);
    pb_str(&opset, OPSET_DOMAIN, "ai.onnx");
    pb_int(&opset, OPSET_VERSION, 17);
    pb_msg(&model, MODEL_OPSET, &opset);
    pb_msg(&model, MODEL_GRAPH, &graph);
    evk_onnx_model *m = parse_ok(&model, NULL);
    assert_int_equal(m->opset, 17);
    assert_int_equal(m->ir_version, 0);
    assert_string_equal(m->producer_name, "");
    assert_true(m->inputs[0].has_shape && m->inputs[0].rank == 0);
    assert_int_equal(m->inputs[1].dims[3], 224);
    evk_onnx_free(NULL, m);
    free(model.bytes);
}

/* Every prefix of a valid model parses or fails cleanly, each in a buffer
 * of exactly its size. */
static void test_every_truncation(void **state)
{
    (void)state;
    pb b = pb_conv_model();
    size_t accepted = 0;
    for (size_t size = 0; size <= b.size; ++size) {
        unsigned char *exact = pb_exact(b.bytes, size);
        evk_onnx_model *m = NULL;
        evk_status status = evk_onnx_parse(NULL, exact, size, FILE_NAME, NULL, &m);
        if (status == EVK_SUCCESS) {
            ++accepted;
            evk_onnx_free(NULL, m);
        } else {
            assert_int_equal(status, EVK_ERROR_INVALID_ARGUMENT);
            assert_null(m);
            tu_assert_message(evk_last_error(NULL), status, FILE_NAME);
        }
        free(exact);
    }
    /* The whole file, and its prefixes that end between top-level fields
     * after the graph (the two opset_imports). */
    assert_int_equal(accepted, 3);
    free(b.bytes);
}

static void test_bad_wire(void **state)
{
    (void)state;
    static const struct {
        const char *bytes;
        size_t size;
        const char *word;
    } cases[] = {
        {"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 12, "longer than 10 bytes"},
        {"\x08\x80\x80\x80\x80\x80\x80\x80\x80\x80\x02", 11, "overflows 64 bits"},
        {"\x08\x80\x80", 3, "varint at offset 1 runs past the end"},
        {"\x3a\x64\x00\x00", 4, "a length of 100 bytes at offset 1 runs past the end"},
        {"\x3a\xff\xff\xff\xff\xff\xff\xff\xff\x7f", 10, "runs past the end"},
        {"\x0b\x0c", 2, "groups are not supported"},
        {"\x0c", 1, "group end"},
        {"\x0e\x00", 2, "undefined wire type 6"},
        {"\x00\x00", 2, "field number 0"},
        {"\x38\x01", 2, "field 7 at offset 0 is varint, not length-delimited"},
        {"\x1d\x00\x00", 3, "4-byte value at offset 1 runs past the end"},
        {"\x08\x01", 2, "has no graph"},
        /* A node's length runs past the graph's end but not the file's. */
        {"\x3a\x02\x0a\x05\x42\x02\x10\x01", 8, "graph: a length of 5 bytes at offset 3"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        pb b = {0};
        pb_raw(&b, cases[c].bytes, cases[c].size);
        expect_failure(&b, NULL, EVK_ERROR_INVALID_ARGUMENT, cases[c].word);
        free(b.bytes);
    }
    /* A 10-byte varint whose 10th byte is 1 is valid: ir_version -1. */
    pb graph = {0};
    pb b = pb_model(&graph);
    pb_raw(&b, "\x08\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11);
    evk_onnx_model *m = parse_ok(&b, NULL);
    assert_int_equal(m->ir_version, -1);
    evk_onnx_free(NULL, m);
    free(b.bytes);
    /* A packed float run that is not a whole number of floats. */
    pb t = pb_tensor("f", EVK_ONNX_FLOAT, (const int64_t[]){1}, 1);
    pb_bytes(&t, TENSOR_FLOAT_DATA, "\0\0\0\0\0", 5);
    expect_tensor_failure(&t, "not a whole number of 4-byte values");
    evk_onnx_model *owner = NULL;
    const evk_onnx_tensor *out = NULL;
    assert_int_equal(evk_onnx_parse(NULL, NULL, 0, FILE_NAME, NULL, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_onnx_parse(NULL, NULL, 4, FILE_NAME, NULL, &m),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_onnx_parse_tensor(NULL, "", 0, NULL, &owner, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_onnx_parse_tensor(NULL, "", 0, NULL, &owner, &out), EVK_SUCCESS);
    assert_true(out->count == 1 && out->rank == 0 && !out->floats);
    evk_onnx_free(NULL, owner);
}

static void test_bad_tensors(void **state)
{
    (void)state;
    pb t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){2, 3}, 2);
    pb_bytes(&t, TENSOR_RAW_DATA, "\0\0\0\0\0\0\0\0", 8);
    expect_tensor_failure(&t, "'w': raw_data holds 8 bytes, 6 FLOAT values need 24");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){2, 3}, 2);
    pb_packed_floats(&t, TENSOR_FLOAT_DATA, (const float[]){1, 2, 3, 4, 5}, 5);
    expect_tensor_failure(&t, "'w': float_data holds 5 values, its dims need 6");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){2}, 1);
    expect_tensor_failure(&t, "'w': no values");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){2, -3}, 2);
    expect_tensor_failure(&t, "'w': dimension 1 is negative (-3)");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){1 << 30, 1 << 30, 1 << 30}, 3);
    expect_tensor_failure(&t, "'w': its dims hold more than 2^40 elements");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){INT64_MAX, INT64_MAX, 2}, 3);
    expect_tensor_failure(&t, "more than 2^40");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){1, 1, 1, 1, 1, 1, 1, 1, 1}, 9);
    expect_tensor_failure(&t, "more than 8 dims");
    t = pb_tensor("w", EVK_ONNX_INT64, (const int64_t[]){1}, 1);
    pb_float(&t, TENSOR_FLOAT_DATA, 1.0f);
    expect_tensor_failure(&t, "float_data holds 1 values, but INT64 values come in int64_data");
    t = pb_tensor("w", EVK_ONNX_FLOAT, (const int64_t[]){1}, 1);
    pb_float(&t, TENSOR_FLOAT_DATA, 1.0f);
    pb_bytes(&t, TENSOR_RAW_DATA, "\0\0\0\0", 4);
    expect_tensor_failure(&t, "given twice");
    t = pb_tensor("w", EVK_ONNX_FLOAT, NULL, 0);
    pb_int(&t, TENSOR_DATA_LOCATION, 2);
    expect_tensor_failure(&t, "data_location 2");
    t = pb_tensor("w", EVK_ONNX_FLOAT, NULL, 0);
    pb_bytes(&t, 3, "", 0);
    expect_tensor_failure(&t, "segmented");
    /* In a model, the message path names the initializer. */
    t = pb_tensor("conv.w", EVK_ONNX_FLOAT, (const int64_t[]){2}, 1);
    expect_graph_failure(GRAPH_INITIALIZER, &t, "graph.initializer[0] 'conv.w': no values");
    t = pb_tensor(NULL, EVK_ONNX_FLOAT, NULL, 0);
    pb_float(&t, TENSOR_FLOAT_DATA, 1.0f);
    expect_graph_failure(GRAPH_INITIALIZER, &t, "an initializer without a name");
}

static void test_refused_attributes(void **state)
{
    (void)state;
    pb node = {0}, v = {0}, sub = {0};
    pb_str(&node, NODE_OP_TYPE, "If");
    pb_msg(&v, ATTR_G, &sub);
    pb_attribute(&node, "then_branch", 5, &v);
    expect_graph_failure(
        GRAPH_NODE, &node,
        "graph.node[0] (If).attribute 'then_branch': a graph attribute: subgraphs");
    pb_str(&node, NODE_OP_TYPE, "Foo");
    pb_str(&node, NODE_NAME, "f");
    pb t = pb_tensor(NULL, EVK_ONNX_FLOAT, NULL, 0);
    pb_msg(&v, ATTR_TENSORS, &t);
    pb_attribute(&node, "many", 9, &v);
    expect_graph_failure(GRAPH_NODE, &node,
                         "(Foo 'f').attribute 'many': attributes "
                         "of type TENSORS (9) are not supported");
    pb_str(&node, NODE_OP_TYPE, "Relu");
    pb_int(&v, ATTR_I, 1);
    pb_attribute(&node, "k", 2, &v);
    pb_int(&v, ATTR_I, 2);
    pb_attribute(&node, "k", 2, &v);
    expect_graph_failure(GRAPH_NODE, &node, "attribute 'k' given twice");
    pb_str(&node, NODE_OP_TYPE, "Relu");
    pb_int(&v, ATTR_I, 1);
    pb_msg(&node, NODE_ATTRIBUTE, &v);
    expect_graph_failure(GRAPH_NODE, &node, "attribute[0]: an attribute without a name");
    pb_str(&node, NODE_NAME, "no op");
    expect_graph_failure(GRAPH_NODE, &node, "without an op_type");
    /* Strings with a NUL byte, in a name and in an attribute. */
    pb_bytes(&node, NODE_OP_TYPE, "Re\0lu", 5);
    expect_graph_failure(GRAPH_NODE, &node, "op_type contains a NUL byte at offset");
    pb_str(&node, NODE_OP_TYPE, "Pad");
    pb_bytes(&v, ATTR_S, "con\0stant", 9);
    pb_attribute(&node, "mode", 3, &v);
    expect_graph_failure(GRAPH_NODE, &node, "attribute 'mode': the string contains a NUL");
    /* IR version 1's attributes have no type: the field present says it. */
    pb_str(&node, NODE_OP_TYPE, "Pad");
    pb_str(&v, ATTR_NAME, "mode");
    pb_str(&v, ATTR_S, "edge");
    pb_msg(&node, NODE_ATTRIBUTE, &v);
    pb graph = {0};
    pb_msg(&graph, GRAPH_NODE, &node);
    pb b = pb_model(&graph);
    evk_onnx_model *m = parse_ok(&b, NULL);
    assert_int_equal(m->nodes[0].attributes[0].type, EVK_ONNX_ATTR_STRING);
    assert_string_equal(m->nodes[0].attributes[0].s, "edge");
    evk_onnx_free(NULL, m);
    free(b.bytes);
    expect_graph_failure(GRAPH_SPARSE_INITIALIZER, &graph, "sparse initializers are not supported");
}

static void write_file(const char *path, const void *bytes, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* A model with FLOAT tensor 'ext' [3] whose data is in `location`;
 * `offset` and `length` NULL: not given. */
static pb external_model(const char *location, const char *offset, const char *length)
{
    pb t = pb_tensor("ext", EVK_ONNX_FLOAT, (const int64_t[]){3}, 1);
    const char *keys[] = {"location", "offset", "length"};
    const char *values[] = {location, offset, length};
    for (int k = 0; k < 3; ++k) {
        pb entry = {0};
        if (!values[k])
            continue;
        pb_str(&entry, ENTRY_KEY, keys[k]);
        pb_str(&entry, ENTRY_VALUE, values[k]);
        pb_msg(&t, TENSOR_EXTERNAL_DATA, &entry);
    }
    pb_int(&t, TENSOR_DATA_LOCATION, 1);
    return model_of_tensor(&t);
}

static void expect_external_failure(const char *folder, const char *location, const char *offset,
                                    const char *length, evk_status status, const char *word)
{
    pb b = external_model(location, offset, length);
    expect_failure(&b, folder, status, word);
    tu_assert_message(evk_last_error(NULL), status, "'ext'");
    free(b.bytes);
}

static void test_external_data(void **state)
{
    (void)state;
    char root[] = "/tmp/effvk-onnx-XXXXXX";
    assert_non_null(mkdtemp(root));
    char folder[64], path[128], outside[128];
    snprintf(folder, sizeof folder, "%s/model", root);
    assert_int_equal(mkdir(folder, 0700), 0);
    pb data = {0};
    pb_raw(&data, "skip", 4);
    for (int i = 0; i < 3; ++i)
        pb_le(&data, (uint32_t[]){0x3f800000u, 0xc0000000u, 0x40400000u}[i], 4);
    snprintf(path, sizeof path, "%s/weights.bin", folder);
    write_file(path, data.bytes, data.size);
    snprintf(outside, sizeof outside, "%s/outside.bin", root);
    write_file(outside, data.bytes, data.size);
    free(data.bytes);
    snprintf(path, sizeof path, "%s/link.bin", folder);
    assert_int_equal(symlink("../outside.bin", path), 0);
    snprintf(path, sizeof path, "%s/fifo", folder);
    assert_int_equal(mkfifo(path, 0600), 0);

    const char *lengths[] = {"12", NULL};
    for (int k = 0; k < 2; ++k) {
        pb b = external_model("weights.bin", "4", lengths[k]);
        evk_onnx_model *m = parse_ok(&b, folder);
        const float *f = m->initializers[0].floats;
        assert_true(f[0] == 1.0f && f[1] == -2.0f && f[2] == 3.0f);
        evk_onnx_free(NULL, m);
        free(b.bytes);
    }
    expect_external_failure(NULL, "weights.bin", "4", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "external data needs a model file");
    expect_external_failure(folder, "../outside.bin", "4", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "leaves the model's folder");
    expect_external_failure(folder, "sub/../../outside.bin", "4", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "leaves the model's folder");
    expect_external_failure(folder, outside, "4", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "is an absolute path");
    expect_external_failure(folder, "link.bin", "4", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "outside the model's folder");
    expect_external_failure(folder, "missing.bin", NULL, NULL, EVK_ERROR_IO, "missing.bin");
    expect_external_failure(folder, "fifo", NULL, "12", EVK_ERROR_IO, "not a regular file");
    expect_external_failure(folder, "weights.bin", "4", "8", EVK_ERROR_INVALID_ARGUMENT,
                            "external data holds 8 bytes, 3 FLOAT values need 12");
    expect_external_failure(folder, "weights.bin", NULL, NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "holds 16 bytes");
    expect_external_failure(folder, "weights.bin", "40", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "lie outside");
    expect_external_failure(folder, "weights.bin", "4", "99999999999999999999999",
                            EVK_ERROR_INVALID_ARGUMENT, "is not a byte count");
    expect_external_failure(folder, "weights.bin", "-4", NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "is not a byte count");
    expect_external_failure(folder, NULL, NULL, NULL, EVK_ERROR_INVALID_ARGUMENT,
                            "has no location");

    const char *made[] = {"model/fifo",  "model/link.bin", "model/weights.bin",
                          "outside.bin", "model",          ""};
    for (size_t i = 0; i < sizeof made / sizeof made[0]; ++i) {
        snprintf(path, sizeof path, "%s/%s", root, made[i]);
        assert_int_equal(remove(path), 0);
    }
}

static unsigned char *read_file(const char *path, size_t *size)
{
    void *bytes = NULL;
    if (evk_file_read_all(NULL, path, 1u << 26, &bytes, size) != EVK_SUCCESS)
        fail_msg("%s", evk_last_error(NULL));
    return bytes;
}

/* Each conformance model of a Conv (and Relu) parses, its node's inputs are
 * the graph's, and test_data_set_0/input_0.pb has the first input's dims. */
static void test_conformance_models(void **state)
{
    (void)state;
    DIR *dir = opendir(TESTDATA);
    if (!dir) {
        print_message("skipped: %s is absent (Debian's libonnx-testdata)\n", TESTDATA);
        return;
    }
    unsigned models = 0;
    for (struct dirent *e; (e = readdir(dir));) {
        const char *name = e->d_name;
        if (strncmp(name, "test_conv", 9) != 0 && strncmp(name, "test_basic_conv", 15) != 0 &&
            strcmp(name, "test_relu") != 0)
            continue;
        char path[512];
        size_t size;
        snprintf(path, sizeof path, "%s/%s/model.onnx", TESTDATA, name);
        unsigned char *bytes = read_file(path, &size);
        evk_onnx_model *m = NULL;
        if (evk_onnx_parse(NULL, bytes, size, path, NULL, &m) != EVK_SUCCESS)
            fail_msg("%s", evk_last_error(NULL));
        free(bytes);
        assert_true(m->node_count >= 1 && m->input_count >= 1 && m->opset > 0);
        const evk_onnx_node *n = &m->nodes[0];
        int relu = strcmp(name, "test_relu") == 0;
        assert_true(relu ? strcmp(n->op_type, "Relu") == 0 : strncmp(n->op_type, "Conv", 4) == 0);
        assert_true(n->input_count >= (relu ? 1u : 2u));
        assert_string_equal(n->inputs[0], m->inputs[0].name);
        if (strcmp(name, "test_conv_with_strides_padding") == 0) {
            assert_string_equal(n->op_type, "Conv");
            const evk_onnx_attribute *a = evk_onnx_attribute_find(n, "strides");
            assert_true(a && a->count == 2 && a->ints[0] == 2);
            a = evk_onnx_attribute_find(n, "pads");
            assert_true(a && a->count == 4 && a->ints[3] == 1);
        }
        snprintf(path, sizeof path, "%s/%s/test_data_set_0/input_0.pb", TESTDATA, name);
        bytes = read_file(path, &size);
        evk_onnx_model *owner = NULL;
        const evk_onnx_tensor *t = NULL;
        if (evk_onnx_parse_tensor(NULL, bytes, size, path, &owner, &t) != EVK_SUCCESS)
            fail_msg("%s", evk_last_error(NULL));
        free(bytes);
        assert_int_equal(t->rank, m->inputs[0].rank);
        for (uint32_t d = 0; d < t->rank; ++d)
            assert_int_equal(t->dims[d], m->inputs[0].dims[d]);
        assert_true(t->data_type == m->inputs[0].elem_type);
        assert_true(t->floats || t->ints);
        evk_onnx_free(NULL, owner);
        evk_onnx_free(NULL, m);
        ++models;
    }
    closedir(dir);
    print_message("parsed %u conformance models\n", models);
    assert_true(models >= 10);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_model),        cmocka_unit_test(test_float_encodings),
        cmocka_unit_test(test_integer_encodings), cmocka_unit_test(test_opset_and_inputs),
        cmocka_unit_test(test_every_truncation),  cmocka_unit_test(test_bad_wire),
        cmocka_unit_test(test_bad_tensors),       cmocka_unit_test(test_refused_attributes),
        cmocka_unit_test(test_external_data),     cmocka_unit_test(test_conformance_models),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
