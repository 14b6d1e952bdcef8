#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// MBConv's depthwise K×K + BN + activation (the body is depthwise.glsl),
// which also writes partial channel sums for the SE's average pool: with
// LANE_PARTIALS one per invocation, partials[(n·c4 + quad)·lanes + lane]
// (lanes: the plane's invocations), else one per workgroup,
// partials[(n·c4 + quad)·groups_per_plane + plane_group], added in lane order
// by lane 0. Either way the sums are deterministic (no atomics);
// mbconv_se.comp finishes the mean.
#include "common.glsl"
#include "depthwise.glsl"

layout(constant_id = 8) const uint LANE_PARTIALS = 0u;
layout(std430, binding = 4) writeonly buffer Partials { vec4 partials[]; };

// evk_workgroup_size_for never exceeds 64 lanes.
const uint MAX_WORKGROUP = 64u;
shared vec4 lane_sums[MAX_WORKGROUP];

void depthwise_tile_sum(vec4 sum, uint n, uint c4, uint plane_group)
{
    uint lane = gl_LocalInvocationID.x;
    if (LANE_PARTIALS != 0u) {
        uint lanes = p.groups_per_plane * gl_WorkGroupSize.x;
        partials[(n * p.c4 + c4) * lanes + plane_group * gl_WorkGroupSize.x + lane] = sum;
        return;
    }
    lane_sums[lane] = sum;
    barrier();
    if (lane == 0u) {
        vec4 total = vec4(0.0);
        for (uint l = 0u; l < gl_WorkGroupSize.x; ++l)
            total += lane_sums[l];
        partials[(n * p.c4 + c4) * p.groups_per_plane + plane_group] = total;
    }
}
