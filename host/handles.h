/* Non-dispatchable Vulkan handles (VkBuffer, VkSemaphore) cross the public
 * header as uint64_t, their width on every platform: they are pointers on
 * 64-bit targets and 64-bit integers on 32-bit ones (armeabi-v7a). */
#ifndef EFFVK_HOST_HANDLES_H
#define EFFVK_HOST_HANDLES_H

#include <stdint.h>

#include "volk.h"

#if VK_USE_64_BIT_PTR_DEFINES
#define EVK_HANDLE_FROM_U64(type, value) ((type)(uintptr_t)(value))
#define EVK_HANDLE_TO_U64(handle) ((uint64_t)(uintptr_t)(handle))
#else
#define EVK_HANDLE_FROM_U64(type, value) ((type)(value))
#define EVK_HANDLE_TO_U64(handle) ((uint64_t)(handle))
#endif

#endif
