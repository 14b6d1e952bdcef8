/* EfficientNet-B0..B7 with torchvision's structure and state_dict names
 * (torchvision/models/efficientnet.py): features.0 stem, features.1-7 the
 * MBConv stages, features.8 head, avgpool, classifier.1. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "efficientnet.h"
#include "nets.h"
#include "octconv.h"
#include "saturating.h"

typedef struct variant {
    const char *name;
    double width, depth;
    uint32_t resolution;
    float bn_eps;
} variant;

static const variant variants[] = {
    {"efficientnet-b0", 1.0, 1.0, 224, 1e-5f}, {"efficientnet-b1", 1.0, 1.1, 240, 1e-5f},
    {"efficientnet-b2", 1.1, 1.2, 260, 1e-5f}, {"efficientnet-b3", 1.2, 1.4, 300, 1e-5f},
    {"efficientnet-b4", 1.4, 1.8, 380, 1e-5f}, {"efficientnet-b5", 1.6, 2.2, 456, 1e-3f},
    {"efficientnet-b6", 1.8, 2.6, 528, 1e-3f}, {"efficientnet-b7", 2.0, 3.1, 600, 1e-3f},
};

/* B0's stages 1-7 (features.1 .. features.7). */
typedef struct stage {
    uint32_t expand, kernel, stride, in, out, layers;
} stage;

static const stage b0_stages[7] = {
    {1, 3, 1, 32, 16, 1},  {6, 3, 2, 16, 24, 2},  {6, 5, 2, 24, 40, 2},   {6, 3, 2, 40, 80, 3},
    {6, 5, 1, 80, 112, 3}, {6, 5, 2, 112, 192, 4}, {6, 3, 1, 192, 320, 1},
};

/* torchvision's _make_divisible(v, 8): the nearest multiple of 8, at least
 * 8 and not below 90% of v. */
static uint32_t make_divisible(double v)
{
    double rounded = floor((v + 4.0) / 8.0) * 8.0;
    if (rounded < 8.0)
        rounded = 8.0;
    if (rounded < 0.9 * v)
        rounded += 8.0;
    return (uint32_t)rounded;
}

int evk_arch_normal_name(const char *name, char *normal, size_t size)
{
    size_t n = strlen(name);
    if (n >= size)
        return 0;
    for (size_t i = 0; i <= n; ++i)
        normal[i] = name[i] == '_' ? '-' : (char)tolower((unsigned char)name[i]);
    return 1;
}

static const variant *find_variant(const char *normal)
{
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; ++i)
        if (strcmp(normal, variants[i].name) == 0)
            return &variants[i];
    return NULL;
}

evk_layer_spec *evk_arch_add(evk_arch *arch, evk_layer_kind kind, const char *prefix,
                             uint32_t in, uint32_t out)
{
    evk_layer_spec *spec = &arch->layers[arch->count++];
    memset(spec, 0, sizeof *spec);
    spec->kind = kind;
    spec->input = arch->count - 1;
    snprintf(spec->prefix, sizeof spec->prefix, "%s", prefix);
    spec->in_channels = in;
    spec->out_channels = out;
    return spec;
}

/* Appends stage `s` (features.<s + 1>) and returns its output channels. */
static uint32_t add_stage(evk_arch *arch, const variant *v, uint32_t s)
{
    const stage *st = &b0_stages[s];
    uint32_t in = make_divisible(st->in * v->width), out = make_divisible(st->out * v->width);
    uint32_t layers = (uint32_t)ceil(st->layers * v->depth);
    for (uint32_t j = 0; j < layers; ++j) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "features.%u.%u", s + 1, j);
        uint32_t block_in = j ? out : in;
        evk_layer_spec *spec = evk_arch_add(arch, EVK_KIND_MBCONV, prefix, block_in, out);
        spec->kernel = st->kernel;
        spec->stride = j ? 1 : st->stride;
        spec->expand_ratio = st->expand;
        spec->expanded_channels = make_divisible((double)block_in * st->expand);
        spec->squeeze_channels = block_in / 4 ? block_in / 4 : 1;
    }
    return out;
}

static void efficientnet_arch(const variant *v, uint32_t num_classes, evk_arch *arch)
{
    memset(arch, 0, sizeof *arch);
    snprintf(arch->name, sizeof arch->name, "%s", v->name);
    arch->resolution = v->resolution;
    arch->bn_eps = v->bn_eps;
    uint32_t stem = make_divisible(b0_stages[0].in * v->width);
    evk_layer_spec *spec = evk_arch_add(arch, EVK_KIND_CONV, "features.0", 3, stem);
    spec->kernel = 3;
    spec->stride = 2;
    spec->activation = EVK_ACTIVATION_SILU;
    uint32_t channels = stem;
    for (uint32_t s = 0; s < 7; ++s)
        channels = add_stage(arch, v, s);
    spec = evk_arch_add(arch, EVK_KIND_CONV, "features.8", channels, 4 * channels);
    spec->kernel = spec->stride = 1;
    spec->activation = EVK_ACTIVATION_SILU;
    evk_arch_add(arch, EVK_KIND_POOL, "avgpool", 4 * channels, 4 * channels);
    evk_arch_add(arch, EVK_KIND_LINEAR, "classifier.1", 4 * channels, num_classes);
}

evk_status evk_arch_get(evk_context *ctx, const char *name, uint32_t num_classes, uint32_t part,
                        double alpha, evk_arch *arch)
{
    char normal[32];
    if (!name || !evk_arch_normal_name(name, normal, sizeof normal))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "unknown model '%s' (known: "
                        "efficientnet-b0 to efficientnet-b7, %s)", name ? name : "(null)",
                        evk_nets_known);
    const variant *v = find_variant(normal);
    if (!v)
        return evk_nets_arch(ctx, normal, num_classes, part, alpha, arch);
    efficientnet_arch(v, num_classes, arch);
    return EVK_SUCCESS;
}

const char *evk_layer_kind_name(evk_layer_kind kind)
{
    static const char *names[] = {"conv2d", "mbconv", "global_avg_pool", "linear", "hetconv",
                                  "max_pool", "add", "octconv"};
    return names[kind];
}

static uint32_t strided(uint32_t size, uint32_t stride)
{
    return (size - 1) / stride + 1;
}

static void mbconv_cost(const evk_layer_spec *sp, evk_shape in, evk_shape out, uint64_t *macs,
                        uint64_t *params)
{
    uint64_t e = sp->expanded_channels, sq = sp->squeeze_channels;
    uint64_t kk = (uint64_t)sp->kernel * sp->kernel;
    uint64_t expand = sp->expand_ratio > 1 ? e * sp->in_channels : 0;
    uint64_t in_plane = EVK_PRODUCT(in.n, in.h, in.w), out_plane = EVK_PRODUCT(out.n, out.h, out.w);
    *macs = EVK_SUM(EVK_PRODUCT(in_plane, expand), EVK_PRODUCT(out_plane, e, kk + sp->out_channels),
                    EVK_PRODUCT(in.n, 2, e, sq));
    *params = (expand ? expand + 2 * e : 0) + e * kk + 2 * e + 2 * e * sq + sq + e +
              e * sp->out_channels + 2 * sp->out_channels;
}

/* Weights per HetConv filter summed over the filters (papers.md §1): filter
 * o has n_o K×K kernels, the inputs i with (i − o) mod P == 0, and M − n_o
 * centre taps. */
static uint64_t hetconv_weights(const evk_layer_spec *sp)
{
    uint64_t m = sp->in_channels, p = sp->part, kk = (uint64_t)sp->kernel * sp->kernel, sum = 0;
    for (uint64_t o = 0; o < sp->out_channels; ++o) {
        uint64_t wide = m / p + (o % p < m % p);
        sum += wide * kk + (m - wide);
    }
    return sum;
}

static uint32_t half_up(uint32_t size)
{
    return size / 2 + size % 2;
}

/* As evk_octconv_cost counts (papers.md §2, the official stride-2 handling):
 * each path at the size it runs at, BatchNorm 2 per channel. */
static void octconv_cost(const evk_layer_spec *sp, evk_shape in, evk_shape out, uint64_t *macs,
                         uint64_t *params)
{
    uint64_t in_low = evk_octconv_low_channels(sp->alpha_in, sp->in_channels);
    uint64_t out_low = evk_octconv_low_channels(sp->alpha_out, sp->out_channels);
    uint64_t in_high = sp->in_channels - in_low, out_high = sp->out_channels - out_low;
    uint64_t kk = (uint64_t)sp->kernel * sp->kernel;
    uint64_t high_px = EVK_PRODUCT(out.n, out.h, out.w);
    uint64_t low_px = EVK_PRODUCT(out.n, half_up(out.h), half_up(out.w));
    uint64_t x_low_px = EVK_PRODUCT(in.n, half_up(in.h), half_up(in.w));
    uint64_t lh_px = sp->stride == 2 ? high_px : x_low_px;
    *macs = EVK_PRODUCT(kk, EVK_SUM(EVK_PRODUCT(high_px, out_high, in_high),
                                    EVK_PRODUCT(lh_px, out_high, in_low),
                                    EVK_PRODUCT(low_px, out_low, in_high + in_low)));
    *params = kk * sp->out_channels * sp->in_channels + 2 * sp->out_channels;
}

void evk_layer_spec_cost(const evk_layer_spec *sp, evk_shape in, evk_shape *out, uint64_t *macs,
                         uint64_t *params)
{
    uint64_t c_in = sp->in_channels, c_out = sp->out_channels;
    *out = (evk_shape){in.n, sp->out_channels, strided(in.h, sp->stride ? sp->stride : 1),
                       strided(in.w, sp->stride ? sp->stride : 1)};
    uint64_t out_plane = EVK_PRODUCT(out->n, out->h, out->w);
    uint64_t kk = (uint64_t)sp->kernel * sp->kernel;
    switch (sp->kind) {
    case EVK_KIND_CONV:
        *macs = EVK_PRODUCT(out_plane, c_out, c_in, kk);
        *params = c_out * c_in * kk + 2 * c_out;
        break;
    case EVK_KIND_HETCONV:
        *params = hetconv_weights(sp);
        *macs = EVK_PRODUCT(out_plane, *params);
        *params += 2 * c_out;
        break;
    case EVK_KIND_MBCONV:
        mbconv_cost(sp, in, *out, macs, params);
        break;
    case EVK_KIND_ADD:
        *out = in;
        *macs = *params = 0;
        break;
    case EVK_KIND_OCTCONV:
        octconv_cost(sp, in, *out, macs, params);
        break;
    case EVK_KIND_MAX_POOL:
        *out = (evk_shape){in.n, in.c, (in.h + 2 * sp->padding - sp->kernel) / sp->stride + 1,
                           (in.w + 2 * sp->padding - sp->kernel) / sp->stride + 1};
        *macs = *params = 0;
        break;
    case EVK_KIND_POOL:
        *out = (evk_shape){in.n, in.c, 1, 1};
        *macs = *params = 0;
        break;
    case EVK_KIND_LINEAR:
        *out = (evk_shape){in.n, sp->out_channels, 1, 1};
        *macs = EVK_PRODUCT(in.n, c_in, c_out);
        *params = c_in * c_out + c_out;
        break;
    }
}
