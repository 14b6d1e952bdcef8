/* Measures the internal tensor layout: the same dense conv2d kernel on packed
 * [N][C/4][H][W][4] buffers and on plain NCHW buffers, for the conv shapes of
 * `effvk bench`, both checked against the CPU reference. Uses the library's
 * internal headers: this is a measurement tool, not an API user. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "file_io.h"
#include "ops/conv2d.h"
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
    evk_shape in_shape, out_shape;
    evk_buffer in, out;
} layout_run;

static int time_layout(layout_run *r, int planar, int iterations, double *best_ms)
{
    *best_ms = 1e30;
    for (int i = 0; i <= iterations; ++i) {
        if (evk_command_begin(r->ctx) != EVK_SUCCESS ||
            evk_conv2d_record_dense_layout(r->layer, &r->in, r->in_shape, &r->out, r->out_shape,
                                           planar) != EVK_SUCCESS ||
            evk_command_submit_wait(r->ctx) != EVK_SUCCESS)
            return 0;
        if (i > 0 && r->ctx->last_gpu_ms < *best_ms)   /* run 0 warms up the JIT */
            *best_ms = r->ctx->last_gpu_ms;
    }
    return 1;
}

/* Fills the input buffer in the layout under test and returns the max abs
 * error of that layout's output against the reference. */
static double run_checked(layout_run *r, int planar, const float *x, const float *expected,
                          int iterations, double *best_ms)
{
    evk_host_access access;
    evk_buffer_begin_write(r->ctx, &r->in, &access);
    if (planar)
        memcpy(access.ptr, x, evk_shape_elements(r->in_shape) * sizeof(float));
    else
        evk_pack_nchw(r->in_shape, x, access.ptr);
    evk_buffer_end_write(r->ctx, &r->in, &access);
    if (!time_layout(r, planar, iterations, best_ms))
        return -1.0;
    float *packed_expected = malloc((size_t)evk_shape_device_bytes(r->out_shape));
    if (!packed_expected)
        return -1.0;
    evk_pack_nchw(r->out_shape, expected, packed_expected);
    uint64_t compared = planar ? evk_shape_elements(r->out_shape)
                               : evk_shape_device_bytes(r->out_shape) / sizeof(float);
    double max_abs = -1.0, max_rel;
    if (evk_buffer_begin_read(r->ctx, &r->out, &access) == EVK_SUCCESS) {
        evk_ref_compare(access.ptr, planar ? expected : packed_expected, compared, 1e-3, &max_abs,
                        &max_rel);
        evk_buffer_end_read(r->ctx, &access);
    }
    free(packed_expected);
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
    layout_run r = {.ctx = ctx, .in_shape = {batch, c->in_c, c->hw, c->hw}};
    desc.weight = w;
    desc.weight_count = weights;
    int ok = w && evk_conv2d_output_shape(&desc, r.in_shape, &r.out_shape) == EVK_SUCCESS;
    float *x = ok ? malloc(evk_shape_elements(r.in_shape) * sizeof *x) : NULL;
    float *expected = ok ? malloc(evk_shape_elements(r.out_shape) * sizeof *expected) : NULL;
    ok = ok && x && expected;
    if (ok) {
        fill_random(w, weights);
        fill_random(x, evk_shape_elements(r.in_shape));
        evk_ref_conv2d(&desc, r.in_shape, x, expected);
        ok = evk_conv2d_create(ctx, &desc, &r.layer) == EVK_SUCCESS &&
             evk_buffer_create(ctx, evk_shape_device_bytes(r.in_shape), EVK_BUFFER_DEVICE, "input",
                               &r.in) == EVK_SUCCESS &&
             evk_buffer_create(ctx, evk_shape_device_bytes(r.out_shape), EVK_BUFFER_DEVICE, "output",
                               &r.out) == EVK_SUCCESS;
    }
    if (ok) {
        res->packed_err = run_checked(&r, 0, x, expected, iterations, &res->packed_ms);
        res->planar_err = run_checked(&r, 1, x, expected, iterations, &res->planar_ms);
        ok = res->packed_err >= 0.0 && res->planar_err >= 0.0;
    }
    evk_buffer_destroy(ctx, &r.in);
    evk_buffer_destroy(ctx, &r.out);
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
    evk_file_writer json_file = {0};
    if (json_path && evk_file_write_begin(NULL, json_path, &json_file) != EVK_SUCCESS) {
        fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(NULL));
        evk_context_destroy(ctx);
        return 1;
    }
    FILE *json = json_file.stream;
    if (json)
        fprintf(json, "{\"device\": \"%s\", \"driver_info\": \"%s\", \"kernel\": \"conv2d_dense\", "
                "\"results\": [", ctx->props.name, ctx->props.driver_info);
    printf("device: %s (%s)\n%-26s %5s %12s %12s %8s %10s\n", ctx->props.name,
           ctx->props.driver_info, "shape", "batch", "packed ms", "nchw ms", "nchw/pk", "max err");
    int ok = 1, first = 1;
    for (size_t i = 0; ok && i < sizeof cases / sizeof cases[0]; ++i)
        for (uint32_t batch = 1; ok && batch <= 8; batch *= 8) {
            layout_result r;
            ok = measure_case(ctx, &cases[i], batch, 5, &r);
            if (!ok)
                break;
            double err = r.packed_err > r.planar_err ? r.packed_err : r.planar_err;
            printf("%-26s %5u %12.3f %12.3f %8.2f %10.2e\n", cases[i].name, batch, r.packed_ms,
                   r.planar_ms, r.planar_ms / r.packed_ms, err);
            if (json)
                fprintf(json, "%s\n  {\"name\": \"%s b%u\", \"packed_gpu_ms_min\": %.4f, "
                        "\"nchw_gpu_ms_min\": %.4f, \"nchw_over_packed\": %.3f, \"max_abs_err\": %.3g}",
                        first ? "" : ",", cases[i].name, batch, r.packed_ms, r.planar_ms,
                        r.planar_ms / r.packed_ms, err);
            first = 0;
        }
    if (!ok)
        fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(ctx));
    if (json && !ok) {
        evk_file_write_abort(&json_file);
    } else if (json) {
        fprintf(json, "\n]}\n");
        if (evk_file_write_commit(&json_file) != EVK_SUCCESS) {
            fprintf(stderr, "effvk_layout_bench: %s\n", evk_last_error(NULL));
            ok = 0;
        }
    }
    evk_context_destroy(ctx);
    return ok ? 0 : 1;
}
