/* The importer's last step: each live op of the fused graph (onnx_ir.h)
 * becomes an effvk layer and one or two graph nodes (an OctConv one per
 * output branch), named after its first ONNX node; its costs and the
 * ONNX nodes it runs go to the model's layer list. onnx_describe_ops
 * gives the list without a device. */
#include <stdio.h>
#include <string.h>

#include "concat.h"
#include "context.h"
#include "eltwise.h"
#include "linear.h"
#include "octconv.h"
#include "onnx_build.h"
#include "resize.h"
#include "saturating.h"

static int is_plain_add(const ir_graph *g, const ir_op *op);

static const char *kind_name(const ir_graph *g, const ir_op *op)
{
    switch (op->kind) {
    case IR_CONV:
        return op->conv.linear && op->conv.desc.activation == EVK_ACTIVATION_NONE &&
                !op->conv.desc.batchnorm.gamma
            ? "linear"
            : "conv2d";
    case IR_BATCHNORM:
        return "conv2d";
    case IR_UNARY:
        return "activation";
    case IR_BINARY:
        return is_plain_add(g, op) ? "add" : "broadcast";
    case IR_BINARY_CONSTANT:
        return "broadcast";
    case IR_GLOBAL_POOL:
        return "global_avg_pool";
    case IR_MAX_POOL:
        return "max_pool";
    case IR_AVG_POOL:
        return "avg_pool";
    case IR_RESIZE:
        return "resize";
    case IR_CROP:
        return "crop";
    case IR_CONCAT:
        return "concat";
    case IR_MBCONV:
        return "mbconv";
    case IR_HETCONV:
        return "hetconv";
    case IR_OCTCONV:
        return "octconv";
    }
    return "";
}

/* A same-shape add runs on the residual add's kernel, which takes ReLU. */
static int is_plain_add(const ir_graph *g, const ir_op *op)
{
    if (op->kind != IR_BINARY || op->binary != EVK_BINARY_ADD)
        return 0;
    evk_shape a = g->values[op->in[0]].shape, b = g->values[op->in[1]].shape;
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

/* The MACs and parameters of an op on its input's shape. */
static evk_status op_cost(const ir_graph *g, const ir_op *op, uint64_t *macs, uint64_t *params)
{
    evk_shape in = g->values[op->in[0]].shape;
    *macs = *params = 0;
    switch (op->kind) {
    case IR_CONV:
        return evk_conv2d_cost(&op->conv.desc, in, macs, params);
    case IR_HETCONV:
        return evk_hetconv_cost(&op->hetconv, in, macs, params);
    case IR_MBCONV:
        return evk_mbconv_cost(&op->mbconv, in, macs, params);
    case IR_OCTCONV:
        return evk_octconv_cost(&op->octconv, in, macs, params);
    case IR_BATCHNORM:
        *params = 2ull * op->batchnorm.count;
        return EVK_SUCCESS;
    case IR_BINARY_CONSTANT:
        *params = op->operand->count;
        return EVK_SUCCESS;
    default:
        return EVK_SUCCESS;
    }
}

/* The layer's name: its first node's when that is short and unused, else
 * OPTYPE_INDEX. */
static void layer_name(const ir_graph *g, const ir_op *op, const evk_model_layer_info *done,
                       uint32_t count, char *out, size_t size)
{
    const evk_onnx_node *n = &g->onnx->nodes[op->first_node];
    int usable = n->name[0] && strlen(n->name) < size;
    for (uint32_t i = 0; usable && i < count; ++i)
        usable = strcmp(done[i].name, n->name) != 0;
    if (usable)
        snprintf(out, size, "%s", n->name);
    else
        snprintf(out, size, "%.20s_%u", n->op_type, op->first_node);
}

/* "Conv 'a' + Relu 'b'", or its first and last nodes and the count when
 * it is long. */
static char *layer_source(const ir_graph *g, uint32_t op_index)
{
    enum { LIMIT = 512 };
    char *text = evk_alloc(g->ctx, LIMIT);
    if (!text)
        return NULL;
    uint32_t nodes = 0, first = IR_NONE, last = IR_NONE;
    size_t used = 0;
    char label[160];
    text[0] = '\0';
    for (uint32_t n = 0; n < g->onnx->node_count; ++n) {
        if (g->node_owner[n] != op_index)
            continue;
        if (first == IR_NONE)
            first = n;
        last = n;
        nodes++;
        if (used < LIMIT)
            used += (size_t)snprintf(text + used, LIMIT - used, "%s%s", used ? " + " : "",
                                     evk_ir_node_label(g, n, label, sizeof label));
    }
    if (used >= LIMIT - 1 && nodes > 1) {
        char head[160];
        snprintf(text, LIMIT, "%u nodes: %s ... %s", nodes,
                 evk_ir_node_label(g, first, head, sizeof head),
                 evk_ir_node_label(g, last, label, sizeof label));
    }
    return text;
}

evk_status evk_onnx_describe_ops(const ir_graph *g, evk_model_layer_info **layers, uint32_t *count)
{
    uint32_t live = 0;
    for (uint32_t o = 0; o < g->op_count; ++o)
        live += !g->ops[o].dead;
    evk_model_layer_info *infos = evk_calloc(g->ctx, live ? live : 1, sizeof *infos);
    if (!infos)
        return evk_fail_oom(g->ctx, "ONNX layers");
    uint32_t i = 0;
    for (uint32_t o = 0; o < g->op_count; ++o) {
        const ir_op *op = &g->ops[o];
        if (op->dead)
            continue;
        if (op->kind == IR_CROP) {
            char label[160];
            evk_free(g->ctx, infos);
            return evk_fail(g->ctx, EVK_ERROR_UNSUPPORTED,
                            "%s: %s: a Slice that crops a feature "
                            "map (%ux%u to %ux%u) is supported only inside an OctConv",
                            g->file, evk_ir_node_label(g, op->first_node, label, sizeof label),
                            g->values[op->in[0]].shape.h, g->values[op->in[0]].shape.w,
                            g->values[op->out[0]].shape.h, g->values[op->out[0]].shape.w);
        }
        evk_model_layer_info *info = &infos[i];
        layer_name(g, op, infos, i, info->name, sizeof info->name);
        snprintf(info->kind, sizeof info->kind, "%s", kind_name(g, op));
        info->input = g->values[op->in[0]].shape;
        info->output = g->values[op->out[0]].shape;
        evk_status s = op_cost(g, op, &info->macs, &info->params);
        if (s != EVK_SUCCESS) {
            evk_free(g->ctx, infos);
            return evk_fail(g->ctx, s, "%s: layer %s: %s", g->file, info->name,
                            evk_last_error(NULL));
        }
        i++;
    }
    *layers = infos;
    *count = live;
    return EVK_SUCCESS;
}

/* ---- Layers on a device. */

typedef struct builder {
    evk_context *ctx;
    const ir_graph *g;
    evk_model *m;
    uint32_t *slot; /* [value]: its graph slot */
} builder;

static evk_status create_conv(builder *b, const ir_op *op, evk_layer **layer)
{
    const evk_conv2d_desc *d = &op->conv.desc;
    if (op->conv.linear && d->activation == EVK_ACTIVATION_NONE && !d->batchnorm.gamma)
        return evk_linear_create(b->ctx, d->in_channels, d->out_channels, d->weight, d->bias,
                                 layer);
    return evk_conv2d_create(b->ctx, d, layer);
}

/* A lone BatchNorm: a depthwise 1x1 convolution of weight 1 that folds it. */
static evk_status create_batchnorm(builder *b, const ir_op *op, evk_layer **layer)
{
    uint32_t c = (uint32_t)op->batchnorm.count;
    float *ones = evk_alloc(b->ctx, (size_t)c * sizeof *ones);
    if (!ones)
        return evk_fail_oom(b->ctx, "BatchNorm weights");
    for (uint32_t i = 0; i < c; ++i)
        ones[i] = 1.0f;
    evk_conv2d_desc d = {.in_channels = c,
                         .out_channels = c,
                         .kernel_h = 1,
                         .kernel_w = 1,
                         .groups = c,
                         .weight = ones,
                         .weight_count = c,
                         .batchnorm = op->batchnorm};
    evk_status s = evk_conv2d_create(b->ctx, &d, layer);
    evk_free(b->ctx, ones);
    return s;
}

static evk_status create_layer(builder *b, const ir_op *op, evk_layer **layer)
{
    const ir_graph *g = b->g;
    switch (op->kind) {
    case IR_CONV:
        return create_conv(b, op, layer);
    case IR_BATCHNORM:
        return create_batchnorm(b, op, layer);
    case IR_UNARY:
        return evk_unary_create(b->ctx, &op->unary, layer);
    case IR_BINARY:
        return is_plain_add(g, op) ? evk_add_create(b->ctx, op->activation, layer)
                                   : evk_binary_create(b->ctx, op->binary, layer);
    case IR_BINARY_CONSTANT:
        return evk_binary_constant_create(b->ctx, op->binary, op->operand_shape,
                                          op->operand->floats, op->operand->count, layer);
    case IR_GLOBAL_POOL:
        return evk_global_avg_pool_create(b->ctx, layer);
    case IR_MAX_POOL:
        return evk_max_pool2d_create(b->ctx, &op->pool, layer);
    case IR_AVG_POOL:
        return evk_avg_pool2d_create(b->ctx, &op->pool, layer);
    case IR_RESIZE:
        return evk_resize_nearest_create(b->ctx, op->scale_h, op->scale_w, layer);
    case IR_CONCAT:
        return evk_concat_create(b->ctx, g->values[op->in[0]].shape.c, g->values[op->in[1]].shape.c,
                                 layer);
    case IR_MBCONV:
        return evk_mbconv_create(b->ctx, &op->mbconv, layer);
    case IR_HETCONV:
        return evk_hetconv_create(b->ctx, &op->hetconv, layer);
    case IR_OCTCONV:
        return evk_octconv_create(b->ctx, &op->octconv, layer);
    default:
        break;
    }
    return evk_fail(b->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: unknown op", g->file);
}

/* One node per output branch; the Y^H one owns the conv. */
static evk_status add_octconv(builder *b, const ir_op *op, evk_layer *conv, const char *name)
{
    int low_in = op->in_count > 1, low_out = op->out_count > 1;
    for (int branch = EVK_OCTCONV_HIGH; branch <= (low_out ? EVK_OCTCONV_LOW : 0); ++branch) {
        evk_layer *layer = NULL;
        uint32_t *slot = &b->slot[op->out[branch == EVK_OCTCONV_HIGH ? 0 : 1]];
        evk_status s = evk_octconv_branch_create(conv, branch, branch == EVK_OCTCONV_HIGH, &layer);
        if (s == EVK_SUCCESS && low_in)
            s = evk_graph_add_binary(b->m->graph, layer, b->slot[op->in[0]], b->slot[op->in[1]], 0,
                                     name, evk_octconv_branch_record, slot);
        else if (s == EVK_SUCCESS)
            s = evk_graph_add(b->m->graph, layer, b->slot[op->in[0]], name, NULL, slot);
        if (s != EVK_SUCCESS)
            return s;
    }
    return EVK_SUCCESS;
}

static evk_status add_node(builder *b, const ir_op *op, evk_layer *layer, const char *name)
{
    evk_graph *graph = b->m->graph;
    uint32_t *out = &b->slot[op->out[0]];
    switch (op->kind) {
    case IR_OCTCONV:
        return add_octconv(b, op, layer, name);
    case IR_BINARY:
        if (is_plain_add(b->g, op))
            return evk_graph_add_binary(graph, layer, b->slot[op->in[0]], b->slot[op->in[1]], 1,
                                        name, evk_add_record, out);
        return evk_graph_add_binary(graph, layer, b->slot[op->in[0]], b->slot[op->in[1]], 0, name,
                                    evk_binary_record, out);
    case IR_CONCAT:
        return evk_graph_add_binary(graph, layer, b->slot[op->in[0]], b->slot[op->in[1]], 0, name,
                                    evk_concat_record, out);
    case IR_MBCONV:
        evk_mbconv_share_scratch(layer, &b->m->scratch);
        return evk_graph_add(graph, layer, b->slot[op->in[0]], name, evk_mbconv_reserve, out);
    default:
        return evk_graph_add(graph, layer, b->slot[op->in[0]], name, NULL, out);
    }
}

evk_status evk_onnx_build(const ir_graph *g, evk_model *m)
{
    evk_status s = evk_onnx_describe_ops(g, &m->layers, &m->layer_count);
    if (s != EVK_SUCCESS)
        return s;
    m->sources = evk_calloc(m->ctx, m->layer_count ? m->layer_count : 1, sizeof *m->sources);
    builder b = {.ctx = m->ctx,
                 .g = g,
                 .m = m,
                 .slot = evk_alloc(m->ctx, (size_t)g->value_count * sizeof *b.slot)};
    if (!m->sources || !b.slot) {
        evk_free(m->ctx, b.slot);
        return evk_fail_oom(m->ctx, "ONNX graph");
    }
    b.slot[g->input] = 0;
    uint32_t layer_index = 0;
    for (uint32_t o = 0; s == EVK_SUCCESS && o < g->op_count; ++o) {
        const ir_op *op = &g->ops[o];
        if (op->dead)
            continue;
        const char *name = m->layers[layer_index].name;
        m->sources[layer_index] = layer_source(g, o);
        evk_layer *layer = NULL;
        s = m->sources[layer_index] ? create_layer(&b, op, &layer)
                                    : evk_fail_oom(m->ctx, "ONNX layer source");
        if (s == EVK_SUCCESS)
            s = add_node(&b, op, layer, name);
        layer_index++;
    }
    evk_free(m->ctx, b.slot);
    return s;
}
