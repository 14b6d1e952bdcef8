#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16-storage
// Fully connected layer on packed [N][C4] vec4 features with [K4][C4] mat4
// weights, summed in fp32. SPLIT lanes share one output quad of IMAGES
// images, each summing every SPLIT-th input quad, and reduce in shared
// memory; each weight loaded feeds IMAGES images. GPUs take SPLIT = 64,
// IMAGES = 1 (many lanes per output, every lane busy); CPU devices SPLIT = 1
// (no barriers, which llvmpipe pays for with every lane's state) and several
// images per weight load.
#include "common.glsl"

layout(constant_id = 1) const uint SPLIT = 64u;
layout(constant_id = 2) const uint IMAGES = 1u;

layout(std430, binding = 0) buffer Output { evk_store4 y[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };
// EVK_TEXEL_LOADS: the input and the weights are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 1) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer weight_texels;
vec4 load_input(uint i) { return texelFetch(input_texels, int(i)); }
mat4 load_weight(uint i) { return evk_fetch_mat4(weight_texels, i); }
#else
layout(std430, binding = 1) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 2) readonly buffer Weight { EVK_MAT4_ARRAY(w); };
vec4 load_input(uint i) { return vec4(x[i]); }
mat4 load_weight(uint i) { return evk_mat4_at(w, i); }
#endif

layout(push_constant) uniform Shape {
    uint batch, c4, k4, image_tiles;
} p;

// The host sizes the workgroup to a multiple of SPLIT (a power of two, for
// the halving reduction) and the shared memory to IMAGES sums per lane.
const uint PARTIAL_SLOTS = SPLIT > 1u ? gl_WorkGroupSize.x * IMAGES : 1u;
shared vec4 partial[PARTIAL_SLOTS];

void main()
{
    uint lane = gl_LocalInvocationID.x;
    uint slice = lane % SPLIT;
    uint outputs = p.image_tiles * p.k4;
    uint item = (evk_linear_group() * gl_WorkGroupSize.x + lane) / SPLIT;
    // Lanes past the end (and extra groups of a folded grid) still reach
    // every barrier; they compute a clamped item and store nothing.
    uint clamped = min(item, outputs - 1u);
    uint k = clamped % p.k4, n0 = (clamped / p.k4) * IMAGES;
    vec4 sum[IMAGES];
    [[unroll]] for (uint i = 0u; i < IMAGES; ++i)
        sum[i] = vec4(0.0);
    for (uint c = slice; c < p.c4; c += SPLIT) {
        mat4 weight = load_weight(k * p.c4 + c);
        [[unroll]] for (uint i = 0u; i < IMAGES; ++i)
            sum[i] = evk_mat4_fma(weight, load_input(min(n0 + i, p.batch - 1u) * p.c4 + c), sum[i]);
    }
    if (SPLIT > 1u) {
        [[unroll]] for (uint i = 0u; i < IMAGES; ++i)
            partial[lane * IMAGES + i] = sum[i];
        barrier();
        for (uint half_size = SPLIT / 2u; half_size > 0u; half_size /= 2u) {
            if (slice < half_size)
                [[unroll]] for (uint i = 0u; i < IMAGES; ++i)
                    partial[lane * IMAGES + i] += partial[(lane + half_size) * IMAGES + i];
            barrier();
        }
        [[unroll]] for (uint i = 0u; i < IMAGES; ++i)
            sum[i] = partial[lane * IMAGES + i];
    }
    if (slice != 0u || item >= outputs)
        return;
    [[unroll]] for (uint i = 0u; i < IMAGES; ++i)
        if (n0 + i < p.batch)
            y[(n0 + i) * p.k4 + k] = evk_store4(sum[i] + b[k]);
}
