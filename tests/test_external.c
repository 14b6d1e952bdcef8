/* Device tier: a context that adopts a host application's Vulkan objects.
 * The test plays the application: it creates its own instance (with the
 * validation layer and its own messenger, since validation of adopted
 * objects is the application's), device and queue, runs a conv2d through an
 * effvk context built on them, destroys the context, and then checks that
 * its objects are still alive before destroying them itself. Any validation
 * message, including objects the library leaked on the application's device
 * (reported when the application destroys it), fails the test. */
#include <string.h>

#include "test_util.h"

#include "volk.h"
#include "driver_pin.h"

typedef struct host_app {
    VkInstance instance;
    VkDebugUtilsMessengerEXT messenger;
    VkPhysicalDevice physical_device;
    VkDevice device;
    VkQueue queue;
    uint32_t family;
    struct VolkDeviceTable vk;
    unsigned messages;
} host_app;

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

static void create_instance(host_app *app)
{
    assert_int_equal(volkInitialize(), VK_SUCCESS);
    const char *layer = "VK_LAYER_KHRONOS_validation";
    const char *extension = VK_EXT_DEBUG_UTILS_EXTENSION_NAME;
    VkApplicationInfo info = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                              .pApplicationName = "effvk test_external",
                              .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo create = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                   .pApplicationInfo = &info,
                                   .enabledLayerCount = 1,
                                   .ppEnabledLayerNames = &layer,
                                   .enabledExtensionCount = 1,
                                   .ppEnabledExtensionNames = &extension};
    assert_int_equal(vkCreateInstance(&create, NULL, &app->instance), VK_SUCCESS);
    /* Destroying this instance would unload the driver, and LeakSanitizer
     * then loses the roots that the driver's globals held: on some machines
     * it reports lavapipe's blocks "leaked in <unknown module>". Pinned for
     * the process, as the library pins drivers for its own instances. */
    evk_pin_vulkan_drivers();
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
    VkResult r = vkEnumeratePhysicalDevices(app->instance, &count, &app->physical_device);
    assert_true(r == VK_SUCCESS || r == VK_INCOMPLETE);
    assert_int_equal(count, 1);
    VkQueueFamilyProperties families[16];
    count = 16;
    vkGetPhysicalDeviceQueueFamilyProperties(app->physical_device, &count, families);
    for (app->family = 0; app->family < count; ++app->family)
        if (families[app->family].queueFlags & VK_QUEUE_COMPUTE_BIT)
            return;
    fail_msg("the first device has no compute queue");
}

static void create_device(host_app *app)
{
    float priority = 1.0f;
    VkDeviceQueueCreateInfo queue = {.sType = VK_STRUCTURE_TYPE_DEVICE_QUEUE_CREATE_INFO,
                                     .queueFamilyIndex = app->family,
                                     .queueCount = 1,
                                     .pQueuePriorities = &priority};
    VkDeviceCreateInfo create = {.sType = VK_STRUCTURE_TYPE_DEVICE_CREATE_INFO,
                                 .queueCreateInfoCount = 1,
                                 .pQueueCreateInfos = &queue};
    assert_int_equal(vkCreateDevice(app->physical_device, &create, NULL, &app->device), VK_SUCCESS);
    volkLoadDeviceTable(&app->vk, app->device);
    app->vk.vkGetDeviceQueue(app->device, app->family, 0, &app->queue);
}

/* The application's objects work: the device idles, takes a new buffer,
 * and the queue accepts a wait. */
static void assert_alive(host_app *app)
{
    /* The library may have reloaded volk's global instance functions. */
    volkLoadInstanceOnly(app->instance);
    uint32_t count = 0;
    assert_int_equal(vkEnumeratePhysicalDevices(app->instance, &count, NULL), VK_SUCCESS);
    assert_int_equal(app->vk.vkDeviceWaitIdle(app->device), VK_SUCCESS);
    assert_int_equal(app->vk.vkQueueWaitIdle(app->queue), VK_SUCCESS);
    VkBufferCreateInfo info = {.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO,
                               .size = 4096,
                               .usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT,
                               .sharingMode = VK_SHARING_MODE_EXCLUSIVE};
    VkBuffer buffer = VK_NULL_HANDLE;
    assert_int_equal(app->vk.vkCreateBuffer(app->device, &info, NULL, &buffer), VK_SUCCESS);
    app->vk.vkDestroyBuffer(app->device, buffer, NULL);
}

static void destroy_app(host_app *app)
{
    app->vk.vkDestroyDevice(app->device, NULL);
    vkDestroyDebugUtilsMessengerEXT(app->instance, app->messenger, NULL);
    vkDestroyInstance(app->instance, NULL);
}

static evk_context *adopt(host_app *app, tu_log *log)
{
    /* No validation flags: validation of adopted objects is the
     * application's, whose instance has the layer. */
    evk_context_desc desc = {0};
    tu_desc_add_log(&desc, log);
    desc.external = (evk_external_vulkan){app->instance, app->physical_device, app->device,
                                          app->queue, app->family, NULL};
    evk_context *ctx = NULL;
    if (evk_context_create(&desc, &ctx) != EVK_SUCCESS)
        fail_msg("evk_context_create with external objects: %s", evk_last_error(NULL));
    return ctx;
}

static void test_adopt_and_leave_alive(void **state)
{
    (void)state;
    host_app app;
    memset(&app, 0, sizeof app);
    create_instance(&app);
    pick_device(&app);
    create_device(&app);
    tu_log log = {0};
    evk_context *ctx = adopt(&app, &log);
    VkPhysicalDeviceProperties mine;
    vkGetPhysicalDeviceProperties(app.physical_device, &mine);
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(ctx, &props), EVK_SUCCESS);
    assert_string_equal(props.name, mine.deviceName);
    tu_conv_case dense = {.input = {2, 5, 9, 7}, .out_channels = 6, .kernel_h = 3, .kernel_w = 3,
                          .pad_h = 1, .pad_w = 1, .activation = EVK_ACTIVATION_RELU, .bias = 1};
    tu_conv_case depthwise = {.input = {1, 6, 8, 8}, .out_channels = 6, .kernel_h = 3,
                              .kernel_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1,
                              .pad_w = 1, .groups = 6};
    tu_run_conv_case(ctx, &dense, 21);
    tu_run_conv_case(ctx, &depthwise, 22);
    evk_context_destroy(ctx);
    assert_int_equal(log.unexpected, 0);
    assert_alive(&app);
    /* A second context on the same objects works as the first did. */
    ctx = adopt(&app, &log);
    tu_run_conv_case(ctx, &dense, 23);
    evk_context_destroy(ctx);
    assert_alive(&app);
    destroy_app(&app);
    assert_int_equal(app.messages, 0);
    assert_int_equal(log.unexpected, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_adopt_and_leave_alive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
