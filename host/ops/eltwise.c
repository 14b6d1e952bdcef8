/* The residual add: one dispatch of shaders/add.comp. */
#include "eltwise.h"
#include "pipeline.h"
#include "shader_bindings.h"

enum { ADD_WORKGROUP = 64 };

typedef struct add_layer {
    evk_layer base;
    evk_activation activation;
} add_layer;

static const char *add_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "add";
}

static evk_status add_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    evk_status s = evk_shape_check(layer->ctx, in, "add input");
    if (s == EVK_SUCCESS)
        *out = in;
    return s;
}

evk_status evk_add_record(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                          evk_tensor *y)
{
    const add_layer *l = (const add_layer *)layer;
    evk_shape s = a->shape;
    uint64_t quads = (uint64_t)s.n * evk_div_up(s.c, 4) * s.h * s.w;
    if (quads > UINT32_MAX)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED, "add: %llu quads exceed 2^32",
                        (unsigned long long)quads);
    struct { uint32_t quads, activation; } push = {(uint32_t)quads, (uint32_t)l->activation};
    evk_pipeline_key key = {.shader = "add", .workgroup_size = ADD_WORKGROUP,
                            .binding_count = 3, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_ADD_A_TEXELS | EVK_BINDING_ADD_B_TEXELS};
    evk_binding bindings[3] = {evk_tensor_binding(y, 1), evk_tensor_binding(a, 0),
                               evk_tensor_binding(b, 0)};
    return evk_command_dispatch(layer->ctx, &key, bindings, &push,
                                evk_div_up_u64(quads, ADD_WORKGROUP));
}

/* Alone (evk_layer_forward) it has one input: it doubles it. */
static evk_status add_record_alone(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    return evk_add_record(layer, in, in, out);
}

static void add_destroy(evk_layer *layer)
{
    evk_free(layer->ctx, layer);
}

static const evk_layer_ops add_ops = {add_kernel_name, add_output_shape, add_record_alone,
                                      add_destroy};

evk_status evk_add_create(evk_context *ctx, evk_activation activation, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "add: ctx or out is NULL");
    *out = NULL;
    if (activation != EVK_ACTIVATION_NONE && activation != EVK_ACTIVATION_RELU)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "add: activation %d is neither none "
                        "nor ReLU", (int)activation);
    add_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "add layer");
    l->base.ctx = ctx;
    l->base.ops = &add_ops;
    l->activation = activation;
    *out = &l->base;
    return EVK_SUCCESS;
}
