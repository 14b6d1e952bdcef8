#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16-storage
// Average pooling of a packed tensor (ONNX's AveragePool, PyTorch's
// AvgPool2d): one lane per output quad, summed in fp32. The divisor is the
// window's pixels inside the map, or with count_include_pad its size within
// the padded map (clipped at its bottom and right ends, where ceil mode's
// last window may reach past them, as PyTorch does). Padded channels stay
// zero: a sum of zeros.
#include "common.glsl"
#include "pool_window.glsl"

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

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.planes * p.out_h * p.out_w)
        return;
    evk_window w = evk_pool_window(index);
    int y_stop = w.y0 + int(p.kernel_h), x_stop = w.x0 + int(p.kernel_w);
    uint y_begin = uint(max(w.y0, 0)), x_begin = uint(max(w.x0, 0));
    uint y_end = uint(min(y_stop, int(p.in_h))), x_end = uint(min(x_stop, int(p.in_w)));
    uint base = w.plane * p.in_h * p.in_w;
    vec4 sum = vec4(0.0);
    for (uint iy = y_begin; iy < y_end; ++iy)
        for (uint ix = x_begin; ix < x_end; ++ix)
            sum += load_input(base + iy * p.in_w + ix);
    int count = int((y_end - y_begin) * (x_end - x_begin));
    if (p.count_include_pad != 0u)
        count = (min(y_stop, int(p.in_h + p.pad_bottom)) - w.y0) *
                (min(x_stop, int(p.in_w + p.pad_right)) - w.x0);
    y[index] = evk_store4(sum / float(count));
}
