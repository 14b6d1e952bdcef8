#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16
// y = a + b or a · b with b broadcast to a's shape (host/ops/broadcast.h):
// one lane per quad of a. b's quad is found by strides that are zero along
// the dimensions b broadcasts; a b of one channel has its value in lane x
// alone and gives it to all four lanes. Padded channels are written as
// zero, since 0 + b is not.
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

const uint OP_MUL = 1u;             // evk_binary_op; ADD is 0

layout(push_constant) uniform Shape {
    uint quads, plane, width, c4, channels;     // a's
    // b's quads per step of a's image, channel quad, row and column.
    uint b_image, b_quad, b_row, b_column;
    uint op, b_one_channel;
} p;

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.quads)
        return;
    uint image_quad = index / p.plane, pixel = index % p.plane;
    uint n = image_quad / p.c4, c4 = image_quad % p.c4;
    uint b_index = n * p.b_image + c4 * p.b_quad + pixel / p.width * p.b_row +
                   pixel % p.width * p.b_column;
    evk_real4 vb = load_b(b_index);
    if (p.b_one_channel != 0u)
        vb = vb.xxxx;
    evk_real4 va = load_a(index);
    evk_real4 v = p.op == OP_MUL ? va * vb : va + vb;
    y[index] = evk_store4(evk_zero_padding(v, c4, p.channels));
}
