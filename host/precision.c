/* clock_gettime is POSIX, not C11. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "context_entry.h"
#include "file_io.h"
#include "precision.h"
#include "profile.h"

const char *evk_precision_name(evk_precision precision)
{
    switch (precision) {
    case EVK_PRECISION_AUTO: return "auto";
    case EVK_PRECISION_FP32: return "fp32";
    case EVK_PRECISION_FP16_STORAGE: return "fp16-storage";
    case EVK_PRECISION_FP16: return "fp16";
    }
    return "?";
}

static evk_precision requested_precision(const evk_context_desc *desc, int *from_env)
{
    *from_env = 0;
    if (desc->precision != EVK_PRECISION_AUTO)
        return desc->precision;
    const char *env = getenv("EFFVK_PRECISION");
    for (int p = EVK_PRECISION_FP32; env && p <= EVK_PRECISION_FP16; ++p)
        if (strcmp(env, evk_precision_name((evk_precision)p)) == 0) {
            *from_env = 1;
            return (evk_precision)p;
        }
    return EVK_PRECISION_AUTO;
}

/* The widest precision the device can run, and why not wider. */
static evk_precision device_widest(const evk_context *ctx, const char **why)
{
    const evk_device_properties *d = &ctx->props;
    if (!d->fp16_storage) {
        *why = d->limits_profile[0] ? "the limits profile marks 16-bit storage absent"
                                    : "the device has no 16-bit storage";
        return EVK_PRECISION_FP32;
    }
    if (!ctx->storage_16bit_enabled) {
        *why = "16-bit storage is not enabled on the application's device";
        return EVK_PRECISION_FP32;
    }
    if (!d->fp16_arithmetic || !ctx->shader_float16_enabled) {
        *why = d->fp16_arithmetic ? "shaderFloat16 is not enabled on the application's device"
                                  : "the device has no shaderFloat16";
        return EVK_PRECISION_FP16_STORAGE;
    }
    *why = "";
    return EVK_PRECISION_FP16;
}

/* ---- The measurement: a 1x1 convolution, the bulk of the networks' work. */

enum { MEASURE_CHANNELS = 64, MEASURE_SIDE = 56, MEASURE_REPEAT = 4, MEASURE_ROUNDS = 7 };

typedef struct candidate_run {
    evk_tensor *input, *output;
    evk_layer *layer;
} candidate_run;

static evk_status candidate_create(evk_context *ctx, const float *weight, candidate_run *run)
{
    evk_shape shape = {1, MEASURE_CHANNELS, MEASURE_SIDE, MEASURE_SIDE};
    evk_conv2d_desc conv = {.in_channels = MEASURE_CHANNELS, .out_channels = MEASURE_CHANNELS,
                            .kernel_h = 1, .kernel_w = 1, .activation = EVK_ACTIVATION_RELU,
                            .weight = weight,
                            .weight_count = MEASURE_CHANNELS * MEASURE_CHANNELS};
    evk_status s = evk_tensor_create(ctx, shape, &run->input);
    if (s == EVK_SUCCESS)
        s = evk_tensor_create(ctx, shape, &run->output);
    if (s == EVK_SUCCESS)
        s = evk_conv2d_create(ctx, &conv, &run->layer);
    return s;
}

static void candidate_destroy(candidate_run *run)
{
    evk_layer_destroy(run->layer);
    evk_tensor_destroy(run->input);
    evk_tensor_destroy(run->output);
}

static double monotonic_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e3 + (double)t.tv_nsec * 1e-6;
}

/* Milliseconds per forward at ctx->precision.chosen: GPU time, or the
 * submission's wall time where the queue gives none. */
static evk_status candidate_time(evk_context *ctx, candidate_run *run, double *ms)
{
    double start = monotonic_ms();
    evk_status s = evk_layer_forward_repeat(run->layer, run->input, run->output, MEASURE_REPEAT);
    double total = monotonic_ms() - start;
    if (s == EVK_SUCCESS && evk_context_last_gpu_ms(ctx, &total) != EVK_SUCCESS)
        total = monotonic_ms() - start;
    *ms = total / MEASURE_REPEAT;
    return s;
}

static double median(double *values, int count)
{
    for (int i = 1; i < count; ++i)
        for (int j = i; j > 0 && values[j - 1] > values[j]; --j) {
            double swap = values[j];
            values[j] = values[j - 1];
            values[j - 1] = swap;
        }
    return count % 2 ? values[count / 2] : 0.5 * (values[count / 2 - 1] + values[count / 2]);
}

/* Times every precision up to `widest`, round-robin (the pipelines are
 * created in a first untimed round); tensors and layers are made at the
 * precision they are timed at. A round runs the precisions back to back,
 * so the load of the (shared) machine weighs on them alike: `ms` gets
 * fp32's median time and each other precision's as fp32's times the median
 * over the rounds of its time over fp32's in the same round. */
static evk_status measure(evk_context *ctx, evk_precision widest, double *ms)
{
    float weight[MEASURE_CHANNELS * MEASURE_CHANNELS];
    for (size_t i = 0; i < sizeof weight / sizeof weight[0]; ++i)
        weight[i] = (float)((int)(i * 37 % 17) - 8) / 64.0f;
    candidate_run runs[4] = {0};
    evk_status s = EVK_SUCCESS;
    /* The progress callback reports the application's pipelines, not the
     * measurement's three. */
    evk_pipeline_progress_fn progress = ctx->progress.callback;
    ctx->progress.callback = NULL;
    for (int p = EVK_PRECISION_FP32; p <= (int)widest && s == EVK_SUCCESS; ++p) {
        ctx->precision.chosen = (evk_precision)p;
        s = candidate_create(ctx, weight, &runs[p]);
    }
    double times[4][MEASURE_ROUNDS + 1];
    for (int round = 0; round <= MEASURE_ROUNDS && s == EVK_SUCCESS; ++round)
        for (int p = EVK_PRECISION_FP32; p <= (int)widest && s == EVK_SUCCESS; ++p) {
            ctx->precision.chosen = (evk_precision)p;
            s = candidate_time(ctx, &runs[p], &times[p][round]);
        }
    for (int p = EVK_PRECISION_FP32; p <= (int)widest; ++p) {
        ctx->precision.chosen = (evk_precision)p;
        candidate_destroy(&runs[p]);
    }
    ctx->progress.callback = progress;
    if (s != EVK_SUCCESS)
        return s;
    double ratios[MEASURE_ROUNDS];
    for (int r = 0; r < MEASURE_ROUNDS; ++r)
        ratios[r] = times[EVK_PRECISION_FP32][r + 1];
    ms[EVK_PRECISION_FP32] = median(ratios, MEASURE_ROUNDS);
    for (int p = EVK_PRECISION_FP16_STORAGE; p <= (int)widest; ++p) {
        for (int r = 0; r < MEASURE_ROUNDS; ++r)
            ratios[r] = times[p][r + 1] / times[EVK_PRECISION_FP32][r + 1];
        ms[p] = ms[EVK_PRECISION_FP32] * median(ratios, MEASURE_ROUNDS);
    }
    return EVK_SUCCESS;
}

/* A 16-bit precision must beat the next wider one by this factor: at equal
 * speed float32's accuracy wins. */
#define PRECISION_GAIN_NEEDED 0.9

static evk_precision fastest(const double *ms, evk_precision widest)
{
    evk_precision chosen = EVK_PRECISION_FP32;
    for (int p = EVK_PRECISION_FP16_STORAGE; p <= (int)widest; ++p)
        if (ms[p] > 0.0 && ms[p] < PRECISION_GAIN_NEEDED * ms[chosen])
            chosen = (evk_precision)p;
    return chosen;
}

/* ---- The kept result: a small text file beside the pipeline cache. */

static int kept_path(const evk_context *ctx, char *path, size_t size)
{
    const char *cache = ctx->pipeline_cache_path;
    if (!cache)
        return 0;
    const char *slash = strrchr(cache, '/');
    int folder = slash ? (int)(slash - cache + 1) : 0;
    int n = snprintf(path, size, "%.*seffvk-precision-%04x-%04x-%08x.txt", folder, cache,
                     ctx->props.vendor_id, ctx->props.device_id, ctx->props.driver_version);
    return n > 0 && (size_t)n < size;
}

#define KEPT_HEADER "effvk " EVK_VERSION_STRING " precision timings\n"

static int read_kept(evk_context *ctx, const char *path, evk_precision widest, double *ms)
{
    void *bytes = NULL;
    size_t size = 0;
    if (evk_file_read_all(ctx, path, 4096, &bytes, &size) != EVK_SUCCESS)
        return 0;
    char text[4097];
    memcpy(text, bytes, size);
    text[size] = '\0';
    evk_free(ctx, bytes);
    if (strncmp(text, KEPT_HEADER, strlen(KEPT_HEADER)) != 0)
        return 0;
    double read[4] = {0};
    const char *line = text + strlen(KEPT_HEADER);
    int p;
    double value;
    int used;
    while (sscanf(line, "%d %lf\n%n", &p, &value, &used) == 2) {
        if (p >= EVK_PRECISION_FP32 && p <= EVK_PRECISION_FP16 && value > 0.0)
            read[p] = value;
        line += used;
    }
    for (p = EVK_PRECISION_FP32; p <= (int)widest; ++p)
        if (read[p] == 0.0)
            return 0;
    memcpy(ms, read, sizeof read);
    return 1;
}

static void write_kept(evk_context *ctx, const char *path, const double *ms)
{
    evk_file_writer writer;
    if (evk_file_write_begin(ctx, path, &writer) != EVK_SUCCESS)
        return;
    fputs(KEPT_HEADER, writer.stream);
    for (int p = EVK_PRECISION_FP32; p <= EVK_PRECISION_FP16; ++p)
        if (ms[p] > 0.0)
            fprintf(writer.stream, "%d %.6f\n", p, ms[p]);
    if (evk_file_write_commit(&writer) != EVK_SUCCESS)
        evk_logf(ctx, EVK_LOG_WARNING, "precision: could not keep the measurement in %s: %s",
                 path, ctx->error);
}

/* ---- The process's own memory of measurements, so that contexts created
 * one after another (tests, an application's restarts of a pipeline) without
 * a pipeline cache file measure once. */

typedef struct measured_device {
    uint32_t vendor_id, device_id, driver_version;
    double ms[4];
} measured_device;

enum { MEASURED_DEVICES = 8 };
static measured_device measured[MEASURED_DEVICES];
static unsigned measured_count;
static atomic_flag measured_lock = ATOMIC_FLAG_INIT;

static void lock_measured(int lock)
{
    if (!lock) {
        atomic_flag_clear_explicit(&measured_lock, memory_order_release);
        return;
    }
    while (atomic_flag_test_and_set_explicit(&measured_lock, memory_order_acquire))
        ;
}

static int same_device(const measured_device *m, const evk_device_properties *d)
{
    return m->vendor_id == d->vendor_id && m->device_id == d->device_id &&
           m->driver_version == d->driver_version;
}

static int recall(const evk_context *ctx, evk_precision widest, double *ms)
{
    int found = 0;
    lock_measured(1);
    for (unsigned i = 0; i < measured_count && !found; ++i)
        if (same_device(&measured[i], &ctx->props) && measured[i].ms[widest] > 0.0) {
            memcpy(ms, measured[i].ms, sizeof measured[i].ms);
            found = 1;
        }
    lock_measured(0);
    return found;
}

static void remember(const evk_context *ctx, const double *ms)
{
    lock_measured(1);
    unsigned slot = measured_count < MEASURED_DEVICES ? measured_count++ : MEASURED_DEVICES - 1;
    for (unsigned i = 0; i < measured_count; ++i)
        if (same_device(&measured[i], &ctx->props))
            slot = i;
    measured[slot] = (measured_device){ctx->props.vendor_id, ctx->props.device_id,
                                       ctx->props.driver_version, {0}};
    memcpy(measured[slot].ms, ms, sizeof measured[slot].ms);
    lock_measured(0);
}

static evk_status choose_auto(evk_context *ctx, evk_precision widest)
{
    evk_precision_choice *c = &ctx->precision;
    char path[4096];
    int have_path = kept_path(ctx, path, sizeof path);
    int in_file = have_path && read_kept(ctx, path, widest, c->measured_ms);
    c->kept = in_file || recall(ctx, widest, c->measured_ms);
    if (!c->kept) {
        evk_status s = measure(ctx, widest, c->measured_ms);
        if (s != EVK_SUCCESS)
            return s;
        remember(ctx, c->measured_ms);
    }
    if (have_path && !in_file)
        write_kept(ctx, path, c->measured_ms);
    c->chosen = fastest(c->measured_ms, widest);
    int n = snprintf(c->reason, sizeof c->reason, "fastest of");
    for (int p = EVK_PRECISION_FP32; p <= (int)widest && n > 0 && (size_t)n < sizeof c->reason; ++p)
        n += snprintf(c->reason + n, sizeof c->reason - (size_t)n, "%s %s %.3f ms", p > 1 ? "," : "",
                      evk_precision_name((evk_precision)p), c->measured_ms[p]);
    if (n > 0 && (size_t)n < sizeof c->reason)
        snprintf(c->reason + n, sizeof c->reason - (size_t)n, " per 1x1 convolution%s (16-bit "
                 "taken only when 10%% faster)", c->kept ? ", from an earlier measurement" : "");
    return EVK_SUCCESS;
}

evk_status evk_precision_choose(evk_context *ctx, const evk_context_desc *desc)
{
    evk_precision_choice *c = &ctx->precision;
    int from_env;
    memset(c, 0, sizeof *c);
    c->requested = requested_precision(desc, &from_env);
    const char *why;
    evk_precision widest = device_widest(ctx, &why);
    evk_precision cap = ctx->profile.precision_cap;
    if (c->requested != EVK_PRECISION_AUTO) {
        if (c->requested > widest)
            return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "precision %s: %s (device \"%s\")",
                            evk_precision_name(c->requested), why, ctx->props.name);
        if (c->requested > cap)
            evk_logf(ctx, EVK_LOG_WARNING, "precision %s on \"%s\" (%s), whose 16-bit results "
                     "the device profile distrusts beyond %s", evk_precision_name(c->requested),
                     ctx->props.name, ctx->props.driver_info, evk_precision_name(cap));
        c->chosen = c->requested;
        snprintf(c->reason, sizeof c->reason, "as %s asks",
                 from_env ? "EFFVK_PRECISION" : "desc.precision");
        return EVK_SUCCESS;
    }
    if (widest == EVK_PRECISION_FP32) {
        c->chosen = EVK_PRECISION_FP32;
        snprintf(c->reason, sizeof c->reason, "%s", why);
        return EVK_SUCCESS;
    }
    if (cap == EVK_PRECISION_FP32) {
        evk_precision table_cap;
        const char *distrust = evk_precision_cap_for(&ctx->props, &table_cap);
        c->chosen = EVK_PRECISION_FP32;
        snprintf(c->reason, sizeof c->reason, "%s", distrust && table_cap == cap
                 ? distrust : "desc.profile caps the precision at fp32");
        return EVK_SUCCESS;
    }
    evk_status s = choose_auto(ctx, widest < cap ? widest : cap);
    if (s == EVK_SUCCESS)
        evk_logf(ctx, EVK_LOG_INFO, "precision %s: %s", evk_precision_name(c->chosen), c->reason);
    return s;
}

static evk_status context_precision_entered(const evk_context *ctx, evk_precision_choice *out)
{
    if (!ctx || !out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_context_precision: ctx or out is "
                        "NULL");
    *out = ctx->precision;
    return EVK_SUCCESS;
}

evk_status evk_context_precision(const evk_context *ctx, evk_precision_choice *out)
{
    EVK_ENTERED((evk_context *)ctx, context_precision_entered(ctx, out));
}
