/* Failures of Vulkan calls, on top of failure.h's messages and logs. */
#ifndef EFFVK_HOST_STATUS_H
#define EFFVK_HOST_STATUS_H

#include "volk.h"
#include "effvk/effvk.h"
#include "failure.h"

/* evk_fail for a failed Vulkan call: maps the VkResult to a status and
 * appends the VkResult's name to the message. */
evk_status evk_fail_vk(evk_context *ctx, VkResult result, const char *what);
const char *evk_vk_result_name(VkResult result);
evk_status evk_status_from_vk(VkResult result);

#endif
