#version 450
#extension GL_GOOGLE_include_directive : require
// effvk-variant: texel
// effvk-variant: fp16-storage
// Channel concatenation y = [a, b] of packed tensors: one lane per output
// quad. Channel c of y is a's c below a_channels, else b's c - a_channels;
// a quad of y so reads one quad of a, one or two of b, or a's last and b's
// first when a_channels is not a multiple of 4. When it is, every quad is a
// whole copy (the shift below is 0 and the second load is skipped). Values
// only move (halves widen to float exactly), so this is exact at every
// precision; the lanes past b_channels come from b's padded lanes or from
// no load at all, so y's padded lanes are zero.
#include "common.glsl"

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
// EVK_TEXEL_LOADS: the inputs are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer a_texels;
layout(binding = 2) uniform samplerBuffer b_texels;
vec4 load_a(uint i) { return texelFetch(a_texels, int(i)); }
vec4 load_b(uint i) { return texelFetch(b_texels, int(i)); }
#else
layout(std430, binding = 1) readonly buffer InputA { evk_store4 a[]; };
layout(std430, binding = 2) readonly buffer InputB { evk_store4 b[]; };
vec4 load_a(uint i) { return vec4(a[i]); }
vec4 load_b(uint i) { return vec4(b[i]); }
#endif

layout(push_constant) uniform Shape {
    uint quads, plane;              // y's quads, H * W
    uint a_channels, a_quads_per_image, b_quads_per_image, y_quads_per_image;
} p;

// Lanes shift..3 of lo followed by lanes 0..shift-1 of hi. The masked
// indices keep both operands of the selection in range.
vec4 funnel(vec4 lo, vec4 hi, uint shift)
{
    vec4 v;
    for (uint j = 0u; j < 4u; ++j)
        v[j] = j + shift < 4u ? lo[(j + shift) & 3u] : hi[(j + shift) & 3u];
    return v;
}

void main()
{
    uint index = evk_linear_group() * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (index >= p.quads)
        return;
    uint image = index / (p.y_quads_per_image * p.plane);
    uint quad = index / p.plane % p.y_quads_per_image, pixel = index % p.plane;
    uint first = quad * 4u;
    uint a_base = image * p.a_quads_per_image * p.plane + pixel;
    uint b_base = image * p.b_quads_per_image * p.plane + pixel;
    vec4 v;
    if (first + 4u <= p.a_channels) {
        v = load_a(a_base + quad * p.plane);
    } else if (first >= p.a_channels) {
        uint from = first - p.a_channels, q = from / 4u, shift = from % 4u;
        vec4 hi = shift != 0u && q + 1u < p.b_quads_per_image
                      ? load_b(b_base + (q + 1u) * p.plane) : vec4(0.0);
        v = funnel(load_b(b_base + q * p.plane), hi, shift);
    } else {
        // a's last quad gives its first `taken` lanes, b's first quad the rest.
        uint taken = p.a_channels - first;
        vec4 from_a = load_a(a_base + quad * p.plane), from_b = load_b(b_base);
        for (uint j = 0u; j < 4u; ++j)
            v[j] = j < taken ? from_a[j] : from_b[(j - taken) & 3u];
    }
    y[index] = evk_store4(v);
}
