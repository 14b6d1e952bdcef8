#version 450
#extension GL_GOOGLE_include_directive : require
// Global average pool of a packed tensor: one workgroup per (image, channel
// quad) plane, its lanes summing strided texels in fp32 and reducing in
// shared memory. The output [N][C4] vec4 is the packed N x C x 1 x 1 tensor.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { vec4 y[]; };
layout(std430, binding = 1) readonly buffer Input { vec4 x[]; };

layout(push_constant) uniform Shape {
    uint planes, plane;
    float inv_plane;
} p;

// The host dispatches exactly this many lanes (a power of two, for the
// halving reduction).
const uint WORKGROUP = 64u;
shared vec4 partial[WORKGROUP];

void main()
{
    uint group = evk_linear_group();
    uint lane = gl_LocalInvocationID.x;
    // Extra groups of a folded grid still reach every barrier.
    uint base = min(group, p.planes - 1u) * p.plane;
    vec4 sum = vec4(0.0);
    for (uint i = lane; i < p.plane; i += WORKGROUP)
        sum += x[base + i];
    partial[lane] = sum;
    barrier();
    for (uint half_size = WORKGROUP / 2u; half_size > 0u; half_size /= 2u) {
        if (lane < half_size)
            partial[lane] += partial[lane + half_size];
        barrier();
    }
    if (lane == 0u && group < p.planes)
        y[group] = partial[0] * p.inv_plane;
}
