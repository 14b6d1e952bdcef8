#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16
// Standalone activations of imported graphs (host/ops/activation.h): one
// lane per quad. Padded channels are written as zero: most of these map 0
// elsewhere (sigmoid(0) = 0.5, a clamp to [1, 6] gives 1). Only the clamp
// runs in the arithmetic's type, where it is exact; the others compute in
// float at every precision, since half arithmetic would lose exp's range
// and cancel in alpha·x + beta near the knees, and the op is bound by
// memory, not arithmetic.
#include "common.glsl"

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

// evk_unary_op's values; the last one, SILU, is the rest.
const uint OP_CLAMP = 0u;
const uint OP_SIGMOID = 1u;
const uint OP_HARD_SIGMOID = 2u;
const uint OP_HARD_SWISH = 3u;

layout(push_constant) uniform Params {
    uint quads, plane, c4, channels, op;
    float lo, hi, alpha, beta;
} p;

evk_real4 apply(evk_real4 x)
{
    if (p.op == OP_CLAMP)
        return clamp(x, evk_real4(p.lo), evk_real4(p.hi));
    vec4 v = vec4(x);
    if (p.op == OP_SIGMOID)
        return evk_real4(evk_sigmoid(v));
    if (p.op == OP_HARD_SIGMOID)
        return evk_real4(clamp(fma(vec4(p.alpha), v, vec4(p.beta)), 0.0, 1.0));
    if (p.op == OP_HARD_SWISH)
        return evk_real4(v * clamp(fma(v, vec4(1.0 / 6.0), vec4(0.5)), 0.0, 1.0));
    return evk_real4(v * evk_sigmoid(v));
}

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.quads)
        return;
    uint c4 = index / p.plane % p.c4;
    y[index] = evk_store4(evk_zero_padding(apply(load_input(index)), c4, p.channels));
}
