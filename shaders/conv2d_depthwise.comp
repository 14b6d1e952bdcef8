#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// Depthwise K×K convolution (the body is depthwise.glsl).
#include "common.glsl"
#include "depthwise.glsl"

void depthwise_tile_sum(vec4 sum, uint n, uint c4, uint plane_group)
{
}
