/* The conv2d suite: the plain convolutions of ResNet and EfficientNet that
 * every later op is measured against. The headline run takes the marked
 * cases at batch 1: a 3x3 conv early and late in ResNet, a depthwise and a
 * pointwise conv of EfficientNet. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "reference.h"
#include "report.h"

typedef struct conv_case {
    const char *label;
    uint32_t c_in, c_out, size, kernel, stride, pad, groups;
    int headline;
} conv_case;

static const conv_case conv_cases[] = {
    {"conv3x3 64->64 @56", 64, 64, 56, 3, 1, 1, 1, 1},
    {"conv3x3 256->256 @14", 256, 256, 14, 3, 1, 1, 1, 1},
    {"dwconv3x3 96 @112", 96, 96, 112, 3, 1, 1, 96, 1},
    {"conv1x1 96->24 @112", 96, 24, 112, 1, 1, 0, 1, 1},
    {"conv1x1 1152->192 @7", 1152, 192, 7, 1, 1, 0, 1, 0},
    {"stem3x3/2 3->32 @224", 3, 32, 224, 3, 2, 1, 1, 0},
};
#define CONV_CASE_COUNT (sizeof conv_cases / sizeof conv_cases[0])

static const uint32_t conv_default_batches[] = {1, 8};
static const uint32_t conv_headline_batches[] = {1};

/* The plain C reference takes about a second per 100 M multiply-accumulates
 * on a small CPU. Above this budget only the first and last batch elements
 * are checked, which still catches batch-indexing mistakes. */
#define CONV_FULL_CHECK_MACS 1000000000u

/* One case at one batch size: host data, device objects, shapes. */
typedef struct conv_bench {
    evk_conv2d_desc desc;
    evk_shape in_shape, out_shape;
    float *weight, *bias, *input, *output, *expected;
    evk_layer *layer;
    evk_tensor *in, *out;
} conv_bench;

static evk_conv2d_desc conv_desc(const conv_case *c)
{
    evk_conv2d_desc desc = {0};
    desc.in_channels = c->c_in;
    desc.out_channels = c->c_out;
    desc.kernel_h = desc.kernel_w = c->kernel;
    desc.stride_h = desc.stride_w = c->stride;
    desc.pad_h = desc.pad_w = c->pad;
    desc.groups = c->groups;
    return desc;
}

static void conv_bench_free(conv_bench *b)
{
    evk_layer_destroy(b->layer);
    evk_tensor_destroy(b->in);
    evk_tensor_destroy(b->out);
    free(b->weight);
    free(b->bias);
    free(b->input);
    free(b->output);
    free(b->expected);
}

/* Weights scaled by 1/sqrt(fan-in) keep outputs near unit size, where the
 * relative error check is meaningful. */
static evk_status fill_weights(conv_bench *b, bench_rng *rng, const char *label)
{
    uint64_t fan_in = (uint64_t)b->desc.in_channels / b->desc.groups * b->desc.kernel_h *
                      b->desc.kernel_w;
    uint64_t weight_count = b->desc.out_channels * fan_in;
    b->weight = malloc(weight_count * sizeof(float));
    b->bias = malloc(b->desc.out_channels * sizeof(float));
    if (!b->weight || !b->bias)
        return bench_out_of_memory(label);
    bench_fill_uniform(rng, b->weight, weight_count, sqrtf(3.0f / (float)fan_in));
    bench_fill_uniform(rng, b->bias, b->desc.out_channels, 0.1f);
    b->desc.weight = b->weight;
    b->desc.weight_count = weight_count;
    b->desc.bias = b->bias;
    b->desc.bias_count = b->desc.out_channels;
    return EVK_SUCCESS;
}

static evk_status fill_activations(conv_bench *b, bench_rng *rng, const char *name)
{
    uint64_t in_count = evk_shape_elements(b->in_shape);
    uint64_t out_count = evk_shape_elements(b->out_shape);
    b->input = malloc(in_count * sizeof(float));
    b->output = malloc(out_count * sizeof(float));
    b->expected = malloc(out_count * sizeof(float));
    if (!b->input || !b->output || !b->expected)
        return bench_out_of_memory(name);
    bench_fill_uniform(rng, b->input, in_count, 1.0f);
    return EVK_SUCCESS;
}

static evk_status create_device_objects(bench_run *run, conv_bench *b, const char *name)
{
    evk_context *ctx = bench_context(run);
    evk_status s = bench_check(run, evk_conv2d_create(ctx, &b->desc, &b->layer), name);
    if (s == EVK_SUCCESS)
        s = bench_check(run, evk_tensor_create(ctx, b->in_shape, &b->in), name);
    if (s == EVK_SUCCESS)
        s = bench_check(run, evk_tensor_create(ctx, b->out_shape, &b->out), name);
    if (s == EVK_SUCCESS)
        s = bench_check(run,
                        evk_tensor_upload(b->in, b->input, evk_shape_elements(b->in_shape)), name);
    return s;
}

static evk_status conv_forward(void *user_data)
{
    conv_bench *b = user_data;
    return evk_layer_forward(b->layer, b->in, b->out);
}

static void check_batch_element(const bench_run *run, conv_bench *b, uint32_t element,
                                bench_result *result)
{
    evk_shape one = b->in_shape;
    one.n = 1;
    uint64_t in_offset = element * evk_shape_elements(one);
    uint64_t out_count = evk_shape_elements(b->out_shape) / b->out_shape.n;
    uint64_t out_offset = element * out_count;
    evk_ref_conv2d(&b->desc, one, b->input + in_offset, b->expected + out_offset);
    bench_check_output(run, result, b->output + out_offset, b->expected + out_offset, out_count,
                       evk_shape_elements(b->out_shape));
}

static evk_status verify_output(bench_run *run, conv_bench *b, bench_result *result)
{
    evk_status s = bench_check(
        run, evk_tensor_download(b->out, b->output, evk_shape_elements(b->out_shape)),
        result->name);
    if (s != EVK_SUCCESS)
        return s;
    uint32_t last = b->in_shape.n - 1;
    if (result->macs <= CONV_FULL_CHECK_MACS) {
        for (uint32_t element = 0; element <= last; ++element)
            check_batch_element(run, b, element, result);
        return EVK_SUCCESS;
    }
    check_batch_element(run, b, 0, result);
    if (last > 0)
        check_batch_element(run, b, last, result);
    return EVK_SUCCESS;
}

static evk_status describe(const conv_case *c, conv_bench *b, uint32_t batch,
                           bench_result *result)
{
    snprintf(result->name, sizeof result->name, "%s b%u", c->label, batch);
    result->suite = "conv2d";
    result->op = "conv2d";
    result->shape = (bench_shape){batch, c->c_in, c->size, c->size, c->c_out, c->kernel, c->stride};
    b->in_shape = (evk_shape){batch, c->c_in, c->size, c->size};
    evk_status s = evk_conv2d_output_shape(&b->desc, b->in_shape, &b->out_shape);
    uint64_t params = 0;
    if (s == EVK_SUCCESS)
        s = evk_conv2d_cost(&b->desc, b->in_shape, &result->macs, &params);
    if (s != EVK_SUCCESS) {
        report_failure("bench", result->name, s, evk_last_error(NULL));
        return s;
    }
    uint64_t elements = evk_shape_elements(b->in_shape) + evk_shape_elements(b->out_shape);
    result->bytes = (elements + params) * sizeof(float);
    return EVK_SUCCESS;
}

static evk_status run_case(bench_run *run, const conv_case *c, uint32_t batch, uint64_t seed)
{
    bench_result result = {0};
    conv_bench b = {.desc = conv_desc(c)};
    bench_rng rng = bench_rng_seeded(seed);
    evk_status s = fill_weights(&b, &rng, c->label);
    if (s == EVK_SUCCESS)
        s = describe(c, &b, batch, &result);
    if (s == EVK_SUCCESS)
        s = fill_activations(&b, &rng, result.name);
    if (s == EVK_SUCCESS)
        s = create_device_objects(run, &b, result.name);
    if (s == EVK_SUCCESS)
        s = bench_time(run, conv_forward, &b, &result);
    if (s == EVK_SUCCESS)
        s = verify_output(run, &b, &result);
    if (s == EVK_SUCCESS) {
        snprintf(result.kernel, sizeof result.kernel, "%s", evk_layer_kernel_name(b.layer));
        bench_param_number(&result, "groups", c->groups);
        bench_param_text(&result, "kernel", result.kernel);
        s = bench_add_result(run, &result);
    }
    conv_bench_free(&b);
    return s;
}

static int case_runs(const bench_run *run, const conv_case *c)
{
    return !bench_headline(run) || c->headline;
}

static evk_status run_conv2d(bench_run *run)
{
    uint32_t batch_count;
    const uint32_t *batches = bench_batches(run, &batch_count);
    evk_status s = EVK_SUCCESS;
    for (size_t i = 0; s == EVK_SUCCESS && i < CONV_CASE_COUNT; ++i)
        for (uint32_t j = 0; s == EVK_SUCCESS && case_runs(run, &conv_cases[i]) && j < batch_count;
             ++j)
            s = run_case(run, &conv_cases[i], batches[j], 0x5eed0000u + i);
    return s;
}

static uint32_t count_conv2d(const bench_run *run)
{
    uint32_t batch_count, cases = 0;
    bench_batches(run, &batch_count);
    for (size_t i = 0; i < CONV_CASE_COUNT; ++i)
        cases += case_runs(run, &conv_cases[i]);
    return cases * batch_count;
}

const bench_suite bench_suite_conv2d = {
    .name = "conv2d",
    .default_batches = conv_default_batches,
    .default_batch_count = sizeof conv_default_batches / sizeof conv_default_batches[0],
    .headline_batches = conv_headline_batches,
    .headline_batch_count = sizeof conv_headline_batches / sizeof conv_headline_batches[0],
    .run = run_conv2d,
    .count_results = count_conv2d,
};
