#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// MBConv's depthwise K×K + BN + activation (the body is depthwise.glsl),
// which also writes one partial channel sum per workgroup for the SE's
// average pool: partials[(n·c4 + quad)·groups_per_plane + plane_group].
// The workgroup's sums are added in lane order by lane 0, so the result is
// deterministic (no atomics); mbconv_se.comp finishes the mean.
#include "common.glsl"
#include "depthwise.glsl"

layout(std430, binding = 4) writeonly buffer Partials { vec4 partials[]; };

// evk_workgroup_size_for never exceeds 64 lanes.
const uint MAX_WORKGROUP = 64u;
shared vec4 lane_sums[MAX_WORKGROUP];

void depthwise_tile_sum(vec4 sum, uint n, uint c4, uint plane_group)
{
    lane_sums[gl_LocalInvocationID.x] = sum;
    barrier();
    if (gl_LocalInvocationID.x == 0u) {
        vec4 total = vec4(0.0);
        for (uint lane = 0u; lane < gl_WorkGroupSize.x; ++lane)
            total += lane_sums[lane];
        partials[(n * p.c4 + c4) * p.groups_per_plane + plane_group] = total;
    }
}
