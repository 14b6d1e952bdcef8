#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "limits_profile.h"

evk_limits_profile evk_limits_chosen(evk_limits_profile requested)
{
    if (requested != EVK_LIMITS_DEFAULT)
        return requested;
    const char *env = getenv("EFFVK_LIMITS");
    return env && strcmp(env, "android-baseline-2022") == 0 ? EVK_LIMITS_ANDROID_BASELINE_2022
                                                            : EVK_LIMITS_DEVICE;
}

static void lower(uint32_t *value, uint32_t limit)
{
    if (*value > limit)
        *value = limit;
}

void evk_limits_apply(evk_limits_profile profile, evk_device_properties *p)
{
    if (profile != EVK_LIMITS_ANDROID_BASELINE_2022)
        return;
    static const uint32_t workgroup_size[3] = {128, 128, 64};
    lower(&p->max_shared_memory_bytes, 16384);
    lower(&p->max_workgroup_invocations, 128);
    for (int d = 0; d < 3; ++d)
        lower(&p->max_workgroup_size[d], workgroup_size[d]);
    lower(&p->max_storage_buffer_range, 128u << 20);
    lower(&p->max_push_constants_bytes, 128);
    lower(&p->max_per_stage_storage_buffers, 4);
    lower(&p->max_per_stage_sampled_images, 16);
    if (p->min_storage_buffer_offset_alignment < 256)
        p->min_storage_buffer_offset_alignment = 256;
    p->fp16_storage = 0;
    snprintf(p->limits_profile, sizeof p->limits_profile, "android-baseline-2022");
}
