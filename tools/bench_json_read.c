#include "bench_json_read.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effvk_internal.h"

#define MAX_FILE_BYTES ((uint64_t)256 << 20)
#define WHERE_SIZE 160

typedef struct reader {
    const char *path;
    const evk_json_doc *doc;
    char *error;
} reader;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(const reader *r, const char *format, ...)
{
    int used = snprintf(r->error, BENCH_JSON_ERROR_SIZE, "%s: ", r->path);
    if (used < 0 || used >= BENCH_JSON_ERROR_SIZE)
        return -1;
    va_list args;
    va_start(args, format);
    vsnprintf(r->error + used, BENCH_JSON_ERROR_SIZE - (size_t)used, format, args);
    va_end(args);
    return -1;
}

static const evk_json_node *child_of(const reader *r, uint32_t index)
{
    return index ? &r->doc->nodes[index] : NULL;
}

static const evk_json_node *member(const reader *r, const evk_json_node *object, const char *key)
{
    if (!object || object->type != EVK_JSON_OBJECT)
        return NULL;
    for (const evk_json_node *n = child_of(r, object->first_child); n; n = child_of(r, n->next))
        if (strcmp(n->key, key) == 0)
            return n;
    return NULL;
}

/* A JSON number as a double; null and, unless `required`, absence are NAN. */
static int read_number(const reader *r, const evk_json_node *object, const char *key,
                       const char *where, int required, double *out)
{
    const evk_json_node *n = member(r, object, key);
    *out = NAN;
    if (!n && required)
        return fail(r, "%s has no \"%s\"", where, key);
    if (!n || n->type == EVK_JSON_NULL)
        return 0;
    if (n->type == EVK_JSON_INTEGER) {
        *out = (double)n->integer;
        return 0;
    }
    if (n->type != EVK_JSON_NUMBER)
        return fail(r, "%s: \"%s\" is not a number", where, key);
    /* The program never changes the C locale, so strtod reads JSON's '.'. */
    *out = strtod(n->string, NULL);
    if (!isfinite(*out))
        return fail(r, "%s: \"%s\" is out of range", where, key);
    return 0;
}

/* A string; absence is "" unless `required`; null is NULL. */
static int read_string(const reader *r, const evk_json_node *object, const char *key,
                       const char *where, int required, const char **out)
{
    const evk_json_node *n = member(r, object, key);
    *out = "";
    if (!n && required)
        return fail(r, "%s has no \"%s\"", where, key);
    if (!n)
        return 0;
    if (n->type == EVK_JSON_NULL) {
        *out = NULL;
        return 0;
    }
    if (n->type != EVK_JSON_STRING)
        return fail(r, "%s: \"%s\" is not a string", where, key);
    *out = n->string;
    return 0;
}

/* true 1, false 0, null or absent -1. */
static int read_bool(const reader *r, const evk_json_node *object, const char *key,
                     const char *where, int *out)
{
    const evk_json_node *n = member(r, object, key);
    *out = -1;
    if (!n || n->type == EVK_JSON_NULL)
        return 0;
    if (n->type != EVK_JSON_TRUE && n->type != EVK_JSON_FALSE)
        return fail(r, "%s: \"%s\" is not true or false", where, key);
    *out = n->type == EVK_JSON_TRUE;
    return 0;
}

static int parse_major_minor(const char *text, unsigned *major, unsigned *minor)
{
    char *end;
    if (*text < '0' || *text > '9')
        return -1;
    unsigned long a = strtoul(text, &end, 10);
    if (*end != '.' || end[1] < '0' || end[1] > '9' || a > 9999)
        return -1;
    unsigned long b = strtoul(end + 1, &end, 10);
    if (*end != '\0' || b > 9999)
        return -1;
    *major = (unsigned)a;
    *minor = (unsigned)b;
    return 0;
}

static int read_schema_version(const reader *r, const evk_json_node *root, const char *kind,
                               unsigned newest_major, bench_json_file *out)
{
    const evk_json_node *n = member(r, root, "schema_version");
    out->schema_major = 1;
    out->schema_minor = 0;
    if (!n)
        return 0;
    if (n->type != EVK_JSON_STRING ||
        parse_major_minor(n->string, &out->schema_major, &out->schema_minor) != 0)
        return fail(r, "schema_version is not a string \"MAJOR.MINOR\"");
    if (out->schema_major == 0 || out->schema_major > newest_major)
        return fail(r,
                    "schema_version %u.%u: this effvk reads %s files of versions 1.x to %u.x "
                    "only (a newer effvk wrote it?)",
                    out->schema_major, out->schema_minor, kind, newest_major);
    return 0;
}

/* Params are op-specific and informative: an entry of another type reads as
 * absent instead of failing the file. */
static double optional_number(const reader *r, const evk_json_node *object, const char *key)
{
    const evk_json_node *n = member(r, object, key);
    if (n && n->type == EVK_JSON_INTEGER)
        return (double)n->integer;
    double value = n && n->type == EVK_JSON_NUMBER ? strtod(n->string, NULL) : NAN;
    return isfinite(value) ? value : NAN;
}

static void read_params(const reader *r, const evk_json_node *params, bench_json_result *out)
{
    out->part = optional_number(r, params, "part");
    out->images_per_s = optional_number(r, params, "images_per_s");
    double alpha_in = optional_number(r, params, "alpha_in");
    out->alpha = isnan(alpha_in) ? optional_number(r, params, "alpha") : alpha_in;
    const evk_json_node *fused = member(r, params, "fused");
    if (fused && (fused->type == EVK_JSON_TRUE || fused->type == EVK_JSON_FALSE))
        out->fused = fused->type == EVK_JSON_TRUE;
    out->is_total = member(r, params, "layers") != NULL || member(r, params, "blocks") != NULL;
    const evk_json_node *kernel = member(r, params, "kernel");
    if (kernel && kernel->type == EVK_JSON_STRING)
        out->kernel = kernel->string;
}

static void clear_result(bench_json_result *out, const bench_json_file *file)
{
    *out = (bench_json_result){
        .macs = NAN, .bytes = NAN, .gpu_ms_median = NAN, .gpu_ms_min = NAN,
        .wall_ms_median = NAN, .gflops = NAN, .gbps = NAN, .speedup_vs_baseline = NAN,
        .macs_ratio_vs_baseline = NAN, .efficiency = NAN, .part = NAN, .alpha = NAN,
        .fused = -1, .batch = NAN, .images_per_s = NAN, .check_passed = -1, .file = file,
    };
}

/* A result's object and name, which every kind of file has; `where` then
 * names the result for the messages about its other fields. */
static int read_result_name(const reader *r, const evk_json_node *n, size_t index,
                            bench_json_result *out, char where[WHERE_SIZE])
{
    snprintf(where, WHERE_SIZE, "results[%zu]", index);
    if (n->type != EVK_JSON_OBJECT)
        return fail(r, "%s is not an object", where);
    if (read_string(r, n, "name", where, 1, &out->name) != 0)
        return -1;
    if (!out->name)
        return fail(r, "%s: \"name\" is not a string", where);
    snprintf(where, WHERE_SIZE, "result \"%.120s\"", out->name);
    return 0;
}

/* The result's "layers", appended to the file's block. */
static int read_layers(const reader *r, const evk_json_node *result, const char *where,
                       bench_json_file *file, bench_json_result *out)
{
    const evk_json_node *layers = member(r, result, "layers");
    if (!layers || layers->type == EVK_JSON_NULL)
        return 0;
    if (layers->type != EVK_JSON_ARRAY)
        return fail(r, "%s: \"layers\" is not an array", where);
    out->layers = file->layers + file->layer_count;
    for (const evk_json_node *n = child_of(r, layers->first_child); n; n = child_of(r, n->next)) {
        bench_json_layer *layer = &file->layers[file->layer_count];
        if (n->type != EVK_JSON_OBJECT)
            return fail(r, "%s: a layer is not an object", where);
        if (read_string(r, n, "name", where, 1, &layer->name) != 0 ||
            read_string(r, n, "kernel", where, 0, &layer->kernel) != 0 ||
            read_number(r, n, "dispatches", where, 0, &layer->dispatches) != 0 ||
            read_number(r, n, "gpu_ms", where, 1, &layer->gpu_ms) != 0 ||
            read_number(r, n, "share", where, 0, &layer->share) != 0 ||
            read_number(r, n, "macs", where, 0, &layer->macs) != 0 ||
            read_number(r, n, "fraction_of_peak", where, 0, &layer->fraction_of_peak) != 0)
            return -1;
        if (!layer->name || !layer->kernel)
            return fail(r, "%s: a layer's \"name\" or \"kernel\" is null", where);
        ++file->layer_count;
        ++out->layer_count;
    }
    return 0;
}

static int read_effvk_result(const reader *r, const evk_json_node *n, size_t index,
                             bench_json_file *file, bench_json_result *out)
{
    char where[WHERE_SIZE];
    if (read_result_name(r, n, index, out, where) != 0)
        return -1;
    const char *kernel;
    if (read_string(r, n, "suite", where, 1, &out->suite) != 0 ||
        read_string(r, n, "op", where, 1, &out->op) != 0 ||
        read_string(r, n, "kernel", where, 0, &kernel) != 0 ||
        read_string(r, n, "baseline", where, 0, &out->baseline) != 0)
        return -1;
    if (!out->suite || !out->op)
        return fail(r, "%s: \"suite\" and \"op\" must be strings", where);
    if (read_number(r, n, "macs", where, 1, &out->macs) != 0 ||
        read_number(r, n, "bytes", where, 1, &out->bytes) != 0 ||
        read_number(r, n, "gpu_ms_median", where, 1, &out->gpu_ms_median) != 0 ||
        read_number(r, n, "wall_ms_median", where, 1, &out->wall_ms_median) != 0 ||
        read_number(r, n, "gpu_ms_min", where, 0, &out->gpu_ms_min) != 0 ||
        read_number(r, n, "gflops", where, 0, &out->gflops) != 0 ||
        read_number(r, n, "gbps", where, 0, &out->gbps) != 0 ||
        read_number(r, n, "speedup_vs_baseline", where, 0, &out->speedup_vs_baseline) != 0 ||
        read_number(r, n, "macs_ratio_vs_baseline", where, 0,
                    &out->macs_ratio_vs_baseline) != 0 ||
        read_number(r, n, "efficiency", where, 0, &out->efficiency) != 0 ||
        read_bool(r, n, "check_passed", where, &out->check_passed) != 0 ||
        read_number(r, member(r, n, "shape"), "n", where, 0, &out->batch) != 0)
        return -1;
    if (out->baseline && !*out->baseline)
        out->baseline = NULL;
    out->kernel = out->op;
    read_params(r, member(r, n, "params"), out);
    if (kernel && *kernel)
        out->kernel = kernel;
    if (read_layers(r, n, where, file, out) != 0)
        return -1;
    if (isnan(out->gflops) && out->gpu_ms_median > 0.0)
        out->gflops = 2.0 * out->macs / (out->gpu_ms_median * 1e6);
    if (isnan(out->gbps) && out->gpu_ms_median > 0.0)
        out->gbps = out->bytes / (out->gpu_ms_median * 1e6);
    return 0;
}

static int read_pytorch_result(const reader *r, const evk_json_node *n, size_t index,
                               bench_json_result *out)
{
    char where[WHERE_SIZE];
    if (read_result_name(r, n, index, out, where) != 0)
        return -1;
    out->suite = "models";
    out->op = "model";
    out->kernel = "pytorch";
    return read_number(r, n, "ms_median", where, 1, &out->wall_ms_median) != 0 ||
                   read_number(r, n, "images_per_s", where, 0, &out->images_per_s) != 0 ||
                   read_number(r, n, "batch", where, 0, &out->batch) != 0
               ? -1
               : 0;
}

static int compare_result_names(const void *a, const void *b)
{
    const bench_json_result *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

/* Names are the join key of the report, so one file may hold each once. */
static int reject_duplicate_names(const reader *r, const bench_json_file *file)
{
    if (file->result_count < 2)
        return 0;
    const bench_json_result **sorted = malloc(file->result_count * sizeof *sorted);
    if (!sorted)
        return fail(r, "out of memory");
    for (size_t i = 0; i < file->result_count; ++i)
        sorted[i] = &file->results[i];
    qsort(sorted, file->result_count, sizeof *sorted, compare_result_names);
    int status = 0;
    for (size_t i = 1; i < file->result_count && status == 0; ++i)
        if (strcmp(sorted[i - 1]->name, sorted[i]->name) == 0)
            status = fail(r, "the result name \"%.200s\" appears twice (names are unique within a "
                          "file)", sorted[i]->name);
    free(sorted);
    return status;
}

static int read_results(const reader *r, const evk_json_node *root, bench_json_file *out)
{
    const evk_json_node *results = member(r, root, "results");
    if (!results || results->type != EVK_JSON_ARRAY)
        return fail(r, "no \"results\" array");
    out->results = calloc(results->child_count ? results->child_count : 1, sizeof *out->results);
    size_t layers = 0;
    for (const evk_json_node *n = child_of(r, results->first_child); n; n = child_of(r, n->next)) {
        const evk_json_node *array = member(r, n, "layers");
        layers += array && array->type == EVK_JSON_ARRAY ? array->child_count : 0;
    }
    out->layers = calloc(layers ? layers : 1, sizeof *out->layers);
    if (!out->results || !out->layers)
        return fail(r, "out of memory");
    size_t index = 0;
    for (const evk_json_node *n = child_of(r, results->first_child); n;
         n = child_of(r, n->next), ++index) {
        bench_json_result *result = &out->results[index];
        clear_result(result, out);
        int status = out->kind == BENCH_FILE_PYTORCH
                         ? read_pytorch_result(r, n, index, result)
                         : read_effvk_result(r, n, index, out, result);
        if (status != 0)
            return -1;
        out->result_count = index + 1;
    }
    return reject_duplicate_names(r, out);
}

static int read_effvk_header(const reader *r, const evk_json_node *root, bench_json_file *out)
{
    const evk_json_node *device = member(r, root, "device");
    const evk_json_node *peak = member(r, root, "peak");
    bench_json_device *d = &out->device;
    if (read_string(r, root, "effvk_version", "the file", 0, &out->effvk_version) != 0 ||
        read_string(r, root, "git_revision", "the file", 0, &out->git_revision) != 0 ||
        read_string(r, root, "date", "the file", 0, &out->date) != 0 ||
        read_string(r, root, "host_cpu", "the file", 0, &out->host_cpu) != 0 ||
        read_string(r, device, "name", "\"device\"", 1, &d->name) != 0 ||
        read_string(r, device, "device_type", "\"device\"", 0, &d->device_type) != 0 ||
        read_string(r, device, "driver_name", "\"device\"", 0, &d->driver_name) != 0 ||
        read_string(r, device, "driver_info", "\"device\"", 0, &d->driver_info) != 0 ||
        read_string(r, device, "api_version", "\"device\"", 0, &d->api_version) != 0)
        return -1;
    if (!peak || peak->type != EVK_JSON_OBJECT)
        return fail(r, "no \"peak\" object");
    if (read_number(r, peak, "fma_gflops", "\"peak\"", 1, &out->fma_gflops) != 0 ||
        read_number(r, peak, "copy_gbps", "\"peak\"", 1, &out->copy_gbps) != 0 ||
        read_string(r, peak, "method", "\"peak\"", 0, &out->peak_method) != 0)
        return -1;
    if (!d->name || !d->device_type || !d->driver_name || !d->driver_info || !d->api_version ||
        !out->effvk_version || !out->git_revision || !out->date || !out->host_cpu ||
        !out->peak_method)
        return fail(r, "a field of the header or \"device\" is null");
    if (!(out->fma_gflops > 0.0) || !(out->copy_gbps > 0.0))
        return fail(r, "the peak is not positive");
    return 0;
}

static int read_pytorch_header(const reader *r, const evk_json_node *root, bench_json_file *out)
{
    static const bench_json_device cpu = {"PyTorch", "cpu", "PyTorch", "", ""};
    out->device = cpu;
    out->fma_gflops = out->copy_gbps = NAN;
    if (read_string(r, root, "torch_version", "the file", 0, &out->torch_version) != 0 ||
        read_string(r, root, "cpu", "the file", 0, &out->host_cpu) != 0 ||
        read_number(r, root, "threads", "the file", 0, &out->threads) != 0)
        return -1;
    if (!out->torch_version || !out->host_cpu)
        return fail(r, "\"torch_version\" or \"cpu\" is null");
    out->device.driver_info = out->torch_version;
    return 0;
}

/* Files effvk writes that are not bench results; NULL for any other. */
static const char *other_effvk_file(const reader *r, const evk_json_node *root)
{
    const evk_json_node *device = member(r, root, "device");
    if (member(r, root, "devices") && !member(r, root, "results"))
        return "an `effvk info --json` file, not bench results";
    if (device && device->type == EVK_JSON_STRING && member(r, root, "kernel"))
        return "an effvk_layout_bench file, not bench results";
    return NULL;
}

static int read_document(const reader *r, bench_json_file *out)
{
    const evk_json_node *root = &r->doc->nodes[0];
    if (root->type != EVK_JSON_OBJECT)
        return fail(r, "not a JSON object");
    const evk_json_node *framework = member(r, root, "framework");
    if (framework && framework->type == EVK_JSON_STRING &&
        strcmp(framework->string, "pytorch") == 0) {
        out->kind = BENCH_FILE_PYTORCH;
        if (read_schema_version(r, root, "PyTorch", BENCH_JSON_PYTORCH_MAJOR, out) != 0 ||
            read_pytorch_header(r, root, out) != 0)
            return -1;
        return read_results(r, root, out);
    }
    out->kind = BENCH_FILE_EFFVK;
    if (read_schema_version(r, root, "effvk bench", BENCH_JSON_EFFVK_MAJOR, out) != 0)
        return -1;
    const char *other = member(r, root, "schema_version") ? NULL : other_effvk_file(r, root);
    if (other) {
        out->kind = BENCH_FILE_SKIPPED;
        out->skip_reason = other;
        return 0;
    }
    const evk_json_node *device = member(r, root, "device");
    if (!device || device->type != EVK_JSON_OBJECT)
        return fail(r, "not an effvk bench results file (no \"device\" object)");
    if (read_effvk_header(r, root, out) != 0)
        return -1;
    return read_results(r, root, out);
}

int bench_json_read_text(const char *path, const char *text, size_t length, bench_json_file *out,
                         char error[BENCH_JSON_ERROR_SIZE])
{
    static const char empty[] = "";
    *out = (bench_json_file){.path = path, .effvk_version = empty, .git_revision = empty,
                             .date = empty, .host_cpu = empty, .peak_method = empty,
                             .torch_version = empty};
    error[0] = '\0';
    evk_json_doc doc;
    char parse_error[EVK_JSON_ERROR_BYTES];
    reader r = {path, &doc, error};
    evk_status s = evk_json_parse_numbers(NULL, text, length, &doc, parse_error);
    if (s != EVK_SUCCESS)
        return fail(&r, "not valid JSON: %s", parse_error);
    out->strings = doc.strings;
    int status = read_document(&r, out);
    evk_json_free_nodes(NULL, &doc);
    if (status != 0)
        bench_json_file_free(out);
    return status;
}

int bench_json_read_file(const char *path, bench_json_file *out, char error[BENCH_JSON_ERROR_SIZE])
{
    void *bytes;
    size_t size;
    if (evk_file_read_all(NULL, path, MAX_FILE_BYTES, &bytes, &size) != EVK_SUCCESS) {
        snprintf(error, BENCH_JSON_ERROR_SIZE, "%s", evk_last_error(NULL));
        *out = (bench_json_file){.path = path};
        return -1;
    }
    int status = bench_json_read_text(path, bytes, size, out, error);
    free(bytes);
    return status;
}

void bench_json_file_free(bench_json_file *file)
{
    free(file->results);
    free(file->layers);
    free(file->strings);
    file->results = NULL;
    file->layers = NULL;
    file->strings = NULL;
    file->result_count = 0;
    file->layer_count = 0;
}
