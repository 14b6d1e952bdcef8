/* Global average pooling: one dispatch of shaders/pool_global.comp, with
 * the profile's pool_lanes lanes per plane; max and average pooling of a
 * window below. */
#include <stdio.h>

#include "pipeline.h"
#include "pool.h"
#include "profile.h"
#include "shader_bindings.h"

static const char *pool_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "global_avg_pool";
}

static evk_status pool_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    evk_status s = evk_shape_check(layer->ctx, in, "global_avg_pool input");
    if (s == EVK_SUCCESS)
        *out = (evk_shape){in.n, in.c, 1, 1};
    return s;
}

static evk_status pool_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    evk_context *ctx = layer->ctx;
    evk_shape s = in->shape;
    struct { uint32_t planes, plane; float inv_plane; } push = {
        s.n * evk_div_up(s.c, 4), s.h * s.w, 1.0f / ((float)s.h * (float)s.w)};
    uint32_t split = ctx->profile.pool_lanes;
    uint32_t wg = split > 1 ? split : evk_workgroup_size_for(&ctx->profile, push.planes);
    evk_pipeline_key key = {.shader = "pool_global", .workgroup_size = wg, .spec = {split},
                            .spec_count = 1, .binding_count = 2, .push_bytes = sizeof push,
                            .shared_bytes = split > 1 ? 16 * wg : 0,
                            .texel_bindings = EVK_BINDING_POOL_GLOBAL_INPUT_TEXELS};
    evk_binding bindings[2] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0)};
    return evk_command_dispatch(ctx, &key, bindings, &push,
                                evk_div_up_u64((uint64_t)push.planes * split, wg));
}

static void pool_destroy(evk_layer *layer)
{
    evk_free(layer->ctx, layer);
}

static const evk_layer_ops pool_ops = {pool_kernel_name, pool_output_shape, pool_record,
                                       pool_destroy};

evk_status evk_global_avg_pool_create(evk_context *ctx, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "global_avg_pool: ctx or out is NULL");
    evk_layer *layer = evk_calloc(ctx, 1, sizeof *layer);
    if (!layer)
        return evk_fail_oom(ctx, "global_avg_pool layer");
    layer->ctx = ctx;
    layer->ops = &pool_ops;
    *out = layer;
    return EVK_SUCCESS;
}

/* ---- Max and average pooling of a window: one dispatch of
 * shaders/pool_max.comp or pool_avg.comp. */

enum { POOL2D_WORKGROUP = 64, POOL2D_MAX_KERNEL = 15, POOL2D_MAX_STRIDE = 15 };
/* The shaders' window arithmetic is signed 32-bit: inputs of at most 2^30
 * quads keep every side and its padded end below 2^31. */
#define POOL2D_MAX_INPUT_QUADS (1ull << 30)

typedef struct pool2d_layer {
    evk_layer base;
    evk_pool2d_desc desc;
    int average;
} pool2d_layer;

static const char *pool2d_kernel_name(const evk_layer *layer)
{
    return ((const pool2d_layer *)layer)->average ? "avg_pool" : "max_pool";
}

/* Output rows (or columns) by ONNX's and PyTorch's rule; 0 when the window
 * does not fit the padded input. Ceil mode's dropped last window is one
 * that would start in the end padding: each kept window so holds at least
 * one pixel of the map, since the padding at its start is below the kernel. */
static uint64_t pool2d_extent(uint32_t in, uint32_t kernel, uint32_t stride, uint32_t pad_begin,
                              uint32_t pad_end, int ceil_mode)
{
    uint64_t padded = (uint64_t)in + pad_begin + pad_end;
    if (padded < kernel)
        return 0;
    uint64_t span = padded - kernel;
    uint64_t out = (ceil_mode ? evk_div_up_u64(span, stride) : span / stride) + 1;
    if (ceil_mode && (out - 1) * stride >= (uint64_t)in + pad_begin)
        --out;
    return out;
}

static evk_status pool2d_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const evk_pool2d_desc *d = &((const pool2d_layer *)layer)->desc;
    const char *name = pool2d_kernel_name(layer);
    char what[32];
    snprintf(what, sizeof what, "%s input", name);
    evk_status s = evk_shape_check(layer->ctx, in, what);
    if (s != EVK_SUCCESS)
        return s;
    uint64_t h = pool2d_extent(in.h, d->kernel_h, d->stride_h, d->pad_top, d->pad_bottom,
                               d->ceil_mode);
    uint64_t w = pool2d_extent(in.w, d->kernel_w, d->stride_w, d->pad_left, d->pad_right,
                               d->ceil_mode);
    if (!h || !w)
        return evk_fail(layer->ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "%s: input %ux%ux%ux%u is smaller than the %ux%u window (padding top "
                        "%u, left %u, bottom %u, right %u)",
                        name, in.n, in.c, in.h, in.w, d->kernel_h, d->kernel_w, d->pad_top,
                        d->pad_left, d->pad_bottom, d->pad_right);
    if (h > UINT32_MAX || w > UINT32_MAX)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: input %ux%ux%ux%u gives %llux%llu outputs per plane", name, in.n, in.c,
                        in.h, in.w, (unsigned long long)h, (unsigned long long)w);
    *out = (evk_shape){in.n, in.c, (uint32_t)h, (uint32_t)w};
    return EVK_SUCCESS;
}

static evk_status pool2d_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    const pool2d_layer *l = (const pool2d_layer *)layer;
    const evk_pool2d_desc *d = &l->desc;
    evk_shape i = in->shape, o = out->shape;
    uint64_t planes = (uint64_t)i.n * evk_div_up(i.c, 4);
    uint64_t in_quads = planes * i.h * i.w, out_quads = planes * o.h * o.w;
    if (in_quads > POOL2D_MAX_INPUT_QUADS || out_quads > UINT32_MAX)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: %llu input quads (at most 2^30) and %llu output quads (at most 2^32)",
                        pool2d_kernel_name(layer), (unsigned long long)in_quads,
                        (unsigned long long)out_quads);
    struct {
        uint32_t planes, in_h, in_w, out_h, out_w, kernel_h, kernel_w, stride_h, stride_w;
        uint32_t pad_top, pad_left, pad_bottom, pad_right, count_include_pad;
    } push = {(uint32_t)planes,
              i.h,
              i.w,
              o.h,
              o.w,
              d->kernel_h,
              d->kernel_w,
              d->stride_h,
              d->stride_w,
              d->pad_top,
              d->pad_left,
              d->pad_bottom,
              d->pad_right,
              d->count_include_pad != 0};
    evk_pipeline_key key = {.shader = l->average ? "pool_avg" : "pool_max",
                            .workgroup_size = POOL2D_WORKGROUP,
                            .binding_count = 2,
                            .push_bytes = sizeof push,
                            .texel_bindings = l->average ? EVK_BINDING_POOL_AVG_INPUT_TEXELS
                                                         : EVK_BINDING_POOL_MAX_INPUT_TEXELS};
    evk_binding bindings[2] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0)};
    return evk_command_dispatch(layer->ctx, &key, bindings, &push,
                                evk_div_up_u64(out_quads, POOL2D_WORKGROUP));
}

static const evk_layer_ops pool2d_ops = {pool2d_kernel_name, pool2d_output_shape, pool2d_record,
                                         pool_destroy};

static evk_status pool2d_create(evk_context *ctx, const evk_pool2d_desc *d, int average,
                                evk_layer **out)
{
    const char *name = average ? "avg_pool" : "max_pool";
    if (!ctx || !d || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: ctx, desc or out is NULL", name);
    *out = NULL;
    if (!d->kernel_h || !d->kernel_w || d->kernel_h > POOL2D_MAX_KERNEL ||
        d->kernel_w > POOL2D_MAX_KERNEL)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: kernel %ux%u (each 1 to %u)", name,
                        d->kernel_h, d->kernel_w, (unsigned)POOL2D_MAX_KERNEL);
    if (!d->stride_h || !d->stride_w || d->stride_h > POOL2D_MAX_STRIDE ||
        d->stride_w > POOL2D_MAX_STRIDE)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: stride %ux%u (each 1 to %u)", name,
                        d->stride_h, d->stride_w, (unsigned)POOL2D_MAX_STRIDE);
    if (d->pad_top >= d->kernel_h || d->pad_bottom >= d->kernel_h || d->pad_left >= d->kernel_w ||
        d->pad_right >= d->kernel_w)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: padding top %u, left %u, bottom %u, right %u (each below the %ux%u "
                        "kernel's side)",
                        name, d->pad_top, d->pad_left, d->pad_bottom, d->pad_right, d->kernel_h,
                        d->kernel_w);
    pool2d_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, average ? "avg_pool layer" : "max_pool layer");
    l->base.ctx = ctx;
    l->base.ops = &pool2d_ops;
    l->desc = *d;
    l->average = average;
    *out = &l->base;
    return EVK_SUCCESS;
}

evk_status evk_max_pool2d_create(evk_context *ctx, const evk_pool2d_desc *desc, evk_layer **out)
{
    return pool2d_create(ctx, desc, 0, out);
}

evk_status evk_avg_pool2d_create(evk_context *ctx, const evk_pool2d_desc *desc, evk_layer **out)
{
    return pool2d_create(ctx, desc, 1, out);
}

/* Its narrower limits are the ones it always documented. */
evk_status evk_max_pool_create(evk_context *ctx, uint32_t kernel, uint32_t stride, uint32_t pad,
                               evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "max_pool: ctx or out is NULL");
    *out = NULL;
    if (!kernel || kernel > POOL2D_MAX_KERNEL || !stride || stride > kernel || 2 * pad > kernel)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "max_pool: kernel %u, stride %u, padding %u (kernel 1 to %u, stride 1 to "
                        "kernel, padding at most kernel / 2)",
                        kernel, stride, pad, (unsigned)POOL2D_MAX_KERNEL);
    evk_pool2d_desc desc = {.kernel_h = kernel,
                            .kernel_w = kernel,
                            .stride_h = stride,
                            .stride_w = stride,
                            .pad_top = pad,
                            .pad_left = pad,
                            .pad_bottom = pad,
                            .pad_right = pad};
    return pool2d_create(ctx, &desc, 0, out);
}
