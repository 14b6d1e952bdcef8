/* MBConv with squeeze-excitation (EfficientNet). The block owns three conv2d
 * layers (expand, depthwise, project) whose weights conv2d folds and packs;
 * the fused path records their pointwise and depthwise kernels through the
 * MBConv variants of the same shader bodies (mbconv_depthwise.comp adds the
 * SE's partial pool sums, mbconv_project.comp the SE scale and the residual)
 * plus mbconv_se.comp: four dispatches. The unfused path records the plain
 * kernels with separate SE, scale and residual dispatches. */
#include <math.h>
#include <string.h>

#include "conv2d.h"
#include "element_storage.h"
#include "mbconv.h"
#include "pipeline.h"
#include "profile.h"
#include "saturating.h"
#include "shader_bindings.h"
#include "context_entry.h"

enum { MAX_CHANNELS = 1 << 20, MAX_EXPAND_RATIO = 64, MAX_KERNEL = 15, SE_WORKGROUP = 64,
       ELEMENTWISE_WORKGROUP = 64, DEPTHWISE_SHARED_BYTES = 64 * 16 };

enum { ELEMENTWISE_SCALE = 0, ELEMENTWISE_ADD = 1 };

typedef struct mbconv_layer {
    evk_layer base;
    evk_mbconv_desc desc;           /* resolved; array pointers cleared */
    int has_se, residual, fused;
    evk_layer *expand, *depthwise, *project; /* conv2d layers; expand NULL when e = 1 */
    evk_buffer fc1, fc1_bias, fc2, fc2_bias;
    /* Scratch for the intermediate tensors, grown on demand: `own`, or one
     * that blocks share (evk_mbconv_share_scratch). */
    evk_mbconv_scratch own, *scratch;
} mbconv_layer;

evk_mbconv_desc evk_mbconv_resolve(const evk_mbconv_desc *desc)
{
    evk_mbconv_desc d = *desc;
    d.expand_ratio = d.expand_ratio ? d.expand_ratio : 1;
    if (!d.expanded_channels)
        d.expanded_channels = d.in_channels <= MAX_CHANNELS && d.expand_ratio <= MAX_EXPAND_RATIO
                                  ? d.in_channels * d.expand_ratio : UINT32_MAX;
    d.kernel_size = d.kernel_size ? d.kernel_size : 3;
    d.stride = d.stride ? d.stride : 1;
    d.se_ratio = d.se_ratio != 0.0f ? d.se_ratio : 0.25f;
    d.activation = d.activation ? d.activation : EVK_ACTIVATION_SILU;
    evk_batchnorm *bns[3] = {&d.expand_bn, &d.depthwise_bn, &d.project_bn};
    for (int i = 0; i < 3; ++i)
        bns[i]->eps = bns[i]->eps != 0.0f ? bns[i]->eps : 1e-5f;
    return d;
}

uint32_t evk_mbconv_squeeze_channels(const evk_mbconv_desc *d)
{
    double s = floor((double)d->in_channels * d->se_ratio);
    return s < 1.0 ? 1 : (uint32_t)s;
}

static evk_status check_scalars(evk_context *ctx, const evk_mbconv_desc *d)
{
    if (!d->in_channels || !d->out_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: in_channels %u / out_channels "
                        "%u must be >= 1", d->in_channels, d->out_channels);
    if (d->expand_ratio > MAX_EXPAND_RATIO)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: expand_ratio %u must be <= %u",
                        d->expand_ratio, MAX_EXPAND_RATIO);
    if (d->in_channels > MAX_CHANNELS || d->out_channels > MAX_CHANNELS ||
        d->expanded_channels > MAX_CHANNELS)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: in_channels %u, out_channels %u "
                        "and expanded_channels %u must be <= %u", d->in_channels,
                        d->out_channels, d->expanded_channels, (unsigned)MAX_CHANNELS);
    if (d->expand_ratio == 1 && d->expanded_channels != d->in_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: expanded_channels %u must equal "
                        "in_channels %u when expand_ratio is 1", d->expanded_channels,
                        d->in_channels);
    if (d->kernel_size < 3 || d->kernel_size > MAX_KERNEL || d->kernel_size % 2 == 0)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: kernel_size %u must be odd, "
                        "from 3 to %u", d->kernel_size, MAX_KERNEL);
    if (d->stride > 2)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: stride %u must be 1 or 2",
                        d->stride);
    if (!(d->se_ratio > 0.0f && d->se_ratio <= 1.0f))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: se_ratio %g must be in (0, 1]",
                        (double)d->se_ratio);
    if ((unsigned)d->activation > EVK_ACTIVATION_SIGMOID)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: unknown activation %d",
                        (int)d->activation);
    if (d->flags & ~(uint32_t)(EVK_MBCONV_NO_SE | EVK_MBCONV_UNFUSED))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: unknown flags 0x%x", d->flags);
    return EVK_SUCCESS;
}

static evk_status check_weights(evk_context *ctx, const evk_mbconv_desc *d)
{
    const char *missing = NULL;
    if (d->expand_ratio > 1 && !d->expand_weight)
        missing = "expand_weight";
    else if (!d->depthwise_weight)
        missing = "depthwise_weight";
    else if (!d->project_weight)
        missing = "project_weight";
    else if (!(d->flags & EVK_MBCONV_NO_SE) && (!d->se_fc1_weight || !d->se_fc1_bias ||
                                                 !d->se_fc2_weight || !d->se_fc2_bias))
        missing = "an se_fc* weight or bias (set EVK_MBCONV_NO_SE for a block without SE)";
    if (missing)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: %s is NULL", missing);
    evk_status s = EVK_SUCCESS;
    if (d->expand_ratio > 1)
        s = evk_batchnorm_check(ctx, "mbconv expand_bn", &d->expand_bn, d->expanded_channels);
    if (s == EVK_SUCCESS)
        s = evk_batchnorm_check(ctx, "mbconv depthwise_bn", &d->depthwise_bn, d->expanded_channels);
    if (s == EVK_SUCCESS)
        s = evk_batchnorm_check(ctx, "mbconv project_bn", &d->project_bn, d->out_channels);
    return s;
}

evk_status evk_mbconv_check(evk_context *ctx, const evk_mbconv_desc *desc)
{
    if (!desc)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: desc is NULL");
    evk_mbconv_desc d = evk_mbconv_resolve(desc);
    evk_status s = check_scalars(ctx, &d);
    return s == EVK_SUCCESS ? check_weights(ctx, &d) : s;
}

/* `d` is resolved and valid; failures are reported on `ctx` (NULL: thread). */
static evk_status compute_output_shape(evk_context *ctx, const evk_mbconv_desc *d, evk_shape in,
                                       evk_shape *out)
{
    evk_status s = evk_shape_check(ctx, in, "mbconv input");
    if (s != EVK_SUCCESS)
        return s;
    if (in.c != d->in_channels)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "mbconv: input has %u channels, layer "
                        "expects %u", in.c, d->in_channels);
    *out = (evk_shape){in.n, d->out_channels, (in.h - 1) / d->stride + 1,
                       (in.w - 1) / d->stride + 1};
    return EVK_SUCCESS;
}

evk_status evk_mbconv_output_shape(const evk_mbconv_desc *desc, evk_shape in, evk_shape *out)
{
    evk_status s = evk_mbconv_check(NULL, desc);
    if (s != EVK_SUCCESS)
        return s;
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "mbconv: output shape pointer is NULL");
    evk_mbconv_desc d = evk_mbconv_resolve(desc);
    return compute_output_shape(NULL, &d, in, out);
}

static uint64_t batchnorm_params(const evk_batchnorm *bn, uint32_t channels)
{
    return bn->gamma ? 2ull * channels : 0;
}

evk_status evk_mbconv_cost(const evk_mbconv_desc *desc, evk_shape in, uint64_t *macs,
                           uint64_t *params)
{
    evk_shape out;
    evk_status s = evk_mbconv_output_shape(desc, in, &out);
    if (s != EVK_SUCCESS)
        return s;
    evk_mbconv_desc d = evk_mbconv_resolve(desc);
    uint64_t e = d.expanded_channels, kk = (uint64_t)d.kernel_size * d.kernel_size;
    uint64_t se = (d.flags & EVK_MBCONV_NO_SE) ? 0 : evk_mbconv_squeeze_channels(&d);
    uint64_t expand = d.expand_ratio > 1 ? e * d.in_channels : 0;
    uint64_t in_plane = EVK_PRODUCT(in.n, in.h, in.w), out_plane = EVK_PRODUCT(out.n, out.h, out.w);
    uint64_t macs_sat = EVK_SUM(EVK_PRODUCT(in_plane, expand),
                                EVK_PRODUCT(out_plane, e, kk + d.out_channels),
                                EVK_PRODUCT(in.n, 2, e, se));
    uint64_t expand_bn = d.expand_ratio > 1 ? batchnorm_params(&d.expand_bn, d.expanded_channels) : 0;
    /* Channels are at most 2^20 each: the parameters cannot overflow. */
    uint64_t params_sat = expand + expand_bn + e * kk +
                          batchnorm_params(&d.depthwise_bn, d.expanded_channels) +
                          (se ? 2 * e * se + se + e : 0) + e * d.out_channels +
                          batchnorm_params(&d.project_bn, d.out_channels);
    return evk_store_costs("mbconv", &in, macs_sat, params_sat, macs, params);
}

static const char *mbconv_kernel_name(const evk_layer *layer)
{
    return ((const mbconv_layer *)layer)->fused ? "mbconv" : "mbconv_unfused";
}

static evk_status mbconv_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    return compute_output_shape(layer->ctx, &((const mbconv_layer *)layer)->desc, in, out);
}

static void mbconv_destroy(evk_layer *layer)
{
    mbconv_layer *l = (mbconv_layer *)layer;
    evk_layer_destroy(l->expand);
    evk_layer_destroy(l->depthwise);
    evk_layer_destroy(l->project);
    evk_buffer *buffers[] = {&l->fc1, &l->fc1_bias, &l->fc2, &l->fc2_bias};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; ++i)
        evk_buffer_destroy(layer->ctx, buffers[i]);
    evk_mbconv_scratch_destroy(layer->ctx, &l->own);
    evk_free(layer->ctx, l);
}

/* Grows a scratch buffer to at least `bytes`. A layer records one input
 * shape per submission, and blocks that share scratch are all reserved
 * before any records, so no recorded command still uses the old one. */
static evk_status reserve(evk_context *ctx, evk_buffer *b, uint64_t bytes, const char *what)
{
    if (b->buffer && b->bytes >= bytes)
        return EVK_SUCCESS;
    evk_buffer_destroy(ctx, b);
    memset(b, 0, sizeof *b);
    return evk_buffer_create(ctx, bytes, EVK_BUFFER_DEVICE, what, b);
}

/* Whether the fused depthwise writes one SE partial sum per invocation
 * instead of adding its workgroup's in shared memory (the profile's
 * se_partials_per_lane). */
static int lane_partials(const evk_context *ctx)
{
    return ctx->profile.se_partials_per_lane == EVK_SWITCH_ON;
}

/* The intermediate tensors of one forward: views of the scratch buffers. */
typedef struct stages {
    evk_tensor expanded, depthwise;
    evk_shape out;
    uint32_t partials;              /* SE partial sums per (image, quad) of the fused depthwise */
} stages;

static evk_tensor view(mbconv_layer *l, evk_shape shape, const evk_buffer *buffer)
{
    return (evk_tensor){l->base.ctx, shape, *buffer};
}

static evk_status prepare_stages(mbconv_layer *l, evk_shape in, stages *st)
{
    evk_context *ctx = l->base.ctx;
    uint32_t e = l->desc.expanded_channels;
    compute_output_shape(ctx, &l->desc, in, &st->out);
    evk_shape expanded = {in.n, e, in.h, in.w}, dw = {in.n, e, st->out.h, st->out.w};
    st->partials = evk_conv2d_depthwise_partials(l->depthwise, dw, lane_partials(ctx));
    uint64_t quads = (uint64_t)in.n * evk_div_up(e, 4);
    evk_status s = reserve(ctx, &l->scratch->depthwise_out, evk_tensor_bytes(ctx, dw),
                           "mbconv depthwise output");
    if (s == EVK_SUCCESS && l->expand)
        s = reserve(ctx, &l->scratch->expanded, evk_tensor_bytes(ctx, expanded), "mbconv expanded");
    /* The scales are stored like activations; the partial sums stay float32. */
    if (s == EVK_SUCCESS && l->has_se)
        s = reserve(ctx, &l->scratch->scale, quads * 4 * evk_element_bytes(ctx), "mbconv SE scale");
    if (s == EVK_SUCCESS && l->has_se && l->fused)
        s = reserve(ctx, &l->scratch->partials, quads * st->partials * 16,
                    "mbconv SE partial sums");
    if (s == EVK_SUCCESS && l->has_se && !l->fused)
        s = reserve(ctx, &l->scratch->scaled, evk_tensor_bytes(ctx, dw), "mbconv scaled");
    st->expanded = view(l, expanded, &l->scratch->expanded);
    st->depthwise = view(l, dw, &l->scratch->depthwise_out);
    return s;
}

/* Whether the SE's lanes share each quad's pool of `count` partial sums
 * (the unfused sequence pools whole planes) instead of summing a quad per
 * lane: above the profile's se_shared_pool_above. */
static int split_pool(const evk_context *ctx, uint32_t count)
{
    return count > ctx->profile.se_shared_pool_above;
}

/* mbconv_se.comp over `count` partial sums per channel quad in `partials`:
 * float32 sums of the fused depthwise, or (`stored`) the depthwise output,
 * stored at the context's precision. */
static evk_status record_se(mbconv_layer *l, evk_binding partials, const stages *st, uint32_t count,
                            int stored)
{
    uint32_t e = l->desc.expanded_channels, e4 = evk_div_up(e, 4);
    uint32_t squeeze = evk_mbconv_squeeze_channels(&l->desc);
    struct { uint32_t batch, channels, count; float inv_plane; } push = {
        st->out.n, e, count, 1.0f / ((float)st->out.h * (float)st->out.w)};
    evk_pipeline_key key = {.shader = "mbconv_se", .workgroup_size = SE_WORKGROUP,
                            .spec = {l->desc.activation, e4, squeeze, split_pool(l->base.ctx, count),
                                     (uint32_t)stored},
                            .spec_count = 5, .binding_count = 6, .push_bytes = sizeof push,
                            .shared_bytes = 16 * e4 + 4 * squeeze + 16 * SE_WORKGROUP,
                            .texel_bindings = EVK_BINDING_MBCONV_SE_PARTIAL_TEXELS |
                                              EVK_BINDING_MBCONV_SE_FC1_TEXELS |
                                              EVK_BINDING_MBCONV_SE_FC2_TEXELS,
                            .wide_bindings = stored ? 0 : EVK_BINDING_MBCONV_SE_PARTIAL_TEXELS};
    evk_binding bindings[6] = {partials, {l->scratch->scale.buffer, 0, l->scratch->scale.bytes, 1, 0},
                               evk_buffer_binding(&l->fc1), evk_buffer_binding(&l->fc1_bias),
                               evk_buffer_binding(&l->fc2), evk_buffer_binding(&l->fc2_bias)};
    return evk_command_dispatch(l->base.ctx, &key, bindings, &push, st->out.n);
}

/* mbconv_elementwise.comp: y = x · scale (per image and quad) or y += x. */
static evk_status record_elementwise(mbconv_layer *l, uint32_t mode, const evk_tensor *y,
                                     const evk_tensor *x)
{
    evk_shape s = y->shape;
    struct { uint32_t quads, plane; } push = {
        (uint32_t)((uint64_t)s.n * evk_div_up(s.c, 4) * s.h * s.w), s.h * s.w};
    evk_pipeline_key key = {.shader = "mbconv_elementwise", .workgroup_size = ELEMENTWISE_WORKGROUP,
                            .spec = {mode}, .spec_count = 1, .binding_count = 3,
                            .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_MBCONV_ELEMENTWISE_INPUT_TEXELS |
                                              EVK_BINDING_MBCONV_ELEMENTWISE_SCALE_TEXELS};
    /* The residual add reads no scales: binding 2 gets x again, which can
     * always be a texel view. */
    evk_binding bindings[3] = {evk_tensor_binding(y, 1), evk_tensor_binding(x, 0),
                               mode == ELEMENTWISE_SCALE ? evk_buffer_binding(&l->scratch->scale)
                                                         : evk_tensor_binding(x, 0)};
    return evk_command_dispatch(l->base.ctx, &key, bindings, &push,
                                evk_div_up(push.quads, ELEMENTWISE_WORKGROUP));
}

static evk_status record_fused(mbconv_layer *l, const evk_tensor *in, evk_tensor *out,
                               stages *st)
{
    const evk_tensor *dw_in = l->expand ? &st->expanded : in;
    evk_status s = l->expand ? l->expand->ops->record(l->expand, in, &st->expanded) : EVK_SUCCESS;
    evk_binding partials = {l->scratch->partials.buffer, 0, l->scratch->partials.bytes, 1, 0};
    int per_lane = lane_partials(l->base.ctx);
    evk_conv2d_variant dw = {.shader = "mbconv_depthwise", .bindings = &partials,
                             .binding_count = 1, .spec = {(uint32_t)per_lane}, .spec_count = 1,
                             .shared_bytes = per_lane ? 0 : DEPTHWISE_SHARED_BYTES};
    if (s == EVK_SUCCESS)
        s = l->has_se ? evk_conv2d_record_variant(l->depthwise, dw_in, &st->depthwise, &dw)
                      : l->depthwise->ops->record(l->depthwise, dw_in, &st->depthwise);
    partials.writes = 0;
    if (s == EVK_SUCCESS && l->has_se)
        s = record_se(l, partials, st, st->partials, 0);
    /* Bindings that the constants leave unused get the project's input, which
     * can always be a texel view (the texel variant needs all of them to be). */
    evk_binding unused = evk_tensor_binding(&st->depthwise, 0);
    evk_binding extra[2] = {l->has_se ? evk_buffer_binding(&l->scratch->scale) : unused,
                            l->residual ? evk_tensor_binding(in, 0) : unused};
    evk_conv2d_variant project = {.shader = "mbconv_project", .bindings = extra,
                                  .binding_count = 2, .spec = {l->residual, l->has_se},
                                  .spec_count = 2,
                                  .texel_bindings = EVK_BINDING_MBCONV_PROJECT_SCALE_TEXELS |
                                                    EVK_BINDING_MBCONV_PROJECT_RESIDUAL_TEXELS};
    if (s == EVK_SUCCESS)
        s = evk_conv2d_record_variant(l->project, &st->depthwise, out, &project);
    return s;
}

static evk_status record_unfused(mbconv_layer *l, const evk_tensor *in, evk_tensor *out,
                                 stages *st)
{
    const evk_tensor *dw_in = l->expand ? &st->expanded : in;
    evk_status s = l->expand ? l->expand->ops->record(l->expand, in, &st->expanded) : EVK_SUCCESS;
    if (s == EVK_SUCCESS)
        s = l->depthwise->ops->record(l->depthwise, dw_in, &st->depthwise);
    evk_tensor scaled = view(l, st->depthwise.shape, &l->scratch->scaled);
    if (s == EVK_SUCCESS && l->has_se)
        s = record_se(l, evk_tensor_binding(&st->depthwise, 0), st, st->out.h * st->out.w, 1);
    if (s == EVK_SUCCESS && l->has_se)
        s = record_elementwise(l, ELEMENTWISE_SCALE, &scaled, &st->depthwise);
    if (s == EVK_SUCCESS)
        s = l->project->ops->record(l->project, l->has_se ? &scaled : &st->depthwise, out);
    if (s == EVK_SUCCESS && l->residual)
        s = record_elementwise(l, ELEMENTWISE_ADD, out, in);
    return s;
}

void evk_mbconv_scratch_destroy(evk_context *ctx, evk_mbconv_scratch *scratch)
{
    evk_buffer *buffers[] = {&scratch->expanded, &scratch->depthwise_out, &scratch->partials,
                             &scratch->scale, &scratch->scaled};
    for (size_t i = 0; i < sizeof buffers / sizeof buffers[0]; ++i)
        evk_buffer_destroy(ctx, buffers[i]);
}

void evk_mbconv_share_scratch(evk_layer *layer, evk_mbconv_scratch *shared)
{
    mbconv_layer *l = (mbconv_layer *)layer;
    evk_mbconv_scratch_destroy(layer->ctx, &l->own);
    l->scratch = shared;
}

evk_status evk_mbconv_reserve(evk_layer *layer, evk_shape input)
{
    stages st;
    return prepare_stages((mbconv_layer *)layer, input, &st);
}

static evk_status mbconv_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    mbconv_layer *l = (mbconv_layer *)layer;
    stages st;
    evk_status s = prepare_stages(l, in->shape, &st);
    if (s != EVK_SUCCESS)
        return s;
    return l->fused ? record_fused(l, in, out, &st) : record_unfused(l, in, out, &st);
}

static const evk_layer_ops mbconv_ops = {mbconv_kernel_name, mbconv_output_shape, mbconv_record,
                                         mbconv_destroy};

static evk_status create_convs(mbconv_layer *l, const evk_mbconv_desc *d)
{
    evk_context *ctx = l->base.ctx;
    uint32_t e = d->expanded_channels, k = d->kernel_size, pad = (k - 1) / 2;
    evk_conv2d_desc expand = {.in_channels = d->in_channels, .out_channels = e, .kernel_h = 1,
                              .kernel_w = 1, .activation = d->activation,
                              .weight = d->expand_weight,
                              .weight_count = d->expand_weight_count, .batchnorm = d->expand_bn};
    evk_conv2d_desc depthwise = {.in_channels = e, .out_channels = e, .kernel_h = k, .kernel_w = k,
                                 .stride_h = d->stride, .stride_w = d->stride, .pad_h = pad,
                                 .pad_w = pad, .groups = e, .activation = d->activation,
                                 .weight = d->depthwise_weight,
                                 .weight_count = d->depthwise_weight_count,
                                 .batchnorm = d->depthwise_bn};
    evk_conv2d_desc project = {.in_channels = e, .out_channels = d->out_channels, .kernel_h = 1,
                               .kernel_w = 1, .weight = d->project_weight,
                               .weight_count = d->project_weight_count,
                               .batchnorm = d->project_bn};
    evk_status s = d->expand_ratio > 1 ? evk_conv2d_create(ctx, &expand, &l->expand) : EVK_SUCCESS;
    if (s == EVK_SUCCESS)
        s = evk_conv2d_create(ctx, &depthwise, &l->depthwise);
    if (s == EVK_SUCCESS)
        s = evk_conv2d_create(ctx, &project, &l->project);
    return s;
}

static evk_status upload_se(mbconv_layer *l, const evk_mbconv_desc *d)
{
    evk_context *ctx = l->base.ctx;
    evk_mbconv_se_packed packed;
    evk_status s = evk_mbconv_pack_se(ctx, d, &packed);
    if (s != EVK_SUCCESS)
        return s;
    s = evk_buffer_create_weights(ctx, packed.fc1, packed.fc1_bytes / sizeof(float),
                                  "mbconv SE fc1", &l->fc1);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_with_data(ctx, packed.fc1_bias, packed.fc1_bias_bytes,
                                        "mbconv SE fc1 bias", &l->fc1_bias);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_weights(ctx, packed.fc2, packed.fc2_bytes / sizeof(float),
                                      "mbconv SE fc2", &l->fc2);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_with_data(ctx, packed.fc2_bias, packed.fc2_bias_bytes,
                                        "mbconv SE fc2 bias", &l->fc2_bias);
    evk_mbconv_se_packed_free(ctx, &packed);
    return s;
}

static evk_status build(mbconv_layer *l, const evk_mbconv_desc *d)
{
    evk_status s = create_convs(l, d);
    if (s == EVK_SUCCESS && l->has_se)
        s = upload_se(l, d);
    return s;
}

static evk_status mbconv_create_entered(evk_context *ctx, const evk_mbconv_desc *desc, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "mbconv: ctx or out is NULL");
    *out = NULL;
    evk_status s = evk_mbconv_check(ctx, desc);
    evk_mbconv_desc d = s == EVK_SUCCESS ? evk_mbconv_resolve(desc) : (evk_mbconv_desc){0};
    if (s == EVK_SUCCESS)
        s = evk_mbconv_check_arrays(ctx, &d);
    if (s != EVK_SUCCESS)
        return s;
    mbconv_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "mbconv layer");
    l->base.ctx = ctx;
    l->base.ops = &mbconv_ops;
    l->scratch = &l->own;
    l->has_se = !(d.flags & EVK_MBCONV_NO_SE);
    l->residual = d.stride == 1 && d.in_channels == d.out_channels;
    s = build(l, &d);
    /* A one-channel depthwise conv is a plain conv2d, which has no variant. */
    l->fused = !(d.flags & EVK_MBCONV_UNFUSED) && s == EVK_SUCCESS &&
               strcmp(evk_layer_kernel_name(l->depthwise), "conv2d_depthwise") == 0;
    l->desc = d;
    l->desc.expand_weight = l->desc.depthwise_weight = l->desc.project_weight = NULL;
    l->desc.se_fc1_weight = l->desc.se_fc1_bias = l->desc.se_fc2_weight = l->desc.se_fc2_bias = NULL;
    l->desc.expand_bn = l->desc.depthwise_bn = l->desc.project_bn = (evk_batchnorm){0};
    if (s != EVK_SUCCESS) {
        mbconv_destroy(&l->base);
        return s;
    }
    *out = &l->base;
    return EVK_SUCCESS;
}

evk_status evk_mbconv_create(evk_context *ctx, const evk_mbconv_desc *desc, evk_layer **out)
{
    EVK_ENTERED_CREATE(ctx, out, mbconv_create_entered(ctx, desc, out));
}
