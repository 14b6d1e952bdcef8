#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "context.h"
#include "context_entry.h"
#include "status.h"

static _Thread_local char thread_error[EVK_ERROR_MESSAGE_BYTES];

const char *evk_status_string(evk_status status)
{
    switch (status) {
    case EVK_SUCCESS: return "EVK_SUCCESS";
    case EVK_ERROR_INVALID_ARGUMENT: return "EVK_ERROR_INVALID_ARGUMENT";
    case EVK_ERROR_SHAPE_MISMATCH: return "EVK_ERROR_SHAPE_MISMATCH";
    case EVK_ERROR_OUT_OF_HOST_MEMORY: return "EVK_ERROR_OUT_OF_HOST_MEMORY";
    case EVK_ERROR_OUT_OF_DEVICE_MEMORY: return "EVK_ERROR_OUT_OF_DEVICE_MEMORY";
    case EVK_ERROR_LIMIT_EXCEEDED: return "EVK_ERROR_LIMIT_EXCEEDED";
    case EVK_ERROR_NO_DEVICE: return "EVK_ERROR_NO_DEVICE";
    case EVK_ERROR_UNSUPPORTED: return "EVK_ERROR_UNSUPPORTED";
    case EVK_ERROR_VULKAN: return "EVK_ERROR_VULKAN";
    case EVK_ERROR_DEVICE_LOST: return "EVK_ERROR_DEVICE_LOST";
    case EVK_ERROR_IO: return "EVK_ERROR_IO";
    case EVK_ERROR_BUSY: return "EVK_ERROR_BUSY";
    case EVK_NOT_READY: return "EVK_NOT_READY";
    }
    return "EVK_ERROR_UNKNOWN_STATUS";
}

/* A thread refused entry to `ctx` finds its message in its own buffer: the
 * context's belongs to the thread inside it. */
const char *evk_last_error(const evk_context *ctx)
{
    return ctx && !evk_context_refused_here(ctx) ? ctx->error : thread_error;
}

static void emit_log(evk_context *ctx, evk_log_level level, const char *message)
{
    if (ctx && ctx->log)
        ctx->log(level, message, ctx->log_user_data);
}

void evk_logf(evk_context *ctx, evk_log_level level, const char *fmt, ...)
{
    if (!ctx || !ctx->log)
        return;
    char message[EVK_ERROR_MESSAGE_BYTES];
    va_list args;
    va_start(args, fmt);
    vsnprintf(message, sizeof message, fmt, args);
    va_end(args);
    emit_log(ctx, level, message);
}

static void format_message(char *dst, evk_status status, const char *fmt, va_list args)
{
    int used = snprintf(dst, EVK_ERROR_MESSAGE_BYTES, "%s: ", evk_status_string(status));
    vsnprintf(dst + used, EVK_ERROR_MESSAGE_BYTES - (size_t)used, fmt, args);
}

evk_status evk_fail(evk_context *ctx, evk_status status, const char *fmt, ...)
{
    char *dst = ctx ? ctx->error : thread_error;
    va_list args;
    va_start(args, fmt);
    format_message(dst, status, fmt, args);
    va_end(args);
    if (ctx)
        evk_context_forget_refusal(ctx);
    emit_log(ctx, EVK_LOG_ERROR, dst);
    return status;
}

void evk_set_thread_error_f(evk_status status, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    format_message(thread_error, status, fmt, args);
    va_end(args);
}

void evk_set_thread_error(const char *message)
{
    snprintf(thread_error, sizeof thread_error, "%s", message);
}

void evk_clear_error(evk_context *ctx)
{
    if (ctx) {
        ctx->error[0] = '\0';
        evk_context_forget_refusal(ctx);
    } else {
        thread_error[0] = '\0';
    }
}

const char *evk_vk_result_name(VkResult result)
{
    switch (result) {
#define EVK_VK_NAME(r) case r: return #r;
    EVK_VK_NAME(VK_SUCCESS)
    EVK_VK_NAME(VK_NOT_READY)
    EVK_VK_NAME(VK_TIMEOUT)
    EVK_VK_NAME(VK_INCOMPLETE)
    EVK_VK_NAME(VK_ERROR_OUT_OF_HOST_MEMORY)
    EVK_VK_NAME(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    EVK_VK_NAME(VK_ERROR_INITIALIZATION_FAILED)
    EVK_VK_NAME(VK_ERROR_DEVICE_LOST)
    EVK_VK_NAME(VK_ERROR_MEMORY_MAP_FAILED)
    EVK_VK_NAME(VK_ERROR_LAYER_NOT_PRESENT)
    EVK_VK_NAME(VK_ERROR_EXTENSION_NOT_PRESENT)
    EVK_VK_NAME(VK_ERROR_FEATURE_NOT_PRESENT)
    EVK_VK_NAME(VK_ERROR_INCOMPATIBLE_DRIVER)
    EVK_VK_NAME(VK_ERROR_TOO_MANY_OBJECTS)
    EVK_VK_NAME(VK_ERROR_FORMAT_NOT_SUPPORTED)
    EVK_VK_NAME(VK_ERROR_FRAGMENTED_POOL)
    EVK_VK_NAME(VK_ERROR_OUT_OF_POOL_MEMORY)
    EVK_VK_NAME(VK_ERROR_INVALID_SHADER_NV)
#undef EVK_VK_NAME
    default: return "VkResult(unknown)";
    }
}

evk_status evk_status_from_vk(VkResult result)
{
    switch (result) {
    case VK_SUCCESS: return EVK_SUCCESS;
    case VK_ERROR_OUT_OF_HOST_MEMORY: return EVK_ERROR_OUT_OF_HOST_MEMORY;
    case VK_ERROR_OUT_OF_DEVICE_MEMORY: return EVK_ERROR_OUT_OF_DEVICE_MEMORY;
    case VK_ERROR_DEVICE_LOST: return EVK_ERROR_DEVICE_LOST;
    case VK_ERROR_INCOMPATIBLE_DRIVER: return EVK_ERROR_NO_DEVICE;
    case VK_ERROR_LAYER_NOT_PRESENT:
    case VK_ERROR_EXTENSION_NOT_PRESENT:
    case VK_ERROR_FEATURE_NOT_PRESENT: return EVK_ERROR_UNSUPPORTED;
    default: return EVK_ERROR_VULKAN;
    }
}

evk_status evk_fail_vk(evk_context *ctx, VkResult result, const char *what)
{
    return evk_fail(ctx, evk_status_from_vk(result), "%s failed with %s (%d)", what,
                    evk_vk_result_name(result), (int)result);
}

evk_status evk_fail_oom(evk_context *ctx, const char *what)
{
    return evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "host allocation failed: %s", what);
}
