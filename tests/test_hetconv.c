/* Device tier: HetConv against the CPU reference of its definition over the
 * matrix the kernel was specified on — P in {1, 2, 3, 4, 8, 16, in_channels}, K in {3, 5, 7},
 * stride 1 and 2, padding 0 and (K−1)/2, channel counts that are multiples
 * of neither 4 nor P, odd and non-square sizes, batch 2, both weight forms,
 * with and without bias and BatchNorm, every activation — plus P = 1 against
 * conv2d, the channel permutation between the two weight forms, padded
 * output lanes, one layer on several input shapes, staging transfers, folded
 * grids, and bad descs that only creation can see. It includes the library's tensor.h to
 * poison an output buffer's padded channel lanes, which the public API
 * cannot reach.
 *
 * The error bound of each output is that of the equivalent dense masked
 * conv2d (tu_assert_output_near). On lavapipe the cost is shader compilation
 * per (activation, K, stride, workgroup size), so most cases share K = 3 and
 * no activation or ReLU. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "element_storage.h"
#include "packed_lanes.h"
#include "reference.h"
#include "tensor.h"
#include "test_util.h"

typedef struct het_case {
    evk_shape input;
    uint32_t out_channels, kernel, part, stride;
    int valid;                      /* explicit padding 0 instead of the default */
    evk_activation activation;
    int bias, batchnorm, grouped;
} het_case;

/* A case's host weights, its desc, and the dense masked conv2d it equals. */
typedef struct het_weights {
    evk_hetconv_desc desc;
    evk_conv2d_desc dense;
    float *weight, *gwc, *pwc, *dense_weight, *bias, *gamma, *beta, *mean, *var;
} het_weights;

#define ACT(a) .activation = EVK_ACTIVATION_##a

static int full_tap(const het_case *c, uint32_t o, uint32_t i)
{
    if (c->grouped)
        return i / (c->input.c / c->part) == o / (c->out_channels / c->part);
    return i % c->part == o % c->part;
}

/* The dense [O][I][K][K] weight the case's layer equals. */
static void fill_dense(het_weights *w, const het_case *c)
{
    uint32_t m = c->input.c, k = c->kernel, mid = (k - 1) / 2, per_group = m / c->part;
    for (uint32_t o = 0; o < c->out_channels; ++o)
        for (uint32_t i = 0; i < m; ++i)
            for (uint32_t t = 0; t < k * k; ++t) {
                size_t at = ((size_t)o * m + i) * k * k + t;
                int centre = t == mid * k + mid;
                double v = 0.0;
                if (!c->grouped)
                    v = w->weight[at];
                else {
                    v = centre ? w->pwc[(size_t)o * m + i] : 0.0;
                    if (full_tap(c, o, i))
                        v += w->gwc[((size_t)o * per_group + i % per_group) * k * k + t];
                }
                w->dense_weight[at] = (float)v;
            }
}

static void make_weights(het_weights *w, const het_case *c, uint64_t seed)
{
    memset(w, 0, sizeof *w);
    tu_rng rng = tu_rng_seeded(seed);
    uint32_t m = c->input.c, n = c->out_channels, k = c->kernel, mid = (k - 1) / 2;
    size_t dense_count = (size_t)n * m * k * k;
    /* Pre-activations with a standard deviation near 3 (see test_util.c). */
    float a = 9.0f / sqrtf((float)(m / c->part * k * k + m - m / c->part));
    if (c->grouped) {
        w->gwc = tu_random_array(&rng, dense_count / c->part, -a, a);
        w->pwc = tu_random_array(&rng, (size_t)n * m, -a, a);
    } else {
        w->weight = tu_random_array(&rng, dense_count, -a, a);
        for (size_t at = 0; at < dense_count; ++at) {
            uint32_t o = (uint32_t)(at / ((size_t)m * k * k)), i = (uint32_t)(at / (k * k) % m);
            if (!full_tap(c, o, i) && at % (k * k) != mid * k + mid)
                w->weight[at] = 0.0f;
        }
    }
    if (c->bias)
        w->bias = tu_random_array(&rng, n, -1.0f, 1.0f);
    if (c->batchnorm) {
        w->gamma = tu_random_array(&rng, n, 0.5f, 2.0f);
        w->beta = tu_random_array(&rng, n, -1.0f, 1.0f);
        w->mean = tu_random_array(&rng, n, -1.0f, 1.0f);
        w->var = tu_random_array(&rng, n, 0.5f, 2.0f);
    }
    w->dense_weight = malloc(dense_count * sizeof *w->dense_weight);
    assert_non_null(w->dense_weight);
    fill_dense(w, c);
    evk_batchnorm bn = {w->gamma, w->beta, w->mean, w->var, c->batchnorm ? n : 0, 0.0f};
    uint32_t pad = c->valid ? 0 : mid, stride = c->stride ? c->stride : 1;
    uint64_t bias_count = w->bias ? n : 0;
    w->desc = (evk_hetconv_desc){
        .in_channels = m, .out_channels = n, .kernel_size = k, .part = c->part,
        .stride = c->stride, .padding_mode = c->valid ? EVK_PADDING_EXPLICIT : EVK_PADDING_SAME,
        .activation = c->activation, .weight = w->weight, .weight_count = w->weight ? dense_count : 0,
        .gwc = w->gwc, .gwc_count = w->gwc ? dense_count / c->part : 0,
        .pwc = w->pwc, .pwc_count = w->pwc ? (uint64_t)n * m : 0, .bias = w->bias,
        .bias_count = bias_count, .batchnorm = bn};
    w->dense = (evk_conv2d_desc){
        .in_channels = m, .out_channels = n, .kernel_h = k, .kernel_w = k, .stride_h = stride,
        .stride_w = stride, .pad_h = pad, .pad_w = pad, .activation = c->activation,
        .weight = w->dense_weight, .weight_count = dense_count, .bias = w->bias,
        .bias_count = bias_count, .batchnorm = bn};
}

static void free_weights(het_weights *w)
{
    float *arrays[] = {w->weight, w->gwc, w->pwc, w->dense_weight, w->bias, w->gamma, w->beta,
                       w->mean, w->var};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; ++i)
        free(arrays[i]);
    memset(w, 0, sizeof *w);
}

static void describe(const het_case *c, char *out, size_t size)
{
    snprintf(out, size, "%ux%ux%ux%u -> %u k%u P%u s%u %s act%d%s%s%s", c->input.n, c->input.c,
             c->input.h, c->input.w, c->out_channels, c->kernel, c->part, c->stride ? c->stride : 1,
             c->valid ? "pad0" : "same", (int)c->activation, c->bias ? " bias" : "",
             c->batchnorm ? " bn" : "", c->grouped ? " grouped" : " masked");
}

/* Runs `layer` on `x`; returns the downloaded output (caller frees). */
static float *forward(evk_context *ctx, evk_layer *layer, evk_shape input, const float *x)
{
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, input, &out), EVK_SUCCESS);
    evk_tensor *in_t = tu_tensor(ctx, input, x), *out_t = tu_tensor(ctx, out, NULL);
    evk_status s = evk_layer_forward(layer, in_t, out_t);
    if (s != EVK_SUCCESS)
        fail_msg("evk_layer_forward: %s", evk_last_error(ctx));
    float *got = tu_download(out_t);
    evk_tensor_destroy(in_t);
    evk_tensor_destroy(out_t);
    return got;
}

static evk_layer *create(evk_context *ctx, const evk_hetconv_desc *desc, const char *what)
{
    evk_layer *layer = NULL;
    evk_status s = evk_hetconv_create(ctx, desc, &layer);
    if (s != EVK_SUCCESS)
        fail_msg("%s: evk_hetconv_create: %s", what, evk_last_error(ctx));
    assert_string_equal(evk_layer_kernel_name(layer), "hetconv");
    return layer;
}

/* The device output and the conv2d reference of the dense equivalent both
 * agree with evk_ref_hetconv (which checks the reference itself too). */
static void run_case(evk_context *ctx, const het_case *c, uint64_t seed)
{
    char what[160];
    describe(c, what, sizeof what);
    het_weights w;
    make_weights(&w, c, seed);
    evk_layer *layer = create(ctx, &w.desc, what);
    tu_rng rng = tu_rng_seeded(seed + 1);
    float *x = tu_random_array(&rng, evk_shape_elements(c->input), -1.0f, 1.0f);
    float *got = forward(ctx, layer, c->input, x);
    evk_shape out;
    assert_int_equal(evk_hetconv_output_shape(&w.desc, c->input, &out), EVK_SUCCESS);
    float *ref = malloc(evk_shape_elements(out) * sizeof *ref);
    float *dense_ref = malloc(evk_shape_elements(out) * sizeof *dense_ref);
    assert_true(ref && dense_ref);
    evk_ref_hetconv(&w.desc, c->input, x, ref);
    evk_ref_conv2d(&w.dense, c->input, x, dense_ref);
    tu_assert_output_near(&w.dense, c->input, x, ref, dense_ref, "reference vs dense reference");
    tu_assert_output_near(&w.dense, c->input, x, ref, got, what);
    free(x);
    free(got);
    free(ref);
    free(dense_ref);
    evk_layer_destroy(layer);
    free_weights(&w);
}

static void run_cases(void **state, const het_case *cases, size_t count, uint64_t seed)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < count; ++i)
        run_case(g->ctx, &cases[i], seed + 10 * i);
    tu_assert_no_validation_messages(g);
}

#define RUN_CASES(state, cases, seed) run_cases(state, cases, sizeof cases / sizeof cases[0], seed)

static void test_masked_parts(void **state)
{
    static const het_case cases[] = {
        {.input = {2, 13, 9, 7}, .out_channels = 10, .kernel = 3, .part = 1, ACT(RELU), .bias = 1},
        {.input = {1, 13, 7, 9}, .out_channels = 11, .kernel = 3, .part = 2, .stride = 2,
         .batchnorm = 1},
        /* 14 channels, P = 3: classes see 5, 5 and 4 K×K inputs. */
        {.input = {2, 14, 8, 11}, .out_channels = 9, .kernel = 3, .part = 3, .valid = 1,
         ACT(RELU), .bias = 1, .batchnorm = 1},
        {.input = {1, 18, 9, 10}, .out_channels = 7, .kernel = 3, .part = 4},
        {.input = {1, 19, 11, 6}, .out_channels = 13, .kernel = 3, .part = 8, .stride = 2,
         .valid = 1, ACT(RELU), .bias = 1},
        {.input = {1, 35, 7, 8}, .out_channels = 21, .kernel = 3, .part = 16, .batchnorm = 1},
        {.input = {1, 9, 6, 7}, .out_channels = 5, .kernel = 3, .part = 9, ACT(RELU), .bias = 1},
        /* Fewer output channels than P: most classes only write padding. */
        {.input = {1, 20, 5, 5}, .out_channels = 3, .kernel = 3, .part = 16},
        /* A long reduction, several quads per class and quad blocks. */
        {.input = {1, 64, 8, 8}, .out_channels = 44, .kernel = 3, .part = 4, ACT(RELU), .bias = 1},
        {.input = {2, 40, 3, 13}, .out_channels = 36, .kernel = 3, .part = 2, .stride = 2,
         .bias = 1},
        /* Rows split evenly into tiles of 21 pixels; quad blocks of 4 of 17
         * quads, the last one clamped. */
        {.input = {1, 9, 3, 41}, .out_channels = 68, .kernel = 3, .part = 1, .bias = 1},
        /* A plane of fewer tiles than a subgroup has lanes: 2-pixel tiles
         * of 16 quads. */
        {.input = {2, 10, 4, 4}, .out_channels = 128, .kernel = 3, .part = 2, ACT(RELU)},
    };
    RUN_CASES(state, cases, 1000);
}

static void test_masked_large_kernels(void **state)
{
    static const het_case cases[] = {
        {.input = {1, 7, 9, 8}, .out_channels = 6, .kernel = 5, .part = 3, ACT(RELU), .bias = 1},
        {.input = {2, 10, 10, 9}, .out_channels = 12, .kernel = 5, .part = 4, .valid = 1,
         ACT(RELU), .batchnorm = 1},
        {.input = {1, 6, 11, 9}, .out_channels = 7, .kernel = 7, .part = 2, ACT(RELU), .bias = 1},
        {.input = {1, 16, 9, 12}, .out_channels = 8, .kernel = 7, .part = 16, .valid = 1,
         ACT(RELU)},
        {.input = {1, 9, 12, 7}, .out_channels = 5, .kernel = 5, .part = 9, .stride = 2,
         .bias = 1},
        /* Strides that shrink the tile to keep the input segment small. */
        {.input = {1, 6, 23, 17}, .out_channels = 5, .kernel = 7, .part = 2, .stride = 5,
         .valid = 1, ACT(RELU)},
        {.input = {2, 4, 50, 47}, .out_channels = 3, .kernel = 3, .part = 4, .stride = 23,
         .bias = 1},
    };
    RUN_CASES(state, cases, 2000);
}

static void test_grouped_form(void **state)
{
    static const het_case cases[] = {
        {.input = {2, 12, 7, 9}, .out_channels = 8, .kernel = 3, .part = 4, ACT(RELU), .bias = 1,
         .grouped = 1},
        /* Six outputs: the last class also writes the two padded lanes. */
        {.input = {1, 12, 9, 6}, .out_channels = 6, .kernel = 3, .part = 2, .stride = 2,
         .valid = 1, .batchnorm = 1, .grouped = 1},
        {.input = {1, 9, 8, 7}, .out_channels = 9, .kernel = 5, .part = 3, ACT(RELU), .bias = 1,
         .grouped = 1},
        {.input = {1, 10, 6, 6}, .out_channels = 5, .kernel = 3, .part = 5, .grouped = 1},
        {.input = {1, 5, 6, 7}, .out_channels = 3, .kernel = 3, .part = 1, .bias = 1,
         .grouped = 1},
        {.input = {2, 8, 5, 7}, .out_channels = 8, .kernel = 3, .part = 8, ACT(RELU),
         .batchnorm = 1, .grouped = 1},
        {.input = {1, 32, 6, 5}, .out_channels = 48, .kernel = 3, .part = 16, .grouped = 1},
        /* Groups of whole quads (8 → 12 and 8 → 4 channels): whole-quad steps. */
        {.input = {2, 16, 7, 6}, .out_channels = 24, .kernel = 3, .part = 2, ACT(RELU), .bias = 1,
         .grouped = 1},
        {.input = {1, 32, 9, 8}, .out_channels = 16, .kernel = 5, .part = 4, .stride = 2,
         .batchnorm = 1, .grouped = 1},
    };
    RUN_CASES(state, cases, 3000);
}

/* Every activation on both forms, alternating bias and BatchNorm. */
static void test_every_activation(void **state)
{
    tu_gpu *g = *state;
    for (int grouped = 0; grouped <= 1; ++grouped)
        for (int a = EVK_ACTIVATION_NONE; a <= EVK_ACTIVATION_SIGMOID; ++a) {
            het_case c = {.input = {1, 12, 6, 7}, .out_channels = 9 + 3 * grouped, .kernel = 3,
                          .part = 3, .activation = (evk_activation)a, .bias = a % 2,
                          .batchnorm = !(a % 2), .grouped = grouped};
            run_case(g->ctx, &c, 4000 + 10 * (uint64_t)a + grouped);
        }
    tu_assert_no_validation_messages(g);
}

/* P = 1 is a dense conv: the same weights through conv2d give the same
 * outputs within both bounds. Each is checked against the conv2d reference:
 * the two device outputs differ by up to the sum of their errors, which one
 * bound covers only while float32's rigorous bound is far above the real
 * error (not so with halves). */
static void test_part_one_equals_conv2d(void **state)
{
    tu_gpu *g = *state;
    het_case c = {.input = {2, 11, 9, 8}, .out_channels = 7, .kernel = 3, .part = 1, .stride = 2,
                  ACT(SILU), .bias = 1, .batchnorm = 1};
    het_weights w;
    make_weights(&w, &c, 5000);
    evk_layer *het = create(g->ctx, &w.desc, "P=1");
    evk_layer *conv = NULL;
    assert_int_equal(evk_conv2d_create(g->ctx, &w.dense, &conv), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(5001);
    float *x = tu_random_array(&rng, evk_shape_elements(c.input), -1.0f, 1.0f);
    float *got_het = forward(g->ctx, het, c.input, x), *got_conv = forward(g->ctx, conv, c.input, x);
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(&w.dense, c.input, &out), EVK_SUCCESS);
    float *ref = malloc(evk_shape_elements(out) * sizeof *ref);
    assert_non_null(ref);
    evk_ref_conv2d(&w.dense, c.input, x, ref);
    tu_assert_conv_output(&w.dense, c.input, x, got_conv, "conv2d");
    tu_assert_output_near(&w.dense, c.input, x, ref, got_het, "hetconv P=1 vs conv2d reference");
    free(x);
    free(got_het);
    free(got_conv);
    free(ref);
    evk_layer_destroy(het);
    evk_layer_destroy(conv);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

/* sigma_C(c) = (c mod (C/P))·P + c / (C/P), as documented in effvk.h. */
static uint32_t sigma(uint32_t c, uint32_t channels, uint32_t part)
{
    return c % (channels / part) * part + c / (channels / part);
}

/* The grouped form of an interleaved masked layer by the documented
 * permutation, with the centre taps of the groups' own inputs split between
 * gwc and pwc (the library adds them back). */
static void grouped_from_masked(const het_weights *masked, const het_case *c, float *gwc, float *pwc)
{
    uint32_t m = c->input.c, n = c->out_channels, k = c->kernel, mid = (k - 1) / 2;
    uint32_t per_group = m / c->part;
    for (uint32_t o = 0; o < n; ++o)
        for (uint32_t i = 0; i < m; ++i) {
            const float *src = masked->weight + ((size_t)sigma(o, n, c->part) * m +
                                                 sigma(i, m, c->part)) * k * k;
            float centre = src[mid * k + mid];
            int own = i / per_group == o / (n / c->part);
            pwc[(size_t)o * m + i] = own ? 0.5f * centre : centre;
            if (!own)
                continue;
            float *dst = gwc + ((size_t)o * per_group + i % per_group) * k * k;
            for (uint32_t t = 0; t < k * k; ++t)
                dst[t] = t == mid * k + mid ? 0.5f * centre : src[t];
        }
}

static void test_grouped_form_permutation(void **state)
{
    tu_gpu *g = *state;
    het_case c = {.input = {2, 12, 7, 6}, .out_channels = 8, .kernel = 3, .part = 4, ACT(RELU),
                  .bias = 1};
    het_weights w;
    make_weights(&w, &c, 6000);
    uint32_t m = c.input.c, n = c.out_channels;
    size_t gwc_count = (size_t)n * m / c.part * 9;
    float *gwc = malloc(gwc_count * sizeof *gwc), *pwc = malloc((size_t)n * m * sizeof *pwc);
    float *bias = malloc(n * sizeof *bias);
    assert_true(gwc && pwc && bias);
    grouped_from_masked(&w, &c, gwc, pwc);
    for (uint32_t o = 0; o < n; ++o)
        bias[o] = w.bias[sigma(o, n, c.part)];
    evk_hetconv_desc grouped = w.desc;
    grouped.weight = NULL;
    grouped.weight_count = 0;
    grouped.gwc = gwc;
    grouped.gwc_count = gwc_count;
    grouped.pwc = pwc;
    grouped.pwc_count = (uint64_t)n * m;
    grouped.bias = bias;
    evk_layer *layer = create(g->ctx, &grouped, "grouped permutation");

    tu_rng rng = tu_rng_seeded(6001);
    size_t plane = (size_t)c.input.h * c.input.w, count = evk_shape_elements(c.input);
    float *x = tu_random_array(&rng, count, -1.0f, 1.0f), *x_grouped = malloc(count * sizeof *x);
    assert_non_null(x_grouped);
    for (uint32_t b = 0; b < c.input.n; ++b)
        for (uint32_t i = 0; i < m; ++i)
            memcpy(x_grouped + ((size_t)b * m + i) * plane,
                   x + ((size_t)b * m + sigma(i, m, c.part)) * plane, plane * sizeof *x);
    float *got_grouped = forward(g->ctx, layer, c.input, x_grouped);
    evk_shape out;
    assert_int_equal(evk_hetconv_output_shape(&w.desc, c.input, &out), EVK_SUCCESS);
    size_t out_plane = (size_t)out.h * out.w;
    float *got = malloc(evk_shape_elements(out) * sizeof *got);
    float *ref = malloc(evk_shape_elements(out) * sizeof *ref);
    assert_true(got && ref);
    for (uint32_t b = 0; b < out.n; ++b)
        for (uint32_t o = 0; o < n; ++o)
            memcpy(got + ((size_t)b * n + sigma(o, n, c.part)) * out_plane,
                   got_grouped + ((size_t)b * n + o) * out_plane, out_plane * sizeof *got);
    evk_ref_hetconv(&w.desc, c.input, x, ref);
    tu_assert_output_near(&w.dense, c.input, x, ref, got, "grouped form after the permutation");
    float *arrays[] = {gwc, pwc, bias, x, x_grouped, got_grouped, got, ref};
    for (size_t i = 0; i < sizeof arrays / sizeof arrays[0]; ++i)
        free(arrays[i]);
    evk_layer_destroy(layer);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

/* Outputs write zeros into the padded lanes of their last quad (sigmoid(0)
 * would be 0.5), with one class per quad and with four, in both forms. */
static void test_padded_lanes_written_as_zero(void **state)
{
    static const het_case cases[] = {
        {.input = {1, 12, 5, 7}, .out_channels = 6, .kernel = 3, .part = 4, ACT(SIGMOID)},
        {.input = {1, 12, 5, 7}, .out_channels = 6, .kernel = 3, .part = 2, ACT(SIGMOID),
         .grouped = 1},
        {.input = {2, 9, 5, 6}, .out_channels = 30, .kernel = 3, .part = 3, ACT(SIGMOID)},
    };
    tu_gpu *g = *state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        char what[160];
        describe(&cases[i], what, sizeof what);
        het_weights w;
        make_weights(&w, &cases[i], 8000 + i);
        evk_layer *layer = create(g->ctx, &w.desc, what);
        evk_shape out;
        assert_int_equal(evk_layer_output_shape(layer, cases[i].input, &out), EVK_SUCCESS);
        evk_tensor *in_t = tu_tensor(g->ctx, cases[i].input, NULL);
        evk_tensor *out_t = tu_tensor(g->ctx, out, NULL);
        tu_poison(g->ctx, out_t, NAN);
        assert_int_equal(evk_layer_forward(layer, in_t, out_t), EVK_SUCCESS);
        tu_assert_padding_zero(g->ctx, out_t, what);
        evk_tensor_destroy(in_t);
        evk_tensor_destroy(out_t);
        evk_layer_destroy(layer);
        free_weights(&w);
    }
    tu_assert_no_validation_messages(g);
}

/* A layer's shape is fixed only in channels: batch and spatial size (and
 * with them the kernel's tiles) change from call to call. */
static void test_layer_reuse_across_shapes(void **state)
{
    tu_gpu *g = *state;
    het_case c = {.input = {1, 10, 7, 7}, .out_channels = 12, .kernel = 3, .part = 2,
                  .stride = 2, ACT(RELU), .bias = 1};
    het_weights w;
    make_weights(&w, &c, 9000);
    evk_layer *layer = create(g->ctx, &w.desc, "reuse");
    const evk_shape inputs[] = {{1, 10, 7, 7}, {3, 10, 12, 19}, {1, 10, 2, 2}, {2, 10, 30, 3}};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; ++i) {
        tu_rng rng = tu_rng_seeded(9001 + i);
        float *x = tu_random_array(&rng, evk_shape_elements(inputs[i]), -1.0f, 1.0f);
        float *got = forward(g->ctx, layer, inputs[i], x);
        evk_shape out;
        assert_int_equal(evk_hetconv_output_shape(&w.desc, inputs[i], &out), EVK_SUCCESS);
        float *ref = malloc(evk_shape_elements(out) * sizeof *ref);
        assert_non_null(ref);
        evk_ref_hetconv(&w.desc, inputs[i], x, ref);
        tu_assert_output_near(&w.dense, inputs[i], x, ref, got, "reuse");
        free(x);
        free(got);
        free(ref);
    }
    evk_layer_destroy(layer);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

static void expect_create_fails(evk_context *ctx, const evk_hetconv_desc *d, const char *word)
{
    evk_layer *layer = (evk_layer *)&layer;
    assert_int_equal(evk_hetconv_create(ctx, d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(layer);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, word);
}

/* Creation checks what only it reads: the weights. The context stays usable. */
static void test_bad_weights(void **state)
{
    tu_gpu *g = *state;
    het_case c = {.input = {1, 8, 5, 5}, .out_channels = 6, .kernel = 3, .part = 4};
    het_weights w;
    make_weights(&w, &c, 7000);
    /* (o 5, i 2): 2 − 5 is not a multiple of 4, so only the centre is allowed. */
    w.weight[((5 * 8 + 2) * 3 + 0) * 3 + 1] = 0.25f;
    expect_create_fails(g->ctx, &w.desc, "(o 5, i 2, ky 0, kx 1)");
    w.weight[((5 * 8 + 2) * 3 + 0) * 3 + 1] = 0.0f;
    evk_hetconv_desc d = w.desc;
    d.weight_count -= 1;
    expect_create_fails(g->ctx, &d, "weight_count");
    d = w.desc;
    d.part = 3;
    expect_create_fails(g->ctx, &d, "masked");
    d = w.desc;
    d.kernel_size = 4;
    expect_create_fails(g->ctx, &d, "kernel_size");
    d = w.desc;
    d.part = 0;
    expect_create_fails(g->ctx, &d, "part");
    d = w.desc;
    d.part = 9;
    expect_create_fails(g->ctx, &d, "part 9");
    /* Grouped form: counts, and P must divide both channel counts. */
    d = w.desc;
    d.weight = NULL;
    d.gwc = d.pwc = w.dense_weight;
    d.gwc_count = 6 * 2 * 9;
    d.pwc_count = 6 * 8;
    expect_create_fails(g->ctx, &d, "divide");
    d.part = 2;
    d.gwc_count = 6 * 4 * 9 + 1;
    expect_create_fails(g->ctx, &d, "gwc_count");
    d.gwc_count = 6 * 4 * 9;
    d.pwc_count = 6 * 8 * 9;
    expect_create_fails(g->ctx, &d, "pwc_count");
    d.pwc_count = 6 * 8;
    evk_layer *layer = create(g->ctx, &d, "after failures");
    evk_layer_destroy(layer);
    layer = create(g->ctx, &w.desc, "after failures");
    evk_layer_destroy(layer);
    free_weights(&w);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    static evk_context_desc staging = {.flags = EVK_CONTEXT_FORCE_STAGING};
    /* Grids folded into 3-D as on a device limited to 7 groups per dimension. */
    static evk_context_desc folded = {.max_workgroup_count = 7};
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_masked_parts),
        TU_GPU_TEST(test_masked_large_kernels),
        TU_GPU_TEST(test_grouped_form),
        TU_GPU_TEST(test_every_activation),
        TU_GPU_TEST(test_part_one_equals_conv2d),
        TU_GPU_TEST(test_grouped_form_permutation),
        TU_GPU_TEST(test_padded_lanes_written_as_zero),
        TU_GPU_TEST(test_layer_reuse_across_shapes),
        TU_GPU_TEST(test_bad_weights),
        TU_GPU_TEST_WITH(test_grouped_form, staging),
        TU_GPU_TEST_WITH(test_masked_parts, folded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
