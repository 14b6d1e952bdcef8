/* The models suite's random weights: a state_dict made in memory for a
 * built-in network, as a .safetensors image, and the network loaded from it
 * with evk_model_load_memory. The state_dict holds the tensors the
 * library's state_dict layout lists for the architecture's layer specs,
 * under the names the model builder reads (1000 classes); HetConv's masked
 * dense weights are zero outside each filter's kept taps. The values are
 * the same in every run (a fixed seed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_models_weights.h"
#include "effvk_internal.h"

/* The state_dict being written: a safetensors header and the data. */
typedef struct weights_file {
    char *header;
    size_t header_length, header_capacity;
    float *data;
    size_t data_count, data_capacity;
    bench_rng rng;
    int failed;                     /* an allocation failed */
} weights_file;

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

/* Appends an F32 tensor, uniform in [lo, hi); returns its values (valid
 * until the next tensor), NULL after an allocation failure. */
static float *add_tensor(weights_file *f, const char *name, uint32_t rank, const uint64_t *dims,
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
        return NULL;
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
    return values;
}

/* Weights scaled to keep activations of unit order through deep networks
 * (as tests/torch/make_efficientnet_case.py does); `fan_in` counts the
 * taps a filter really has (HetConv keeps fewer than its dense shape). */
#define WEIGHT_GAIN 1.25f

static float *add_weight_fan_in(weights_file *f, const evk_spec_tensor *t, uint64_t fan_in)
{
    float bound = WEIGHT_GAIN * sqrtf(3.0f / (float)fan_in);
    return add_tensor(f, t->key, t->rank, t->shape, -bound, bound);
}

/* Whether HetConv filter `o` of part `p` keeps the whole kernel of input
 * `i` (docs/models.md: (i - o) mod P == 0), else only its centre tap. */
static int hetconv_keeps_kernel(uint32_t i, uint32_t o, uint32_t p) { return i % p == o % p; }

/* The masked dense weight [O][I][K][K], every tap outside a filter's kept
 * ones zero (effvk refuses others). */
static void add_hetconv_weight(weights_file *f, const evk_layer_spec *spec,
                               const evk_spec_tensor *t)
{
    uint32_t in = spec->in_channels, k = spec->kernel, p = spec->part, centre = k / 2 * k + k / 2;
    uint64_t full_kernel_inputs = (in + p - 1) / p;
    uint64_t fan_in = full_kernel_inputs * k * k + (in - full_kernel_inputs);
    float *w = add_weight_fan_in(f, t, fan_in);
    for (uint32_t o = 0; w && o < spec->out_channels; ++o)
        for (uint32_t i = 0; i < in; ++i)
            for (uint32_t tap = 0; tap < k * k; ++tap)
                if (tap != centre && !hetconv_keeps_kernel(i, o, p))
                    w[((uint64_t)o * in + i) * k * k + tap] = 0.0f;
}

/* A HetConv's masked weight; an OctConv path's fan-in is its output's two
 * sources together; any other weight's is its shape past the first axis. */
static void add_weight(weights_file *f, const evk_layer_spec *spec, const evk_spec_tensor *t)
{
    if (spec->kind == EVK_KIND_HETCONV) {
        add_hetconv_weight(f, spec, t);
        return;
    }
    uint64_t fan_in = 1;
    if (spec->kind == EVK_KIND_OCTCONV)
        fan_in = (uint64_t)spec->in_channels * spec->kernel * spec->kernel;
    else
        for (uint32_t i = 1; i < t->rank; ++i)
            fan_in *= t->shape[i];
    add_weight_fan_in(f, t, fan_in);
}

/* The project's BatchNorm scale, a quarter of the other layers': with the
 * same scale, each residual block roughly doubled the stream's variance, so
 * that by B6's and B7's last stages activations reached hundreds, SE gates
 * underflowed to denormals and the project convs multiplying by them ran
 * into the CPU's denormal slow path (lavapipe: B6 1.5 s against 1.0 s with
 * denormals flushed), which neither trained weights nor torchvision's
 * default initialisation (bench/pytorch_cpu.py) produce. With a quarter,
 * B6's stages end at mean |x| 0.2-0.5 and the smallest gate is 0.13. */
#define PROJECT_GAMMA 0.25f

/* Biases, BatchNorm shifts and means uniform in [-0.3, 0.3), BatchNorm
 * scales in [0.5, 1.5) times the layer's gamma, variances in [0.5, 1.5). */
static void add_spec_tensor(weights_file *f, const evk_layer_spec *spec, const evk_spec_tensor *t)
{
    float gamma = t->part == EVK_PART_PROJECT ? PROJECT_GAMMA : 1.0f;
    switch (t->role) {
    case EVK_TENSOR_WEIGHT:
        add_weight(f, spec, t);
        break;
    case EVK_TENSOR_BN_GAMMA:
        add_tensor(f, t->key, t->rank, t->shape, 0.5f * gamma, 1.5f * gamma);
        break;
    case EVK_TENSOR_BN_VAR:
        add_tensor(f, t->key, t->rank, t->shape, 0.5f, 1.5f);
        break;
    case EVK_TENSOR_BIAS:
    case EVK_TENSOR_BN_BETA:
    case EVK_TENSOR_BN_MEAN:
        add_tensor(f, t->key, t->rank, t->shape, -0.3f, 0.3f);
        break;
    }
}

/* The state_dict of `model` with 1000 classes, tensor by tensor as the
 * architecture's state_dict layout lists them. */
static evk_status write_from_specs(const char *model, const evk_model_options *opts,
                                   weights_file *f)
{
    evk_arch arch;
    evk_status s = evk_arch_get(NULL, model, 1000, opts->part, opts->alpha, &arch);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < arch.count; ++i) {
        evk_spec_tensor tensors[EVK_SPEC_MAX_TENSORS];
        uint32_t count = evk_spec_tensors(&arch.layers[i], tensors);
        for (uint32_t t = 0; t < count; ++t)
            add_spec_tensor(f, &arch.layers[i], &tensors[t]);
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

evk_status bench_load_random_weights(bench_run *run, evk_context *ctx, const char *model,
                                     const evk_model_options *opts, evk_model **out)
{
    weights_file file = {.rng = bench_rng_seeded(0x6d6f64656c73u)};
    append_header(&file, "{");
    evk_status s = bench_check(run, write_from_specs(model, opts, &file), model);
    size_t size = 0;
    unsigned char *bytes = s == EVK_SUCCESS ? weights_bytes(&file, &size) : NULL;
    free(file.header);
    free(file.data);
    if (s != EVK_SUCCESS)
        return s;
    if (!bytes)
        return bench_out_of_memory(model);
    s = bench_check(run, evk_model_load_memory(ctx, model, bytes, size, opts, out), model);
    free(bytes);
    return s;
}
