#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// MBConv's project 1×1 (the body is pointwise.glsl): with SCALED every input
// quad is multiplied by its image's SE scale as it is loaded, and with
// RESIDUAL the block's input is added to the output, which has the same
// packed shape. Bindings a constant leaves unused are bound to any buffer.
#include "common.glsl"
#include "pointwise.glsl"

layout(constant_id = 5) const uint RESIDUAL = 0u;
layout(constant_id = 6) const uint SCALED = 1u;

// EVK_TEXEL_LOADS: the scales and the residual are uniform texel buffers
// too, else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 4) uniform samplerBuffer scale_texels;
layout(binding = 5) uniform samplerBuffer residual_texels;
vec4 se_scale(uint i) { return texelFetch(scale_texels, int(i)); }
vec4 residual(uint i) { return texelFetch(residual_texels, int(i)); }
#else
layout(std430, binding = 4) readonly buffer Scale { vec4 se_scales[]; };
layout(std430, binding = 5) readonly buffer Residual { vec4 residuals[]; };
vec4 se_scale(uint i) { return se_scales[i]; }
vec4 residual(uint i) { return residuals[i]; }
#endif

vec4 pointwise_input_scale(uint n, uint ci4)
{
    return SCALED != 0u ? se_scale(n * p.in_c4 + ci4) : vec4(1.0);
}

vec4 pointwise_output(vec4 value, uint index)
{
    return RESIDUAL != 0u ? value + residual(index) : value;
}
