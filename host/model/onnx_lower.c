/* ONNX nodes to importer ops (onnx_ir.h): the graph's values by name, the
 * input's shape, and one lowering per supported operator, each checking
 * its attributes and inferring its output's shape. The shape arithmetic
 * of exporters (Shape, Gather, Concat of constants, ...) is evaluated on
 * the host in onnx_constants.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "onnx_lower_ops.h"

/* ---- Values by name: an open-addressing table of value indices. */

static uint64_t name_hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; ++s)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static evk_status grow_table(lowering *l)
{
    uint32_t capacity = l->table_capacity ? 2 * l->table_capacity : 256;
    uint32_t *table = evk_alloc(l->g->ctx, (size_t)capacity * sizeof *table);
    const char **names = evk_calloc(l->g->ctx, capacity, sizeof *names);
    if (!table || !names) {
        evk_free(l->g->ctx, table);
        evk_free(l->g->ctx, (void *)names);
        return evk_fail_oom(l->g->ctx, "ONNX value table");
    }
    memset(table, 0xff, (size_t)capacity * sizeof *table);
    for (uint32_t i = 0; i < l->table_capacity; ++i) {
        if (l->table[i] == IR_NONE)
            continue;
        uint32_t slot = (uint32_t)(name_hash(l->table_names[i]) & (capacity - 1));
        while (table[slot] != IR_NONE)
            slot = (slot + 1) & (capacity - 1);
        table[slot] = l->table[i];
        names[slot] = l->table_names[i];
    }
    evk_free(l->g->ctx, l->table);
    evk_free(l->g->ctx, (void *)l->table_names);
    l->table = table;
    l->table_names = names;
    l->table_capacity = capacity;
    return EVK_SUCCESS;
}

uint32_t evk_lower_find(const lowering *l, const char *name)
{
    if (!l->table_capacity)
        return IR_NONE;
    uint32_t slot = (uint32_t)(name_hash(name) & (l->table_capacity - 1));
    while (l->table[slot] != IR_NONE) {
        if (strcmp(l->table_names[slot], name) == 0)
            return l->table[slot];
        slot = (slot + 1) & (l->table_capacity - 1);
    }
    return IR_NONE;
}

evk_status evk_lower_bind(lowering *l, const char *name, uint32_t value)
{
    if (evk_lower_find(l, name) != IR_NONE)
        return evk_fail(l->g->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: value '%s' is defined twice",
                        l->g->file, name);
    if (2 * (l->table_used + 1) > l->table_capacity) {
        evk_status s = grow_table(l);
        if (s != EVK_SUCCESS)
            return s;
    }
    uint32_t slot = (uint32_t)(name_hash(name) & (l->table_capacity - 1));
    while (l->table[slot] != IR_NONE)
        slot = (slot + 1) & (l->table_capacity - 1);
    l->table[slot] = value;
    l->table_names[slot] = name;
    l->table_used++;
    return EVK_SUCCESS;
}

/* ---- The graph's arrays. */

static int grow(evk_context *ctx, void **array, uint32_t *capacity, uint32_t count, size_t size)
{
    if (count < *capacity)
        return 1;
    uint32_t wanted = *capacity ? 2 * *capacity : 64;
    void *bigger = evk_calloc(ctx, wanted, size);
    if (!bigger)
        return 0;
    if (*array)
        memcpy(bigger, *array, (size_t)count * size);
    evk_free(ctx, *array);
    *array = bigger;
    *capacity = wanted;
    return 1;
}

uint32_t evk_ir_add_value(ir_graph *g, const char *name)
{
    if (!grow(g->ctx, (void **)&g->values, &g->value_capacity, g->value_count, sizeof *g->values))
        return IR_NONE;
    ir_value *v = &g->values[g->value_count];
    memset(v, 0, sizeof *v);
    v->name = name;
    v->producer = IR_NONE;
    v->view_of = IR_NONE;
    return g->value_count++;
}

evk_status evk_ir_add_op(ir_graph *g, ir_kind kind, uint32_t node, uint32_t *out)
{
    if (!grow(g->ctx, (void **)&g->ops, &g->op_capacity, g->op_count, sizeof *g->ops))
        return evk_fail_oom(g->ctx, "ONNX ops");
    ir_op *op = &g->ops[g->op_count];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    op->first_node = node;
    if (node != IR_NONE)
        g->node_owner[node] = g->op_count;
    *out = g->op_count++;
    return EVK_SUCCESS;
}

void *evk_ir_keep(ir_graph *g, size_t bytes)
{
    if (!grow(g->ctx, (void **)&g->owned, &g->owned_capacity, g->owned_count, sizeof *g->owned))
        return NULL;
    void *p = evk_calloc(g->ctx, 1, bytes ? bytes : 1);
    if (p)
        g->owned[g->owned_count++] = p;
    return p;
}

float *evk_ir_floats(ir_graph *g, uint64_t count)
{
    float *p = count <= SIZE_MAX / sizeof(float) ? evk_ir_keep(g, (size_t)count * sizeof(float))
                                                 : NULL;
    if (!p)
        evk_fail_oom(g->ctx, "ONNX weights");
    return p;
}

void evk_ir_free(ir_graph *g)
{
    for (uint32_t i = 0; i < g->owned_count; ++i)
        evk_free(g->ctx, g->owned[i]);
    evk_free(g->ctx, g->owned);
    evk_free(g->ctx, g->values);
    evk_free(g->ctx, g->ops);
    evk_free(g->ctx, g->node_owner);
    memset(g, 0, sizeof *g);
}

const char *evk_ir_node_label(const ir_graph *g, uint32_t node, char *buffer, size_t size)
{
    const evk_onnx_node *n = &g->onnx->nodes[node];
    if (n->name[0])
        snprintf(buffer, size, "%s '%s'", n->op_type, n->name);
    else
        snprintf(buffer, size, "%s (node %u)", n->op_type, node);
    return buffer;
}

/* ---- Inputs and outputs of a node. */

evk_status evk_lower_fail(lowering *l, evk_status status, const char *fmt, ...)
{
    char what[256], label[160];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    return evk_fail(l->g->ctx, status, "%s: %s: %s", l->g->file,
                    evk_ir_node_label(l->g, l->node, label, sizeof label), what);
}

evk_status evk_lower_input(lowering *l, uint32_t index, int required, uint32_t *value)
{
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    *value = IR_NONE;
    if (index >= n->input_count || !n->inputs[index][0])
        return required
            ? evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "input %u is missing", index)
            : EVK_SUCCESS;
    *value = evk_lower_find(l, n->inputs[index]);
    if (*value == IR_NONE)
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT,
                              "input '%s' is not defined before "
                              "it (the nodes must be in topological order)",
                              n->inputs[index]);
    return EVK_SUCCESS;
}

evk_status evk_lower_output(lowering *l, uint32_t index, uint32_t *value)
{
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    if (index >= n->output_count || !n->outputs[index][0])
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "output %u is missing", index);
    *value = evk_ir_add_value(l->g, n->outputs[index]);
    if (*value == IR_NONE)
        return evk_fail_oom(l->g->ctx, "ONNX values");
    return evk_lower_bind(l, n->outputs[index], *value);
}

evk_status evk_lower_alias(lowering *l, uint32_t value)
{
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    if (!n->output_count || !n->outputs[0][0])
        return evk_lower_fail(l, EVK_ERROR_INVALID_ARGUMENT, "output 0 is missing");
    return evk_lower_bind(l, n->outputs[0], value);
}

/* Every attribute of the node must be one the lowering reads. */
evk_status evk_lower_attributes(lowering *l, const char *const *known)
{
    const evk_onnx_node *n = &l->g->onnx->nodes[l->node];
    for (uint32_t a = 0; a < n->attribute_count; ++a) {
        const char *name = n->attributes[a].name;
        int found = 0;
        for (const char *const *k = known; *k && !found; ++k)
            found = strcmp(*k, name) == 0;
        if (!found)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "attribute '%s' is not supported",
                                  name);
    }
    return EVK_SUCCESS;
}

/* ---- The graph's input and the walk over the nodes. */

static uint32_t dimension(const evk_onnx_value_info *in, uint32_t d, uint32_t option)
{
    return in->dims[d] > 0 ? (uint32_t)in->dims[d] : option;
}

static evk_status bind_input(lowering *l, const evk_onnx_value_info *in,
                             const evk_model_options *opts)
{
    ir_graph *g = l->g;
    if (in->elem_type != EVK_ONNX_FLOAT)
        return evk_fail(g->ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: input '%s' is of type %s; effvk "
                        "takes float32 inputs",
                        g->file, in->name, evk_onnx_type_name(in->elem_type));
    if (!in->has_shape || (in->rank != 4 && in->rank != 2))
        return evk_fail(g->ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: input '%s' must be a 4-D N x C x H "
                        "x W tensor or a 2-D [N, K] one, it has %s %u dimensions",
                        g->file, in->name, in->has_shape ? "" : "no shape, not", in->rank);
    const uint32_t options[4] = {opts->batch, 0, opts->height, opts->width};
    const char *which[4] = {"batch", "channel", "height", "width"};
    uint32_t dims[4] = {1, 1, 1, 1};
    for (uint32_t d = 0; d < in->rank; ++d) {
        if (in->dims[d] > (int64_t)(1u << 24))
            return evk_fail(g->ctx, EVK_ERROR_LIMIT_EXCEEDED,
                            "%s: input '%s' has %lld along "
                            "its %s dimension, above 2^24",
                            g->file, in->name, (long long)in->dims[d], which[d]);
        if (in->dims[d] > 0 && options[d] && (uint32_t)in->dims[d] != options[d])
            return evk_fail(g->ctx, EVK_ERROR_SHAPE_MISMATCH,
                            "%s: input '%s' has a fixed %s of "
                            "%lld, the options ask for %u",
                            g->file, in->name, which[d], (long long)in->dims[d], options[d]);
        dims[d] = dimension(in, d, options[d]);
        if (!dims[d])
            return evk_fail(g->ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "%s: input '%s' has a dynamic "
                            "%s ('%s'): give it in the options",
                            g->file, in->name, which[d],
                            in->dim_params[d] ? in->dim_params[d] : "");
    }
    uint32_t v = evk_ir_add_value(g, in->name);
    if (v == IR_NONE)
        return evk_fail_oom(g->ctx, "ONNX values");
    g->values[v].rank = in->rank;
    g->values[v].shape = (evk_shape){dims[0], dims[1], dims[2], dims[3]};
    g->input = v;
    return evk_lower_bind(l, in->name, v);
}

static evk_status bind_constant(lowering *l, const evk_onnx_tensor *t)
{
    uint32_t v = evk_ir_add_value(l->g, t->name);
    if (v == IR_NONE)
        return evk_fail_oom(l->g->ctx, "ONNX values");
    l->g->values[v].constant = t;
    return evk_lower_bind(l, t->name, v);
}

static int is_bound(const lowering *l, const char *name)
{
    return evk_lower_find(l, name) != IR_NONE;
}

static evk_status bind_graph_inputs(lowering *l, const evk_model_options *opts,
                                    const evk_onnx_tensor *bound, uint32_t bound_count)
{
    const evk_onnx_model *m = l->g->onnx;
    evk_status s = EVK_SUCCESS;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < m->initializer_count; ++i)
        s = bind_constant(l, &m->initializers[i]);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < bound_count; ++i)
        s = bind_constant(l, &bound[i]);
    const evk_onnx_value_info *input = NULL;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < m->input_count; ++i) {
        if (is_bound(l, m->inputs[i].name))
            continue;
        if (input)
            return evk_fail(l->g->ctx, EVK_ERROR_UNSUPPORTED,
                            "%s: the graph has inputs '%s' "
                            "and '%s'; effvk models take one input (the others must be "
                            "initializers)",
                            l->g->file, input->name, m->inputs[i].name);
        input = &m->inputs[i];
    }
    if (s == EVK_SUCCESS && !input)
        return evk_fail(l->g->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: the graph has no input",
                        l->g->file);
    return s == EVK_SUCCESS ? bind_input(l, input, opts) : s;
}

static evk_status bind_output(lowering *l)
{
    const evk_onnx_model *m = l->g->onnx;
    if (m->output_count != 1)
        return evk_fail(l->g->ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: the graph has %u outputs; effvk "
                        "models give one",
                        l->g->file, m->output_count);
    uint32_t named = evk_lower_find(l, m->outputs[0].name), v = named;
    if (v == IR_NONE)
        return evk_fail(l->g->ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "%s: output '%s' is not computed "
                        "by any node",
                        l->g->file, m->outputs[0].name);
    v = evk_lower_root_of(l->g, v);
    ir_value *out = &l->g->values[v];
    l->g->output_rank = l->g->values[named].rank;
    if (out->constant || v == l->g->input)
        return evk_fail(l->g->ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: output '%s' is %s, not computed "
                        "from the input",
                        l->g->file, m->outputs[0].name,
                        out->constant ? "a constant" : "the input itself");
    out->graph_output = 1;
    out->consumers++;
    l->g->output = v;
    return EVK_SUCCESS;
}

/* Counts each op's readers so that the passes know which values are used
 * once. */
static void count_consumers(ir_graph *g)
{
    for (uint32_t o = 0; o < g->op_count; ++o)
        for (uint32_t i = 0; i < g->ops[o].in_count; ++i)
            g->values[g->ops[o].in[i]].consumers++;
}

static evk_status lower_nodes(lowering *l)
{
    const evk_onnx_model *m = l->g->onnx;
    for (uint32_t n = 0; n < m->node_count; ++n) {
        l->node = n;
        const evk_onnx_node *node = &m->nodes[n];
        if (node->domain[0] && strcmp(node->domain, "ai.onnx") != 0)
            return evk_lower_fail(l, EVK_ERROR_UNSUPPORTED,
                                  "operator domain '%s' is not "
                                  "supported (only the default ONNX domain)",
                                  node->domain);
        evk_status s = evk_lower_constant_op(l);
        if (s == EVK_LOWER_NOT_MINE)
            s = evk_lower_feature_op(l);
        if (s == EVK_LOWER_NOT_MINE)
            s = evk_lower_fail(l, EVK_ERROR_UNSUPPORTED, "operator %s is not supported",
                               node->op_type);
        if (s != EVK_SUCCESS)
            return s;
    }
    return EVK_SUCCESS;
}

evk_status evk_onnx_lower_bound(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                                const evk_model_options *opts, const evk_onnx_tensor *bound,
                                uint32_t bound_count, ir_graph *g)
{
    memset(g, 0, sizeof *g);
    g->ctx = ctx;
    g->file = file;
    g->onnx = onnx;
    g->input = g->output = IR_NONE;
    evk_model_options none = {0};
    if (!opts)
        opts = &none;
    if (onnx->opset > 18)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED,
                        "%s: opset %lld; effvk reads opsets 1 to 18 "
                        "(exporters' 11 to 17 are tested)",
                        file, (long long)onnx->opset);
    g->node_owner = evk_alloc(ctx, ((size_t)onnx->node_count + 1) * sizeof *g->node_owner);
    if (!g->node_owner)
        return evk_fail_oom(ctx, "ONNX nodes");
    memset(g->node_owner, 0xff, ((size_t)onnx->node_count + 1) * sizeof *g->node_owner);
    lowering l = {.g = g, .opset = onnx->opset ? onnx->opset : 13};
    evk_status s = bind_graph_inputs(&l, opts, bound, bound_count);
    if (s == EVK_SUCCESS)
        s = lower_nodes(&l);
    if (s == EVK_SUCCESS)
        s = bind_output(&l);
    if (s == EVK_SUCCESS)
        count_consumers(g);
    evk_free(ctx, l.table);
    evk_free(ctx, (void *)l.table_names);
    return s;
}

evk_status evk_onnx_lower(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                          const evk_model_options *opts, ir_graph *g)
{
    return evk_onnx_lower_bound(ctx, onnx, file, opts, NULL, 0, g);
}
