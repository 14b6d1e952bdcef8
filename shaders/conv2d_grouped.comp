#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16
// Grouped convolution for any groups that divides both channel counts (the
// general path: a group's channels need not align with the packed quads).
// Each invocation computes one output pixel for one output channel quad, each
// lane over its own group's input channels.
#include "common.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint KH = 3u;
layout(constant_id = 3) const uint KW = 3u;
layout(constant_id = 4) const uint SH = 1u;
layout(constant_id = 5) const uint SW = 1u;

// EVK_TEXEL_LOADS: the input (vec4 texels) and the weights (float texels)
// are uniform texel buffers (see shader_variant.h), else storage
// buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer weight_floats;
evk_real4 load_input(uint i) { return evk_fetch4(input_texels, i); }
evk_real load_weight(uint i) { return evk_real(texelFetch(weight_floats, int(i)).x); }
#else
layout(std430, binding = 0) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 2) readonly buffer Weight { evk_store w[]; };
evk_real4 load_input(uint i) { return evk_real4(x[i]); }
evk_real load_weight(uint i) { return evk_real(w[i]); }
#endif
layout(std430, binding = 1) writeonly buffer Output { evk_store4 y[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, in_c4, in_h, in_w;
    uint out_c, out_c4, out_h, out_w;
    uint pad_h, pad_w, in_per_group, out_per_group;
    uint groups_per_plane;
} p;

evk_real output_channel(uint n, uint co, uint oy, uint ox)
{
    uint ci_first = (co / p.out_per_group) * p.in_per_group;
    evk_real sum = evk_real(0.0);
    for (uint i = 0u; i < p.in_per_group; ++i) {
        uint ci = ci_first + i;
        uint plane = (n * p.in_c4 + ci / 4u) * p.in_h;
        uint wbase = (co * p.in_per_group + i) * KH * KW;
        for (uint ky = 0u; ky < KH; ++ky) {
            int iy = int(oy * SH + ky) - int(p.pad_h);
            if (iy < 0 || iy >= int(p.in_h))
                continue;
            for (uint kx = 0u; kx < KW; ++kx) {
                int ix = int(ox * SW + kx) - int(p.pad_w);
                if (ix >= 0 && ix < int(p.in_w))
                    sum += load_weight(wbase + ky * KW + kx) *
                           load_input((plane + uint(iy)) * p.in_w + uint(ix))[ci % 4u];
            }
        }
    }
    return sum;
}

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint co4 = rest % p.out_c4;
    uint n = rest / p.out_c4;
    uint pixel = plane_group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (n >= p.batch || pixel >= p.out_h * p.out_w)
        return;
    uint oy = pixel / p.out_w;
    uint ox = pixel % p.out_w;
    evk_real4 acc = evk_real4(b[co4]);
    for (uint lane = 0u; lane < 4u; ++lane) {
        uint co = co4 * 4u + lane;
        if (co < p.out_c)
            acc[lane] += output_channel(n, co, oy, ox);
    }
    y[((n * p.out_c4 + co4) * p.out_h + oy) * p.out_w + ox] =
        evk_store4(evk_activate(acc, ACTIVATION) * evk_channel_mask(co4, p.out_c));
}
