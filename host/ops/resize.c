/* Nearest-neighbour upsampling by integer factors: one dispatch of
 * shaders/resize.comp. */
#include "resize.h"
#include "pipeline.h"
#include "shader_bindings.h"

enum { RESIZE_WORKGROUP = 64, RESIZE_MAX_SCALE = 64 };
#define RESIZE_MAX_SIDE (1u << 24)

typedef struct resize_layer {
    evk_layer base;
    uint32_t scale_h, scale_w;
} resize_layer;

static const char *resize_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "resize_nearest";
}

static evk_status resize_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const resize_layer *l = (const resize_layer *)layer;
    evk_status s = evk_shape_check(layer->ctx, in, "resize_nearest input");
    if (s != EVK_SUCCESS)
        return s;
    uint64_t h = (uint64_t)in.h * l->scale_h, w = (uint64_t)in.w * l->scale_w;
    if (h > RESIZE_MAX_SIDE || w > RESIZE_MAX_SIDE)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "resize_nearest: input %ux%ux%ux%u scaled %ux%u is %llux%llu, past 2^24 "
                        "rows or columns",
                        in.n, in.c, in.h, in.w, l->scale_h, l->scale_w, (unsigned long long)h,
                        (unsigned long long)w);
    *out = (evk_shape){in.n, in.c, (uint32_t)h, (uint32_t)w};
    return evk_shape_check(layer->ctx, *out, "resize_nearest output");
}

static evk_status resize_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    const resize_layer *l = (const resize_layer *)layer;
    evk_shape i = in->shape, o = out->shape;
    uint64_t quads = (uint64_t)o.n * evk_div_up(o.c, 4) * o.h * o.w;
    if (quads > UINT32_MAX)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "resize_nearest: %llu quads exceed 2^32", (unsigned long long)quads);
    struct {
        uint32_t quads, in_h, in_w, out_h, out_w, scale_h, scale_w;
    } push = {(uint32_t)quads, i.h, i.w, o.h, o.w, l->scale_h, l->scale_w};
    evk_pipeline_key key = {.shader = "resize",
                            .workgroup_size = RESIZE_WORKGROUP,
                            .binding_count = 2,
                            .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_RESIZE_INPUT_TEXELS};
    evk_binding bindings[2] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0)};
    return evk_command_dispatch(layer->ctx, &key, bindings, &push,
                                evk_div_up_u64(quads, RESIZE_WORKGROUP));
}

static void resize_destroy(evk_layer *layer)
{
    evk_free(layer->ctx, layer);
}

static const evk_layer_ops resize_ops = {resize_kernel_name, resize_output_shape, resize_record,
                                         resize_destroy};

evk_status evk_resize_nearest_create(evk_context *ctx, uint32_t scale_h, uint32_t scale_w,
                                     evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "resize_nearest: ctx or out is NULL");
    *out = NULL;
    if (!scale_h || !scale_w || scale_h > RESIZE_MAX_SCALE || scale_w > RESIZE_MAX_SCALE)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "resize_nearest: factors %ux%u (each 1 to %u)", scale_h, scale_w,
                        (unsigned)RESIZE_MAX_SCALE);
    resize_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "resize_nearest layer");
    l->base.ctx = ctx;
    l->base.ops = &resize_ops;
    l->scale_h = scale_h;
    l->scale_w = scale_w;
    *out = &l->base;
    return EVK_SUCCESS;
}
