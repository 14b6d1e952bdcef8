/* OctConv found in an imported graph. With P a 2x2 average pool of stride
 * 2, ceil mode, over the pixels inside the map (evk_octconv_desc's), and
 * U a nearest ×2 upsampling (then a crop to Y^H's size at odd sizes):
 *
 *   stride 1: Y^H = conv_hh(X^H) + U(conv_lh(X^L))
 *             Y^L = conv_hl(P(X^H)) + conv_ll(X^L)
 *   stride 2: Y^H = conv_hh(P(X^H)) + conv_lh(X^L)
 *             Y^L = conv_hl(P(P(X^H))) + conv_ll(P(X^L))
 *
 * each side followed by an optional BatchNorm and activation; the first
 * layer of an Oct-network has no X^L (Y^H = conv_hh, Y^L = conv_hl), the
 * last no Y^L. All four convolutions share one odd kernel with padding
 * (K − 1) / 2, stride 1, one group; the ones that are summed carry no
 * BatchNorm or activation (a bias each, summed). The pools may be shared
 * with other readers: they are kept for those. */
#include <math.h>
#include <string.h>

#include "octconv.h"
#include "onnx_fuse.h"

typedef struct side {
    uint32_t same, other; /* hh and lh, or hl and ll (IR_NONE when absent) */
    uint32_t resize, crop, add, batchnorm, unary;
    uint32_t out; /* the side's final value */
    evk_activation activation;
} side;

typedef struct oct_match {
    uint32_t x_high, x_low; /* x_low IR_NONE without X^L */
    uint32_t stride;
    side high, low; /* low.same IR_NONE without Y^L */
} oct_match;

static int is_oct_pool(const ir_op *op)
{
    const evk_pool2d_desc *p = &op->pool;
    return !op->dead && op->kind == IR_AVG_POOL && p->kernel_h == 2 && p->kernel_w == 2 &&
        p->stride_h == 2 && p->stride_w == 2 && !p->pad_top && !p->pad_left && !p->pad_bottom &&
        !p->pad_right && p->ceil_mode && !p->count_include_pad;
}

/* The output of a pool P reading `v`, or IR_NONE. */
static uint32_t pooled(const ir_graph *g, uint32_t v)
{
    for (uint32_t o = 0; v != IR_NONE && o < g->op_count; ++o)
        if (is_oct_pool(&g->ops[o]) && g->ops[o].in[0] == v)
            return g->ops[o].out[0];
    return IR_NONE;
}

static int is_path_conv(const ir_graph *g, uint32_t o, uint32_t kernel)
{
    const ir_op *op = &g->ops[o];
    const evk_conv2d_desc *d = &op->conv.desc;
    return !op->dead && op->kind == IR_CONV && !op->conv.linear && d->groups == 1 &&
        d->kernel_h == kernel && d->kernel_w == kernel && (kernel & 1) && kernel <= 15 &&
        d->stride_h == 1 && d->stride_w == 1 && d->pad_h == (kernel - 1) / 2 &&
        d->pad_w == d->pad_h && !d->pad_bottom_extra && !d->pad_right_extra;
}

static uint32_t producer(const ir_graph *g, uint32_t v, ir_kind kind)
{
    uint32_t p = g->values[v].producer;
    return p != IR_NONE && !g->ops[p].dead && g->ops[p].kind == kind ? p : IR_NONE;
}

static int plain_conv(const ir_graph *g, uint32_t o)
{
    const evk_conv2d_desc *d = &g->ops[o].conv.desc;
    return d->activation == EVK_ACTIVATION_NONE && !d->batchnorm.gamma;
}

/* The side's optional BatchNorm and activation after `value`. */
static void epilogue(const ir_graph *g, side *s, uint32_t value)
{
    s->batchnorm = s->unary = IR_NONE;
    s->out = value;
    uint32_t r = evk_fuse_reader(g, value);
    if (r != IR_NONE && g->ops[r].kind == IR_BATCHNORM) {
        s->batchnorm = r;
        s->out = g->ops[r].out[0];
        r = evk_fuse_reader(g, s->out);
    }
    const ir_op *u = r != IR_NONE ? &g->ops[r] : NULL;
    if (u && u->kind == IR_UNARY && u->unary.op == EVK_UNARY_CLAMP && u->unary.min == 0.0f &&
        (u->unary.max == 6.0f || isinf(u->unary.max))) {
        s->unary = r;
        s->out = u->out[0];
        s->activation = u->unary.max == 6.0f ? EVK_ACTIVATION_RELU6 : EVK_ACTIVATION_RELU;
    }
}

/* The sum conv(same) + [U](conv(other)) of a side; false when the add after
 * `same` is no such sum. */
static int match_sum(const ir_graph *g, side *s, uint32_t add, int upsampled, uint32_t *x_other,
                     uint32_t kernel)
{
    const ir_op *a = &g->ops[add];
    uint32_t same = s->same;
    uint32_t t = a->in[0] == g->ops[same].out[0] ? a->in[1] : a->in[0];
    if (upsampled) {
        s->crop = producer(g, t, IR_CROP);
        if (s->crop != IR_NONE) {
            if (evk_fuse_reader(g, t) != add)
                return 0;
            t = g->ops[s->crop].in[0];
        }
        s->resize = producer(g, t, IR_RESIZE);
        if (s->resize == IR_NONE || g->ops[s->resize].scale_h != 2 ||
            g->ops[s->resize].scale_w != 2 ||
            evk_fuse_reader(g, g->ops[s->resize].out[0]) != (s->crop != IR_NONE ? s->crop : add))
            return 0;
        t = g->ops[s->resize].in[0];
    }
    s->other = producer(g, t, IR_CONV);
    if (s->other == IR_NONE || !is_path_conv(g, s->other, kernel) || !plain_conv(g, same) ||
        !plain_conv(g, s->other) || evk_fuse_reader(g, t) == IR_NONE ||
        (*x_other != IR_NONE && g->ops[s->other].in[0] != *x_other))
        return 0;
    *x_other = g->ops[s->other].in[0];
    s->add = add;
    s->activation = a->activation;
    if (a->activation == EVK_ACTIVATION_NONE)
        epilogue(g, s, a->out[0]);
    else
        s->out = a->out[0];
    return 1;
}

/* A side from its `same` conv: summed with the other conv (read through
 * the upsampling when `upsampled`), which must read `*x_other` (IR_NONE:
 * any, and it is set), the sum's BatchNorm and activation following the
 * add; or, when `*x_other` is IR_NONE and there is no such sum, alone (the
 * conv carries the side's BatchNorm and activation, as the epilogue pass
 * gave them). */
static int match_side(const ir_graph *g, side *s, uint32_t same, int upsampled, uint32_t *x_other,
                      uint32_t kernel)
{
    uint32_t add = evk_fuse_reader(g, g->ops[same].out[0]);
    int is_add = add != IR_NONE && g->ops[add].kind == IR_BINARY &&
        g->ops[add].binary == EVK_BINARY_ADD;
    memset(s, 0xff, sizeof *s);
    s->same = same;
    if (is_add && match_sum(g, s, add, upsampled, x_other, kernel))
        return 1;
    memset(s, 0xff, sizeof *s);
    s->same = same;
    s->out = g->ops[same].out[0];
    s->activation = g->ops[same].conv.desc.activation;
    return *x_other == IR_NONE;
}

/* Y^L: a conv reading any pool P of `pool_src`, alone or summed with a
 * conv reading `ll_src`, with Y^H's activation. Several candidates may
 * read the same pools (layers sharing an input): the first that fits. */
static int match_low_side(const ir_graph *g, oct_match *m, uint32_t pool_src, uint32_t ll_src,
                          uint32_t kernel, uint32_t hh)
{
    for (uint32_t p = 0; p < g->op_count; ++p) {
        if (!is_oct_pool(&g->ops[p]) || g->ops[p].in[0] != pool_src)
            continue;
        uint32_t pooled_value = g->ops[p].out[0];
        for (uint32_t o = 0; o < g->op_count; ++o) {
            if (o == hh || !is_path_conv(g, o, kernel) || g->ops[o].in[0] != pooled_value)
                continue;
            uint32_t want = ll_src;
            if (match_side(g, &m->low, o, 0, &want, kernel) && want == ll_src &&
                m->low.activation == m->high.activation)
                return 1;
        }
    }
    return 0;
}

static uint32_t half(uint32_t size)
{
    return (size + 1) / 2;
}

static int match_octconv(const ir_graph *g, uint32_t hh, uint32_t stride, oct_match *m)
{
    uint32_t kernel = g->ops[hh].conv.desc.kernel_h, src = g->ops[hh].in[0];
    memset(m, 0xff, sizeof *m);
    m->stride = stride;
    if (stride == 2) {
        uint32_t p = producer(g, src, IR_AVG_POOL);
        if (p == IR_NONE || !is_oct_pool(&g->ops[p]))
            return 0;
        m->x_high = g->ops[p].in[0];
    } else {
        m->x_high = src;
    }
    uint32_t x_low = IR_NONE;
    if (!match_side(g, &m->high, hh, stride == 1, &x_low, kernel))
        return 0;
    m->x_low = x_low;
    uint32_t low_src = stride == 1 ? m->x_high : src;
    uint32_t ll_src = m->x_low == IR_NONE ? IR_NONE : stride == 1 ? m->x_low : pooled(g, m->x_low);
    if (!match_low_side(g, m, low_src, ll_src, kernel, hh))
        memset(&m->low, 0xff, sizeof m->low);
    if (m->x_low == IR_NONE && m->low.same == IR_NONE)
        return 0;
    evk_shape xh = g->values[m->x_high].shape;
    if (m->x_low != IR_NONE) {
        evk_shape xl = g->values[m->x_low].shape;
        if (xl.n != xh.n || xl.h != half(xh.h) || xl.w != half(xh.w))
            return 0;
    }
    return 1;
}

/* The side's bias: the sum of its convs' biases (NULL when neither has one). */
static const float *side_bias(ir_graph *g, const side *s, uint32_t channels)
{
    const float *a = g->ops[s->same].conv.desc.bias;
    const float *b = s->other != IR_NONE ? g->ops[s->other].conv.desc.bias : NULL;
    if (!a || !b)
        return a ? a : b;
    float *sum = evk_ir_floats(g, channels);
    for (uint32_t i = 0; sum && i < channels; ++i)
        sum[i] = a[i] + b[i];
    return sum;
}

static evk_batchnorm side_batchnorm(const ir_graph *g, const side *s)
{
    if (s->batchnorm != IR_NONE)
        return g->ops[s->batchnorm].batchnorm;
    return g->ops[s->same].conv.desc.batchnorm;
}

static evk_octconv_desc octconv_desc(ir_graph *g, const oct_match *m)
{
    const evk_conv2d_desc *hh = &g->ops[m->high.same].conv.desc;
    uint32_t in_low = m->x_low != IR_NONE ? g->values[m->x_low].shape.c : 0;
    uint32_t out_low = m->low.same != IR_NONE ? g->ops[m->low.same].conv.desc.out_channels : 0;
    evk_octconv_desc d = {.in_channels = hh->in_channels + in_low,
                          .out_channels = hh->out_channels + out_low,
                          .in_low_channels = in_low,
                          .out_low_channels = out_low,
                          .kernel_size = hh->kernel_h,
                          .stride = m->stride,
                          .activation = m->high.activation,
                          .weight_hh = hh->weight,
                          .weight_hh_count = hh->weight_count,
                          .bias_h = side_bias(g, &m->high, hh->out_channels),
                          .batchnorm_h = side_batchnorm(g, &m->high)};
    d.bias_h_count = d.bias_h ? hh->out_channels : 0;
    if (m->high.other != IR_NONE) {
        d.weight_lh = g->ops[m->high.other].conv.desc.weight;
        d.weight_lh_count = g->ops[m->high.other].conv.desc.weight_count;
    }
    if (m->low.same != IR_NONE) {
        d.weight_hl = g->ops[m->low.same].conv.desc.weight;
        d.weight_hl_count = g->ops[m->low.same].conv.desc.weight_count;
        d.bias_l = side_bias(g, &m->low, out_low);
        d.bias_l_count = d.bias_l ? out_low : 0;
        d.batchnorm_l = side_batchnorm(g, &m->low);
    }
    if (m->low.other != IR_NONE) {
        d.weight_ll = g->ops[m->low.other].conv.desc.weight;
        d.weight_ll_count = g->ops[m->low.other].conv.desc.weight_count;
    }
    return d;
}

/* Whether every reader of the fused op's outputs comes after slot `at`. */
static int outputs_read_after(const ir_graph *g, const oct_match *m, uint32_t at)
{
    uint32_t outs[2] = {m->high.out, m->low.same != IR_NONE ? m->low.out : IR_NONE};
    for (uint32_t o = 0; o < at; ++o)
        for (uint32_t i = 0; !g->ops[o].dead && i < g->ops[o].in_count; ++i)
            if (g->ops[o].in[i] == outs[0] || (outs[1] != IR_NONE && g->ops[o].in[i] == outs[1]))
                return 0;
    return 1;
}

/* The average pool producing `value` once nothing reads it: the layer pools
 * in its kernel, so the pool's ONNX nodes become the layer's (it keeps its
 * name from the conv) rather than a dead op's. */
static void absorb_unread_pool(ir_graph *g, uint32_t value, uint32_t at)
{
    uint32_t p = g->values[value].producer;
    if (p == IR_NONE || g->ops[p].dead || g->ops[p].kind != IR_AVG_POOL ||
        g->values[value].consumers > 0 || g->values[value].graph_output)
        return;
    g->ops[p].dead = 1;
    g->values[g->ops[p].in[0]].consumers--;
    evk_fuse_take_nodes(g, p, at);
}

static void absorb_all(ir_graph *g, const oct_match *m, uint32_t at, evk_octconv_desc desc)
{
    const side *sides[2] = {&m->high, &m->low};
    uint32_t conv_inputs[4], conv_count = 0;
    for (uint32_t k = 0; k < 2; ++k) {
        const side *s = sides[k];
        uint32_t parts[] = {s->same, s->other, s->resize, s->crop, s->add, s->batchnorm, s->unary};
        for (uint32_t i = 0; i < sizeof parts / sizeof parts[0]; ++i) {
            if (parts[i] == IR_NONE)
                continue;
            ir_op *part = &g->ops[parts[i]];
            if (i < 2)
                conv_inputs[conv_count++] = part->in[0];
            for (uint32_t j = 0; j < part->in_count; ++j)
                g->values[part->in[j]].consumers--;
            part->dead = 1;
            evk_fuse_give_nodes(g, parts[i], at);
        }
    }
    ir_op *op = &g->ops[at];
    op->dead = 0;
    op->kind = IR_OCTCONV;
    op->octconv = desc;
    op->in[0] = m->x_high;
    op->in_count = 1;
    g->values[m->x_high].consumers++;
    if (m->x_low != IR_NONE) {
        op->in[1] = m->x_low;
        op->in_count = 2;
        g->values[m->x_low].consumers++;
    }
    op->out[0] = m->high.out;
    op->out_count = 1;
    g->values[m->high.out].producer = at;
    if (m->low.same != IR_NONE) {
        op->out[1] = m->low.out;
        op->out_count = 2;
        g->values[m->low.out].producer = at;
    }
    for (uint32_t i = 0; i < conv_count; ++i)
        absorb_unread_pool(g, conv_inputs[i], at);
}

/* The slot the fused op takes: the first absorbed op after X^H's and X^L's
 * producers (IR_NONE when there is none), where its inputs exist and,
 * when outputs_read_after holds, before its outputs' readers. */
static uint32_t fused_slot(const ir_graph *g, const oct_match *m)
{
    uint32_t after = g->values[m->x_high].producer;
    if (m->x_low != IR_NONE && g->values[m->x_low].producer != IR_NONE &&
        (after == IR_NONE || g->values[m->x_low].producer > after))
        after = g->values[m->x_low].producer;
    const side *sides[2] = {&m->high, &m->low};
    uint32_t first = IR_NONE;
    for (uint32_t k = 0; k < 2; ++k) {
        uint32_t parts[] = {sides[k]->same, sides[k]->other,     sides[k]->resize, sides[k]->crop,
                            sides[k]->add,  sides[k]->batchnorm, sides[k]->unary};
        for (uint32_t i = 0; i < sizeof parts / sizeof parts[0]; ++i)
            if (parts[i] != IR_NONE && (after == IR_NONE || parts[i] > after) &&
                (first == IR_NONE || parts[i] < first))
                first = parts[i];
    }
    return first;
}

evk_status evk_fuse_octconv(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        if (!is_path_conv(g, o, g->ops[o].conv.desc.kernel_h))
            continue;
        oct_match m;
        int found = 0;
        for (uint32_t stride = 2; stride >= 1 && !found; --stride)
            found = match_octconv(g, o, stride, &m);
        if (!found)
            continue;
        evk_octconv_desc desc = octconv_desc(g, &m);
        if ((desc.bias_h_count && !desc.bias_h) || evk_octconv_check(NULL, &desc) != EVK_SUCCESS)
            continue;
        uint32_t at = fused_slot(g, &m);
        if (at == IR_NONE || !outputs_read_after(g, &m, at))
            continue;
        absorb_all(g, &m, at, desc);
    }
    return EVK_SUCCESS;
}
