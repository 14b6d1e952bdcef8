/* Fully connected layer: one dispatch of shaders/linear.comp, with the
 * profile's linear_lanes lanes per output quad and up to its linear_images
 * images per weight load. */
#include <string.h>

#include "element_storage.h"
#include "linear.h"
#include "pipeline.h"
#include "profile.h"
#include "shader_bindings.h"

enum { MAX_FEATURES = 1 << 24 };

typedef struct linear_layer {
    evk_layer base;
    uint32_t in_features, out_features;
    evk_buffer weight, bias;
} linear_layer;

float *evk_linear_pack(evk_context *ctx, uint32_t in_features, uint32_t out_features,
                       const float *weight, size_t *bytes)
{
    size_t c4 = evk_div_up(in_features, 4), k4 = evk_div_up(out_features, 4);
    *bytes = c4 * k4 * 64;
    float *packed = evk_calloc(ctx, 1, *bytes);
    if (!packed)
        return NULL;
    for (size_t k = 0; k < out_features; ++k)
        for (size_t c = 0; c < in_features; ++c)
            packed[((k / 4) * c4 + c / 4) * 16 + (c % 4) * 4 + k % 4] = weight[k * in_features + c];
    return packed;
}

static const char *linear_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "linear";
}

static evk_status linear_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const linear_layer *l = (const linear_layer *)layer;
    evk_status s = evk_shape_check(layer->ctx, in, "linear input");
    if (s != EVK_SUCCESS)
        return s;
    if (in.c != l->in_features || in.h != 1 || in.w != 1)
        return evk_fail(layer->ctx, EVK_ERROR_SHAPE_MISMATCH, "linear: input is %ux%ux%ux%u, "
                        "layer expects Nx%ux1x1", in.n, in.c, in.h, in.w, l->in_features);
    *out = (evk_shape){in.n, l->out_features, 1, 1};
    return EVK_SUCCESS;
}

static evk_status linear_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    linear_layer *l = (linear_layer *)layer;
    evk_context *ctx = layer->ctx;
    uint32_t batch = in->shape.n;
    uint32_t split = ctx->profile.linear_lanes;
    uint32_t images = evk_even_tile(batch, ctx->profile.linear_images);
    struct { uint32_t batch, c4, k4, image_tiles; } push = {
        batch, evk_div_up(l->in_features, 4), evk_div_up(l->out_features, 4),
        evk_div_up(batch, images)};
    uint64_t lanes = (uint64_t)push.image_tiles * push.k4 * split;
    uint32_t wg = split > 1 ? split : evk_workgroup_size_for(&ctx->profile, (uint32_t)push.k4);
    evk_pipeline_key key = {.shader = "linear", .workgroup_size = wg, .spec = {split, images},
                            .spec_count = 2, .binding_count = 4, .push_bytes = sizeof push,
                            .shared_bytes = split > 1 ? 16 * wg * images : 0,
                            .texel_bindings = EVK_BINDING_LINEAR_INPUT_TEXELS |
                                              EVK_BINDING_LINEAR_WEIGHT_TEXELS};
    evk_binding bindings[4] = {evk_tensor_binding(out, 1), evk_tensor_binding(in, 0),
                               evk_buffer_binding(&l->weight), evk_buffer_binding(&l->bias)};
    return evk_command_dispatch(ctx, &key, bindings, &push, evk_div_up_u64(lanes, wg));
}

static void linear_destroy(evk_layer *layer)
{
    linear_layer *l = (linear_layer *)layer;
    evk_buffer_destroy(layer->ctx, &l->weight);
    evk_buffer_destroy(layer->ctx, &l->bias);
    evk_free(layer->ctx, l);
}

static const evk_layer_ops linear_ops = {linear_kernel_name, linear_output_shape, linear_record,
                                         linear_destroy};

static evk_status upload(linear_layer *l, const float *weight, const float *bias)
{
    evk_context *ctx = l->base.ctx;
    size_t weight_bytes, bias_bytes = (size_t)evk_div_up(l->out_features, 4) * 16;
    float *packed = evk_linear_pack(ctx, l->in_features, l->out_features, weight, &weight_bytes);
    float *packed_bias = evk_calloc(ctx, 1, bias_bytes);
    evk_status s = packed && packed_bias ? EVK_SUCCESS : evk_fail_oom(ctx, "linear weights");
    if (s == EVK_SUCCESS && bias)
        memcpy(packed_bias, bias, (size_t)l->out_features * sizeof(float));
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_weights(ctx, packed, weight_bytes / sizeof(float), "linear weight",
                                      &l->weight);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_with_data(ctx, packed_bias, bias_bytes, "linear bias", &l->bias);
    evk_free(ctx, packed);
    evk_free(ctx, packed_bias);
    return s;
}

evk_status evk_linear_create(evk_context *ctx, uint32_t in_features, uint32_t out_features,
                             const float *weight, const float *bias, evk_layer **out)
{
    if (!ctx || !out || !weight)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "linear: ctx, out or weight is NULL");
    *out = NULL;
    if (!in_features || !out_features || in_features > MAX_FEATURES || out_features > MAX_FEATURES)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "linear: in_features %u / out_features "
                        "%u must be 1 to %u", in_features, out_features, (unsigned)MAX_FEATURES);
    linear_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "linear layer");
    l->base.ctx = ctx;
    l->base.ops = &linear_ops;
    l->in_features = in_features;
    l->out_features = out_features;
    evk_status s = upload(l, weight, bias);
    if (s != EVK_SUCCESS) {
        linear_destroy(&l->base);
        return s;
    }
    *out = &l->base;
    return EVK_SUCCESS;
}
