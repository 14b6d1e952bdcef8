#include "conv2d.h"
#include "effvk_internal.h"
#include "element_storage.h"
#include "pipeline.h"
#include "profile.h"
#include "saturating.h"
#include "shader_bindings.h"
#include "context_entry.h"

typedef struct conv2d_layer {
    evk_layer base;
    evk_conv2d_desc desc;           /* resolved; weight pointers cleared */
    evk_conv2d_kernel kernel;
    evk_buffer weight;
    evk_buffer bias;
    const evk_conv2d_variant *variant; /* set only while evk_conv2d_record_variant records */
} conv2d_layer;

evk_conv2d_desc evk_conv2d_resolve(const evk_conv2d_desc *desc)
{
    evk_conv2d_desc d = *desc;
    d.stride_h = d.stride_h ? d.stride_h : 1;
    d.stride_w = d.stride_w ? d.stride_w : 1;
    d.groups = d.groups ? d.groups : 1;
    if (d.batchnorm.eps == 0.0f)
        d.batchnorm.eps = 1e-5f;
    return d;
}

evk_status evk_conv2d_check(evk_context *ctx, const evk_conv2d_desc *desc)
{
    if (!desc)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: desc is NULL");
    evk_conv2d_desc d = evk_conv2d_resolve(desc);
    if (!d.in_channels || !d.out_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: in_channels %u / out_channels %u "
                        "must be >= 1", d.in_channels, d.out_channels);
    if (!d.kernel_h || !d.kernel_w)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: kernel %ux%u must be >= 1x1",
                        d.kernel_h, d.kernel_w);
    if (d.kernel_h > 64 || d.kernel_w > 64 || d.stride_h > 64 || d.stride_w > 64 ||
        d.pad_h >= 1024 || d.pad_w >= 1024)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: kernel %ux%u, stride %ux%u or "
                        "padding %ux%u out of the supported range (kernel, stride <= 64, pad < 1024)",
                        d.kernel_h, d.kernel_w, d.stride_h, d.stride_w, d.pad_h, d.pad_w);
    int64_t bottom = (int64_t)d.pad_h + d.pad_bottom_extra;
    int64_t right = (int64_t)d.pad_w + d.pad_right_extra;
    if (bottom < 0 || bottom >= 1024 || right < 0 || right >= 1024)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: padding at the bottom %lld or "
                        "at the right %lld out of the supported range (0 to 1023)",
                        (long long)bottom, (long long)right);
    if (d.in_channels % d.groups || d.out_channels % d.groups)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "conv2d: groups %u must divide in_channels %u and out_channels %u",
                        d.groups, d.in_channels, d.out_channels);
    if ((unsigned)d.activation > EVK_ACTIVATION_SIGMOID)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: unknown activation %d",
                        (int)d.activation);
    if (!d.weight)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: weight is NULL");
    return evk_batchnorm_check(ctx, "conv2d", &d.batchnorm, d.out_channels);
}

/* `d` is resolved and valid; failures are reported on `ctx` (NULL: thread). */
static evk_status compute_output_shape(evk_context *ctx, const evk_conv2d_desc *d, evk_shape in,
                                       evk_shape *out)
{
    evk_status s = evk_shape_check(ctx, in, "conv2d input");
    if (s != EVK_SUCCESS)
        return s;
    if (in.c != d->in_channels)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "conv2d: input has %u channels, layer "
                        "expects %u", in.c, d->in_channels);
    int64_t padded_h = (int64_t)in.h + 2 * (int64_t)d->pad_h + d->pad_bottom_extra;
    int64_t padded_w = (int64_t)in.w + 2 * (int64_t)d->pad_w + d->pad_right_extra;
    if (padded_h < d->kernel_h || padded_w < d->kernel_w)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "conv2d: kernel %ux%u larger than the "
                        "padded input %lldx%lld", d->kernel_h, d->kernel_w,
                        (long long)padded_h, (long long)padded_w);
    out->n = in.n;
    out->c = d->out_channels;
    out->h = (uint32_t)((padded_h - d->kernel_h) / d->stride_h + 1);
    out->w = (uint32_t)((padded_w - d->kernel_w) / d->stride_w + 1);
    return EVK_SUCCESS;
}

evk_status evk_conv2d_output_shape(const evk_conv2d_desc *desc, evk_shape in, evk_shape *out)
{
    evk_status s = evk_conv2d_check(NULL, desc);
    if (s != EVK_SUCCESS)
        return s;
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "conv2d: output shape pointer is NULL");
    evk_conv2d_desc d = evk_conv2d_resolve(desc);
    return compute_output_shape(NULL, &d, in, out);
}

evk_status evk_conv2d_cost(const evk_conv2d_desc *desc, evk_shape in, uint64_t *macs,
                           uint64_t *params)
{
    evk_shape out;
    evk_status s = evk_conv2d_output_shape(desc, in, &out);
    if (s != EVK_SUCCESS)
        return s;
    evk_conv2d_desc d = evk_conv2d_resolve(desc);
    uint64_t per_out = EVK_PRODUCT(d.in_channels / d.groups, d.kernel_h, d.kernel_w);
    uint64_t macs_sat = EVK_PRODUCT(evk_shape_elements(out), per_out);
    uint64_t params_sat = EVK_SUM(EVK_PRODUCT(d.out_channels, per_out),
                                  (d.bias || d.batchnorm.gamma) ? d.out_channels : 0);
    return evk_store_costs("conv2d", &in, macs_sat, params_sat, macs, params);
}

evk_conv2d_kernel evk_conv2d_choose_kernel(const evk_conv2d_desc *d)
{
    if (d->groups == 1) {
        int pointwise = d->kernel_h == 1 && d->kernel_w == 1 && d->stride_h == 1 &&
                        d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0 &&
                        d->pad_bottom_extra == 0 && d->pad_right_extra == 0;
        return pointwise ? EVK_CONV2D_POINTWISE : EVK_CONV2D_DENSE;
    }
    if (d->groups == d->in_channels && d->groups == d->out_channels)
        return EVK_CONV2D_DEPTHWISE;
    return EVK_CONV2D_GROUPED;
}

static const char *conv2d_kernel_name(const evk_layer *layer)
{
    static const char *names[] = {"conv2d_pointwise", "conv2d_depthwise", "conv2d_dense",
                                  "conv2d_grouped"};
    return names[((const conv2d_layer *)layer)->kernel];
}

static evk_status conv2d_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    return compute_output_shape(layer->ctx, &((const conv2d_layer *)layer)->desc, in, out);
}

static void conv2d_destroy(evk_layer *layer)
{
    conv2d_layer *l = (conv2d_layer *)layer;
    evk_buffer_destroy(layer->ctx, &l->weight);
    evk_buffer_destroy(layer->ctx, &l->bias);
    evk_free(layer->ctx, l);
}

static evk_status dispatch_buffers(conv2d_layer *l, const evk_pipeline_key *key,
                                  evk_binding in, evk_binding out, const void *push, uint64_t groups)
{
    evk_binding bindings[EVK_MAX_BINDINGS] = {in, out, evk_buffer_binding(&l->weight),
                                              evk_buffer_binding(&l->bias)};
    for (uint32_t i = 4; i < key->binding_count; ++i)
        bindings[i] = l->variant->bindings[i - 4];
    return evk_command_dispatch(l->base.ctx, key, bindings, push, groups);
}

static evk_status dispatch(conv2d_layer *l, const evk_pipeline_key *key, const evk_tensor *in,
                           evk_tensor *out, const void *push, uint64_t groups)
{
    return dispatch_buffers(l, key, evk_tensor_binding(in, 0), evk_tensor_binding(out, 1), push,
                            groups);
}

/* Points `key` at the variant's shader with its bindings and constants, or
 * leaves it on the kernel's own shader when no variant is being recorded. */
static void apply_variant(const conv2d_layer *l, evk_pipeline_key *key)
{
    const evk_conv2d_variant *v = l->variant;
    if (!v)
        return;
    key->shader = v->shader;
    key->binding_count += v->binding_count;
    for (uint32_t i = 0; i < v->spec_count; ++i)
        key->spec[key->spec_count++] = v->spec[i];
    key->shared_bytes += v->shared_bytes;
    key->texel_bindings |= v->texel_bindings;
}

/* The most pixels per invocation (reuse of each weight load) that still keeps
 * three quarters of the lanes busy on small planes (1152->192 @7²: 8 pixels
 * run 1.7x faster than 16, which leave half of each subgroup idle). */
static uint32_t pointwise_tile_pixels(const evk_device_profile *profile, uint32_t plane)
{
    uint32_t sub = profile->subgroup_size;
    for (uint32_t tile = evk_tile_limits_for(profile)->pointwise_pixels; tile > 1; tile /= 2) {
        uint64_t slots = (uint64_t)evk_div_up(evk_div_up(plane, tile), sub) * sub * tile;
        if (4 * (uint64_t)plane >= 3 * slots)
            return tile;
    }
    return 1;
}

static evk_status record_pointwise(conv2d_layer *l, const evk_tensor *in, evk_tensor *out)
{
    struct { uint32_t batch, in_c4, plane, out_c, out_c4, co_blocks, groups_per_plane; } push;
    push.batch = in->shape.n;
    push.in_c4 = evk_div_up(in->shape.c, 4);
    push.plane = in->shape.h * in->shape.w;
    push.out_c = out->shape.c;
    push.out_c4 = evk_div_up(out->shape.c, 4);
    const evk_device_profile *profile = &l->base.ctx->profile;
    uint32_t tile_c4 = evk_even_tile(push.out_c4, evk_tile_limits_for(profile)->pointwise_c4);
    uint32_t tile_p = pointwise_tile_pixels(profile, push.plane);
    push.co_blocks = evk_div_up(push.out_c4, tile_c4);
    uint32_t tiles = evk_div_up(push.plane, tile_p);
    evk_lane_plan lanes = evk_lane_plan_for(
        profile, tiles, (uint64_t)tiles * push.co_blocks * push.batch, push.in_c4);
    push.groups_per_plane = evk_div_up(tiles, lanes.tiles_per_group);
    evk_pipeline_key key = {.shader = "conv2d_pointwise", .workgroup_size = lanes.workgroup,
                            .spec = {l->desc.activation, tile_p, tile_c4, lanes.split},
                            .spec_count = 4, .binding_count = 4, .push_bytes = sizeof push,
                            .shared_bytes = evk_split_shared_bytes(lanes, tile_p * tile_c4),
                            .texel_bindings = EVK_BINDING_POINTWISE_INPUT_TEXELS |
                                              EVK_BINDING_POINTWISE_WEIGHT_TEXELS};
    apply_variant(l, &key);
    return dispatch(l, &key, in, out, &push,
                    (uint64_t)push.groups_per_plane * push.co_blocks * push.batch);
}

/* Shapes shared by the dense, depthwise and grouped kernels. */
typedef struct spatial_push {
    uint32_t batch, in_c4, in_h, in_w;
    uint32_t out_c, out_c4, out_h, out_w;
    uint32_t pad_h, pad_w;
} spatial_push;

static spatial_push spatial_shape(const conv2d_layer *l, evk_shape in, evk_shape out)
{
    spatial_push p = {in.n, evk_div_up(in.c, 4), in.h, in.w, out.c, evk_div_up(out.c, 4), out.h,
                      out.w, l->desc.pad_h, l->desc.pad_w};
    return p;
}

/* Wide row tiles pay on llvmpipe, where every load is a per-lane gather: an
 * input texel loaded once serves up to TILE_C4 quads and KW taps (measured:
 * 4 quads × 32 pixels ran 3×3 64->64 @56 2.2× faster than 2 × 4, and
 * 4 × 16 as fast as 4 × 32). The
 * width splits the row evenly so that no tile is mostly padding, and the
 * row segment an invocation keeps stays bounded for large strides. */
static uint32_t dense_tile_width(const evk_tile_limits *limits, uint32_t out_w, uint32_t stride_w,
                                 uint32_t kernel_w)
{
    uint32_t max_w = limits->dense_w;
    while (max_w > 1 && (max_w - 1) * stride_w + kernel_w > limits->dense_segment)
        --max_w;
    return evk_even_tile(out_w, max_w);
}

uint32_t evk_row_tile_width(const evk_context *ctx, uint32_t out_w, uint32_t rows, uint32_t max_w,
                            uint32_t stride, uint32_t kernel, uint32_t max_segment)
{
    uint32_t sub = ctx->profile.subgroup_size;
    while (max_w > 1 && (max_w - 1) * stride + kernel > max_segment)
        --max_w;
    uint32_t w = evk_even_tile(out_w, max_w);
    while (w > 2 && 4 * (uint64_t)rows * evk_div_up(out_w, w) < 3 * (uint64_t)sub)
        w = evk_even_tile(out_w, w / 2);
    return w;
}

static evk_status record_dense_buffers(conv2d_layer *l, evk_binding in, evk_shape in_shape,
                                       evk_binding out, evk_shape out_shape, int planar)
{
    struct { spatial_push s; uint32_t tiles_x, co_blocks, groups_per_plane, in_c; } push;
    push.s = spatial_shape(l, in_shape, out_shape);
    const evk_conv2d_desc *d = &l->desc;
    const evk_device_profile *profile = &l->base.ctx->profile;
    const evk_tile_limits *limits = evk_tile_limits_for(profile);
    uint32_t tile_w = dense_tile_width(limits, push.s.out_w, d->stride_w, d->kernel_w);
    push.tiles_x = evk_div_up(push.s.out_w, tile_w);
    uint32_t tile_c4 = evk_even_tile(push.s.out_c4, limits->dense_c4);
    push.co_blocks = evk_div_up(push.s.out_c4, tile_c4);
    uint32_t tiles = push.tiles_x * push.s.out_h;
    evk_lane_plan lanes = evk_lane_plan_for(
        profile, tiles, (uint64_t)tiles * push.co_blocks * push.s.batch, push.s.in_c4);
    push.groups_per_plane = evk_div_up(tiles, lanes.tiles_per_group);
    push.in_c = in_shape.c;
    evk_pipeline_key key = {.shader = "conv2d_dense", .workgroup_size = lanes.workgroup,
                            .spec = {d->activation, d->kernel_h, d->kernel_w, d->stride_h,
                                     d->stride_w, tile_w, tile_c4, (uint32_t)planar, lanes.split},
                            .spec_count = 9, .binding_count = 4, .push_bytes = sizeof push,
                            .shared_bytes = evk_split_shared_bytes(lanes, tile_w * tile_c4),
                            .texel_bindings = EVK_BINDING_CONV2D_DENSE_INPUT_TEXELS |
                                              EVK_BINDING_CONV2D_DENSE_WEIGHT_TEXELS};
    return dispatch_buffers(l, &key, in, out, &push,
                            (uint64_t)push.groups_per_plane * push.co_blocks * push.s.batch);
}

static evk_status record_dense(conv2d_layer *l, const evk_tensor *in, evk_tensor *out)
{
    return record_dense_buffers(l, evk_tensor_binding(in, 0), in->shape, evk_tensor_binding(out, 1),
                                out->shape, 0);
}

static evk_status forward_dense_layout_entered(evk_layer *layer, const evk_tensor *in,
                                               evk_tensor *out, int planar)
{
    conv2d_layer *l = (conv2d_layer *)layer;
    evk_context *ctx = layer->ctx;
    evk_status s = evk_tensor_check(ctx, in, "input");
    if (s == EVK_SUCCESS)
        s = evk_tensor_check(ctx, out, "output");
    if (s == EVK_SUCCESS && l->kernel != EVK_CONV2D_DENSE && l->kernel != EVK_CONV2D_POINTWISE)
        s = evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "the dense kernel runs only groups = 1 convs");
    if (s == EVK_SUCCESS)
        s = evk_command_begin(ctx);
    if (s != EVK_SUCCESS)
        return s;
    s = record_dense_buffers(l, evk_tensor_binding(in, 0), in->shape, evk_tensor_binding(out, 1),
                             out->shape, planar);
    if (s != EVK_SUCCESS) {
        evk_command_abort(ctx);
        return s;
    }
    return evk_command_submit_wait(ctx);
}

evk_status evk_conv2d_forward_dense_layout(evk_layer *layer, const evk_tensor *input,
                                           evk_tensor *output, int planar)
{
    if (!layer)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "layer is NULL");
    EVK_ENTERED(layer->ctx, forward_dense_layout_entered(layer, input, output, planar));
}

typedef struct depthwise_tile {
    uint32_t w, h;
} depthwise_tile;

/* The tile set's depthwise block (8 × 4 output pixels wide, 4 × 1 narrow),
 * split evenly over the plane, narrowed first in
 * width, then in height, while fewer than 3/4 of a subgroup's lanes would
 * hold a tile: on 7² planes (B0's last stage) 4 × 2 tiles run the depthwise
 * conv 2.5× faster than 8 × 4, which leave 6 of 8 lanes idle; 14² planes
 * keep 8 × 4. */
static depthwise_tile choose_depthwise_tile(const evk_context *ctx, evk_shape out)
{
    uint32_t sub = ctx->profile.subgroup_size;
    const evk_tile_limits *limits = evk_tile_limits_for(&ctx->profile);
    uint32_t max_w = limits->depthwise_w, max_h = limits->depthwise_h;
    depthwise_tile t;
    for (int narrow_width = 1;; narrow_width = !narrow_width) {
        t = (depthwise_tile){evk_even_tile(out.w, max_w), evk_even_tile(out.h, max_h)};
        uint64_t tiles = (uint64_t)evk_div_up(out.w, t.w) * evk_div_up(out.h, t.h);
        if (4 * tiles >= 3 * (uint64_t)sub || (max_w == 1 && max_h == 1))
            return t;
        if ((narrow_width && max_w > 1) || max_h == 1)
            max_w /= 2;
        else
            max_h /= 2;
    }
}

static evk_status record_depthwise(conv2d_layer *l, const evk_tensor *in, evk_tensor *out)
{
    struct { uint32_t batch, c4, channels, in_h, in_w, out_h, out_w, pad_h, pad_w, tiles_x,
             tiles_y, groups_per_plane; } push;
    push.batch = in->shape.n;
    push.c4 = evk_div_up(in->shape.c, 4);
    push.channels = in->shape.c;
    push.in_h = in->shape.h;
    push.in_w = in->shape.w;
    push.out_h = out->shape.h;
    push.out_w = out->shape.w;
    push.pad_h = l->desc.pad_h;
    push.pad_w = l->desc.pad_w;
    depthwise_tile tile = choose_depthwise_tile(l->base.ctx, out->shape);
    push.tiles_x = evk_div_up(push.out_w, tile.w);
    push.tiles_y = evk_div_up(push.out_h, tile.h);
    uint32_t wg = evk_workgroup_size_for(&l->base.ctx->profile, push.tiles_x * push.tiles_y);
    push.groups_per_plane = evk_div_up(push.tiles_x * push.tiles_y, wg);
    const evk_conv2d_desc *d = &l->desc;
    evk_pipeline_key key = {.shader = "conv2d_depthwise", .workgroup_size = wg,
                            .spec = {d->activation, d->kernel_h, d->kernel_w, d->stride_h,
                                     d->stride_w, tile.w, tile.h},
                            .spec_count = 7, .binding_count = 4, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_DEPTHWISE_INPUT_TEXELS};
    apply_variant(l, &key);
    return dispatch(l, &key, in, out, &push,
                    (uint64_t)push.groups_per_plane * push.c4 * push.batch);
}

uint32_t evk_conv2d_depthwise_partials(const evk_layer *layer, evk_shape out, int per_lane)
{
    depthwise_tile t = choose_depthwise_tile(layer->ctx, out);
    uint32_t tiles = evk_div_up(out.w, t.w) * evk_div_up(out.h, t.h);
    uint32_t wg = evk_workgroup_size_for(&layer->ctx->profile, tiles);
    return evk_div_up(tiles, wg) * (per_lane ? wg : 1);
}

static evk_status record_grouped(conv2d_layer *l, const evk_tensor *in, evk_tensor *out)
{
    struct { spatial_push s; uint32_t in_per_group, out_per_group, groups_per_plane; } push;
    push.s = spatial_shape(l, in->shape, out->shape);
    push.in_per_group = l->desc.in_channels / l->desc.groups;
    push.out_per_group = l->desc.out_channels / l->desc.groups;
    uint32_t pixels = push.s.out_h * push.s.out_w;
    uint32_t wg = evk_workgroup_size_for(&l->base.ctx->profile, pixels);
    push.groups_per_plane = evk_div_up(pixels, wg);
    const evk_conv2d_desc *d = &l->desc;
    evk_pipeline_key key = {.shader = "conv2d_grouped", .workgroup_size = wg,
                            .spec = {d->activation, d->kernel_h, d->kernel_w, d->stride_h,
                                     d->stride_w},
                            .spec_count = 5, .binding_count = 4, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_CONV2D_GROUPED_INPUT_TEXELS |
                                              EVK_BINDING_CONV2D_GROUPED_WEIGHT_FLOATS,
                            .float_texel_bindings = EVK_BINDING_CONV2D_GROUPED_WEIGHT_FLOATS};
    return dispatch(l, &key, in, out, &push,
                    (uint64_t)push.groups_per_plane * push.s.out_c4 * push.s.batch);
}

static evk_status conv2d_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    conv2d_layer *l = (conv2d_layer *)layer;
    switch (l->kernel) {
    case EVK_CONV2D_POINTWISE: return record_pointwise(l, in, out);
    case EVK_CONV2D_DEPTHWISE: return record_depthwise(l, in, out);
    case EVK_CONV2D_DENSE: return record_dense(l, in, out);
    case EVK_CONV2D_GROUPED: return record_grouped(l, in, out);
    }
    return evk_fail(layer->ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: unknown kernel");
}

evk_status evk_conv2d_record_variant(evk_layer *layer, const evk_tensor *in, evk_tensor *out,
                                     const evk_conv2d_variant *variant)
{
    conv2d_layer *l = (conv2d_layer *)layer;
    if (l->kernel != EVK_CONV2D_POINTWISE && l->kernel != EVK_CONV2D_DEPTHWISE)
        return evk_fail(layer->ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: only the pointwise and depthwise kernels have variants",
                        variant->shader);
    l->variant = variant;
    evk_status s = conv2d_record(layer, in, out);
    l->variant = NULL;
    return s;
}

static const evk_layer_ops conv2d_ops = {conv2d_kernel_name, conv2d_output_shape, conv2d_record,
                                         conv2d_destroy};

/* The packing sizes its float32 host arrays in bytes; the weights go to the
 * device at the context's precision, the bias as float32. */
static evk_status upload_weights(conv2d_layer *l, const float *weight, const float *bias)
{
    evk_context *ctx = l->base.ctx;
    const evk_conv2d_desc *d = &l->desc;
    size_t weight_bytes = (size_t)d->out_channels * d->in_channels / d->groups * d->kernel_h *
                          d->kernel_w * sizeof(float);
    size_t bias_bytes;
    float *packed = NULL;
    if (l->kernel == EVK_CONV2D_POINTWISE || l->kernel == EVK_CONV2D_DENSE)
        packed = evk_conv2d_pack_mat4(ctx, d, weight, &weight_bytes);
    else if (l->kernel == EVK_CONV2D_DEPTHWISE)
        packed = evk_conv2d_pack_depthwise(ctx, d, weight, &weight_bytes);
    float *packed_bias = evk_conv2d_pack_bias(ctx, d->out_channels, bias, &bias_bytes);
    evk_status s = EVK_SUCCESS;
    if ((!packed && l->kernel != EVK_CONV2D_GROUPED) || !packed_bias)
        s = evk_fail_oom(ctx, "conv2d packed weights");
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_weights(ctx, packed ? packed : weight, weight_bytes / sizeof(float),
                                      "conv2d weights", &l->weight);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_with_data(ctx, packed_bias, bias_bytes, "conv2d bias", &l->bias);
    evk_free(ctx, packed);
    evk_free(ctx, packed_bias);
    return s;
}

static evk_status conv2d_create_entered(evk_context *ctx, const evk_conv2d_desc *desc, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "conv2d: ctx or out is NULL");
    *out = NULL;
    evk_status s = evk_conv2d_check(ctx, desc);
    evk_conv2d_desc resolved = s == EVK_SUCCESS ? evk_conv2d_resolve(desc) : (evk_conv2d_desc){0};
    if (s == EVK_SUCCESS)
        s = evk_conv2d_check_arrays(ctx, &resolved);
    if (s != EVK_SUCCESS)
        return s;
    conv2d_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "conv2d layer");
    l->base.ctx = ctx;
    l->base.ops = &conv2d_ops;
    l->desc = resolved;
    l->kernel = evk_conv2d_choose_kernel(&l->desc);
    float *weight = NULL, *bias = NULL;
    s = evk_conv2d_fold(ctx, &l->desc, &weight, &bias);
    if (s == EVK_SUCCESS)
        s = upload_weights(l, weight, bias);
    evk_free(ctx, weight);
    evk_free(ctx, bias);
    l->desc.weight = l->desc.bias = NULL;
    l->desc.batchnorm = (evk_batchnorm){0};
    if (s != EVK_SUCCESS) {
        conv2d_destroy(&l->base);
        return s;
    }
    *out = &l->base;
    return EVK_SUCCESS;
}

evk_status evk_conv2d_create(evk_context *ctx, const evk_conv2d_desc *desc, evk_layer **out)
{
    EVK_ENTERED_CREATE(ctx, out, conv2d_create_entered(ctx, desc, out));
}
