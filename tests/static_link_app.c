/* An application that links libeffvk.a together with the system's Vulkan
 * loader and calls Vulkan itself: it creates its own instance with
 * vkCreateInstance, runs an effvk conv2d (checked against a plain loop),
 * then uses its own instance again. Before libeffvk.a kept its internal
 * symbols local, the application's vkCreateInstance resolved to volk's
 * function pointer, still NULL, and the call crashed. Plain C, no test
 * framework: nothing but the public API and libvulkan is linked. */
#include <stdio.h>
#include <string.h>

#include <vulkan/vulkan.h>

#include "conv2d_check.h"

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
    ok = ok && conv2d_check("static_link_app");
    ok = ok && check(count_devices(instance) == before,
                     "the application's instance still works after effvk");
    vkDestroyInstance(instance, NULL);
    if (ok)
        printf("static_link_app: own instance, effvk conv2d, own instance again: ok\n");
    return ok ? 0 : 1;
}
