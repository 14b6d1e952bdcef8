#include <string.h>

#include "memory.h"

static int find_memory_type(const evk_context *ctx, uint32_t allowed, VkMemoryPropertyFlags want)
{
    for (uint32_t i = 0; i < ctx->memory.memoryTypeCount; ++i)
        if ((allowed & (1u << i)) && (ctx->memory.memoryTypes[i].propertyFlags & want) == want)
            return (int)i;
    return -1;
}

/* Tensors take memory that is both device-local and host-visible where the
 * profile says so (evk_device_profile.host_visible_tensors), avoiding every
 * staging copy; else plain device memory. */
static int choose_memory_type(const evk_context *ctx, uint32_t allowed, evk_buffer_kind kind)
{
    const VkMemoryPropertyFlags host = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                       VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    const VkMemoryPropertyFlags local = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
    int t = -1;
    if (kind == EVK_BUFFER_STAGING) {
        t = find_memory_type(ctx, allowed, host | VK_MEMORY_PROPERTY_HOST_CACHED_BIT);
        return t >= 0 ? t : find_memory_type(ctx, allowed, host);
    }
    if (ctx->profile.host_visible_tensors == EVK_SWITCH_ON && !ctx->force_staging)
        t = find_memory_type(ctx, allowed, local | host);
    if (t < 0)
        t = find_memory_type(ctx, allowed, local);
    return t >= 0 ? t : find_memory_type(ctx, allowed, 0);
}

static evk_status check_size(evk_context *ctx, VkDeviceSize bytes, const char *what)
{
    uint64_t limit = ctx->profile.limits.buffer_bytes;
    if (bytes == 0)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: zero-byte buffer", what);
    if (bytes > limit)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                        "%s: %llu bytes exceed the device's buffer limit of %llu bytes "
                        "(maxStorageBufferRange %u, maxMemoryAllocationSize %llu)",
                        what, (unsigned long long)bytes, (unsigned long long)limit,
                        ctx->props.max_storage_buffer_range,
                        (unsigned long long)ctx->props.max_memory_allocation_bytes);
    return EVK_SUCCESS;
}

static evk_status allocate_memory(evk_context *ctx, evk_buffer *b, evk_buffer_kind kind,
                                  const char *what)
{
    VkMemoryRequirements req;
    ctx->vk.vkGetBufferMemoryRequirements(ctx->device, b->buffer, &req);
    int type = choose_memory_type(ctx, req.memoryTypeBits, kind);
    if (type < 0)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "%s: no suitable memory type", what);
    uint32_t heap = ctx->memory.memoryTypes[type].heapIndex;
    if (req.size > ctx->memory.memoryHeaps[heap].size)
        return evk_fail(ctx, EVK_ERROR_OUT_OF_DEVICE_MEMORY, "%s: %llu bytes exceed memory heap %u "
                        "(%llu bytes)", what, (unsigned long long)req.size, heap,
                        (unsigned long long)ctx->memory.memoryHeaps[heap].size);
    VkMemoryAllocateInfo info = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                 .allocationSize = req.size,
                                 .memoryTypeIndex = (uint32_t)type};
    VkResult r = ctx->vk.vkAllocateMemory(ctx->device, &info, NULL, &b->memory);
    if (r != VK_SUCCESS)
        return evk_fail(ctx, evk_status_from_vk(r), "%s: vkAllocateMemory of %llu bytes failed "
                        "with %s", what, (unsigned long long)req.size, evk_vk_result_name(r));
    r = ctx->vk.vkBindBufferMemory(ctx->device, b->buffer, b->memory, 0);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkBindBufferMemory");
    VkMemoryPropertyFlags flags = ctx->memory.memoryTypes[type].propertyFlags;
    int mappable = (flags & VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT) &&
                   (flags & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT);
    if (mappable && (kind == EVK_BUFFER_STAGING || !ctx->force_staging)) {
        r = ctx->vk.vkMapMemory(ctx->device, b->memory, 0, VK_WHOLE_SIZE, 0, &b->mapped);
        if (r != VK_SUCCESS)
            return evk_fail_vk(ctx, r, "vkMapMemory");
    }
    b->allocated = req.size;
    ctx->stats.device_bytes_allocated += req.size;
    return EVK_SUCCESS;
}

evk_status evk_buffer_create(evk_context *ctx, VkDeviceSize bytes, evk_buffer_kind kind,
                             const char *what, evk_buffer *out)
{
    memset(out, 0, sizeof *out);
    evk_status s = check_size(ctx, bytes, what);
    if (s != EVK_SUCCESS)
        return s;
    VkBufferUsageFlags usage = VK_BUFFER_USAGE_TRANSFER_SRC_BIT | VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    if (kind == EVK_BUFFER_DEVICE)
        usage |= VK_BUFFER_USAGE_STORAGE_BUFFER_BIT | VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT;
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = bytes,
                               .usage = usage,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkResult r = ctx->vk.vkCreateBuffer(ctx->device, &info, NULL, &out->buffer);
    if (r != VK_SUCCESS)
        return evk_fail(ctx, evk_status_from_vk(r), "%s: vkCreateBuffer of %llu bytes failed with %s",
                        what, (unsigned long long)bytes, evk_vk_result_name(r));
    out->bytes = bytes;
    out->usage = usage;
    out->serial = ++ctx->buffer_serial;
    s = allocate_memory(ctx, out, kind, what);
    if (s != EVK_SUCCESS)
        evk_buffer_destroy(ctx, out);
    return s;
}

void evk_buffer_destroy(evk_context *ctx, evk_buffer *b)
{
    if (b->buffer && !b->borrowed)
        ctx->vk.vkDestroyBuffer(ctx->device, b->buffer, NULL);
    if (b->memory)
        ctx->vk.vkFreeMemory(ctx->device, b->memory, NULL);
    ctx->stats.device_bytes_allocated -= b->allocated;
    memset(b, 0, sizeof *b);
}

static evk_status copy_and_wait(evk_context *ctx, const evk_buffer *src, const evk_buffer *dst)
{
    VkBufferUsageFlags needed = 0;
    if (!(src->usage & VK_BUFFER_USAGE_TRANSFER_SRC_BIT))
        needed = VK_BUFFER_USAGE_TRANSFER_SRC_BIT;
    if (!(dst->usage & VK_BUFFER_USAGE_TRANSFER_DST_BIT))
        needed = VK_BUFFER_USAGE_TRANSFER_DST_BIT;
    if (needed)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "the application's buffer of this tensor "
                        "lacks %s, which a copy from the host (or to it) needs",
                        needed == VK_BUFFER_USAGE_TRANSFER_SRC_BIT ? "VK_BUFFER_USAGE_TRANSFER_SRC_BIT"
                                                                   : "VK_BUFFER_USAGE_TRANSFER_DST_BIT");
    evk_status s = evk_command_begin(ctx);
    if (s != EVK_SUCCESS)
        return s;
    evk_command_copy(ctx, src->buffer, src->offset, dst->buffer, dst->offset, dst->bytes);
    return evk_command_submit_wait(ctx);
}

/* Points `access` at the buffer's mapping, or at a new staging buffer of the
 * same size when the buffer is not host-visible. */
static evk_status begin_host_access(evk_context *ctx, const evk_buffer *buffer,
                                    evk_host_access *access)
{
    memset(access, 0, sizeof *access);
    if (buffer->mapped) {
        access->ptr = buffer->mapped;
        return EVK_SUCCESS;
    }
    evk_status s = evk_buffer_create(ctx, buffer->bytes, EVK_BUFFER_STAGING, "staging buffer",
                                     &access->staging);
    access->ptr = access->staging.mapped;
    return s;
}

evk_status evk_buffer_begin_write(evk_context *ctx, evk_buffer *buffer, evk_host_access *access)
{
    return begin_host_access(ctx, buffer, access);
}

evk_status evk_buffer_end_write(evk_context *ctx, evk_buffer *buffer, evk_host_access *access)
{
    evk_status s = EVK_SUCCESS;
    if (access->staging.buffer)
        s = copy_and_wait(ctx, &access->staging, buffer);
    evk_buffer_destroy(ctx, &access->staging);
    return s;
}

evk_status evk_buffer_begin_read(evk_context *ctx, const evk_buffer *buffer, evk_host_access *access)
{
    evk_status s = begin_host_access(ctx, buffer, access);
    if (s == EVK_SUCCESS && access->staging.buffer)
        s = copy_and_wait(ctx, buffer, &access->staging);
    if (s != EVK_SUCCESS)
        evk_buffer_destroy(ctx, &access->staging);
    return s;
}

void evk_buffer_end_read(evk_context *ctx, evk_host_access *access)
{
    evk_buffer_destroy(ctx, &access->staging);
}

evk_status evk_buffer_create_with_data(evk_context *ctx, const void *data, VkDeviceSize bytes,
                                       const char *what, evk_buffer *out)
{
    evk_status s = evk_buffer_create(ctx, bytes, EVK_BUFFER_DEVICE, what, out);
    if (s != EVK_SUCCESS)
        return s;
    evk_host_access access;
    s = evk_buffer_begin_write(ctx, out, &access);
    if (s == EVK_SUCCESS) {
        memcpy(access.ptr, data, (size_t)bytes);
        s = evk_buffer_end_write(ctx, out, &access);
    }
    if (s != EVK_SUCCESS)
        evk_buffer_destroy(ctx, out);
    return s;
}
