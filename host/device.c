#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "device.h"
#include "driver_pin.h"
#include "limits_profile.h"

static evk_device_type device_type(VkPhysicalDeviceType type)
{
    switch (type) {
    case VK_PHYSICAL_DEVICE_TYPE_INTEGRATED_GPU: return EVK_DEVICE_INTEGRATED;
    case VK_PHYSICAL_DEVICE_TYPE_DISCRETE_GPU: return EVK_DEVICE_DISCRETE;
    case VK_PHYSICAL_DEVICE_TYPE_VIRTUAL_GPU: return EVK_DEVICE_VIRTUAL;
    case VK_PHYSICAL_DEVICE_TYPE_CPU: return EVK_DEVICE_CPU;
    default: return EVK_DEVICE_OTHER;
    }
}

static int has_device_extension(VkPhysicalDevice pd, const evk_allocator *allocator,
                                const char *name)
{
    uint32_t count = 0;
    if (vkEnumerateDeviceExtensionProperties(pd, NULL, &count, NULL) != VK_SUCCESS || !count)
        return 0;
    VkExtensionProperties *exts = evk_alloc_with(allocator, count * sizeof *exts);
    int found = 0;
    if (exts && vkEnumerateDeviceExtensionProperties(pd, NULL, &count, exts) == VK_SUCCESS)
        for (uint32_t i = 0; i < count && !found; ++i)
            found = strcmp(exts[i].extensionName, name) == 0;
    evk_free_with(allocator, exts);
    return found;
}

static void fill_limits(const VkPhysicalDeviceLimits *l, evk_device_properties *out)
{
    out->max_shared_memory_bytes = l->maxComputeSharedMemorySize;
    for (int d = 0; d < 3; ++d) {
        out->max_workgroup_count[d] = l->maxComputeWorkGroupCount[d];
        out->max_workgroup_size[d] = l->maxComputeWorkGroupSize[d];
    }
    out->max_workgroup_invocations = l->maxComputeWorkGroupInvocations;
    out->max_storage_buffer_range = l->maxStorageBufferRange;
    out->max_push_constants_bytes = l->maxPushConstantsSize;
    out->min_texel_buffer_offset_alignment = (uint32_t)l->minTexelBufferOffsetAlignment;
    out->min_storage_buffer_offset_alignment = (uint32_t)l->minStorageBufferOffsetAlignment;
    out->max_texel_buffer_elements = l->maxTexelBufferElements;
    out->max_per_stage_storage_buffers = l->maxPerStageDescriptorStorageBuffers;
    out->max_per_stage_sampled_images = l->maxPerStageDescriptorSampledImages;
}

static void fill_features(VkPhysicalDevice pd, const evk_allocator *allocator, uint32_t api,
                          evk_device_properties *out)
{
    VkPhysicalDeviceShaderFloat16Int8Features f16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SHADER_FLOAT16_INT8_FEATURES};
    VkPhysicalDevice16BitStorageFeatures storage16 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES};
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                          .pNext = &storage16};
    void **tail = &storage16.pNext;
    if (api >= VK_API_VERSION_1_2 || has_device_extension(pd, allocator, "VK_KHR_shader_float16_int8")) {
        *tail = &f16;
        tail = &f16.pNext;
    }
    /* Core in 1.2 only: on 1.1 the extension would have to be enabled too. */
    if (api >= VK_API_VERSION_1_2)
        *tail = &timeline;
    vkGetPhysicalDeviceFeatures2(pd, &features);
    out->timeline_semaphores = timeline.timelineSemaphore == VK_TRUE;
    out->fp16_storage = storage16.storageBuffer16BitAccess == VK_TRUE;
    out->fp16_arithmetic = f16.shaderFloat16 == VK_TRUE;
}

static void fill_timestamps(VkPhysicalDevice pd, const evk_allocator *allocator, float period,
                            evk_device_properties *out)
{
    uint32_t count = 0;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &count, NULL);
    VkQueueFamilyProperties *families = evk_alloc_with(allocator, (count ? count : 1) * sizeof *families);
    out->timestamp_period_ns = 0.0;
    if (!families)
        return;
    vkGetPhysicalDeviceQueueFamilyProperties(pd, &count, families);
    for (uint32_t i = 0; i < count; ++i)
        if ((families[i].queueFlags & VK_QUEUE_COMPUTE_BIT) && families[i].timestampValidBits) {
            out->timestamp_period_ns = period;
            break;
        }
    evk_free_with(allocator, families);
}

static void fill_memory(VkPhysicalDevice pd, evk_device_properties *out)
{
    VkPhysicalDeviceMemoryProperties mem;
    vkGetPhysicalDeviceMemoryProperties(pd, &mem);
    out->memory_heap_count = mem.memoryHeapCount < EVK_MAX_MEMORY_HEAPS ? mem.memoryHeapCount
                                                                        : EVK_MAX_MEMORY_HEAPS;
    for (uint32_t i = 0; i < out->memory_heap_count; ++i) {
        out->memory_heap_bytes[i] = mem.memoryHeaps[i].size;
        out->memory_heap_device_local[i] =
            (mem.memoryHeaps[i].flags & VK_MEMORY_HEAP_DEVICE_LOCAL_BIT) != 0;
    }
}

void evk_fill_device_properties(VkPhysicalDevice pd, uint32_t index, const evk_allocator *allocator,
                                evk_device_properties *out)
{
    memset(out, 0, sizeof *out);
    VkPhysicalDeviceProperties base;
    vkGetPhysicalDeviceProperties(pd, &base);
    uint32_t api = base.apiVersion;

    VkPhysicalDeviceDriverProperties driver = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_DRIVER_PROPERTIES};
    VkPhysicalDeviceSubgroupSizeControlProperties size_control = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES};
    VkPhysicalDeviceMaintenance3Properties maint3 = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES};
    VkPhysicalDeviceSubgroupProperties subgroup = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES, .pNext = &maint3};
    VkPhysicalDeviceProperties2 props = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2,
                                         .pNext = &subgroup};
    void **tail = &maint3.pNext;
    int have_driver = api >= VK_API_VERSION_1_2 ||
                      has_device_extension(pd, allocator, "VK_KHR_driver_properties");
    int have_size_control = api >= VK_API_VERSION_1_3 ||
                            has_device_extension(pd, allocator, "VK_EXT_subgroup_size_control");
    if (have_driver) {
        *tail = &driver;
        tail = &driver.pNext;
    }
    if (have_size_control)
        *tail = &size_control;
    vkGetPhysicalDeviceProperties2(pd, &props);

    out->index = index;
    snprintf(out->name, sizeof out->name, "%s", base.deviceName);
    out->vendor_id = base.vendorID;
    out->device_id = base.deviceID;
    out->type = device_type(base.deviceType);
    if (have_driver) {
        snprintf(out->driver_name, sizeof out->driver_name, "%s", driver.driverName);
        snprintf(out->driver_info, sizeof out->driver_info, "%s", driver.driverInfo);
    }
    out->driver_version = base.driverVersion;
    out->api_version = api;
    fill_limits(&base.limits, out);
    out->max_memory_allocation_bytes = maint3.maxMemoryAllocationSize;
    out->subgroup_size = subgroup.subgroupSize;
    out->subgroup_min_size = have_size_control ? size_control.minSubgroupSize : subgroup.subgroupSize;
    out->subgroup_max_size = have_size_control ? size_control.maxSubgroupSize : subgroup.subgroupSize;
    out->subgroup_operations = subgroup.supportedOperations;
    fill_features(pd, allocator, api, out);
    fill_timestamps(pd, allocator, base.limits.timestampPeriod, out);
    fill_memory(pd, out);
}

static int type_rank(evk_device_type type)
{
    switch (type) {
    case EVK_DEVICE_DISCRETE: return 4;
    case EVK_DEVICE_INTEGRATED: return 3;
    case EVK_DEVICE_VIRTUAL: return 2;
    case EVK_DEVICE_CPU: return 1;
    default: return 0;
    }
}

static int name_matches(const char *name, const char *pattern)
{
    size_t n = strlen(name), p = strlen(pattern);
    for (size_t start = 0; start + p <= n; ++start) {
        size_t i = 0;
        while (i < p && tolower((unsigned char)name[start + i]) == tolower((unsigned char)pattern[i]))
            ++i;
        if (i == p)
            return 1;
    }
    return 0;
}

static evk_status choose_by_name(evk_context *ctx, const char *pattern, VkPhysicalDevice *devices,
                                 uint32_t count, uint32_t *chosen)
{
    for (uint32_t i = 0; i < count; ++i) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devices[i], &p);
        if (name_matches(p.deviceName, pattern)) {
            *chosen = i;
            return EVK_SUCCESS;
        }
    }
    return evk_fail(ctx, EVK_ERROR_NO_DEVICE, "no Vulkan device name contains \"%s\" (%u devices)",
                    pattern, count);
}

static evk_status choose_by_index(evk_context *ctx, uint32_t index, uint32_t count, uint32_t *chosen)
{
    if (index >= count)
        return evk_fail(ctx, EVK_ERROR_NO_DEVICE, "device index %u out of range (%u devices)",
                        index, count);
    *chosen = index;
    return EVK_SUCCESS;
}

evk_status evk_choose_device(evk_context *ctx, const evk_context_desc *desc,
                             VkPhysicalDevice *devices, uint32_t count, uint32_t *chosen)
{
    if (desc->device_name && desc->device_name[0])
        return choose_by_name(ctx, desc->device_name, devices, count, chosen);
    if (desc->use_device_index)
        return choose_by_index(ctx, desc->device_index, count, chosen);
    const char *env = getenv("EFFVK_DEVICE");
    if (env && env[0]) {
        char *end = NULL;
        unsigned long index = strtoul(env, &end, 10);
        if (end && *end == '\0')
            return choose_by_index(ctx, (uint32_t)index, count, chosen);
        return choose_by_name(ctx, env, devices, count, chosen);
    }
    int best_rank = -1;
    for (uint32_t i = 0; i < count; ++i) {
        VkPhysicalDeviceProperties p;
        vkGetPhysicalDeviceProperties(devices[i], &p);
        int rank = type_rank(device_type(p.deviceType));
        if (rank > best_rank) {
            best_rank = rank;
            *chosen = i;
        }
    }
    return EVK_SUCCESS;
}

evk_status evk_load_vulkan(evk_context *ctx, PFN_vkGetInstanceProcAddr gipa)
{
    if (gipa) {
        volkInitializeCustom(gipa);
        return EVK_SUCCESS;
    }
    if (volkGetInstanceVersion() != 0)
        return EVK_SUCCESS;
    VkResult r = volkInitialize();
    if (r != VK_SUCCESS)
        return evk_fail(ctx, EVK_ERROR_NO_DEVICE, "no Vulkan loader found (libvulkan): %s",
                        evk_vk_result_name(r));
    return EVK_SUCCESS;
}

static evk_status with_probe_instance(uint32_t *count, VkPhysicalDevice **devices, VkInstance *inst)
{
    evk_status s = evk_load_vulkan(NULL, NULL);
    if (s != EVK_SUCCESS)
        return s;
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pEngineName = "effvk", .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo info = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                 .pApplicationInfo = &app};
    VkResult r = vkCreateInstance(&info, NULL, inst);
    if (r != VK_SUCCESS)
        return evk_fail(NULL, EVK_ERROR_NO_DEVICE, "vkCreateInstance failed with %s",
                        evk_vk_result_name(r));
    evk_pin_vulkan_drivers();
    volkLoadInstanceOnly(*inst);
    *count = 0;
    vkEnumeratePhysicalDevices(*inst, count, NULL);
    *devices = *count ? malloc(*count * sizeof **devices) : NULL;
    if (*count && !*devices) {
        vkDestroyInstance(*inst, NULL);
        return evk_fail_oom(NULL, "device list");
    }
    if (*count)
        vkEnumeratePhysicalDevices(*inst, count, *devices);
    return EVK_SUCCESS;
}

evk_status evk_device_count(uint32_t *count)
{
    if (!count)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "count is NULL");
    VkInstance inst;
    VkPhysicalDevice *devices;
    evk_status s = with_probe_instance(count, &devices, &inst);
    if (s != EVK_SUCCESS)
        return s;
    free(devices);
    vkDestroyInstance(inst, NULL);
    return EVK_SUCCESS;
}

evk_status evk_device_info(uint32_t index, evk_device_properties *out)
{
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "out is NULL");
    uint32_t count;
    VkInstance inst;
    VkPhysicalDevice *devices;
    evk_status s = with_probe_instance(&count, &devices, &inst);
    if (s != EVK_SUCCESS)
        return s;
    if (index < count) {
        evk_fill_device_properties(devices[index], index, NULL, out);
        evk_limits_apply(evk_limits_chosen(EVK_LIMITS_DEFAULT), out);
    } else
        s = evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "device index %u out of range (%u devices)",
                     index, count);
    free(devices);
    vkDestroyInstance(inst, NULL);
    return s;
}

evk_status evk_device_choose(const evk_context_desc *desc, evk_device_properties *out)
{
    evk_context_desc defaults = {0};
    desc = desc ? desc : &defaults;
    if (!out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "out is NULL");
    if (desc->external.device || desc->external.physical_device)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "the desc adopts the application's "
                        "device: evk_context_device_info describes it once the context exists");
    uint32_t count;
    VkInstance inst;
    VkPhysicalDevice *devices;
    evk_status s = with_probe_instance(&count, &devices, &inst);
    if (s != EVK_SUCCESS)
        return s;
    uint32_t chosen = 0;
    s = count ? evk_choose_device(NULL, desc, devices, count, &chosen)
              : evk_fail(NULL, EVK_ERROR_NO_DEVICE, "the Vulkan loader reports no device");
    if (s == EVK_SUCCESS) {
        evk_fill_device_properties(devices[chosen], chosen, NULL, out);
        evk_limits_apply(evk_limits_chosen(desc->limits), out);
    }
    free(devices);
    vkDestroyInstance(inst, NULL);
    return s;
}
