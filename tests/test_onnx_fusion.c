/* GPU tier: the ONNX importer's small fusions (docs/onnx.md, "Fusion
 * rules" 1 and 2, and the matrix products) on graphs the test writes
 * (onnx_graph_builder.h): each pattern found and a near miss left unfused,
 * first as the fused IR's ops without a device, then as a model on the
 * device against the CPU interpreter of the same graph, with the layers'
 * kinds and the ONNX nodes each runs. Inputs of odd sizes: 5 channels,
 * 9 x 11, batch 2. */
#include "onnx_fusion_util.h"

static const int64_t input_dims[] = {2, 5, 9, 11};
static const evk_shape input_shape = {2, 5, 9, 11};

static const ir_op *single_conv(const ir_graph *g)
{
    fu_expect_ops(g, (const ir_kind[]){IR_CONV}, 1, "one conv");
    return fu_live(g, 0);
}

/* Conv + BatchNormalization + Relu: one conv; with the BatchNorm's output
 * also read by the Add, the conv takes the BatchNorm only. */
static void conv_batchnorm_relu(void **state)
{
    tu_gpu *gpu = *state;
    for (int near_miss = 0; near_miss < 2; ++near_miss) {
        fb *b = fb_new(11);
        const char *bn = fb_bn(b, fb_conv(b, "x", 5, 7, 3, 1, 1, 1), 7);
        const char *y = fb_unary(b, "Relu", bn);
        if (near_miss)
            y = fb_binary(b, "Add", y, bn);
        evk_onnx_model *onnx = fb_finish(b, input_dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        const ir_op *conv;
        evk_model *model;
        if (!near_miss) {
            conv = single_conv(&g);
            assert_int_equal(conv->conv.desc.activation, EVK_ACTIVATION_RELU);
            model = fu_run(gpu->ctx, onnx, input_shape, (const char *const[]){"conv2d"}, 1, 1,
                           "conv + bn + relu");
            fu_expect_source(model, 0, "Relu", 1);
        } else {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV, IR_UNARY, IR_BINARY}, 3, "bn read twice");
            conv = fu_live(&g, 0);
            assert_int_equal(conv->conv.desc.activation, EVK_ACTIVATION_NONE);
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "activation", "add"}, 3, 2,
                           "bn read twice");
            fu_expect_source(model, 0, "Relu", 0);
            fu_expect_source(model, 1, "Relu", 1);
            fu_expect_source(model, 2, "Add", 1);
        }
        assert_non_null(conv->conv.desc.batchnorm.gamma);
        assert_non_null(conv->conv.desc.bias);
        fu_expect_source(model, 0, "Conv", 1);
        fu_expect_source(model, 0, "BatchNormalization", 1);
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* Mul(Sigmoid(c), c) after a conv: SiLU in the conv; Mul(other,
 * Sigmoid(c)): the conv takes the sigmoid, the Mul stays. */
static void conv_silu(void **state)
{
    tu_gpu *gpu = *state;
    for (int near_miss = 0; near_miss < 2; ++near_miss) {
        fb *b = fb_new(21);
        const char *c = fb_conv(b, "x", 5, 6, 3, 2, 1, 1);
        const char *s = fb_unary(b, "Sigmoid", c);
        const char *y = near_miss ? fb_binary(b, "Mul", fb_conv(b, "x", 5, 6, 3, 2, 1, 1), s)
                                  : fb_binary(b, "Mul", s, c);
        evk_onnx_model *onnx = fb_finish(b, input_dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        evk_model *model;
        if (!near_miss) {
            assert_int_equal(single_conv(&g)->conv.desc.activation, EVK_ACTIVATION_SILU);
            model = fu_run(gpu->ctx, onnx, input_shape, (const char *const[]){"conv2d"}, 1, 3,
                           "conv + silu");
            fu_expect_source(model, 0, "Sigmoid", 1);
            fu_expect_source(model, 0, "Mul", 1);
        } else {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV, IR_CONV, IR_BINARY}, 3, "mul of another");
            assert_int_equal(fu_live(&g, 0)->conv.desc.activation, EVK_ACTIVATION_SIGMOID);
            assert_int_equal(fu_live(&g, 1)->conv.desc.activation, EVK_ACTIVATION_NONE);
            assert_int_equal(fu_live(&g, 2)->binary, EVK_BINARY_MUL);
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "conv2d", "broadcast"}, 3, 4,
                           "mul of another value");
            fu_expect_source(model, 0, "Sigmoid", 1);
            fu_expect_source(model, 0, "Mul", 0);
            fu_expect_source(model, 2, "Mul", 1);
        }
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* Conv + Add of [1, C, 1, 1] + Add(scalar, ·): the bias of one conv; an
 * Add of [1, 1, H, W] stays a broadcast. */
static void conv_constant_add(void **state)
{
    tu_gpu *gpu = *state;
    float t[7], plane[99];
    for (int i = 0; i < 7; ++i)
        t[i] = 0.1f * (float)i - 0.3f;
    for (int i = 0; i < 99; ++i)
        plane[i] = 0.01f * (float)i - 0.5f;
    for (int near_miss = 0; near_miss < 2; ++near_miss) {
        fb *b = fb_new(31);
        const char *c = fb_conv(b, "x", 5, 7, 1, 1, 1, 0), *y;
        if (!near_miss) {
            const char *per_channel = fb_floats(b, (const int64_t[]){1, 7, 1, 1}, 4, t);
            const char *scalar = fb_floats(b, (const int64_t[]){1}, 1, (const float[]){0.25f});
            y = fb_binary(b, "Add", scalar, fb_binary(b, "Add", c, per_channel));
        } else {
            y = fb_binary(b, "Add", c, fb_floats(b, (const int64_t[]){1, 1, 9, 11}, 4, plane));
        }
        evk_onnx_model *onnx = fb_finish(b, input_dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        evk_model *model;
        if (!near_miss) {
            const evk_conv2d_desc *d = &single_conv(&g)->conv.desc;
            assert_non_null(d->bias);
            assert_int_equal(d->bias_count, 7);
            for (int i = 0; i < 7; ++i)
                assert_float_equal(d->bias[i], t[i] + 0.25f, 1e-6f);
            model = fu_run(gpu->ctx, onnx, input_shape, (const char *const[]){"conv2d"}, 1, 5,
                           "conv + per-channel add");
            fu_expect_source(model, 0, "Add", 1);
        } else {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV, IR_BINARY_CONSTANT}, 2, "plane add");
            assert_null(fu_live(&g, 0)->conv.desc.bias);
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "broadcast"}, 2, 6, "plane add");
            fu_expect_source(model, 0, "Add", 0);
            fu_expect_source(model, 1, "Add", 1);
        }
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* Add of two same-shape values + Relu: the residual add with ReLU; +
 * Sigmoid: two layers. */
static void add_relu(void **state)
{
    tu_gpu *gpu = *state;
    for (int near_miss = 0; near_miss < 2; ++near_miss) {
        fb *b = fb_new(41);
        const char *sum = fb_binary(b, "Add", fb_conv(b, "x", 5, 6, 3, 1, 1, 1),
                                    fb_conv(b, "x", 5, 6, 1, 1, 1, 1));
        const char *y = fb_unary(b, near_miss ? "Sigmoid" : "Relu", sum);
        evk_onnx_model *onnx = fb_finish(b, input_dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        evk_model *model;
        if (!near_miss) {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV, IR_CONV, IR_BINARY}, 3, "add + relu");
            assert_int_equal(fu_live(&g, 2)->activation, EVK_ACTIVATION_RELU);
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "conv2d", "add"}, 3, 7, "add + relu");
            fu_expect_source(model, 2, "Relu", 1);
        } else {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV, IR_CONV, IR_BINARY, IR_UNARY}, 4,
                          "add + sigmoid");
            assert_int_equal(fu_live(&g, 2)->activation, EVK_ACTIVATION_NONE);
            assert_int_equal(fu_live(&g, 3)->unary.op, EVK_UNARY_SIGMOID);
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "conv2d", "add", "activation"}, 4, 8,
                           "add + sigmoid");
            fu_expect_source(model, 2, "Sigmoid", 0);
            fu_expect_source(model, 3, "Sigmoid", 1);
        }
        fu_expect_source(model, 2, "Add", 1);
        fu_expect_source(model, 0, "Relu", 0);
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* GlobalAveragePool + Flatten + Gemm (transB 1, alpha 0.5, beta 2) + Relu
 * + MatMul + Add of a bias: the Gemm a 1x1 conv with ReLU, the MatMul a
 * linear layer with the Add as bias; then Gemm (transB 0, alpha 1.5, beta
 * 0.5, C of one value) as the graph's output: a linear layer. */
static void matrix_products(void **state)
{
    tu_gpu *gpu = *state;
    tu_rng rng = tu_rng_seeded(51);
    float *gemm_b = tu_random_array(&rng, 60, -0.5f, 0.5f),
          *gemm_c = tu_random_array(&rng, 10, -1, 1);
    for (int variant = 0; variant < 2; ++variant) {
        fb *b = fb_new(52);
        const char *f = fb_unary(b, "Flatten",
                                 fb_unary(b, "GlobalAveragePool",
                                          fb_unary(b, "Relu", fb_conv(b, "x", 5, 6, 3, 1, 1, 1))));
        pb a = {0};
        pb_attribute_int(&a, "transB", !variant);
        pb_attribute_float(&a, "alpha", variant ? 1.5f : 0.5f);
        pb_attribute_float(&a, "beta", variant ? 0.5f : 2.0f);
        const char *gb = fb_floats(b, variant ? (const int64_t[]){6, 10} : (const int64_t[]){10, 6},
                                   2, gemm_b);
        const char *gc = variant ? fb_floats(b, (const int64_t[]){1}, 1, gemm_c)
                                 : fb_floats(b, (const int64_t[]){10}, 1, gemm_c);
        const char *y = fb_node(b, "Gemm", (const char *const[]){f, gb, gc, NULL}, &a);
        if (!variant) {
            const char *mb = fb_random(b, (const int64_t[]){10, 3}, 2, -0.5f, 0.5f);
            const char *mm = fb_binary(b, "MatMul", fb_unary(b, "Relu", y), mb);
            y = fb_binary(b, "Add", mm, fb_random(b, (const int64_t[]){3}, 1, -1.0f, 1.0f));
        }
        evk_onnx_model *onnx = fb_finish(b, input_dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        const ir_kind conv_kinds[] = {IR_CONV, IR_GLOBAL_POOL, IR_CONV, IR_CONV};
        fu_expect_ops(&g, conv_kinds, variant ? 3 : 4, "matrix products");
        const ir_op *gemm = fu_live(&g, 2);
        assert_true(gemm->conv.linear);
        assert_int_equal(gemm->conv.desc.activation,
                         variant ? EVK_ACTIVATION_NONE : EVK_ACTIVATION_RELU);
        for (uint32_t o = 0; o < 10; ++o) {
            assert_float_equal(gemm->conv.desc.bias[o], variant ? 0.5f * gemm_c[0] : 2 * gemm_c[o],
                               1e-6f);
            for (uint32_t i = 0; i < 6; ++i)
                assert_float_equal(gemm->conv.desc.weight[o * 6 + i],
                                   variant ? 1.5f * gemm_b[i * 10 + o] : 0.5f * gemm_b[o * 6 + i],
                                   1e-6f);
        }
        evk_model *model;
        if (!variant) {
            const ir_op *matmul = fu_live(&g, 3);
            assert_true(matmul->conv.linear);
            assert_int_equal(matmul->conv.desc.bias_count, 3);
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "global_avg_pool", "conv2d", "linear"},
                           4, 9, "gemm + relu, matmul + add");
            fu_expect_source(model, 2, "Gemm", 1);
            fu_expect_source(model, 2, "Relu", 1);
            fu_expect_source(model, 3, "MatMul", 1);
            fu_expect_source(model, 3, "Add", 1);
        } else {
            model = fu_run(gpu->ctx, onnx, input_shape,
                           (const char *const[]){"conv2d", "global_avg_pool", "linear"}, 3, 10,
                           "gemm");
            fu_expect_source(model, 2, "Gemm", 1);
        }
        fu_release(model, &g, onnx);
    }
    free(gemm_b);
    free(gemm_c);
    tu_assert_no_validation_messages(gpu);
}

/* Convolutions that pad one side more: auto_pad SAME_UPPER at stride 2
 * on 10 x 12 (one more row and column at the end), explicit pads of a
 * 4 x 2 kernel (1 / 2 rows, 2 / 0 columns: the end pads less); SAME_LOWER
 * there (one more at the begin) and pads 1 / 2 at stride 2 on 9 x 11,
 * where no window reaches the side that pads less or more: padded alike,
 * as the block fusions want it. */
static void conv_asymmetric_padding(void **state)
{
    tu_gpu *gpu = *state;
    static const struct {
        const char *auto_pad;
        int64_t kh, kw, stride, pads[4], h, w;
        uint32_t pad_h, pad_w;
        int32_t extra_bottom, extra_right;
    } cases[] = {
        {"SAME_UPPER", 3, 3, 2, {0, 0, 0, 0}, 10, 12, 0, 0, 1, 1},
        {"SAME_LOWER", 3, 3, 2, {0, 0, 0, 0}, 10, 12, 1, 1, 0, 0},
        {NULL, 4, 2, 1, {1, 2, 2, 0}, 10, 12, 1, 2, 1, -2},
        {NULL, 3, 3, 2, {1, 1, 2, 2}, 9, 11, 1, 1, 0, 0},
    };
    for (uint32_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        fb *b = fb_new(91 + c);
        pb a = {0};
        pb_attribute_ints(&a, "kernel_shape", (const int64_t[]){cases[c].kh, cases[c].kw}, 2);
        pb_attribute_ints(&a, "strides", (const int64_t[]){cases[c].stride, cases[c].stride}, 2);
        if (cases[c].auto_pad)
            pb_attribute_string(&a, "auto_pad", cases[c].auto_pad);
        else
            pb_attribute_ints(&a, "pads", cases[c].pads, 4);
        const char *w = fb_random(b, (const int64_t[]){7, 5, cases[c].kh, cases[c].kw}, 4, -0.4f,
                                  0.4f);
        const char *bias = fb_random(b, (const int64_t[]){7}, 1, -0.5f, 0.5f);
        const char *y = fb_node(b, "Conv", (const char *const[]){"x", w, bias, NULL}, &a);
        const int64_t dims[] = {2, 5, cases[c].h, cases[c].w};
        evk_onnx_model *onnx = fb_finish(b, dims, fb_unary(b, "Relu", y));
        ir_graph g;
        fu_fuse(onnx, &g);
        const evk_conv2d_desc *d = &single_conv(&g)->conv.desc;
        assert_int_equal(d->pad_h, cases[c].pad_h);
        assert_int_equal(d->pad_w, cases[c].pad_w);
        assert_int_equal(d->pad_bottom_extra, cases[c].extra_bottom);
        assert_int_equal(d->pad_right_extra, cases[c].extra_right);
        char what[64];
        snprintf(what, sizeof what, "asymmetric padding, case %u", c);
        evk_model *model = fu_run(gpu->ctx, onnx,
                                  (evk_shape){2, 5, (uint32_t)cases[c].h, (uint32_t)cases[c].w},
                                  (const char *const[]){"conv2d"}, 1, 95 + c, what);
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* A zero Pad (1 / 2 rows, 2 / 0 columns) before a 3x3 conv of stride 2
 * without padding: one conv that pads by it; ZeroPad2d(1) before a conv
 * padded by 1: one conv padded by 2; before a max pool (whose padding is
 * not zeros): the Pad runs as a layer of its own. Pads of the channels or
 * below 0: refused; pads of nothing: no layer. */
static void pad_fold(void **state)
{
    tu_gpu *gpu = *state;
    for (int c = 0; c < 3; ++c) {
        fb *b = fb_new(101 + (uint64_t)c);
        const char *y;
        if (c < 2) {
            const char *padded = c == 0 ? fb_pad(b, "x", 1, 2, 2, 0) : fb_pad(b, "x", 1, 1, 1, 1);
            pb a = {0};
            int64_t p = c == 0 ? 0 : 1;
            pb_attribute_ints(&a, "kernel_shape", (const int64_t[]){3, 3}, 2);
            pb_attribute_ints(&a, "strides", (const int64_t[]){c == 0 ? 2 : 1, c == 0 ? 2 : 1}, 2);
            pb_attribute_ints(&a, "pads", (const int64_t[]){p, p, p, p}, 4);
            const char *w = fb_random(b, (const int64_t[]){6, 5, 3, 3}, 4, -0.4f, 0.4f);
            y = fb_unary(b, "Relu", fb_node(b, "Conv", (const char *const[]){padded, w, NULL}, &a));
        } else {
            pb a = {0};
            pb_attribute_ints(&a, "kernel_shape", (const int64_t[]){3, 3}, 2);
            pb_attribute_ints(&a, "strides", (const int64_t[]){2, 2}, 2);
            y = fb_node(b, "MaxPool", (const char *const[]){fb_pad(b, "x", 1, 1, 0, 2), NULL}, &a);
        }
        evk_onnx_model *onnx = fb_finish(b, input_dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        evk_model *model;
        if (c < 2) {
            const evk_conv2d_desc *d = &single_conv(&g)->conv.desc;
            assert_int_equal(d->pad_h, c == 0 ? 1 : 2);
            assert_int_equal(d->pad_w, c == 0 ? 2 : 2);
            assert_int_equal(d->pad_bottom_extra, 0);
            assert_int_equal(d->pad_right_extra, c == 0 ? -2 : 0);
            model = fu_run(gpu->ctx, onnx, input_shape, (const char *const[]){"conv2d"}, 1, 104 + c,
                           "pad + conv");
            fu_expect_source(model, 0, "Pad", 1);
            fu_expect_source(model, 0, "Relu", 1);
        } else {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV, IR_MAX_POOL}, 2, "pad + max pool");
            model = fu_run(gpu->ctx, onnx, input_shape, (const char *const[]){"conv2d", "max_pool"},
                           2, 106, "pad + max pool");
            fu_expect_source(model, 0, "Pad", 1);
            fu_expect_source(model, 1, "Pad", 0);
        }
        fu_release(model, &g, onnx);
    }
    /* Pads of the channels, and a negative one (a crop): refused by name. */
    static const int64_t refused[2][8] = {{0, 1, 0, 0, 0, 0, 0, 0}, {0, 0, 0, -1, 0, 0, 1, 1}};
    for (int c = 0; c < 2; ++c) {
        fb *b = fb_new(107);
        const char *pads = fb_ints(b, refused[c], 8);
        evk_onnx_model *onnx = fb_finish(
            b, input_dims, fb_node(b, "Pad", (const char *const[]){"x", pads, NULL}, NULL));
        ir_graph g;
        assert_int_equal(evk_onnx_lower_bound(NULL, onnx, FU_FILE, NULL, NULL, 0, &g),
                         EVK_ERROR_UNSUPPORTED);
        tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, c ? "axis 3" : "axis 1");
        fu_release(NULL, &g, onnx);
    }
    /* Pads of nothing: no layer. */
    fb *b = fb_new(108);
    evk_onnx_model *onnx = fb_finish(b, input_dims,
                                     fb_unary(b, "Relu", fb_pad(b, "x", 0, 0, 0, 0)));
    ir_graph g;
    fu_fuse(onnx, &g);
    fu_expect_ops(&g, (const ir_kind[]){IR_UNARY}, 1, "pad of nothing");
    fu_release(NULL, &g, onnx);
    tu_assert_no_validation_messages(gpu);
}

/* The pads as PyTorch's exporter computes F.pad's (0, 1, 1, 0): [left,
 * right, top, bottom] and ConstantOfShape's zeros concatenated, reshaped to
 * rows of two, the rows reversed (Slice of step -1), transposed, flattened
 * and cast to INT64, which the importer evaluates: one more row at the top
 * and column at the right, in the 2x2 conv after it. */
static void pad_from_shape_arithmetic(void **state)
{
    (void)state;
    fb *b = fb_new(111);
    const char *zeros = fb_node(b, "ConstantOfShape",
                                (const char *const[]){fb_ints(b, (const int64_t[]){4}, 1), NULL},
                                NULL);
    pb axis = {0};
    pb_attribute_int(&axis, "axis", 0);
    const char *pads = fb_node(
        b, "Concat",
        (const char *const[]){fb_ints(b, (const int64_t[]){0, 1, 1, 0}, 4), zeros, NULL}, &axis);
    pads = fb_node(b, "Reshape",
                   (const char *const[]){pads, fb_ints(b, (const int64_t[]){-1, 2}, 2), NULL},
                   NULL);
    pads = fb_node(b, "Slice",
                   (const char *const[]){pads, fb_ints(b, (const int64_t[]){-1}, 1),
                                         fb_ints(b, (const int64_t[]){-INT64_MAX}, 1),
                                         fb_ints(b, (const int64_t[]){0}, 1),
                                         fb_ints(b, (const int64_t[]){-1}, 1), NULL},
                   NULL);
    pb perm = {0};
    pb_attribute_ints(&perm, "perm", (const int64_t[]){1, 0}, 2);
    pads = fb_node(b, "Transpose", (const char *const[]){pads, NULL}, &perm);
    pads = fb_node(b, "Reshape",
                   (const char *const[]){pads, fb_ints(b, (const int64_t[]){-1}, 1), NULL}, NULL);
    pb to = {0};
    pb_attribute_int(&to, "to", 7);
    pads = fb_node(b, "Cast", (const char *const[]){pads, NULL}, &to);
    const char *padded = fb_node(b, "Pad", (const char *const[]){"x", pads, NULL}, NULL);
    pb a = {0};
    pb_attribute_ints(&a, "kernel_shape", (const int64_t[]){2, 2}, 2);
    const char *w = fb_random(b, (const int64_t[]){6, 5, 2, 2}, 4, -0.4f, 0.4f);
    evk_onnx_model *onnx = fb_finish(
        b, input_dims, fb_node(b, "Conv", (const char *const[]){padded, w, NULL}, &a));
    ir_graph g;
    fu_fuse(onnx, &g);
    const evk_conv2d_desc *d = &single_conv(&g)->conv.desc;
    assert_int_equal(d->pad_h, 1);
    assert_int_equal(d->pad_bottom_extra, -1);
    assert_int_equal(d->pad_w, 0);
    assert_int_equal(d->pad_right_extra, 1);
    assert_int_equal(g.values[fu_live(&g, 0)->out[0]].shape.h, 9);
    assert_int_equal(g.values[fu_live(&g, 0)->out[0]].shape.w, 11);
    fu_release(NULL, &g, onnx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(conv_batchnorm_relu),
        TU_GPU_TEST(conv_silu),
        TU_GPU_TEST(conv_constant_add),
        TU_GPU_TEST(add_relu),
        TU_GPU_TEST(matrix_products),
        TU_GPU_TEST(conv_asymmetric_padding),
        TU_GPU_TEST(pad_fold),
        TU_GPU_TEST(pad_from_shape_arithmetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
