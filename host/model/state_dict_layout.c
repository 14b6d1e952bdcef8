/* The tensors of each kind of layer spec under torchvision's key names:
 * Conv2dNormActivation (prefix.0, prefix.1), nn.Sequential layers
 * (prefix.weight, BatchNorm at bn_prefix), MBConv's block.N parts, linear
 * layers, and OctConv's four paths with their two BatchNorms (the official
 * code's .hh/.hl/.lh/.ll and .h/.l). */
#include <stdio.h>

#include "octconv.h"
#include "state_dict_layout.h"

typedef struct tensor_list {
    evk_spec_tensor *tensors;
    uint32_t count;
} tensor_list;

static void add(tensor_list *list, evk_tensor_part part, evk_tensor_role role, const char *prefix,
                const char *suffix, uint32_t rank, const uint64_t *shape)
{
    evk_spec_tensor *t = &list->tensors[list->count++];
    snprintf(t->key, sizeof t->key, "%s%s", prefix, suffix);
    t->part = part;
    t->role = role;
    t->rank = rank;
    for (uint32_t i = 0; i < 4; ++i)
        t->shape[i] = i < rank ? shape[i] : 0;
}

static void add_vector(tensor_list *list, evk_tensor_part part, evk_tensor_role role,
                       const char *prefix, const char *suffix, uint64_t length)
{
    add(list, part, role, prefix, suffix, 1, &length);
}

static void add_conv_weight(tensor_list *list, evk_tensor_part part, const char *name,
                            uint64_t out, uint64_t in, uint64_t k)
{
    const uint64_t shape[4] = {out, in, k, k};
    add(list, part, EVK_TENSOR_WEIGHT, name, ".weight", 4, shape);
}

static void add_batchnorm(tensor_list *list, evk_tensor_part part, const char *prefix,
                          uint64_t channels)
{
    add_vector(list, part, EVK_TENSOR_BN_GAMMA, prefix, ".weight", channels);
    add_vector(list, part, EVK_TENSOR_BN_BETA, prefix, ".bias", channels);
    add_vector(list, part, EVK_TENSOR_BN_MEAN, prefix, ".running_mean", channels);
    add_vector(list, part, EVK_TENSOR_BN_VAR, prefix, ".running_var", channels);
}

/* torchvision's Conv2dNormActivation: the conv at prefix.0, its BatchNorm
 * at prefix.1. */
static void add_conv_bn(tensor_list *list, evk_tensor_part part, const char *prefix,
                        uint64_t out, uint64_t in, uint64_t k)
{
    char name[EVK_TENSOR_PREFIX_BYTES];
    snprintf(name, sizeof name, "%s.0", prefix);
    add_conv_weight(list, part, name, out, in, k);
    snprintf(name, sizeof name, "%s.1", prefix);
    add_batchnorm(list, part, name, out);
}

/* A conv or HetConv spec, the weight masked dense, in either naming of
 * evk_layer_spec.bn_prefix. */
static void add_spec_conv(tensor_list *list, const evk_layer_spec *sp)
{
    if (!sp->bn_prefix[0]) {
        add_conv_bn(list, EVK_PART_LAYER, sp->prefix, sp->out_channels, sp->in_channels,
                    sp->kernel);
        return;
    }
    add_conv_weight(list, EVK_PART_LAYER, sp->prefix, sp->out_channels, sp->in_channels,
                    sp->kernel);
    add_batchnorm(list, EVK_PART_LAYER, sp->bn_prefix, sp->out_channels);
}

/* block.0 expand (absent when e = 1), then depthwise, SE, project. */
static void add_mbconv(tensor_list *list, const evk_layer_spec *sp)
{
    char block[EVK_TENSOR_PREFIX_BYTES], fc[EVK_TENSOR_PREFIX_BYTES];
    uint64_t e = sp->expanded_channels, sq = sp->squeeze_channels;
    uint32_t index = 0;
    if (sp->expand_ratio > 1) {
        snprintf(block, sizeof block, "%s.block.%u", sp->prefix, index++);
        add_conv_bn(list, EVK_PART_EXPAND, block, e, sp->in_channels, 1);
    }
    snprintf(block, sizeof block, "%s.block.%u", sp->prefix, index++);
    add_conv_bn(list, EVK_PART_DEPTHWISE, block, e, 1, sp->kernel);
    snprintf(fc, sizeof fc, "%s.block.%u.fc1", sp->prefix, index);
    add_conv_weight(list, EVK_PART_SE_FC1, fc, sq, e, 1);
    add_vector(list, EVK_PART_SE_FC1, EVK_TENSOR_BIAS, fc, ".bias", sq);
    snprintf(fc, sizeof fc, "%s.block.%u.fc2", sp->prefix, index++);
    add_conv_weight(list, EVK_PART_SE_FC2, fc, e, sq, 1);
    add_vector(list, EVK_PART_SE_FC2, EVK_TENSOR_BIAS, fc, ".bias", e);
    snprintf(block, sizeof block, "%s.block.%u", sp->prefix, index);
    add_conv_bn(list, EVK_PART_PROJECT, block, sp->out_channels, e, 1);
}

static void add_linear(tensor_list *list, const evk_layer_spec *sp)
{
    const uint64_t shape[2] = {sp->out_channels, sp->in_channels};
    add(list, EVK_PART_LAYER, EVK_TENSOR_WEIGHT, sp->prefix, ".weight", 2, shape);
    add_vector(list, EVK_PART_LAYER, EVK_TENSOR_BIAS, sp->prefix, ".bias", sp->out_channels);
}

/* An OctConv path prefix.`path`.weight [to][from][k][k], when both ends
 * have channels. */
static void add_octconv_path(tensor_list *list, const evk_layer_spec *sp, evk_tensor_part part,
                             const char *path, uint32_t to, uint32_t from)
{
    if (!to || !from)
        return;
    char name[EVK_TENSOR_PREFIX_BYTES];
    snprintf(name, sizeof name, "%s.%s", sp->prefix, path);
    add_conv_weight(list, part, name, to, from, sp->kernel);
}

/* The channels split as the layer splits them (evk_octconv_low_channels);
 * Y^L's BatchNorm only when Y^L has channels. */
static void add_octconv(tensor_list *list, const evk_layer_spec *sp)
{
    uint32_t in_low = evk_octconv_low_channels(sp->alpha_in, sp->in_channels);
    uint32_t out_low = evk_octconv_low_channels(sp->alpha_out, sp->out_channels);
    uint32_t in_high = sp->in_channels - in_low, out_high = sp->out_channels - out_low;
    add_octconv_path(list, sp, EVK_PART_HIGH_TO_HIGH, "hh", out_high, in_high);
    add_octconv_path(list, sp, EVK_PART_HIGH_TO_LOW, "hl", out_low, in_high);
    add_octconv_path(list, sp, EVK_PART_LOW_TO_HIGH, "lh", out_high, in_low);
    add_octconv_path(list, sp, EVK_PART_LOW_TO_LOW, "ll", out_low, in_low);
    char bn[EVK_TENSOR_PREFIX_BYTES];
    snprintf(bn, sizeof bn, "%s.h", sp->bn_prefix);
    add_batchnorm(list, EVK_PART_HIGH, bn, out_high);
    snprintf(bn, sizeof bn, "%s.l", sp->bn_prefix);
    if (out_low)
        add_batchnorm(list, EVK_PART_LOW, bn, out_low);
}

uint32_t evk_spec_tensors(const evk_layer_spec *spec, evk_spec_tensor tensors[EVK_SPEC_MAX_TENSORS])
{
    tensor_list list = {tensors, 0};
    switch (spec->kind) {
    case EVK_KIND_CONV:
    case EVK_KIND_HETCONV:
        add_spec_conv(&list, spec);
        break;
    case EVK_KIND_MBCONV:
        add_mbconv(&list, spec);
        break;
    case EVK_KIND_LINEAR:
        add_linear(&list, spec);
        break;
    case EVK_KIND_OCTCONV:
        add_octconv(&list, spec);
        break;
    case EVK_KIND_POOL:
    case EVK_KIND_MAX_POOL:
    case EVK_KIND_ADD:
        break;
    }
    return list.count;
}
