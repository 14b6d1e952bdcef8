#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16
// Residual add with the activation after it (ResNet's relu(out + identity)):
// one lane per quad of two packed tensors of one shape. Padded channels stay
// zero: 0 + 0 is 0 and ReLU keeps it.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
// EVK_TEXEL_LOADS: the inputs are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer a_texels;
layout(binding = 2) uniform samplerBuffer b_texels;
evk_real4 load_a(uint i) { return evk_fetch4(a_texels, i); }
evk_real4 load_b(uint i) { return evk_fetch4(b_texels, i); }
#else
layout(std430, binding = 1) readonly buffer InputA { evk_store4 a[]; };
layout(std430, binding = 2) readonly buffer InputB { evk_store4 b[]; };
evk_real4 load_a(uint i) { return evk_real4(a[i]); }
evk_real4 load_b(uint i) { return evk_real4(b[i]); }
#endif

layout(push_constant) uniform Shape {
    uint quads, activation;
} p;

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index < p.quads)
        y[index] = evk_store4(evk_activate(load_a(index) + load_b(index), p.activation));
}
