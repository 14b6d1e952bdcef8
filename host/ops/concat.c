/* Channel concatenation: one dispatch of shaders/concat.comp. */
#include "concat.h"
#include "pipeline.h"
#include "shader_bindings.h"

enum { CONCAT_WORKGROUP = 64 };
#define CONCAT_MAX_CHANNELS (1u << 24)

typedef struct concat_layer {
    evk_layer base;
    uint32_t a_channels, b_channels;
} concat_layer;

static const char *concat_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "concat";
}

static evk_status concat_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const concat_layer *l = (const concat_layer *)layer;
    evk_status s = evk_shape_check(layer->ctx, in, "concat input");
    if (s != EVK_SUCCESS)
        return s;
    if (in.c != l->a_channels)
        return evk_fail(layer->ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "concat: input %ux%ux%ux%u has %u channels, the layer's first input %u",
                        in.n, in.c, in.h, in.w, in.c, l->a_channels);
    *out = (evk_shape){in.n, l->a_channels + l->b_channels, in.h, in.w};
    return evk_shape_check(layer->ctx, *out, "concat output");
}

static int same_shape(evk_shape a, evk_shape b)
{
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

evk_status evk_concat_record(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                             evk_tensor *y)
{
    const concat_layer *l = (const concat_layer *)layer;
    evk_context *ctx = layer->ctx;
    evk_shape sa = a->shape, sb = b->shape, sy = y->shape;
    if (sa.c != l->a_channels || sb.c != l->b_channels || sb.n != sa.n || sb.h != sa.h ||
        sb.w != sa.w)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "concat: inputs %ux%ux%ux%u and %ux%ux%ux%u, the layer joins %u and %u "
                        "channels of one batch and size",
                        sa.n, sa.c, sa.h, sa.w, sb.n, sb.c, sb.h, sb.w, l->a_channels,
                        l->b_channels);
    evk_shape expected;
    evk_status s = concat_output_shape(layer, sa, &expected);
    if (s != EVK_SUCCESS)
        return s;
    if (!same_shape(sy, expected))
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "concat: output %ux%ux%ux%u, inputs %ux%ux%ux%u and %ux%ux%ux%u give "
                        "%ux%ux%ux%u",
                        sy.n, sy.c, sy.h, sy.w, sa.n, sa.c, sa.h, sa.w, sb.n, sb.c, sb.h, sb.w,
                        expected.n, expected.c, expected.h, expected.w);
    uint64_t quads = (uint64_t)sy.n * evk_div_up(sy.c, 4) * sy.h * sy.w;
    if (quads > UINT32_MAX)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "concat: %llu quads exceed 2^32",
                        (unsigned long long)quads);
    struct {
        uint32_t quads, plane, a_channels, a_quads, b_quads, y_quads;
    } push = {(uint32_t)quads,     sy.h * sy.w,         l->a_channels,
              evk_div_up(sa.c, 4), evk_div_up(sb.c, 4), evk_div_up(sy.c, 4)};
    evk_pipeline_key key = {.shader = "concat",
                            .workgroup_size = CONCAT_WORKGROUP,
                            .binding_count = 3,
                            .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_CONCAT_A_TEXELS |
                                EVK_BINDING_CONCAT_B_TEXELS};
    evk_binding bindings[3] = {evk_tensor_binding(y, 1), evk_tensor_binding(a, 0),
                               evk_tensor_binding(b, 0)};
    return evk_command_dispatch(ctx, &key, bindings, &push,
                                evk_div_up_u64(quads, CONCAT_WORKGROUP));
}

/* Alone (evk_layer_forward) it has one input: it joins it to itself, which
 * needs a_channels = b_channels. */
static evk_status concat_record_alone(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    return evk_concat_record(layer, in, in, out);
}

static void concat_destroy(evk_layer *layer)
{
    evk_free(layer->ctx, layer);
}

static const evk_layer_ops concat_ops = {concat_kernel_name, concat_output_shape,
                                         concat_record_alone, concat_destroy};

evk_status evk_concat_create(evk_context *ctx, uint32_t a_channels, uint32_t b_channels,
                             evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "concat: ctx or out is NULL");
    *out = NULL;
    if (!a_channels || !b_channels || a_channels > CONCAT_MAX_CHANNELS ||
        b_channels > CONCAT_MAX_CHANNELS - a_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "concat: %u and %u channels (each at least 1, at most 2^24 together)",
                        a_channels, b_channels);
    concat_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "concat layer");
    l->base.ctx = ctx;
    l->base.ops = &concat_ops;
    l->a_channels = a_channels;
    l->b_channels = b_channels;
    *out = &l->base;
    return EVK_SUCCESS;
}
