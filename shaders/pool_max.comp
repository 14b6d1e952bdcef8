#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16
// Max pooling of a packed tensor (ONNX's MaxPool, PyTorch's MaxPool2d): one
// lane per output quad, the window clipped to the map, so that padding
// never wins (PyTorch pads with -inf). The host's output size keeps every
// window's clipped part non-empty.
#include "common.glsl"
#include "pool_window.glsl"

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
// EVK_TEXEL_LOADS: the input is a uniform texel buffer (see
// shader_variant.h), else a storage buffer.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer input_texels;
evk_real4 load_input(uint i) { return evk_fetch4(input_texels, i); }
#else
layout(std430, binding = 1) readonly buffer Input { evk_store4 x[]; };
evk_real4 load_input(uint i) { return evk_real4(x[i]); }
#endif

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.planes * p.out_h * p.out_w)
        return;
    evk_window w = evk_pool_window(index);
    uint y_begin = uint(max(w.y0, 0)), x_begin = uint(max(w.x0, 0));
    uint y_end = uint(min(w.y0 + int(p.kernel_h), int(p.in_h)));
    uint x_end = uint(min(w.x0 + int(p.kernel_w), int(p.in_w)));
    uint base = w.plane * p.in_h * p.in_w;
    evk_real4 best = load_input(base + y_begin * p.in_w + x_begin);
    for (uint iy = y_begin; iy < y_end; ++iy)
        for (uint ix = x_begin; ix < x_end; ++ix)
            best = max(best, load_input(base + iy * p.in_w + ix));
    y[index] = evk_store4(best);
}
