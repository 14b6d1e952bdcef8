// The body of the 1×1 stride-1 unpadded convolution, shared by
// conv2d_pointwise.comp and mbconv_project.comp: a matrix product over the
// flattened pixel plane. Each invocation computes TILE_W consecutive pixels
// for TILE_C4 output channel quads (uniform per workgroup, so weight loads
// are shared). With SPLIT > 1 (small layers on GPUs) the input quads are
// split across lanes (split_reduce.glsl). The including shader defines the
// two hooks declared below and numbers its own constants from 5.

layout(constant_id = 1) const uint ACTIVATION = 0u;
// TILE_W: consecutive pixels of the flattened plane per invocation.
layout(constant_id = 2) const uint TILE_W = 4u;
layout(constant_id = 3) const uint TILE_C4 = 2u;
layout(constant_id = 4) const uint SPLIT = 1u;
#include "split_reduce.glsl"

// EVK_TEXEL_LOADS: input and weights are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer weight_texels;
evk_real4 load_input(uint quad) { return evk_fetch4(input_texels, quad); }
evk_real4x4 load_weight(uint index) { return evk_fetch_mat4(weight_texels, index); }
#else
layout(std430, binding = 0) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 2) readonly buffer Weight { EVK_MAT4_ARRAY(w); };
evk_real4 load_input(uint quad) { return evk_real4(x[quad]); }
evk_real4x4 load_weight(uint index) { return evk_mat4_at(w, index); }
#endif
layout(std430, binding = 1) writeonly buffer Output { evk_store4 y[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, in_c4, plane, out_c;
    uint out_c4, co_blocks, groups_per_plane;
} p;

#ifdef EVK_FP16_ARITHMETIC
// Half arithmetic sums HALF_BLOCK input quads (16 products per output) in
// half, then adds that partial sum into a float32 total: a running half sum
// rounds at every add relative to its own size, so the long reductions of
// the 1×1 convolutions (up to 3840 terms in EfficientNet) would err far more
// than blocks of 16 folded in float32 do, at one conversion and one float32
// add per 16 half FMAs (docs/precision.md has the accuracy it buys).
const uint HALF_BLOCK = 4u;

void fold_half_sums(inout evk_real4 acc[TILE_C4][TILE_W], inout vec4 total[TILE_C4][TILE_W])
{
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c)
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t) {
            total[c][t] += vec4(acc[c][t]);
            acc[c][t] = evk_real4(0.0);
        }
}
#endif

// A factor for every input quad of image n, channel quad ci4.
evk_real4 pointwise_input_scale(uint n, uint ci4);
// The value stored at output quad `index`, from the activated, masked sum.
evk_real4 pointwise_output(evk_real4 value, uint index);

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint co_block = rest % p.co_blocks;
    uint n = rest / p.co_blocks;
    if (n >= p.batch)
        return;
    // Lanes past the end load clamped pixels and skip only the store, keeping
    // control flow uniform so weight loads stay shared by the subgroup.
    uint p0 = (plane_group * split_tiles_per_group() + split_tile_in_group()) * TILE_W;
    uint co4_first = co_block * TILE_C4;
    uint last = p.plane - 1u;

    evk_real4 acc[TILE_C4][TILE_W];
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        evk_real4 bias = split_slice() == 0u ? evk_real4(b[min(co4_first + c, p.out_c4 - 1u)])
                                             : evk_real4(0.0);
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            acc[c][t] = bias;
    }
#ifdef EVK_FP16_ARITHMETIC
    vec4 total[TILE_C4][TILE_W];
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c)
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            total[c][t] = vec4(0.0);
    uint block_steps = 0u;
#endif
    for (uint ci4 = split_slice(); ci4 < p.in_c4; ci4 += SPLIT) {
        uint base = (n * p.in_c4 + ci4) * p.plane;
        evk_real4 scale = pointwise_input_scale(n, ci4);
        evk_real4 v[TILE_W];
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            v[t] = load_input(base + min(p0 + t, last)) * scale;
        [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
            evk_real4x4 m = load_weight(min(co4_first + c, p.out_c4 - 1u) * p.in_c4 + ci4);
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[c][t] = evk_mat4_fma(m, v[t], acc[c][t]);
        }
#ifdef EVK_FP16_ARITHMETIC
        if (++block_steps == HALF_BLOCK) {
            fold_half_sums(acc, total);
            block_steps = 0u;
        }
#endif
    }
#ifdef EVK_FP16_ARITHMETIC
    fold_half_sums(acc, total);
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c)
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            acc[c][t] = evk_real4(total[c][t]);
#endif
    split_reduce(acc);
    if (p0 >= p.plane || split_slice() != 0u)
        return;
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        uint co4 = co4_first + c;
        if (co4 >= p.out_c4)
            break;
        evk_real4 mask = evk_channel_mask(co4, p.out_c);
        uint base = (n * p.out_c4 + co4) * p.plane;
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            if (p0 + t < p.plane)
                y[base + p0 + t] = evk_store4(pointwise_output(
                    evk_activate(acc[c][t], ACTIVATION) * mask, base + p0 + t));
    }
}
