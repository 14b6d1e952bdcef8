#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "pipeline.h"
#include "run.h"

#define NO_BUFFER UINT32_MAX
#define NO_SLOT UINT32_MAX
#define NAME_BYTES 48

typedef struct graph_node {
    evk_layer *layer;
    evk_graph_prepare_fn prepare;
    evk_graph_record2_fn record2;   /* binary nodes only */
    uint32_t input, second, output; /* second: NO_SLOT for a unary node */
    int same_shapes;                /* binary nodes whose inputs must have one shape */
    char name[NAME_BYTES];
    /* Its dispatches in the recording: the first one's index among the
     * recording's timed ones, and how many; their time in the last forward. */
    uint32_t first_dispatch, dispatches;
    double gpu_ms;
} graph_node;

/* A buffer of the plan: its size while planning, then the device buffer. */
typedef struct plan_buffer {
    uint64_t bytes;
    int busy;
    evk_buffer buffer;
} plan_buffer;

struct evk_graph {
    evk_context *ctx;
    graph_node *nodes;
    uint32_t node_count, node_capacity;
    /* The plan, valid for `planned_input` when `planned` is set. */
    int planned;
    evk_shape planned_input;
    evk_shape *slot_shapes;         /* node_count + 1 */
    uint32_t *slot_buffer;          /* index into buffers, NO_BUFFER for input and output */
    plan_buffer *buffers;           /* node_count at most */
    uint32_t buffer_count;
    uint64_t unplanned_bytes;
    evk_recording recording;
    uint64_t recorded_input, recorded_output; /* buffer serials */
    uint32_t recordings;
    int recorded_timed;             /* recorded with per-dispatch timestamps */
    uint32_t recorded_dispatches;
    evk_graph_timing last_timing;
};

evk_status evk_graph_create(evk_context *ctx, evk_graph **out)
{
    *out = evk_calloc(ctx, 1, sizeof **out);
    if (!*out)
        return evk_fail_oom(ctx, "model graph");
    (*out)->ctx = ctx;
    return EVK_SUCCESS;
}

/* Runs in flight that submitted the recording finish first: they use its
 * command buffer and the intermediates. */
static void release_plan(evk_graph *g)
{
    evk_runs_wait_for(g->ctx, g);
    evk_recording_destroy(g->ctx, &g->recording);
    for (uint32_t i = 0; i < g->buffer_count; ++i)
        evk_buffer_destroy(g->ctx, &g->buffers[i].buffer);
    evk_free(g->ctx, g->slot_shapes);
    evk_free(g->ctx, g->slot_buffer);
    evk_free(g->ctx, g->buffers);
    g->slot_shapes = NULL;
    g->slot_buffer = NULL;
    g->buffers = NULL;
    g->buffer_count = 0;
    g->unplanned_bytes = 0;
    g->planned = 0;
}

void evk_graph_destroy(evk_graph *g)
{
    if (!g)
        return;
    release_plan(g);
    evk_runs_forget(g->ctx, g);
    for (uint32_t i = 0; i < g->node_count; ++i)
        evk_layer_destroy(g->nodes[i].layer);
    evk_free(g->ctx, g->nodes);
    evk_free(g->ctx, g);
}

static evk_status grow_nodes(evk_graph *g)
{
    uint32_t capacity = g->node_capacity ? 2 * g->node_capacity : 32;
    graph_node *nodes = evk_alloc(g->ctx, capacity * sizeof *nodes);
    if (!nodes)
        return evk_fail_oom(g->ctx, "model graph nodes");
    if (g->node_count)
        memcpy(nodes, g->nodes, g->node_count * sizeof *nodes);
    evk_free(g->ctx, g->nodes);
    g->nodes = nodes;
    g->node_capacity = capacity;
    return EVK_SUCCESS;
}

static evk_status add_node(evk_graph *g, evk_layer *layer, uint32_t input, uint32_t second,
                           const char *name, evk_graph_prepare_fn prepare,
                           evk_graph_record2_fn record2, uint32_t *output)
{
    uint32_t highest = second != NO_SLOT && second > input ? second : input;
    evk_status s = highest <= g->node_count ? EVK_SUCCESS
        : evk_fail(g->ctx, EVK_ERROR_INVALID_ARGUMENT, "model graph: %s reads slot %u of %u",
                   name, highest, g->node_count + 1);
    if (s == EVK_SUCCESS && g->node_count == g->node_capacity)
        s = grow_nodes(g);
    if (s != EVK_SUCCESS) {
        evk_layer_destroy(layer);
        return s;
    }
    graph_node *node = &g->nodes[g->node_count++];
    node->layer = layer;
    node->prepare = prepare;
    node->record2 = record2;
    node->same_shapes = 0;
    node->input = input;
    node->second = second;
    node->output = g->node_count;
    snprintf(node->name, sizeof node->name, "%s", name);
    *output = node->output;
    release_plan(g);
    return EVK_SUCCESS;
}

evk_status evk_graph_add(evk_graph *g, evk_layer *layer, uint32_t input, const char *name,
                         evk_graph_prepare_fn prepare, uint32_t *output)
{
    return add_node(g, layer, input, NO_SLOT, name, prepare, NULL, output);
}

evk_status evk_graph_add_binary(evk_graph *g, evk_layer *layer, uint32_t input, uint32_t second,
                                int same_shapes, const char *name, evk_graph_record2_fn record2,
                                uint32_t *output)
{
    evk_status s = add_node(g, layer, input, second, name, NULL, record2, output);
    if (s == EVK_SUCCESS)
        g->nodes[g->node_count - 1].same_shapes = same_shapes;
    return s;
}

static int same_shape(evk_shape a, evk_shape b)
{
    return a.n == b.n && a.c == b.c && a.h == b.h && a.w == b.w;
}

/* Fills `shapes` (node_count + 1) from the input shape. */
static evk_status compute_shapes(evk_graph *g, evk_shape input, evk_shape *shapes)
{
    if (!g->node_count)
        return evk_fail(g->ctx, EVK_ERROR_INVALID_ARGUMENT, "model graph has no layers");
    shapes[0] = input;
    for (uint32_t i = 0; i < g->node_count; ++i) {
        const graph_node *node = &g->nodes[i];
        evk_status s = node->layer->ops->output_shape(node->layer, shapes[node->input],
                                                      &shapes[node->output]);
        if (s != EVK_SUCCESS)
            return s;
        if (node->second == NO_SLOT || !node->same_shapes)
            continue;
        evk_shape a = shapes[node->input], b = shapes[node->second];
        if (!same_shape(a, b))
            return evk_fail(g->ctx, EVK_ERROR_SHAPE_MISMATCH, "model graph: %s adds %ux%ux%ux%u "
                            "and %ux%ux%ux%u", node->name, a.n, a.c, a.h, a.w, b.n, b.c, b.h, b.w);
    }
    return EVK_SUCCESS;
}

evk_status evk_graph_output_shape(evk_graph *g, evk_shape input, evk_shape *output)
{
    evk_shape *shapes = evk_alloc(g->ctx, (g->node_count + 1) * sizeof *shapes);
    if (!shapes)
        return evk_fail_oom(g->ctx, "model graph shapes");
    evk_status s = compute_shapes(g, input, shapes);
    if (s == EVK_SUCCESS)
        *output = shapes[g->node_count];
    evk_free(g->ctx, shapes);
    return s;
}

#define NO_READER UINT32_MAX

/* The index of the last node that reads each slot, NO_READER when none does. */
static void last_uses(const evk_graph *g, uint32_t *last)
{
    for (uint32_t s = 0; s <= g->node_count; ++s)
        last[s] = NO_READER;
    for (uint32_t i = 0; i < g->node_count; ++i) {
        last[g->nodes[i].input] = i;
        if (g->nodes[i].second != NO_SLOT)
            last[g->nodes[i].second] = i;
    }
}

/* The smallest free buffer holding `bytes`, else the largest free one grown
 * to `bytes`, else a new one. */
static uint32_t take_buffer(evk_graph *g, uint64_t bytes)
{
    uint32_t fit = NO_BUFFER, largest = NO_BUFFER;
    for (uint32_t b = 0; b < g->buffer_count; ++b) {
        const plan_buffer *pb = &g->buffers[b];
        if (pb->busy)
            continue;
        if (pb->bytes >= bytes && (fit == NO_BUFFER || pb->bytes < g->buffers[fit].bytes))
            fit = b;
        if (largest == NO_BUFFER || pb->bytes > g->buffers[largest].bytes)
            largest = b;
    }
    uint32_t chosen = fit != NO_BUFFER ? fit : largest != NO_BUFFER ? largest : g->buffer_count++;
    plan_buffer *pb = &g->buffers[chosen];
    pb->bytes = pb->bytes > bytes ? pb->bytes : bytes;
    pb->busy = 1;
    return chosen;
}

/* Assigns buffers to the intermediate slots by liveness: a slot's buffer is
 * free again after its last reader, or right after the layer that writes it
 * when nothing reads it. */
static void assign_buffers(evk_graph *g, const uint32_t *last)
{
    uint32_t final_slot = g->node_count;
    for (uint32_t s = 0; s <= g->node_count; ++s)
        g->slot_buffer[s] = NO_BUFFER;
    for (uint32_t i = 0; i < g->node_count; ++i) {
        const graph_node *node = &g->nodes[i];
        if (node->output != final_slot) {
            uint64_t bytes = evk_tensor_bytes(g->ctx, g->slot_shapes[node->output]);
            g->slot_buffer[node->output] = take_buffer(g, bytes);
            g->unplanned_bytes += bytes;
        }
        uint32_t in_buffer = g->slot_buffer[node->input];
        if (in_buffer != NO_BUFFER && last[node->input] == i)
            g->buffers[in_buffer].busy = 0;
        uint32_t second_buffer = node->second != NO_SLOT ? g->slot_buffer[node->second] : NO_BUFFER;
        if (second_buffer != NO_BUFFER && last[node->second] == i)
            g->buffers[second_buffer].busy = 0;
        uint32_t out_buffer = g->slot_buffer[node->output];
        if (out_buffer != NO_BUFFER && last[node->output] == NO_READER)
            g->buffers[out_buffer].busy = 0;
    }
}

static evk_status allocate_plan(evk_graph *g)
{
    uint32_t n = g->node_count + 1;
    g->slot_shapes = evk_calloc(g->ctx, n, sizeof *g->slot_shapes);
    g->slot_buffer = evk_calloc(g->ctx, n, sizeof *g->slot_buffer);
    g->buffers = evk_calloc(g->ctx, n, sizeof *g->buffers);
    return g->slot_shapes && g->slot_buffer && g->buffers ? EVK_SUCCESS
                                                          : evk_fail_oom(g->ctx, "model graph plan");
}

static evk_status prepare_layers(evk_graph *g)
{
    evk_status s = EVK_SUCCESS;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < g->node_count; ++i)
        if (g->nodes[i].prepare)
            s = g->nodes[i].prepare(g->nodes[i].layer, g->slot_shapes[g->nodes[i].input]);
    return s;
}

static evk_status plan(evk_graph *g, evk_shape input)
{
    release_plan(g);
    evk_status s = allocate_plan(g);
    if (s == EVK_SUCCESS)
        s = compute_shapes(g, input, g->slot_shapes);
    uint32_t *last = s == EVK_SUCCESS ? evk_alloc(g->ctx, (g->node_count + 1) * sizeof *last) : NULL;
    if (s == EVK_SUCCESS && !last)
        s = evk_fail_oom(g->ctx, "model graph liveness");
    if (s == EVK_SUCCESS) {
        last_uses(g, last);
        assign_buffers(g, last);
    }
    evk_free(g->ctx, last);
    if (s == EVK_SUCCESS)
        s = prepare_layers(g);
    for (uint32_t b = 0; s == EVK_SUCCESS && b < g->buffer_count; ++b)
        s = evk_buffer_create(g->ctx, g->buffers[b].bytes, EVK_BUFFER_DEVICE,
                              "model intermediate", &g->buffers[b].buffer);
    if (s != EVK_SUCCESS) {
        release_plan(g);
        return s;
    }
    g->planned = 1;
    g->planned_input = input;
    return EVK_SUCCESS;
}

/* The tensor of a slot during the forward on (input, output). */
static evk_tensor slot_tensor(const evk_graph *g, uint32_t slot, const evk_tensor *input,
                              const evk_tensor *output)
{
    if (slot == 0)
        return *input;
    if (slot == g->node_count)
        return *output;
    return (evk_tensor){g->ctx, g->slot_shapes[slot], g->buffers[g->slot_buffer[slot]].buffer};
}

static evk_status record_node(const evk_graph *g, const graph_node *node, const evk_tensor *input,
                              const evk_tensor *output)
{
    evk_tensor in = slot_tensor(g, node->input, input, output);
    evk_tensor out = slot_tensor(g, node->output, input, output);
    if (node->record2) {
        evk_tensor second = slot_tensor(g, node->second, input, output);
        return node->record2(node->layer, &in, &second, &out);
    }
    return node->layer->ops->record(node->layer, &in, &out);
}

/* A dry run of the recording that counts the pipelines it will create, so
 * that the context's progress callback knows the total before the first is
 * created; nothing without a callback. */
static evk_status count_new_pipelines(const evk_graph *g, const evk_tensor *input,
                                      const evk_tensor *output)
{
    if (!evk_pipeline_census_begin(g->ctx))
        return EVK_SUCCESS;
    evk_status s = EVK_SUCCESS;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < g->node_count; ++i)
        s = record_node(g, &g->nodes[i], input, output);
    return evk_pipeline_census_end(g->ctx, s);
}

static evk_status record(evk_graph *g, const evk_tensor *input, const evk_tensor *output)
{
    g->recorded_input = g->recorded_output = 0;
    evk_status s = count_new_pipelines(g, input, output);
    if (s != EVK_SUCCESS)
        return s;
    s = evk_command_begin_recording(g->ctx, &g->recording);
    uint64_t first = g->ctx->stats.dispatches_recorded;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < g->node_count; ++i) {
        graph_node *node = &g->nodes[i];
        uint64_t before = g->ctx->stats.dispatches_recorded;
        s = record_node(g, node, input, output);
        if (s != EVK_SUCCESS) {
            evk_command_abort_recording(g->ctx, &g->recording);
            return s;
        }
        node->first_dispatch = (uint32_t)(before - first);
        node->dispatches = (uint32_t)(g->ctx->stats.dispatches_recorded - before);
    }
    g->recorded_dispatches = (uint32_t)(g->ctx->stats.dispatches_recorded - first);
    g->recorded_timed = g->ctx->cmd.time_dispatches;
    if (s == EVK_SUCCESS)
        s = evk_command_end_recording(g->ctx, &g->recording);
    if (s != EVK_SUCCESS)
        return s;
    g->recordings++;
    g->recorded_input = input->buffer.serial;
    g->recorded_output = output->buffer.serial;
    return EVK_SUCCESS;
}

/* Each node's share of the submission just waited for: the sum of its
 * dispatches' times (evk_context_dispatch_gpu_ms's split), read before a
 * later submission replaces them. */
static void keep_node_times(evk_graph *g)
{
    const evk_command *c = &g->ctx->cmd;
    for (uint32_t i = 0; i < g->node_count; ++i) {
        graph_node *node = &g->nodes[i];
        node->gpu_ms = 0.0;
        for (uint32_t d = 0; d < node->dispatches; ++d)
            if (node->first_dispatch + d < c->dispatch_ms_count)
                node->gpu_ms += c->dispatch_ms[node->first_dispatch + d];
    }
    if (c->dispatch_ms_count == g->recorded_dispatches)
        g->last_timing = EVK_GRAPH_TIMED;
    else if (c->dispatch_ms_count == EVK_MAX_TIMED_DISPATCHES)
        g->last_timing = EVK_GRAPH_TOO_MANY_DISPATCHES;
}

/* Plans for the input's shape (unless planned) and checks the output's. */
static evk_status plan_for(evk_graph *g, const evk_tensor *input, const evk_tensor *output)
{
    evk_status s = EVK_SUCCESS;
    if (!g->planned || !same_shape(g->planned_input, input->shape))
        s = plan(g, input->shape);
    if (s != EVK_SUCCESS)
        return s;
    evk_shape expected = g->slot_shapes[g->node_count];
    if (!same_shape(expected, output->shape))
        return evk_fail(g->ctx, EVK_ERROR_SHAPE_MISMATCH, "model: output tensor is %ux%ux%ux%u, "
                        "the input gives %ux%ux%ux%u", output->shape.n, output->shape.c,
                        output->shape.h, output->shape.w, expected.n, expected.c, expected.h,
                        expected.w);
    return EVK_SUCCESS;
}

evk_status evk_graph_prepare(evk_graph *g, const evk_tensor *input, const evk_tensor *output)
{
    g->last_timing = EVK_GRAPH_NOT_TIMED;
    evk_status s = plan_for(g, input, output);
    if (s != EVK_SUCCESS)
        return s;
    if (g->recording.valid && g->recorded_input == input->buffer.serial &&
        g->recorded_output == output->buffer.serial &&
        g->recorded_timed == g->ctx->cmd.time_dispatches)
        return EVK_SUCCESS;
    s = evk_runs_wait_for(g->ctx, g);
    return s == EVK_SUCCESS ? record(g, input, output) : s;
}

evk_recording *evk_graph_recording(evk_graph *g)
{
    return &g->recording;
}

evk_status evk_graph_record_foreign(evk_graph *g, const evk_tensor *input, const evk_tensor *output,
                                    VkCommandBuffer buffer, evk_descriptor_pool_node **pools)
{
    evk_status s = plan_for(g, input, output);
    if (s == EVK_SUCCESS)
        s = count_new_pipelines(g, input, output);
    if (s == EVK_SUCCESS)
        s = evk_command_begin_foreign(g->ctx, buffer, pools);
    if (s != EVK_SUCCESS)
        return s;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < g->node_count; ++i)
        s = record_node(g, &g->nodes[i], input, output);
    evk_command_end_foreign(g->ctx, pools);
    return s;
}

evk_status evk_graph_forward(evk_graph *g, const evk_tensor *input, evk_tensor *output)
{
    evk_status s = evk_graph_prepare(g, input, output);
    if (s == EVK_SUCCESS)
        s = evk_command_submit_recording(g->ctx, &g->recording);
    if (s == EVK_SUCCESS && g->recorded_timed)
        keep_node_times(g);
    return s;
}

void evk_graph_stats_get(const evk_graph *g, evk_graph_stats *out)
{
    memset(out, 0, sizeof *out);
    out->layers = g->node_count;
    out->recordings = g->recordings;
    if (!g->planned)
        return;
    out->buffers = g->buffer_count;
    for (uint32_t b = 0; b < g->buffer_count; ++b)
        out->planned_bytes += g->buffers[b].bytes;
    out->unplanned_bytes = g->unplanned_bytes;
}

evk_graph_timing evk_graph_last_timing(const evk_graph *g, uint32_t *dispatches)
{
    *dispatches = g->recorded_dispatches;
    return g->last_timing;
}

uint32_t evk_graph_node_count(const evk_graph *g) { return g->node_count; }

void evk_graph_node_time_get(const evk_graph *g, uint32_t index, evk_graph_node_time *out)
{
    const graph_node *node = &g->nodes[index];
    int timed = g->last_timing == EVK_GRAPH_TIMED;
    *out = (evk_graph_node_time){node->name, node->layer->ops->kernel_name(node->layer),
                                 node->dispatches, timed ? node->gpu_ms : 0.0};
}
