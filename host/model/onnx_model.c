/* The ONNX entry points of the public API: read the file (or bytes), parse
 * it (onnx_proto.h), lower it at the input shape, fuse, and build the
 * model (onnx_build.h); or, without a device, list its layers. */
#include <stdio.h>
#include <string.h>

#include "context_entry.h"
#include "file_io.h"
#include "onnx_build.h"
#include "onnx_lower_ops.h"

/* ONNX's own limit for a protobuf file; larger models keep their weights
 * in external data files. */
#define MAX_ONNX_BYTES (2ull << 30)

/* The folder of `path` ("." for a bare file name), for external data. */
static char *folder_of(evk_context *ctx, const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t length = slash ? (size_t)(slash - path) : 1;
    char *folder = evk_alloc(ctx, length + 1);
    if (!folder)
        return NULL;
    if (slash)
        memcpy(folder, path, length);
    else
        folder[0] = '.';
    folder[length] = '\0';
    if (slash && length == 0) {
        folder[0] = '/';
        folder[1] = '\0';
    }
    return folder;
}

typedef struct onnx_source {
    const char *path; /* NULL: bytes in memory */
    const void *bytes;
    size_t size;
} onnx_source;

static evk_status parse_source(evk_context *ctx, const onnx_source *src, const char *file,
                               evk_onnx_model **onnx)
{
    if (!src->path)
        return evk_onnx_parse(ctx, src->bytes, src->size, file, NULL, onnx);
    void *bytes = NULL;
    size_t size = 0;
    char *folder = folder_of(ctx, src->path);
    if (!folder)
        return evk_fail_oom(ctx, src->path);
    evk_status s = evk_file_read_all(ctx, src->path, MAX_ONNX_BYTES, &bytes, &size);
    if (s == EVK_SUCCESS)
        s = evk_onnx_parse(ctx, bytes, size, file, folder, onnx);
    evk_free(ctx, bytes);
    evk_free(ctx, folder);
    return s;
}

/* The model's name: the file's base name without ".onnx". */
static void name_model(evk_model *m, const char *file)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    size_t length = strlen(base);
    if (length > 5 && strcmp(base + length - 5, ".onnx") == 0)
        length -= 5;
    snprintf(m->name, sizeof m->name, "%.*s", (int)length, base);
}

static evk_status lower_and_fuse(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                                 const evk_model_options *opts, const evk_onnx_tensor *bound,
                                 uint32_t bound_count, ir_graph *g)
{
    evk_status s = evk_onnx_lower_bound(ctx, onnx, file, opts, bound, bound_count, g);
    return s == EVK_SUCCESS ? evk_onnx_fuse(g) : s;
}

evk_status evk_onnx_model_create(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                                 const evk_model_options *opts, const evk_onnx_tensor *bound,
                                 uint32_t bound_count, evk_model **out)
{
    *out = NULL;
    ir_graph g;
    evk_model *m = NULL;
    evk_status s = lower_and_fuse(ctx, onnx, file, opts, bound, bound_count, &g);
    if (s == EVK_SUCCESS)
        s = evk_model_alloc(ctx, &m);
    if (s == EVK_SUCCESS) {
        name_model(m, file);
        m->input_shape = g.values[g.input].shape;
        m->output_shape = g.values[g.output].shape;
        m->opts = opts ? *opts : (evk_model_options){0};
        m->opts.batch = m->input_shape.n;
        m->opts.height = m->input_shape.h;
        m->opts.width = m->input_shape.w;
        m->opts.num_classes = m->output_shape.c;
        s = evk_onnx_build(&g, m);
    }
    evk_ir_free(&g);
    if (s != EVK_SUCCESS) {
        evk_model_destroy(m);
        return s;
    }
    evk_model_loaded(m);
    *out = m;
    return EVK_SUCCESS;
}

static evk_status load_onnx(evk_context *ctx, const onnx_source *src, const char *file,
                            const evk_model_options *opts, evk_model **out)
{
    evk_onnx_model *onnx = NULL;
    evk_status s = parse_source(ctx, src, file, &onnx);
    if (s == EVK_SUCCESS)
        s = evk_onnx_model_create(ctx, onnx, file, opts, NULL, 0, out);
    evk_onnx_free(ctx, onnx);
    return s;
}

static evk_status load_onnx_entered(evk_context *ctx, const char *path,
                                    const evk_model_options *opts, evk_model **out)
{
    if (!ctx || !path || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_load_onnx: ctx, path or out is NULL");
    onnx_source src = {.path = path};
    return load_onnx(ctx, &src, path, opts, out);
}

evk_status evk_model_load_onnx(evk_context *ctx, const char *path, const evk_model_options *opts,
                               evk_model **out)
{
    EVK_ENTERED_CREATE(ctx, out, load_onnx_entered(ctx, path, opts, out));
}

static evk_status load_onnx_memory_entered(evk_context *ctx, const void *bytes, size_t size,
                                           const evk_model_options *opts, evk_model **out)
{
    if (!ctx || !bytes || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_load_onnx_memory: ctx, bytes or out is NULL");
    onnx_source src = {.bytes = bytes, .size = size};
    return load_onnx(ctx, &src, "(ONNX model in memory)", opts, out);
}

evk_status evk_model_load_onnx_memory(evk_context *ctx, const void *bytes, size_t size,
                                      const evk_model_options *opts, evk_model **out)
{
    EVK_ENTERED_CREATE(ctx, out, load_onnx_memory_entered(ctx, bytes, size, opts, out));
}

evk_status evk_model_layers_onnx(const char *path, const evk_model_options *opts,
                                 evk_model_layer_info *layers, uint32_t capacity, uint32_t *count)
{
    if (!path || !count || (capacity && !layers))
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_model_layers_onnx: path, count or layers is NULL");
    onnx_source src = {.path = path};
    evk_onnx_model *onnx = NULL;
    ir_graph g = {0};
    evk_model_layer_info *infos = NULL;
    uint32_t total = 0;
    evk_status s = parse_source(NULL, &src, path, &onnx);
    if (s == EVK_SUCCESS)
        s = lower_and_fuse(NULL, onnx, path, opts, NULL, 0, &g);
    if (s == EVK_SUCCESS)
        s = evk_onnx_describe_ops(&g, &infos, &total);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < total && i < capacity; ++i)
        layers[i] = infos[i];
    if (s == EVK_SUCCESS)
        *count = total;
    evk_free(NULL, infos);
    evk_ir_free(&g);
    evk_onnx_free(NULL, onnx);
    return s;
}
