/* OctConv in one dispatch per output branch: shaders/octconv.comp (dense)
 * and shaders/octconv_depthwise.comp; octconv_weights.c packs the weights. */
#include "conv2d.h"
#include "element_storage.h"
#include "layer.h"
#include "octconv.h"
#include "pipeline.h"
#include "profile.h"
#include "shader_bindings.h"
#include "context_entry.h"

typedef struct octconv_layer {
    evk_layer base;
    evk_octconv_desc desc;          /* resolved; array pointers cleared */
    evk_octconv_channels channels;
    evk_buffer weight[2], bias[2];  /* per branch, EVK_OCTCONV_HIGH / LOW */
} octconv_layer;

/* Tiles bounded as conv2d's (evk_tile_limits_for): with the wide set, as
 * measured on lavapipe, K×K convs take up to 16 pixels × 4 quads per
 * invocation, where each loaded input quad serves 4 quads and K taps and
 * each weight 16 pixels; 1×1 convs take the pointwise kernel's 16 pixels × 4
 * quads. Both hold 64 vec4 accumulators. Depthwise rows take up to
 * octconv_depthwise_w pixels: 16 wide, the narrow set's depthwise width on
 * GPUs. */
enum { TWO_ROW_MIN_HEIGHT = 14 };

static int is_depthwise(const octconv_layer *l)
{
    return l->desc.groups > 1;
}

static int single_tensor(const octconv_layer *l)
{
    return l->channels.in_low == 0 && l->channels.out_low == 0;
}

static const char *octconv_kernel_name(const evk_layer *layer)
{
    return is_depthwise((const octconv_layer *)layer) ? "octconv_depthwise" : "octconv";
}

static evk_status require_single_tensor(const octconv_layer *l)
{
    if (single_tensor(l))
        return EVK_SUCCESS;
    return evk_fail(l->base.ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: the layer has %s; run it "
                    "with evk_octconv_forward (evk_layer_forward takes one input and one output)",
                    l->channels.in_low ? "a low-frequency input X^L" : "a low-frequency output Y^L");
}

static evk_status octconv_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const octconv_layer *l = (const octconv_layer *)layer;
    evk_status s = require_single_tensor(l);
    return s == EVK_SUCCESS ? evk_octconv_shapes_of(layer->ctx, &l->desc, in, out, NULL) : s;
}

static void octconv_destroy(evk_layer *layer)
{
    octconv_layer *l = (octconv_layer *)layer;
    for (int b = 0; b < 2; ++b) {
        evk_buffer_destroy(layer->ctx, &l->weight[b]);
        evk_buffer_destroy(layer->ctx, &l->bias[b]);
    }
    evk_free(layer->ctx, l);
}

/* The push constants of shaders/octconv.comp, in its order. */
typedef struct octconv_push {
    uint32_t batch, out_c, out_c4, out_h, out_w;
    uint32_t a_c4, a_h, a_w, b_c4, b_h, b_w;
    uint32_t tiles_x, tiles_y, co_blocks, groups_per_plane;
} octconv_push;

/* What one dense dispatch reads: source A of the branch's own frequency,
 * source B of the other, either absent (NULL); their pooling factors and
 * B's upsampling. */
typedef struct branch_sources {
    const evk_tensor *a, *b;
    uint32_t pool_a, pool_b, up_b;
} branch_sources;

static branch_sources sources_of(const octconv_layer *l, int branch, const evk_tensor *x_high,
                                 const evk_tensor *x_low)
{
    uint32_t s = l->desc.stride;
    if (branch == EVK_OCTCONV_HIGH)
        return (branch_sources){x_high, x_low, s, 1, x_low && s == 1 ? 2 : 1};
    return (branch_sources){x_low, x_high, s, 2 * s, 1};
}

typedef struct tile {
    uint32_t w, h, c4;
} tile;

static tile choose_tile(const octconv_layer *l, evk_shape out, const branch_sources *src)
{
    int pointwise = l->desc.kernel_size == 1;
    const evk_tile_limits *limits = evk_tile_limits_for(&l->base.ctx->profile);
    uint32_t max_pixels = pointwise ? limits->pointwise_pixels : limits->dense_w;
    uint32_t max_c4 = pointwise ? limits->pointwise_c4 : limits->dense_c4;
    /* Two rows when the branch upsamples (one low-resolution row serves
     * both) or pools a second source on planes of at least
     * TWO_ROW_MIN_HEIGHT rows, where a pooled row (4 or 16 loads per quad)
     * then serves two output rows: 3×3 at alpha 0.5 on 56² and 28² ran 7 %
     * and 4 % faster. On 7-row planes two-row tiles waste an eighth of the
     * rows and narrow the tiles: 256 -> 256 @14² ran 1.3x slower. */
    uint32_t rows = src->up_b == 2 || (src->b && out.h >= TWO_ROW_MIN_HEIGHT) ? 2 : 1;
    tile t = {0, rows, 0};
    t.w = evk_row_tile_width(l->base.ctx, out.w, evk_div_up(out.h, rows), max_pixels / rows, 1,
                             l->desc.kernel_size, limits->dense_segment);
    t.w = evk_div_up(t.w, src->up_b) * src->up_b;
    t.c4 = evk_even_tile(evk_div_up(out.c, 4), max_c4);
    return t;
}

static void set_source(const evk_tensor *t, uint32_t *c4, uint32_t *h, uint32_t *w)
{
    *c4 = t ? evk_div_up(t->shape.c, 4) : 0;
    *h = t ? t->shape.h : 1;
    *w = t ? t->shape.w : 1;
}

static octconv_push make_push(const branch_sources *src, evk_shape out, tile t)
{
    octconv_push push = {.batch = out.n, .out_c = out.c, .out_c4 = evk_div_up(out.c, 4),
                         .out_h = out.h, .out_w = out.w};
    set_source(src->a, &push.a_c4, &push.a_h, &push.a_w);
    set_source(src->b, &push.b_c4, &push.b_h, &push.b_w);
    push.tiles_x = evk_div_up(out.w, t.w);
    push.tiles_y = evk_div_up(out.h, t.h);
    push.co_blocks = evk_div_up(push.out_c4, t.c4);
    return push;
}

static evk_status record_dense(octconv_layer *l, int branch, const branch_sources *src,
                               evk_tensor *out)
{
    tile t = choose_tile(l, out->shape, src);
    octconv_push push = make_push(src, out->shape, t);
    uint32_t tiles = push.tiles_x * push.tiles_y;
    evk_lane_plan lanes = evk_lane_plan_for(&l->base.ctx->profile, tiles,
                                            (uint64_t)tiles * push.co_blocks * push.batch,
                                            push.a_c4 + push.b_c4);
    push.groups_per_plane = evk_div_up(tiles, lanes.tiles_per_group);
    evk_pipeline_key key = {.shader = "octconv", .workgroup_size = lanes.workgroup,
                            .spec = {l->desc.activation, l->desc.kernel_size, t.w, t.h, t.c4,
                                     src->pool_a, src->pool_b, src->up_b, lanes.split},
                            .spec_count = 9, .binding_count = 5, .push_bytes = sizeof push,
                            .shared_bytes = evk_split_shared_bytes(lanes, t.w * t.h * t.c4),
                            .texel_bindings = EVK_BINDING_OCTCONV_SOURCE_A_TEXELS |
                                              EVK_BINDING_OCTCONV_SOURCE_B_TEXELS |
                                              EVK_BINDING_OCTCONV_WEIGHT_TEXELS};
    /* An absent source binds the other one, which the kernel never reads. */
    const evk_tensor *a = src->a ? src->a : src->b, *b = src->b ? src->b : src->a;
    evk_binding bindings[5] = {evk_tensor_binding(a, 0), evk_tensor_binding(b, 0),
                               evk_tensor_binding(out, 1), evk_buffer_binding(&l->weight[branch]),
                               evk_buffer_binding(&l->bias[branch])};
    return evk_command_dispatch(l->base.ctx, &key, bindings, &push,
                                (uint64_t)push.groups_per_plane * push.co_blocks * push.batch);
}

static evk_status record_depthwise(octconv_layer *l, int branch, const evk_tensor *in,
                                   evk_tensor *out)
{
    struct { uint32_t batch, c4, channels, in_h, in_w, out_h, out_w, tiles_x, groups_per_plane; } push;
    evk_shape o = out->shape;
    const evk_tile_limits *limits = evk_tile_limits_for(&l->base.ctx->profile);
    uint32_t tile_w = evk_row_tile_width(l->base.ctx, o.w, o.h, limits->octconv_depthwise_w, 1,
                                         l->desc.kernel_size, limits->dense_segment);
    push.batch = o.n;
    push.c4 = evk_div_up(o.c, 4);
    push.channels = o.c;
    push.in_h = in->shape.h;
    push.in_w = in->shape.w;
    push.out_h = o.h;
    push.out_w = o.w;
    push.tiles_x = evk_div_up(o.w, tile_w);
    uint32_t wg = evk_workgroup_size_for(&l->base.ctx->profile, push.tiles_x * o.h);
    push.groups_per_plane = evk_div_up(push.tiles_x * o.h, wg);
    evk_pipeline_key key = {.shader = "octconv_depthwise", .workgroup_size = wg,
                            .spec = {l->desc.activation, l->desc.kernel_size, tile_w, l->desc.stride},
                            .spec_count = 4, .binding_count = 4, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_OCTCONV_DEPTHWISE_INPUT_TEXELS |
                                              EVK_BINDING_OCTCONV_DEPTHWISE_WEIGHT_TEXELS};
    evk_binding bindings[4] = {evk_tensor_binding(in, 0), evk_tensor_binding(out, 1),
                               evk_buffer_binding(&l->weight[branch]),
                               evk_buffer_binding(&l->bias[branch])};
    return evk_command_dispatch(l->base.ctx, &key, bindings, &push,
                                (uint64_t)push.groups_per_plane * push.c4 * push.batch);
}

static evk_status record_branch(octconv_layer *l, int branch, const evk_tensor *x_high,
                                const evk_tensor *x_low, evk_tensor *out)
{
    if (is_depthwise(l))
        return record_depthwise(l, branch, branch == EVK_OCTCONV_HIGH ? x_high : x_low, out);
    branch_sources src = sources_of(l, branch, x_high, x_low);
    return record_dense(l, branch, &src, out);
}

static evk_status octconv_record(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    octconv_layer *l = (octconv_layer *)layer;
    evk_status s = require_single_tensor(l);
    return s == EVK_SUCCESS ? record_branch(l, EVK_OCTCONV_HIGH, in, NULL, out) : s;
}

static const evk_layer_ops octconv_ops = {octconv_kernel_name, octconv_output_shape,
                                          octconv_record, octconv_destroy};

/* A branch's tensor: required when the branch has channels, else NULL. */
static evk_status check_presence(evk_context *ctx, const evk_tensor *t, int required,
                                 const char *what)
{
    if (required)
        return evk_tensor_check(ctx, t, what);
    if (t)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: %s tensor given, but the layer "
                        "has no such branch (pass NULL)", what);
    return EVK_SUCCESS;
}

static evk_status check_shape(evk_context *ctx, const evk_tensor *t, evk_shape expected,
                              const char *what)
{
    evk_shape got = t->shape;
    if (got.n == expected.n && got.c == expected.c && got.h == expected.h && got.w == expected.w)
        return EVK_SUCCESS;
    return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "octconv: %s tensor is %ux%ux%ux%u, X^H %s "
                    "%ux%ux%ux%u", what, got.n, got.c, got.h, got.w,
                    what[0] == 'X' ? "needs" : "gives", expected.n, expected.c, expected.h,
                    expected.w);
}

static evk_status check_aliasing(evk_context *ctx, const evk_tensor *const tensors[4])
{
    for (int i = 2; i < 4; ++i)
        for (int j = 0; j < i; ++j)
            if (tensors[i] && tensors[i] == tensors[j])
                return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: an output tensor is "
                                "also another input or output");
    return EVK_SUCCESS;
}

static evk_status check_forward(octconv_layer *l, const evk_tensor *const t[4])
{
    static const char *names[4] = {"X^H", "X^L", "Y^H", "Y^L"};
    evk_context *ctx = l->base.ctx;
    const evk_octconv_channels *c = &l->channels;
    int required[4] = {1, c->in_low > 0, 1, c->out_low > 0};
    evk_status s = EVK_SUCCESS;
    for (int i = 0; i < 4 && s == EVK_SUCCESS; ++i)
        s = check_presence(ctx, t[i], required[i], names[i]);
    if (s == EVK_SUCCESS)
        s = check_aliasing(ctx, t);
    evk_shape expected[4] = {t[0] ? t[0]->shape : (evk_shape){0}};
    if (s == EVK_SUCCESS)
        s = evk_octconv_shapes_of(ctx, &l->desc, expected[0], &expected[2], &expected[3]);
    expected[1] = (evk_shape){expected[0].n, c->in_low, evk_octconv_half_size(expected[0].h),
                              evk_octconv_half_size(expected[0].w)};
    for (int i = 1; i < 4 && s == EVK_SUCCESS; ++i)
        if (t[i])
            s = check_shape(ctx, t[i], expected[i], names[i]);
    return s;
}

static evk_status octconv_forward_entered(evk_layer *layer, const evk_tensor *x_high, const evk_tensor *x_low,
                               evk_tensor *y_high, evk_tensor *y_low)
{
    if (!layer)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "octconv: layer is NULL");
    if (layer->ops != &octconv_ops)
        return evk_fail(layer->ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: evk_octconv_forward "
                        "on a %s layer", layer->ops->kernel_name(layer));
    octconv_layer *l = (octconv_layer *)layer;
    const evk_tensor *const tensors[4] = {x_high, x_low, y_high, y_low};
    evk_status s = check_forward(l, tensors);
    if (s != EVK_SUCCESS)
        return s;
    s = evk_command_begin(layer->ctx);
    if (s == EVK_SUCCESS)
        s = record_branch(l, EVK_OCTCONV_HIGH, x_high, x_low, y_high);
    if (s == EVK_SUCCESS && y_low)
        s = record_branch(l, EVK_OCTCONV_LOW, x_high, x_low, y_low);
    if (s != EVK_SUCCESS) {
        evk_command_abort(layer->ctx);
        return s;
    }
    s = evk_command_submit_wait(layer->ctx);
    if (s == EVK_SUCCESS)
        evk_clear_error(layer->ctx);
    return s;
}

evk_status evk_octconv_forward(evk_layer *layer, const evk_tensor *x_high, const evk_tensor *x_low,
                               evk_tensor *y_high, evk_tensor *y_low)
{
    EVK_ENTERED(layer ? layer->ctx : NULL, octconv_forward_entered(layer, x_high, x_low, y_high,
                y_low));
}

static evk_status upload_branch(octconv_layer *l, const evk_octconv_desc *d, int branch)
{
    evk_context *ctx = l->base.ctx;
    evk_octconv_packed packed;
    evk_status s = evk_octconv_pack(ctx, d, branch, &packed);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_weights(ctx, packed.weight, packed.weight_count, "octconv weights",
                                      &l->weight[branch]);
    if (s == EVK_SUCCESS)
        s = evk_buffer_create_with_data(ctx, packed.bias, packed.bias_bytes, "octconv bias",
                                        &l->bias[branch]);
    evk_free(ctx, packed.weight);
    evk_free(ctx, packed.bias);
    return s;
}

static evk_status octconv_create_entered(evk_context *ctx, const evk_octconv_desc *desc, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv: ctx or out is NULL");
    *out = NULL;
    evk_status s = evk_octconv_check(ctx, desc);
    evk_octconv_desc d = s == EVK_SUCCESS ? evk_octconv_resolve(desc) : (evk_octconv_desc){0};
    if (s == EVK_SUCCESS)
        s = evk_octconv_check_arrays(ctx, &d);
    if (s != EVK_SUCCESS)
        return s;
    octconv_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "octconv layer");
    l->base.ctx = ctx;
    l->base.ops = &octconv_ops;
    l->channels = evk_octconv_channels_of(&d);
    s = upload_branch(l, &d, EVK_OCTCONV_HIGH);
    if (s == EVK_SUCCESS && l->channels.out_low)
        s = upload_branch(l, &d, EVK_OCTCONV_LOW);
    l->desc = d;
    l->desc.weight_hh = l->desc.weight_hl = l->desc.weight_lh = l->desc.weight_ll = NULL;
    l->desc.bias_h = l->desc.bias_l = NULL;
    l->desc.batchnorm_h = l->desc.batchnorm_l = (evk_batchnorm){0};
    if (s != EVK_SUCCESS) {
        octconv_destroy(&l->base);
        return s;
    }
    *out = &l->base;
    return EVK_SUCCESS;
}

evk_status evk_octconv_create(evk_context *ctx, const evk_octconv_desc *desc, evk_layer **out)
{
    EVK_ENTERED_CREATE(ctx, out, octconv_create_entered(ctx, desc, out));
}

/* ---- One output branch as a graph layer (model graphs keep X^H and X^L
 * in separate slots). */

typedef struct octconv_branch {
    evk_layer base;
    octconv_layer *conv;
    int branch, owns;
} octconv_branch;

static const char *branch_kernel_name(const evk_layer *layer)
{
    return octconv_kernel_name(&((const octconv_branch *)layer)->conv->base);
}

static evk_status branch_output_shape(const evk_layer *layer, evk_shape x_high, evk_shape *out)
{
    const octconv_branch *b = (const octconv_branch *)layer;
    return evk_octconv_shapes_of(layer->ctx, &b->conv->desc, x_high,
                                 b->branch == EVK_OCTCONV_HIGH ? out : NULL,
                                 b->branch == EVK_OCTCONV_LOW ? out : NULL);
}

evk_status evk_octconv_branch_record(evk_layer *layer, const evk_tensor *x_high,
                                     const evk_tensor *x_low, evk_tensor *out)
{
    octconv_branch *b = (octconv_branch *)layer;
    return record_branch(b->conv, b->branch, x_high, x_low, out);
}

static evk_status branch_record_high_only(evk_layer *layer, const evk_tensor *x_high,
                                          evk_tensor *out)
{
    octconv_branch *b = (octconv_branch *)layer;
    if (b->conv->channels.in_low)
        return evk_fail(layer->ctx, EVK_ERROR_INVALID_ARGUMENT, "octconv branch: the layer has "
                        "an X^L input; record it with evk_octconv_branch_record");
    return record_branch(b->conv, b->branch, x_high, NULL, out);
}

static void branch_destroy(evk_layer *layer)
{
    octconv_branch *b = (octconv_branch *)layer;
    if (b->owns)
        octconv_destroy(&b->conv->base);
    evk_free(layer->ctx, b);
}

static const evk_layer_ops branch_ops = {branch_kernel_name, branch_output_shape,
                                         branch_record_high_only, branch_destroy};

evk_status evk_octconv_branch_create(evk_layer *octconv, int branch, int owns, evk_layer **out)
{
    *out = NULL;
    octconv_branch *b = evk_calloc(octconv->ctx, 1, sizeof *b);
    if (!b) {
        if (owns)
            octconv_destroy(octconv);
        return evk_fail_oom(octconv->ctx, "octconv branch layer");
    }
    b->base.ctx = octconv->ctx;
    b->base.ops = &branch_ops;
    b->conv = (octconv_layer *)octconv;
    b->branch = branch;
    b->owns = owns;
    *out = &b->base;
    return EVK_SUCCESS;
}
