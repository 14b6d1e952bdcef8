#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16
// The unfused MBConv sequence's elementwise steps on packed tensors, one
// quad per invocation: MODE 0 scales y = x · se_scale[n, quad] (the SE
// multiply), MODE 1 adds y += x (the residual).
#include "common.glsl"

layout(constant_id = 1) const uint MODE = 0u;

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
// EVK_TEXEL_LOADS: the input and the scales are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer scale_texels;
evk_real4 load_input(uint i) { return evk_fetch4(input_texels, i); }
evk_real4 load_scale(uint i) { return evk_fetch4(scale_texels, i); }
#else
layout(std430, binding = 1) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 2) readonly buffer Scale { evk_store4 se_scale[]; };
evk_real4 load_input(uint i) { return evk_real4(x[i]); }
evk_real4 load_scale(uint i) { return evk_real4(se_scale[i]); }
#endif

layout(push_constant) uniform Shape {
    uint quads, plane;
} p;

void main()
{
    uint i = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (i >= p.quads)
        return;
    if (MODE == 0u)
        y[i] = evk_store4(load_input(i) * load_scale(i / p.plane));
    else
        y[i] = evk_store4(evk_real4(y[i]) + load_input(i));
}
