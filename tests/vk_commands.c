#include "vk_commands.h"

void tu_vulkan_of_context(evk_context *ctx, tu_vulkan *out)
{
    evk_external_vulkan handles;
    assert_int_equal(evk_context_vulkan(ctx, &handles), EVK_SUCCESS);
    out->physical_device = (VkPhysicalDevice)handles.physical_device;
    out->device = (VkDevice)handles.device;
    out->queue = (VkQueue)handles.queue;
    out->family = handles.queue_family_index;
    volkLoadDeviceTable(&out->vk, out->device);
}

tu_host_buffer tu_host_buffer_create(const tu_vulkan *v, VkDeviceSize bytes,
                                     VkBufferUsageFlags usage)
{
    tu_host_buffer b = {0};
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = bytes,
                               .usage = usage,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    assert_int_equal(v->vk.vkCreateBuffer(v->device, &info, NULL, &b.buffer), VK_SUCCESS);
    VkMemoryRequirements req;
    v->vk.vkGetBufferMemoryRequirements(v->device, b.buffer, &req);
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(v->physical_device, &mem);
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = 0;
    while (type < mem.memoryTypeCount &&
           !((req.memoryTypeBits >> type & 1u) &&
             (mem.memoryTypes[type].propertyFlags & want) == want))
        ++type;
    assert_true(type < mem.memoryTypeCount);
    VkMemoryAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = req.size,
                                  .memoryTypeIndex = type};
    assert_int_equal(v->vk.vkAllocateMemory(v->device, &alloc, NULL, &b.memory), VK_SUCCESS);
    assert_int_equal(v->vk.vkBindBufferMemory(v->device, b.buffer, b.memory, 0), VK_SUCCESS);
    assert_int_equal(v->vk.vkMapMemory(v->device, b.memory, 0, VK_WHOLE_SIZE, 0, &b.mapped),
                     VK_SUCCESS);
    return b;
}

void tu_host_buffer_destroy(const tu_vulkan *v, tu_host_buffer *b)
{
    v->vk.vkDestroyBuffer(v->device, b->buffer, NULL);
    v->vk.vkFreeMemory(v->device, b->memory, NULL);
}

VkCommandBuffer tu_commands_begin(const tu_vulkan *v, VkCommandPool *pool)
{
    VkCommandPoolCreateInfo pool_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                         .queueFamilyIndex = v->family};
    assert_int_equal(v->vk.vkCreateCommandPool(v->device, &pool_info, NULL, pool), VK_SUCCESS);
    VkCommandBufferAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                         .commandPool = *pool,
                                         .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                         .commandBufferCount = 1};
    VkCommandBuffer buffer;
    assert_int_equal(v->vk.vkAllocateCommandBuffers(v->device, &alloc, &buffer), VK_SUCCESS);
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO,
                                      .flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT};
    assert_int_equal(v->vk.vkBeginCommandBuffer(buffer, &begin), VK_SUCCESS);
    return buffer;
}

void tu_commands_barrier_to_host(const tu_vulkan *v, VkCommandBuffer buffer)
{
    VkMemoryBarrier barrier = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT | VK_ACCESS_TRANSFER_READ_BIT};
    v->vk.vkCmdPipelineBarrier(buffer, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT,
                               VK_PIPELINE_STAGE_HOST_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT, 0, 1,
                               &barrier, 0, NULL, 0, NULL);
}

void tu_commands_submit(const tu_vulkan *v, VkCommandBuffer buffer)
{
    assert_int_equal(v->vk.vkEndCommandBuffer(buffer), VK_SUCCESS);
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    assert_int_equal(v->vk.vkCreateFence(v->device, &fence_info, NULL, &fence), VK_SUCCESS);
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &buffer};
    assert_int_equal(v->vk.vkQueueSubmit(v->queue, 1, &submit, fence), VK_SUCCESS);
    assert_int_equal(v->vk.vkWaitForFences(v->device, 1, &fence, VK_TRUE, UINT64_MAX),
                     VK_SUCCESS);
    v->vk.vkDestroyFence(v->device, fence, NULL);
}
