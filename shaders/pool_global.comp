#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16-storage
// Global average pool of a packed tensor, summed in fp32: SPLIT lanes share
// one (image, channel quad) plane, each summing every SPLIT-th quad, and
// reduce in shared memory. GPUs take SPLIT = 64 (a plane per workgroup);
// CPU devices SPLIT = 1, a plane per lane and no barriers. The output
// [N][C4] vec4 is the packed N x C x 1 x 1 tensor.
#include "common.glsl"

layout(constant_id = 1) const uint SPLIT = 64u;

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
// EVK_TEXEL_LOADS: the input is a uniform texel buffer (see
// shader_variant.h), else a storage buffer.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer input_texels;
vec4 load_input(uint i) { return texelFetch(input_texels, int(i)); }
#else
layout(std430, binding = 1) readonly buffer Input { evk_store4 x[]; };
vec4 load_input(uint i) { return vec4(x[i]); }
#endif

layout(push_constant) uniform Shape {
    uint planes, plane;
    float inv_plane;
} p;

// The host sizes the workgroup to a multiple of SPLIT (a power of two, for
// the halving reduction).
const uint PARTIAL_SLOTS = SPLIT > 1u ? gl_WorkGroupSize.x : 1u;
shared vec4 partial[PARTIAL_SLOTS];

void main()
{
    uint lane = gl_LocalInvocationID.x;
    uint slice = lane % SPLIT;
    uint plane_index = (evk_linear_group() * gl_WorkGroupSize.x + lane) / SPLIT;
    // Lanes past the end (and extra groups of a folded grid) still reach
    // every barrier; they sum a clamped plane and store nothing.
    uint base = min(plane_index, p.planes - 1u) * p.plane;
    vec4 sum = vec4(0.0);
    for (uint i = slice; i < p.plane; i += SPLIT)
        sum += load_input(base + i);
    if (SPLIT > 1u) {
        partial[lane] = sum;
        barrier();
        for (uint half_size = SPLIT / 2u; half_size > 0u; half_size /= 2u) {
            if (slice < half_size)
                partial[lane] += partial[lane + half_size];
            barrier();
        }
        sum = partial[lane];
    }
    if (slice == 0u && plane_index < p.planes)
        y[plane_index] = evk_store4(sum * p.inv_plane);
}
