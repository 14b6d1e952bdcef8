/* The mbconv suite: the 16 MBConv blocks of EfficientNet-B0 at 224 input
 * (papers.md §3), fused (four dispatches) against the unfused sequence of
 * the same block (six), at batch 1 and 16 by default.
 *
 * Per block and batch the JSON holds:
 *  - "b0/NN <shape> unfused bN": the unfused sequence (params.fused false);
 *  - "b0/NN <shape> bN": the fused block (params.fused true), whose baseline
 *    is the unfused result;
 *  both with each dispatch's median GPU time in params (expand_ms,
 *  depthwise_ms, se_ms, project_ms, and for the unfused sequence scale_ms
 *  and residual_ms), from runs with per-dispatch timestamps after the timed
 *  ones;
 *  - "b0/NN <shape> depthwise bN": the fused depthwise dispatch on its own
 *    (op "mbconv", kernel "mbconv_depthwise", params.dispatch, no
 *    params.fused, median of the per-dispatch runs): its bytes are the expanded
 *    input, the output and the weights, so gbps and fraction_of_bandwidth
 *    compare it with the measured copy bandwidth. Not checked by itself
 *    (the block's output is).
 * and per batch "b0/total bN" and "b0/total unfused bN" sum the 16 blocks.
 *
 * A block's fused and unfused variants are timed round-robin. Outputs are
 * checked against evk_ref_mbconv for the last batch element. Blocks of more
 * than SLOW_CASE_MACS are timed at most SLOW_CASE_ITERATIONS rounds. The
 * default run takes about a minute on lavapipe with 2 cores.
 *
 * The headline run: four blocks, one per resolution from 112² to 7² (a
 * stride-2 one and three residual ones), at batch 1, without the totals
 * (whose names mean all 16 blocks). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "reference.h"

typedef evk_ref_mbconv_block block_shape;

static const uint32_t mbconv_default_batches[] = {1, 16};
static const uint32_t mbconv_headline_batches[] = {1};

/* Indices into evk_ref_b0_blocks: blocks 02, 03, 05 and 13. */
static const uint32_t headline_blocks[] = {1, 2, 4, 12};
#define HEADLINE_BLOCK_COUNT (sizeof headline_blocks / sizeof headline_blocks[0])

static int block_runs(const bench_run *run, uint32_t index)
{
    if (!bench_headline(run))
        return 1;
    for (size_t i = 0; i < HEADLINE_BLOCK_COUNT; ++i)
        if (headline_blocks[i] == index)
            return 1;
    return 0;
}

#define SLOW_CASE_ITERATIONS 5u
#define SLOW_CASE_MACS 200000000u
/* Runs with per-dispatch timestamps whose median gives each dispatch's time. */
#define DISPATCH_TIMING_RUNS 5u
#define MAX_DISPATCHES 6u

/* The params keys of a variant's dispatches, in recording order. */
static uint32_t dispatch_names(const block_shape *b, int fused, const char *names[MAX_DISPATCHES])
{
    uint32_t count = 0;
    if (b->expand_ratio > 1)
        names[count++] = "expand_ms";
    names[count++] = "depthwise_ms";
    names[count++] = "se_ms";
    if (!fused)
        names[count++] = "scale_ms";
    names[count++] = "project_ms";
    if (!fused && b->stride == 1 && b->in_channels == b->out_channels)
        names[count++] = "residual_ms";
    return count;
}

/* Host weights of a block (BatchNorm eps 1e-5, as B0) and its desc. */
typedef struct block_weights {
    evk_mbconv_desc desc;
    float *arrays[7];
    float *bn[3][4];
} block_weights;

/* One block at one batch: data, device tensors and the reference output. */
typedef struct block_run {
    const block_shape *shape;
    uint32_t index;
    block_weights weights;
    evk_shape in_shape, out_shape;
    float *input, *output, *expected;
    evk_tensor *in, *out;
} block_run;

static float *random_array(bench_rng *rng, uint64_t count, float scale, float offset)
{
    float *a = malloc(count * sizeof *a);
    if (a) {
        bench_fill_uniform(rng, a, count, scale);
        for (uint64_t i = 0; i < count; ++i)
            a[i] += offset;
    }
    return a;
}

static evk_batchnorm make_bn(bench_rng *rng, float **arrays, uint32_t channels)
{
    arrays[0] = random_array(rng, channels, 0.25f, 1.0f);
    arrays[1] = random_array(rng, channels, 0.1f, 0.0f);
    arrays[2] = random_array(rng, channels, 0.1f, 0.0f);
    arrays[3] = random_array(rng, channels, 0.25f, 1.0f);
    return (evk_batchnorm){arrays[0], arrays[1], arrays[2], arrays[3], channels, 1e-5f};
}

/* Weights scaled by sqrt(3 / fan-in): activations of unit order. */
static evk_status make_weights(const block_shape *b, bench_rng *rng, block_weights *w)
{
    uint32_t e = b->in_channels * b->expand_ratio, kk = b->kernel_size * b->kernel_size;
    uint32_t s = b->in_channels / 4 ? b->in_channels / 4 : 1;
    float **a = w->arrays;
    a[0] = random_array(rng, (uint64_t)e * b->in_channels, sqrtf(3.0f / b->in_channels), 0.0f);
    a[1] = random_array(rng, (uint64_t)e * kk, sqrtf(3.0f / kk), 0.0f);
    a[2] = random_array(rng, (uint64_t)s * e, sqrtf(3.0f / e), 0.0f);
    a[3] = random_array(rng, s, 0.1f, 0.0f);
    a[4] = random_array(rng, (uint64_t)e * s, sqrtf(3.0f / s), 0.0f);
    a[5] = random_array(rng, e, 0.1f, 0.0f);
    a[6] = random_array(rng, (uint64_t)b->out_channels * e, sqrtf(3.0f / e), 0.0f);
    w->desc = (evk_mbconv_desc){.in_channels = b->in_channels, .out_channels = b->out_channels,
                                .expand_ratio = b->expand_ratio, .kernel_size = b->kernel_size,
                                .stride = b->stride, .expand_weight = a[0],
                                .expand_weight_count = (uint64_t)e * b->in_channels,
                                .depthwise_weight = a[1],
                                .depthwise_weight_count = (uint64_t)e * kk,
                                .se_fc1_weight = a[2], .se_fc1_weight_count = (uint64_t)s * e,
                                .se_fc1_bias = a[3], .se_fc1_bias_count = s,
                                .se_fc2_weight = a[4], .se_fc2_weight_count = (uint64_t)e * s,
                                .se_fc2_bias = a[5], .se_fc2_bias_count = e,
                                .project_weight = a[6],
                                .project_weight_count = (uint64_t)b->out_channels * e};
    if (b->expand_ratio > 1)
        w->desc.expand_bn = make_bn(rng, w->bn[0], e);
    w->desc.depthwise_bn = make_bn(rng, w->bn[1], e);
    w->desc.project_bn = make_bn(rng, w->bn[2], b->out_channels);
    for (int i = 0; i < 7; ++i)
        if (!a[i])
            return bench_out_of_memory("mbconv weights");
    for (int i = 0; i < 12; ++i)
        if (!w->bn[i / 4][i % 4] && (i >= 4 || b->expand_ratio > 1))
            return bench_out_of_memory("mbconv batchnorm");
    return EVK_SUCCESS;
}

static void block_run_free(block_run *r)
{
    for (int i = 0; i < 7; ++i)
        free(r->weights.arrays[i]);
    for (int i = 0; i < 12; ++i)
        free(r->weights.bn[i / 4][i % 4]);
    evk_tensor_destroy(r->in);
    evk_tensor_destroy(r->out);
    free(r->input);
    free(r->output);
    free(r->expected);
}

/* Data, tensors, and the reference output of the last batch element. */
static evk_status prepare(bench_run *run, const block_shape *b, uint32_t batch, block_run *r)
{
    bench_rng rng = bench_rng_seeded(0x3bc0000u + r->index * 1000u);
    evk_status st = make_weights(b, &rng, &r->weights);
    if (st != EVK_SUCCESS)
        return st;
    r->in_shape = (evk_shape){batch, b->in_channels, b->size, b->size};
    st = bench_check(run, evk_mbconv_output_shape(&r->weights.desc, r->in_shape, &r->out_shape),
                     "mbconv output shape");
    if (st != EVK_SUCCESS)
        return st;
    uint64_t in_count = evk_shape_elements(r->in_shape), out_count = evk_shape_elements(r->out_shape);
    r->input = random_array(&rng, in_count, 1.0f, 0.0f);
    r->output = malloc(out_count * sizeof(float));
    r->expected = malloc(out_count / batch * sizeof(float));
    if (!r->input || !r->output || !r->expected)
        return bench_out_of_memory("mbconv tensors");
    evk_shape one = r->in_shape;
    one.n = 1;
    evk_ref_mbconv(&r->weights.desc, one, r->input + (batch - 1) * (in_count / batch), r->expected);
    evk_context *ctx = bench_context(run);
    st = bench_check(run, evk_tensor_create(ctx, r->in_shape, &r->in), "mbconv input");
    if (st == EVK_SUCCESS)
        st = bench_check(run, evk_tensor_create(ctx, r->out_shape, &r->out), "mbconv output");
    if (st == EVK_SUCCESS)
        st = bench_check(run, evk_tensor_upload(r->in, r->input, in_count), "mbconv input");
    return st;
}

typedef struct forward_args {
    evk_layer *layer;
    block_run *block;
} forward_args;

static evk_status forward(void *user_data)
{
    forward_args *a = user_data;
    return evk_layer_forward(a->layer, a->block->in, a->block->out);
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median GPU time of each dispatch of the layer over DISPATCH_TIMING_RUNS
 * runs with per-dispatch timestamps; returns the dispatch count. */
static uint32_t time_dispatches(bench_run *run, forward_args *args, double median_ms[MAX_DISPATCHES])
{
    evk_context *ctx = bench_context(run);
    double ms[DISPATCH_TIMING_RUNS][MAX_DISPATCHES];
    uint32_t count = 0, first_count = 0;
    if (evk_context_set_dispatch_timing(ctx, 1) != EVK_SUCCESS)
        return 0;
    for (uint32_t i = 0; i < DISPATCH_TIMING_RUNS; ++i) {
        if (forward(args) != EVK_SUCCESS ||
            evk_context_dispatch_gpu_ms(ctx, ms[i], MAX_DISPATCHES, &count) != EVK_SUCCESS ||
            count > MAX_DISPATCHES || (i && count != first_count)) {
            first_count = 0;
            break;
        }
        first_count = count;
    }
    evk_context_set_dispatch_timing(ctx, 0);
    for (uint32_t d = 0; d < first_count; ++d) {
        double column[DISPATCH_TIMING_RUNS];
        for (uint32_t i = 0; i < DISPATCH_TIMING_RUNS; ++i)
            column[i] = ms[i][d];
        qsort(column, DISPATCH_TIMING_RUNS, sizeof column[0], compare_doubles);
        median_ms[d] = column[DISPATCH_TIMING_RUNS / 2];
    }
    return first_count;
}

/* `fused` 1 or 0 becomes params.fused; -1 (a single dispatch) leaves it out. */
static void describe(const block_run *r, int fused, const char *what, bench_result *result)
{
    const block_shape *b = r->shape;
    uint32_t batch = r->in_shape.n;
    result->suite = "mbconv";
    result->op = "mbconv";
    snprintf(result->name, sizeof result->name, "b0/%02u %u->%u e%u k%u s%u @%u%s b%u",
             r->index + 1, b->in_channels, b->out_channels, b->expand_ratio, b->kernel_size,
             b->stride, b->size, what,
             batch);
    result->shape = (bench_shape){batch, b->in_channels, b->size, b->size, b->out_channels,
                                  b->kernel_size, b->stride};
    bench_param_number(result, "expand", b->expand_ratio);
    if (fused >= 0)
        bench_param_bool(result, "fused", fused);
}

/* The fused depthwise dispatch as a result of its own. */
static evk_status add_depthwise_result(bench_run *run, const block_run *r, double ms)
{
    bench_result result = {0};
    describe(r, -1, " depthwise", &result);
    const block_shape *b = r->shape;
    uint64_t e = (uint64_t)b->in_channels * b->expand_ratio, n = r->in_shape.n;
    uint64_t kk = (uint64_t)b->kernel_size * b->kernel_size, in_plane = (uint64_t)b->size * b->size;
    uint64_t out_plane = (uint64_t)r->out_shape.h * r->out_shape.w;
    result.macs = n * out_plane * e * kk;
    result.bytes = (n * e * (in_plane + out_plane) + e * kk + e) * sizeof(float);
    result.gpu_ms_median = result.gpu_ms_min = ms;
    result.iterations = DISPATCH_TIMING_RUNS;
    snprintf(result.kernel, sizeof result.kernel, "mbconv_depthwise");
    bench_param_text(&result, "kernel", result.kernel);
    bench_param_text(&result, "dispatch", "depthwise of the fused block");
    return bench_add_result(run, &result);
}

/* Describes a variant and creates its layer, ready to be timed. */
static evk_status create_variant(bench_run *run, block_run *r, int fused, evk_layer **layer,
                                 bench_result *result)
{
    describe(r, fused, fused ? "" : " unfused", result);
    evk_mbconv_desc desc = r->weights.desc;
    desc.flags = fused ? 0 : EVK_MBCONV_UNFUSED;
    uint64_t params = 0;
    evk_status st = bench_check(run, evk_mbconv_cost(&desc, r->in_shape, &result->macs, &params),
                                result->name);
    if (st == EVK_SUCCESS)
        st = bench_check(run, evk_mbconv_create(bench_context(run), &desc, layer), result->name);
    result->bytes = (evk_shape_elements(r->in_shape) + evk_shape_elements(r->out_shape) + params) *
                    sizeof(float);
    return st;
}

/* Checks a timed variant's output (running it once more: the variants share
 * the output tensor), times its dispatches and records it; the fused one
 * adds its depthwise dispatch as a result of its own. */
static evk_status finish_variant(bench_run *run, block_run *r, int fused, forward_args *args,
                                 bench_result *result)
{
    uint64_t out_count = evk_shape_elements(r->out_shape), per_image = out_count / r->out_shape.n;
    evk_status st = bench_check(run, forward(args), result->name);
    if (st == EVK_SUCCESS)
        st = bench_check(run, evk_tensor_download(r->out, r->output, out_count), result->name);
    if (st != EVK_SUCCESS)
        return st;
    bench_check_output(run, result, r->output + out_count - per_image, r->expected, per_image,
                       out_count);
    double dispatch_ms[MAX_DISPATCHES];
    uint32_t dispatches = time_dispatches(run, args, dispatch_ms);
    snprintf(result->kernel, sizeof result->kernel, "%s", fused ? "mbconv" : "mbconv_unfused");
    bench_param_text(result, "kernel", result->kernel);
    const char *names[MAX_DISPATCHES];
    uint32_t expected = dispatch_names(r->shape, fused, names);
    for (uint32_t d = 0; d < dispatches && dispatches == expected; ++d)
        bench_param_number(result, names[d], dispatch_ms[d]);
    st = bench_add_result(run, result);
    uint32_t depthwise = r->shape->expand_ratio > 1;
    if (st == EVK_SUCCESS && fused && dispatches == expected)
        st = add_depthwise_result(run, r, dispatch_ms[depthwise]);
    return st;
}

/* The unfused sequence and the fused block, timed round-robin
 * (bench_time_interleaved) so that load changes on a shared machine fall on
 * both alike. */
static evk_status run_block(bench_run *run, uint32_t index, uint32_t batch, bench_result totals[2])
{
    block_run r = {.shape = &evk_ref_b0_blocks[index], .index = index};
    evk_status st = prepare(run, r.shape, batch, &r);
    bench_result results[2] = {{0}};
    evk_layer *layers[2] = {NULL, NULL};
    for (int fused = 0; st == EVK_SUCCESS && fused < 2; ++fused)
        st = create_variant(run, &r, fused, &layers[fused], &results[fused]);
    forward_args args[2] = {{layers[0], &r}, {layers[1], &r}};
    void *users[2] = {&args[0], &args[1]};
    bench_result *result_of[2] = {&results[0], &results[1]};
    if (st == EVK_SUCCESS)
        st = bench_time_interleaved(run, forward, users, result_of, 2,
                                    results[1].macs > SLOW_CASE_MACS ? SLOW_CASE_ITERATIONS
                                                                     : UINT32_MAX);
    snprintf(results[1].baseline, sizeof results[1].baseline, "%s", results[0].name);
    for (int fused = 0; st == EVK_SUCCESS && fused < 2; ++fused)
        st = finish_variant(run, &r, fused, &args[fused], &results[fused]);
    evk_layer_destroy(layers[0]);
    evk_layer_destroy(layers[1]);
    block_run_free(&r);
    if (st == EVK_SUCCESS) {
        bench_accumulate(&totals[0], &results[0]);
        bench_accumulate(&totals[1], &results[1]);
    }
    return st;
}

static evk_status add_totals(bench_run *run, uint32_t batch, bench_result totals[2])
{
    evk_status st = EVK_SUCCESS;
    for (int fused = 0; st == EVK_SUCCESS && fused < 2; ++fused) {
        bench_result *r = &totals[fused];
        r->suite = "mbconv";
        r->op = "mbconv";
        r->shape = (bench_shape){batch, 32, 112, 112, 320, 3, 1};
        snprintf(r->name, sizeof r->name, "b0/total%s b%u", fused ? "" : " unfused", batch);
        snprintf(r->kernel, sizeof r->kernel, "%s", fused ? "mbconv" : "mbconv_unfused");
        if (fused)
            snprintf(r->baseline, sizeof r->baseline, "b0/total unfused b%u", batch);
        bench_param_bool(r, "fused", fused);
        bench_param_number(r, "blocks", EVK_REF_B0_BLOCKS);
        st = bench_add_result(run, r);
    }
    return st;
}

static evk_status run_mbconv(bench_run *run)
{
    uint32_t batch_count;
    const uint32_t *batches = bench_batches(run, &batch_count);
    evk_status st = EVK_SUCCESS;
    for (uint32_t b = 0; st == EVK_SUCCESS && b < batch_count; ++b) {
        bench_result totals[2] = {{0}};
        for (uint32_t i = 0; st == EVK_SUCCESS && i < EVK_REF_B0_BLOCKS; ++i)
            if (block_runs(run, i))
                st = run_block(run, i, batches[b], totals);
        if (st == EVK_SUCCESS && !bench_headline(run))
            st = add_totals(run, batches[b], totals);
    }
    return st;
}

/* Per block: unfused, fused and its depthwise dispatch; per batch the two
 * totals. */
static uint32_t count_mbconv(const bench_run *run)
{
    uint32_t batch_count, blocks = 0;
    bench_batches(run, &batch_count);
    for (uint32_t i = 0; i < EVK_REF_B0_BLOCKS; ++i)
        blocks += block_runs(run, i);
    return (3 * blocks + (bench_headline(run) ? 0 : 2)) * batch_count;
}

const bench_suite bench_suite_mbconv = {
    .name = "mbconv",
    .default_batches = mbconv_default_batches,
    .default_batch_count = sizeof mbconv_default_batches / sizeof mbconv_default_batches[0],
    .headline_batches = mbconv_headline_batches,
    .headline_batch_count = sizeof mbconv_headline_batches / sizeof mbconv_headline_batches[0],
    .run = run_mbconv,
    .count_results = count_mbconv,
};
