#version 450
#extension GL_GOOGLE_include_directive : require
// Bandwidth peak: a vec4 copy, one texel per invocation.
#include "common.glsl"

layout(std430, binding = 0) readonly buffer Source { vec4 src[]; };
layout(std430, binding = 1) writeonly buffer Destination { vec4 dst[]; };

layout(push_constant) uniform Params {
    uint texels;
} p;

void main()
{
    uint id = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (id < p.texels)
        dst[id] = src[id];
}
