/* The Vulkan devices: loading the loader, describing a physical device as
 * evk_device_properties, and choosing one by the desc's rules (device.c). */
#ifndef EFFVK_HOST_DEVICE_H
#define EFFVK_HOST_DEVICE_H

#include "volk.h"
#include "effvk/effvk.h"

/* `allocator` NULL: malloc/free. */
void evk_fill_device_properties(VkPhysicalDevice pd, uint32_t index, const evk_allocator *allocator,
                                evk_device_properties *out);
/* Failures are reported on `ctx` (NULL: this thread). */
evk_status evk_choose_device(evk_context *ctx, const evk_context_desc *desc,
                             VkPhysicalDevice *devices, uint32_t count, uint32_t *chosen);
/* Loads volk from `gipa` (the application's loader), else from the system
 * loader unless it is loaded already. */
evk_status evk_load_vulkan(evk_context *ctx, PFN_vkGetInstanceProcAddr gipa);

#endif
