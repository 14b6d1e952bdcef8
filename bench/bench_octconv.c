/* The octconv suite: OctConv against effvk's own vanilla conv of the same
 * shape in the same run, on ResNet-50's bottleneck layers at 56², 28² and
 * 14² (the 3×3 convs and one 1×1 conv per stage, 64 to 512 channels), for
 * alpha_in = alpha_out = alpha in {0.125, 0.25, 0.5, 0.75}, stride 1. Each
 * OctConv result names its vanilla result as baseline, so the JSON carries
 * speedup, MACs ratio (1 / (1 − ¾·α·(2 − α)) for these even sizes) and
 * efficiency.
 *
 * Run time: the default batches are 1 and 32. A layer's vanilla conv and
 * its four OctConvs are timed round-robin. Results of large shapes are
 * timed at most SLOW_CASE_ITERATIONS rounds (fewer with --iterations), and
 * outputs are checked against the CPU reference for the last batch element
 * only (every element at batch 1), both output branches. On lavapipe most of
 * the time is shader compilation: two pipelines per OctConv variant.
 *
 * The headline run: the three 3×3 layers at batch 32, vanilla against
 * α = 0.5. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "reference.h"

typedef struct layer_shape {
    const char *label;
    uint32_t c_in, c_out, size, kernel;
    int headline;
} layer_shape;

static const layer_shape resnet50[] = {
    {"conv2_x 3x3 64->64 @56", 64, 64, 56, 3, 1},
    {"conv3_x 3x3 128->128 @28", 128, 128, 28, 3, 1},
    {"conv4_x 3x3 256->256 @14", 256, 256, 14, 3, 1},
    {"conv2_x 1x1 256->64 @56", 256, 64, 56, 1, 0},
    {"conv3_x 1x1 128->512 @28", 128, 512, 28, 1, 0},
    {"conv4_x 1x1 512->256 @14", 512, 256, 14, 1, 0},
};
#define LAYER_COUNT (sizeof resnet50 / sizeof resnet50[0])

static const double alphas[] = {0.125, 0.25, 0.5, 0.75};
#define ALPHA_COUNT (sizeof alphas / sizeof alphas[0])
static const int alpha_in_headline[ALPHA_COUNT] = {0, 0, 1, 0};

static const uint32_t octconv_default_batches[] = {1, 32};
static const uint32_t octconv_headline_batches[] = {32};

/* The vanilla conv (0.0) and the alphas the run times; returns the count. */
static uint32_t variant_alphas(const bench_run *run, double out[ALPHA_COUNT + 1])
{
    uint32_t count = 0;
    out[count++] = 0.0;
    for (uint32_t a = 0; a < ALPHA_COUNT; ++a)
        if (!bench_headline(run) || alpha_in_headline[a])
            out[count++] = alphas[a];
    return count;
}

static int layer_runs(const bench_run *run, const layer_shape *l)
{
    return !bench_headline(run) || l->headline;
}

/* Timed runs at most for shapes whose vanilla conv has more than
 * SLOW_CASE_MACS multiply-accumulates (batch 32: up to 0.2 s per run). */
#define SLOW_CASE_ITERATIONS 3u
#define SLOW_CASE_MACS 500000000u

/* The tensors of one variant: X^H, X^L in, Y^H, Y^L out (the vanilla conv
 * uses the H ones only), with host copies. */
typedef struct variant {
    double alpha;                   /* 0: the vanilla conv2d */
    evk_octconv_desc oct;
    evk_conv2d_desc conv;
    float *weight[4], *bias_h, *bias_l;
    evk_layer *layer;
    evk_shape shape[4];             /* X^H, X^L, Y^H, Y^L */
    float *host[4];
    evk_tensor *tensor[4];
} variant;

static void variant_free(variant *v)
{
    evk_layer_destroy(v->layer);
    for (int i = 0; i < 4; ++i) {
        free(v->weight[i]);
        free(v->host[i]);
        evk_tensor_destroy(v->tensor[i]);
    }
    free(v->bias_h);
    free(v->bias_l);
}

static float *random_array(bench_rng *rng, uint64_t count, float scale)
{
    float *a = malloc((count ? count : 1) * sizeof *a);
    if (a)
        bench_fill_uniform(rng, a, count, scale);
    return a;
}

/* Weights scaled by 1/sqrt(fan-in), so that outputs are of unit size. */
static evk_status make_weights(const layer_shape *l, double alpha, bench_rng *rng, variant *v)
{
    /* The header's split rule: c_L = int(alpha·C) in double precision. */
    uint32_t kk = l->kernel * l->kernel, in_low = (uint32_t)(alpha * l->c_in);
    uint32_t out_low = (uint32_t)(alpha * l->c_out);
    uint32_t in_high = l->c_in - in_low, out_high = l->c_out - out_low;
    float scale = sqrtf(3.0f / (float)(l->c_in * kk));
    uint64_t counts[4] = {(uint64_t)out_high * in_high * kk, (uint64_t)out_low * in_high * kk,
                          (uint64_t)out_high * in_low * kk, (uint64_t)out_low * in_low * kk};
    if (!alpha)
        counts[0] = (uint64_t)l->c_out * l->c_in * kk;
    for (int i = 0; i < 4; ++i)
        if (counts[i] && !(v->weight[i] = random_array(rng, counts[i], scale)))
            return bench_out_of_memory(l->label);
    v->bias_h = random_array(rng, out_high, 0.1f);
    v->bias_l = random_array(rng, out_low, 0.1f);
    if (!v->bias_h || !v->bias_l)
        return bench_out_of_memory(l->label);
    v->alpha = alpha;
    v->oct = (evk_octconv_desc){.in_channels = l->c_in, .out_channels = l->c_out,
                                .alpha_in = alpha, .alpha_out = alpha, .kernel_size = l->kernel,
                                .weight_hh = v->weight[0], .weight_hh_count = counts[0],
                                .weight_hl = v->weight[1], .weight_hl_count = counts[1],
                                .weight_lh = v->weight[2], .weight_lh_count = counts[2],
                                .weight_ll = v->weight[3], .weight_ll_count = counts[3],
                                .bias_h = v->bias_h, .bias_h_count = out_high,
                                .bias_l = out_low ? v->bias_l : NULL, .bias_l_count = out_low};
    uint32_t pad = (l->kernel - 1) / 2;
    v->conv = (evk_conv2d_desc){.in_channels = l->c_in, .out_channels = l->c_out,
                                .kernel_h = l->kernel, .kernel_w = l->kernel, .pad_h = pad,
                                .pad_w = pad, .weight = v->weight[0], .weight_count = counts[0],
                                .bias = v->bias_h, .bias_count = out_high};
    return EVK_SUCCESS;
}

static evk_status make_tensors(bench_run *run, const layer_shape *l, uint32_t batch,
                               bench_rng *rng, const char *name, variant *v)
{
    evk_status s = EVK_SUCCESS;
    if (v->alpha) {
        s = evk_octconv_input_shapes(&v->oct, batch, l->size, l->size, &v->shape[0], &v->shape[1]);
        if (s == EVK_SUCCESS)
            s = evk_octconv_output_shapes(&v->oct, v->shape[0], &v->shape[2], &v->shape[3]);
    } else {
        v->shape[0] = (evk_shape){batch, l->c_in, l->size, l->size};
        v->shape[2] = (evk_shape){batch, l->c_out, l->size, l->size};
    }
    s = bench_check(run, s, name);
    evk_context *ctx = bench_context(run);
    for (int i = 0; i < 4 && s == EVK_SUCCESS; ++i) {
        uint64_t count = evk_shape_elements(v->shape[i]);
        if (!count)
            continue;
        v->host[i] = random_array(rng, count, 1.0f);
        if (!v->host[i])
            return bench_out_of_memory(name);
        s = bench_check(run, evk_tensor_create(ctx, v->shape[i], &v->tensor[i]), name);
        if (s == EVK_SUCCESS && i < 2)
            s = bench_check(run, evk_tensor_upload(v->tensor[i], v->host[i], count), name);
    }
    return s;
}

static evk_status forward(void *user_data)
{
    variant *v = user_data;
    if (!v->alpha)
        return evk_layer_forward(v->layer, v->tensor[0], v->tensor[2]);
    return evk_octconv_forward(v->layer, v->tensor[0], v->tensor[1], v->tensor[2], v->tensor[3]);
}

/* The last batch element of tensor i's host copy. */
static const float *last_element(const variant *v, int i)
{
    evk_shape s = v->shape[i];
    return v->host[i] + (uint64_t)(s.n - 1) * s.c * s.h * s.w;
}

/* Checks the last batch element of both outputs against the reference. */
static evk_status verify(bench_run *run, variant *v, bench_result *result)
{
    uint64_t total = evk_shape_elements(v->shape[2]) + evk_shape_elements(v->shape[3]);
    evk_status s = EVK_SUCCESS;
    for (int i = 2; i < 4 && s == EVK_SUCCESS; ++i)
        if (v->tensor[i])
            s = bench_check(run, evk_tensor_download(v->tensor[i], v->host[i],
                                                     evk_shape_elements(v->shape[i])), result->name);
    uint64_t per_high = evk_shape_elements(v->shape[2]) / v->shape[2].n;
    uint64_t per_low = v->tensor[3] ? evk_shape_elements(v->shape[3]) / v->shape[3].n : 0;
    float *expected_high = malloc(per_high * sizeof(float));
    float *expected_low = malloc((per_low ? per_low : 1) * sizeof(float));
    if (!expected_high || !expected_low)
        s = bench_out_of_memory(result->name);
    evk_shape one = v->shape[0];
    one.n = 1;
    if (s == EVK_SUCCESS && v->alpha)
        evk_ref_octconv(&v->oct, one, last_element(v, 0), v->host[1] ? last_element(v, 1) : NULL,
                        expected_high, expected_low);
    else if (s == EVK_SUCCESS)
        evk_ref_conv2d(&v->conv, one, last_element(v, 0), expected_high);
    if (s == EVK_SUCCESS)
        bench_check_output(run, result, last_element(v, 2), expected_high, per_high, total);
    if (s == EVK_SUCCESS && per_low)
        bench_check_output(run, result, last_element(v, 3), expected_low, per_low, total);
    free(expected_high);
    free(expected_low);
    return s;
}

static void describe(const layer_shape *l, uint32_t batch, const variant *v, bench_result *r)
{
    r->suite = "octconv";
    r->op = v->alpha ? "octconv" : "conv2d";
    if (v->alpha)
        snprintf(r->name, sizeof r->name, "resnet50/%s a=%g b%u", l->label, v->alpha,
                 batch);
    else
        snprintf(r->name, sizeof r->name, "resnet50/%s vanilla b%u", l->label, batch);
    r->shape = (bench_shape){batch, l->c_in, l->size, l->size, l->c_out, l->kernel, 1};
}

/* Creates the variant's layer and tensors and fills the result's name, MACs
 * and bytes, ready to be timed. */
static evk_status prepare(bench_run *run, const layer_shape *l, uint32_t batch, variant *v,
                          bench_rng *rng, bench_result *result)
{
    describe(l, batch, v, result);
    evk_context *ctx = bench_context(run);
    uint64_t params = 0;
    evk_status s = bench_check(run, v->alpha ? evk_octconv_create(ctx, &v->oct, &v->layer)
                                             : evk_conv2d_create(ctx, &v->conv, &v->layer),
                               result->name);
    if (s == EVK_SUCCESS)
        s = make_tensors(run, l, batch, rng, result->name, v);
    if (s == EVK_SUCCESS)
        s = bench_check(run, v->alpha ? evk_octconv_cost(&v->oct, v->shape[0], &result->macs, &params)
                                      : evk_conv2d_cost(&v->conv, v->shape[0], &result->macs, &params),
                        result->name);
    uint64_t elements = 0;
    for (int i = 0; i < 4; ++i)
        elements += evk_shape_elements(v->shape[i]);
    result->bytes = (elements + params) * sizeof(float);
    return s;
}

/* Checks a timed variant's outputs and records its result. */
static evk_status finish(bench_run *run, variant *v, const char *baseline, bench_result *result)
{
    evk_status s = verify(run, v, result);
    if (s != EVK_SUCCESS)
        return s;
    snprintf(result->kernel, sizeof result->kernel, "%s", evk_layer_kernel_name(v->layer));
    snprintf(result->baseline, sizeof result->baseline, "%s", baseline);
    bench_param_text(result, "kernel", result->kernel);
    bench_param_number(result, "alpha_in", v->alpha);
    bench_param_number(result, "alpha_out", v->alpha);
    return bench_add_result(run, result);
}

/* The vanilla conv and every alpha, each with its own weights and data,
 * timed round-robin (bench_time_interleaved) so that a change in the shared
 * machine's load falls on all of them alike. */
static evk_status run_layer(bench_run *run, const layer_shape *l, uint32_t batch)
{
    bench_rng rng = bench_rng_seeded(0x0c7c0000u + l->c_in * 1000u + l->size);
    char baseline[BENCH_NAME_SIZE];
    snprintf(baseline, sizeof baseline, "resnet50/%s vanilla b%u", l->label, batch);
    variant v[ALPHA_COUNT + 1] = {0};
    bench_result results[ALPHA_COUNT + 1] = {0};
    void *users[ALPHA_COUNT + 1];
    bench_result *result_of[ALPHA_COUNT + 1];
    double alpha_of[ALPHA_COUNT + 1];
    uint32_t count = variant_alphas(run, alpha_of);
    evk_status s = EVK_SUCCESS;
    for (uint32_t a = 0; s == EVK_SUCCESS && a < count; ++a) {
        users[a] = &v[a];
        result_of[a] = &results[a];
        s = make_weights(l, alpha_of[a], &rng, &v[a]);
        if (s == EVK_SUCCESS)
            s = prepare(run, l, batch, &v[a], &rng, &results[a]);
    }
    uint64_t vanilla_macs = results[0].macs;
    if (s == EVK_SUCCESS)
        s = bench_time_interleaved(run, forward, users, result_of, count,
                                   vanilla_macs > SLOW_CASE_MACS ? SLOW_CASE_ITERATIONS
                                                                 : UINT32_MAX);
    for (uint32_t a = 0; s == EVK_SUCCESS && a < count; ++a)
        s = finish(run, &v[a], a ? baseline : "", &results[a]);
    for (uint32_t a = 0; a < count; ++a)
        variant_free(&v[a]);
    return s;
}

static evk_status run_octconv(bench_run *run)
{
    uint32_t batch_count;
    const uint32_t *batches = bench_batches(run, &batch_count);
    evk_status s = EVK_SUCCESS;
    for (uint32_t b = 0; s == EVK_SUCCESS && b < batch_count; ++b)
        for (size_t l = 0; s == EVK_SUCCESS && l < LAYER_COUNT; ++l)
            if (layer_runs(run, &resnet50[l]))
                s = run_layer(run, &resnet50[l], batches[b]);
    return s;
}

static uint32_t count_octconv(const bench_run *run)
{
    uint32_t batch_count, layers = 0;
    double alpha_of[ALPHA_COUNT + 1];
    bench_batches(run, &batch_count);
    for (size_t l = 0; l < LAYER_COUNT; ++l)
        layers += layer_runs(run, &resnet50[l]);
    return layers * variant_alphas(run, alpha_of) * batch_count;
}

const bench_suite bench_suite_octconv = {
    .name = "octconv",
    .default_batches = octconv_default_batches,
    .default_batch_count = sizeof octconv_default_batches / sizeof octconv_default_batches[0],
    .headline_batches = octconv_headline_batches,
    .headline_batch_count = sizeof octconv_headline_batches / sizeof octconv_headline_batches[0],
    .run = run_octconv,
    .count_results = count_octconv,
};
