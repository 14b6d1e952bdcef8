#version 450
#extension GL_GOOGLE_include_directive : require
// The unfused MBConv sequence's elementwise steps on packed tensors, one
// texel per invocation: MODE 0 scales y = x · se_scale[n, quad] (the SE
// multiply), MODE 1 adds y += x (the residual).
#include "common.glsl"

layout(constant_id = 1) const uint MODE = 0u;

layout(std430, binding = 0) buffer Output { vec4 y[]; };
layout(std430, binding = 1) readonly buffer Input { vec4 x[]; };
layout(std430, binding = 2) readonly buffer Scale { vec4 se_scale[]; };

layout(push_constant) uniform Shape {
    uint texels, plane;
} p;

void main()
{
    uint i = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.texels)
        return;
    if (MODE == 0u)
        y[i] = x[i] * se_scale[i / p.plane];
    else
        y[i] += x[i];
}
