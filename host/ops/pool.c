/* Global average pooling: one dispatch of shaders/pool_global.comp, with
 * the profile's pool_lanes lanes per plane. */
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

/* ---- Max pooling: one dispatch of shaders/pool_max.comp. */

enum { MAX_POOL_WORKGROUP = 64, MAX_POOL_KERNEL = 15 };

typedef struct max_pool_layer {
    evk_layer base;
    uint32_t kernel, stride, pad;
} max_pool_layer;

static const char *max_pool_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "max_pool";
}

static evk_status max_pool_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const max_pool_layer *l = (const max_pool_layer *)layer;
    evk_status s = evk_shape_check(layer->ctx, in, "max_pool input");
    if (s != EVK_SUCCESS)
        return s;
    if (in.h + 2 * l->pad < l->kernel || in.w + 2 * l->pad < l->kernel)
        return evk_fail(layer->ctx, EVK_ERROR_SHAPE_MISMATCH, "max_pool: input %ux%u is smaller "
                        "than the %ux%u window (padding %u)", in.h, in.w, l->kernel, l->kernel,
                        l->pad);
    *out = (evk_shape){in.n, in.c, (in.h + 2 * l->pad - l->kernel) / l->stride + 1,
                       (in.w + 2 * l->pad - l->kernel) / l->stride + 1};
    return EVK_SUCCESS;
}

static evk_status max_pool_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    const max_pool_layer *l = (const max_pool_layer *)layer;
    evk_shape i = in->shape, o = out->shape;
    struct { uint32_t planes, in_h, in_w, out_h, out_w, kernel, stride, pad; } push = {
        i.n * evk_div_up(i.c, 4), i.h, i.w, o.h, o.w, l->kernel, l->stride, l->pad};
    evk_pipeline_key key = {.shader = "pool_max", .workgroup_size = MAX_POOL_WORKGROUP,
                            .binding_count = 2, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_POOL_MAX_INPUT_TEXELS};
    evk_binding bindings[2] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0)};
    uint64_t quads = (uint64_t)push.planes * o.h * o.w;
    return evk_command_dispatch(layer->ctx, &key, bindings, &push,
                                evk_div_up_u64(quads, MAX_POOL_WORKGROUP));
}

static const evk_layer_ops max_pool_ops = {max_pool_kernel_name, max_pool_output_shape,
                                           max_pool_record, pool_destroy};

evk_status evk_max_pool_create(evk_context *ctx, uint32_t kernel, uint32_t stride, uint32_t pad,
                               evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "max_pool: ctx or out is NULL");
    *out = NULL;
    if (!kernel || kernel > MAX_POOL_KERNEL || !stride || stride > kernel || 2 * pad > kernel)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "max_pool: kernel %u, stride %u, padding "
                        "%u (kernel 1 to %u, stride 1 to kernel, padding at most kernel / 2)",
                        kernel, stride, pad, (unsigned)MAX_POOL_KERNEL);
    max_pool_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "max_pool layer");
    l->base.ctx = ctx;
    l->base.ops = &max_pool_ops;
    l->kernel = kernel;
    l->stride = stride;
    l->pad = pad;
    *out = &l->base;
    return EVK_SUCCESS;
}
