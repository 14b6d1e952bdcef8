/* An application that links libeffvk.a together with the system's Vulkan
 * loader and calls Vulkan itself: it creates its own instance with
 * vkCreateInstance, runs an effvk conv2d (checked against a plain loop),
 * then uses its own instance again. Before libeffvk.a kept its internal
 * symbols local, the application's vkCreateInstance resolved to volk's
 * function pointer, still NULL, and the call crashed. Plain C, no test
 * framework: nothing but the public API and libvulkan is linked. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "effvk/effvk.h"

enum { IN_C = 5, OUT_C = 3, H = 7, W = 9 };

static int check(int ok, const char *what)
{
    if (!ok)
        fprintf(stderr, "static_link_app: FAILED: %s\n", what);
    return ok;
}

static uint32_t count_devices(VkInstance instance)
{
    uint32_t count = 0;
    return vkEnumeratePhysicalDevices(instance, &count, NULL) == VK_SUCCESS ? count : 0;
}

static int run_conv2d(void)
{
    static float weight[OUT_C * IN_C], bias[OUT_C], input[IN_C * H * W], output[OUT_C * H * W];
    for (int i = 0; i < OUT_C * IN_C; ++i)
        weight[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
    for (int i = 0; i < OUT_C; ++i)
        bias[i] = 0.25f * (float)i;
    for (int i = 0; i < IN_C * H * W; ++i)
        input[i] = (float)((i * 13) % 17) / 17.0f;
    evk_context *ctx = NULL;
    if (!check(evk_context_create(NULL, &ctx) == EVK_SUCCESS, evk_last_error(NULL)))
        return 0;
    evk_conv2d_desc desc = {.in_channels = IN_C, .out_channels = OUT_C, .kernel_h = 1,
                            .kernel_w = 1, .weight = weight, .weight_count = OUT_C * IN_C,
                            .bias = bias, .bias_count = OUT_C};
    evk_layer *layer = NULL;
    evk_tensor *x = NULL, *y = NULL;
    evk_status s = evk_conv2d_create(ctx, &desc, &layer);
    if (!s)
        s = evk_tensor_create(ctx, (evk_shape){1, IN_C, H, W}, &x);
    if (!s)
        s = evk_tensor_create(ctx, (evk_shape){1, OUT_C, H, W}, &y);
    if (!s)
        s = evk_tensor_upload(x, input, IN_C * H * W);
    if (!s)
        s = evk_layer_forward(layer, x, y);
    if (!s)
        s = evk_tensor_download(y, output, OUT_C * H * W);
    int ok = check(s == EVK_SUCCESS, evk_last_error(ctx));
    for (int o = 0; ok && o < OUT_C; ++o)
        for (int p = 0; p < H * W; ++p) {
            double expected = bias[o];
            for (int i = 0; i < IN_C; ++i)
                expected += (double)weight[o * IN_C + i] * input[i * H * W + p];
            if (fabs(output[o * H * W + p] - expected) > 1e-5) {
                ok = check(0, "conv2d output differs from the plain loop");
                break;
            }
        }
    evk_tensor_destroy(x);
    evk_tensor_destroy(y);
    evk_layer_destroy(layer);
    evk_context_destroy(ctx);
    return ok;
}

int main(void)
{
    VkApplicationInfo app = {.sType = VK_STRUCTURE_TYPE_APPLICATION_INFO,
                             .pApplicationName = "effvk static_link_app",
                             .apiVersion = VK_API_VERSION_1_1};
    VkInstanceCreateInfo create = {.sType = VK_STRUCTURE_TYPE_INSTANCE_CREATE_INFO,
                                   .pApplicationInfo = &app};
    VkInstance instance;
    if (!check(vkCreateInstance(&create, NULL, &instance) == VK_SUCCESS,
               "the application's own vkCreateInstance"))
        return 1;
    uint32_t before = count_devices(instance);
    int ok = check(before > 0, "the application's instance sees a device");
    ok = ok && run_conv2d();
    ok = ok && check(count_devices(instance) == before,
                     "the application's instance still works after effvk");
    vkDestroyInstance(instance, NULL);
    if (ok)
        printf("static_link_app: own instance, effvk conv2d, own instance again: ok\n");
    return ok ? 0 : 1;
}
