#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// Bandwidth peak: a vec4 copy, one quad per invocation.
#include "common.glsl"

#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer source_texels;
vec4 load_source(uint quad) { return texelFetch(source_texels, int(quad)); }
#else
layout(std430, binding = 0) readonly buffer Source { vec4 src[]; };
vec4 load_source(uint quad) { return src[quad]; }
#endif
layout(std430, binding = 1) writeonly buffer Destination { vec4 dst[]; };

layout(push_constant) uniform Params {
    uint quads;
} p;

void main()
{
    uint id = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (id < p.quads)
        dst[id] = load_source(id);
}
