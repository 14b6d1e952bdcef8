/* HetConv (heterogeneous kernels, part P) in one dispatch: see
 * shaders/hetconv.comp for the kernel and hetconv_weights.c for the layout of
 * its weights. */
#include "conv2d.h"
#include "element_storage.h"
#include "hetconv.h"
#include "layer.h"
#include "pipeline.h"
#include "profile.h"
#include "saturating.h"
#include "shader_bindings.h"
#include "context_entry.h"

typedef struct hetconv_layer {
    evk_layer base;
    evk_hetconv_desc desc;          /* resolved; array pointers cleared */
    evk_hetconv_classes classes;
    evk_buffer centre, off_centre, bias;
} hetconv_layer;

enum { MAX_KERNEL = 15, MAX_STRIDE = 64 };

/* Pixels (tile_w) × quads (tile_c4) per invocation; the bounds come from
 * the profile's tile set (evk_tile_limits_for). The wide bounds were
 * measured on lavapipe (dense and HetConv timed in one process; the figures
 * are in bench/results/README.md, "HetConv tiles"). As for the dense conv,
 * every SSBO load with a non-constant index is a per-lane gather on
 * llvmpipe, weights included, so large tiles, where each loaded weight feeds more pixels and each loaded
 * input more quads, pay. Rows of up to 16 pixels, split evenly so that no
 * tile is mostly padding, and up to 8 quads, halved until the tile holds at
 * most 64 accumulators (twice both compiled twice as slowly for no gain in
 * the headline set). tile_w halves while under 3/4 of a subgroup's lanes
 * would hold a tile: small planes gain, planes that fill 7 of 8 lanes lose.
 * The input row segment, (tile_w − 1)·stride + K values, stays within 40
 * registers, which large strides would otherwise blow up. Whole-quad
 * layouts with 2 or 4 terms (P = 2, P = 1, whole-quad groups) take 2-4 FMAs
 * per loaded input quad and tap like the dense conv, and keep its quad
 * bound; P ≥ 4 (one FMA per quad and tap) gains from the wider one. */
typedef struct tile {
    uint32_t w, c4;
} tile;

static tile choose_tile(const hetconv_layer *l, evk_shape out)
{
    const evk_tile_limits *limits = evk_tile_limits_for(&l->base.ctx->profile);
    uint32_t w = evk_row_tile_width(l->base.ctx, out.w, out.h, limits->hetconv_w, l->desc.stride,
                                    l->desc.kernel_size, limits->hetconv_segment);
    uint32_t max_c4 = l->classes.terms >= 2 ? limits->dense_c4 : limits->hetconv_c4;
    while (max_c4 > 1 && w * max_c4 > limits->hetconv_accumulators)
        max_c4 /= 2;
    return (tile){w, evk_even_tile(l->classes.quads, max_c4)};
}

evk_hetconv_desc evk_hetconv_resolve(const evk_hetconv_desc *desc)
{
    evk_hetconv_desc d = *desc;
    d.stride = d.stride ? d.stride : 1;
    if (d.padding_mode == EVK_PADDING_SAME)
        d.padding = d.kernel_size ? (d.kernel_size - 1) / 2 : 0;
    if (d.batchnorm.eps == 0.0f)
        d.batchnorm.eps = 1e-5f;
    return d;
}

static evk_status check_scalars(evk_context *ctx, const evk_hetconv_desc *d)
{
    if (!d->in_channels || !d->out_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: in_channels %u / out_channels "
                        "%u must be >= 1", d->in_channels, d->out_channels);
    if (d->kernel_size < 3 || d->kernel_size > MAX_KERNEL || d->kernel_size % 2 == 0)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: kernel_size %u must be odd, "
                        "from 3 to %u (a 1x1 HetConv is a pointwise conv2d)", d->kernel_size,
                        MAX_KERNEL);
    if (d->part == 0 || d->part > d->in_channels)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: part %u must be from 1 to "
                        "in_channels %u", d->part, d->in_channels);
    if (d->stride > MAX_STRIDE)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: stride %u must be <= %u",
                        d->stride, MAX_STRIDE);
    if ((unsigned)d->padding_mode > EVK_PADDING_EXPLICIT)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: unknown padding_mode %d",
                        (int)d->padding_mode);
    if (d->padding >= d->kernel_size)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: padding %u must be below "
                        "kernel_size %u", d->padding, d->kernel_size);
    if ((unsigned)d->activation > EVK_ACTIVATION_SIGMOID)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: unknown activation %d",
                        (int)d->activation);
    return evk_batchnorm_check(ctx, "hetconv", &d->batchnorm, d->out_channels);
}

/* Checks everything but the weight values, which only creation reads. */
static evk_status check_desc(evk_context *ctx, const evk_hetconv_desc *desc)
{
    if (!desc)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: desc is NULL");
    evk_hetconv_desc d = evk_hetconv_resolve(desc);
    evk_status s = check_scalars(ctx, &d);
    if (s != EVK_SUCCESS)
        return s;
    int masked = d.weight != NULL, grouped = d.gwc != NULL || d.pwc != NULL;
    if (masked == grouped)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: set either weight (dense "
                        "masked form) or gwc and pwc (grouped + pointwise form), %s",
                        masked ? "not both" : "none is set");
    if (grouped && (!d.gwc || !d.pwc))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: the grouped + pointwise form "
                        "needs both gwc and pwc (%s is NULL)", d.gwc ? "pwc" : "gwc");
    return EVK_SUCCESS;
}

/* `d` is resolved and valid; failures are reported on `ctx` (NULL: thread). */
static evk_status compute_output_shape(evk_context *ctx, const evk_hetconv_desc *d, evk_shape in,
                                       evk_shape *out)
{
    evk_status s = evk_shape_check(ctx, in, "hetconv input");
    if (s != EVK_SUCCESS)
        return s;
    if (in.c != d->in_channels)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "hetconv: input has %u channels, layer "
                        "expects %u", in.c, d->in_channels);
    uint64_t padded_h = (uint64_t)in.h + 2 * d->padding, padded_w = (uint64_t)in.w + 2 * d->padding;
    if (padded_h < d->kernel_size || padded_w < d->kernel_size)
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "hetconv: kernel %ux%u larger than the "
                        "padded input %llux%llu", d->kernel_size, d->kernel_size,
                        (unsigned long long)padded_h, (unsigned long long)padded_w);
    *out = (evk_shape){in.n, d->out_channels, (uint32_t)((padded_h - d->kernel_size) / d->stride + 1),
                       (uint32_t)((padded_w - d->kernel_size) / d->stride + 1)};
    return EVK_SUCCESS;
}

evk_status evk_hetconv_output_shape(const evk_hetconv_desc *desc, evk_shape in, evk_shape *out)
{
    evk_status s = check_desc(NULL, desc);
    if (s != EVK_SUCCESS)
        return s;
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "hetconv: output shape pointer is NULL");
    evk_hetconv_desc d = evk_hetconv_resolve(desc);
    return compute_output_shape(NULL, &d, in, out);
}

evk_status evk_hetconv_cost(const evk_hetconv_desc *desc, evk_shape in, uint64_t *macs,
                            uint64_t *params)
{
    evk_shape out;
    evk_status s = evk_hetconv_output_shape(desc, in, &out);
    if (s != EVK_SUCCESS)
        return s;
    evk_hetconv_desc d = evk_hetconv_resolve(desc);
    uint64_t m = d.in_channels, p = d.part, kk = (uint64_t)d.kernel_size * d.kernel_size;
    uint64_t weights = 0;
    for (uint32_t o = 0; o < d.out_channels; ++o) {
        /* Inputs i < M with i ≡ o (mod P); the grouped form has M/P. */
        uint64_t full = d.weight ? (m - o % p + p - 1) / p : m / p;
        weights = EVK_SUM(weights, EVK_PRODUCT(full, kk), m - full);
    }
    uint64_t macs_sat = EVK_PRODUCT(out.n, out.h, out.w, weights);
    uint64_t params_sat = EVK_SUM(weights, (d.bias || d.batchnorm.gamma) ? d.out_channels : 0);
    return evk_store_costs("hetconv", &in, macs_sat, params_sat, macs, params);
}

static const char *hetconv_kernel_name(const evk_layer *layer)
{
    (void)layer;
    return "hetconv";
}

static evk_status hetconv_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    return compute_output_shape(layer->ctx, &((const hetconv_layer *)layer)->desc, in, out);
}

static void hetconv_destroy(evk_layer *layer)
{
    hetconv_layer *l = (hetconv_layer *)layer;
    evk_buffer_destroy(layer->ctx, &l->centre);
    evk_buffer_destroy(layer->ctx, &l->off_centre);
    evk_buffer_destroy(layer->ctx, &l->bias);
    evk_free(layer->ctx, l);
}

/* The push constants of shaders/hetconv.comp, in its order. */
typedef struct hetconv_push {
    uint32_t batch, in_c, in_c4, in_h, in_w;
    uint32_t out_c, out_c4, out_h, out_w, pad;
    uint32_t tiles_x, groups_per_plane, classes, lane_groups, quad_blocks;
    uint32_t quads, inputs, in_first, in_step, out_first, out_step, out_class_size;
} hetconv_push;

/* `tiles_per_group`: output tiles per workgroup (its lanes / the split). */
static hetconv_push make_push(const hetconv_layer *l, evk_shape in, evk_shape out, tile t,
                              uint32_t tiles_per_group)
{
    const evk_hetconv_classes *c = &l->classes;
    hetconv_push push = {in.n, in.c, evk_div_up(in.c, 4), in.h, in.w, out.c, evk_div_up(out.c, 4),
                         out.h, out.w, l->desc.padding, evk_div_up(out.w, t.w), 0, c->count,
                         c->groups, evk_div_up(c->quads, t.c4), c->quads, c->inputs, c->in_first,
                         c->in_step, c->out_first, c->out_step, c->out_class_size};
    push.groups_per_plane = evk_div_up(push.tiles_x * out.h, tiles_per_group);
    return push;
}

static evk_status hetconv_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    hetconv_layer *l = (hetconv_layer *)layer;
    tile t = choose_tile(l, out->shape);
    uint32_t tiles = evk_div_up(out->shape.w, t.w) * out->shape.h;
    uint64_t all_tiles = (uint64_t)tiles * l->classes.groups * evk_div_up(l->classes.quads, t.c4) *
                         out->shape.n;
    uint32_t steps = l->classes.inputs > evk_div_up(in->shape.c, 4) ? l->classes.inputs
                                                                    : evk_div_up(in->shape.c, 4);
    evk_lane_plan lanes = evk_lane_plan_for(&layer->ctx->profile, tiles, all_tiles, steps);
    hetconv_push push = make_push(l, in->shape, out->shape, t, lanes.tiles_per_group);
    evk_pipeline_key key = {.shader = "hetconv", .workgroup_size = lanes.workgroup,
                            .spec = {l->desc.activation, l->desc.kernel_size, l->desc.stride,
                                     t.w, t.c4, l->classes.lane_classes, lanes.split,
                                     l->classes.terms},
                            .spec_count = 8, .binding_count = 6, .push_bytes = sizeof push,
                            .shared_bytes = evk_split_shared_bytes(lanes, t.w * t.c4),
                            .texel_bindings = EVK_BINDING_HETCONV_INPUT_TEXELS |
                                              EVK_BINDING_HETCONV_CENTRE_TEXELS |
                                              EVK_BINDING_HETCONV_OFF_CENTRE_TEXELS |
                                              EVK_BINDING_HETCONV_INPUT_FLOATS,
                            .float_texel_bindings = EVK_BINDING_HETCONV_INPUT_FLOATS};
    /* Binding 5 is the input again, for the texel variant's float view. */
    evk_binding bindings[6] = {evk_tensor_binding(in, 0), evk_tensor_binding(out, 1),
                               evk_buffer_binding(&l->centre), evk_buffer_binding(&l->off_centre),
                               evk_buffer_binding(&l->bias), evk_tensor_binding(in, 0)};
    uint64_t groups = (uint64_t)push.groups_per_plane * push.lane_groups * push.quad_blocks *
                      push.batch;
    return evk_command_dispatch(layer->ctx, &key, bindings, &push, groups);
}

static const evk_layer_ops hetconv_ops = {hetconv_kernel_name, hetconv_output_shape,
                                          hetconv_record, hetconv_destroy};

static evk_status upload_weights(hetconv_layer *l, const evk_hetconv_desc *d)
{
    evk_context *ctx = l->base.ctx;
    evk_hetconv_packed packed;
    evk_status s = evk_hetconv_pack(ctx, d, &packed);
    if (s != EVK_SUCCESS)
        return s;
    s = evk_buffer_create_weights(ctx, packed.centre, packed.centre_count,
                                  "hetconv centre weights", &l->centre);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_weights(ctx, packed.off_centre, packed.off_centre_count,
                                      "hetconv off-centre weights", &l->off_centre);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_with_data(ctx, packed.bias, packed.bias_count * sizeof(float),
                                        "hetconv bias", &l->bias);
    evk_hetconv_packed_free(ctx, &packed);
    return s;
}

static evk_status hetconv_create_entered(evk_context *ctx, const evk_hetconv_desc *desc, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "hetconv: ctx or out is NULL");
    *out = NULL;
    evk_status s = check_desc(ctx, desc);
    evk_hetconv_desc d = s == EVK_SUCCESS ? evk_hetconv_resolve(desc) : (evk_hetconv_desc){0};
    if (s == EVK_SUCCESS)
        s = evk_hetconv_check_weights(ctx, &d);
    if (s != EVK_SUCCESS)
        return s;
    hetconv_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "hetconv layer");
    l->base.ctx = ctx;
    l->base.ops = &hetconv_ops;
    l->classes = evk_hetconv_classes_of(&d);
    s = upload_weights(l, &d);
    l->desc = d;
    l->desc.weight = l->desc.gwc = l->desc.pwc = l->desc.bias = NULL;
    l->desc.batchnorm = (evk_batchnorm){0};
    if (s != EVK_SUCCESS) {
        hetconv_destroy(&l->base);
        return s;
    }
    *out = &l->base;
    return EVK_SUCCESS;
}

evk_status evk_hetconv_create(evk_context *ctx, const evk_hetconv_desc *desc, evk_layer **out)
{
    EVK_ENTERED_CREATE(ctx, out, hetconv_create_entered(ctx, desc, out));
}
