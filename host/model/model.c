/* The model level of the public API for the named architectures: their
 * costs without a device, and loading them from a state_dict. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "context_entry.h"
#include "model.h"
#include "saturating.h"
#include "state_dict.h"

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

/* The model's name, shapes and layers at its resolved options. */
static evk_status describe_model(evk_model *m, const evk_arch *arch)
{
    snprintf(m->name, sizeof m->name, "%s", arch->name);
    m->input_shape = input_shape_of(&m->opts);
    m->output_shape = (evk_shape){m->opts.batch, m->opts.num_classes, 1, 1};
    m->layers = evk_calloc(m->ctx, arch->count, sizeof *m->layers);
    if (!m->layers)
        return evk_fail_oom(m->ctx, "model layers");
    m->layer_count = arch->count;
    return evk_model_layers(arch->name, &m->opts, m->layers, m->layer_count, &m->layer_count);
}

static evk_status build_model(evk_model *m, const char *name, const weights_source *src,
                              const evk_model_options *opts, const evk_arch *probe)
{
    evk_arch *arch = evk_alloc(m->ctx, sizeof *arch);
    if (!arch)
        return evk_fail_oom(m->ctx, "model architecture");
    evk_safetensors *st = NULL;
    uint32_t classes = opts ? opts->num_classes : 0;
    float eps = 0.0f;
    const char *path = src->path;
    evk_status s = open_weights(m->ctx, src, &st);
    if (s == EVK_SUCCESS && !classes)
        s = classes_in_file(m->ctx, st, path, probe, &classes);
    if (s == EVK_SUCCESS)
        s = evk_arch_get(m->ctx, name, classes, opts ? opts->part : 0, opts ? opts->alpha : 0.0f,
                         arch);
    if (s == EVK_SUCCESS)
        s = choose_eps(m->ctx, st, path, opts, arch, &eps);
    if (s == EVK_SUCCESS)
        s = evk_state_dict_build(m->ctx, arch, st, path, eps, &m->scratch, m->graph);
    evk_safetensors_close(st);
    if (s == EVK_SUCCESS) {
        m->opts = resolve_options(opts, arch, classes);
        s = describe_model(m, arch);
    }
    evk_free(m->ctx, arch);
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
    evk_model *m;
    s = evk_model_alloc(ctx, &m);
    if (s == EVK_SUCCESS)
        s = build_model(m, name, src, opts, &probe);
    if (s != EVK_SUCCESS) {
        evk_model_destroy(m);
        return s;
    }
    evk_model_loaded(m);
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

