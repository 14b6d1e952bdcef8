/* GPU tier: the ONNX importer's block fusions (docs/onnx.md, "Fusion
 * rules" 3 to 5: MBConv with squeeze-excitation, OctConv, HetConv) on
 * graphs the test writes (onnx_graph_builder.h): each block found and a near
 * miss left unfused, as the fused IR's ops without a device and as a model
 * on the device against the CPU interpreter of the same graph. Odd sizes
 * throughout: 6 -> 10 channels, 9 x 11 and 9 x 13 maps, batch 2. */
#include "onnx_fusion_util.h"

/* ---- HetConv. */

/* Weights [10][6][3][3] with the zero pattern of part P: off-centre taps
 * only where (i − o) mod P == 0; `stray` one more off-centre tap at
 * (o 1, i 0). */
static float *hetconv_weights(uint32_t part, int stray)
{
    tu_rng rng = tu_rng_seeded(60 + part);
    float *w = tu_random_array(&rng, 10 * 6 * 9, -0.3f, 0.3f);
    for (int o = 0; o < 10; ++o)
        for (int i = 0; i < 6; ++i)
            for (int t = 0; t < 9; ++t)
                if ((i - o) % (int)part != 0 && t != 4)
                    w[(o * 6 + i) * 9 + t] = 0.0f;
    if (stray)
        w[(1 * 6 + 0) * 9 + 0] = 0.25f;
    return w;
}

/* Conv 6 -> 10 (3x3, bias) + BatchNormalization + Relu with P = 4 (which
 * does not divide 6) and P = 2 at stride 2: HetConvs of those parts; the
 * pattern of P = 8, more than the 6 inputs (full taps at (8, 0) and (9, 1)
 * besides the diagonal): the HetConv of P = 4, the largest part at most 6
 * that keeps them; P = 4 with one stray tap: a dense conv. */
static void hetconv(void **state)
{
    tu_gpu *gpu = *state;
    static const struct {
        uint32_t pattern, part, stride;
        int stray;
    } cases[] = {{4, 4, 1, 0}, {2, 2, 2, 0}, {8, 4, 1, 0}, {4, 0, 1, 1}};
    const int64_t dims[] = {2, 6, 9, 11};
    const evk_shape shape = {2, 6, 9, 11};
    for (uint32_t c = 0; c < 4; ++c) {
        fb *b = fb_new(61);
        float *w = hetconv_weights(cases[c].pattern, cases[c].stray);
        const char *conv = fb_conv_with(
            b, "x", 6, 10, 3, cases[c].stride, 1, w,
            (const float[]){0.1f, -0.2f, 0.3f, 0, 0.5f, -0.1f, 0.2f, 0, 0.4f, -0.3f}, 1);
        free(w);
        evk_onnx_model *onnx = fb_finish(b, dims, fb_unary(b, "Relu", fb_bn(b, conv, 10)));
        ir_graph g;
        fu_fuse(onnx, &g);
        const ir_op *op = fu_live(&g, 0);
        evk_model *model;
        char what[64];
        snprintf(what, sizeof what, "hetconv pattern %u stride %u%s", cases[c].pattern,
                 cases[c].stride, cases[c].stray ? " stray tap" : "");
        if (!cases[c].stray) {
            fu_expect_ops(&g, (const ir_kind[]){IR_HETCONV}, 1, what);
            assert_int_equal(op->hetconv.part, cases[c].part);
            assert_int_equal(op->hetconv.stride, cases[c].stride);
            assert_int_equal(op->hetconv.activation, EVK_ACTIVATION_RELU);
            assert_non_null(op->hetconv.batchnorm.gamma);
            model = fu_run(gpu->ctx, onnx, shape, (const char *const[]){"hetconv"}, 1, 62 + c,
                           what);
            assert_string_equal(evk_model_layer_kernel(model, 0), "hetconv");
        } else {
            fu_expect_ops(&g, (const ir_kind[]){IR_CONV}, 1, what);
            assert_int_equal(op->conv.desc.activation, EVK_ACTIVATION_RELU);
            model = fu_run(gpu->ctx, onnx, shape, (const char *const[]){"conv2d"}, 1, 62 + c, what);
        }
        fu_expect_source(model, 0, "BatchNormalization", 1);
        fu_expect_source(model, 0, "Relu", 1);
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* ---- MBConv. */

/* EfficientNet's block as exported: expand 1x1 + BatchNorm + SiLU (as
 * Sigmoid and Mul), depthwise 3x3 with a bias + SiLU, the SE (global pool,
 * 1x1 48 -> 3 with bias, SiLU or `se_relu` Relu, 1x1 3 -> 48 with bias,
 * Sigmoid, Mul), project 1x1 + BatchNorm, and the residual Add when
 * `residual`; with `zero_pad` the depthwise conv's padding is a Pad of
 * zeros before it (as TensorFlow's models converted write it). */
static const char *mbconv_block(fb *b, uint32_t cin, uint32_t cout, uint32_t stride, int se_relu,
                                int residual, int zero_pad)
{
    const uint32_t e = 48, s = 3;
    const char *h = fb_silu(b, fb_bn(b, fb_conv(b, "x", cin, e, 1, 1, 1, 0), e));
    const char *d = zero_pad
        ? fb_silu(b, fb_conv_padded(b, fb_pad(b, h, 1, 1, 1, 1), e, e, 3, stride, e, 1, 0))
        : fb_silu(b, fb_conv(b, h, e, e, 3, stride, e, 1));
    const char *f1 = fb_conv(b, fb_unary(b, "GlobalAveragePool", d), e, s, 1, 1, 1, 1);
    f1 = se_relu ? fb_unary(b, "Relu", f1) : fb_silu(b, f1);
    const char *gate = fb_unary(b, "Sigmoid", fb_conv(b, f1, s, e, 1, 1, 1, 1));
    const char *y = fb_bn(b, fb_conv(b, fb_binary(b, "Mul", d, gate), e, cout, 1, 1, 1, 0), cout);
    return residual ? fb_binary(b, "Add", y, "x") : y;
}

/* 12 -> 12 stride 1 with the residual, 12 -> 16 stride 2 without and
 * 12 -> 12 with the depthwise conv's padding a Pad: one MBConv each; the
 * SE's inner activation Relu, or stride 1 and 12 -> 12 without the
 * residual (which the fused block would add): separate layers. */
static void mbconv(void **state)
{
    tu_gpu *gpu = *state;
    static const struct {
        uint32_t out, stride;
        int se_relu, residual, zero_pad, fused;
    } cases[] = {{12, 1, 0, 1, 0, 1},
                 {16, 2, 0, 0, 0, 1},
                 {12, 1, 0, 1, 1, 1},
                 {12, 1, 1, 1, 0, 0},
                 {12, 1, 0, 0, 0, 0}};
    const int64_t dims[] = {2, 12, 9, 11};
    const evk_shape shape = {2, 12, 9, 11};
    static const ir_kind unfused[] = {IR_CONV, IR_CONV,   IR_GLOBAL_POOL, IR_CONV,
                                      IR_CONV, IR_BINARY, IR_CONV,        IR_BINARY};
    static const char *const unfused_kinds[] = {"conv2d", "conv2d",    "global_avg_pool", "conv2d",
                                                "conv2d", "broadcast", "conv2d",          "add"};
    for (uint32_t c = 0; c < sizeof cases / sizeof cases[0]; ++c) {
        fb *b = fb_new(71 + c);
        const char *y = mbconv_block(b, 12, cases[c].out, cases[c].stride, cases[c].se_relu,
                                     cases[c].residual, cases[c].zero_pad);
        evk_onnx_model *onnx = fb_finish(b, dims, y);
        ir_graph g;
        fu_fuse(onnx, &g);
        char what[64];
        snprintf(what, sizeof what, "mbconv 12 -> %u stride %u%s%s%s", cases[c].out,
                 cases[c].stride, cases[c].se_relu ? " relu in se" : "",
                 cases[c].residual ? " residual" : "", cases[c].zero_pad ? " pad" : "");
        evk_model *model;
        if (cases[c].fused) {
            fu_expect_ops(&g, (const ir_kind[]){IR_MBCONV}, 1, what);
            const evk_mbconv_desc *d = &fu_live(&g, 0)->mbconv;
            assert_int_equal(d->in_channels, 12);
            assert_int_equal(d->out_channels, cases[c].out);
            assert_int_equal(d->expanded_channels, 48);
            assert_int_equal(d->kernel_size, 3);
            assert_int_equal(d->stride, cases[c].stride);
            assert_int_equal(d->activation, EVK_ACTIVATION_SILU);
            assert_int_equal((uint32_t)(12 * d->se_ratio), 3);
            model = fu_run(gpu->ctx, onnx, shape, (const char *const[]){"mbconv"}, 1, 171 + c,
                           what);
            fu_expect_source(model, 0, "GlobalAveragePool", 1);
            fu_expect_source(model, 0, "Add", cases[c].residual);
            fu_expect_source(model, 0, "Pad", cases[c].zero_pad);
        } else {
            uint32_t count = cases[c].residual ? 8 : 7;
            fu_expect_ops(&g, unfused, count, what);
            assert_int_equal(fu_count(&g, IR_MBCONV), 0);
            assert_int_equal(fu_live(&g, 3)->conv.desc.activation,
                             cases[c].se_relu ? EVK_ACTIVATION_RELU : EVK_ACTIVATION_SILU);
            assert_int_equal(fu_live(&g, 4)->conv.desc.activation, EVK_ACTIVATION_SIGMOID);
            model = fu_run(gpu->ctx, onnx, shape, unfused_kinds, count, 171 + c, what);
        }
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* ---- OctConv. */

static const char *concat(fb *b, const char *x, const char *y)
{
    pb a = {0};
    pb_attribute_int(&a, "axis", 1);
    return fb_node(b, "Concat", (const char *const[]){x, y, NULL}, &a);
}

/* From x [2, 16, H, W]: the first layer of an Oct-network (X^H = conv(x)
 * 16 -> 12, X^L = conv(P(x)) 16 -> 4, 1x1 with biases), then a stride-1
 * layer 12 + 4 -> 12 + 4, K = 3: Y^H = conv_hh(X^H) + U(conv_lh(X^L)) (U
 * the Resize of `mode`, then the Slice to H x W at odd sizes), Y^L =
 * conv_hl(P(X^H)) + conv_ll(X^L), BatchNorm on both sides, Relu on Y^H and
 * (`low_relu`) on Y^L. Output: [Y^H, U(Y^L)] at even sizes, [max pool of
 * Y^H, Y^L] at odd ones (a crop only runs inside an OctConv). */
static evk_onnx_model *octconv_graph(uint32_t h, uint32_t w, const char *mode, int low_relu,
                                     int crop_read_twice)
{
    fb *b = fb_new(81);
    int odd = (h | w) & 1;
    const char *xh = fb_conv(b, "x", 16, 12, 1, 1, 1, 1);
    const char *xl = fb_conv(b, fb_pool2(b, "AveragePool", "x"), 16, 4, 1, 1, 1, 1);
    const char *up = fb_resize2(b, fb_conv(b, xl, 4, 12, 3, 1, 1, 1), mode);
    if (odd)
        up = fb_crop(b, up, h, w);
    const char *sh = fb_binary(b, "Add", fb_conv(b, xh, 12, 12, 3, 1, 1, 1), up);
    const char *sl = fb_binary(b, "Add",
                               fb_conv(b, fb_pool2(b, "AveragePool", xh), 12, 4, 3, 1, 1, 1),
                               fb_conv(b, xl, 4, 4, 3, 1, 1, 1));
    const char *yh = fb_unary(b, "Relu", fb_bn(b, sh, 12)), *yl = fb_bn(b, sl, 4);
    if (crop_read_twice)
        yh = fb_binary(b, "Add", yh, up);
    if (low_relu)
        yl = fb_unary(b, "Relu", yl);
    const char *y = odd ? concat(b, fb_pool2(b, "MaxPool", yh), yl)
                        : concat(b, yh, fb_resize2(b, yl, "nearest"));
    return fb_finish(b, (const int64_t[]){2, 16, h, w}, y);
}

static void expect_octconv(const ir_op *op, uint32_t kernel, uint32_t stride, uint32_t in_low,
                           uint32_t out_low, uint32_t out)
{
    assert_int_equal(op->kind, IR_OCTCONV);
    assert_int_equal(op->octconv.kernel_size, kernel);
    assert_int_equal(op->octconv.stride, stride);
    assert_int_equal(op->octconv.in_low_channels, in_low);
    assert_int_equal(op->octconv.out_low_channels, out_low);
    assert_int_equal(op->octconv.out_channels, out);
    assert_int_equal(op->in_count, in_low ? 2 : 1);
    assert_int_equal(op->out_count, out_low ? 2 : 1);
}

/* At 10 x 14 and at 9 x 13 (the crop inside the layer): the first layer
 * and the stride-1 layer become two OctConvs; no Resize or Slice of the
 * layer remains. */
static void octconv(void **state)
{
    tu_gpu *gpu = *state;
    for (int odd = 0; odd < 2; ++odd) {
        uint32_t h = odd ? 9 : 10, w = odd ? 13 : 14;
        evk_onnx_model *onnx = octconv_graph(h, w, "nearest", 1, 0);
        ir_graph g;
        fu_fuse(onnx, &g);
        const char *what = odd ? "octconv 9x13" : "octconv 10x14";
        fu_expect_ops(
            &g, (const ir_kind[]){IR_OCTCONV, IR_OCTCONV, odd ? IR_MAX_POOL : IR_RESIZE, IR_CONCAT},
            4, what);
        expect_octconv(fu_live(&g, 0), 1, 1, 0, 4, 16);
        const ir_op *layer = fu_live(&g, 1);
        expect_octconv(layer, 3, 1, 4, 4, 16);
        assert_int_equal(layer->octconv.activation, EVK_ACTIVATION_RELU);
        assert_non_null(layer->octconv.batchnorm_h.gamma);
        assert_non_null(layer->octconv.batchnorm_l.gamma);
        assert_non_null(layer->octconv.bias_h);
        assert_non_null(layer->octconv.bias_l);
        evk_model *model = fu_run(
            gpu->ctx, onnx, (evk_shape){2, 16, h, w},
            (const char *const[]){"octconv", "octconv", odd ? "max_pool" : "resize", "concat"}, 4,
            82 + odd, what);
        fu_expect_source(model, 0, "AveragePool", 1);
        fu_expect_source(model, 1, "AveragePool", 1);
        fu_expect_source(model, 1, "Resize", 1);
        fu_expect_source(model, 1, "Slice", odd);
        fu_expect_source(model, 1, "BatchNormalization", 1);
        fu_expect_source(model, 1, "Relu", 1);
        fu_release(model, &g, onnx);
    }
    tu_assert_no_validation_messages(gpu);
}

/* Near misses: a bilinear L→H upsampling is refused when lowered, naming
 * the mode; with Y^L's Relu missing, the activations differ and the layer
 * is not one OctConv: Y^H alone (the last-layer form, X^L read) and Y^L
 * alone (the stride-2 last-layer form: conv(P(X^H)) + conv(X^L), which is
 * what the low side computes), each still correct; the crop of the
 * upsampled path read by another node too: refused. */
static void octconv_near_miss(void **state)
{
    tu_gpu *gpu = *state;
    evk_onnx_model *onnx = octconv_graph(10, 14, "linear", 1, 0);
    ir_graph g;
    assert_int_equal(evk_onnx_lower_bound(NULL, onnx, FU_FILE, NULL, NULL, 0, &g),
                     EVK_ERROR_UNSUPPORTED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, "linear");
    fu_release(NULL, &g, onnx);

    onnx = octconv_graph(10, 14, "nearest", 0, 0);
    fu_fuse(onnx, &g);
    fu_expect_ops(&g, (const ir_kind[]){IR_OCTCONV, IR_OCTCONV, IR_OCTCONV, IR_RESIZE, IR_CONCAT},
                  5, "octconv, no relu on Y^L");
    expect_octconv(fu_live(&g, 0), 1, 1, 0, 4, 16);
    expect_octconv(fu_live(&g, 1), 3, 1, 4, 0, 12);
    assert_int_equal(fu_live(&g, 1)->octconv.activation, EVK_ACTIVATION_RELU);
    expect_octconv(fu_live(&g, 2), 3, 2, 4, 0, 4);
    assert_int_equal(fu_live(&g, 2)->octconv.activation, EVK_ACTIVATION_NONE);
    evk_model *model = fu_run(
        gpu->ctx, onnx, (evk_shape){2, 16, 10, 14},
        (const char *const[]){"octconv", "octconv", "octconv", "resize", "concat"}, 5, 84,
        "octconv, no relu on Y^L");
    fu_expect_source(model, 1, "Relu", 1);
    fu_expect_source(model, 2, "Relu", 0);
    fu_release(model, &g, onnx);

    /* The cropped upsampling read again after Y^H: the layer would leave
     * that read nothing to read, so it is not fused, and the crop alone is
     * refused by name. */
    onnx = octconv_graph(9, 13, "nearest", 1, 1);
    fu_fuse(onnx, &g);
    assert_int_equal(fu_count(&g, IR_CROP), 1);
    model = NULL;
    assert_int_equal(evk_onnx_model_create(gpu->ctx, onnx, FU_FILE, NULL, NULL, 0, &model),
                     EVK_ERROR_UNSUPPORTED);
    assert_null(model);
    tu_assert_message(evk_last_error(gpu->ctx), EVK_ERROR_UNSUPPORTED, "only inside an OctConv");
    fu_release(NULL, &g, onnx);
    tu_assert_no_validation_messages(gpu);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(hetconv),
        TU_GPU_TEST(mbconv),
        TU_GPU_TEST(octconv),
        TU_GPU_TEST(octconv_near_miss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
