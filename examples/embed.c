/* Embedding effvk in an application that has its own Vulkan device (the
 * README's "Embedding in an application"): the application's instance,
 * device and queue adopted with a queue lock; its own buffers as the input
 * and output tensors (zero-copy, in effvk's packed layout); a 3x3 conv
 * recorded into the application's command buffer between its own commands;
 * then the same conv submitted asynchronously, signalling a timeline
 * semaphore the application waits for. Checks the output against plain C
 * and prints the largest error. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

#include <effvk/effvk.h>

enum { C_IN = 3, C_OUT = 5, H = 17, W = 23, K = 3 };

typedef struct app {
    VkInstance instance;
    VkPhysicalDevice gpu;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    int timeline;
    pthread_mutex_t queue_mutex;    /* the application also submits to the queue */
} app;

typedef struct app_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    float *data;
} app_buffer;

#define CHECK(call)                                                              \
    do {                                                                         \
        if ((call) != VK_SUCCESS) {                                              \
            fprintf(stderr, "embed: %s failed\n", #call);                        \
            exit(1);                                                             \
        }                                                                        \
    } while (0)

static void lock_queue(int lock, void *user)
{
    app *a = user;
    if (lock)
        pthread_mutex_lock(&a->queue_mutex);
    else
        pthread_mutex_unlock(&a->queue_mutex);
}

static void create_app(app *a)
{
    VkApplicationInfo info = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                              .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo ci = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                               .pApplicationInfo = &info};
    CHECK(vkCreateInstance(&ci, NULL, &a->instance));
    uint32_t count = 1;
    VkResult r = vkEnumeratePhysicalDevices(a->instance, &count, &a->gpu);
    if ((r != VK_SUCCESS && r != VK_INCOMPLETE) || count == 0) {
        fprintf(stderr, "embed: no Vulkan device\n");
        exit(1);
    }
    VkQueueFamilyProperties families[16];
    count = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(a->gpu, &count, families);
    for (a->family = 0; a->family < count; ++a->family)
        if (families[a->family].queueFlags & VK_QUEUE_COMPUTE_BIT)
            break;
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                          .pNext = &timeline};
    vkGetPhysicalDeviceFeatures2(a->gpu, &features);
    a->timeline = timeline.timelineSemaphore == VK_TRUE;
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = a->family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    VkDeviceCreateInfo dci = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                              .pNext = a->timeline ? &timeline : NULL,
                              .queueCreateInfoCount = 1,
                              .pQueueCreateInfos = &queue};
    CHECK(vkCreateDevice(a->gpu, &dci, NULL, &a->device));
    vkGetDeviceQueue(a->device, a->family, 0, &a->queue);
    pthread_mutex_init(&a->queue_mutex, NULL);
}

/* A host-visible buffer (a camera frame's, say) the kernels read and write
 * in place. */
static app_buffer create_buffer(app *a, VkDeviceSize bytes)
{
    app_buffer b;
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = bytes,
                               .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                        VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                                        VK_BUFFER_USAGE_TRANSFER_DST_BIT,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    CHECK(vkCreateBuffer(a->device, &info, NULL, &b.buffer));
    VkMemoryRequirements req;
    vkGetBufferMemoryRequirements(a->device, b.buffer, &req);
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(a->gpu, &mem);
    VkMemoryPropertyFlags want = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT |
                                 VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
    uint32_t type = 0;
    while (type < mem.memoryTypeCount && !((req.memoryTypeBits >> type & 1u) &&
                                           (mem.memoryTypes[type].propertyFlags & want) == want))
        ++type;
    VkMemoryAllocateInfo alloc = {.sType = VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO,
                                  .allocationSize = req.size,
                                  .memoryTypeIndex = type};
    CHECK(vkAllocateMemory(a->device, &alloc, NULL, &b.memory));
    CHECK(vkBindBufferMemory(a->device, b.buffer, b.memory, 0));
    void *p;
    CHECK(vkMapMemory(a->device, b.memory, 0, VK_WHOLE_SIZE, 0, &p));
    b.data = p;
    return b;
}

/* Element (n, c, h, w) of the packed layout (evk_tensor_buffer). */
static size_t packed(uint32_t c, uint32_t h, uint32_t w)
{
    return 4 * (((size_t)(c / 4) * H + h) * W + w) + c % 4;
}

static uint64_t handle(VkBuffer b)
{
#if VK_USE_64_BIT_PTR_DEFINES
    return (uint64_t)(uintptr_t)b;
#else
    return (uint64_t)b;
#endif
}

static evk_tensor *tensor_over(evk_context *ctx, const app_buffer *b, evk_shape shape)
{
    evk_external_buffer range = {handle(b->buffer), 0, evk_tensor_device_bytes(ctx, shape),
                                 VK_BUFFER_USAGE_STORAGE_BUFFER_BIT |
                                     VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT |
                                     VK_BUFFER_USAGE_TRANSFER_DST_BIT};
    evk_tensor *t = NULL;
    if (evk_tensor_create_external(ctx, shape, &range, &t) != EVK_SUCCESS) {
        fprintf(stderr, "embed: %s\n", evk_last_error(ctx));
        exit(1);
    }
    return t;
}

static float max_error(const float *weight, const float *x, const float *y)
{
    float worst = 0.0f;
    for (uint32_t o = 0; o < C_OUT; ++o)
        for (int h = 0; h < H; ++h)
            for (int w = 0; w < W; ++w) {
                double sum = 0.0;
                for (uint32_t i = 0; i < C_IN; ++i)
                    for (int ky = 0; ky < K; ++ky)
                        for (int kx = 0; kx < K; ++kx) {
                            int ih = h + ky - 1, iw = w + kx - 1;
                            if (ih >= 0 && ih < H && iw >= 0 && iw < W)
                                sum += (double)weight[((o * C_IN + i) * K + ky) * K + kx] *
                                       x[packed(i, (uint32_t)ih, (uint32_t)iw)];
                        }
                float want = sum > 0.0 ? (float)sum : 0.0f;
                float err = fabsf(y[packed(o, (uint32_t)h, (uint32_t)w)] - want);
                worst = err > worst ? err : worst;
            }
    return worst;
}

int main(void)
{
    app a;
    create_app(&a);
    evk_context_desc desc = {0};
    desc.external = (evk_external_vulkan){.instance = a.instance,
                                          .physical_device = a.gpu,
                                          .device = a.device,
                                          .queue = a.queue,
                                          .queue_family_index = a.family,
                                          .get_instance_proc_addr = (void *)vkGetInstanceProcAddr,
                                          .queue_lock = lock_queue,
                                          .queue_lock_user_data = &a};
    /* The buffers below are written and read as float32 by the host. */
    desc.precision = EVK_PRECISION_FP32;
    evk_context *ctx;
    if (evk_context_create(&desc, &ctx) != EVK_SUCCESS) {
        fprintf(stderr, "embed: %s\n", evk_last_error(NULL));
        return 1;
    }
    static float weight[C_OUT * C_IN * K * K];
    for (int i = 0; i < C_OUT * C_IN * K * K; ++i)
        weight[i] = (float)((i * 37) % 17) / 17.0f - 0.5f;
    evk_conv2d_desc conv = {.in_channels = C_IN, .out_channels = C_OUT, .kernel_h = K,
                            .kernel_w = K, .pad_h = 1, .pad_w = 1,
                            .activation = EVK_ACTIVATION_RELU, .weight = weight,
                            .weight_count = C_OUT * C_IN * K * K};
    evk_layer *layer;
    if (evk_conv2d_create(ctx, &conv, &layer) != EVK_SUCCESS) {
        fprintf(stderr, "embed: %s\n", evk_last_error(ctx));
        return 1;
    }
    evk_shape in_shape = {1, C_IN, H, W}, out_shape = {1, C_OUT, H, W};
    app_buffer in = create_buffer(&a, evk_tensor_device_bytes(ctx, in_shape));
    app_buffer out = create_buffer(&a, evk_tensor_device_bytes(ctx, out_shape));
    memset(in.data, 0, (size_t)evk_tensor_device_bytes(ctx, in_shape));
    for (uint32_t c = 0; c < C_IN; ++c)
        for (uint32_t h = 0; h < H; ++h)
            for (uint32_t w = 0; w < W; ++w)
                in.data[packed(c, h, w)] = (float)((c * 131 + h * 7 + w) % 23) / 23.0f;
    evk_tensor *x = tensor_over(ctx, &in, in_shape), *y = tensor_over(ctx, &out, out_shape);

    /* 1. Into the application's command buffer: its own clear of the output
     * (a transfer write, which effvk's leading barrier orders), effvk's conv,
     * its barrier before the host reads. */
    VkCommandPoolCreateInfo pool_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO,
                                         .queueFamilyIndex = a.family};
    VkCommandPool pool;
    CHECK(vkCreateCommandPool(a.device, &pool_info, NULL, &pool));
    VkCommandBufferAllocateInfo cb_info = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO,
                                           .commandPool = pool,
                                           .level = VK_COMMAND_BUFFER_LEVEL_PRIMARY,
                                           .commandBufferCount = 1};
    VkCommandBuffer cb;
    CHECK(vkAllocateCommandBuffers(a.device, &cb_info, &cb));
    VkCommandBufferBeginInfo begin = {.sType = VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    CHECK(vkBeginCommandBuffer(cb, &begin));
    vkCmdFillBuffer(cb, out.buffer, 0, VK_WHOLE_SIZE, 0);
    evk_recorded *recorded = NULL;
    if (evk_layer_record(layer, x, y, cb, &recorded) != EVK_SUCCESS) {
        fprintf(stderr, "embed: %s\n", evk_last_error(ctx));
        return 1;
    }
    VkMemoryBarrier to_host = {.sType = VK_STRUCTURE_TYPE_MEMORY_BARRIER,
                               .srcAccessMask = VK_ACCESS_SHADER_WRITE_BIT,
                               .dstAccessMask = VK_ACCESS_HOST_READ_BIT};
    vkCmdPipelineBarrier(cb, VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT, VK_PIPELINE_STAGE_HOST_BIT, 0,
                         1, &to_host, 0, NULL, 0, NULL);
    CHECK(vkEndCommandBuffer(cb));
    VkFenceCreateInfo fence_info = {.sType = VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
    VkFence fence;
    CHECK(vkCreateFence(a.device, &fence_info, NULL, &fence));
    VkSubmitInfo submit = {.sType = VK_STRUCTURE_TYPE_SUBMIT_INFO,
                           .commandBufferCount = 1,
                           .pCommandBuffers = &cb};
    lock_queue(1, &a);
    CHECK(vkQueueSubmit(a.queue, 1, &submit, fence));
    lock_queue(0, &a);
    CHECK(vkWaitForFences(a.device, 1, &fence, VK_TRUE, UINT64_MAX));
    evk_recorded_release(recorded);
    float recorded_error = max_error(weight, in.data, out.data);

    /* 2. Asynchronously, signalling a timeline semaphore (where the device
     * has them) that the application waits for, as it would before its
     * next frame used the output. */
    memset(out.data, 0, (size_t)evk_tensor_device_bytes(ctx, out_shape));
    VkSemaphoreTypeCreateInfo type = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_TYPE_CREATE_INFO,
                                      .semaphoreType = VK_SEMAPHORE_TYPE_TIMELINE};
    VkSemaphoreCreateInfo sem_info = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_CREATE_INFO,
                                      .pNext = &type};
    VkSemaphore done = VK_NULL_HANDLE;
    uint64_t done_u64 = 0, one = 1;
    evk_submit_sync sync = {0};
    if (a.timeline) {
        CHECK(vkCreateSemaphore(a.device, &sem_info, NULL, &done));
#if VK_USE_64_BIT_PTR_DEFINES
        done_u64 = (uint64_t)(uintptr_t)done;
#else
        done_u64 = (uint64_t)done;
#endif
        sync = (evk_submit_sync){.signal_count = 1, .signal_semaphores = &done_u64,
                                 .signal_values = &one};
    }
    evk_run *run;
    if (evk_layer_submit(layer, x, y, &sync, &run) != EVK_SUCCESS) {
        fprintf(stderr, "embed: %s\n", evk_last_error(ctx));
        return 1;
    }
    if (a.timeline) {
        VkSemaphoreWaitInfo wait = {.sType = VK_STRUCTURE_TYPE_SEMAPHORE_WAIT_INFO,
                                    .semaphoreCount = 1,
                                    .pSemaphores = &done,
                                    .pValues = &one};
        CHECK(vkWaitSemaphores(a.device, &wait, UINT64_MAX));
    }
    evk_status waited = evk_run_wait(run, UINT64_MAX);
    evk_run_release(run);
    float async_error = max_error(weight, in.data, out.data);

    printf("embed: recorded into the application's command buffer: max |error| %.3g; "
           "submitted asynchronously%s: max |error| %.3g\n", recorded_error,
           a.timeline ? " (timeline semaphore)" : "", async_error);
    evk_tensor_destroy(x);
    evk_tensor_destroy(y);
    evk_layer_destroy(layer);
    evk_context_destroy(ctx);
    if (done)
        vkDestroySemaphore(a.device, done, NULL);
    vkDestroyFence(a.device, fence, NULL);
    vkDestroyCommandPool(a.device, pool, NULL);
    vkDestroyBuffer(a.device, in.buffer, NULL);
    vkFreeMemory(a.device, in.memory, NULL);
    vkDestroyBuffer(a.device, out.buffer, NULL);
    vkFreeMemory(a.device, out.memory, NULL);
    vkDestroyDevice(a.device, NULL);
    vkDestroyInstance(a.instance, NULL);
    return waited == EVK_SUCCESS && recorded_error < 1e-4f && async_error < 1e-4f ? 0 : 1;
}
