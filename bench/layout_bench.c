/* Measures the internal tensor layout: the same dense conv2d kernel on packed
 * [N][C/4][H][W][4] buffers and on plain NCHW buffers, for the conv shapes of
 * `effvk bench`, both checked against the CPU reference. The public API does
 * not let a tensor hold plain NCHW data: effvk_internal.h does, for this
 * measurement. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "effvk/effvk.h"
#include "effvk_internal.h"
#include "json.h"
#include "reference.h"

typedef struct layout_case {
    const char *name;
    uint32_t in_c, out_c, k, stride, hw;
} layout_case;

static const layout_case cases[] = {
    {"conv3x3 64->64 @56", 64, 64, 3, 1, 56},
    {"conv3x3 256->256 @14", 256, 256, 3, 1, 14},
    {"conv1x1 96->24 @112", 96, 24, 1, 1, 112},
    {"conv1x1 1152->192 @7", 1152, 192, 1, 1, 7},
    {"stem3x3 s2 3->32 @224", 3, 32, 3, 2, 224},
};

static uint32_t rng_state = 12345u;
static float next_random(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 17;
    rng_state ^= rng_state << 5;
    return (float)(rng_state >> 8) / (float)(1u << 24) * 2.0f - 1.0f;
}

static void fill_random(float *data, size_t count)
{
    for (size_t i = 0; i < count; ++i)
        data[i] = next_random();
}

typedef struct layout_run {
    evk_context *ctx;
    evk_layer *layer;
    evk_tensor *in, *out;
} layout_run;

static int time_layout(layout_run *r, int planar, int iterations, double *best_ms)
{
    *best_ms = 1e30;
    for (int i = 0; i <= iterations; ++i) {
        double ms;
        if (evk_conv2d_forward_dense_layout(r->layer, r->in, r->out, planar) != EVK_SUCCESS ||
            evk_context_last_gpu_ms(r->ctx, &ms) != EVK_SUCCESS)
            return 0;
        if (i > 0 && ms < *best_ms)   /* run 0 warms up the JIT */
            *best_ms = ms;
    }
    return 1;
}

/* Writes the input in the layout under test, times the kernel and returns
 * the max abs error of its output against the reference, -1 on failure. */
static double run_checked(layout_run *r, int planar, const float *x, const float *expected,
                          int iterations, double *best_ms)
{
    uint64_t in_count = evk_shape_elements(evk_tensor_shape(r->in));
    uint64_t out_count = evk_shape_elements(evk_tensor_shape(r->out));
    evk_status s = planar ? evk_tensor_upload_planar(r->in, x, in_count)
                          : evk_tensor_upload(r->in, x, in_count);
    if (s != EVK_SUCCESS || !time_layout(r, planar, iterations, best_ms))
        return -1.0;
    float *y = malloc(out_count * sizeof *y);
    if (!y)
        return -1.0;
    s = planar ? evk_tensor_download_planar(r->out, y, out_count)
               : evk_tensor_download(r->out, y, out_count);
    double max_abs = -1.0, max_rel;
    if (s == EVK_SUCCESS)
        evk_ref_compare(y, expected, out_count, 1e-3, &max_abs, &max_rel);
    free(y);
    return max_abs;
}

typedef struct layout_result {
    double packed_ms, planar_ms, packed_err, planar_err;
} layout_result;

static int measure_case(evk_context *ctx, const layout_case *c, uint32_t batch, int iterations,
                        layout_result *res)
{
    evk_conv2d_desc desc = {.in_channels = c->in_c, .out_channels = c->out_c, .kernel_h = c->k,
                            .kernel_w = c->k, .stride_h = c->stride, .stride_w = c->stride,
                            .pad_h = c->k / 2, .pad_w = c->k / 2, .activation = EVK_ACTIVATION_RELU};
    size_t weights = (size_t)c->out_c * c->in_c * c->k * c->k;
    float *w = malloc(weights * sizeof *w);
    layout_run r = {.ctx = ctx};
    evk_shape in_shape = {batch, c->in_c, c->hw, c->hw}, out_shape;
    desc.weight = w;
    desc.weight_count = weights;
    int ok = w && evk_conv2d_output_shape(&desc, in_shape, &out_shape) == EVK_SUCCESS;
    float *x = ok ? malloc(evk_shape_elements(in_shape) * sizeof *x) : NULL;
    float *expected = ok ? malloc(evk_shape_elements(out_shape) * sizeof *expected) : NULL;
    ok = ok && x && expected;
    if (ok) {
        fill_random(w, weights);
        fill_random(x, evk_shape_elements(in_shape));
        evk_ref_conv2d(&desc, in_shape, x, expected);
        ok = evk_conv2d_create(ctx, &desc, &r.layer) == EVK_SUCCESS &&
             evk_tensor_create(ctx, in_shape, &r.in) == EVK_SUCCESS &&
             evk_tensor_create(ctx, out_shape, &r.out) == EVK_SUCCESS;
    }
    if (ok) {
        res->packed_err = run_checked(&r, 0, x, expected, iterations, &res->packed_ms);
        res->planar_err = run_checked(&r, 1, x, expected, iterations, &res->planar_ms);
        ok = res->packed_err >= 0.0 && res->planar_err >= 0.0;
    }
    evk_tensor_destroy(r.in);
    evk_tensor_destroy(r.out);
    evk_layer_destroy(r.layer);
    free(w);
    free(x);
    free(expected);
    return ok;
}

static const char usage[] =
    "usage: effvk_layout_bench [--json FILE]\n"
    "\n"
    "Times the dense conv2d kernel on packed [N][C/4][H][W][4] buffers and on plain\n"
    "NCHW buffers, for the conv shapes of `effvk bench` at batch 1 and 8, checks both\n"
    "against the CPU reference and prints a table.\n"
    "\n"
    "  --json FILE       also write the results as JSON\n"
    "  --help, -h        this text\n"
    "\n"
    "exit status: 0 success, 1 error, 2 bad usage\n";

/* parse_args's result for a command line to run. */
enum { RUN = -1 };

/* Finds --json's value; returns RUN, or the exit status when the command
 * line asks for the usage or is wrong. */
static int parse_args(int argc, char **argv, const char **json_path)
{
    *json_path = NULL;
    for (int i = 1; i < argc; ++i) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        int is_json = strcmp(arg, "--json") == 0;
        if (is_json && i + 1 < argc) {
            *json_path = argv[++i];
            continue;
        }
        const char *problem = is_json       ? "a value must follow"
                              : arg[0] == '-' ? "unknown option"
                                              : "unexpected argument";
        fprintf(stderr, "effvk_layout_bench: %s '%s'; see 'effvk_layout_bench --help'\n",
                problem, arg);
        return 2;
    }
    return RUN;
}

static void write_result_json(json_writer *w, const char *name, uint32_t batch,
                              const layout_result *r, double err)
{
    char full_name[64];
    snprintf(full_name, sizeof full_name, "%s b%u", name, batch);
    json_object_begin(w);
    json_key_string(w, "name", full_name);
    json_key_number(w, "packed_gpu_ms_min", r->packed_ms);
    json_key_number(w, "nchw_gpu_ms_min", r->planar_ms);
    json_key_number(w, "nchw_over_packed", r->planar_ms / r->packed_ms);
    json_key_number(w, "max_abs_err", err);
    json_object_end(w);
}

/* Every case at batch 1 and 8, a table row each and, with `json`, a result
 * object in its open "results" array; 0 on the first failure. */
static int measure_all(evk_context *ctx, json_writer *json)
{
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        for (uint32_t batch = 1; batch <= 8; batch *= 8) {
            layout_result r;
            if (!measure_case(ctx, &cases[i], batch, 5, &r))
                return 0;
            double err = r.packed_err > r.planar_err ? r.packed_err : r.planar_err;
            printf("%-26s %5u %12.3f %12.3f %8.2f %10.2e\n", cases[i].name, batch, r.packed_ms,
                   r.planar_ms, r.planar_ms / r.packed_ms, err);
            if (json)
                write_result_json(json, cases[i].name, batch, &r, err);
        }
    return 1;
}

int main(int argc, char **argv)
{
    const char *json_path;
    int code = parse_args(argc, argv, &json_path);
    if (code != RUN)
        return code;
    evk_context *ctx;
    if (evk_context_create(NULL, &ctx) != EVK_SUCCESS) {
        fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(NULL));
        return 1;
    }
    evk_device_properties device;
    evk_file_writer json_file = {0};
    if (evk_context_device_info(ctx, &device) != EVK_SUCCESS ||
        (json_path && evk_file_write_begin(NULL, json_path, &json_file) != EVK_SUCCESS)) {
        fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(NULL));
        evk_context_destroy(ctx);
        return 1;
    }
    json_writer json;
    if (json_path) {
        json_init(&json, json_file.stream);
        json_object_begin(&json);
        json_key_string(&json, "device", device.name);
        json_key_string(&json, "driver_info", device.driver_info);
        json_key_string(&json, "kernel", "conv2d_dense");
        json_key(&json, "results");
        json_array_begin(&json);
    }
    printf("device: %s (%s)\n%-26s %5s %12s %12s %8s %10s\n", device.name, device.driver_info,
           "shape", "batch", "packed ms", "nchw ms", "nchw/pk", "max err");
    int ok = measure_all(ctx, json_path ? &json : NULL);
    if (!ok)
        fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(ctx));
    if (json_path && !ok) {
        evk_file_write_abort(&json_file);
    } else if (json_path) {
        json_array_end(&json);
        json_object_end(&json);
        if (json_finish(&json) != 0) {
            evk_file_write_abort(&json_file);
            fprintf(stderr, "effvk_layout_bench: writing %s failed\n", json_path);
            ok = 0;
        } else if (evk_file_write_commit(&json_file) != EVK_SUCCESS) {
            fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(NULL));
            ok = 0;
        }
    }
    evk_context_destroy(ctx);
    return ok ? 0 : 1;
}
