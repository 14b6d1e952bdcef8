/* The models suite: whole networks, random weights made in memory (no
 * files), loaded with evk_model_load_memory and timed with evk_model_forward
 * on device tensors, the GPU time from the timestamps around its one
 * submission.
 *
 * Per network and batch, "<model> bN" holds latency (gpu_ms_median,
 * wall_ms_median: the forward's submit and wait, no upload or download),
 * MACs (evk_model_stats, the whole batch), bytes (input, output and weights
 * once) and in params: model, batch, resolution, images_per_s (from the
 * median wall time), gpu_images_per_s, parameters, device_mib (all device
 * memory the context holds after the forward: weights, planned activations,
 * the MBConv scratch, input and output; nothing else is alive then),
 * and activation_mib (the liveness plan). The untimed warm-up forward
 * plans, records and (on lavapipe) compiles the shaders.
 *
 * Outputs are not checked here: a whole network's CPU reference takes
 * longer than the suite, and tests/test_model.c (B0 against the CPU
 * reference), the torch_efficientnet_* tests (B0, B1, B5 against PyTorch)
 * and torch_resnet50 check the same forward. The JSON's errors are null.
 *
 * Defaults keep the suite near four minutes on lavapipe with 2 cores:
 * B0-B3 at batch 1 and 8, B4-B7 and ResNet-50 at batch 1, fewer timed runs
 * the bigger the network. A network is one entry of `networks` with its
 * state_dict writer; write_from_specs covers every architecture of plain convs,
 * MBConv blocks, pools, adds and linear layers (EfficientNet, torchvision's
 * ResNets). The HetConv and OctConv nets of host/model/nets.h need it to
 * learn HetConv weights zero outside each filter's kernel taps and
 * OctConv's four paths. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "efficientnet.h"

/* The state_dict being written: a safetensors header and the data. */
typedef struct weights_file {
    char *header;
    size_t header_length, header_capacity;
    float *data;
    size_t data_count, data_capacity;
    bench_rng rng;
    int failed;                     /* an allocation failed */
} weights_file;

typedef evk_status (*write_weights_fn)(const char *model, weights_file *file);

typedef struct network {
    const char *model;              /* evk_model_load's name */
    write_weights_fn write_weights;
    uint32_t batches[2];            /* default batch sizes; 0 ends the list */
    uint32_t max_iterations;        /* timed runs at most (--iterations may lower it) */
} network;

static evk_status write_from_specs(const char *model, weights_file *file);

static const network networks[] = {
    {"efficientnet-b0", write_from_specs, {1, 8}, 10},
    {"efficientnet-b1", write_from_specs, {1, 8}, 5},
    {"efficientnet-b2", write_from_specs, {1, 8}, 5},
    {"efficientnet-b3", write_from_specs, {1, 8}, 3},
    {"efficientnet-b4", write_from_specs, {1, 0}, 3},
    {"efficientnet-b5", write_from_specs, {1, 0}, 3},
    {"efficientnet-b6", write_from_specs, {1, 0}, 2},
    {"efficientnet-b7", write_from_specs, {1, 0}, 2},
    {"resnet50", write_from_specs, {1, 0}, 3},
};

/* Only as a list of batch sizes for bench.c; each network's own defaults
 * above apply when the user gives no --batch. */
static const uint32_t models_default_batches[] = {1, 8};

/* ---- Random state_dicts in memory. */

static int reserve(void **buffer, size_t *capacity, size_t needed, size_t element)
{
    if (needed <= *capacity)
        return 0;
    size_t grown = *capacity ? *capacity : 4096;
    while (grown < needed)
        grown *= 2;
    void *bigger = realloc(*buffer, grown * element);
    if (!bigger)
        return -1;
    *buffer = bigger;
    *capacity = grown;
    return 0;
}

static void append_header(weights_file *f, const char *text)
{
    size_t length = strlen(text);
    if (f->failed || reserve((void **)&f->header, &f->header_capacity,
                             f->header_length + length + 1, 1) != 0) {
        f->failed = 1;
        return;
    }
    memcpy(f->header + f->header_length, text, length + 1);
    f->header_length += length;
}

/* Appends an F32 tensor, uniform in [lo, hi). */
static void add_tensor(weights_file *f, const char *name, uint32_t rank, const uint64_t *dims,
                       float lo, float hi)
{
    uint64_t count = 1;
    char entry[320], shape[96] = "";
    for (uint32_t i = 0; i < rank; ++i) {
        count *= dims[i];
        size_t used = strlen(shape);
        snprintf(shape + used, sizeof shape - used, "%s%llu", i ? "," : "",
                 (unsigned long long)dims[i]);
    }
    if (f->failed || reserve((void **)&f->data, &f->data_capacity, f->data_count + count,
                             sizeof *f->data) != 0) {
        f->failed = 1;
        return;
    }
    float *values = f->data + f->data_count;
    bench_fill_uniform(&f->rng, values, count, 0.5f * (hi - lo));
    for (uint64_t i = 0; i < count; ++i)
        values[i] += 0.5f * (hi + lo);
    snprintf(entry, sizeof entry, "%s\"%s\":{\"dtype\":\"F32\",\"shape\":[%s],"
             "\"data_offsets\":[%llu,%llu]}", f->header_length > 1 ? "," : "", name, shape,
             (unsigned long long)(f->data_count * 4), (unsigned long long)((f->data_count + count) * 4));
    append_header(f, entry);
    f->data_count += count;
}

/* Weights scaled to keep activations of unit order through deep networks
 * (as tests/torch/make_efficientnet_case.py does). */
#define WEIGHT_GAIN 1.25f

static void add_weight(weights_file *f, const char *name, uint32_t rank, const uint64_t *dims)
{
    uint64_t fan_in = 1;
    for (uint32_t i = 1; i < rank; ++i)
        fan_in *= dims[i];
    float bound = WEIGHT_GAIN * sqrtf(3.0f / (float)fan_in);
    add_tensor(f, name, rank, dims, -bound, bound);
}

static void add_vector(weights_file *f, const char *prefix, const char *suffix, uint64_t n,
                       float lo, float hi)
{
    char name[192];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    add_tensor(f, name, 1, &n, lo, hi);
}

/* torchvision's Conv2dNormActivation: prefix.0 conv, prefix.1 BatchNorm. */
static void add_conv_bn(weights_file *f, const char *prefix, uint64_t out, uint64_t in_per_group,
                        uint64_t k)
{
    char name[160];
    uint64_t dims[4] = {out, in_per_group, k, k};
    snprintf(name, sizeof name, "%s.0.weight", prefix);
    add_weight(f, name, 4, dims);
    snprintf(name, sizeof name, "%s.1", prefix);
    add_vector(f, name, ".weight", out, 0.5f, 1.5f);
    add_vector(f, name, ".bias", out, -0.3f, 0.3f);
    add_vector(f, name, ".running_mean", out, -0.3f, 0.3f);
    add_vector(f, name, ".running_var", out, 0.5f, 1.5f);
}

static void add_squeeze_excitation(weights_file *f, const char *prefix, uint64_t e, uint64_t s)
{
    char name[160];
    uint64_t fc1[4] = {s, e, 1, 1}, fc2[4] = {e, s, 1, 1};
    snprintf(name, sizeof name, "%s.fc1.weight", prefix);
    add_weight(f, name, 4, fc1);
    add_vector(f, prefix, ".fc1.bias", s, -0.3f, 0.3f);
    snprintf(name, sizeof name, "%s.fc2.weight", prefix);
    add_weight(f, name, 4, fc2);
    add_vector(f, prefix, ".fc2.bias", e, -0.3f, 0.3f);
}

/* features.S.J.block.*: [expand,] depthwise, SE, project. */
static void add_mbconv(weights_file *f, const evk_layer_spec *spec)
{
    char part[96];
    uint32_t index = 0;
    uint64_t e = spec->expanded_channels;
    if (spec->expand_ratio > 1) {
        snprintf(part, sizeof part, "%s.block.%u", spec->prefix, index++);
        add_conv_bn(f, part, e, spec->in_channels, 1);
    }
    snprintf(part, sizeof part, "%s.block.%u", spec->prefix, index++);
    add_conv_bn(f, part, e, 1, spec->kernel);
    snprintf(part, sizeof part, "%s.block.%u", spec->prefix, index++);
    add_squeeze_excitation(f, part, e, spec->squeeze_channels);
    snprintf(part, sizeof part, "%s.block.%u", spec->prefix, index);
    add_conv_bn(f, part, spec->out_channels, e, 1);
}

static void add_linear(weights_file *f, const evk_layer_spec *spec)
{
    char name[160];
    uint64_t dims[2] = {spec->out_channels, spec->in_channels};
    snprintf(name, sizeof name, "%s.weight", spec->prefix);
    add_weight(f, name, 2, dims);
    add_vector(f, spec->prefix, ".bias", spec->out_channels, -0.3f, 0.3f);
}

/* A conv spec: torchvision's Conv2dNormActivation (prefix.0, prefix.1), or
 * prefix.weight with its BatchNorm at bn_prefix (nn.Sequential layers). */
static void add_spec_conv(weights_file *f, const evk_layer_spec *spec)
{
    if (!spec->bn_prefix[0]) {
        add_conv_bn(f, spec->prefix, spec->out_channels, spec->in_channels, spec->kernel);
        return;
    }
    char name[160];
    uint64_t dims[4] = {spec->out_channels, spec->in_channels, spec->kernel, spec->kernel};
    snprintf(name, sizeof name, "%s.weight", spec->prefix);
    add_weight(f, name, 4, dims);
    add_vector(f, spec->bn_prefix, ".weight", spec->out_channels, 0.5f, 1.5f);
    add_vector(f, spec->bn_prefix, ".bias", spec->out_channels, -0.3f, 0.3f);
    add_vector(f, spec->bn_prefix, ".running_mean", spec->out_channels, -0.3f, 0.3f);
    add_vector(f, spec->bn_prefix, ".running_var", spec->out_channels, 0.5f, 1.5f);
}

/* The state_dict of `model` with 1000 classes, from its layer specs:
 * EfficientNet-B0..B7 and the dense nets of nets.h. */
static evk_status write_from_specs(const char *model, weights_file *f)
{
    evk_arch arch;
    evk_status s = evk_arch_get(NULL, model, 1000, 0, 0.0f, &arch);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < arch.count; ++i) {
        const evk_layer_spec *spec = &arch.layers[i];
        if (spec->kind == EVK_KIND_CONV)
            add_spec_conv(f, spec);
        else if (spec->kind == EVK_KIND_MBCONV)
            add_mbconv(f, spec);
        else if (spec->kind == EVK_KIND_LINEAR)
            add_linear(f, spec);
        else if (spec->kind == EVK_KIND_HETCONV || spec->kind == EVK_KIND_OCTCONV)
            s = EVK_ERROR_UNSUPPORTED;  /* see the top of this file */
    }
    return s;
}

/* The whole .safetensors file: length, header, data. */
static unsigned char *weights_bytes(weights_file *f, size_t *size)
{
    append_header(f, "}");
    if (f->failed)
        return NULL;
    size_t data_bytes = f->data_count * sizeof *f->data;
    *size = 8 + f->header_length + data_bytes;
    unsigned char *bytes = malloc(*size);
    if (!bytes)
        return NULL;
    for (int i = 0; i < 8; ++i)
        bytes[i] = (unsigned char)((uint64_t)f->header_length >> (8 * i));
    memcpy(bytes + 8, f->header, f->header_length);
    memcpy(bytes + 8 + f->header_length, f->data, data_bytes);
    return bytes;
}

/* Loads `net` with fresh random weights. */
static evk_status load_random(bench_run *run, const network *net, uint32_t batch,
                              evk_model **model)
{
    weights_file file = {.rng = bench_rng_seeded(0x6d6f64656c73u)};
    append_header(&file, "{");
    evk_status s = bench_check(run, net->write_weights(net->model, &file), net->model);
    size_t size = 0;
    unsigned char *bytes = s == EVK_SUCCESS ? weights_bytes(&file, &size) : NULL;
    free(file.header);
    free(file.data);
    if (s != EVK_SUCCESS)
        return s;
    if (!bytes)
        return bench_out_of_memory(net->model);
    evk_model_options opts = {.batch = batch};
    s = bench_check(run, evk_model_load_memory(bench_context(run), net->model, bytes, size,
                                               &opts, model), net->model);
    free(bytes);
    return s;
}

/* ---- Timing. */

typedef struct model_run {
    evk_model *model;
    evk_tensor *input, *output;
} model_run;

static evk_status forward(void *user_data)
{
    model_run *r = user_data;
    return evk_model_forward(r->model, r->input, r->output);
}

static evk_status make_tensors(bench_run *run, model_run *r)
{
    evk_shape in, out;
    evk_model_input_shape(r->model, &in);
    evk_model_output_shape(r->model, &out);
    evk_context *ctx = bench_context(run);
    evk_status s = bench_check(run, evk_tensor_create(ctx, in, &r->input), "model input");
    if (s == EVK_SUCCESS)
        s = bench_check(run, evk_tensor_create(ctx, out, &r->output), "model output");
    uint64_t count = evk_shape_elements(in);
    float *x = s == EVK_SUCCESS ? malloc(count * sizeof *x) : NULL;
    if (s == EVK_SUCCESS && !x)
        return bench_out_of_memory("model input");
    if (x) {
        bench_rng rng = bench_rng_seeded(224);
        bench_fill_uniform(&rng, x, count, 2.0f);
        s = bench_check(run, evk_tensor_upload(r->input, x, count), "model input upload");
    }
    free(x);
    return s;
}

static void describe(const network *net, const model_run *r, bench_result *result)
{
    evk_model_stats st;
    evk_shape in, out;
    evk_model_stats_get(r->model, &st);
    evk_model_input_shape(r->model, &in);
    evk_model_output_shape(r->model, &out);
    result->shape = (bench_shape){.n = in.n, .c_in = in.c, .h = in.h, .w = in.w, .c_out = out.c};
    result->macs = st.macs;
    result->bytes = 4 * (evk_shape_elements(in) + evk_shape_elements(out) + st.params);
    bench_param_text(result, "model", net->model);
    bench_param_number(result, "batch", in.n);
    bench_param_number(result, "resolution", in.h);
    bench_param_number(result, "images_per_s", 1e3 * in.n / result->wall_ms_median);
    bench_param_number(result, "gpu_images_per_s", 1e3 * in.n / result->gpu_ms_median);
    bench_param_number(result, "parameters", (double)st.params);
    bench_param_number(result, "device_mib", (double)st.context_device_bytes / 1048576.0);
    bench_param_number(result, "activation_mib", (double)st.activation_bytes / 1048576.0);
}

static evk_status run_network(bench_run *run, const network *net, uint32_t batch)
{
    bench_result result = {.suite = "models", .op = "model"};
    snprintf(result.name, sizeof result.name, "%s b%u", net->model, batch);
    snprintf(result.kernel, sizeof result.kernel, "%s", net->model);
    model_run r = {0};
    evk_status s = load_random(run, net, batch, &r.model);
    if (s == EVK_SUCCESS)
        s = make_tensors(run, &r);
    if (s == EVK_SUCCESS)
        s = bench_time_at_most(run, forward, &r, net->max_iterations, &result);
    if (s == EVK_SUCCESS) {
        describe(net, &r, &result);
        s = bench_add_result(run, &result);
    }
    evk_tensor_destroy(r.input);
    evk_tensor_destroy(r.output);
    evk_model_destroy(r.model);
    return s;
}

/* The user's --batch list, else the network's own. */
static evk_status run_models(bench_run *run)
{
    uint32_t user_count;
    const uint32_t *user = bench_batches(run, &user_count);
    int user_given = user != models_default_batches;
    evk_status s = EVK_SUCCESS;
    for (size_t i = 0; s == EVK_SUCCESS && i < sizeof networks / sizeof networks[0]; ++i) {
        const network *net = &networks[i];
        const uint32_t *batches = user_given ? user : net->batches;
        uint32_t count = user_given ? user_count : (net->batches[1] ? 2 : 1);
        for (uint32_t b = 0; s == EVK_SUCCESS && b < count; ++b)
            s = run_network(run, net, batches[b]);
    }
    return s;
}

const bench_suite bench_suite_models = {
    .name = "models",
    .default_batches = models_default_batches,
    .default_batch_count = sizeof models_default_batches / sizeof models_default_batches[0],
    .run = run_models,
};
