/* Standalone activations: one dispatch of shaders/activation.comp, the op and
 * its parameters as push constants, so that every op shares one pipeline. */
#include <math.h>

#include "activation.h"
#include "pipeline.h"
#include "shader_bindings.h"

enum { UNARY_WORKGROUP = 64 };

typedef struct unary_layer {
    evk_layer base;
    evk_unary_desc desc;
} unary_layer;

static const char *const unary_names[] = {"clamp", "sigmoid", "hard_sigmoid", "hard_swish",
                                          "silu"};

static const char *unary_kernel_name(const evk_layer *layer)
{
    return unary_names[((const unary_layer *)layer)->desc.op];
}

static evk_status unary_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    evk_status s = evk_shape_check(layer->ctx, in, unary_kernel_name(layer));
    if (s == EVK_SUCCESS)
        *out = in;
    return s;
}

static evk_status unary_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    const evk_unary_desc *d = &((const unary_layer *)layer)->desc;
    evk_shape s = in->shape;
    uint64_t quads = (uint64_t)s.n * evk_div_up(s.c, 4) * s.h * s.w;
    if (quads > UINT32_MAX)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: %llu quads exceed 2^32",
                        unary_kernel_name(layer), (unsigned long long)quads);
    struct {
        uint32_t quads, plane, c4, channels, op;
        float min, max, alpha, beta;
    } push = {(uint32_t)quads, s.h * s.w, evk_div_up(s.c, 4), s.c, (uint32_t)d->op,
              d->min, d->max, d->alpha, d->beta};
    evk_pipeline_key key = {.shader = "activation", .workgroup_size = UNARY_WORKGROUP,
                            .binding_count = 2, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_ACTIVATION_INPUT_TEXELS};
    evk_binding bindings[2] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0)};
    return evk_command_dispatch(layer->ctx, &key, bindings, &push,
                                evk_div_up_u64(quads, UNARY_WORKGROUP));
}

static void unary_destroy(evk_layer *layer)
{
    evk_free(layer->ctx, layer);
}

static const evk_layer_ops unary_ops = {unary_kernel_name, unary_output_shape, unary_record,
                                        unary_destroy};

static evk_status check_desc(evk_context *ctx, const evk_unary_desc *d)
{
    if ((unsigned)d->op >= sizeof unary_names / sizeof unary_names[0])
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "unary: unknown op %d", (int)d->op);
    if (d->op == EVK_UNARY_CLAMP && (isnan(d->min) || isnan(d->max)))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "clamp: a bound is NaN (min %g, max %g)",
                        (double)d->min, (double)d->max);
    if (d->op == EVK_UNARY_CLAMP && d->min > d->max)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "clamp: min %g is above max %g",
                        (double)d->min, (double)d->max);
    if (d->op == EVK_UNARY_HARD_SIGMOID && (!isfinite(d->alpha) || !isfinite(d->beta)))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hard_sigmoid: alpha %g and beta %g "
                        "must be finite", (double)d->alpha, (double)d->beta);
    return EVK_SUCCESS;
}

evk_status evk_unary_create(evk_context *ctx, const evk_unary_desc *desc, evk_layer **out)
{
    if (!ctx || !desc || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "unary: ctx, desc or out is NULL");
    *out = NULL;
    evk_status s = check_desc(ctx, desc);
    if (s != EVK_SUCCESS)
        return s;
    unary_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "unary layer");
    l->base.ctx = ctx;
    l->base.ops = &unary_ops;
    l->desc = *desc;
    *out = &l->base;
    return EVK_SUCCESS;
}
