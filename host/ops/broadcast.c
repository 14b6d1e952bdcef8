/* Binary ops with broadcasting: one dispatch of shaders/broadcast.comp. The
 * constant form keeps its operand in a device tensor of its own. */
#include "arrays.h"
#include "broadcast.h"
#include "pipeline.h"
#include "shader_bindings.h"

enum { BINARY_WORKGROUP = 64 };

typedef struct binary_layer {
    evk_layer base;
    evk_binary_op op;
    evk_tensor *constant;           /* the constant form's b, else NULL */
} binary_layer;

static const char *binary_kernel_name(const evk_layer *layer)
{
    return ((const binary_layer *)layer)->op == EVK_BINARY_MUL ? "broadcast_mul"
                                                               : "broadcast_add";
}

static evk_status check_broadcast(const evk_layer *layer, evk_shape a, evk_shape b)
{
    if ((b.n == a.n || b.n == 1) && (b.c == a.c || b.c == 1) && (b.h == a.h || b.h == 1) &&
        (b.w == a.w || b.w == 1))
        return EVK_SUCCESS;
    return evk_fail(layer->ctx, EVK_ERROR_SHAPE_MISMATCH, "%s: b %ux%ux%ux%u does not broadcast "
                    "to a %ux%ux%ux%u (each of its dimensions must be a's or 1)",
                    binary_kernel_name(layer), b.n, b.c, b.h, b.w, a.n, a.c, a.h, a.w);
}

static evk_status binary_output_shape(const evk_layer *layer, evk_shape in, evk_shape *out)
{
    const binary_layer *l = (const binary_layer *)layer;
    evk_status s = evk_shape_check(layer->ctx, in, binary_kernel_name(layer));
    if (s == EVK_SUCCESS && l->constant)
        s = check_broadcast(layer, in, l->constant->shape);
    if (s == EVK_SUCCESS)
        *out = in;
    return s;
}

evk_status evk_binary_record(evk_layer *layer, const evk_tensor *a, const evk_tensor *b,
                             evk_tensor *y)
{
    const binary_layer *l = (const binary_layer *)layer;
    evk_shape sa = a->shape, sb = b->shape;
    evk_status s = check_broadcast(layer, sa, sb);
    if (s != EVK_SUCCESS)
        return s;
    uint32_t c4 = evk_div_up(sa.c, 4);
    uint64_t quads = (uint64_t)sa.n * c4 * sa.h * sa.w;
    if (quads > UINT32_MAX)
        return evk_fail(layer->ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: %llu quads exceed 2^32",
                        binary_kernel_name(layer), (unsigned long long)quads);
    /* b is no larger than a, so its strides and indices fit too. */
    uint32_t b_plane = sb.h * sb.w;
    struct {
        uint32_t quads, plane, width, c4, channels;
        uint32_t b_image, b_quad, b_row, b_column;
        uint32_t op, b_one_channel;
    } push = {(uint32_t)quads, sa.h * sa.w, sa.w, c4, sa.c,
              sb.n > 1 ? evk_div_up(sb.c, 4) * b_plane : 0, sb.c > 1 ? b_plane : 0,
              sb.h > 1 ? sb.w : 0, sb.w > 1 ? 1 : 0,
              (uint32_t)l->op, sb.c == 1};
    evk_pipeline_key key = {.shader = "broadcast", .workgroup_size = BINARY_WORKGROUP,
                            .binding_count = 3, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_BROADCAST_A_TEXELS |
                                              EVK_BINDING_BROADCAST_B_TEXELS};
    evk_binding bindings[3] = {evk_tensor_binding(y, 1), evk_tensor_binding(a, 0),
                               evk_tensor_binding(b, 0)};
    return evk_command_dispatch(layer->ctx, &key, bindings, &push,
                                evk_div_up_u64(quads, BINARY_WORKGROUP));
}

/* Alone (evk_layer_forward) the constant form applies its constant; the
 * two-tensor form, like the residual add, combines its input with itself. */
static evk_status binary_record_alone(evk_layer *layer, const evk_tensor *in, evk_tensor *out)
{
    const binary_layer *l = (const binary_layer *)layer;
    return evk_binary_record(layer, in, l->constant ? l->constant : in, out);
}

static void binary_destroy(evk_layer *layer)
{
    evk_tensor_destroy(((binary_layer *)layer)->constant);
    evk_free(layer->ctx, layer);
}

static const evk_layer_ops binary_ops = {binary_kernel_name, binary_output_shape,
                                         binary_record_alone, binary_destroy};

static evk_status binary_new(evk_context *ctx, evk_binary_op op, binary_layer **out)
{
    if (op != EVK_BINARY_ADD && op != EVK_BINARY_MUL)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "binary: unknown op %d", (int)op);
    binary_layer *l = evk_calloc(ctx, 1, sizeof *l);
    if (!l)
        return evk_fail_oom(ctx, "binary layer");
    l->base.ctx = ctx;
    l->base.ops = &binary_ops;
    l->op = op;
    *out = l;
    return EVK_SUCCESS;
}

evk_status evk_binary_create(evk_context *ctx, evk_binary_op op, evk_layer **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "binary: ctx or out is NULL");
    *out = NULL;
    binary_layer *l;
    evk_status s = binary_new(ctx, op, &l);
    if (s == EVK_SUCCESS)
        *out = &l->base;
    return s;
}

evk_status evk_binary_constant_create(evk_context *ctx, evk_binary_op op, evk_shape shape,
                                      const float *values, uint64_t count, evk_layer **out)
{
    if (!ctx || !values || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "binary constant: ctx, values or out "
                        "is NULL");
    *out = NULL;
    binary_layer *l;
    evk_status s = binary_new(ctx, op, &l);
    if (s != EVK_SUCCESS)
        return s;
    const char *name = binary_kernel_name(&l->base);
    s = evk_shape_check(ctx, shape, name);
    if (s == EVK_SUCCESS)
        s = evk_check_count(ctx, name, "count", count, evk_shape_elements(shape));
    if (s == EVK_SUCCESS)
        s = evk_check_finite(ctx, name, "values", values, count);
    if (s == EVK_SUCCESS)
        s = evk_tensor_create(ctx, shape, &l->constant);
    if (s == EVK_SUCCESS)
        s = evk_tensor_upload(l->constant, values, count);
    if (s != EVK_SUCCESS) {
        binary_destroy(&l->base);
        return s;
    }
    *out = &l->base;
    return EVK_SUCCESS;
}
