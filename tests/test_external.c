/* Device tier: a context that adopts a host application's Vulkan objects.
 * The test plays the application: it creates its own instance (with the
 * validation layer and its own messenger, since validation of adopted
 * objects is the application's), device and queue, runs a conv2d through an
 * effvk context built on them, destroys the context, and then checks that
 * its objects are still alive before destroying them itself. Any validation
 * message, including objects the library leaked on the application's device
 * (reported when the application destroys it), fails the test. */
#include "host_app.h"

static void test_adopt_and_leave_alive(void **state)
{
    (void)state;
    host_app app;
    host_app_create(&app, 0);
    tu_log log = {0};
    evk_context *ctx = host_app_adopt(&app, &log, NULL, NULL);
    VkPhysicalDeviceProperties mine;
    vkGetPhysicalDeviceProperties(app.vulkan.physical_device, &mine);
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
    host_app_assert_alive(&app);
    /* A second context on the same objects works as the first did. */
    ctx = host_app_adopt(&app, &log, NULL, NULL);
    tu_run_conv_case(ctx, &dense, 23);
    evk_context_destroy(ctx);
    host_app_assert_alive(&app);
    host_app_destroy(&app);
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
