#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// 1×1 stride-1 unpadded convolution (the body is pointwise.glsl).
#include "common.glsl"
#include "pointwise.glsl"

evk_real4 pointwise_input_scale(uint n, uint ci4)
{
    return evk_real4(1.0);
}

evk_real4 pointwise_output(evk_real4 value, uint index)
{
    return value;
}
