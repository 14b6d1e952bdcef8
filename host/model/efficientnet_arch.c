/* EfficientNet-B0..B7 with torchvision's structure and state_dict names
 * (torchvision/models/efficientnet.py): features.0 stem, features.1-7 the
 * MBConv stages, features.8 head, avgpool, classifier.1. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arch_tables.h"

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

int evk_efficientnet_arch(const char *normal, uint32_t num_classes, evk_arch *arch)
{
    const variant *v = NULL;
    for (size_t i = 0; !v && i < sizeof variants / sizeof variants[0]; ++i)
        v = strcmp(normal, variants[i].name) == 0 ? &variants[i] : NULL;
    if (!v)
        return 0;
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
    return 1;
}
