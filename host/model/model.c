/* The model level of the public API: architecture lookup, weights loading,
 * and forwards through the graph executor. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "state_dict.h"
#include "tensor.h"
#include "context_entry.h"
#include "saturating.h"
#include "recorded.h"
#include "run.h"

struct evk_model {
    evk_context *ctx;
    evk_arch arch;
    evk_model_options opts;         /* resolved */
    evk_graph *graph;
    evk_mbconv_scratch scratch;     /* shared by the MBConv blocks */
    evk_tensor *input, *output;     /* evk_model_run's, created on its first call */
};

static evk_model_options resolve_options(const evk_model_options *opts, const evk_arch *arch,
                                         uint32_t default_classes)
{
    evk_model_options o = opts ? *opts : (evk_model_options){0};
    o.batch = o.batch ? o.batch : 1;
    o.height = o.height ? o.height : arch->resolution;
    o.width = o.width ? o.width : arch->resolution;
    o.num_classes = o.num_classes ? o.num_classes : default_classes;
    return o;
}

static evk_shape input_shape_of(const evk_model_options *o)
{
    return (evk_shape){o->batch, 3, o->height, o->width};
}

/* ---- Costs, without a device. */

evk_status evk_model_layers(const char *name, const evk_model_options *opts,
                            evk_model_layer_info *layers, uint32_t capacity, uint32_t *count)
{
    if (!count || (capacity && !layers))
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_model_layers: count or layers is NULL");
    evk_arch arch;
    uint32_t classes = opts && opts->num_classes ? opts->num_classes : 1000;
    evk_status s = evk_arch_get(NULL, name, classes, opts ? opts->part : 0,
                                opts ? opts->alpha : 0.0f, &arch);
    if (s != EVK_SUCCESS)
        return s;
    evk_model_options o = resolve_options(opts, &arch, classes);
    evk_shape slots[EVK_ARCH_MAX_LAYERS + 1];
    slots[0] = input_shape_of(&o);
    for (uint32_t i = 0; i < arch.count; ++i) {
        const evk_layer_spec *spec = &arch.layers[i];
        evk_model_layer_info info = {.input = slots[spec->input]};
        evk_layer_spec_cost(spec, info.input, &info.output, &info.macs, &info.params);
        if (info.macs == EVK_SATURATED || info.params == EVK_SATURATED)
            return evk_fail(NULL, EVK_ERROR_LIMIT_EXCEEDED,
                            "%s: layer %s at input %ux%ux%ux%u: its MACs do not fit in 64 bits",
                            arch.name, spec->prefix, info.input.n, info.input.c, info.input.h,
                            info.input.w);
        snprintf(info.name, sizeof info.name, "%s", spec->prefix);
        snprintf(info.kind, sizeof info.kind, "%s", evk_layer_kind_name(spec->kind));
        if (i < capacity)
            layers[i] = info;
        slots[i + 1] = info.output;
    }
    *count = arch.count;
    return EVK_SUCCESS;
}

evk_status evk_model_cost(const char *name, const evk_model_options *opts, uint64_t *macs,
                          uint64_t *params)
{
    evk_model_layer_info layers[EVK_ARCH_MAX_LAYERS];
    uint32_t count;
    evk_status s = evk_model_layers(name, opts, layers, EVK_ARCH_MAX_LAYERS, &count);
    if (s != EVK_SUCCESS)
        return s;
    uint64_t total_macs = 0, total_params = 0;
    for (uint32_t i = 0; i < count; ++i) {
        total_macs = evk_add_sat(total_macs, layers[i].macs);
        total_params = evk_add_sat(total_params, layers[i].params);
    }
    if (total_macs == EVK_SATURATED || total_params == EVK_SATURATED)
        return evk_fail(NULL, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: the total MACs do not fit in 64 bits", name);
    if (macs)
        *macs = total_macs;
    if (params)
        *params = total_params;
    return EVK_SUCCESS;
}

/* ---- Loading. */

/* The rows of the classifier (the architecture's last layer), which fix the
 * number of classes. */
static evk_status classes_in_file(evk_context *ctx, const evk_safetensors *st, const char *path,
                                  const evk_arch *probe, uint32_t *classes)
{
    char name[48];
    snprintf(name, sizeof name, "%s.weight", probe->layers[probe->count - 1].prefix);
    evk_safetensors_info info;
    if (evk_safetensors_find(st, name, &info) != EVK_SUCCESS)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor '%s' is missing", path, name);
    if (info.rank != 2 || !info.shape[0] || info.shape[0] > (1u << 24))
        return evk_fail(ctx, EVK_ERROR_SHAPE_MISMATCH, "%s: tensor '%s' must be "
                        "[classes, features] with 1 to 2^24 classes", path, name);
    *classes = (uint32_t)info.shape[0];
    return EVK_SUCCESS;
}

/* The options' eps, else the file's "bn_eps" metadata, else the variant's. */
static evk_status choose_eps(evk_context *ctx, const evk_safetensors *st, const char *path,
                             const evk_model_options *opts, const evk_arch *arch, float *eps)
{
    const char *text = evk_safetensors_metadata(st, "bn_eps");
    *eps = opts && opts->bn_eps != 0.0f ? opts->bn_eps : arch->bn_eps;
    if ((opts && opts->bn_eps != 0.0f) || !text)
        return EVK_SUCCESS;
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || *end || !(value > 0.0 && value < 1.0))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: metadata bn_eps '%s' is not a "
                        "number in (0, 1)", path, text);
    *eps = (float)value;
    return EVK_SUCCESS;
}

/* Where the weights come from: a file (evk_model_load) or bytes in memory
 * (evk_model_load_memory, when `bytes` is set); `path` names them in
 * messages either way. */
typedef struct weights_source {
    const char *path;
    const void *bytes;
    size_t size;
} weights_source;

static evk_status open_weights(evk_context *ctx, const weights_source *src, evk_safetensors **st)
{
    if (src->bytes)
        return evk_safetensors_open_memory(ctx, src->path, src->bytes, src->size, st);
    return evk_safetensors_open(ctx, src->path, st);
}

static evk_status build_model(evk_model *m, const char *name, const weights_source *src,
                              const evk_model_options *opts, const evk_arch *probe)
{
    evk_safetensors *st = NULL;
    uint32_t classes = opts ? opts->num_classes : 0;
    float eps = 0.0f;
    const char *path = src->path;
    evk_status s = open_weights(m->ctx, src, &st);
    if (s == EVK_SUCCESS && !classes)
        s = classes_in_file(m->ctx, st, path, probe, &classes);
    if (s == EVK_SUCCESS)
        s = evk_arch_get(m->ctx, name, classes, opts ? opts->part : 0, opts ? opts->alpha : 0.0f,
                         &m->arch);
    if (s == EVK_SUCCESS)
        s = choose_eps(m->ctx, st, path, opts, &m->arch, &eps);
    if (s == EVK_SUCCESS)
        s = evk_graph_create(m->ctx, &m->graph);
    if (s == EVK_SUCCESS)
        s = evk_state_dict_build(m->ctx, &m->arch, st, path, eps, &m->scratch, m->graph);
    evk_safetensors_close(st);
    m->opts = resolve_options(opts, &m->arch, classes);
    return s;
}

static evk_status load_model(evk_context *ctx, const char *name, const weights_source *src,
                             const evk_model_options *opts, evk_model **out)
{
    *out = NULL;
    evk_arch probe;
    evk_status s = evk_arch_get(ctx, name, 1, opts ? opts->part : 0, opts ? opts->alpha : 0.0f,
                                &probe);
    if (s != EVK_SUCCESS)
        return s;
    evk_model *m = evk_calloc(ctx, 1, sizeof *m);
    if (!m)
        return evk_fail_oom(ctx, "model");
    m->ctx = ctx;
    s = build_model(m, name, src, opts, &probe);
    if (s != EVK_SUCCESS) {
        evk_model_destroy(m);
        return s;
    }
    evk_clear_error(ctx);
    *out = m;
    return EVK_SUCCESS;
}

static evk_status model_load_entered(evk_context *ctx, const char *name, const char *weights_path,
                          const evk_model_options *opts, evk_model **out)
{
    if (!ctx || !name || !weights_path || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_load: ctx, name, weights_path or out is NULL");
    weights_source src = {.path = weights_path};
    return load_model(ctx, name, &src, opts, out);
}

evk_status evk_model_load(evk_context *ctx, const char *name, const char *weights_path,
                          const evk_model_options *opts, evk_model **out)
{
    EVK_ENTERED_CREATE(ctx, out, model_load_entered(ctx, name, weights_path, opts, out));
}

static evk_status model_load_memory_entered(evk_context *ctx, const char *name, const void *bytes,
                                 size_t size, const evk_model_options *opts, evk_model **out)
{
    if (!ctx || !name || !bytes || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_load_memory: ctx, name, bytes or out is NULL");
    weights_source src = {.path = "(weights in memory)", .bytes = bytes, .size = size};
    return load_model(ctx, name, &src, opts, out);
}

evk_status evk_model_load_memory(evk_context *ctx, const char *name, const void *bytes,
                                 size_t size, const evk_model_options *opts, evk_model **out)
{
    EVK_ENTERED_CREATE(ctx, out, model_load_memory_entered(ctx, name, bytes, size, opts, out));
}

static void model_destroy_entered(evk_model *m)
{
    if (!m)
        return;
    evk_graph_destroy(m->graph);
    evk_mbconv_scratch_destroy(m->ctx, &m->scratch);
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
    *out = input_shape_of(&m->opts);
    return EVK_SUCCESS;
}

evk_status evk_model_output_shape(const evk_model *m, evk_shape *out)
{
    if (!m || !out)
        return evk_fail(m ? m->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_output_shape: model or out is NULL");
    *out = (evk_shape){m->opts.batch, m->opts.num_classes, 1, 1};
    return EVK_SUCCESS;
}

static evk_status check_tensors(evk_model *m, const evk_tensor *input, const evk_tensor *output)
{
    evk_status s = evk_tensor_check(m->ctx, input, "model input");
    if (s == EVK_SUCCESS)
        s = evk_tensor_check(m->ctx, output, "model output");
    if (s == EVK_SUCCESS && input == output)
        s = evk_fail(m->ctx, EVK_ERROR_INVALID_ARGUMENT, "model: input and output are the same tensor");
    if (s == EVK_SUCCESS && input->shape.c != 3)
        s = evk_fail(m->ctx, EVK_ERROR_SHAPE_MISMATCH, "%s: input has %u channels, the model "
                     "expects 3", m->arch.name, input->shape.c);
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
                        "output values given, the model takes %llu (%ux3x%ux%u) and gives %llu",
                        (unsigned long long)input_count, (unsigned long long)output_count,
                        (unsigned long long)evk_shape_elements(in), in.n, in.h, in.w,
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
    return evk_model_cost(m->arch.name, &m->opts, &out->macs, &out->params);
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

/* The builder names a spec's graph nodes (an OctConv's two branches, its
 * add's two) after the spec's prefix, in the order of the specs, so each
 * layer is the run of nodes that carry its name. */
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
                        "and run a forward first", m->arch.name);
    if (timing == EVK_GRAPH_TOO_MANY_DISPATCHES)
        return evk_fail(m->ctx, EVK_ERROR_LIMIT_EXCEEDED, "evk_model_layer_times: %s records %u "
                        "dispatches per forward; the context times the first %u one by one",
                        m->arch.name, dispatches, EVK_MAX_TIMED_DISPATCHES);
    uint32_t node = 0, node_count = evk_graph_node_count(m->graph);
    for (uint32_t i = 0; i < m->arch.count; ++i) {
        evk_model_layer_time t = {0};
        snprintf(t.name, sizeof t.name, "%s", m->arch.layers[i].prefix);
        for (; node < node_count; ++node) {
            evk_graph_node_time n;
            evk_graph_node_time_get(m->graph, node, &n);
            if (strcmp(n.name, m->arch.layers[i].prefix) != 0)
                break;
            add_kernel_name(&t, n.kernel);
            t.dispatches += n.dispatches;
            t.gpu_ms += n.gpu_ms;
        }
        if (i < capacity)
            layers[i] = t;
    }
    *count = m->arch.count;
    return EVK_SUCCESS;
}

evk_status evk_model_layer_times(const evk_model *m, evk_model_layer_time *layers,
                                 uint32_t capacity, uint32_t *count)
{
    EVK_ENTERED(m ? m->ctx : NULL, model_layer_times_entered(m, layers, capacity, count));
}
