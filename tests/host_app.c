#define _GNU_SOURCE

#include <dlfcn.h>
#include <string.h>

#include "host_app.h"
#include "driver_pin.h"

static VKAPI_ATTR VkBool32 VKAPI_CALL on_message(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                 VkDebugUtilsMessageTypeFlagsEXT types,
                                                 const VkDebugUtilsMessengerCallbackDataEXT *data,
                                                 void *user)
{
    (void)severity;
    (void)types;
    host_app *app = user;
    app->messages++;
    print_error("validation: %s\n", data->pMessage ? data->pMessage : "");
    return VK_FALSE;
}

static void create_instance(host_app *app, int sync_validation)
{
    assert_int_equal(volkInitialize(), VK_SUCCESS);
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *extensions[2] = {VK_EXT_DEBUG_UTILS_EXTENSION_NAME,
                                 VK_EXT_VALIDATION_FEATURES_EXTENSION_NAME};
    VkValidationFeatureEnableEXT sync = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
    VkValidationFeaturesEXT features = {.sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT,
                                        .enabledValidationFeatureCount = 1,
                                        .pEnabledValidationFeatures = &sync};
    VkApplicationInfo info = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                              .pApplicationName = "effvk embedding test",
                              .apiVersion = VK_API_VERSION_1_2};
    VkInstanceCreateInfo create = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                   .pNext = sync_validation ? &features : NULL,
                                   .pApplicationInfo = &info,
                                   .enabledLayerCount = 1,
                                   .ppEnabledLayerNames = &layer,
                                   .enabledExtensionCount = sync_validation ? 2 : 1,
                                   .ppEnabledExtensionNames = extensions};
    assert_int_equal(vkCreateInstance(&create, NULL, &app->instance), VK_SUCCESS);
    /* Destroying this instance would unload the driver, and LeakSanitizer
     * then loses the roots that the driver's globals held: on some machines
     * it reports lavapipe's blocks "leaked in <unknown module>". Pinned for
     * the process, as the library pins drivers for its own instances. */
    evk_pin_vulkan_drivers();
    /* The same for the validation layer: with synchronisation validation
     * its globals keep blocks that LeakSanitizer reports "in <unknown
     * module>" once the loader has unloaded it. */
    void *layer_library = dlopen("libVkLayer_khronos_validation.so",
                                 RTLD_LAZY | RTLD_NOLOAD | RTLD_NODELETE);
    if (layer_library)
        dlclose(layer_library);
    volkLoadInstanceOnly(app->instance);
    VkDebugUtilsMessengerCreateInfoEXT messenger = {
        .sType = VK_STRUCTURE_TYPE_DEBUG_UTILS_MESSENGER_CREATE_INFO_EXT,
        .messageSeverity = VK_DEBUG_UTILS_MESSAGE_SEVERITY_WARNING_BIT_EXT |
                           VK_DEBUG_UTILS_MESSAGE_SEVERITY_ERROR_BIT_EXT,
        .messageType = VK_DEBUG_UTILS_MESSAGE_TYPE_GENERAL_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_VALIDATION_BIT_EXT |
                       VK_DEBUG_UTILS_MESSAGE_TYPE_PERFORMANCE_BIT_EXT,
        .pfnUserCallback = on_message,
        .pUserData = app};
    assert_int_equal(vkCreateDebugUtilsMessengerEXT(app->instance, &messenger, NULL,
                                                    &app->messenger),
                     VK_SUCCESS);
}

/* The first compute queue family of the first device. */
static void pick_device(host_app *app)
{
    uint32_t count = 1;
    VkResult r = vkEnumeratePhysicalDevices(app->instance, &count, &app->vulkan.physical_device);
    assert_true(r == VK_SUCCESS || r == VK_INCOMPLETE);
    assert_int_equal(count, 1);
    VkQueueFamilyProperties families[16];
    count = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(app->vulkan.physical_device, &count, families);
    for (app->vulkan.family = 0; app->vulkan.family < count; ++app->vulkan.family)
        if (families[app->vulkan.family].queueFlags & VK_QUEUE_COMPUTE_BIT)
            return;
    fail_msg("the first device has no compute queue");
}

static void create_device(host_app *app)
{
    VkPhysicalDeviceProperties props;
    vkGetPhysicalDeviceProperties(app->vulkan.physical_device, &props);
    VkPhysicalDeviceTimelineSemaphoreFeatures timeline = {
        .sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_TIMELINE_SEMAPHORE_FEATURES};
    if (props.apiVersion >= VK_API_VERSION_1_2) {
        VkPhysicalDeviceFeatures2 features = {.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2,
                                              .pNext = &timeline};
        vkGetPhysicalDeviceFeatures2(app->vulkan.physical_device, &features);
    }
    app->timeline_semaphores = timeline.timelineSemaphore == VK_TRUE;
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = app->vulkan.family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    VkDeviceCreateInfo create = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                 .pNext = app->timeline_semaphores ? &timeline : NULL,
                                 .queueCreateInfoCount = 1,
                                 .pQueueCreateInfos = &queue};
    assert_int_equal(vkCreateDevice(app->vulkan.physical_device, &create, NULL, &app->vulkan.device), VK_SUCCESS);
    volkLoadDeviceTable(&app->vulkan.vk, app->vulkan.device);
    app->vulkan.vk.vkGetDeviceQueue(app->vulkan.device, app->vulkan.family, 0, &app->vulkan.queue);
}

void host_app_create(host_app *app, int sync_validation)
{
    memset(app, 0, sizeof *app);
    create_instance(app, sync_validation);
    pick_device(app);
    create_device(app);
}

void host_app_assert_alive(host_app *app)
{
    /* The library may have reloaded volk's global instance functions. */
    volkLoadInstanceOnly(app->instance);
    uint32_t count = 0;
    assert_int_equal(vkEnumeratePhysicalDevices(app->instance, &count, NULL), VK_SUCCESS);
    assert_int_equal(app->vulkan.vk.vkDeviceWaitIdle(app->vulkan.device), VK_SUCCESS);
    assert_int_equal(app->vulkan.vk.vkQueueWaitIdle(app->vulkan.queue), VK_SUCCESS);
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = 4096,
                               .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkBuffer buffer = VK_NULL_HANDLE;
    assert_int_equal(app->vulkan.vk.vkCreateBuffer(app->vulkan.device, &info, NULL, &buffer), VK_SUCCESS);
    app->vulkan.vk.vkDestroyBuffer(app->vulkan.device, buffer, NULL);
}

void host_app_destroy(host_app *app)
{
    app->vulkan.vk.vkDestroyDevice(app->vulkan.device, NULL);
    vkDestroyDebugUtilsMessengerEXT(app->instance, app->messenger, NULL);
    vkDestroyInstance(app->instance, NULL);
}

evk_context *host_app_adopt(host_app *app, tu_log *log, void (*lock)(int, void *), void *user)
{
    /* No validation flags: validation of adopted objects is the
     * application's, whose instance has the layer. */
    evk_context_desc desc = {0};
    tu_desc_add_log(&desc, log);
    desc.external = (evk_external_vulkan){.instance = app->instance,
                                          .physical_device = app->vulkan.physical_device,
                                          .device = app->vulkan.device,
                                          .queue = app->vulkan.queue,
                                          .queue_family_index = app->vulkan.family,
                                          .queue_lock = lock,
                                          .queue_lock_user_data = user};
    /* The tests read and write the application's buffers as float32. */
    desc.precision = EVK_PRECISION_FP32;
    evk_context *ctx = NULL;
    if (evk_context_create(&desc, &ctx) != EVK_SUCCESS)
        fail_msg("evk_context_create with external objects: %s", evk_last_error(NULL));
    return ctx;
}
