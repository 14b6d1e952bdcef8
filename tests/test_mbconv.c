/* Device tier: MBConv blocks against the CPU reference (evk_ref_mbconv) over
 * the matrix the block was specified on — expand ratio 1, 4 and 6, kernels 3 and 5, stride 1
 * and 2, with and without residual and SE, channel counts that are not
 * multiples of 4, odd sizes from 7 to 57, batch 2, BatchNorm eps 1e-5 and
 * 1e-3 — each case run fused and unfused, the two compared with each other
 * too. Plus one layer on several input shapes, the one-channel block (which
 * falls back to the unfused sequence), staging transfers and folded grids,
 * and bad descs and tensors with their messages.
 *
 * Outputs are of unit order (weights scaled by 1/sqrt(fan-in)); the bound
 * is absolute-or-relative, bound · max(1, |reference|). In float32 bound is
 * ERR_BOUND, far above the rounding of these short sums and far below any
 * indexing mistake. At the 16-bit precisions (test_util.h) it adds, four
 * times over, the block's roundings to storage (input, expanded map,
 * depthwise output, SE scales, output and the three weight sets: 8 u_s) and
 * the arithmetic's error of its three sums, which with weights of norm about
 * one and unit-order terms grows as a random walk, sqrt(L) u_a for a sum of
 * L terms (L: the input channels, K², the expanded channels). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reference.h"
#include "test_util.h"

#define ERR_BOUND 2e-4

typedef struct mb_case {
    evk_shape input;
    uint32_t out_channels, expand, kernel, stride;
    int no_se;
    float eps;
    evk_activation activation;      /* 0: the default, SiLU */
} mb_case;

/* One BatchNorm's four arrays. */
typedef struct mb_bn {
    float *gamma, *beta, *mean, *var;
} mb_bn;

typedef struct mb_weights {
    evk_mbconv_desc desc;
    float *expand, *depthwise, *fc1, *fc1_bias, *fc2, *fc2_bias, *project;
    mb_bn bn[3];
} mb_weights;

static evk_batchnorm make_bn(tu_rng *rng, mb_bn *bn, uint32_t channels, float eps)
{
    bn->gamma = tu_random_array(rng, channels, 0.5f, 1.5f);
    bn->beta = tu_random_array(rng, channels, -0.3f, 0.3f);
    bn->mean = tu_random_array(rng, channels, -0.3f, 0.3f);
    bn->var = tu_random_array(rng, channels, 0.5f, 1.5f);
    return (evk_batchnorm){bn->gamma, bn->beta, bn->mean, bn->var, channels, eps};
}

static void make_weights(mb_weights *w, const mb_case *c, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    tu_rng rng = tu_rng_seeded(seed);
    uint32_t in = c->input.c, e = in * c->expand, k = c->kernel;
    uint32_t s = in / 4 ? in / 4 : 1;
    float a_expand = sqrtf(3.0f / in), a_dw = sqrtf(3.0f / (k * k)), a_project = sqrtf(3.0f / e);
    if (c->expand > 1)
        w->expand = tu_random_array(&rng, (size_t)e * in, -a_expand, a_expand);
    w->depthwise = tu_random_array(&rng, (size_t)e * k * k, -a_dw, a_dw);
    w->fc1 = tu_random_array(&rng, (size_t)s * e, -1.0f, 1.0f);
    w->fc1_bias = tu_random_array(&rng, s, -0.5f, 0.5f);
    w->fc2 = tu_random_array(&rng, (size_t)e * s, -1.0f, 1.0f);
    w->fc2_bias = tu_random_array(&rng, e, -0.5f, 0.5f);
    w->project = tu_random_array(&rng, (size_t)c->out_channels * e, -a_project, a_project);
    evk_mbconv_desc *d = &w->desc;
    *d = (evk_mbconv_desc){.in_channels = in, .out_channels = c->out_channels,
                           .expand_ratio = c->expand, .kernel_size = k, .stride = c->stride,
                           .activation = c->activation,
                           .flags = c->no_se ? EVK_MBCONV_NO_SE : 0, .expand_weight = w->expand,
                           .expand_weight_count = w->expand ? (uint64_t)e * in : 0,
                           .depthwise_weight = w->depthwise,
                           .depthwise_weight_count = (uint64_t)e * k * k,
                           .se_fc1_weight = w->fc1, .se_fc1_weight_count = (uint64_t)s * e,
                           .se_fc1_bias = w->fc1_bias, .se_fc1_bias_count = s,
                           .se_fc2_weight = w->fc2, .se_fc2_weight_count = (uint64_t)e * s,
                           .se_fc2_bias = w->fc2_bias, .se_fc2_bias_count = e,
                           .project_weight = w->project,
                           .project_weight_count = (uint64_t)c->out_channels * e};
    if (c->expand > 1)
        d->expand_bn = make_bn(&rng, &w->bn[0], e, c->eps);
    d->depthwise_bn = make_bn(&rng, &w->bn[1], e, c->eps);
    d->project_bn = make_bn(&rng, &w->bn[2], c->out_channels, c->eps);
}

static void free_weights(mb_weights *w)
{
    float *arrays[] = {w->expand, w->depthwise, w->fc1, w->fc1_bias, w->fc2, w->fc2_bias,
                       w->project};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; ++i)
        free(arrays[i]);
    for (int i = 0; i < 3; ++i) {
        free(w->bn[i].gamma);
        free(w->bn[i].beta);
        free(w->bn[i].mean);
        free(w->bn[i].var);
    }
}

static void describe(const mb_case *c, int unfused, char *out, size_t size)
{
    snprintf(out, size, "%ux%ux%ux%u -> %u e%u k%u s%u%s eps%g act%d %s", c->input.n, c->input.c,
             c->input.h, c->input.w, c->out_channels, c->expand, c->kernel, c->stride,
             c->no_se ? " no-SE" : "", (double)c->eps, (int)c->activation,
             unfused ? "unfused" : "fused");
}

static double block_bound(const evk_mbconv_desc *d)
{
    double e = (double)d->in_channels * (d->expand_ratio ? d->expand_ratio : 1);
    double sums = sqrt((double)d->in_channels) + (d->kernel_size ? d->kernel_size : 3) + sqrt(e);
    return ERR_BOUND + 4.0 * (8.0 * tu_storage_u() + sums * tu_arith_u());
}

static void assert_near(const float *got, const float *ref, uint64_t n, double bound,
                        const char *what)
{
    for (uint64_t i = 0; i < n; ++i) {
        double scale = fabs(ref[i]) > 1.0 ? fabs(ref[i]) : 1.0;
        if (!isfinite(got[i]) || fabs((double)got[i] - ref[i]) > bound * scale)
            fail_msg("%s: value %llu is %.8g, expected %.8g", what, (unsigned long long)i,
                     (double)got[i], (double)ref[i]);
    }
}

/* Runs the block of `w` on `x` (fused unless `unfused`); returns the output. */
static float *run_block(evk_context *ctx, mb_weights *w, evk_shape in_shape, const float *x,
                        int unfused, const char *what)
{
    evk_mbconv_desc d = w->desc;
    d.flags |= unfused ? EVK_MBCONV_UNFUSED : 0;
    evk_layer *layer = NULL;
    if (evk_mbconv_create(ctx, &d, &layer) != EVK_SUCCESS)
        fail_msg("%s: evk_mbconv_create: %s", what, evk_last_error(ctx));
    int one_channel = w->desc.in_channels * (w->desc.expand_ratio ? w->desc.expand_ratio : 1) == 1;
    assert_string_equal(evk_layer_kernel_name(layer),
                        unfused || one_channel ? "mbconv_unfused" : "mbconv");
    evk_shape out_shape;
    assert_int_equal(evk_mbconv_output_shape(&w->desc, in_shape, &out_shape), EVK_SUCCESS);
    evk_tensor *in = tu_tensor(ctx, in_shape, x), *out = tu_tensor(ctx, out_shape, NULL);
    if (evk_layer_forward(layer, in, out) != EVK_SUCCESS)
        fail_msg("%s: evk_layer_forward: %s", what, evk_last_error(ctx));
    float *got = tu_download(out);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_layer_destroy(layer);
    return got;
}

/* Fused and unfused against the reference and against each other. */
static void run_case(const tu_gpu *g, const mb_case *c, uint64_t seed)
{
    mb_weights w;
    make_weights(&w, c, seed);
    tu_rng rng = tu_rng_seeded(seed ^ 0x5eed);
    float *x = tu_random_array(&rng, (size_t)evk_shape_elements(c->input), -1.0f, 1.0f);
    evk_shape out_shape;
    assert_int_equal(evk_mbconv_output_shape(&w.desc, c->input, &out_shape), EVK_SUCCESS);
    uint64_t count = evk_shape_elements(out_shape);
    float *ref = malloc(count * sizeof *ref);
    assert_non_null(ref);
    evk_ref_mbconv(&w.desc, c->input, x, ref);
    char what[160];
    float *got[2];
    for (int unfused = 0; unfused < 2; ++unfused) {
        describe(c, unfused, what, sizeof what);
        got[unfused] = run_block(g->ctx, &w, c->input, x, unfused, what);
        assert_near(got[unfused], ref, count, block_bound(&w.desc), what);
    }
    describe(c, 1, what, sizeof what);
    assert_near(got[0], got[1], count, 2.0 * block_bound(&w.desc), "fused vs unfused");
    tu_assert_no_validation_messages(g);
    free(got[0]);
    free(got[1]);
    free(ref);
    free(x);
    free_weights(&w);
}

static void test_expand_one(void **state)
{
    const mb_case cases[] = {
        /* Residual; 57² output planes take two depthwise workgroups each. */
        {{2, 5, 57, 57}, 5, 1, 3, 1, 0, 1e-5f, 0},
        {{2, 20, 17, 15}, 14, 1, 5, 2, 0, 1e-3f, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        run_case(*state, &cases[i], 100 + i);
}

static void test_expand_four_and_six(void **state)
{
    const mb_case cases[] = {
        {{2, 6, 13, 11}, 10, 4, 5, 2, 0, 1e-3f, 0},
        {{2, 10, 15, 15}, 10, 6, 3, 1, 0, 1e-5f, 0},
        {{2, 14, 7, 7}, 20, 6, 5, 1, 0, 1e-5f, 0},
        {{2, 14, 57, 57}, 20, 4, 3, 2, 0, 1e-3f, 0},
        {{2, 36, 14, 14}, 36, 6, 5, 1, 0, 1e-5f, EVK_ACTIVATION_RELU6},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        run_case(*state, &cases[i], 200 + i);
}

static void test_without_se(void **state)
{
    const mb_case cases[] = {
        {{2, 6, 12, 9}, 6, 4, 3, 1, 1, 1e-5f, 0},
        {{2, 10, 9, 9}, 5, 1, 5, 2, 1, 1e-3f, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        run_case(*state, &cases[i], 300 + i);
}

/* E = 1: the depthwise conv is a plain conv2d, so the block runs unfused. */
static void test_one_channel(void **state)
{
    const mb_case c = {{2, 1, 9, 7}, 1, 1, 3, 1, 0, 1e-5f, 0};
    run_case(*state, &c, 400);
}

/* One layer, growing and shrinking inputs: scratch buffers are resized. */
static void test_layer_reuse_across_shapes(void **state)
{
    tu_gpu *g = *state;
    const mb_case c = {{1, 6, 8, 8}, 6, 4, 3, 1, 0, 1e-5f, 0};
    mb_weights w;
    make_weights(&w, &c, 500);
    evk_layer *layer = NULL;
    assert_int_equal(evk_mbconv_create(g->ctx, &w.desc, &layer), EVK_SUCCESS);
    const evk_shape shapes[] = {{1, 6, 8, 8}, {2, 6, 21, 19}, {1, 6, 7, 9}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; ++i) {
        tu_rng rng = tu_rng_seeded(510 + i);
        float *x = tu_random_array(&rng, (size_t)evk_shape_elements(shapes[i]), -1.0f, 1.0f);
        uint64_t count = evk_shape_elements(shapes[i]);
        float *ref = malloc(count * sizeof *ref);
        assert_non_null(ref);
        evk_ref_mbconv(&w.desc, shapes[i], x, ref);
        evk_tensor *in = tu_tensor(g->ctx, shapes[i], x), *out = tu_tensor(g->ctx, shapes[i], NULL);
        assert_int_equal(evk_layer_forward(layer, in, out), EVK_SUCCESS);
        float *got = tu_download(out);
        assert_near(got, ref, count, block_bound(&w.desc), "reused layer");
        free(got);
        free(ref);
        free(x);
        evk_tensor_destroy(in);
        evk_tensor_destroy(out);
    }
    evk_layer_destroy(layer);
    free_weights(&w);
}

static void test_bad_desc_and_tensors(void **state)
{
    tu_gpu *g = *state;
    const mb_case c = {{2, 6, 9, 9}, 8, 4, 3, 1, 0, 1e-5f, 0};
    mb_weights w;
    make_weights(&w, &c, 600);
    evk_layer *layer = NULL;
    evk_mbconv_desc d = w.desc;
    d.se_fc2_bias = NULL;
    assert_int_equal(evk_mbconv_create(g->ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(layer);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "se_fc");
    d = w.desc;
    w.bn[1].var[3] = -1.0f;
    assert_int_equal(evk_mbconv_create(g->ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "depthwise_bn");
    w.bn[1].var[3] = 1.0f;
    assert_int_equal(evk_mbconv_create(g->ctx, &d, &layer), EVK_SUCCESS);
    evk_tensor *in = tu_tensor(g->ctx, (evk_shape){2, 5, 9, 9}, NULL);
    evk_tensor *out = tu_tensor(g->ctx, (evk_shape){2, 8, 9, 9}, NULL);
    assert_int_equal(evk_layer_forward(layer, in, out), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "channels");
    evk_tensor_destroy(in);
    in = tu_tensor(g->ctx, (evk_shape){2, 6, 9, 9}, NULL);
    evk_tensor *wrong = tu_tensor(g->ctx, (evk_shape){2, 8, 5, 5}, NULL);
    assert_int_equal(evk_layer_forward(layer, in, wrong), EVK_ERROR_SHAPE_MISMATCH);
    /* The layer still works after the failures. */
    assert_int_equal(evk_layer_forward(layer, in, out), EVK_SUCCESS);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_tensor_destroy(wrong);
    evk_layer_destroy(layer);
    free_weights(&w);
}

/* Four dispatches fused (three without the expand conv), six unfused, and
 * per-dispatch GPU times that cover the submission. */
static void test_dispatch_counts_and_times(void **state)
{
    tu_gpu *g = *state;
    const mb_case c = {{1, 8, 16, 16}, 8, 4, 3, 1, 0, 1e-5f, 0};
    mb_weights w;
    make_weights(&w, &c, 700);
    evk_tensor *in = tu_tensor(g->ctx, c.input, NULL), *out = tu_tensor(g->ctx, c.input, NULL);
    const uint64_t expected[2] = {4, 6};
    assert_int_equal(evk_context_set_dispatch_timing(g->ctx, 1), EVK_SUCCESS);
    for (int unfused = 0; unfused < 2; ++unfused) {
        evk_mbconv_desc d = w.desc;
        d.flags = unfused ? EVK_MBCONV_UNFUSED : 0;
        evk_layer *layer = NULL;
        assert_int_equal(evk_mbconv_create(g->ctx, &d, &layer), EVK_SUCCESS);
        evk_context_stats before, after;
        assert_int_equal(evk_context_stats_get(g->ctx, &before), EVK_SUCCESS);
        assert_int_equal(evk_layer_forward(layer, in, out), EVK_SUCCESS);
        assert_int_equal(evk_context_stats_get(g->ctx, &after), EVK_SUCCESS);
        assert_int_equal(after.dispatches_recorded - before.dispatches_recorded, expected[unfused]);
        double ms[8], total, sum = 0.0;
        uint32_t count = 0;
        assert_int_equal(evk_context_dispatch_gpu_ms(g->ctx, ms, 8, &count), EVK_SUCCESS);
        assert_int_equal(count, expected[unfused]);
        assert_int_equal(evk_context_last_gpu_ms(g->ctx, &total), EVK_SUCCESS);
        for (uint32_t i = 0; i < count; ++i)
            sum += ms[i];
        assert_true(sum >= 0.0 && sum <= total * 1.001 + 1e-6);
        evk_layer_destroy(layer);
    }
    assert_int_equal(evk_context_set_dispatch_timing(g->ctx, 0), EVK_SUCCESS);
    assert_int_equal(evk_context_dispatch_gpu_ms(g->ctx, NULL, 4, NULL), EVK_ERROR_INVALID_ARGUMENT);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    free_weights(&w);
}

int main(void)
{
    static evk_context_desc staging = {.flags = EVK_CONTEXT_FORCE_STAGING};
    /* Grids folded into 3-D as on a device limited to 7 groups per dimension. */
    static evk_context_desc folded = {.max_workgroup_count = 7};
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_expand_one),
        TU_GPU_TEST(test_expand_four_and_six),
        TU_GPU_TEST(test_without_se),
        TU_GPU_TEST(test_one_channel),
        TU_GPU_TEST(test_layer_reuse_across_shapes),
        TU_GPU_TEST(test_bad_desc_and_tensors),
        TU_GPU_TEST(test_dispatch_counts_and_times),
        TU_GPU_TEST_WITH(test_without_se, staging),
        TU_GPU_TEST_WITH(test_expand_one, folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
