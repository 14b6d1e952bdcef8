/* Building a model's layers from a torchvision state_dict: each spec of the
 * architecture reads its tensors by name (state_dict_layout.h), checks
 * their shapes and values, creates its layer and joins the graph. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "eltwise.h"
#include "linear.h"
#include "octconv.h"
#include "pool.h"
#include "state_dict.h"
#include "state_dict_layout.h"

typedef struct builder {
    evk_context *ctx;
    const evk_safetensors *st;
    const char *file;
    float bn_eps;
    /* The tensors of the layer being built, the first `count` of them read
     * into `values`, which are freed once the layer exists. */
    evk_spec_tensor tensors[EVK_SPEC_MAX_TENSORS];
    float *values[EVK_SPEC_MAX_TENSORS];
    uint32_t count;
    /* The names of the tensors read so far (the file's strings), so that
     * a tensor the model does not use is caught. */
    const char **used;
    size_t used_count, used_capacity;
} builder;

static void free_values(builder *b)
{
    for (uint32_t i = 0; i < b->count; ++i)
        evk_free(b->ctx, b->values[i]);
    b->count = 0;
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

static evk_status check_tensor(builder *b, const evk_spec_tensor *t, evk_safetensors_info *info)
{
    if (evk_safetensors_find(b->st, t->key, info) != EVK_SUCCESS)
        return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s' is missing", b->file,
                        t->key);
    int same = info->rank == t->rank;
    for (uint32_t i = 0; same && i < t->rank; ++i)
        same = info->shape[i] == t->shape[i];
    if (same)
        return EVK_SUCCESS;
    char got[128], expected[128];
    format_shape(got, sizeof got, info->rank, info->shape);
    format_shape(expected, sizeof expected, t->rank, t->shape);
    return evk_fail(b->ctx, EVK_ERROR_SHAPE_MISMATCH, "%s: tensor '%s' has shape %s, the model "
                    "expects %s", b->file, t->key, got, expected);
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

/* Reads tensor `t` into a new array that lives until free_values. */
static evk_status read_tensor(builder *b, const evk_spec_tensor *t, float **out)
{
    evk_safetensors_info info;
    evk_status s = check_tensor(b, t, &info);
    if (s != EVK_SUCCESS)
        return s;
    if (b->used_count < b->used_capacity)
        b->used[b->used_count++] = info.name;
    float *array = evk_alloc(b->ctx, info.element_count * sizeof *array);
    if (!array)
        return evk_fail_oom(b->ctx, t->key);
    *out = array;
    /* The file was opened on b->ctx, which gets the reader's messages. */
    s = evk_safetensors_read_f32(b->st, t->key, array, info.element_count);
    return s == EVK_SUCCESS ? check_finite(b, t->key, array, info.element_count) : s;
}

/* Reads the tensors of `sp` in order, up to the first that fails. */
static evk_status read_spec(builder *b, const evk_layer_spec *sp)
{
    uint32_t count = evk_spec_tensors(sp, b->tensors);
    evk_status s = EVK_SUCCESS;
    for (b->count = 0; s == EVK_SUCCESS && b->count < count; ++b->count) {
        b->values[b->count] = NULL;
        s = read_tensor(b, &b->tensors[b->count], &b->values[b->count]);
    }
    return s;
}

/* The values of the layer's tensor of `part` and `role` and their count in
 * *count; NULL and 0 when it has none. */
static const float *values_of(const builder *b, evk_tensor_part part, evk_tensor_role role,
                              uint64_t *count)
{
    for (uint32_t i = 0; i < b->count; ++i) {
        const evk_spec_tensor *t = &b->tensors[i];
        if (t->part != part || t->role != role)
            continue;
        *count = 1;
        for (uint32_t d = 0; d < t->rank; ++d)
            *count *= t->shape[d];
        return b->values[i];
    }
    *count = 0;
    return NULL;
}

/* The BatchNorm of `part`; `bn` stays zero (none) when the layer has none. */
static void batchnorm_of(const builder *b, evk_tensor_part part, evk_batchnorm *bn)
{
    uint64_t count;
    const float *gamma = values_of(b, part, EVK_TENSOR_BN_GAMMA, &count);
    if (!gamma)
        return;
    bn->gamma = gamma;
    bn->beta = values_of(b, part, EVK_TENSOR_BN_BETA, &count);
    bn->mean = values_of(b, part, EVK_TENSOR_BN_MEAN, &count);
    bn->var = values_of(b, part, EVK_TENSOR_BN_VAR, &count);
    bn->count = count;
    bn->eps = b->bn_eps;
}

static evk_status create_conv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    uint32_t pad = (sp->kernel - 1) / 2;
    evk_conv2d_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                         .kernel_h = sp->kernel, .kernel_w = sp->kernel, .stride_h = sp->stride,
                         .stride_w = sp->stride, .pad_h = pad, .pad_w = pad,
                         .activation = sp->activation};
    d.weight = values_of(b, EVK_PART_LAYER, EVK_TENSOR_WEIGHT, &d.weight_count);
    batchnorm_of(b, EVK_PART_LAYER, &d.batchnorm);
    return evk_conv2d_create(b->ctx, &d, layer);
}

/* The masked dense weight form; evk_hetconv_create names a non-zero masked
 * tap. */
static evk_status create_hetconv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    evk_hetconv_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                          .kernel_size = sp->kernel, .part = sp->part, .stride = sp->stride,
                          .activation = sp->activation};
    d.weight = values_of(b, EVK_PART_LAYER, EVK_TENSOR_WEIGHT, &d.weight_count);
    batchnorm_of(b, EVK_PART_LAYER, &d.batchnorm);
    evk_status s = evk_hetconv_create(b->ctx, &d, layer);
    if (s == EVK_SUCCESS)
        return s;
    /* The op's message without its leading status name, which evk_fail adds. */
    const char *why = evk_last_error(b->ctx), *after_status = strstr(why, ": ");
    char message[256];
    snprintf(message, sizeof message, "%s", after_status ? after_status + 2 : why);
    return evk_fail(b->ctx, s, "%s: %s.weight: %s", b->file, sp->prefix, message);
}

static evk_status create_mbconv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    evk_mbconv_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                         .expand_ratio = sp->expand_ratio,
                         .expanded_channels = sp->expanded_channels, .kernel_size = sp->kernel,
                         .stride = sp->stride};
    d.expand_weight = values_of(b, EVK_PART_EXPAND, EVK_TENSOR_WEIGHT, &d.expand_weight_count);
    batchnorm_of(b, EVK_PART_EXPAND, &d.expand_bn);
    d.depthwise_weight = values_of(b, EVK_PART_DEPTHWISE, EVK_TENSOR_WEIGHT,
                                   &d.depthwise_weight_count);
    batchnorm_of(b, EVK_PART_DEPTHWISE, &d.depthwise_bn);
    d.se_fc1_weight = values_of(b, EVK_PART_SE_FC1, EVK_TENSOR_WEIGHT, &d.se_fc1_weight_count);
    d.se_fc1_bias = values_of(b, EVK_PART_SE_FC1, EVK_TENSOR_BIAS, &d.se_fc1_bias_count);
    d.se_fc2_weight = values_of(b, EVK_PART_SE_FC2, EVK_TENSOR_WEIGHT, &d.se_fc2_weight_count);
    d.se_fc2_bias = values_of(b, EVK_PART_SE_FC2, EVK_TENSOR_BIAS, &d.se_fc2_bias_count);
    d.project_weight = values_of(b, EVK_PART_PROJECT, EVK_TENSOR_WEIGHT,
                                 &d.project_weight_count);
    batchnorm_of(b, EVK_PART_PROJECT, &d.project_bn);
    return evk_mbconv_create(b->ctx, &d, layer);
}

static evk_status create_linear(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    uint64_t weight_count, bias_count;
    const float *weight = values_of(b, EVK_PART_LAYER, EVK_TENSOR_WEIGHT, &weight_count);
    const float *bias = values_of(b, EVK_PART_LAYER, EVK_TENSOR_BIAS, &bias_count);
    if (sp->activation == EVK_ACTIVATION_NONE)
        return evk_linear_create(b->ctx, sp->in_channels, sp->out_channels, weight, bias, layer);
    /* A hidden layer: as a 1x1 conv on the N x C x 1 x 1 map, whose epilogue
     * applies the activation (the same [K][C] weight array). */
    evk_conv2d_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                         .kernel_h = 1, .kernel_w = 1, .activation = sp->activation,
                         .weight = weight, .weight_count = weight_count, .bias = bias,
                         .bias_count = bias_count};
    return evk_conv2d_create(b->ctx, &d, layer);
}

/* The paths with channels at both ends have weights; Y^L's BatchNorm exists
 * when Y^L has channels. */
static evk_status create_octconv(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    evk_octconv_desc d = {.in_channels = sp->in_channels, .out_channels = sp->out_channels,
                          .alpha_in = sp->alpha_in, .alpha_out = sp->alpha_out,
                          .kernel_size = sp->kernel, .stride = sp->stride,
                          .activation = sp->activation};
    d.weight_hh = values_of(b, EVK_PART_HIGH_TO_HIGH, EVK_TENSOR_WEIGHT, &d.weight_hh_count);
    d.weight_hl = values_of(b, EVK_PART_HIGH_TO_LOW, EVK_TENSOR_WEIGHT, &d.weight_hl_count);
    d.weight_lh = values_of(b, EVK_PART_LOW_TO_HIGH, EVK_TENSOR_WEIGHT, &d.weight_lh_count);
    d.weight_ll = values_of(b, EVK_PART_LOW_TO_LOW, EVK_TENSOR_WEIGHT, &d.weight_ll_count);
    batchnorm_of(b, EVK_PART_HIGH, &d.batchnorm_h);
    batchnorm_of(b, EVK_PART_LOW, &d.batchnorm_l);
    return evk_octconv_create(b->ctx, &d, layer);
}

static evk_status create_layer(builder *b, const evk_layer_spec *sp, evk_layer **layer)
{
    evk_status s = read_spec(b, sp);
    if (s != EVK_SUCCESS)
        return s;
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
        free_values(b);
        if (s == EVK_SUCCESS && sp->kind == EVK_KIND_MBCONV)
            evk_mbconv_share_scratch(layer, scratch);
        if (s == EVK_SUCCESS)
            s = add_nodes(b, sp, layer, graph, m, i + 1);
    }
    evk_free(b->ctx, m);
    return s;
}

evk_status evk_state_dict_build(evk_context *ctx, const evk_arch *arch, const evk_safetensors *st,
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
