#include <string.h>

#include "run.h"
#include "context.h"
#include "context_entry.h"
#include "handles.h"

enum { MAX_SYNC_SEMAPHORES = 16 };

static evk_status check_sync(evk_context *ctx, const evk_submit_sync *sync)
{
    if (!sync)
        return EVK_SUCCESS;
    if (sync->wait_count > MAX_SYNC_SEMAPHORES || sync->signal_count > MAX_SYNC_SEMAPHORES)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_submit_sync: %u waits and %u signals; at most %u each",
                        sync->wait_count, sync->signal_count, MAX_SYNC_SEMAPHORES);
    if ((sync->wait_count && !sync->wait_semaphores) ||
        (sync->signal_count && !sync->signal_semaphores))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_submit_sync: a semaphore array is NULL with a count");
    for (uint32_t i = 0; i < sync->wait_count; ++i)
        if (!sync->wait_semaphores[i])
            return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "evk_submit_sync: wait_semaphores[%u] is NULL", i);
    for (uint32_t i = 0; i < sync->signal_count; ++i)
        if (!sync->signal_semaphores[i])
            return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT,
                            "evk_submit_sync: signal_semaphores[%u] is NULL", i);
    if ((sync->wait_values || sync->signal_values) && !ctx->props.timeline_semaphores)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED,
                        "evk_submit_sync: timeline values given, but \"%s\" has no timeline "
                        "semaphores", ctx->props.name);
    return EVK_SUCCESS;
}

evk_status evk_queue_submit(evk_context *ctx, VkCommandBuffer buffer, const evk_submit_sync *sync,
                            VkFence fence)
{
    evk_status s = check_sync(ctx, sync);
    if (s != EVK_SUCCESS)
        return s;
    static const evk_submit_sync none;
    if (!sync)
        sync = &none;
    VkSemaphore waits[MAX_SYNC_SEMAPHORES], signals[MAX_SYNC_SEMAPHORES];
    VkPipelineStageFlags stages[MAX_SYNC_SEMAPHORES];
    for (uint32_t i = 0; i < sync->wait_count; ++i) {
        waits[i] = EVK_HANDLE_FROM_U64(VkSemaphore, sync->wait_semaphores[i]);
        stages[i] = sync->wait_stages ? sync->wait_stages[i] : VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT;
    }
    for (uint32_t i = 0; i < sync->signal_count; ++i)
        signals[i] = EVK_HANDLE_FROM_U64(VkSemaphore, sync->signal_semaphores[i]);
    VkTimelineSemaphoreSubmitInfo values = {
        .sType = VK_STRUCTURE_TYPE_TIMELINE_SEMAPHORE_SUBMIT_INFO,
        .waitSemaphoreValueCount = sync->wait_values ? sync->wait_count : 0,
        .pWaitSemaphoreValues = sync->wait_values,
        .signalSemaphoreValueCount = sync->signal_values ? sync->signal_count : 0,
        .pSignalSemaphoreValues = sync->signal_values};
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .pNext = sync->wait_values || sync->signal_values ? &values : NULL,
                           .waitSemaphoreCount = sync->wait_count,
                           .pWaitSemaphores = waits,
                           .pWaitDstStageMask = stages,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &buffer,
                           .signalSemaphoreCount = sync->signal_count,
                           .pSignalSemaphores = signals};
    if (ctx->queue_lock)
        ctx->queue_lock(1, ctx->queue_lock_user_data);
    VkResult r = ctx->vk.vkQueueSubmit(ctx->queue, 1, &submit, fence);
    if (ctx->queue_lock)
        ctx->queue_lock(0, ctx->queue_lock_user_data);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkQueueSubmit");
    ctx->stats.submits++;
    return EVK_SUCCESS;
}

evk_status evk_run_create(evk_context *ctx, const void *owner, evk_run **out)
{
    evk_run *run = evk_calloc(ctx, 1, sizeof *run);
    if (!run)
        return evk_fail_oom(ctx, "run");
    VkFenceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkResult r = ctx->vk.vkCreateFence(ctx->device, &info, NULL, &run->fence);
    if (r != VK_SUCCESS) {
        evk_free(ctx, run);
        return evk_fail_vk(ctx, r, "vkCreateFence");
    }
    run->ctx = ctx;
    run->owner = owner;
    run->next = ctx->runs;
    if (ctx->runs)
        ctx->runs->prev = run;
    ctx->runs = run;
    *out = run;
    return EVK_SUCCESS;
}

void evk_run_free(evk_run *run)
{
    evk_context *ctx = run->ctx;
    if (run->prev)
        run->prev->next = run->next;
    else
        ctx->runs = run->next;
    if (run->next)
        run->next->prev = run->prev;
    evk_recording_destroy(ctx, &run->own);
    ctx->vk.vkDestroyFence(ctx->device, run->fence, NULL);
    evk_free(ctx, run);
}

/* A fence that never signals (a lost device) ends the wait with an error
 * instead of a hang only where the driver reports the loss. */
static VkResult wait_fence(const evk_run *run, uint64_t timeout_ns)
{
    return run->ctx->vk.vkWaitForFences(run->ctx->device, 1, &run->fence, VK_TRUE, timeout_ns);
}

evk_status evk_runs_wait_for(evk_context *ctx, const void *owner)
{
    for (evk_run *run = ctx->runs; run; run = run->next) {
        if (run->owner != owner)
            continue;
        VkResult r = wait_fence(run, UINT64_MAX);
        if (r != VK_SUCCESS)
            return evk_fail_vk(ctx, r, "vkWaitForFences (a run in flight)");
    }
    return EVK_SUCCESS;
}

void evk_runs_forget(evk_context *ctx, const void *owner)
{
    for (evk_run *run = ctx->runs; run; run = run->next)
        if (run->owner == owner)
            run->owner = NULL;
}

void evk_runs_destroy_all(evk_context *ctx)
{
    while (ctx->runs) {
        wait_fence(ctx->runs, UINT64_MAX);
        evk_run_free(ctx->runs);
    }
}

static evk_status run_status(VkResult r)
{
    if (r == VK_SUCCESS)
        return EVK_SUCCESS;
    if (r == VK_TIMEOUT || r == VK_NOT_READY)
        return EVK_NOT_READY;
    return r == VK_ERROR_DEVICE_LOST ? EVK_ERROR_DEVICE_LOST : EVK_ERROR_VULKAN;
}

evk_status evk_run_poll(const evk_run *run)
{
    if (!run)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_run_poll: run is NULL");
    return run_status(run->ctx->vk.vkGetFenceStatus(run->ctx->device, run->fence));
}

evk_status evk_run_wait(const evk_run *run, uint64_t timeout_ns)
{
    if (!run)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_run_wait: run is NULL");
    return run_status(wait_fence(run, timeout_ns));
}

static void run_release_entered(evk_run *run)
{
    wait_fence(run, UINT64_MAX);
    evk_run_free(run);
}

void evk_run_release(evk_run *run)
{
    if (run)
        EVK_ENTERED_VOID(run->ctx, run_release_entered(run));
}
