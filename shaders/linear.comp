#version 450
#extension GL_GOOGLE_include_directive : require
// Fully connected layer on packed [N][C4] vec4 features: one workgroup per
// (image, output quad), its lanes summing strided input quads with the
// [K4][C4] mat4 weights in fp32 and reducing in shared memory.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { vec4 y[]; };
layout(std430, binding = 1) readonly buffer Input { vec4 x[]; };
layout(std430, binding = 2) readonly buffer Weight { mat4 w[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, c4, k4;
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
    uint item = min(group, p.batch * p.k4 - 1u);
    uint n = item / p.k4, k = item % p.k4;
    vec4 sum = vec4(0.0);
    for (uint c = lane; c < p.c4; c += WORKGROUP)
        sum = evk_mat4_fma(w[k * p.c4 + c], x[n * p.c4 + c], sum);
    partial[lane] = sum;
    barrier();
    for (uint half_size = WORKGROUP / 2u; half_size > 0u; half_size /= 2u) {
        if (lane < half_size)
            partial[lane] += partial[lane + half_size];
        barrier();
    }
    if (lane == 0u && group < p.batch * p.k4)
        y[group] = partial[0] + b[k];
}
