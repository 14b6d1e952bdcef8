#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16-storage
// MBConv's squeeze-excitation, one workgroup per image n: finishes the
// average pool from `count` partial sums per channel quad (the fused
// depthwise pass's per-invocation or per-workgroup sums, or every pixel of
// the depthwise output in the unfused sequence), then fc1 + bias +
// activation to S channels and fc2 + bias + sigmoid back to E: one scale per
// (n, channel). All sums run in fp32 in a fixed order, at every precision
// (the partials are float32; the weights and the scales are stored at the
// context's precision). With SPLIT_POOL the lanes share each quad's partials
// (long pools); otherwise each lane sums whole quads.
#include "common.glsl"

layout(constant_id = 1) const uint ACTIVATION = 3u;
layout(constant_id = 2) const uint E4 = 1u;     // expanded channel quads
layout(constant_id = 3) const uint S = 1u;      // squeeze channels
layout(constant_id = 4) const uint SPLIT_POOL = 0u;
// The unfused sequence pools the depthwise output itself, which is stored at
// the context's precision: STORED_PARTIALS reads the partials so.
layout(constant_id = 5) const uint STORED_PARTIALS = 0u;
const uint MAX_WORKGROUP = 64u;

layout(std430, binding = 1) writeonly buffer Scale { evk_store4 se_scale[]; };
layout(std430, binding = 3) readonly buffer Fc1Bias { float fc1_bias[]; };
layout(std430, binding = 5) readonly buffer Fc2Bias { vec4 fc2_bias[]; };
// fc1 is [S][E4] vec4, fc2 [E4][S] vec4. EVK_TEXEL_LOADS: the partial sums
// and both weight matrices are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer partial_texels;
layout(binding = 2) uniform samplerBuffer fc1_texels;
layout(binding = 4) uniform samplerBuffer fc2_texels;
vec4 partial(uint i) { return texelFetch(partial_texels, int(i)); }
vec4 fc1(uint i) { return texelFetch(fc1_texels, int(i)); }
vec4 fc2(uint i) { return texelFetch(fc2_texels, int(i)); }
#else
layout(std430, binding = 0) readonly buffer Partials { vec4 partials[]; };
layout(std430, binding = 0) readonly buffer StoredPartials { evk_store4 stored_partials[]; };
layout(std430, binding = 2) readonly buffer Fc1 { evk_store4 fc1_weights[]; };
layout(std430, binding = 4) readonly buffer Fc2 { evk_store4 fc2_weights[]; };
vec4 partial(uint i) { return STORED_PARTIALS != 0u ? vec4(stored_partials[i]) : partials[i]; }
vec4 fc1(uint i) { return vec4(fc1_weights[i]); }
vec4 fc2(uint i) { return vec4(fc2_weights[i]); }
#endif

layout(push_constant) uniform Shape {
    uint batch, channels, count;
    float inv_plane;
} p;

shared vec4 means[E4];
shared float squeezed[S];
shared vec4 lane_sums[MAX_WORKGROUP];

vec4 quad_sum(uint n, uint q)
{
    uint base = (n * E4 + q) * p.count;
    vec4 sum = vec4(0.0);
    for (uint i = 0u; i < p.count; ++i)
        sum += partial(base + i);
    return sum;
}

// Lane l sums partials l, l + L, ...; lane 0 adds the lanes in order.
void split_pool(uint n)
{
    uint lane = gl_LocalInvocationID.x;
    for (uint q = 0u; q < E4; ++q) {
        uint base = (n * E4 + q) * p.count;
        vec4 sum = vec4(0.0);
        for (uint i = lane; i < p.count; i += gl_WorkGroupSize.x)
            sum += partial(base + i);
        lane_sums[lane] = sum;
        barrier();
        if (lane == 0u) {
            vec4 total = vec4(0.0);
            for (uint l = 0u; l < gl_WorkGroupSize.x; ++l)
                total += lane_sums[l];
            means[q] = total * p.inv_plane;
        }
        barrier();
    }
}

void main()
{
    uint n = evk_linear_group();
    if (n >= p.batch)
        return;
    uint lane = gl_LocalInvocationID.x;
    if (SPLIT_POOL != 0u)
        split_pool(n);
    else
        for (uint q = lane; q < E4; q += gl_WorkGroupSize.x)
            means[q] = quad_sum(n, q) * p.inv_plane;
    barrier();
    for (uint s = lane; s < S; s += gl_WorkGroupSize.x) {
        float sum = fc1_bias[s];
        for (uint q = 0u; q < E4; ++q)
            sum += dot(fc1(s * E4 + q), means[q]);
        squeezed[s] = evk_activate(vec4(sum), ACTIVATION).x;
    }
    barrier();
    for (uint q = lane; q < E4; q += gl_WorkGroupSize.x) {
        vec4 sum = fc2_bias[q];
        for (uint s = 0u; s < S; ++s)
            sum = fma(fc2(q * S + s), vec4(squeezed[s]), sum);
        se_scale[n * E4 + q] = evk_store4(evk_sigmoid(sum) * evk_channel_mask(q, p.channels));
    }
}
