/* The device's measured peak: an FMA loop and a vec4 copy, each repeated in
 * one submission until it runs long enough for timestamps to be precise. */
#include "tensor.h"
#include "pipeline.h"
#include "shader_bindings.h"
#include "shader_variant.h"
#include "context_entry.h"

#define PEAK_WORKGROUP 64
#define FMA_ITERATIONS 1024
#define FMA_INVOCATIONS (1u << 16)
#define COPY_BYTES ((VkDeviceSize)32 << 20)
#define TARGET_MS 25.0
#define MAX_REPEAT 4096

typedef struct peak_run {
    const evk_pipeline *pipeline;
    evk_binding bindings[2];
    uint32_t binding_count;
    const void *push;
    uint32_t push_bytes;
    uint64_t groups;
} peak_run;

static evk_status time_repeated(evk_context *ctx, const peak_run *run, uint32_t repeat, double *ms)
{
    evk_status s = evk_command_begin(ctx);
    for (uint32_t i = 0; s == EVK_SUCCESS && i < repeat; ++i)
        s = evk_command_dispatch_pipeline(ctx, run->pipeline, run->bindings, run->binding_count,
                                          run->push, run->push_bytes, run->groups);
    if (s != EVK_SUCCESS) {
        evk_command_abort(ctx);
        return s;
    }
    s = evk_command_submit_wait(ctx);
    if (s == EVK_SUCCESS && !ctx->have_gpu_time)
        s = evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "peak: the queue has no timestamps");
    *ms = ctx->last_gpu_ms;
    return s;
}

/* Grows the repeat count until one submission takes TARGET_MS, then keeps the
 * best of three; returns milliseconds per repetition. */
static evk_status best_ms_per_run(evk_context *ctx, const peak_run *run, double *ms_per_run)
{
    double ms = 0.0;
    uint32_t repeat = 1;
    evk_status s = time_repeated(ctx, run, 1, &ms);     /* warm-up: JIT on lavapipe */
    while (s == EVK_SUCCESS && repeat < MAX_REPEAT) {
        s = time_repeated(ctx, run, repeat, &ms);
        if (ms >= TARGET_MS)
            break;
        repeat *= 2;
    }
    double best = ms;
    for (int i = 0; s == EVK_SUCCESS && i < 2; ++i) {
        s = time_repeated(ctx, run, repeat, &ms);
        best = ms < best ? ms : best;
    }
    *ms_per_run = best / repeat;
    return s;
}

static evk_status measure_fma(evk_context *ctx, double *gflops)
{
    evk_buffer sink;
    evk_status s = evk_buffer_create(ctx, (VkDeviceSize)FMA_INVOCATIONS * 16, EVK_BUFFER_DEVICE,
                                     "peak sink", &sink);
    if (s != EVK_SUCCESS)
        return s;
    struct { uint32_t invocations; float seed; } push = {FMA_INVOCATIONS, 0.5f};
    evk_pipeline_key key = {.shader = "peak_fma", .workgroup_size = PEAK_WORKGROUP,
                            .spec = {FMA_ITERATIONS}, .spec_count = 1, .binding_count = 1,
                            .push_bytes = sizeof push, .precision_independent = 1};
    peak_run run = {.binding_count = 1, .push = &push, .push_bytes = sizeof push,
                    .groups = FMA_INVOCATIONS / PEAK_WORKGROUP};
    run.bindings[0] = (evk_binding){sink.buffer, 0, sink.bytes, 1, 0};
    evk_pipeline *pipeline;
    s = evk_pipeline_get(ctx, &key, &pipeline);
    double ms = 0.0;
    if (s == EVK_SUCCESS) {
        run.pipeline = pipeline;
        s = best_ms_per_run(ctx, &run, &ms);
    }
    evk_buffer_destroy(ctx, &sink);
    *gflops = s == EVK_SUCCESS ? (double)FMA_INVOCATIONS * FMA_ITERATIONS * 64.0 / (ms * 1e6) : 0.0;
    return s;
}

static evk_status measure_copy(evk_context *ctx, double *gbps)
{
    VkDeviceSize limit = ctx->profile.limits.buffer_bytes;
    VkDeviceSize bytes = COPY_BYTES < limit ? COPY_BYTES : limit;
    bytes &= ~(VkDeviceSize)15;
    evk_buffer src, dst;
    evk_status s = evk_buffer_create(ctx, bytes, EVK_BUFFER_DEVICE, "peak source", &src);
    if (s != EVK_SUCCESS)
        return s;
    s = evk_buffer_create(ctx, bytes, EVK_BUFFER_DEVICE, "peak destination", &dst);
    struct { uint32_t quads; } push = {(uint32_t)(bytes / 16)};
    evk_pipeline_key key = {.shader = "peak_copy", .workgroup_size = PEAK_WORKGROUP,
                            .binding_count = 2, .push_bytes = sizeof push,
                            .texel_bindings = EVK_BINDING_PEAK_COPY_SOURCE_TEXELS,
                            .precision_independent = 1};
    peak_run run = {.binding_count = 2, .push = &push, .push_bytes = sizeof push,
                    .groups = evk_div_up_u64(push.quads, PEAK_WORKGROUP)};
    run.bindings[0] = (evk_binding){src.buffer, 0, bytes, 0, 0};
    run.bindings[1] = (evk_binding){dst.buffer, 0, bytes, 1, 0};
    /* The copy reads the way the kernels read where that is faster. */
    if (s == EVK_SUCCESS)
        s = evk_choose_variant(ctx, &key, run.bindings);
    evk_pipeline *pipeline;
    if (s == EVK_SUCCESS)
        s = evk_pipeline_get(ctx, &key, &pipeline);
    double ms = 0.0;
    if (s == EVK_SUCCESS) {
        run.pipeline = pipeline;
        s = best_ms_per_run(ctx, &run, &ms);
    }
    evk_buffer_destroy(ctx, &src);
    evk_buffer_destroy(ctx, &dst);
    *gbps = s == EVK_SUCCESS ? 2.0 * (double)bytes / (ms * 1e6) : 0.0;
    return s;
}

static evk_status measure_peak_entered(evk_context *ctx, evk_peak *out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "peak: ctx or out is NULL");
    evk_status s = measure_fma(ctx, &out->fma_gflops);
    if (s == EVK_SUCCESS)
        s = measure_copy(ctx, &out->copy_gbps);
    return s;
}

evk_status evk_measure_peak(evk_context *ctx, evk_peak *out)
{
    EVK_ENTERED(ctx, measure_peak_entered(ctx, out));
}
