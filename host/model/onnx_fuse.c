/* The importer's passes onto effvk's layers (onnx_ir.h), in order:
 *  - a zero Pad read only by a convolution becomes that conv's padding;
 *  - x · sigmoid(x) becomes SiLU;
 *  - a convolution takes the BatchNorm, the per-channel constant add (a
 *    bias) and the activation that follow it, a same-shape add its ReLU;
 *  - MBConv: expand 1x1 → depthwise → SE (global pool, 1x1 with the
 *    block's activation, 1x1 with sigmoid, multiply) → project 1x1 (→ the
 *    residual add) becomes one fused block (onnx_fuse_blocks.c);
 *  - OctConv's convolutions with their pools, upsampling and adds become
 *    one OctConv layer (onnx_fuse_octconv.c);
 *  - a dense convolution whose weights have HetConv's zero pattern for
 *    some P > 1 becomes a HetConv of the largest such P;
 *  - ops no output needs are removed.
 * A pattern with any difference (another activation, a value another op
 * also reads, one stray non-zero tap) is left as it is: still correct. */
#include <math.h>
#include <string.h>

#include "onnx_fuse.h"
#include "onnx_lower_ops.h"

uint32_t evk_fuse_reader(const ir_graph *g, uint32_t value)
{
    const ir_value *v = &g->values[value];
    if (v->consumers != 1 || v->graph_output)
        return IR_NONE;
    for (uint32_t o = v->producer == IR_NONE ? 0 : v->producer + 1; o < g->op_count; ++o) {
        const ir_op *op = &g->ops[o];
        if (op->dead)
            continue;
        for (uint32_t i = 0; i < op->in_count; ++i)
            if (op->in[i] == value)
                return o;
    }
    return IR_NONE;
}

const ir_op *evk_fuse_producer(const ir_graph *g, uint32_t value, ir_kind kind)
{
    uint32_t p = g->values[value].producer;
    if (p == IR_NONE || g->ops[p].dead || g->ops[p].kind != kind)
        return NULL;
    return &g->ops[p];
}

void evk_fuse_absorb(ir_graph *g, uint32_t keep, uint32_t victim)
{
    ir_op *k = &g->ops[keep], *v = &g->ops[victim];
    g->values[k->out[0]].consumers = 0;
    k->out[0] = v->out[0];
    g->values[v->out[0]].producer = keep;
    v->dead = 1;
    evk_fuse_give_nodes(g, victim, keep);
}

void evk_fuse_take_nodes(ir_graph *g, uint32_t from, uint32_t to)
{
    for (uint32_t n = 0; n < g->onnx->node_count; ++n)
        if (g->node_owner[n] == from)
            g->node_owner[n] = to;
}

void evk_fuse_give_nodes(ir_graph *g, uint32_t from, uint32_t to)
{
    evk_fuse_take_nodes(g, from, to);
    if (g->ops[to].first_node > g->ops[from].first_node)
        g->ops[to].first_node = g->ops[from].first_node;
}

/* ---- Zero padding. */

/* A Pad as lowered: a depthwise 1x1 conv of ones, nothing after it. */
static int is_zero_pad(const ir_op *op)
{
    const evk_conv2d_desc *d = &op->conv.desc;
    if (op->dead || op->kind != IR_CONV || op->conv.linear || d->kernel_h != 1 ||
        d->kernel_w != 1 || d->stride_h > 1 || d->stride_w > 1 || d->groups != d->in_channels ||
        d->in_channels != d->out_channels || d->weight_count != d->in_channels || d->bias ||
        d->batchnorm.gamma || d->activation != EVK_ACTIVATION_NONE)
        return 0;
    for (uint32_t c = 0; c < d->in_channels; ++c)
        if (d->weight[c] != 1.0f)
            return 0;
    return 1;
}

/* A zero Pad read only by a conv: the conv pads by both amounts, each end
 * by its own sum (its padding is zeros too). */
static void fold_pads(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        ir_op *pad = &g->ops[o];
        if (!is_zero_pad(pad))
            continue;
        uint32_t r = evk_fuse_reader(g, pad->out[0]);
        if (r == IR_NONE || g->ops[r].kind != IR_CONV || g->ops[r].conv.linear)
            continue;
        evk_conv2d_desc *d = &g->ops[r].conv.desc;
        const evk_conv2d_desc *p = &pad->conv.desc;
        int64_t top = (int64_t)d->pad_h + p->pad_h, left = (int64_t)d->pad_w + p->pad_w;
        int64_t bottom = top + d->pad_bottom_extra + p->pad_bottom_extra,
                right = left + d->pad_right_extra + p->pad_right_extra;
        if (top > 1023 || left > 1023 || bottom > 1023 || right > 1023)
            continue;
        evk_shape x = g->values[pad->in[0]].shape;
        d->pad_h = (uint32_t)top;
        d->pad_w = (uint32_t)left;
        d->pad_bottom_extra = evk_lower_end_extra(x.h, top, bottom, d->kernel_h,
                                                  d->stride_h ? d->stride_h : 1);
        d->pad_right_extra = evk_lower_end_extra(x.w, left, right, d->kernel_w,
                                                 d->stride_w ? d->stride_w : 1);
        g->ops[r].in[0] = pad->in[0];
        g->values[pad->out[0]].consumers--;
        pad->dead = 1;
        evk_fuse_take_nodes(g, o, r);
    }
}

/* ---- SiLU. */

static void fuse_silu(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        ir_op *s = &g->ops[o];
        if (s->dead || s->kind != IR_UNARY || s->unary.op != EVK_UNARY_SIGMOID)
            continue;
        uint32_t m = evk_fuse_reader(g, s->out[0]);
        if (m == IR_NONE)
            continue;
        ir_op *mul = &g->ops[m];
        if (mul->kind != IR_BINARY || mul->binary != EVK_BINARY_MUL)
            continue;
        uint32_t other = mul->in[0] == s->out[0] ? mul->in[1] : mul->in[0];
        if (other != s->in[0])
            continue;
        g->values[s->in[0]].consumers--;
        s->unary.op = EVK_UNARY_SILU;
        evk_fuse_absorb(g, o, m);
    }
}

/* ---- A convolution's epilogue. */

static evk_activation conv_activation(const evk_unary_desc *u)
{
    if (u->op == EVK_UNARY_SILU)
        return EVK_ACTIVATION_SILU;
    if (u->op == EVK_UNARY_SIGMOID)
        return EVK_ACTIVATION_SIGMOID;
    if (u->op == EVK_UNARY_CLAMP && u->min == 0.0f && u->max == INFINITY)
        return EVK_ACTIVATION_RELU;
    if (u->op == EVK_UNARY_CLAMP && u->min == 0.0f && u->max == 6.0f)
        return EVK_ACTIVATION_RELU6;
    return EVK_ACTIVATION_NONE;
}

/* A constant of one value per channel (or one for all): its value for
 * channel c. */
static int per_channel(const ir_op *add, uint32_t channels)
{
    evk_shape s = add->operand_shape;
    return s.n == 1 && s.h == 1 && s.w == 1 && (s.c == channels || s.c == 1);
}

/* conv + t: into the bias, or into BatchNorm's shift when it has one. */
static evk_status fold_shift(ir_graph *g, ir_op *conv, const ir_op *add)
{
    evk_conv2d_desc *d = &conv->conv.desc;
    uint32_t c = d->out_channels;
    const float *t = add->operand->floats;
    int single = add->operand_shape.c == 1;
    float *shifted = evk_ir_floats(g, c);
    if (!shifted)
        return EVK_ERROR_OUT_OF_HOST_MEMORY;
    const float *base = d->batchnorm.gamma ? d->batchnorm.beta : d->bias;
    for (uint32_t i = 0; i < c; ++i)
        shifted[i] = (base ? base[i] : 0.0f) + t[single ? 0 : i];
    if (d->batchnorm.gamma) {
        d->batchnorm.beta = shifted;
    } else {
        d->bias = shifted;
        d->bias_count = c;
    }
    return EVK_SUCCESS;
}

static evk_status fuse_conv_epilogues(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        ir_op *conv = &g->ops[o];
        if (conv->dead || conv->kind != IR_CONV)
            continue;
        for (;;) {
            evk_conv2d_desc *d = &conv->conv.desc;
            uint32_t r = evk_fuse_reader(g, conv->out[0]);
            if (r == IR_NONE || d->activation != EVK_ACTIVATION_NONE)
                break;
            ir_op *next = &g->ops[r];
            if (next->kind == IR_BATCHNORM && !d->batchnorm.gamma) {
                d->batchnorm = next->batchnorm;
            } else if (next->kind == IR_BINARY_CONSTANT && next->binary == EVK_BINARY_ADD &&
                       per_channel(next, d->out_channels)) {
                evk_status s = fold_shift(g, conv, next);
                if (s != EVK_SUCCESS)
                    return s;
            } else if (next->kind == IR_UNARY && conv_activation(&next->unary)) {
                d->activation = conv_activation(&next->unary);
            } else {
                break;
            }
            evk_fuse_absorb(g, o, r);
        }
    }
    return EVK_SUCCESS;
}

/* ResNet's relu(out + identity): the add layer applies it. */
static void fuse_add_relu(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        ir_op *add = &g->ops[o];
        if (add->dead || add->kind != IR_BINARY || add->binary != EVK_BINARY_ADD)
            continue;
        uint32_t r = evk_fuse_reader(g, add->out[0]);
        if (r == IR_NONE || g->ops[r].kind != IR_UNARY ||
            conv_activation(&g->ops[r].unary) != EVK_ACTIVATION_RELU)
            continue;
        add->activation = EVK_ACTIVATION_RELU;
        evk_fuse_absorb(g, o, r);
    }
}

/* ---- HetConv. */

static uint32_t gcd(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

/* The largest P for which every output o has non-zero off-centre taps
 * only on inputs i with (i − o) mod P == 0; 0 when there is none above 1. */
static uint32_t hetconv_part(const evk_conv2d_desc *d)
{
    uint32_t k = d->kernel_h, centre = (k / 2) * k + k / 2, p = 0;
    int any = 0;
    for (uint32_t o = 0; o < d->out_channels; ++o)
        for (uint32_t i = 0; i < d->in_channels; ++i) {
            const float *taps = d->weight + ((size_t)o * d->in_channels + i) * k * k;
            int full = 0;
            for (uint32_t t = 0; t < k * k && !full; ++t)
                full = t != centre && taps[t] != 0.0f;
            if (!full)
                continue;
            any = 1;
            p = gcd(p, i > o ? i - o : o - i);
            if (p == 1)
                return 0;
        }
    if (!any)
        return 0;
    if (!p)
        return d->in_channels;
    /* Every part that divides p keeps the taps found; the largest one the
     * kernel takes (at most in_channels) skips the most. */
    for (uint32_t part = p < d->in_channels ? p : d->in_channels; part > 1; --part)
        if (p % part == 0)
            return part;
    return 0;
}

static void fuse_hetconv(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        ir_op *op = &g->ops[o];
        const evk_conv2d_desc *d = &op->conv.desc;
        if (op->dead || op->kind != IR_CONV || op->conv.linear || d->groups > 1 ||
            d->kernel_h != d->kernel_w || d->kernel_h < 3 || d->kernel_h > 15 ||
            !(d->kernel_h & 1) || d->stride_h != d->stride_w || d->pad_h != d->pad_w ||
            d->pad_bottom_extra || d->pad_right_extra || d->pad_h >= d->kernel_h ||
            d->in_channels < 2)
            continue;
        uint32_t part = hetconv_part(d);
        if (part < 2)
            continue;
        evk_conv2d_desc conv = *d;
        op->kind = IR_HETCONV;
        op->hetconv = (evk_hetconv_desc){.in_channels = conv.in_channels,
                                         .out_channels = conv.out_channels,
                                         .kernel_size = conv.kernel_h,
                                         .part = part,
                                         .stride = conv.stride_h,
                                         .padding_mode = EVK_PADDING_EXPLICIT,
                                         .padding = conv.pad_h,
                                         .activation = conv.activation,
                                         .weight = conv.weight,
                                         .weight_count = conv.weight_count,
                                         .bias = conv.bias,
                                         .bias_count = conv.bias_count,
                                         .batchnorm = conv.batchnorm};
    }
}

/* ---- Dead ops. */

static void remove_dead(ir_graph *g)
{
    for (uint32_t o = g->op_count; o-- > 0;) {
        ir_op *op = &g->ops[o];
        if (op->dead)
            continue;
        int used = 0;
        for (uint32_t i = 0; i < op->out_count; ++i)
            used |= g->values[op->out[i]].consumers > 0;
        if (used)
            continue;
        op->dead = 1;
        for (uint32_t i = 0; i < op->in_count; ++i)
            g->values[op->in[i]].consumers--;
    }
}

evk_status evk_onnx_fuse(ir_graph *g)
{
    remove_dead(g);
    fold_pads(g);
    fuse_silu(g);
    evk_status s = fuse_conv_epilogues(g);
    if (s != EVK_SUCCESS)
        return s;
    fuse_add_relu(g);
    s = evk_fuse_mbconv(g);
    if (s == EVK_SUCCESS)
        s = evk_fuse_octconv(g);
    if (s == EVK_SUCCESS)
        fuse_hetconv(g);
    if (s == EVK_SUCCESS)
        remove_dead(g);
    return s;
}
