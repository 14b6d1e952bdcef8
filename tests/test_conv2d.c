/* Device tier: conv2d against the CPU reference over a matrix of odd cases:
 * channel counts that are not multiples of 4 (the packed layout's padding),
 * odd and non-square sizes, strides 1 and 2, kernels 1/3/5/7 and non-square
 * ones with asymmetric padding, one side padded more or less than the
 * other, groups 1, 2, depthwise and groups of sizes that straddle the
 * packed quads, batch 2, every activation, bias and BatchNorm folding. Each case also checks which kernel the layer picked.
 *
 * On lavapipe the cost is shader compilation (a dense 7x7 pipeline takes
 * about 10 s on 2 cores, a 5x5 one 3 s), so the matrix reaches every
 * property with few distinct large kernels. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#define K(h, w) .kernel_h = (h), .kernel_w = (w)
#define S(h, w) .stride_h = (h), .stride_w = (w)
#define P(h, w) .pad_h = (h), .pad_w = (w)
#define ACT(a) .activation = EVK_ACTIVATION_##a

static void run_cases(void **state, const tu_conv_case *cases, size_t count, uint64_t seed)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < count; ++i)
        tu_run_conv_case(g->ctx, &cases[i], seed + 10 * i);
    tu_assert_no_validation_messages(g);
}

#define RUN_CASES(state, cases, seed) run_cases(state, cases, sizeof cases / sizeof cases[0], seed)

static void test_pointwise(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {1, 3, 7, 5}, .out_channels = 5, K(1, 1), .bias = 1},
        {.input = {2, 13, 9, 11}, .out_channels = 7, K(1, 1), ACT(RELU), .batchnorm = 1},
        {.input = {1, 5, 1, 1}, .out_channels = 3, K(1, 1), ACT(SIGMOID), .bias = 1},
        {.input = {1, 7, 13, 3}, .out_channels = 13, K(1, 1), ACT(SILU), .bias = 1,
         .batchnorm = 1, .eps = 1e-3f},
        {.input = {1, 1, 1, 1}, .out_channels = 1, K(1, 1), ACT(RELU6)},
        {.input = {1, 37, 6, 7}, .out_channels = 21, K(1, 1), ACT(RELU6), .batchnorm = 1},
        {.input = {1, 8, 33, 35}, .out_channels = 12, K(1, 1), .bias = 1},
        {.input = {2, 16, 5, 5}, .out_channels = 16, K(1, 1), ACT(SILU)},
        {.input = {1, 96, 7, 9}, .out_channels = 24, K(1, 1), .bias = 1, .batchnorm = 1},
    };
    RUN_CASES(state, cases, 1000);
}

static void test_dense(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {1, 3, 9, 7}, .out_channels = 5, K(3, 3), P(1, 1), ACT(RELU), .bias = 1},
        {.input = {2, 5, 11, 13}, .out_channels = 7, K(3, 3), S(2, 2), P(1, 1), ACT(SILU),
         .batchnorm = 1},
        {.input = {1, 13, 6, 5}, .out_channels = 3, K(3, 3)},
        {.input = {1, 7, 10, 9}, .out_channels = 5, K(5, 5), P(2, 2), ACT(RELU6), .bias = 1},
        {.input = {1, 3, 13, 11}, .out_channels = 13, K(5, 5), S(2, 2), ACT(SIGMOID)},
        {.input = {1, 3, 17, 15}, .out_channels = 8, K(7, 7), S(2, 2), P(3, 3), ACT(RELU),
         .batchnorm = 1},
        {.input = {1, 5, 8, 9}, .out_channels = 4, K(1, 1), S(2, 2), ACT(RELU)},
        {.input = {1, 3, 5, 4}, .out_channels = 4, K(1, 1), P(1, 1), .bias = 1},
        {.input = {1, 19, 5, 6}, .out_channels = 23, K(3, 3), P(1, 1), ACT(SILU), .bias = 1,
         .batchnorm = 1},
        /* The kernel exactly as large as the padded input. */
        {.input = {1, 6, 1, 1}, .out_channels = 5, K(3, 3), P(1, 1)},
        {.input = {1, 8, 40, 37}, .out_channels = 8, K(3, 3), P(1, 1), ACT(RELU)},
        {.input = {1, 5, 9, 9}, .out_channels = 3, K(3, 3), P(2, 2), .bias = 1},
        /* A long reduction (576 terms) and an odd number of output quads. */
        {.input = {1, 64, 8, 8}, .out_channels = 44, K(3, 3), P(1, 1), ACT(RELU), .bias = 1},
        /* Deep inputs on small planes: with the narrow tiles (a GPU's) the
         * input channels are split across lanes, here into uneven slices. */
        {.input = {2, 67, 5, 7}, .out_channels = 30, K(3, 3), S(2, 2), P(1, 1), ACT(SILU),
         .batchnorm = 1},
        {.input = {1, 130, 3, 3}, .out_channels = 9, K(3, 3), P(1, 1), .bias = 1},
    };
    RUN_CASES(state, cases, 2000);
}

static void test_non_square(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {1, 5, 7, 9}, .out_channels = 6, K(1, 3), P(0, 1), ACT(RELU), .bias = 1},
        {.input = {2, 3, 9, 6}, .out_channels = 5, K(3, 1), S(2, 1), P(1, 0), ACT(SILU),
         .batchnorm = 1},
        {.input = {1, 4, 8, 11}, .out_channels = 7, K(5, 3), S(1, 2), P(2, 0)},
        {.input = {1, 6, 11, 5}, .out_channels = 3, K(1, 7), P(0, 3), ACT(SIGMOID), .bias = 1},
    };
    RUN_CASES(state, cases, 3000);
}

/* One side padded more than the other (ONNX's pads, SAME_UPPER at stride
 * 2), or less, on each kernel: the output grows or shrinks at the end. */
static void test_uneven_padding(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {2, 5, 10, 12}, .out_channels = 7, K(3, 3), S(2, 2), .pad_bottom_extra = 1,
         .pad_right_extra = 1, ACT(RELU), .bias = 1},
        {.input = {1, 6, 9, 7}, .out_channels = 5, K(3, 3), P(1, 1), .pad_bottom_extra = 2,
         .pad_right_extra = -1, ACT(SILU), .batchnorm = 1},
        {.input = {1, 3, 5, 4}, .out_channels = 4, K(1, 1), .pad_bottom_extra = 1, .bias = 1},
        {.input = {1, 5, 7, 9}, .out_channels = 6, K(1, 3), P(0, 1), .pad_right_extra = 1},
        {.input = {2, 13, 11, 10}, .out_channels = 13, .groups = 13, K(3, 3), S(2, 2),
         .pad_bottom_extra = 1, .pad_right_extra = 1, ACT(SILU), .bias = 1},
        {.input = {1, 7, 8, 9}, .out_channels = 7, .groups = 7, K(3, 3), P(1, 1),
         .pad_bottom_extra = -1, .pad_right_extra = 1},
        {.input = {1, 6, 7, 9}, .out_channels = 10, .groups = 2, K(3, 3), P(1, 1),
         .pad_bottom_extra = 1, .pad_right_extra = -1, ACT(RELU)},
    };
    RUN_CASES(state, cases, 3500);
}

static void test_depthwise(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {1, 5, 9, 7}, .out_channels = 5, .groups = 5, K(3, 3), P(1, 1), ACT(RELU6),
         .batchnorm = 1},
        {.input = {2, 13, 11, 10}, .out_channels = 13, .groups = 13, K(3, 3), S(2, 2), P(1, 1),
         ACT(SILU), .bias = 1},
        {.input = {1, 7, 13, 13}, .out_channels = 7, .groups = 7, K(5, 5), S(2, 2), P(2, 2)},
        {.input = {1, 3, 8, 9}, .out_channels = 3, .groups = 3, K(7, 7), P(3, 3), ACT(SIGMOID),
         .bias = 1},
        {.input = {1, 6, 4, 5}, .out_channels = 6, .groups = 6, K(1, 1), ACT(RELU)},
        {.input = {1, 12, 9, 8}, .out_channels = 12, .groups = 12, K(3, 1), P(1, 0), ACT(RELU),
         .batchnorm = 1, .eps = 1e-3f},
        {.input = {1, 9, 16, 17}, .out_channels = 9, .groups = 9, K(3, 3), .bias = 1},
        {.input = {1, 2, 5, 5}, .out_channels = 2, .groups = 2, K(3, 3), P(1, 1)},
    };
    RUN_CASES(state, cases, 4000);
}

static void test_grouped(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {1, 6, 7, 9}, .out_channels = 10, .groups = 2, K(3, 3), P(1, 1), ACT(RELU)},
        {.input = {2, 8, 9, 7}, .out_channels = 4, .groups = 2, K(3, 3), S(2, 2), P(1, 1),
         .batchnorm = 1},
        /* Groups of 3 channels straddle the packed quads. */
        {.input = {1, 9, 6, 6}, .out_channels = 6, .groups = 3, K(5, 5), P(2, 2), ACT(SILU),
         .bias = 1},
        {.input = {1, 10, 5, 4}, .out_channels = 15, .groups = 5, K(1, 1), ACT(SIGMOID)},
        /* Depthwise with a channel multiplier of 2. */
        {.input = {1, 4, 7, 7}, .out_channels = 8, .groups = 4, K(3, 3), P(1, 1), ACT(RELU6),
         .bias = 1, .batchnorm = 1},
        {.input = {1, 12, 6, 5}, .out_channels = 4, .groups = 4, K(3, 3), P(1, 1)},
        {.input = {1, 14, 5, 6}, .out_channels = 7, .groups = 7, K(3, 1), S(2, 1), P(1, 0),
         ACT(SILU), .bias = 1},
    };
    RUN_CASES(state, cases, 5000);
}

/* Every activation on every kernel, alternating bias and BatchNorm. */
static void test_every_activation_on_every_kernel(void **state)
{
    static const tu_conv_case kernels[] = {
        {.input = {1, 6, 5, 7}, .out_channels = 5, K(1, 1)},
        {.input = {1, 5, 6, 7}, .out_channels = 6, K(3, 3), P(1, 1)},
        {.input = {1, 7, 6, 5}, .out_channels = 7, .groups = 7, K(3, 3), P(1, 1)},
        {.input = {1, 6, 5, 5}, .out_channels = 9, .groups = 3, K(3, 3), P(1, 1)},
    };
    tu_gpu *g = *state;
    for (size_t k = 0; k < sizeof kernels / sizeof kernels[0]; ++k)
        for (int a = EVK_ACTIVATION_NONE; a <= EVK_ACTIVATION_SIGMOID; ++a) {
            tu_conv_case c = kernels[k];
            c.activation = (evk_activation)a;
            c.bias = a % 2;
            c.batchnorm = !(a % 2);
            tu_run_conv_case(g->ctx, &c, 6000 + 10 * k + a);
        }
    tu_assert_no_validation_messages(g);
}

/* eps 1e-5, 1e-3 and 0 (PyTorch's default, 1e-5), with and without bias; a
 * library that ignored eps or the bias under BatchNorm would miss. */
static void test_batchnorm_eps(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {1, 5, 7, 7}, .out_channels = 6, K(3, 3), P(1, 1), .batchnorm = 1, .eps = 1e-5f},
        {.input = {1, 5, 7, 7}, .out_channels = 6, K(3, 3), P(1, 1), .batchnorm = 1, .eps = 1e-3f,
         .bias = 1},
        {.input = {1, 5, 7, 7}, .out_channels = 6, K(3, 3), P(1, 1), .batchnorm = 1, .bias = 1},
        {.input = {1, 6, 6, 6}, .out_channels = 6, .groups = 6, K(3, 3), P(1, 1), .batchnorm = 1,
         .eps = 1e-3f, ACT(RELU6)},
    };
    RUN_CASES(state, cases, 7000);
}

/* A variance of exactly 0 is valid: eps alone keeps the scale finite, also
 * the default eps (0 in the desc means 1e-5; taken as 0 it would give inf). */
static void test_batchnorm_zero_variance(void **state)
{
    tu_gpu *g = *state;
    const float eps[] = {1e-3f, 0.0f};
    for (size_t i = 0; i < 2; ++i) {
        tu_conv_case c = {.input = {1, 5, 6, 6}, .out_channels = 7, K(3, 3), P(1, 1),
                          .batchnorm = 1, .eps = eps[i], .bias = 1};
        tu_conv_weights w;
        tu_conv_weights_make(&w, &c, 8000 + i);
        w.var[0] = w.var[3] = w.var[6] = 0.0f;
        evk_layer *layer = NULL;
        assert_int_equal(evk_conv2d_create(g->ctx, &w.desc, &layer), EVK_SUCCESS);
        tu_check_layer(g->ctx, layer, &w, c.input, 8010 + i, "zero variance");
        evk_layer_destroy(layer);
        tu_conv_weights_free(&w);
    }
}

/* A layer's shape is fixed only in channels: batch and spatial size may
 * change from call to call; the desc's arrays may be freed after creation. */
static void test_layer_reuse_across_shapes(void **state)
{
    tu_gpu *g = *state;
    tu_conv_case c = {.input = {1, 5, 7, 7}, .out_channels = 6, K(3, 3), S(2, 2), P(1, 1),
                      ACT(SILU), .bias = 1, .batchnorm = 1};
    tu_conv_weights w;
    tu_conv_weights_make(&w, &c, 9000);
    evk_layer *layer = NULL;
    assert_int_equal(evk_conv2d_create(g->ctx, &w.desc, &layer), EVK_SUCCESS);
    /* Free the arrays the layer was made from (ASan catches a layer that
     * kept pointers into them); the reference uses an identical copy. */
    tu_conv_weights kept = w;
    tu_conv_weights_make(&w, &c, 9000);
    tu_conv_weights_free(&kept);
    const evk_shape inputs[] = {{1, 5, 7, 7}, {3, 5, 12, 9}, {1, 5, 1, 1}, {2, 5, 30, 3}};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; ++i)
        tu_check_layer(g->ctx, layer, &w, inputs[i], 9001 + i, "reuse");
    evk_layer_destroy(layer);
    tu_conv_weights_free(&w);
}

/* One layer's device output feeds the next without a host round trip. */
static void test_chained_layers(void **state)
{
    tu_gpu *g = *state;
    tu_conv_case first = {.input = {2, 3, 9, 8}, .out_channels = 5, K(3, 3), S(2, 2), P(1, 1),
                          ACT(SIGMOID), .bias = 1};
    tu_conv_case second = {.input = {2, 5, 5, 4}, .out_channels = 3, K(1, 1), ACT(RELU)};
    tu_conv_weights w1, w2;
    tu_conv_weights_make(&w1, &first, 9100);
    tu_conv_weights_make(&w2, &second, 9101);
    evk_layer *l1 = NULL, *l2 = NULL;
    assert_int_equal(evk_conv2d_create(g->ctx, &w1.desc, &l1), EVK_SUCCESS);
    assert_int_equal(evk_conv2d_create(g->ctx, &w2.desc, &l2), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(9102);
    float *x = tu_random_array(&rng, evk_shape_elements(first.input), -1.0f, 1.0f);
    evk_shape out = {2, 3, 5, 4};
    evk_tensor *a = tu_tensor(g->ctx, first.input, x), *b = tu_tensor(g->ctx, second.input, NULL);
    evk_tensor *c = tu_tensor(g->ctx, out, NULL);
    assert_int_equal(evk_layer_forward(l1, a, b), EVK_SUCCESS);
    assert_int_equal(evk_layer_forward(l2, b, c), EVK_SUCCESS);
    float *mid = tu_download(b), *got = tu_download(c);
    tu_assert_conv_output(&w1.desc, first.input, x, mid, "first");
    tu_assert_conv_output(&w2.desc, second.input, mid, got, "second");
    free(x);
    free(mid);
    free(got);
    evk_tensor_destroy(a);
    evk_tensor_destroy(b);
    evk_tensor_destroy(c);
    evk_layer_destroy(l1);
    evk_layer_destroy(l2);
    tu_conv_weights_free(&w1);
    tu_conv_weights_free(&w2);
}

/* forward_repeat runs the same work: the result equals a single forward's
 * bit for bit (same pipeline, same data), for repeat 3, 0 (= 1) and 300. */
static void test_forward_repeat(void **state)
{
    tu_gpu *g = *state;
    tu_conv_case c = {.input = {1, 7, 9, 9}, .out_channels = 7, .groups = 7, K(3, 3), P(1, 1),
                      ACT(RELU6), .bias = 1};
    tu_conv_weights w;
    tu_conv_weights_make(&w, &c, 9200);
    evk_layer *layer = NULL;
    assert_int_equal(evk_conv2d_create(g->ctx, &w.desc, &layer), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(9201);
    float *x = tu_random_array(&rng, evk_shape_elements(c.input), -1.0f, 1.0f);
    evk_tensor *in = tu_tensor(g->ctx, c.input, x), *out = tu_tensor(g->ctx, c.input, NULL);
    assert_int_equal(evk_layer_forward(layer, in, out), EVK_SUCCESS);
    float *once = tu_download(out);
    tu_assert_conv_output(&w.desc, c.input, x, once, "forward");
    /* 300 dispatches outgrow one descriptor pool (256 sets). */
    const uint32_t repeats[] = {3, 0, 300};
    for (size_t i = 0; i < sizeof repeats / sizeof repeats[0]; ++i) {
        assert_int_equal(evk_layer_forward_repeat(layer, in, out, repeats[i]), EVK_SUCCESS);
        float *again = tu_download(out);
        assert_memory_equal(again, once, evk_shape_elements(c.input) * sizeof *once);
        free(again);
    }
    free(x);
    free(once);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_layer_destroy(layer);
    tu_conv_weights_free(&w);
}

/* One case per kernel with weights and tensors moved through staging
 * buffers (run on a FORCE_STAGING context). */
static void test_each_kernel(void **state)
{
    static const tu_conv_case cases[] = {
        {.input = {2, 5, 6, 7}, .out_channels = 7, K(1, 1), ACT(SILU), .bias = 1},
        {.input = {1, 5, 9, 7}, .out_channels = 6, K(3, 3), S(2, 2), P(1, 1), .batchnorm = 1},
        {.input = {1, 7, 8, 6}, .out_channels = 7, .groups = 7, K(3, 3), P(1, 1), ACT(RELU6)},
        {.input = {1, 6, 5, 5}, .out_channels = 9, .groups = 3, K(3, 3), P(1, 1), .bias = 1},
    };
    RUN_CASES(state, cases, 9300);
}

int main(void)
{
    static evk_context_desc staging = {.flags = EVK_CONTEXT_FORCE_STAGING};
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_pointwise),
        TU_GPU_TEST(test_dense),
        TU_GPU_TEST(test_non_square),
        TU_GPU_TEST(test_uneven_padding),
        TU_GPU_TEST(test_depthwise),
        TU_GPU_TEST(test_grouped),
        TU_GPU_TEST(test_every_activation_on_every_kernel),
        TU_GPU_TEST(test_batchnorm_eps),
        TU_GPU_TEST(test_batchnorm_zero_variance),
        TU_GPU_TEST(test_layer_reuse_across_shapes),
        TU_GPU_TEST(test_chained_layers),
        TU_GPU_TEST(test_forward_repeat),
        TU_GPU_TEST_WITH(test_each_kernel, staging),
        TU_GPU_TEST_WITH(test_forward_repeat, staging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
