/* The running part of the model level of the public API, the same for
 * every source of a model (model.h): forwards through the graph executor,
 * stats, the layers and where the last forward's time went. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context_entry.h"
#include "model.h"
#include "recorded.h"
#include "run.h"
#include "saturating.h"
#include "tensor.h"

evk_status evk_model_alloc(evk_context *ctx, evk_model **out)
{
    *out = NULL;
    evk_model *m = evk_calloc(ctx, 1, sizeof *m);
    if (!m)
        return evk_fail_oom(ctx, "model");
    m->ctx = ctx;
    evk_status s = evk_graph_create(ctx, &m->graph);
    if (s != EVK_SUCCESS) {
        evk_free(ctx, m);
        return s;
    }
    *out = m;
    return EVK_SUCCESS;
}

void evk_model_loaded(evk_model *m)
{
    evk_clear_error(m->ctx);
}

static void model_destroy_entered(evk_model *m)
{
    if (!m)
        return;
    evk_graph_destroy(m->graph);
    evk_mbconv_scratch_destroy(m->ctx, &m->scratch);
    if (m->sources)
        for (uint32_t i = 0; i < m->layer_count; ++i)
            evk_free(m->ctx, m->sources[i]);
    evk_free(m->ctx, m->sources);
    evk_free(m->ctx, m->layers);
    evk_tensor_destroy(m->input);
    evk_tensor_destroy(m->output);
    evk_free(m->ctx, m);
}

void evk_model_destroy(evk_model *m)
{
    EVK_ENTERED_VOID(m ? m->ctx : NULL, model_destroy_entered(m));
}

/* ---- Running. */

evk_status evk_model_input_shape(const evk_model *m, evk_shape *out)
{
    if (!m || !out)
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_input_shape: model or out is NULL");
    *out = m->input_shape;
    return EVK_SUCCESS;
}

evk_status evk_model_output_shape(const evk_model *m, evk_shape *out)
{
    if (!m || !out)
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_output_shape: model or out is NULL");
    *out = m->output_shape;
    return EVK_SUCCESS;
}

static evk_status check_tensors(evk_model *m, const evk_tensor *input, const evk_tensor *output)
{
    evk_status s = evk_tensor_check(m->ctx, input, "model input");
    if (s == EVK_SUCCESS)
        s = evk_tensor_check(m->ctx, output, "model output");
    if (s == EVK_SUCCESS && input == output)
        s = evk_fail(m->ctx, EVK_ERROR_INVALID_ARGUMENT, "model: input and output are the same tensor");
    if (s == EVK_SUCCESS && input->shape.c != m->input_shape.c)
        s = evk_fail(m->ctx, EVK_ERROR_SHAPE_MISMATCH, "%s: input has %u channels, the model "
                     "expects %u", m->name, input->shape.c, m->input_shape.c);
    return s;
}

static evk_status model_forward_entered(evk_model *m, const evk_tensor *input, evk_tensor *output)
{
    if (!m)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_model_forward: model is NULL");
    evk_status s = check_tensors(m, input, output);
    if (s == EVK_SUCCESS)
        s = evk_graph_forward(m->graph, input, output);
    if (s == EVK_SUCCESS)
        evk_clear_error(m->ctx);
    return s;
}

evk_status evk_model_forward(evk_model *m, const evk_tensor *input, evk_tensor *output)
{
    EVK_ENTERED(m ? m->ctx : NULL, model_forward_entered(m, input, output));
}

static evk_status model_record_entered(evk_model *m, const evk_tensor *input, evk_tensor *output,
                                       void *command_buffer, evk_recorded **out)
{
    if (!m)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_model_record: model is NULL");
    evk_status s = check_tensors(m, input, output);
    if (s != EVK_SUCCESS)
        return s;
    if (!command_buffer || !out)
        return evk_fail(m->ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_model_record: command_buffer "
                        "or out is NULL");
    evk_recorded *rec;
    s = evk_recorded_create(m->ctx, &rec);
    if (s == EVK_SUCCESS)
        s = evk_graph_record_foreign(m->graph, input, output, (VkCommandBuffer)command_buffer,
                                     &rec->pools);
    if (s != EVK_SUCCESS) {
        if (rec)
            evk_recorded_free(rec);
        return s;
    }
    *out = rec;
    evk_clear_error(m->ctx);
    return EVK_SUCCESS;
}

evk_status evk_model_record(evk_model *m, const evk_tensor *input, evk_tensor *output,
                            void *command_buffer, evk_recorded **out)
{
    EVK_ENTERED_CREATE(m ? m->ctx : NULL, out,
                       model_record_entered(m, input, output, command_buffer, out));
}

static evk_status model_submit_entered(evk_model *m, const evk_tensor *input, evk_tensor *output,
                                       const evk_submit_sync *sync, evk_run **out)
{
    if (!m)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_model_submit: model is NULL");
    evk_status s = check_tensors(m, input, output);
    if (s != EVK_SUCCESS)
        return s;
    if (!out)
        return evk_fail(m->ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_model_submit: out is NULL");
    s = evk_graph_prepare(m->graph, input, output);
    evk_run *run = NULL;
    if (s == EVK_SUCCESS)
        s = evk_run_create(m->ctx, m->graph, &run);
    if (s == EVK_SUCCESS)
        s = evk_queue_submit(m->ctx, evk_graph_recording(m->graph)->buffer, sync, run->fence);
    if (s != EVK_SUCCESS) {
        if (run)
            evk_run_free(run);
        return s;
    }
    *out = run;
    evk_clear_error(m->ctx);
    return EVK_SUCCESS;
}

evk_status evk_model_submit(evk_model *m, const evk_tensor *input, evk_tensor *output,
                            const evk_submit_sync *sync, evk_run **out)
{
    EVK_ENTERED_CREATE(m ? m->ctx : NULL, out, model_submit_entered(m, input, output, sync, out));
}

static evk_status create_run_tensors(evk_model *m)
{
    evk_shape in, out;
    evk_model_input_shape(m, &in);
    evk_model_output_shape(m, &out);
    evk_status s = m->input ? EVK_SUCCESS : evk_tensor_create(m->ctx, in, &m->input);
    return s == EVK_SUCCESS && !m->output ? evk_tensor_create(m->ctx, out, &m->output) : s;
}

static evk_status model_run_entered(evk_model *m, const float *input, uint64_t input_count, float *output,
                         uint64_t output_count)
{
    if (!m || !input || !output)
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_run: model, input or output is NULL");
    evk_shape in, out;
    evk_model_input_shape(m, &in);
    evk_model_output_shape(m, &out);
    if (input_count != evk_shape_elements(in) || output_count != evk_shape_elements(out))
        return evk_fail(m->ctx, EVK_ERROR_SHAPE_MISMATCH, "evk_model_run: %llu input and %llu "
                        "output values given, the model takes %llu (%ux%ux%ux%u) and gives %llu",
                        (unsigned long long)input_count, (unsigned long long)output_count,
                        (unsigned long long)evk_shape_elements(in), in.n, in.c, in.h, in.w,
                        (unsigned long long)evk_shape_elements(out));
    evk_status s = create_run_tensors(m);
    if (s == EVK_SUCCESS)
        s = evk_tensor_upload(m->input, input, input_count);
    if (s == EVK_SUCCESS)
        s = evk_model_forward(m, m->input, m->output);
    return s == EVK_SUCCESS ? evk_tensor_download(m->output, output, output_count) : s;
}

evk_status evk_model_run(evk_model *m, const float *input, uint64_t input_count, float *output,
                         uint64_t output_count)
{
    EVK_ENTERED(m ? m->ctx : NULL, model_run_entered(m, input, input_count, output, output_count));
}

static evk_status model_stats_get_entered(const evk_model *m, evk_model_stats *out)
{
    if (!m || !out)
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_stats_get: model or out is NULL");
    evk_graph_stats g;
    evk_graph_stats_get(m->graph, &g);
    evk_context_stats c;
    evk_context_stats_get(m->ctx, &c);
    *out = (evk_model_stats){.layers = g.layers, .activation_buffers = g.buffers,
                             .activation_bytes = g.planned_bytes,
                             .unplanned_activation_bytes = g.unplanned_bytes,
                             .context_device_bytes = c.device_bytes_allocated,
                             .recordings = g.recordings};
    const evk_buffer *scratch[] = {&m->scratch.expanded, &m->scratch.depthwise_out,
                                   &m->scratch.partials, &m->scratch.scale, &m->scratch.scaled};
    for (size_t i = 0; i < sizeof scratch / sizeof scratch[0]; ++i)
        out->block_scratch_bytes += scratch[i]->bytes;
    for (uint32_t i = 0; i < m->layer_count; ++i) {
        out->macs = evk_add_sat(out->macs, m->layers[i].macs);
        out->params = evk_add_sat(out->params, m->layers[i].params);
    }
    if (out->macs == EVK_SATURATED || out->params == EVK_SATURATED)
        return evk_fail(m->ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: the total MACs do not fit in 64 "
                        "bits", m->name);
    return EVK_SUCCESS;
}

evk_status evk_model_stats_get(const evk_model *m, evk_model_stats *out)
{
    EVK_ENTERED(m ? m->ctx : NULL, model_stats_get_entered(m, out));
}

/* ---- Where the last forward's time went. */

/* Appends a node's kernel to the layer's unless it is there already. */
static void add_kernel_name(evk_model_layer_time *t, const char *kernel)
{
    size_t used = strlen(t->kernel), length = strlen(kernel);
    if (used == 0) {
        snprintf(t->kernel, sizeof t->kernel, "%s", kernel);
        return;
    }
    const char *found = strstr(t->kernel, kernel);
    int listed = found && (found == t->kernel || found[-1] == '+') &&
                 (found[length] == '\0' || found[length] == '+');
    if (!listed && used + 1 + length < sizeof t->kernel) {
        t->kernel[used] = '+';
        memcpy(t->kernel + used + 1, kernel, length + 1);
    }
}

/* Each layer is the run of graph nodes that carry its name (model.h). */
static evk_status model_layer_times_entered(const evk_model *m, evk_model_layer_time *layers,
                                            uint32_t capacity, uint32_t *count)
{
    if (!m || !count || (capacity && !layers))
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_layer_times: model, count or layers is NULL");
    uint32_t dispatches;
    evk_graph_timing timing = evk_graph_last_timing(m->graph, &dispatches);
    if (timing == EVK_GRAPH_NOT_TIMED)
        return evk_fail(m->ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_model_layer_times: %s has no "
                        "timed forward: turn dispatch timing on (evk_context_set_dispatch_timing) "
                        "and run a forward first", m->name);
    if (timing == EVK_GRAPH_TOO_MANY_DISPATCHES)
        return evk_fail(m->ctx, EVK_ERROR_LIMIT_EXCEEDED, "evk_model_layer_times: %s records %u "
                        "dispatches per forward; the context times the first %u one by one",
                        m->name, dispatches, EVK_MAX_TIMED_DISPATCHES);
    uint32_t node = 0, node_count = evk_graph_node_count(m->graph);
    for (uint32_t i = 0; i < m->layer_count; ++i) {
        evk_model_layer_time t = {0};
        snprintf(t.name, sizeof t.name, "%s", m->layers[i].name);
        for (; node < node_count; ++node) {
            evk_graph_node_time n;
            evk_graph_node_time_get(m->graph, node, &n);
            if (strcmp(n.name, m->layers[i].name) != 0)
                break;
            add_kernel_name(&t, n.kernel);
            t.dispatches += n.dispatches;
            t.gpu_ms += n.gpu_ms;
        }
        if (i < capacity)
            layers[i] = t;
    }
    *count = m->layer_count;
    return EVK_SUCCESS;
}

evk_status evk_model_layer_times(const evk_model *m, evk_model_layer_time *layers,
                                 uint32_t capacity, uint32_t *count)
{
    EVK_ENTERED(m ? m->ctx : NULL, model_layer_times_entered(m, layers, capacity, count));
}

static evk_status model_describe_entered(const evk_model *m, evk_model_layer_info *layers,
                                         uint32_t capacity, uint32_t *count)
{
    if (!m || !count || (capacity && !layers))
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_describe: model, count or layers is NULL");
    for (uint32_t i = 0; i < m->layer_count && i < capacity; ++i)
        layers[i] = m->layers[i];
    *count = m->layer_count;
    return EVK_SUCCESS;
}

evk_status evk_model_describe(const evk_model *m, evk_model_layer_info *layers,
                              uint32_t capacity, uint32_t *count)
{
    EVK_ENTERED(m ? m->ctx : NULL, model_describe_entered(m, layers, capacity, count));
}

const char *evk_model_layer_source(const evk_model *m, uint32_t layer)
{
    if (!m || !m->sources || layer >= m->layer_count || !m->sources[layer])
        return "";
    return m->sources[layer];
}

const char *evk_model_layer_kernel(const evk_model *m, uint32_t layer)
{
    if (!m || layer >= m->layer_count)
        return "";
    uint32_t nodes = evk_graph_node_count(m->graph);
    for (uint32_t n = 0; n < nodes; ++n) {
        evk_graph_node_time t;
        evk_graph_node_time_get(m->graph, n, &t);
        if (strcmp(t.name, m->layers[layer].name) == 0)
            return t.kernel;
    }
    return "";
}
