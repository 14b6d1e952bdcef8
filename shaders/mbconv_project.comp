#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
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
evk_real4 se_scale(uint i) { return evk_fetch4(scale_texels, i); }
evk_real4 residual(uint i) { return evk_fetch4(residual_texels, i); }
#else
layout(std430, binding = 4) readonly buffer Scale { evk_store4 se_scales[]; };
layout(std430, binding = 5) readonly buffer Residual { evk_store4 residuals[]; };
evk_real4 se_scale(uint i) { return evk_real4(se_scales[i]); }
evk_real4 residual(uint i) { return evk_real4(residuals[i]); }
#endif

evk_real4 pointwise_input_scale(uint n, uint ci4)
{
    return SCALED != 0u ? se_scale(n * p.in_c4 + ci4) : evk_real4(1.0);
}

evk_real4 pointwise_output(evk_real4 value, uint index)
{
    return RESIDUAL != 0u ? value + residual(index) : value;
}
