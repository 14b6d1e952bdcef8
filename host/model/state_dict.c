/* Building a model's layers from a torchvision state_dict: each spec of the
 * architecture reads its tensors by name, checks their shapes and values,
 * creates its layer and joins the graph. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "efficientnet.h"
#include "eltwise.h"
#include "linear.h"
#include "mbconv.h"
#include "octconv.h"
#include "pool.h"

/* Names: a 32-byte spec prefix plus ".block.N.fc1.running_mean". */
enum { MAX_ARRAYS = 32, NAME_BYTES = 128 };

typedef struct builder {
    evk_context *ctx;
    const evk_safetensors *st;
    const char *file;
    float bn_eps;
    /* The host arrays of the layer being built, freed once it exists. */
    float *arrays[MAX_ARRAYS];
    uint32_t array_count;
    /* The names of the tensors read so far (the file's strings), so that
     * a tensor the model does not use is caught. */
    const char **used;
    size_t used_count, used_capacity;
} builder;

static void free_arrays(builder *b)
{
    for (uint32_t i = 0; i < b->array_count; ++i)
        evk_free(b->ctx, b->arrays[i]);
    b->array_count = 0;
}

static void format_shape(char *out, size_t size, uint32_t rank, const uint64_t *dims)
{
    size_t used = (size_t)snprintf(out, size, "[");
    for (uint32_t i = 0; i < rank && used < size; ++i)
        used += (size_t)snprintf(out + used, size - used, "%s%llu", i ? ", " : "",
                                 (unsigned long long)dims[i]);
    if (used < size)
        snprintf(out + used, size - used, "]");
}

static evk_status check_tensor(builder *b, const char *name, uint32_t rank, const uint64_t *dims,
                               evk_safetensors_info *info)
{
    if (evk_safetensors_find(b->st, name, info) != EVK_SUCCESS)
        return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s' is missing", b->file,
                        name);
    int same = info->rank == rank;
    for (uint32_t i = 0; same && i < rank; ++i)
        same = info->shape[i] == dims[i];
    if (same)
        return EVK_SUCCESS;
    char got[128], expected[128];
    format_shape(got, sizeof got, info->rank, info->shape);
    format_shape(expected, sizeof expected, rank, dims);
    return evk_fail(b->ctx, EVK_ERROR_SHAPE_MISMATCH, "%s: tensor '%s' has shape %s, the model "
                    "expects %s", b->file, name, got, expected);
}

/* A NaN or an infinity in a tensor would load and turn every output it
 * reaches into NaN; checked after F16 and BF16 are widened to float. */
static evk_status check_finite(const builder *b, const char *name, const float *values,
                               uint64_t count)
{
    for (uint64_t i = 0; i < count; ++i)
        if (!isfinite(values[i]))
            return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: %s[%llu] is %s (weights "
                            "must be finite)", b->file, name, (unsigned long long)i,
                            isnan(values[i]) ? "NaN" : values[i] > 0 ? "+infinity" : "-infinity");
    return EVK_SUCCESS;
}

/* Reads tensor `prefix` + `suffix` of shape `dims` into a new array that
 * lives until free_arrays. */
static evk_status read_tensor(builder *b, const char *prefix, const char *suffix, uint32_t rank,
                              const uint64_t *dims, float **out)
{
    char name[NAME_BYTES];
    snprintf(name, sizeof name, "%s%s", prefix, suffix);
    evk_safetensors_info info;
    evk_status s = check_tensor(b, name, rank, dims, &info);
    if (s != EVK_SUCCESS)
        return s;
    if (b->used_count < b->used_capacity)
        b->used[b->used_count++] = info.name;
    if (b->array_count == MAX_ARRAYS)
        return evk_fail(b->ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: too many tensors in one layer", name);
    float *array = evk_alloc(b->ctx, info.element_count * sizeof *array);
    if (!array)
        return evk_fail_oom(b->ctx, name);
    b->arrays[b->array_count++] = array;
    *out = array;
    /* The file was opened on b->ctx, which gets the reader's messages. */
    s = evk_safetensors_read_f32(b->st, name, array, info.element_count);
    return s == EVK_SUCCESS ? check_finite(b, name, array, info.element_count) : s;
}

static evk_status read_vector(builder *b, const char *prefix, const char *suffix, uint32_t length,
                              const float **out)
{
    uint64_t dims[1] = {length};
    float *array = NULL;
    evk_status s = read_tensor(b, prefix, suffix, 1, dims, &array);
    *out = array;
    return s;
}

/* BatchNorm `prefix` (".weight", ".bias", ".running_mean", ".running_var");
 * num_batches_tracked is not needed. */
static evk_status read_batchnorm(builder *b, const char *prefix, uint32_t channels,
                                 evk_batchnorm *bn)
{
    bn->eps = b->bn_eps;
    bn->count = channels;
    evk_status s = read_vector(b, prefix, ".weight", channels, &bn->gamma);
    if (s == EVK_SUCCESS)
        s = read_vector(b, prefix, ".bias", channels, &bn->beta);
    if (s == EVK_SUCCESS)
        s = read_vector(b, prefix, ".running_mean", channels, &bn->mean);
    if (s == EVK_SUCCESS)
        s = read_vector(b, prefix, ".running_var", channels, &bn->var);
    return s;
}

/* A conv weight [out][in][k][k] (its element count into *count) at
 * `prefix`.0.weight and its BatchNorm at `prefix`.1: torchvision's
 * Conv2dNormActivation. */
static evk_status read_conv_bn(builder *b, const char *prefix, uint32_t out, uint32_t in, uint32_t k,
                               const float **weight, uint64_t *count, evk_batchnorm *bn)
{
    char name[NAME_BYTES + 8];      /* the prefix may fill NAME_BYTES */
    uint64_t dims[4] = {out, in, k, k};
    float *array = NULL;
    snprintf(name, sizeof name, "%s.0", prefix);
    evk_status s = read_tensor(b, name, ".weight", 4, dims, &array);
    *weight = array;
    *count = (uint64_t)out * in * k * k;
    snprintf(name, sizeof name, "%s.1", prefix);
    return s == EVK_SUCCESS ? read_batchnorm(b, name, out, bn) : s;
}

/* A spec's conv weight [out][in][k][k] and BatchNorm, in either naming of
 * evk_layer_spec.bn_prefix. */
static evk_status read_spec_conv(builder *b, const evk_layer_spec *sp, const float **weight,
                                 uint64_t *count, evk_batchnorm *bn)
{
    if (!sp->bn_prefix[0])
        return read_conv_bn(b, sp->prefix, sp->out_channels, sp->in_channels, sp->kernel, weight,
                            count, bn);
    uint64_t dims[4] = {sp->out_channels, sp->in_channels, sp->kernel, sp->kernel};
    float *array = NULL;
    evk_status s = read_tensor(b, sp->prefix, ".weight", 4, dims, &array);
    *weight = array;
    *count = dims[0] * dims[1] * dims[2] * dims[3];
    return s == EVK_SUCCESS ? read_batchnorm(b, sp->bn_prefix, sp->out_channels, bn) : s;
}

static evk_status create_conv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    uint32_t pad = (sp->kernel - 1) / 2;
    evk_conv2d_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                         .kernel_h = sp->kernel, .kernel_w = sp->kernel, .stride_h = sp->stride,
                         .stride_w = sp->stride, .pad_h = pad, .pad_w = pad,
                         .activation = sp->activation};
    evk_status s = read_spec_conv(b, sp, &d.weight, &d.weight_count, &d.batchnorm);
    return s == EVK_SUCCESS ? evk_conv2d_create(b->ctx, &d, layer) : s;
}

/* The masked dense weight form; evk_hetconv_create names a non-zero masked
 * tap. */
static evk_status create_hetconv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    evk_hetconv_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                          .kernel_size = sp->kernel, .part = sp->part, .stride = sp->stride,
                          .activation = sp->activation};
    evk_status s = read_spec_conv(b, sp, &d.weight, &d.weight_count, &d.batchnorm);
    if (s == EVK_SUCCESS)
        s = evk_hetconv_create(b->ctx, &d, layer);
    if (s == EVK_SUCCESS || !d.weight)
        return s;
    /* The op's message without its leading status name, which evk_fail adds. */
    const char *why = evk_last_error(b->ctx), *after_status = strstr(why, ": ");
    char message[256];
    snprintf(message, sizeof message, "%s", after_status ? after_status + 2 : why);
    return evk_fail(b->ctx, s, "%s: %s.weight: %s", b->file, sp->prefix, message);
}

static evk_status read_se(builder *b, const char *prefix, const evk_layer_spec *sp,
                          evk_mbconv_desc *d)
{
    char fc[NAME_BYTES + 8];
    uint32_t e = sp->expanded_channels, sq = sp->squeeze_channels;
    uint64_t fc1[4] = {sq, e, 1, 1}, fc2[4] = {e, sq, 1, 1};
    float *w1 = NULL, *w2 = NULL;
    snprintf(fc, sizeof fc, "%s.fc1", prefix);
    evk_status s = read_tensor(b, fc, ".weight", 4, fc1, &w1);
    if (s == EVK_SUCCESS)
        s = read_vector(b, fc, ".bias", sq, &d->se_fc1_bias);
    snprintf(fc, sizeof fc, "%s.fc2", prefix);
    if (s == EVK_SUCCESS)
        s = read_tensor(b, fc, ".weight", 4, fc2, &w2);
    if (s == EVK_SUCCESS)
        s = read_vector(b, fc, ".bias", e, &d->se_fc2_bias);
    d->se_fc1_weight = w1;
    d->se_fc2_weight = w2;
    d->se_fc1_weight_count = d->se_fc2_weight_count = (uint64_t)sq * e;
    d->se_fc1_bias_count = sq;
    d->se_fc2_bias_count = e;
    return s;
}

/* block.0 expand (absent when e = 1), then depthwise, SE, project. */
static evk_status create_mbconv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    uint32_t e = sp->expanded_channels, part = 0;
    evk_mbconv_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                         .expand_ratio = sp->expand_ratio, .expanded_channels = e,
                         .kernel_size = sp->kernel, .stride = sp->stride};
    char prefix[NAME_BYTES];
    evk_status s = EVK_SUCCESS;
    if (sp->expand_ratio > 1) {
        snprintf(prefix, sizeof prefix, "%s.block.%u", sp->prefix, part++);
        s = read_conv_bn(b, prefix, e, sp->in_channels, 1, &d.expand_weight,
                         &d.expand_weight_count, &d.expand_bn);
    }
    snprintf(prefix, sizeof prefix, "%s.block.%u", sp->prefix, part++);
    if (s == EVK_SUCCESS)
        s = read_conv_bn(b, prefix, e, 1, sp->kernel, &d.depthwise_weight,
                         &d.depthwise_weight_count, &d.depthwise_bn);
    snprintf(prefix, sizeof prefix, "%s.block.%u", sp->prefix, part++);
    if (s == EVK_SUCCESS)
        s = read_se(b, prefix, sp, &d);
    snprintf(prefix, sizeof prefix, "%s.block.%u", sp->prefix, part++);
    if (s == EVK_SUCCESS)
        s = read_conv_bn(b, prefix, sp->out_channels, e, 1, &d.project_weight,
                         &d.project_weight_count, &d.project_bn);
    return s == EVK_SUCCESS ? evk_mbconv_create(b->ctx, &d, layer) : s;
}

static evk_status create_linear(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    uint64_t dims[2] = {sp->out_channels, sp->in_channels};
    float *weight = NULL;
    const float *bias = NULL;
    evk_status s = read_tensor(b, sp->prefix, ".weight", 2, dims, &weight);
    if (s == EVK_SUCCESS)
        s = read_vector(b, sp->prefix, ".bias", sp->out_channels, &bias);
    if (s != EVK_SUCCESS)
        return s;
    if (sp->activation == EVK_ACTIVATION_NONE)
        return evk_linear_create(b->ctx, sp->in_channels, sp->out_channels, weight, bias, layer);
    /* A hidden layer: as a 1x1 conv on the N x C x 1 x 1 map, whose epilogue
     * applies the activation (the same [K][C] weight array). */
    evk_conv2d_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                         .kernel_h = 1, .kernel_w = 1, .activation = sp->activation,
                         .weight = weight, .weight_count = dims[0] * dims[1], .bias = bias,
                         .bias_count = sp->out_channels};
    return evk_conv2d_create(b->ctx, &d, layer);
}

/* An OctConv path's weight `prefix`.`path`.weight [to][from][k][k] and its
 * element count, read when both ends have channels. */
static evk_status read_octconv_path(builder *b, const evk_layer_spec *sp, const char *path,
                                    uint32_t to, uint32_t from, const float **weight,
                                    uint64_t *count)
{
    if (!to || !from)
        return EVK_SUCCESS;
    char name[NAME_BYTES];
    snprintf(name, sizeof name, "%s.%s", sp->prefix, path);
    uint64_t dims[4] = {to, from, sp->kernel, sp->kernel};
    float *array = NULL;
    evk_status s = read_tensor(b, name, ".weight", 4, dims, &array);
    *weight = array;
    *count = dims[0] * dims[1] * dims[2] * dims[3];
    return s;
}

/* Weights prefix.hh/.hl/.lh/.ll.weight, BatchNorms bn_prefix.h and .l
 * (docs/models.md). */
static evk_status create_octconv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    evk_octconv_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                          .alpha_in = sp->alpha_in, .alpha_out = sp->alpha_out,
                          .kernel_size = sp->kernel, .stride = sp->stride,
                          .activation = sp->activation};
    evk_octconv_channels c = evk_octconv_channels_of(&d);
    char bn[NAME_BYTES];
    evk_status s = read_octconv_path(b, sp, "hh", c.out_high, c.in_high, &d.weight_hh,
                                     &d.weight_hh_count);
    if (s == EVK_SUCCESS)
        s = read_octconv_path(b, sp, "hl", c.out_low, c.in_high, &d.weight_hl,
                              &d.weight_hl_count);
    if (s == EVK_SUCCESS)
        s = read_octconv_path(b, sp, "lh", c.out_high, c.in_low, &d.weight_lh,
                              &d.weight_lh_count);
    if (s == EVK_SUCCESS)
        s = read_octconv_path(b, sp, "ll", c.out_low, c.in_low, &d.weight_ll,
                              &d.weight_ll_count);
    snprintf(bn, sizeof bn, "%s.h", sp->bn_prefix);
    if (s == EVK_SUCCESS)
        s = read_batchnorm(b, bn, c.out_high, &d.batchnorm_h);
    snprintf(bn, sizeof bn, "%s.l", sp->bn_prefix);
    if (s == EVK_SUCCESS && c.out_low)
        s = read_batchnorm(b, bn, c.out_low, &d.batchnorm_l);
    return s == EVK_SUCCESS ? evk_octconv_create(b->ctx, &d, layer) : s;
}

static evk_status create_layer(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    switch (sp->kind) {
    case EVK_KIND_CONV:
        return create_conv(b, sp, layer);
    case EVK_KIND_MBCONV:
        return create_mbconv(b, sp, layer);
    case EVK_KIND_POOL:
        return evk_global_avg_pool_create(b->ctx, layer);
    case EVK_KIND_LINEAR:
        return create_linear(b, sp, layer);
    case EVK_KIND_HETCONV:
        return create_hetconv(b, sp, layer);
    case EVK_KIND_MAX_POOL:
        return evk_max_pool_create(b->ctx, sp->kernel, sp->stride, sp->padding, layer);
    case EVK_KIND_ADD:
        return evk_add_create(b->ctx, sp->activation, layer);
    case EVK_KIND_OCTCONV:
        return create_octconv(b, sp, layer);
    }
    return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "unknown layer kind %d", (int)sp->kind);
}

static int ends_with(const char *text, const char *suffix)
{
    size_t n = strlen(text), m = strlen(suffix);
    return n >= m && strcmp(text + n - m, suffix) == 0;
}

static int was_used(const builder *b, const char *name)
{
    for (size_t i = 0; i < b->used_count; ++i)
        if (strcmp(b->used[i], name) == 0)
            return 1;
    return 0;
}

/* Every tensor of the file but BatchNorm's num_batches_tracked must have
 * been read: another one means weights of another variant (B1's hold all
 * of B0's tensors and more) or of another model. */
static evk_status check_all_used(const builder *b, const evk_arch *arch)
{
    for (size_t i = 0; i < evk_safetensors_count(b->st); ++i) {
        const char *name = evk_safetensors_name(b->st, i);
        if (!ends_with(name, ".num_batches_tracked") && !was_used(b, name))
            return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s' is not part of "
                            "%s (weights of another model or variant?)", b->file, name,
                            arch->name);
    }
    return EVK_SUCCESS;
}

/* The graph slots of a spec slot: an octave feature map is two, X^H and X^L
 * (NO_LOW when it has no X^L). */
enum { NO_LOW = UINT32_MAX };

typedef struct slot_map {
    uint32_t high[EVK_ARCH_MAX_LAYERS + 1], low[EVK_ARCH_MAX_LAYERS + 1];
} slot_map;

/* A binary node on the slots' X^H, and on their X^L when they have one. */
static evk_status add_residual_nodes(builder *b, const evk_layer_spec *sp, evk_layer *layer,
                                     evk_graph *graph, slot_map *m, uint32_t out)
{
    uint32_t in_low = m->low[sp->input], skip_low = m->low[sp->skip];
    evk_status s = evk_graph_add_binary(graph, layer, m->high[sp->input], m->high[sp->skip], 1,
                                        sp->prefix, evk_add_record, &m->high[out]);
    if (s != EVK_SUCCESS || in_low == NO_LOW)
        return s;
    if (skip_low == NO_LOW)
        return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s adds an octave map to a plain one",
                        sp->prefix);
    s = evk_add_create(b->ctx, sp->activation, &layer);
    return s == EVK_SUCCESS ? evk_graph_add_binary(graph, layer, in_low, skip_low, 1, sp->prefix,
                                                   evk_add_record, &m->low[out])
                            : s;
}

/* One node per output branch of an OctConv; the Y^H one owns the conv. */
static evk_status add_octconv_nodes(const evk_layer_spec *sp, evk_layer *conv, evk_graph *graph,
                                    slot_map *m, uint32_t out)
{
    uint32_t in_high = m->high[sp->input], in_low = m->low[sp->input];
    int has_low_out = evk_octconv_low_channels(sp->alpha_out, sp->out_channels) > 0;
    for (int branch = EVK_OCTCONV_HIGH; branch <= (has_low_out ? EVK_OCTCONV_LOW : 0); ++branch) {
        uint32_t *slot = branch == EVK_OCTCONV_HIGH ? &m->high[out] : &m->low[out];
        evk_layer *layer = NULL;
        evk_status s = evk_octconv_branch_create(conv, branch, branch == EVK_OCTCONV_HIGH, &layer);
        if (s == EVK_SUCCESS && in_low != NO_LOW)
            s = evk_graph_add_binary(graph, layer, in_high, in_low, 0, sp->prefix,
                                     evk_octconv_branch_record, slot);
        else if (s == EVK_SUCCESS)
            s = evk_graph_add(graph, layer, in_high, sp->prefix, NULL, slot);
        if (s != EVK_SUCCESS)
            return s;
    }
    return EVK_SUCCESS;
}

static evk_status add_nodes(builder *b, const evk_layer_spec *sp, evk_layer *layer,
                            evk_graph *graph, slot_map *m, uint32_t out)
{
    m->low[out] = NO_LOW;
    if (sp->kind == EVK_KIND_ADD)
        return add_residual_nodes(b, sp, layer, graph, m, out);
    if (sp->kind == EVK_KIND_OCTCONV)
        return add_octconv_nodes(sp, layer, graph, m, out);
    if (m->low[sp->input] != NO_LOW) {
        evk_layer_destroy(layer);
        return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s reads an octave map", sp->prefix);
    }
    int mbconv = sp->kind == EVK_KIND_MBCONV;
    return evk_graph_add(graph, layer, m->high[sp->input], sp->prefix,
                         mbconv ? evk_mbconv_reserve : NULL, &m->high[out]);
}

static evk_status build_layers(builder *b, const evk_arch *arch, evk_mbconv_scratch *scratch,
                               evk_graph *graph)
{
    slot_map *m = evk_alloc(b->ctx, sizeof *m);
    if (!m)
        return evk_fail_oom(b->ctx, "model slot map");
    m->high[0] = 0;
    m->low[0] = NO_LOW;
    evk_status s = EVK_SUCCESS;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < arch->count; ++i) {
        const evk_layer_spec *sp = &arch->layers[i];
        evk_layer *layer = NULL;
        s = create_layer(b, sp, &layer);
        free_arrays(b);
        if (s == EVK_SUCCESS && sp->kind == EVK_KIND_MBCONV)
            evk_mbconv_share_scratch(layer, scratch);
        if (s == EVK_SUCCESS)
            s = add_nodes(b, sp, layer, graph, m, i + 1);
    }
    evk_free(b->ctx, m);
    return s;
}

evk_status evk_efficientnet_build(evk_context *ctx, const evk_arch *arch, const evk_safetensors *st,
                                  const char *file, float bn_eps, evk_mbconv_scratch *scratch,
                                  evk_graph *graph)
{
    size_t tensors = evk_safetensors_count(st);
    builder b = {.ctx = ctx, .st = st, .file = file, .bn_eps = bn_eps, .used_capacity = tensors,
                 .used = evk_alloc(ctx, (tensors ? tensors : 1) * sizeof *b.used)};
    evk_status s = b.used ? build_layers(&b, arch, scratch, graph) : evk_fail_oom(ctx, file);
    if (s == EVK_SUCCESS)
        s = check_all_used(&b, arch);
    evk_free(ctx, b.used);
    return s;
}
