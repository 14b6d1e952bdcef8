/* clock_gettime(CLOCK_MONOTONIC) is POSIX, not C11; must precede every include. */
#define _POSIX_C_SOURCE 199309L
/* effvk run: a model on a .npy input into a .npy output; effvk flops: a
 * model's MACs and parameters per layer, without a device. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "effvk/effvk.h"
#include "json.h"
#include "layer_profile.h"
#include "models.h"
#include "npy.h"
#include "pipeline_cache_file.h"
#include "precision_option.h"
#include "report.h"

enum { EXIT_OK = 0, EXIT_ERROR = 1 };

const char models_run_usage[] =
    "  run                 run a model on a .npy input, write its logits as .npy\n"
    "    --model NAME      efficientnet-b0 .. efficientnet-b7, vgg16-cifar,\n"
    "                      hetconv-vgg16-cifar, resnet34, hetconv-resnet34,\n"
    "                      resnet50, octconv-resnet50\n"
    "    --part P          HetConv part of the hetconv-* models (default 4)\n"
    "    --alpha A         OctConv alpha of octconv-resnet50, 0 to < 1 (default 0.25)\n"
    "    --weights FILE    torchvision state_dict as .safetensors\n"
    "                      (tools/export_safetensors.py writes one)\n"
    "    --onnx FILE       an ONNX network instead of --model and --weights\n"
    "                      (docs/onnx.md); --stats lists which ONNX nodes became\n"
    "                      which effvk layer\n"
    "    --input FILE      float32 .npy of shape [N, C, H, W] (C = 3 for --model)\n"
    "    --output FILE     float32 .npy: [N, classes], or [N, C, H, W] for an ONNX\n"
    "                      network whose output is a feature map\n"
    "    --device N        device N of `effvk info`\n"
    PRECISION_USAGE
    "    --stats           print the plan's memory, the forward's times, the\n"
    "                      precision and the pipeline cache\n"
    "    --profile         print where the forward's GPU time goes: each layer's\n"
    "                      time, share, kernel and % of the measured FMA peak\n"
    PIPELINE_CACHE_USAGE
    "    --help, -h        the command's usage\n";

const char models_flops_usage[] =
    "  flops               MACs and parameters per layer, no device needed\n"
    "    --model NAME      as for run\n"
    "    --onnx FILE       as for run (--size and --batch give its dynamic dimensions)\n"
    "    --part P          as for run\n"
    "    --alpha A         as for run\n"
    "    --size S          input S x S (default: the variant's resolution)\n"
    "    --batch N         batch size (default 1)\n"
    "    --json            write JSON to stdout instead of the table\n"
    "    --help, -h        the command's usage\n";

static const char exit_statuses[] = "exit status: 0 success, 1 error, 2 bad usage\n";

/* parse_args's result when the command line asks for the usage. */
enum { USAGE_ASKED = -1 };

typedef struct model_args {
    const char *model, *weights, *input, *output, *onnx;
    int use_device, stats, profile, as_json, no_cache;
    uint32_t device, size, batch, part;
    evk_precision precision;
    double alpha;                   /* evk_model_options.alpha: 0 default, < 0 for α = 0 */
} model_args;

/* A decimal integer from `min` to 65536 and nothing else. */
static int parse_count(const char *text, uint32_t min, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long value = strtoul(text, &end, 10);
    if (*text < '0' || *text > '9' || errno || *end || value < min || value > 65536)
        return -1;
    *out = (uint32_t)value;
    return 0;
}

/* --alpha's value: a number in [0, 1), read as a double so that "0.7" is
 * Python's 0.7 and the channel split PyTorch's; α = 0 becomes the options'
 * -1. */
static int parse_alpha(const char *text, double *out)
{
    char *end;
    errno = 0;
    double value = strtod(text, &end);
    if (errno || end == text || *end || !(value >= 0.0 && value < 1.0))
        return -1;
    *out = value == 0.0 ? -1.0 : value;
    return 0;
}

/* The option at argv[*i] with its value, if it takes one. */
static int parse_option(const char *command, int argc, char **argv, int *i, model_args *a)
{
    const char *option = argv[*i];
    if (is_help_option(option))
        return USAGE_ASKED;
    int *flag = strcmp(option, "--stats") == 0      ? &a->stats
              : strcmp(option, "--profile") == 0  ? &a->profile
              : strcmp(option, "--json") == 0     ? &a->as_json
              : strcmp(option, "--no-cache") == 0 ? &a->no_cache
                                                  : NULL;
    if (flag) {
        *flag = 1;
        return EXIT_OK;
    }
    const char **text = strcmp(option, "--model") == 0 ? &a->model
                      : strcmp(option, "--weights") == 0 ? &a->weights
                      : strcmp(option, "--input") == 0 ? &a->input
                      : strcmp(option, "--output") == 0 ? &a->output
                      : strcmp(option, "--onnx") == 0 ? &a->onnx : NULL;
    uint32_t *count = strcmp(option, "--device") == 0 ? &a->device
                    : strcmp(option, "--size") == 0 ? &a->size
                    : strcmp(option, "--batch") == 0 ? &a->batch
                    : strcmp(option, "--part") == 0 ? &a->part : NULL;
    int alpha = strcmp(option, "--alpha") == 0;
    int precision = strcmp(option, "--precision") == 0;
    if (!text && !count && !alpha && !precision)
        return report_usage_error(command, "unknown option", option);
    if (*i + 1 >= argc)
        return report_usage_error(command, "a value must follow", option);
    const char *value = argv[++*i];
    if (alpha)
        return parse_alpha(value, &a->alpha) == 0 ? EXIT_OK
                                                  : report_usage_error(command, "bad alpha", value);
    if (precision)
        return precision_parse(value, &a->precision) == 0
                   ? EXIT_OK : report_usage_error(command, "bad precision", value);
    if (text)
        *text = value;
    else if (parse_count(value, count == &a->device ? 0 : 1, count) != 0)
        return report_usage_error(command, "bad number", value);
    a->use_device |= count == &a->device;
    return EXIT_OK;
}

static int parse_args(const char *command, int argc, char **argv, model_args *a)
{
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; ++i) {
        int code = parse_option(command, argc, argv, &i, a);
        if (code != EXIT_OK)
            return code;
    }
    if (a->model && a->onnx)
        return report_usage_error(command, "--model and --onnx exclude each other", NULL);
    if (a->onnx && a->weights)
        return report_usage_error(command, "an ONNX file holds its weights: no --weights", NULL);
    return a->model || a->onnx ? EXIT_OK
                               : report_usage_error(command, "--model or --onnx is required", NULL);
}

/* The exit status of a command line that parse_args did not accept as one
 * to run: the usage asked for, or a usage error already reported. */
static int parse_outcome(int code, const char *synopsis, const char *options)
{
    return code == USAGE_ASKED ? print_command_usage(synopsis, options, exit_statuses) : code;
}

/* ---- flops */

static void shape_json(json_writer *w, const char *key, evk_shape s)
{
    json_key(w, key);
    json_array_begin(w);
    json_uint(w, s.n);
    json_uint(w, s.c);
    json_uint(w, s.h);
    json_uint(w, s.w);
    json_array_end(w);
}

static int flops_json(const char *model, const evk_model_layer_info *layers, uint32_t count,
                      uint64_t macs, uint64_t params)
{
    json_writer w;
    json_init(&w, stdout);
    json_object_begin(&w);
    json_key_string(&w, "model", model);
    shape_json(&w, "input", layers[0].input);
    json_key(&w, "layers");
    json_array_begin(&w);
    for (uint32_t i = 0; i < count; ++i) {
        json_object_begin(&w);
        json_key_string(&w, "name", layers[i].name);
        json_key_string(&w, "kind", layers[i].kind);
        shape_json(&w, "input", layers[i].input);
        shape_json(&w, "output", layers[i].output);
        json_key_uint(&w, "macs", layers[i].macs);
        json_key_uint(&w, "params", layers[i].params);
        json_object_end(&w);
    }
    json_array_end(&w);
    json_key_uint(&w, "macs", macs);
    json_key_uint(&w, "params", params);
    json_object_end(&w);
    if (json_finish(&w) == 0)
        return EXIT_OK;
    fputs("effvk flops: writing the JSON to stdout failed\n", stderr);
    return EXIT_ERROR;
}

static void flops_table(const char *model, const evk_model_layer_info *layers, uint32_t count,
                        uint64_t macs, uint64_t params)
{
    evk_shape in = layers[0].input;
    printf("%s, input %ux%ux%ux%u\n", model, in.n, in.c, in.h, in.w);
    printf("%-16s %-16s %-20s %14s %12s\n", "layer", "kind", "output", "MACs", "params");
    for (uint32_t i = 0; i < count; ++i) {
        char shape[32];
        evk_shape o = layers[i].output;
        snprintf(shape, sizeof shape, "%ux%ux%ux%u", o.n, o.c, o.h, o.w);
        printf("%-16s %-16s %-20s %14llu %12llu\n", layers[i].name, layers[i].kind, shape,
               (unsigned long long)layers[i].macs, (unsigned long long)layers[i].params);
    }
    printf("%-16s %-16s %-20s %14llu %12llu\n", "total", "", "", (unsigned long long)macs,
           (unsigned long long)params);
    printf("%.3f GMACs, %.3f M parameters\n", (double)macs * 1e-9, (double)params * 1e-6);
}

int models_flops(int argc, char **argv)
{
    model_args a;
    int code = parse_args("flops", argc, argv, &a);
    if (code != EXIT_OK)
        return parse_outcome(code, "flops --model NAME | --onnx FILE [options]",
                             models_flops_usage);
    evk_model_options opts = {.batch = a.batch, .height = a.size, .width = a.size,
                              .part = a.part, .alpha = a.alpha};
    const char *name = a.onnx ? a.onnx : a.model;
    uint32_t count = 0;
    evk_status s = a.onnx ? evk_model_layers_onnx(a.onnx, &opts, NULL, 0, &count)
                          : evk_model_layers(a.model, &opts, NULL, 0, &count);
    evk_model_layer_info *layers = s == EVK_SUCCESS ? calloc(count ? count : 1, sizeof *layers)
                                                    : NULL;
    if (s == EVK_SUCCESS && !layers)
        s = EVK_ERROR_OUT_OF_HOST_MEMORY;
    if (s == EVK_SUCCESS)
        s = a.onnx ? evk_model_layers_onnx(a.onnx, &opts, layers, count, &count)
                   : evk_model_layers(a.model, &opts, layers, count, &count);
    uint64_t macs = 0, params = 0;
    for (uint32_t i = 0; s == EVK_SUCCESS && i < count; ++i) {
        macs = macs + layers[i].macs < macs ? UINT64_MAX : macs + layers[i].macs;
        params = params + layers[i].params < params ? UINT64_MAX : params + layers[i].params;
    }
    const char *why = s == EVK_SUCCESS ? NULL : evk_last_error(NULL);
    if (s == EVK_SUCCESS && (macs == UINT64_MAX || params == UINT64_MAX)) {
        s = EVK_ERROR_LIMIT_EXCEEDED;
        why = "the total MACs or parameters do not fit in 64 bits";
    }
    if (s != EVK_SUCCESS) {
        report_failure("flops", name, s, why);
        free(layers);
        return EXIT_ERROR;
    }
    code = a.as_json ? flops_json(name, layers, count, macs, params) : EXIT_OK;
    if (!a.as_json)
        flops_table(name, layers, count, macs, params);
    free(layers);
    return code;
}

/* ---- run */

static double now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

static int run_failure(const char *what, evk_status s, const evk_context *ctx)
{
    end_pipeline_progress();
    report_failure("run", what, s, evk_last_error(ctx));
    return EXIT_ERROR;
}

/* One evk_model_run, timed; prints its wall and GPU time with --stats. */
static evk_status timed_run(evk_context *ctx, evk_model *m, const npy_array *x, float *y,
                            uint64_t count, const char *label, int stats)
{
    double start = now_ms();
    evk_status s = evk_model_run(m, x->data, x->count, y, count);
    double gpu_ms = 0.0;
    if (s == EVK_SUCCESS && stats && evk_context_last_gpu_ms(ctx, &gpu_ms) == EVK_SUCCESS)
        printf("%s: %.3f ms wall, %.3f ms GPU\n", label, now_ms() - start, gpu_ms);
    return s;
}

static void print_stats(const evk_model *m)
{
    evk_model_stats st;
    if (evk_model_stats_get(m, &st) != EVK_SUCCESS)
        return;
    printf("%u layers, %.3f GMACs, %llu parameters\n", st.layers, (double)st.macs * 1e-9,
           (unsigned long long)st.params);
    printf("activations: %u buffers, %.2f MiB planned (%.2f MiB with one buffer per tensor)\n",
           st.activation_buffers, (double)st.activation_bytes / 1048576.0,
           (double)st.unplanned_activation_bytes / 1048576.0);
    printf("MBConv scratch shared by the blocks: %.2f MiB\n",
           (double)st.block_scratch_bytes / 1048576.0);
    printf("device memory held by the context: %.2f MiB; forward recorded %u time(s)\n",
           (double)st.context_device_bytes / 1048576.0, st.recordings);
}

/* Which ONNX nodes each effvk layer runs, and on which kernel. */
static void print_onnx_layers(const evk_model *m)
{
    uint32_t count = 0;
    if (evk_model_describe(m, NULL, 0, &count) != EVK_SUCCESS)
        return;
    evk_model_layer_info *layers = calloc(count ? count : 1, sizeof *layers);
    if (!layers || evk_model_describe(m, layers, count, &count) != EVK_SUCCESS) {
        free(layers);
        return;
    }
    printf("ONNX nodes per effvk layer (%u layers: name, kind, kernel <- nodes):\n", count);
    for (uint32_t i = 0; i < count; ++i)
        printf("  %-24s %-16s %-18s <- %s\n", layers[i].name, layers[i].kind,
               evk_model_layer_kernel(m, i), evk_model_layer_source(m, i));
    free(layers);
}

/* The library refuses non-finite weights, but an input or an overflow can
 * still give NaN or infinite logits, which nothing downstream would flag. */
static void warn_non_finite(const char *path, const float *y, uint64_t count)
{
    uint64_t bad = 0;
    for (uint64_t i = 0; i < count; ++i)
        bad += !isfinite(y[i]);
    if (bad)
        fprintf(stderr, "effvk run: warning: %llu of %llu outputs written to %s are NaN or "
                "infinite\n", (unsigned long long)bad, (unsigned long long)count, path);
}

/* Forwards timed with a timestamp after each dispatch, for the median. */
#define PROFILE_RUNS 3u

typedef struct profiled_run {
    evk_model *model;
    const npy_array *x;
    float *y;
    uint64_t count;
} profiled_run;

static evk_status profiled_forward(void *user_data)
{
    profiled_run *r = user_data;
    return evk_model_run(r->model, r->x->data, r->x->count, r->y, r->count);
}

/* The peak is measured here, since % of peak needs this device's. */
static evk_status print_profile(evk_context *ctx, profiled_run *r)
{
    evk_peak peak;
    evk_status s = evk_measure_peak(ctx, &peak);
    layer_profile profile;
    if (s == EVK_SUCCESS)
        s = layer_profile_measure(ctx, r->model, profiled_forward, r, PROFILE_RUNS, &profile);
    if (s != EVK_SUCCESS)
        return s;
    printf("where the GPU time goes (median of %u forwards with a timestamp after each "
           "dispatch; peak FMA %.2f GFLOP/s, measured):\n", PROFILE_RUNS, peak.fma_gflops);
    layer_profile_print(stdout, &profile, peak.fma_gflops, "");
    layer_profile_free(&profile);
    return EVK_SUCCESS;
}

static int run_model(evk_context *ctx, const model_args *a, const npy_array *x,
                     const pipeline_cache_file *cache)
{
    evk_model_options opts = {.batch = (uint32_t)x->shape[0], .height = (uint32_t)x->shape[2],
                              .width = (uint32_t)x->shape[3], .part = a->part,
                              .alpha = a->alpha};
    evk_model *m = NULL;
    const char *name = a->onnx ? a->onnx : a->model;
    evk_status s = a->onnx ? evk_model_load_onnx(ctx, a->onnx, &opts, &m)
                           : evk_model_load(ctx, a->model, a->weights, &opts, &m);
    if (s != EVK_SUCCESS)
        return run_failure(name, s, ctx);
    evk_shape out;
    evk_model_output_shape(m, &out);
    uint64_t count = evk_shape_elements(out);
    float *y = malloc(count * sizeof *y);
    s = y ? timed_run(ctx, m, x, y, count, "first forward (plans, records)", a->stats)
          : EVK_ERROR_OUT_OF_HOST_MEMORY;
    if (s == EVK_SUCCESS && a->stats)
        s = timed_run(ctx, m, x, y, count, "second forward (resubmits)", a->stats);
    profiled_run profiled = {m, x, y, count};
    if (s == EVK_SUCCESS && a->profile)
        s = print_profile(ctx, &profiled);
    uint64_t shape[4] = {out.n, out.c, out.h, out.w};
    if (s == EVK_SUCCESS)
        s = npy_write(ctx, a->output, shape, out.h * out.w == 1 ? 2 : 4, y);
    if (s == EVK_SUCCESS)
        warn_non_finite(a->output, y, count);
    if (s == EVK_SUCCESS && a->stats) {
        print_stats(m);
        if (a->onnx)
            print_onnx_layers(m);
        precision_print(stdout, ctx);
        print_pipeline_cache(stdout, cache, ctx);
    }
    int code = s == EVK_SUCCESS ? EXIT_OK : run_failure(name, s, ctx);
    free(y);
    evk_model_destroy(m);
    return code;
}

int models_run(int argc, char **argv)
{
    model_args a;
    int code = parse_args("run", argc, argv, &a);
    if (code != EXIT_OK)
        return parse_outcome(code, "run --model NAME --weights FILE | --onnx FILE --input FILE "
                             "--output FILE [options]", models_run_usage);
    if ((!a.weights && !a.onnx) || !a.input || !a.output)
        return report_usage_error("run", "--weights (or --onnx), --input and --output are "
                                  "required", NULL);
    npy_array x;
    evk_status s = npy_read(NULL, a.input, &x);
    if (s != EVK_SUCCESS)
        return run_failure(a.input, s, NULL);
    if (x.rank != 4 || (!a.onnx && x.shape[1] != 3) || !x.shape[0] || !x.shape[1] ||
        !x.shape[2] || !x.shape[3] || x.shape[0] > 65536 || x.shape[1] > 65536 ||
        x.shape[2] > 65536 || x.shape[3] > 65536) {
        fprintf(stderr, "effvk run: %s: the input must be [N, %s, H, W] float32\n", a.input,
                a.onnx ? "C" : "3");
        npy_free(NULL, &x);
        return EXIT_ERROR;
    }
    evk_context_desc desc = {.device_index = a.device, .use_device_index = a.use_device,
                             .precision = a.precision};
    pipeline_cache_file cache;
    use_pipeline_cache("run", !a.no_cache, &cache, &desc);
    show_pipeline_progress(&desc);
    report_attach_log(&desc);
    evk_context *ctx = NULL;
    s = evk_context_create(&desc, &ctx);
    code = s == EVK_SUCCESS ? run_model(ctx, &a, &x, &cache) : run_failure("context", s, NULL);
    evk_context_destroy(ctx);
    npy_free(NULL, &x);
    return code;
}
