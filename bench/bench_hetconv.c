/* The hetconv suite: HetConv against effvk's own dense conv of the same shape
 * in the same run, on the 13 conv layers of CIFAR VGG-16 (the first one
 * stays dense, as in the paper) and the four 3×3 shapes of ResNet-34 at 224,
 * for P in {1, 2, 4, 8, 16, 32, 64} (P <= in_channels). Each HetConv result
 * names its dense result as baseline, so the JSON carries speedup, MACs
 * ratio and efficiency. Per batch, "vgg16-cifar/total ..." results sum the
 * 13 layers' times and MACs per P (the dense first layer included in every
 * P), with papers.md's FLOPs [calc] of the whole network (classifier
 * included) in their params.
 *
 * A layer's dense conv and HetConv variants are timed round-robin
 * (bench_time_interleaved): on a shared machine a load change then falls on
 * all of them alike instead of on whichever ran at the time.
 *
 * Run time: the default batches are 1 and 32; ResNet-34 runs at the smallest
 * requested batch only (batch 32 at 224×224 takes minutes on a CPU device).
 * Results of large shapes are timed at most SLOW_CASE_ITERATIONS times
 * (fewer with --iterations). Outputs are checked against the CPU reference for the last
 * batch element only (every element at batch 1), which keeps the check to
 * about a minute; the table marks those results with "*". The whole default
 * run takes about 3 minutes on lavapipe with 2 cores.
 *
 * The headline run: four VGG-16 layers, one per stage from 32² to 4² (the
 * marked ones), at batch 32, dense against P = 4 and P = 16, without the
 * totals (whose names mean all 13 layers) and ResNet-34. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench.h"
#include "reference.h"

typedef struct layer_shape {
    const char *label;
    uint32_t c_in, c_out, size;
    int headline;
} layer_shape;

static const layer_shape vgg16_cifar[] = {
    {"conv1", 3, 64, 32, 0},     {"conv2", 64, 64, 32, 1},    {"conv3", 64, 128, 16, 0},
    {"conv4", 128, 128, 16, 1},  {"conv5", 128, 256, 8, 0},   {"conv6", 256, 256, 8, 0},
    {"conv7", 256, 256, 8, 1},   {"conv8", 256, 512, 4, 0},   {"conv9", 512, 512, 4, 0},
    {"conv10", 512, 512, 4, 1},  {"conv11", 512, 512, 2, 0},  {"conv12", 512, 512, 2, 0},
    {"conv13", 512, 512, 2, 0},
};
#define VGG_LAYERS (sizeof vgg16_cifar / sizeof vgg16_cifar[0])

static const layer_shape resnet34[] = {
    {"conv2_x 56x56", 64, 64, 56, 0},
    {"conv3_x 28x28", 128, 128, 28, 0},
    {"conv4_x 14x14", 256, 256, 14, 0},
    {"conv5_x 7x7", 512, 512, 7, 0},
};
#define RESNET_LAYERS (sizeof resnet34 / sizeof resnet34[0])

static const uint32_t parts[] = {1, 2, 4, 8, 16, 32, 64};
#define PART_COUNT (sizeof parts / sizeof parts[0])
static const int part_in_headline[PART_COUNT] = {0, 0, 1, 0, 1, 0, 0};
/* papers.md §1, VGG-16 on CIFAR-10, "FLOPs [calc]" in millions, per P. */
static const double vgg16_paper_mflops[PART_COUNT] = {313.46, 175.05, 105.85, 71.24,
                                                      53.94, 45.29, 40.97};

static const uint32_t hetconv_default_batches[] = {1, 32};
static const uint32_t hetconv_headline_batches[] = {32};

/* Whether the run times part slot `slot` (0: dense) of a layer with `c_in`
 * inputs, `has_het` 0 for VGG's first layer, which stays dense. */
static int slot_runs(const bench_run *run, uint32_t slot, uint32_t c_in, int has_het)
{
    if (slot == 0)
        return 1;
    return has_het && parts[slot - 1] <= c_in &&
           (!bench_headline(run) || part_in_headline[slot - 1]);
}

static int layer_runs(const bench_run *run, const layer_shape *l)
{
    return !bench_headline(run) || l->headline;
}

/* Timed runs per result at most for shapes whose dense conv has more than
 * SLOW_CASE_MACS multiply-accumulates: a batch-32 VGG layer takes up to 0.3 s
 * per run on lavapipe, and the suite runs 8 variants of each shape. */
#define SLOW_CASE_ITERATIONS 5u
#define SLOW_CASE_MACS 200000000u

/* One variant (dense baseline when part is 0) of a layer: its desc,
 * host weights and device layer. */
typedef struct variant {
    uint32_t part;
    evk_conv2d_desc conv;
    evk_hetconv_desc het;
    float *weight, *bias;
    evk_layer *layer;
} variant;

/* A layer shape at a batch size: the input and output every variant uses. */
typedef struct shape_run {
    const layer_shape *shape;
    evk_shape in_shape, out_shape;
    float *input, *output, *expected;
    evk_tensor *in, *out;
} shape_run;

/* Times and MACs summed over a model's layers, per variant (0 dense). */
typedef struct totals {
    bench_result sum[PART_COUNT + 1];
} totals;

static void variant_free(variant *v)
{
    evk_layer_destroy(v->layer);
    free(v->weight);
    free(v->bias);
}

static void shape_run_free(shape_run *s)
{
    evk_tensor_destroy(s->in);
    evk_tensor_destroy(s->out);
    free(s->input);
    free(s->output);
    free(s->expected);
}

/* Dense weights, or masked HetConv weights with zeros outside the pattern,
 * scaled by 1/sqrt(fan-in) so that outputs are of unit size. */
static evk_status make_variant(const layer_shape *l, uint32_t part, bench_rng *rng, variant *v)
{
    uint64_t taps = (uint64_t)l->c_out * l->c_in * 9;
    v->part = part;
    v->weight = malloc(taps * sizeof(float));
    v->bias = malloc(l->c_out * sizeof(float));
    if (!v->weight || !v->bias)
        return bench_out_of_memory(l->label);
    uint32_t fan_in = part ? l->c_in / part * 9 + l->c_in - l->c_in / part : l->c_in * 9;
    bench_fill_uniform(rng, v->weight, taps, sqrtf(3.0f / (float)fan_in));
    bench_fill_uniform(rng, v->bias, l->c_out, 0.1f);
    for (uint64_t t = 0; part && t < taps; ++t) {
        uint32_t o = (uint32_t)(t / (l->c_in * 9u)), i = (uint32_t)(t / 9 % l->c_in);
        if (i % part != o % part && t % 9 != 4)
            v->weight[t] = 0.0f;
    }
    v->conv = (evk_conv2d_desc){.in_channels = l->c_in, .out_channels = l->c_out, .kernel_h = 3,
                                .kernel_w = 3, .pad_h = 1, .pad_w = 1, .weight = v->weight,
                                .weight_count = taps, .bias = v->bias, .bias_count = l->c_out};
    v->het = (evk_hetconv_desc){.in_channels = l->c_in, .out_channels = l->c_out,
                                .kernel_size = 3, .part = part ? part : 1, .weight = v->weight,
                                .weight_count = taps, .bias = v->bias, .bias_count = l->c_out};
    return EVK_SUCCESS;
}

static evk_status prepare_shape(bench_run *run, const layer_shape *l, uint32_t batch,
                                bench_rng *rng, shape_run *s)
{
    s->shape = l;
    s->in_shape = (evk_shape){batch, l->c_in, l->size, l->size};
    s->out_shape = (evk_shape){batch, l->c_out, l->size, l->size};
    uint64_t in_count = evk_shape_elements(s->in_shape), out_count = evk_shape_elements(s->out_shape);
    s->input = malloc(in_count * sizeof(float));
    s->output = malloc(out_count * sizeof(float));
    s->expected = malloc(out_count * sizeof(float));
    if (!s->input || !s->output || !s->expected)
        return bench_out_of_memory(l->label);
    bench_fill_uniform(rng, s->input, in_count, 1.0f);
    evk_context *ctx = bench_context(run);
    evk_status st = bench_check(run, evk_tensor_create(ctx, s->in_shape, &s->in), l->label);
    if (st == EVK_SUCCESS)
        st = bench_check(run, evk_tensor_create(ctx, s->out_shape, &s->out), l->label);
    if (st == EVK_SUCCESS)
        st = bench_check(run, evk_tensor_upload(s->in, s->input, in_count), l->label);
    return st;
}

typedef struct forward_args {
    evk_layer *layer;
    shape_run *shape;
} forward_args;

static evk_status forward(void *user_data)
{
    forward_args *a = user_data;
    return evk_layer_forward(a->layer, a->shape->in, a->shape->out);
}

/* Checks the last batch element against the reference (all of batch 1). */
static evk_status verify(bench_run *run, const variant *v, shape_run *s, bench_result *result)
{
    uint64_t out_count = evk_shape_elements(s->out_shape);
    evk_status st = bench_check(run, evk_tensor_download(s->out, s->output, out_count),
                                result->name);
    if (st != EVK_SUCCESS)
        return st;
    evk_shape one = s->in_shape;
    one.n = 1;
    uint64_t per_out = out_count / s->out_shape.n, last = s->out_shape.n - 1;
    const float *x = s->input + last * evk_shape_elements(one);
    if (v->part)
        evk_ref_hetconv(&v->het, one, x, s->expected);
    else
        evk_ref_conv2d(&v->conv, one, x, s->expected);
    bench_check_output(run, result, s->output + last * per_out, s->expected, per_out, out_count);
    return EVK_SUCCESS;
}

static void describe(const char *model, const shape_run *s, const variant *v, bench_result *result)
{
    uint32_t batch = s->in_shape.n;
    result->suite = "hetconv";
    result->op = v->part ? "hetconv" : "conv2d";
    if (v->part)
        snprintf(result->name, sizeof result->name, "%s/%s P=%u b%u", model, s->shape->label,
                 v->part, batch);
    else
        snprintf(result->name, sizeof result->name, "%s/%s dense b%u", model, s->shape->label,
                 batch);
    result->shape = (bench_shape){batch, s->shape->c_in, s->shape->size, s->shape->size,
                                  s->shape->c_out, 3, 1};
}

/* Describes the variant, computes its cost and creates its layer. */
static evk_status prepare_variant(bench_run *run, const char *model, shape_run *s, variant *v,
                                  bench_result *result)
{
    evk_context *ctx = bench_context(run);
    describe(model, s, v, result);
    uint64_t params = 0;
    evk_status st = v->part ? evk_hetconv_cost(&v->het, s->in_shape, &result->macs, &params)
                            : evk_conv2d_cost(&v->conv, s->in_shape, &result->macs, &params);
    st = bench_check(run, st, result->name);
    if (st == EVK_SUCCESS)
        st = bench_check(run, v->part ? evk_hetconv_create(ctx, &v->het, &v->layer)
                                      : evk_conv2d_create(ctx, &v->conv, &v->layer), result->name);
    result->bytes = (evk_shape_elements(s->in_shape) + evk_shape_elements(s->out_shape) + params) *
                    sizeof(float);
    return st;
}

/* Checks the timed variant's output and records its result. */
static evk_status finish_variant(bench_run *run, variant *v, shape_run *s, const char *baseline,
                                 bench_result *result)
{
    evk_status st = evk_layer_forward(v->layer, s->in, s->out);
    st = bench_check(run, st, result->name);
    if (st == EVK_SUCCESS)
        st = verify(run, v, s, result);
    if (st != EVK_SUCCESS)
        return st;
    snprintf(result->kernel, sizeof result->kernel, "%s", evk_layer_kernel_name(v->layer));
    snprintf(result->baseline, sizeof result->baseline, "%s", baseline);
    bench_param_text(result, "kernel", result->kernel);
    if (v->part)
        bench_param_number(result, "part", v->part);
    return bench_add_result(run, result);
}

/* The variants of one layer: the dense one first, then every P it admits. */
typedef struct layer_variants {
    variant v[PART_COUNT + 1];
    bench_result result[PART_COUNT + 1];
    forward_args args[PART_COUNT + 1];
    uint32_t slot[PART_COUNT + 1];
    uint32_t count;
} layer_variants;

static evk_status prepare_variants(bench_run *run, const char *model, shape_run *s, int has_het,
                                   bench_rng *rng, layer_variants *lv)
{
    evk_status st = EVK_SUCCESS;
    for (uint32_t slot = 0; st == EVK_SUCCESS && slot <= PART_COUNT; ++slot) {
        if (!slot_runs(run, slot, s->shape->c_in, has_het))
            continue;
        uint32_t i = lv->count++;
        lv->slot[i] = slot;
        st = make_variant(s->shape, slot ? parts[slot - 1] : 0, rng, &lv->v[i]);
        if (st == EVK_SUCCESS)
            st = prepare_variant(run, model, s, &lv->v[i], &lv->result[i]);
        lv->args[i] = (forward_args){lv->v[i].layer, s};
    }
    return st;
}

/* Times the variants round-robin (bench_time_interleaved), checks and
 * records each, and adds it to the totals: the dense one to slot 0 (and to
 * every slot for a layer that has no HetConv), the others to their part's
 * slot. */
static evk_status measure_variants(bench_run *run, shape_run *s, int has_het,
                                   const char *baseline, layer_variants *lv, totals *t)
{
    void *users[PART_COUNT + 1];
    bench_result *results[PART_COUNT + 1];
    for (uint32_t i = 0; i < lv->count; ++i) {
        users[i] = &lv->args[i];
        results[i] = &lv->result[i];
    }
    const bench_shape *b = &lv->result[0].shape;
    uint64_t dense_macs = (uint64_t)b->n * b->h * b->w * b->c_in * b->c_out * 9;
    evk_status st = bench_time_interleaved(run, forward, users, results, lv->count,
                                           dense_macs > SLOW_CASE_MACS ? SLOW_CASE_ITERATIONS
                                                                       : UINT32_MAX);
    for (uint32_t i = 0; st == EVK_SUCCESS && i < lv->count; ++i) {
        uint32_t slot = lv->slot[i];
        st = finish_variant(run, &lv->v[i], s, slot ? baseline : "", &lv->result[i]);
        for (uint32_t k = 0; st == EVK_SUCCESS && k <= PART_COUNT; ++k)
            if (k == slot || (!has_het && slot == 0))
                bench_accumulate(&t->sum[k], &lv->result[i]);
    }
    return st;
}

/* The dense result, then every P the layer admits, timed together. `has_het`
 * is 0 for the first VGG layer, which stays dense. */
static evk_status run_layer(bench_run *run, const char *model, const layer_shape *l,
                            uint32_t batch, int has_het, totals *t)
{
    shape_run s = {0};
    layer_variants lv = {0};
    bench_rng rng = bench_rng_seeded(0x4e7c0000u + l->c_in * 1000u + l->size);
    evk_status st = prepare_shape(run, l, batch, &rng, &s);
    char baseline[BENCH_NAME_SIZE];
    snprintf(baseline, sizeof baseline, "%s/%s dense b%u", model, l->label, batch);
    if (st == EVK_SUCCESS)
        st = prepare_variants(run, model, &s, has_het, &rng, &lv);
    if (st == EVK_SUCCESS)
        st = measure_variants(run, &s, has_het, baseline, &lv, t);
    for (uint32_t i = 0; i < lv.count; ++i)
        variant_free(&lv.v[i]);
    shape_run_free(&s);
    return st;
}

/* "vgg16-cifar/total dense bN" and "vgg16-cifar/total P=… bN". */
static evk_status add_vgg_totals(bench_run *run, uint32_t batch, totals *t)
{
    char baseline[BENCH_NAME_SIZE];
    snprintf(baseline, sizeof baseline, "vgg16-cifar/total dense b%u", batch);
    evk_status st = EVK_SUCCESS;
    for (uint32_t slot = 0; st == EVK_SUCCESS && slot <= PART_COUNT; ++slot) {
        bench_result *r = &t->sum[slot];
        r->suite = "hetconv";
        r->op = slot ? "hetconv" : "conv2d";
        r->shape = (bench_shape){batch, 3, 32, 32, 512, 3, 1};
        snprintf(r->kernel, sizeof r->kernel, "%s", slot ? "hetconv" : "conv2d_dense");
        if (slot) {
            snprintf(r->name, sizeof r->name, "vgg16-cifar/total P=%u b%u", parts[slot - 1], batch);
            snprintf(r->baseline, sizeof r->baseline, "%s", baseline);
            bench_param_number(r, "part", parts[slot - 1]);
        } else {
            snprintf(r->name, sizeof r->name, "%s", baseline);
        }
        bench_param_number(r, "layers", VGG_LAYERS);
        bench_param_number(r, "conv_macs_per_image", (double)(r->macs / batch));
        bench_param_number(r, "papers_md_mflops", vgg16_paper_mflops[slot ? slot - 1 : 0]);
        st = bench_add_result(run, r);
    }
    return st;
}

static evk_status run_hetconv(bench_run *run)
{
    uint32_t batch_count;
    const uint32_t *batches = bench_batches(run, &batch_count);
    evk_status st = EVK_SUCCESS;
    for (uint32_t b = 0; st == EVK_SUCCESS && b < batch_count; ++b) {
        totals t = {0};
        for (size_t l = 0; st == EVK_SUCCESS && l < VGG_LAYERS; ++l)
            if (layer_runs(run, &vgg16_cifar[l]))
                st = run_layer(run, "vgg16-cifar", &vgg16_cifar[l], batches[b], l > 0, &t);
        if (st == EVK_SUCCESS && !bench_headline(run))
            st = add_vgg_totals(run, batches[b], &t);
    }
    if (bench_headline(run))
        return st;
    uint32_t smallest = batches[0];
    for (uint32_t b = 1; b < batch_count; ++b)
        smallest = batches[b] < smallest ? batches[b] : smallest;
    for (size_t l = 0; st == EVK_SUCCESS && l < RESNET_LAYERS; ++l) {
        totals unused = {0};
        st = run_layer(run, "resnet34", &resnet34[l], smallest, 1, &unused);
    }
    return st;
}

static uint32_t layer_results(const bench_run *run, const layer_shape *l, int has_het)
{
    uint32_t count = 0;
    for (uint32_t slot = 0; slot <= PART_COUNT; ++slot)
        count += slot_runs(run, slot, l->c_in, has_het);
    return count;
}

static uint32_t count_hetconv(const bench_run *run)
{
    uint32_t batch_count, per_batch = 0, resnet = 0;
    bench_batches(run, &batch_count);
    for (size_t l = 0; l < VGG_LAYERS; ++l)
        if (layer_runs(run, &vgg16_cifar[l]))
            per_batch += layer_results(run, &vgg16_cifar[l], l > 0);
    if (bench_headline(run))
        return per_batch * batch_count;
    for (size_t l = 0; l < RESNET_LAYERS; ++l)
        resnet += layer_results(run, &resnet34[l], 1);
    return (per_batch + PART_COUNT + 1) * batch_count + resnet;
}

const bench_suite bench_suite_hetconv = {
    .name = "hetconv",
    .default_batches = hetconv_default_batches,
    .default_batch_count = sizeof hetconv_default_batches / sizeof hetconv_default_batches[0],
    .headline_batches = hetconv_headline_batches,
    .headline_batch_count = sizeof hetconv_headline_batches / sizeof hetconv_headline_batches[0],
    .run = run_hetconv,
    .count_results = count_hetconv,
};
