/* Limits profiles (evk_limits_profile): a device's properties lowered to a
 * class of devices' limits, so that every limit the library reads is the
 * profile's where it is lower. */
#ifndef EFFVK_HOST_LIMITS_PROFILE_H
#define EFFVK_HOST_LIMITS_PROFILE_H

#include "effvk/effvk.h"

/* `requested`, or for EVK_LIMITS_DEFAULT the environment variable
 * EFFVK_LIMITS ("android-baseline-2022" or "device"; anything else: the
 * device's). */
evk_limits_profile evk_limits_chosen(evk_limits_profile requested);

/* Lowers `props` to `profile`'s limits and records its name there. */
void evk_limits_apply(evk_limits_profile profile, evk_device_properties *props);

#endif
