/* Global average pooling: one dispatch of shaders/pool_global.comp. */
#include "pipeline.h"
#include "pool.h"

/* pool_global.comp's reduction assumes exactly this workgroup. */
enum { POOL_WORKGROUP = 64 };

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
    evk_shape s = in->shape;
    struct { uint32_t planes, plane; float inv_plane; } push = {
        s.n * evk_div_up(s.c, 4), s.h * s.w, 1.0f / ((float)s.h * (float)s.w)};
    evk_pipeline_key key = {.shader = "pool_global", .workgroup_size = POOL_WORKGROUP,
                            .binding_count = 2, .push_bytes = sizeof push,
                            .shared_bytes = 16 * POOL_WORKGROUP};
    evk_pipeline *pipeline;
    evk_status st = evk_pipeline_get(layer->ctx, &key, &pipeline);
    if (st != EVK_SUCCESS)
        return st;
    evk_binding bindings[2] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0)};
    return evk_command_dispatch(layer->ctx, pipeline, bindings, 2, &push, sizeof push, push.planes);
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
