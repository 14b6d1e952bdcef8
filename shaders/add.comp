#version 450
#extension GL_GOOGLE_include_directive : require
// Residual add with the activation after it (ResNet's relu(out + identity)):
// one lane per texel of two packed tensors of one shape. Padded channels stay
// zero: 0 + 0 is 0 and ReLU keeps it.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { vec4 y[]; };
layout(std430, binding = 1) readonly buffer InputA { vec4 a[]; };
layout(std430, binding = 2) readonly buffer InputB { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint texels, activation;
} p;

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index < p.texels)
        y[index] = evk_activate(a[index] + b[index], p.activation);
}
