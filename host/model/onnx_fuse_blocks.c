/* MBConv with squeeze-excitation found in an imported graph (after the
 * convolutions took their epilogues):
 *
 *   h = conv1x1(x) + act          (the expand; absent when E = C_in)
 *   d = depthwise kxk(h) + act    (stride 1 or 2, padding (k − 1) / 2)
 *   g = sigmoid(conv1x1(act(conv1x1(global_pool(d)))))
 *   y = conv1x1(d · g)            (the project, no activation)
 *   y = y + x                     exactly when stride 1 and C_out = C_in
 *
 * with one activation throughout, as evk_mbconv_desc has. Every
 * intermediate must be read only inside the block (d by the pool and the
 * multiply). The convolutions' biases (exporters fold BatchNorm into them)
 * become BatchNorms that add them. */
#include <string.h>

#include "mbconv.h"
#include "onnx_fuse.h"

typedef struct mbconv_match {
    uint32_t expand, depthwise, pool, fc1, fc2, mul, project, add;
    uint32_t input; /* x */
} mbconv_match;

static int is_pointwise(const ir_op *op)
{
    const evk_conv2d_desc *d = &op->conv.desc;
    return op->kind == IR_CONV && !op->conv.linear && d->kernel_h == 1 && d->kernel_w == 1 &&
        d->stride_h == 1 && d->stride_w == 1 && d->pad_h == 0 && d->pad_w == 0 &&
        !d->pad_bottom_extra && !d->pad_right_extra && d->groups == 1;
}

static int is_depthwise(const ir_op *op)
{
    const evk_conv2d_desc *d = &op->conv.desc;
    uint32_t k = d->kernel_h;
    return op->kind == IR_CONV && !op->conv.linear && d->groups == d->in_channels &&
        d->in_channels == d->out_channels && k == d->kernel_w && (k & 1) && k >= 3 && k <= 15 &&
        d->stride_h == d->stride_w && (d->stride_h == 1 || d->stride_h == 2) &&
        d->pad_h == (k - 1) / 2 && d->pad_w == d->pad_h && !d->pad_bottom_extra &&
        !d->pad_right_extra;
}

static uint32_t producer_of(const ir_graph *g, uint32_t value)
{
    uint32_t p = g->values[value].producer;
    return p != IR_NONE && !g->ops[p].dead ? p : IR_NONE;
}

/* The SE's gate g = sigmoid(fc2(act(fc1(pool(d))))) feeding `mul`. */
static int match_gate(const ir_graph *g, uint32_t gate, uint32_t d, mbconv_match *m)
{
    m->fc2 = producer_of(g, gate);
    if (m->fc2 == IR_NONE || !is_pointwise(&g->ops[m->fc2]) ||
        g->ops[m->fc2].conv.desc.activation != EVK_ACTIVATION_SIGMOID ||
        g->ops[m->fc2].conv.desc.batchnorm.gamma || evk_fuse_reader(g, gate) != m->mul)
        return 0;
    m->fc1 = producer_of(g, g->ops[m->fc2].in[0]);
    if (m->fc1 == IR_NONE || !is_pointwise(&g->ops[m->fc1]) ||
        g->ops[m->fc1].conv.desc.batchnorm.gamma ||
        evk_fuse_reader(g, g->ops[m->fc1].out[0]) != m->fc2)
        return 0;
    m->pool = producer_of(g, g->ops[m->fc1].in[0]);
    return m->pool != IR_NONE && g->ops[m->pool].kind == IR_GLOBAL_POOL &&
        g->ops[m->pool].in[0] == d && evk_fuse_reader(g, g->ops[m->pool].out[0]) == m->fc1;
}

static int match_mbconv(const ir_graph *g, uint32_t mul, mbconv_match *m)
{
    const ir_op *op = &g->ops[mul];
    if (op->dead || op->kind != IR_BINARY || op->binary != EVK_BINARY_MUL)
        return 0;
    memset(m, 0xff, sizeof *m);
    m->mul = mul;
    int found = 0;
    for (uint32_t side = 0; side < 2 && !found; ++side) {
        uint32_t d = op->in[side];
        m->depthwise = producer_of(g, d);
        found = m->depthwise != IR_NONE && is_depthwise(&g->ops[m->depthwise]) &&
            g->values[d].consumers == 2 && !g->values[d].graph_output &&
            match_gate(g, op->in[1 - side], d, m);
    }
    if (!found)
        return 0;
    evk_activation act = g->ops[m->depthwise].conv.desc.activation;
    if (act == EVK_ACTIVATION_NONE || g->ops[m->fc1].conv.desc.activation != act)
        return 0;
    uint32_t h = g->ops[m->depthwise].in[0];
    uint32_t expand = producer_of(g, h);
    m->input = h;
    if (expand != IR_NONE && is_pointwise(&g->ops[expand]) &&
        g->ops[expand].conv.desc.activation == act && evk_fuse_reader(g, h) == m->depthwise) {
        m->expand = expand;
        m->input = g->ops[expand].in[0];
    }
    m->project = evk_fuse_reader(g, op->out[0]);
    if (m->project == IR_NONE || !is_pointwise(&g->ops[m->project]) ||
        g->ops[m->project].conv.desc.activation != EVK_ACTIVATION_NONE)
        return 0;
    const evk_conv2d_desc *dw = &g->ops[m->depthwise].conv.desc,
                          *pj = &g->ops[m->project].conv.desc;
    uint32_t in_channels = g->values[m->input].shape.c;
    int residual = dw->stride_h == 1 && pj->out_channels == in_channels;
    uint32_t add = evk_fuse_reader(g, g->ops[m->project].out[0]);
    int added = add != IR_NONE && g->ops[add].kind == IR_BINARY &&
        g->ops[add].binary == EVK_BINARY_ADD && g->ops[add].activation == EVK_ACTIVATION_NONE &&
        ((g->ops[add].in[0] == m->input) != (g->ops[add].in[1] == m->input));
    if (residual != added)
        return 0;
    m->add = added ? add : IR_NONE;
    return 1;
}

/* A conv's bias and BatchNorm as one BatchNorm (evk_mbconv_desc has no
 * biases): BN(W·x + b) is BN with mean − b; a bias alone is a BatchNorm of
 * scale 1 (var + eps = 1 exactly) and shift b. */
static evk_status bias_as_batchnorm(ir_graph *g, const evk_conv2d_desc *d, evk_batchnorm *out)
{
    *out = d->batchnorm;
    if (!d->bias)
        return EVK_SUCCESS;
    uint32_t c = d->out_channels;
    float *values = evk_ir_floats(g, d->batchnorm.gamma ? c : 4ull * c);
    if (!values)
        return EVK_ERROR_OUT_OF_HOST_MEMORY;
    if (d->batchnorm.gamma) {
        for (uint32_t i = 0; i < c; ++i)
            values[i] = d->batchnorm.mean[i] - d->bias[i];
        out->mean = values;
        return EVK_SUCCESS;
    }
    for (uint32_t i = 0; i < c; ++i) {
        values[i] = 1.0f;
        values[c + i] = d->bias[i];
        values[2 * c + i] = 0.0f;
        values[3 * c + i] = 0.75f;
    }
    *out = (evk_batchnorm){values, values + c, values + 2 * c, values + 3 * c, c, 0.25f};
    return EVK_SUCCESS;
}

/* The SE's fc biases are required: zeros when the graph has none. */
static const float *bias_or_zeros(ir_graph *g, const evk_conv2d_desc *d)
{
    return d->bias ? d->bias : evk_ir_floats(g, d->out_channels);
}

static evk_status build_desc(ir_graph *g, const mbconv_match *m, evk_mbconv_desc *out)
{
    const evk_conv2d_desc *dw = &g->ops[m->depthwise].conv.desc;
    const evk_conv2d_desc *fc1 = &g->ops[m->fc1].conv.desc, *fc2 = &g->ops[m->fc2].conv.desc;
    const evk_conv2d_desc *pj = &g->ops[m->project].conv.desc;
    uint32_t in = g->values[m->input].shape.c, e = dw->in_channels, squeeze = fc1->out_channels;
    if (squeeze > in)
        return EVK_ERROR_UNSUPPORTED;
    evk_mbconv_desc d = {.in_channels = in,
                         .out_channels = pj->out_channels,
                         .expand_ratio = m->expand != IR_NONE ? (e + in - 1) / in : 1,
                         .expanded_channels = e,
                         .kernel_size = dw->kernel_h,
                         .stride = dw->stride_h,
                         .se_ratio = squeeze == in ? 1.0f : (float)((squeeze + 0.5) / in),
                         .activation = dw->activation,
                         .depthwise_weight = dw->weight,
                         .depthwise_weight_count = dw->weight_count,
                         .se_fc1_weight = fc1->weight,
                         .se_fc1_weight_count = fc1->weight_count,
                         .se_fc1_bias = bias_or_zeros(g, fc1),
                         .se_fc1_bias_count = squeeze,
                         .se_fc2_weight = fc2->weight,
                         .se_fc2_weight_count = fc2->weight_count,
                         .se_fc2_bias = bias_or_zeros(g, fc2),
                         .se_fc2_bias_count = e,
                         .project_weight = pj->weight,
                         .project_weight_count = pj->weight_count};
    if (m->expand == IR_NONE && e != in)
        return EVK_ERROR_UNSUPPORTED;
    if (d.expand_ratio < 2 && m->expand != IR_NONE)
        d.expand_ratio = 2;
    evk_status s = EVK_SUCCESS;
    if (m->expand != IR_NONE) {
        const evk_conv2d_desc *ex = &g->ops[m->expand].conv.desc;
        d.expand_weight = ex->weight;
        d.expand_weight_count = ex->weight_count;
        s = bias_as_batchnorm(g, ex, &d.expand_bn);
    }
    if (s == EVK_SUCCESS)
        s = bias_as_batchnorm(g, dw, &d.depthwise_bn);
    if (s == EVK_SUCCESS)
        s = bias_as_batchnorm(g, pj, &d.project_bn);
    if (s == EVK_SUCCESS && (!d.se_fc1_bias || !d.se_fc2_bias))
        s = EVK_ERROR_OUT_OF_HOST_MEMORY;
    *out = d;
    return s;
}

evk_status evk_fuse_mbconv(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o) {
        mbconv_match m;
        if (!match_mbconv(g, o, &m))
            continue;
        evk_mbconv_desc desc;
        evk_status s = build_desc(g, &m, &desc);
        if (s != EVK_SUCCESS && s != EVK_ERROR_UNSUPPORTED)
            return s;
        if (s != EVK_SUCCESS || evk_mbconv_check(NULL, &desc) != EVK_SUCCESS)
            continue;
        /* The block becomes the depthwise op's: it keeps the position in
         * the graph's order where all of its inputs exist. */
        uint32_t keep = m.depthwise;
        uint32_t last = m.add != IR_NONE ? m.add : m.project;
        uint32_t parts[] = {m.expand, m.pool, m.fc1, m.fc2, m.mul, m.project, m.add};
        ir_op *block = &g->ops[keep];
        g->values[block->in[0]].consumers--;
        block->kind = IR_MBCONV;
        block->mbconv = desc;
        block->in[0] = m.input;
        block->in_count = 1;
        g->values[m.input].consumers++;
        block->out[0] = g->ops[last].out[0];
        g->values[block->out[0]].producer = keep;
        for (uint32_t i = 0; i < sizeof parts / sizeof parts[0]; ++i) {
            if (parts[i] == IR_NONE)
                continue;
            ir_op *part = &g->ops[parts[i]];
            for (uint32_t k = 0; k < part->in_count; ++k)
                g->values[part->in[k]].consumers--;
            part->dead = 1;
            evk_fuse_give_nodes(g, parts[i], keep);
        }
    }
    return EVK_SUCCESS;
}
