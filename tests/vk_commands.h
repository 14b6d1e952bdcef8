/* Vulkan for the tests that play the application: a device's function
 * table and queue, command buffers they record effvk's work into, and
 * host-visible buffers they hand to effvk. */
#ifndef EFFVK_TEST_VK_COMMANDS_H
#define EFFVK_TEST_VK_COMMANDS_H

#include "test_util.h"
#include "volk.h"

typedef struct tu_vulkan {
    struct VolkDeviceTable vk;
    VkPhysicalDevice physical_device;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
} tu_vulkan;

/* The objects a context works with (its own device, or the adopted one). */
void tu_vulkan_of_context(evk_context *ctx, tu_vulkan *out);

typedef struct tu_host_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    void *mapped;                   /* host-visible and coherent, mapped whole */
} tu_host_buffer;

tu_host_buffer tu_host_buffer_create(const tu_vulkan *v, VkDeviceSize bytes,
                                     VkBufferUsageFlags usage);
void tu_host_buffer_destroy(const tu_vulkan *v, tu_host_buffer *b);

/* A primary command buffer in the recording state, from `*pool` (created
 * here, of the queue's family; the caller destroys it). */
VkCommandBuffer tu_commands_begin(const tu_vulkan *v, VkCommandPool *pool);
/* A barrier from compute-shader writes to host and transfer reads. */
void tu_commands_barrier_to_host(const tu_vulkan *v, VkCommandBuffer buffer);
/* Ends, submits and waits for the command buffer. */
void tu_commands_submit(const tu_vulkan *v, VkCommandBuffer buffer);

#endif
