#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "context_entry.h"
#include "device.h"
#include "driver_pin.h"
#include "limits_profile.h"
#include "precision.h"
#include "pipeline.h"
#include "profile.h"
#include "run.h"

static VKAPI_ATTR VkBool32 VKAPI_CALL on_validation_message(
    VkDebugUtilsMessageSeverityFlagBitsEXT severity, VkDebugUtilsMessageTypeFlagsEXT types,
    const VkDebugUtilsMessengerCallbackDataEXT *data, void *user)
{
    (void)types;
    evk_context *ctx = user;
    evk_log_level level = EVK_LOG_INFO;
    if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT)
        level = EVK_LOG_ERROR;
    else if (severity & VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT)
        level = EVK_LOG_WARNING;
    if (level >= EVK_LOG_WARNING)
        ctx->stats.validation_messages++;
    evk_logf(ctx, level, "validation: %s", data->pMessage ? data->pMessage : "");
    return VK_FALSE;
}

static int validation_requested(const evk_context_desc *desc)
{
    const char *env = getenv("EFFVK_VALIDATION");
    return (desc->flags & EVK_CONTEXT_VALIDATION) || (env && strcmp(env, "1") == 0);
}

static evk_status instance_has_layer(evk_context *ctx, const char *name, int *found)
{
    uint32_t count = 0;
    *found = 0;
    vkEnumerateInstanceLayerProperties(&count, NULL);
    if (!count)
        return EVK_SUCCESS;
    VkLayerProperties *layers = evk_alloc(ctx, count * sizeof *layers);
    if (!layers)
        return evk_fail_oom(ctx, "instance layer list");
    if (vkEnumerateInstanceLayerProperties(&count, layers) == VK_SUCCESS)
        for (uint32_t i = 0; i < count && !*found; ++i)
            *found = strcmp(layers[i].layerName, name) == 0;
    evk_free(ctx, layers);
    return EVK_SUCCESS;
}

static evk_status create_messenger(evk_context *ctx)
{
    PFN_vkCreateDebugUtilsMessengerEXT create_fn =
        (PFN_vkCreateDebugUtilsMessengerEXT)vkGetInstanceProcAddr(ctx->instance,
                                                                  "vkCreateDebugUtilsMessengerEXT");
    ctx->destroy_messenger = (PFN_vkDestroyDebugUtilsMessengerEXT)vkGetInstanceProcAddr(
        ctx->instance, "vkDestroyDebugUtilsMessengerEXT");
    if (!create_fn || !ctx->destroy_messenger)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "VK_EXT_debug_utils functions missing");
    VkDebugUtilsMessengerCreateInfoEXT info = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_validation_message,
        .pUserData = ctx};
    VkResult r = create_fn(ctx->instance, &info, NULL, &ctx->messenger);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateDebugUtilsMessengerEXT");
    ctx->stats.validation_enabled = 1;
    return EVK_SUCCESS;
}

static evk_status create_instance(evk_context *ctx, const evk_context_desc *desc)
{
    uint32_t loader_version = volkGetInstanceVersion();
    if (loader_version < VK_API_VERSION_1_1)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "the Vulkan loader supports only 1.0; "
                        "effvk needs Vulkan 1.1");
    int validation = validation_requested(desc), installed = 0;
    if (validation) {
        evk_status s = instance_has_layer(ctx, "VK_LAYER_KHRONOS_validation", &installed);
        if (s != EVK_SUCCESS)
            return s;
    }
    if (validation && !installed) {
        if (desc->flags & EVK_CONTEXT_REQUIRE_VALIDATION)
            return evk_fail(ctx, EVK_ERROR_UNSUPPORTED,
                            "validation requested but VK_LAYER_KHRONOS_validation is not installed");
        evk_logf(ctx, EVK_LOG_WARNING, "VK_LAYER_KHRONOS_validation not installed; running without");
        validation = 0;
    }
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *extension = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pEngineName = "effvk",
                             .engineVersion = VK_MAKE_API_VERSION(0, EVK_VERSION_MAJOR,
                                                                  EVK_VERSION_MINOR, EVK_VERSION_PATCH),
                             .apiVersion = loader_version < VK_API_VERSION_1_3 ? loader_version
                                                                               : VK_API_VERSION_1_3};
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pApplicationInfo = &app,
                                 .enabledLayerCount = validation ? 1 : 0,
                                 .ppEnabledLayerNames = validation ? &layer : NULL,
                                 .enabledExtensionCount = validation ? 1 : 0,
                                 .ppEnabledExtensionNames = validation ? &extension : NULL};
    VkResult r = vkCreateInstance(&info, NULL, &ctx->instance);
    if (r != VK_SUCCESS)
        return r == VK_ERROR_INCOMPATIBLE_DRIVER
                   ? evk_fail(ctx, EVK_ERROR_NO_DEVICE, "no Vulkan driver (vkCreateInstance: %s)",
                              evk_vk_result_name(r))
                   : evk_fail_vk(ctx, r, "vkCreateInstance");
    ctx->owns_instance = 1;
    evk_pin_vulkan_drivers();
    volkLoadInstanceOnly(ctx->instance);
    return validation ? create_messenger(ctx) : EVK_SUCCESS;
}

/* The instance's physical devices, allocated with the context's allocator. */
static evk_status list_physical_devices(evk_context *ctx, VkPhysicalDevice **devices,
                                        uint32_t *count)
{
    *count = 0;
    VkResult r = vkEnumeratePhysicalDevices(ctx->instance, count, NULL);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkEnumeratePhysicalDevices");
    *devices = evk_alloc(ctx, (*count ? *count : 1) * sizeof **devices);
    if (!*devices)
        return evk_fail_oom(ctx, "physical device list");
    vkEnumeratePhysicalDevices(ctx->instance, count, *devices);
    return EVK_SUCCESS;
}

/* The chosen physical device's queue families, allocated likewise. */
static evk_status list_queue_families(evk_context *ctx, VkQueueFamilyProperties **families,
                                      uint32_t *count)
{
    *count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical_device, count, NULL);
    *families = evk_alloc(ctx, (*count ? *count : 1) * sizeof **families);
    if (!*families)
        return evk_fail_oom(ctx, "queue family list");
    vkGetPhysicalDeviceQueueFamilyProperties(ctx->physical_device, count, *families);
    return EVK_SUCCESS;
}

static evk_status pick_physical_device(evk_context *ctx, const evk_context_desc *desc)
{
    uint32_t count;
    VkPhysicalDevice *devices;
    evk_status s = list_physical_devices(ctx, &devices, &count);
    if (s != EVK_SUCCESS)
        return s;
    uint32_t chosen = 0;
    if (count == 0)
        s = evk_fail(ctx, EVK_ERROR_NO_DEVICE, "the Vulkan loader reports no device");
    else
        s = evk_choose_device(ctx, desc, devices, count, &chosen);
    if (s == EVK_SUCCESS) {
        ctx->physical_device = devices[chosen];
        evk_fill_device_properties(devices[chosen], chosen, &ctx->allocator, &ctx->props);
    }
    evk_free(ctx, devices);
    if (s == EVK_SUCCESS && ctx->props.api_version < VK_API_VERSION_1_1)
        s = evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "device \"%s\" supports only Vulkan 1.0",
                     ctx->props.name);
    return s;
}

static evk_status pick_queue_family(evk_context *ctx)
{
    uint32_t count;
    VkQueueFamilyProperties *families;
    evk_status s = list_queue_families(ctx, &families, &count);
    if (s != EVK_SUCCESS)
        return s;
    int best = -1, best_score = -1;
    for (uint32_t i = 0; i < count; ++i) {
        if (!(families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) || !families[i].queueCount)
            continue;
        int score = families[i].timestampValidBits ? 2 : 0;
        score += (families[i].queueFlags & VK_QUEUE_GRAPHICS_BIT) ? 0 : 1;
        if (score > best_score) {
            best = (int)i;
            best_score = score;
        }
    }
    evk_free(ctx, families);
    if (best < 0)
        return evk_fail(ctx, EVK_ERROR_NO_DEVICE, "device \"%s\" has no compute queue",
                        ctx->props.name);
    ctx->queue_family = (uint32_t)best;
    return EVK_SUCCESS;
}

static evk_status create_device(evk_context *ctx)
{
    evk_status s = pick_queue_family(ctx);
    if (s != EVK_SUCCESS)
        return s;
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = ctx->queue_family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    /* The 16-bit features where the device has them (the precisions that
     * need them are chosen later, evk_precision_choose); shaderFloat16 only
     * where it is core (1.2), so that no extension needs enabling. */
    int float16 = ctx->props.fp16_arithmetic && ctx->props.api_version >= VK_API_VERSION_1_2;
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES,
        .shaderFloat16 = VK_TRUE};
    VkPhysicalDevice16BitStorageFeatures storage16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES,
        .pNext = float16 ? &f16 : NULL,
        .storageBuffer16BitAccess = VK_TRUE};
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES,
        .timelineSemaphore = VK_TRUE};
    void *features = NULL;
    if (ctx->props.fp16_storage) {
        features = &storage16;
        ctx->storage_16bit_enabled = 1;
        ctx->shader_float16_enabled = float16;
    } else if (float16) {
        features = &f16;
        ctx->shader_float16_enabled = 1;
    }
    if (ctx->props.timeline_semaphores) {
        timeline.pNext = features;
        features = &timeline;
    }
    VkDeviceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                               .pNext = features,
                               .queueCreateInfoCount = 1,
                               .pQueueCreateInfos = &queue};
    VkResult r = vkCreateDevice(ctx->physical_device, &info, NULL, &ctx->device);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreateDevice");
    ctx->owns_device = 1;
    volkLoadDeviceTable(&ctx->vk, ctx->device);
    ctx->vk.vkGetDeviceQueue(ctx->device, ctx->queue_family, 0, &ctx->queue);
    return EVK_SUCCESS;
}

/* The adopted physical device's position in its instance's list. */
static evk_status external_device_index(evk_context *ctx, uint32_t *index)
{
    uint32_t count;
    VkPhysicalDevice *devices;
    evk_status s = list_physical_devices(ctx, &devices, &count);
    if (s != EVK_SUCCESS)
        return s;
    *index = 0;
    for (uint32_t i = 0; i < count; ++i)
        if (devices[i] == ctx->physical_device)
            *index = i;
    evk_free(ctx, devices);
    return EVK_SUCCESS;
}

static evk_status check_external_queue(evk_context *ctx)
{
    uint32_t count;
    VkQueueFamilyProperties *families;
    evk_status s = list_queue_families(ctx, &families, &count);
    if (s != EVK_SUCCESS)
        return s;
    int compute = ctx->queue_family < count &&
                  (families[ctx->queue_family].queueFlags & VK_QUEUE_COMPUTE_BIT);
    evk_free(ctx, families);
    if (!compute)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "desc.external: queue family %u does "
                        "not exist or has no compute support", ctx->queue_family);
    return EVK_SUCCESS;
}

static evk_status adopt_external(evk_context *ctx, const evk_external_vulkan *ext)
{
    ctx->instance = (VkInstance)ext->instance;
    ctx->physical_device = (VkPhysicalDevice)ext->physical_device;
    ctx->device = (VkDevice)ext->device;
    ctx->queue = (VkQueue)ext->queue;
    ctx->queue_family = ext->queue_family_index;
    ctx->queue_lock = ext->queue_lock;
    ctx->queue_lock_user_data = ext->queue_lock_user_data;
    /* The application's instance has loaded its drivers: kept resident as
     * effvk's own are (driver_pin.h), so that they stay mapped once the
     * application destroys its instance. */
    evk_pin_vulkan_drivers();
    ctx->storage_16bit_enabled = ext->enabled_storage_16bit != 0;
    ctx->shader_float16_enabled = ext->enabled_shader_float16 != 0;
    volkLoadInstanceOnly(ctx->instance);
    uint32_t index = 0;
    evk_status s = external_device_index(ctx, &index);
    if (s != EVK_SUCCESS)
        return s;
    evk_fill_device_properties(ctx->physical_device, index, &ctx->allocator, &ctx->props);
    if (ctx->props.api_version < VK_API_VERSION_1_1)
        return evk_fail(ctx, EVK_ERROR_UNSUPPORTED, "desc.external: device \"%s\" supports only "
                        "Vulkan 1.0; effvk needs 1.1", ctx->props.name);
    s = check_external_queue(ctx);
    if (s == EVK_SUCCESS)
        volkLoadDeviceTable(&ctx->vk, ctx->device);
    return s;
}

static evk_status check_desc(const evk_context_desc *desc)
{
    const evk_external_vulkan *e = &desc->external;
    int set = !!e->instance + !!e->physical_device + !!e->device + !!e->queue;
    if (set != 0 && set != 4)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "desc.external: instance, "
                        "physical_device, device and queue must be set together (%d of 4 set)", set);
    if ((unsigned)desc->limits > EVK_LIMITS_ANDROID_BASELINE_2022)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "desc.limits: %d is not an "
                        "evk_limits_profile", (int)desc->limits);
    if ((unsigned)desc->precision > EVK_PRECISION_FP16)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "desc.precision: %d is not an "
                        "evk_precision", (int)desc->precision);
    if (!desc->allocator.alloc != !desc->allocator.free)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "desc.allocator: alloc and free must be set together");
    return EVK_SUCCESS;
}

static evk_status copy_cache_path(evk_context *ctx, const char *path)
{
    if (!path || !path[0])
        return EVK_SUCCESS;
    size_t n = strlen(path) + 1;
    ctx->pipeline_cache_path = evk_alloc(ctx, n);
    if (!ctx->pipeline_cache_path)
        return evk_fail_oom(ctx, "pipeline cache path");
    memcpy(ctx->pipeline_cache_path, path, n);
    return EVK_SUCCESS;
}

static evk_status init_context(evk_context *ctx, const evk_context_desc *desc)
{
    evk_status s = copy_cache_path(ctx, desc->pipeline_cache_path);
    if (s == EVK_SUCCESS)
        s = evk_load_vulkan(ctx, (PFN_vkGetInstanceProcAddr)desc->external.get_instance_proc_addr);
    if (s != EVK_SUCCESS)
        return s;
    if (desc->external.device) {
        s = adopt_external(ctx, &desc->external);
    } else {
        s = create_instance(ctx, desc);
        if (s == EVK_SUCCESS)
            s = pick_physical_device(ctx, desc);
        if (s == EVK_SUCCESS)
            s = create_device(ctx);
    }
    if (s != EVK_SUCCESS)
        return s;
    evk_limits_apply(evk_limits_chosen(desc->limits), &ctx->props);
    vkGetPhysicalDeviceMemoryProperties(ctx->physical_device, &ctx->memory);
    s = evk_profile_choose(ctx, &ctx->props, desc, &ctx->profile);
    if (s == EVK_SUCCESS)
        s = evk_pipeline_cache_open(ctx);
    if (s == EVK_SUCCESS)
        s = evk_command_init(ctx);
    if (s == EVK_SUCCESS)
        s = evk_precision_choose(ctx, desc);
    return s;
}

evk_status evk_context_create(const evk_context_desc *desc_in, evk_context **out)
{
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "out is NULL");
    *out = NULL;
    evk_context_desc defaults = {0};
    const evk_context_desc *desc = desc_in ? desc_in : &defaults;
    evk_status s = check_desc(desc);
    if (s != EVK_SUCCESS)
        return s;
    evk_context *ctx = evk_alloc_with(&desc->allocator, sizeof *ctx);
    if (!ctx)
        return evk_fail(NULL, EVK_ERROR_OUT_OF_HOST_MEMORY, "host allocation failed: context");
    memset(ctx, 0, sizeof *ctx);
    ctx->allocator = desc->allocator;
    ctx->log = desc->log;
    ctx->log_user_data = desc->log_user_data;
    ctx->progress.callback = desc->pipeline_progress;
    ctx->progress.user_data = desc->pipeline_progress_user_data;
    ctx->force_staging = (desc->flags & EVK_CONTEXT_FORCE_STAGING) != 0;
    s = init_context(ctx, desc);
    if (s != EVK_SUCCESS) {
        evk_set_thread_error(ctx->error);
        evk_context_destroy(ctx);
        return s;
    }
    evk_logf(ctx, EVK_LOG_INFO, "effvk %s on \"%s\" (%s %s)", EVK_VERSION_STRING, ctx->props.name,
             ctx->props.driver_name, ctx->props.driver_info);
    *out = ctx;
    return EVK_SUCCESS;
}

void evk_context_destroy(evk_context *ctx)
{
    evk_context_entry entry;
    if (!ctx || evk_context_enter(ctx, "evk_context_destroy", &entry) != EVK_SUCCESS)
        return;
    if (ctx->device) {
        evk_runs_destroy_all(ctx);
        if (ctx->owns_device)
            ctx->vk.vkDeviceWaitIdle(ctx->device);
    }
    evk_command_destroy(ctx);
    evk_pipelines_destroy(ctx);
    evk_pipeline_cache_close(ctx);
    if (ctx->owns_device && ctx->device)
        ctx->vk.vkDestroyDevice(ctx->device, NULL);
    if (ctx->messenger)
        ctx->destroy_messenger(ctx->instance, ctx->messenger, NULL);
    if (ctx->owns_instance && ctx->instance)
        vkDestroyInstance(ctx->instance, NULL);
    evk_free(ctx, ctx->pipeline_cache_path);
    evk_allocator allocator = ctx->allocator;
    evk_context_leave(&entry);
    evk_free_with(&allocator, ctx);
}

static evk_status context_stats_get_entered(const evk_context *ctx, evk_context_stats *out)
{
    if (!ctx || !out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "ctx or out is NULL");
    *out = ctx->stats;
    return EVK_SUCCESS;
}

evk_status evk_context_stats_get(const evk_context *ctx, evk_context_stats *out)
{
    EVK_ENTERED((evk_context *)ctx, context_stats_get_entered(ctx, out));
}

evk_status evk_context_device_info(const evk_context *ctx, evk_device_properties *out)
{
    if (!ctx || !out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "ctx or out is NULL");
    *out = ctx->props;
    return EVK_SUCCESS;
}

evk_status evk_context_vulkan(const evk_context *ctx, evk_external_vulkan *out)
{
    if (!ctx || !out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_context_vulkan: ctx or out is NULL");
    *out = (evk_external_vulkan){.instance = ctx->instance,
                                 .physical_device = ctx->physical_device,
                                 .device = ctx->device,
                                 .queue = ctx->queue,
                                 .queue_family_index = ctx->queue_family,
                                 .queue_lock = ctx->queue_lock,
                                 .queue_lock_user_data = ctx->queue_lock_user_data};
    return EVK_SUCCESS;
}

evk_status evk_context_profile(const evk_context *ctx, evk_device_profile *out)
{
    if (!ctx || !out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "ctx or out is NULL");
    *out = ctx->profile;
    return EVK_SUCCESS;
}

static evk_status context_last_gpu_ms_entered(const evk_context *ctx, double *ms)
{
    if (!ctx || !ms)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "ctx or ms is NULL");
    if (!ctx->have_gpu_time)
        return evk_fail((evk_context *)ctx, EVK_ERROR_UNSUPPORTED,
                        "no GPU time: the queue has no timestamps or nothing was submitted yet");
    *ms = ctx->last_gpu_ms;
    return EVK_SUCCESS;
}

evk_status evk_context_last_gpu_ms(const evk_context *ctx, double *ms)
{
    EVK_ENTERED((evk_context *)ctx, context_last_gpu_ms_entered(ctx, ms));
}

/* ---- Host memory through the desc's allocator. */

void *evk_alloc_with(const evk_allocator *allocator, size_t size)
{
    if (allocator && allocator->alloc)
        return allocator->alloc(size, allocator->user_data);
    return malloc(size);
}

void evk_free_with(const evk_allocator *allocator, void *ptr)
{
    if (!ptr)
        return;
    if (allocator && allocator->free)
        allocator->free(ptr, allocator->user_data);
    else
        free(ptr);
}

void *evk_alloc(evk_context *ctx, size_t size)
{
    return evk_alloc_with(ctx ? &ctx->allocator : NULL, size);
}

void *evk_calloc(evk_context *ctx, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        return NULL;
    void *p = evk_alloc(ctx, count * size);
    if (p)
        memset(p, 0, count * size);
    return p;
}

void evk_free(evk_context *ctx, void *ptr)
{
    evk_free_with(ctx ? &ctx->allocator : NULL, ptr);
}
