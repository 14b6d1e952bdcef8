#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16-storage
// Nearest-neighbour upsampling by integer factors: one lane per output
// quad, y[oy][ox] = x[oy / scale_h][ox / scale_w]. A copy of whole quads,
// exact at every precision, padded lanes included (zero in x, so in y).
#include "common.glsl"

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
    uint quads, in_h, in_w, out_h, out_w, scale_h, scale_w;
} p;

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.quads)
        return;
    uint out_plane = p.out_h * p.out_w;
    uint plane = index / out_plane, oy = index % out_plane / p.out_w, ox = index % p.out_w;
    uint source = (plane * p.in_h + oy / p.scale_h) * p.in_w + ox / p.scale_w;
    y[index] = evk_store4(load_input(source));
}
