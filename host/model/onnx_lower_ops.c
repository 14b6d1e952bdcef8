/* The ONNX operators on feature maps, each lowered to one importer op (or
 * a view: reshapes that move no data) with its output's shape. Every
 * attribute is read or refused, every weight checked finite with its
 * tensor's name. */
#include <math.h>
#include <string.h>

#include "onnx_lower_ops.h"

const evk_onnx_node *evk_lower_node_of(const lowering *l)
{
    return &l->g->onnx->nodes[l->node];
}

const evk_onnx_attribute *evk_lower_attribute(const lowering *l, const char *name)
{
    return evk_onnx_attribute_find(evk_lower_node_of(l), name);
}

int64_t evk_lower_int_attribute(const lowering *l, const char *name, int64_t fallback)
{
    const evk_onnx_attribute *a = evk_lower_attribute(l, name);
    return a ? a->i : fallback;
}

float evk_lower_float_attribute(const lowering *l, const char *name, float fallback)
{
    const evk_onnx_attribute *a = evk_lower_attribute(l, name);
    return a ? a->f : fallback;
}

const char *evk_lower_string_attribute(const lowering *l, const char *name, const char *fallback)
{
    const evk_onnx_attribute *a = evk_lower_attribute(l, name);
    return a && a->s ? a->s : fallback;
}

uint32_t evk_lower_root_of(const ir_graph *g, uint32_t v)
{
    while (g->values[v].view_of != IR_NONE)
        v = g->values[v].view_of;
    return v;
}

/* Input `index`, a value computed from the graph's input of rank `rank`
 * (2 or 4; 0: either). */
evk_status evk_lower_value_input(lowering *l, uint32_t index, uint32_t rank, uint32_t *v)
{
    evk_status s = evk_lower_input(l, index, 1, v);
    if (s != EVK_SUCCESS)
        return s;
    const ir_value *x = &l->g->values[*v];
    if (x->constant)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "input %u ('%s') is a constant where "
                              "effvk needs a value computed from the input",
                              index, x->name);
    if (rank && x->rank != rank)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "input '%s' has %u dimensions, "
                              "expected %u",
                              x->name, x->rank, rank);
    return EVK_SUCCESS;
}

/* A constant of a floating type, all finite (named with the first that is
 * not). */
static evk_status check_floats(lowering *l, const evk_onnx_tensor *c)
{
    if (!c->floats)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "tensor '%s' is of type %s; effvk reads "
                              "FLOAT, FLOAT16, BFLOAT16 and DOUBLE weights",
                              c->name, evk_onnx_type_name(c->data_type));
    for (uint64_t i = 0; i < c->count; ++i)
        if (!isfinite(c->floats[i]))
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                                  "tensor '%s'[%llu] is not "
                                  "finite (%g)",
                                  c->name, (unsigned long long)i, (double)c->floats[i]);
    return EVK_SUCCESS;
}

/* Input `index`, a float constant of `count` elements (0: any), all
 * finite. Absent and not required: *t NULL. */
evk_status evk_lower_weight_input(lowering *l, uint32_t index, int required, uint64_t count,
                                  const evk_onnx_tensor **t)
{
    uint32_t v;
    *t = NULL;
    evk_status s = evk_lower_input(l, index, required, &v);
    if (s != EVK_SUCCESS || v == IR_NONE)
        return s;
    const evk_onnx_tensor *c = l->g->values[v].constant;
    if (!c)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "input %u ('%s') must be a constant "
                              "(an initializer)",
                              index, l->g->values[v].name);
    if (c->floats && count && c->count != count)
        return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                              "tensor '%s' has %llu elements, "
                              "expected %llu",
                              c->name, (unsigned long long)c->count, (unsigned long long)count);
    s = check_floats(l, c);
    if (s == EVK_SUCCESS)
        *t = c;
    return s;
}

/* The op's one output, of `shape` and `rank`. */
evk_status evk_lower_set_output(lowering *l, uint32_t op, evk_shape shape, uint32_t rank)
{
    uint32_t v;
    evk_status s = evk_lower_output(l, 0, &v);
    if (s != EVK_SUCCESS)
        return s;
    ir_graph *g = l->g;
    g->values[v].shape = shape;
    g->values[v].rank = rank;
    g->values[v].producer = op;
    g->ops[op].out[0] = v;
    g->ops[op].out_count = 1;
    return EVK_SUCCESS;
}

evk_status evk_lower_new_op(lowering *l, ir_kind kind, uint32_t in, uint32_t *op)
{
    evk_status s = evk_ir_add_op(l->g, kind, l->node, op);
    if (s == EVK_SUCCESS) {
        l->g->ops[*op].in[0] = evk_lower_root_of(l->g, in);
        l->g->ops[*op].in_count = 1;
    }
    return s;
}

/* Output 0 as a view of `v` with another rank. */
evk_status evk_lower_view_output(lowering *l, uint32_t v, uint32_t rank)
{
    uint32_t out;
    evk_status s = evk_lower_output(l, 0, &out);
    if (s != EVK_SUCCESS)
        return s;
    ir_value *o = &l->g->values[out];
    o->shape = l->g->values[v].shape;
    o->rank = rank;
    o->view_of = evk_lower_root_of(l->g, v);
    o->producer = l->g->values[o->view_of].producer;
    return EVK_SUCCESS;
}

/* ---- Convolutions and matrix products. */

/* Padding of one axis: explicit `begin`/`end` or auto_pad's; with SAME
 * the total is split as ONNX does (UPPER puts the odd one at the end). */
static evk_status axis_padding(lowering *l, const char *auto_pad, uint32_t size, uint32_t kernel,
                               uint32_t stride, int64_t *begin, int64_t *end)
{
    if (strcmp(auto_pad, "VALID") == 0) {
        *begin = *end = 0;
    } else if (strncmp(auto_pad, "SAME_", 5) == 0) {
        int64_t out = ((int64_t)size + stride - 1) / stride;
        int64_t total = (out - 1) * stride + kernel - (int64_t)size;
        total = total > 0 ? total : 0;
        *begin = strcmp(auto_pad, "SAME_UPPER") == 0 ? total / 2 : total - total / 2;
        *end = total - *begin;
    } else if (strcmp(auto_pad, "NOTSET") != 0) {
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "auto_pad '%s' is not supported", auto_pad);
    }
    if (*begin < 0 || *end < 0 || *begin > 64 || *end > 64)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "padding %lld, %lld is not supported "
                              "(0 to 64)",
                              (long long)*begin, (long long)*end);
    return EVK_SUCCESS;
}

/* kernel_shape (or `kernel` when the node has none), strides, dilations
 * (1 only), pads and auto_pad of a 2-D window over `x`. */
evk_status evk_lower_read_window(lowering *l, const ir_value *x, const uint32_t *kernel, window *w)
{
    const evk_onnx_attribute *ks = evk_lower_attribute(l, "kernel_shape"),
                             *st = evk_lower_attribute(l, "strides"),
                             *dl = evk_lower_attribute(l, "dilations"),
                             *pd = evk_lower_attribute(l, "pads");
    for (uint32_t a = 0; a < 2; ++a) {
        w->kernel[a] = kernel ? kernel[a] : 0;
        w->stride[a] = 1;
        w->begin[a] = w->end[a] = 0;
    }
    if ((ks && ks->count != 2) || (st && st->count != 2) || (dl && dl->count != 2) ||
        (pd && pd->count != 4))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "only 2-D windows are supported "
                              "(kernel_shape, strides and dilations of 2, pads of 4)");
    for (uint32_t a = 0; a < 2; ++a) {
        if (ks && (ks->ints[a] < 1 || ks->ints[a] > 64 || (kernel && ks->ints[a] != kernel[a])))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "kernel_shape %lld does not match "
                                  "the weight or is not 1 to 64",
                                  (long long)ks->ints[a]);
        if (ks)
            w->kernel[a] = (uint32_t)ks->ints[a];
        if (st && (st->ints[a] < 1 || st->ints[a] > 64))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "stride %lld (1 to 64 supported)",
                                  (long long)st->ints[a]);
        if (st)
            w->stride[a] = (uint32_t)st->ints[a];
        if (dl && dl->ints[a] != 1)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "dilation %lld (only 1 is "
                                  "supported)",
                                  (long long)dl->ints[a]);
        if (pd) {
            w->begin[a] = pd->ints[a];
            w->end[a] = pd->ints[a + 2];
        }
    }
    if (!w->kernel[0] || !w->kernel[1])
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "kernel_shape is missing");
    const char *auto_pad = evk_lower_string_attribute(l, "auto_pad", "NOTSET");
    uint32_t sizes[2] = {x->shape.h, x->shape.w};
    for (uint32_t a = 0; a < 2; ++a) {
        evk_status s = axis_padding(l, auto_pad, sizes[a], w->kernel[a], w->stride[a], &w->begin[a],
                                    &w->end[a]);
        if (s != EVK_SUCCESS)
            return s;
        if ((int64_t)sizes[a] + w->begin[a] + w->end[a] < (int64_t)w->kernel[a])
            return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                                  "the %ux%u window does not fit "
                                  "the padded %ux%u input",
                                  w->kernel[0], w->kernel[1], x->shape.h, x->shape.w);
    }
    return EVK_SUCCESS;
}

uint32_t evk_lower_floor_output(uint32_t size, int64_t begin, int64_t end, uint32_t kernel,
                                uint32_t stride)
{
    return (uint32_t)(((int64_t)size + begin + end - kernel) / stride + 1);
}

int32_t evk_lower_end_extra(uint32_t size, int64_t begin, int64_t end, uint32_t kernel,
                            uint32_t stride)
{
    if (2 * begin + size >= kernel &&
        evk_lower_floor_output(size, begin, end, kernel, stride) ==
            evk_lower_floor_output(size, begin, begin, kernel, stride))
        return 0;
    return (int32_t)(end - begin);
}

static evk_status lower_conv(lowering *l)
{
    static const char *const known[] = {"auto_pad", "dilations", "group", "kernel_shape",
                                        "pads",     "strides",   NULL};
    uint32_t xv;
    const evk_onnx_tensor *w, *b;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 4, &xv);
    if (s == EVK_SUCCESS)
        s = evk_lower_weight_input(l, 1, 1, 0, &w);
    if (s != EVK_SUCCESS)
        return s;
    const ir_value *x = &l->g->values[xv];
    int64_t group = evk_lower_int_attribute(l, "group", 1);
    if (w->rank != 4 || group < 1 || x->shape.c % group || w->dims[0] % group ||
        w->dims[1] * group != x->shape.c)
        return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                              "weight '%s' of %u dimensions "
                              "[%lld, %lld, ...] does not fit %u input channels in %lld groups",
                              w->name, w->rank, (long long)w->dims[0],
                              (long long)(w->rank > 1 ? w->dims[1] : 0), x->shape.c,
                              (long long)group);
    uint32_t out_channels = (uint32_t)w->dims[0];
    s = evk_lower_weight_input(l, 2, 0, out_channels, &b);
    window win;
    uint32_t kernel[2] = {(uint32_t)w->dims[2], (uint32_t)w->dims[3]};
    if (s == EVK_SUCCESS)
        s = evk_lower_read_window(l, x, kernel, &win);
    uint32_t op;
    if (s == EVK_SUCCESS)
        s = evk_lower_new_op(l, IR_CONV, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    evk_conv2d_desc *d = &l->g->ops[op].conv.desc;
    *d = (evk_conv2d_desc){.in_channels = x->shape.c,
                           .out_channels = out_channels,
                           .kernel_h = kernel[0],
                           .kernel_w = kernel[1],
                           .stride_h = win.stride[0],
                           .stride_w = win.stride[1],
                           .pad_h = (uint32_t)win.begin[0],
                           .pad_w = (uint32_t)win.begin[1],
                           .pad_bottom_extra = evk_lower_end_extra(
                               x->shape.h, win.begin[0], win.end[0], kernel[0], win.stride[0]),
                           .pad_right_extra = evk_lower_end_extra(
                               x->shape.w, win.begin[1], win.end[1], kernel[1], win.stride[1]),
                           .groups = (uint32_t)group,
                           .weight = w->floats,
                           .weight_count = w->count,
                           .bias = b ? b->floats : NULL,
                           .bias_count = b ? b->count : 0};
    evk_shape out = {
        x->shape.n, out_channels,
        evk_lower_floor_output(x->shape.h, win.begin[0], win.end[0], kernel[0], win.stride[0]),
        evk_lower_floor_output(x->shape.w, win.begin[1], win.end[1], kernel[1], win.stride[1])};
    return evk_lower_set_output(l, op, out, 4);
}

/* A matrix product [N, K] x [K, M] (+ bias) as a linear op; `weight` is
 * [M][K] already. */
static evk_status linear_op(lowering *l, uint32_t xv, uint32_t k, uint32_t m, const float *weight,
                            const float *bias)
{
    uint32_t op;
    evk_status s = evk_lower_new_op(l, IR_CONV, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    ir_conv *c = &l->g->ops[op].conv;
    c->linear = 1;
    c->desc = (evk_conv2d_desc){.in_channels = k,
                                .out_channels = m,
                                .kernel_h = 1,
                                .kernel_w = 1,
                                .weight = weight,
                                .weight_count = (uint64_t)k * m,
                                .bias = bias,
                                .bias_count = bias ? m : 0};
    return evk_lower_set_output(l, op, (evk_shape){l->g->values[xv].shape.n, m, 1, 1}, 2);
}

static evk_status lower_gemm(lowering *l)
{
    static const char *const known[] = {"alpha", "beta", "transA", "transB", "broadcast", NULL};
    uint32_t xv;
    const evk_onnx_tensor *b, *c;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 2, &xv);
    if (s == EVK_SUCCESS)
        s = evk_lower_weight_input(l, 1, 1, 0, &b);
    if (s == EVK_SUCCESS)
        s = evk_lower_weight_input(l, 2, 0, 0, &c);
    if (s != EVK_SUCCESS)
        return s;
    if (evk_lower_int_attribute(l, "transA", 0))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "transA 1 (the input transposed)");
    int trans_b = evk_lower_int_attribute(l, "transB", 0) != 0;
    float alpha = evk_lower_float_attribute(l, "alpha", 1.0f),
          beta = evk_lower_float_attribute(l, "beta", 1.0f);
    uint32_t k = l->g->values[xv].shape.c;
    if (b->rank != 2 || b->dims[trans_b ? 1 : 0] != k || b->dims[trans_b ? 0 : 1] < 1 ||
        b->dims[trans_b ? 0 : 1] > (1 << 24))
        return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                              "B '%s' does not fit %u input "
                              "features (transB %d)",
                              b->name, k, trans_b);
    uint32_t m = (uint32_t)b->dims[trans_b ? 0 : 1];
    if (c && !(c->count == 1 || (c->count == m && c->dims[c->rank - 1] == m)))
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "C '%s' of %llu elements; a bias of 1 "
                              "or %u (per output) is supported",
                              c->name, (unsigned long long)c->count, m);
    float *weight = evk_ir_floats(l->g, (uint64_t)k * m);
    float *bias = c ? evk_ir_floats(l->g, m) : NULL;
    if (!weight || (c && !bias))
        return EVK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t o = 0; o < m; ++o)
        for (uint32_t i = 0; i < k; ++i)
            weight[(size_t)o * k + i] = alpha *
                b->floats[trans_b ? (size_t)o * k + i : (size_t)i * m + o];
    for (uint32_t o = 0; c && o < m; ++o)
        bias[o] = beta * c->floats[c->count == 1 ? 0 : o];
    return linear_op(l, xv, k, m, weight, bias);
}

static evk_status lower_matmul(lowering *l)
{
    static const char *const none[] = {NULL};
    uint32_t xv;
    const evk_onnx_tensor *b;
    evk_status s = evk_lower_attributes(l, none);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 2, &xv);
    if (s == EVK_SUCCESS)
        s = evk_lower_weight_input(l, 1, 1, 0, &b);
    if (s != EVK_SUCCESS)
        return s;
    uint32_t k = l->g->values[xv].shape.c;
    if (b->rank != 2 || b->dims[0] != k || b->dims[1] < 1 || b->dims[1] > (1 << 24))
        return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                              "B '%s' does not fit %u input "
                              "features",
                              b->name, k);
    uint32_t m = (uint32_t)b->dims[1];
    float *weight = evk_ir_floats(l->g, (uint64_t)k * m);
    if (!weight)
        return EVK_ERROR_OUT_OF_HOST_MEMORY;
    for (uint32_t o = 0; o < m; ++o)
        for (uint32_t i = 0; i < k; ++i)
            weight[(size_t)o * k + i] = b->floats[(size_t)i * m + o];
    return linear_op(l, xv, k, m, weight, NULL);
}

static evk_status lower_batchnorm(lowering *l)
{
    static const char *const known[] = {
        "epsilon", "momentum", "training_mode", "spatial", "is_test", "consumed_inputs", NULL};
    uint32_t xv;
    evk_status s = evk_lower_attributes(l, known);
    if (s == EVK_SUCCESS)
        s = evk_lower_value_input(l, 0, 0, &xv);
    if (s != EVK_SUCCESS)
        return s;
    if (evk_lower_int_attribute(l, "training_mode", 0) ||
        evk_lower_int_attribute(l, "spatial", 1) != 1 || evk_lower_node_of(l)->output_count > 1)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "training mode (running statistics "
                              "as outputs, or spatial 0)");
    uint32_t c = l->g->values[xv].shape.c;
    const evk_onnx_tensor *p[4];
    for (uint32_t i = 0; s == EVK_SUCCESS && i < 4; ++i)
        s = evk_lower_weight_input(l, i + 1, 1, c, &p[i]);
    for (uint64_t i = 0; s == EVK_SUCCESS && i < c; ++i)
        if (p[3]->floats[i] < 0.0f)
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                                  "variance '%s'[%llu] is "
                                  "negative",
                                  p[3]->name, (unsigned long long)i);
    uint32_t op;
    if (s == EVK_SUCCESS)
        s = evk_lower_new_op(l, IR_BATCHNORM, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    float eps = evk_lower_float_attribute(l, "epsilon", 1e-5f);
    if (!(eps > 0.0f) || !isfinite(eps))
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "epsilon %g", (double)eps);
    l->g->ops[op].batchnorm = (evk_batchnorm){
        p[0]->floats, p[1]->floats, p[2]->floats, p[3]->floats, c, eps};
    return evk_lower_set_output(l, op, l->g->values[xv].shape, l->g->values[xv].rank);
}

/* ---- Activations. */

static evk_status unary_op(lowering *l, evk_unary_desc desc)
{
    uint32_t xv, op;
    evk_status s = evk_lower_value_input(l, 0, 0, &xv);
    if (s == EVK_SUCCESS)
        s = evk_lower_new_op(l, IR_UNARY, xv, &op);
    if (s != EVK_SUCCESS)
        return s;
    l->g->ops[op].unary = desc;
    return evk_lower_set_output(l, op, l->g->values[xv].shape, l->g->values[xv].rank);
}

static evk_status clip_bound(lowering *l, uint32_t input, const char *name, float fallback,
                             float *out)
{
    *out = fallback;
    if (l->opset < 11) {
        *out = evk_lower_float_attribute(l, name, fallback);
        return EVK_SUCCESS;
    }
    const evk_onnx_tensor *t;
    evk_status s = evk_lower_weight_input(l, input, 0, 1, &t);
    if (s == EVK_SUCCESS && t)
        *out = t->floats[0];
    return s;
}

static evk_status lower_activation(lowering *l, const char *op)
{
    static const char *const none[] = {NULL};
    static const char *const clip[] = {"min", "max", NULL};
    static const char *const hard[] = {"alpha", "beta", NULL};
    int is_clip = strcmp(op, "Clip") == 0, is_hard = strcmp(op, "HardSigmoid") == 0;
    evk_status s = evk_lower_attributes(l, is_clip ? clip : is_hard ? hard : none);
    if (s != EVK_SUCCESS)
        return s;
    evk_unary_desc d = {.op = EVK_UNARY_CLAMP, .min = 0.0f, .max = INFINITY};
    if (is_clip) {
        s = clip_bound(l, 1, "min", -INFINITY, &d.min);
        if (s == EVK_SUCCESS)
            s = clip_bound(l, 2, "max", INFINITY, &d.max);
        if (s == EVK_SUCCESS && !(d.min <= d.max))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "min %g above max %g", (double)d.min,
                                  (double)d.max);
    } else if (strcmp(op, "Sigmoid") == 0) {
        d.op = EVK_UNARY_SIGMOID;
    } else if (is_hard) {
        d = (evk_unary_desc){.op = EVK_UNARY_HARD_SIGMOID,
                             .alpha = evk_lower_float_attribute(l, "alpha", 0.2f),
                             .beta = evk_lower_float_attribute(l, "beta", 0.5f)};
        if (!isfinite(d.alpha) || !isfinite(d.beta))
            return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "alpha or beta not finite");
    } else if (strcmp(op, "HardSwish") == 0) {
        d.op = EVK_UNARY_HARD_SWISH;
    }
    return s == EVK_SUCCESS ? unary_op(l, d) : s;
}

/* ---- Add and Mul. */

/* A constant's shape broadcast against a value of ONNX rank `rank`:
 * right-aligned, each dimension 1 or the value's. */
static evk_status operand_shape(lowering *l, const evk_onnx_tensor *c, const ir_value *x,
                                evk_shape *out)
{
    uint32_t dims[4] = {1, 1, 1, 1}, value[4] = {x->shape.n, x->shape.c, x->shape.h, x->shape.w};
    uint32_t rank = x->rank;
    if (c->rank > rank)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "constant '%s' has more dimensions "
                              "than '%s'",
                              c->name, x->name);
    for (uint32_t d = 0; d < c->rank; ++d) {
        uint32_t at = rank - c->rank + d;
        if (c->dims[d] != 1 && c->dims[d] != value[at])
            return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                                  "constant '%s' does not "
                                  "broadcast to '%s' (dimension %u: %lld against %u)",
                                  c->name, x->name, d, (long long)c->dims[d], value[at]);
        dims[at] = (uint32_t)c->dims[d];
    }
    *out = (evk_shape){dims[0], dims[1], dims[2], dims[3]};
    return EVK_SUCCESS;
}

static int broadcasts_to(evk_shape small, evk_shape big)
{
    return (small.n == big.n || small.n == 1) && (small.c == big.c || small.c == 1) &&
        (small.h == big.h || small.h == 1) && (small.w == big.w || small.w == 1);
}

static evk_status lower_arithmetic(lowering *l, evk_binary_op binary)
{
    static const char *const none[] = {NULL};
    uint32_t av, bv;
    evk_status s = evk_lower_attributes(l, none);
    if (s == EVK_SUCCESS)
        s = evk_lower_input(l, 0, 1, &av);
    if (s == EVK_SUCCESS)
        s = evk_lower_input(l, 1, 1, &bv);
    if (s != EVK_SUCCESS)
        return s;
    ir_graph *g = l->g;
    if (g->values[av].constant) {
        uint32_t t = av;
        av = bv;
        bv = t;
    }
    if (g->values[av].constant)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "arithmetic on two constants");
    uint32_t op;
    if (g->values[bv].constant) {
        const evk_onnx_tensor *c = g->values[bv].constant;
        evk_shape shape;
        s = check_floats(l, c);
        if (s == EVK_SUCCESS)
            s = operand_shape(l, c, &g->values[av], &shape);
        if (s == EVK_SUCCESS)
            s = evk_lower_new_op(l, IR_BINARY_CONSTANT, av, &op);
        if (s != EVK_SUCCESS)
            return s;
        g->ops[op].binary = binary;
        g->ops[op].operand = c;
        g->ops[op].operand_shape = shape;
        return evk_lower_set_output(l, op, g->values[av].shape, g->values[av].rank);
    }
    if (g->values[av].rank != g->values[bv].rank)
        return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                              "'%s' and '%s' have %u and %u "
                              "dimensions",
                              g->values[av].name, g->values[bv].name, g->values[av].rank,
                              g->values[bv].rank);
    if (!broadcasts_to(g->values[bv].shape, g->values[av].shape)) {
        uint32_t t = av;
        av = bv;
        bv = t;
    }
    evk_shape a = g->values[av].shape, b = g->values[bv].shape;
    if (!broadcasts_to(b, a))
        return evk_lower_fail(l, EVK_ERROR_SHAPE_MISMATCH,
                              "%ux%ux%ux%u and %ux%ux%ux%u do not "
                              "broadcast one to the other",
                              a.n, a.c, a.h, a.w, b.n, b.c, b.h, b.w);
    s = evk_lower_new_op(l, IR_BINARY, av, &op);
    if (s != EVK_SUCCESS)
        return s;
    g->ops[op].binary = binary;
    g->ops[op].in[1] = evk_lower_root_of(g, bv);
    g->ops[op].in_count = 2;
    return evk_lower_set_output(l, op, a, g->values[av].rank);
}

/* Identity, and Dropout at inference (its mask output unused). */
static evk_status lower_identity(lowering *l)
{
    static const char *const known[] = {"ratio", "seed", NULL};
    evk_status s = evk_lower_attributes(l, known);
    uint32_t xv;
    if (s == EVK_SUCCESS)
        s = evk_lower_input(l, 0, 1, &xv);
    if (s != EVK_SUCCESS)
        return s;
    const evk_onnx_node *n = evk_lower_node_of(l);
    if (strcmp(n->op_type, "Dropout") == 0) {
        uint32_t training = IR_NONE;
        s = evk_lower_input(l, 2, 0, &training);
        const evk_onnx_tensor *t = training != IR_NONE ? l->g->values[training].constant : NULL;
        if (s == EVK_SUCCESS && training != IR_NONE && (!t || !t->ints || t->ints[0]))
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "training mode");
        if (s == EVK_SUCCESS && n->output_count > 1 && n->outputs[1][0])
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "the mask output");
    }
    return s == EVK_SUCCESS ? evk_lower_alias(l, xv) : s;
}

evk_status evk_lower_feature_op(lowering *l)
{
    const char *op = evk_lower_node_of(l)->op_type;
    if (strcmp(op, "Conv") == 0)
        return lower_conv(l);
    if (strcmp(op, "Gemm") == 0)
        return lower_gemm(l);
    if (strcmp(op, "MatMul") == 0)
        return lower_matmul(l);
    if (strcmp(op, "BatchNormalization") == 0)
        return lower_batchnorm(l);
    if (strcmp(op, "Relu") == 0 || strcmp(op, "Clip") == 0 || strcmp(op, "Sigmoid") == 0 ||
        strcmp(op, "HardSigmoid") == 0 || strcmp(op, "HardSwish") == 0)
        return lower_activation(l, op);
    if (strcmp(op, "Add") == 0)
        return lower_arithmetic(l, EVK_BINARY_ADD);
    if (strcmp(op, "Mul") == 0)
        return lower_arithmetic(l, EVK_BINARY_MUL);
    if (strcmp(op, "Identity") == 0 || strcmp(op, "Dropout") == 0)
        return lower_identity(l);
    return evk_lower_layout_op(l);
}
