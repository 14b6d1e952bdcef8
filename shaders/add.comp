#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// Residual add with the activation after it (ResNet's relu(out + identity)):
// one lane per quad of two packed tensors of one shape. Padded channels stay
// zero: 0 + 0 is 0 and ReLU keeps it.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { vec4 y[]; };
// EVK_TEXEL_LOADS: the inputs are uniform texel buffers (see
// texel_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer a_texels;
layout(binding = 2) uniform samplerBuffer b_texels;
vec4 load_a(uint i) { return texelFetch(a_texels, int(i)); }
vec4 load_b(uint i) { return texelFetch(b_texels, int(i)); }
#else
layout(std430, binding = 1) readonly buffer InputA { vec4 a[]; };
layout(std430, binding = 2) readonly buffer InputB { vec4 b[]; };
vec4 load_a(uint i) { return a[i]; }
vec4 load_b(uint i) { return b[i]; }
#endif

layout(push_constant) uniform Shape {
    uint quads, activation;
} p;

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index < p.quads)
        y[index] = evk_activate(load_a(index) + load_b(index), p.activation);
}
