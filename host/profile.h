/* The device profile (evk_device_profile in effvk.h): chosen once per
 * context from the table of device classes, the environment and the desc,
 * and the tuning rules the kernels derive from it. Kernels ask the profile,
 * never the device type. Nothing here touches Vulkan, so that the choice can
 * be checked without a device. */
#ifndef EFFVK_HOST_PROFILE_H
#define EFFVK_HOST_PROFILE_H

#include "effvk/effvk.h"

/* The profile `desc` gives on `device`, with its limits in force. A field of
 * desc->profile out of range fails with EVK_ERROR_INVALID_ARGUMENT, reported
 * on `ctx` (NULL: this thread). */
evk_status evk_profile_choose(evk_context *ctx, const evk_device_properties *device,
                              const evk_context_desc *desc, evk_device_profile *out);

/* Upper bounds of the per-invocation output tiles of the convolution
 * kernels, by tile set (the measurements behind them are at
 * evk_tile_set in effvk.h and in conv2d.c, hetconv.c and octconv.c). */
typedef struct evk_tile_limits {
    uint32_t dense_w, dense_c4, dense_segment;
    uint32_t pointwise_pixels, pointwise_c4;
    uint32_t depthwise_w, depthwise_h;
    uint32_t hetconv_w, hetconv_c4, hetconv_accumulators, hetconv_segment;
    uint32_t octconv_depthwise_w;
} evk_tile_limits;

const evk_tile_limits *evk_tile_limits_for(const evk_device_profile *profile);

/* The workgroup size for a dispatch of `items` invocations' worth of work:
 * at most 64, fewer for small planes so that lanes stay busy, rounded up to a
 * multiple of the profile's subgroup size. */
uint32_t evk_workgroup_size_for(const evk_device_profile *profile, uint32_t items);

/* The lanes of a dispatch that computes `plane_tiles` output tiles per
 * (image, channel block) and `all_tiles` in all, each tile summing `steps`
 * input steps. `split` lanes share one tile, each summing a slice of the
 * steps (split_reduce.glsl): a power of two that doubles while the dispatch
 * holds fewer than the profile's conv_split_target_lanes lanes (all_tiles ×
 * split), up to its conv_split_max and while every slice keeps at least two
 * steps. A split dispatch uses workgroups of 64 lanes; otherwise
 * evk_workgroup_size_for(plane_tiles). Each workgroup covers
 * `tiles_per_group` tiles of a plane. */
typedef struct evk_lane_plan {
    uint32_t split, workgroup, tiles_per_group;
} evk_lane_plan;

evk_lane_plan evk_lane_plan_for(const evk_device_profile *profile, uint32_t plane_tiles,
                                uint64_t all_tiles, uint32_t steps);

/* Shared memory of a split dispatch whose lanes hold `accumulators` vec4. */
static inline uint32_t evk_split_shared_bytes(evk_lane_plan lanes, uint32_t accumulators)
{
    return lanes.split > 1 ? lanes.workgroup * accumulators * 16u : 0u;
}

/* Whether `range` bytes at `offset` of a buffer can be viewed as a uniform
 * texel buffer of `texel_bytes` texels (16: vec4, 4: float): the offset
 * aligned and the texels whole and within the device's limit. */
int evk_texel_range_fits(const evk_device_limits *limits, uint64_t offset, uint64_t range,
                         uint32_t texel_bytes);
/* The same with the profile's texel loads on: whether kernels read it so. */
int evk_texel_range_usable(const evk_device_profile *profile, uint64_t offset, uint64_t range,
                           uint32_t texel_bytes);

/* The precision cap of the driver table (profile.c) for `device`, and
 * why: NULL when no row matches (cap FP16). */
const char *evk_precision_cap_for(const evk_device_properties *device, evk_precision *cap);

#endif
