#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// One output branch of an OctConv, Y^H or Y^L, in one dispatch that sums two
// sources into the same accumulators: A, the input of the branch's own
// frequency (X^H for Y^H, X^L for Y^L), and B, the other one. Each source is
// read through its pooling (POOL_A, POOL_B: averaged on load, see
// octconv.glsl), and B's result may be upsampled (UP_B 2: L→H at stride 1),
// which is index mapping: B's conv runs once per low-resolution pixel into
// the top-left accumulator of its 2×2 block, which is then copied to the
// other three before A adds its own terms.
//
// Tiling as in the dense conv2d kernel (conv2d_dense.comp): an invocation
// computes TILE_H rows of TILE_W adjacent pixels for TILE_C4 output quads;
// the quads are uniform per workgroup, so weight loads are shared by the
// subgroup, and every input row the tile needs is loaded once per input quad
// and reused by every tap, output row and quad. TILE_H is 2 when B is read: an
// upsampled B needs it (each low-resolution conv serves its four pixels), and
// a pooled B's costly rows then serve two output rows. Lanes
// past the end compute a clamped tile and skip only the store (uniform
// control flow around every load).
#include "common.glsl"
#include "octconv.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint K = 3u;
layout(constant_id = 3) const uint TILE_W = 4u;
layout(constant_id = 4) const uint TILE_H = 1u;
layout(constant_id = 5) const uint TILE_C4 = 2u;
layout(constant_id = 6) const uint POOL_A = 1u;
layout(constant_id = 7) const uint POOL_B = 1u;
layout(constant_id = 8) const uint UP_B = 1u;
// Lanes sharing one tile, each summing every SPLIT-th input quad (small
// layers on GPUs; split_reduce.glsl has the 2-D version of the idea).
layout(constant_id = 9) const uint SPLIT = 1u;
const uint PAD = (K - 1u) / 2u;
const uint ROWS = TILE_H + K - 1u;
const uint SEGMENT = TILE_W + K - 1u;

// Weights: [out_c4][a_c4 + b_c4][K][K] mat4, A's input quads, then B's.
// EVK_TEXEL_LOADS: sources and weights are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer source_a_texels;
layout(binding = 1) uniform samplerBuffer source_b_texels;
layout(binding = 3) uniform samplerBuffer weight_texels;
evk_real4 source_texel(bool from_b, uint index)
{
    return from_b ? evk_fetch4(source_b_texels, index) : evk_fetch4(source_a_texels, index);
}
evk_real4x4 load_weight(uint index) { return evk_fetch_mat4(weight_texels, index); }
#else
layout(std430, binding = 0) readonly buffer SourceA { evk_store4 xa[]; };
layout(std430, binding = 1) readonly buffer SourceB { evk_store4 xb[]; };
layout(std430, binding = 3) readonly buffer Weight { EVK_MAT4_ARRAY(w); };
evk_real4 source_texel(bool from_b, uint index)
{
    return from_b ? evk_real4(xb[index]) : evk_real4(xa[index]);
}
evk_real4x4 load_weight(uint index) { return evk_mat4_at(w, index); }
#endif
layout(std430, binding = 2) writeonly buffer Output { evk_store4 y[]; };
// The folded bias stays float32 at every precision.
layout(std430, binding = 4) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, out_c, out_c4, out_h, out_w;
    uint a_c4, a_h, a_w, b_c4, b_h, b_w;
    uint tiles_x, tiles_y, co_blocks, groups_per_plane;
} p;

// The tile's sums, shared by the two passes (a function cannot take an
// array by reference); NIR makes it local again once the passes are inlined.
evk_real4 acc[TILE_C4][TILE_H][TILE_W];

// vec4 whatever the compute type, as the host's shared_bytes counts it.
const uint SPLIT_SLOTS = SPLIT > 1u ? gl_WorkGroupSize.x * TILE_C4 * TILE_H * TILE_W : 1u;
shared vec4 split_partial[SPLIT_SLOTS];

uint slice() { return gl_LocalInvocationID.x % SPLIT; }

// Adds the other slices' sums into slice 0's accumulators; every lane calls
// it (it holds a barrier).
void reduce_slices()
{
    if (SPLIT == 1u)
        return;
    const uint size = TILE_C4 * TILE_H * TILE_W;
    uint base = gl_LocalInvocationID.x * size;
    [[unroll]] for (uint i = 0u; i < size; ++i)
        split_partial[base + i] = vec4(acc[i / (TILE_H * TILE_W)][i / TILE_W % TILE_H][i % TILE_W]);
    barrier();
    if (slice() != 0u)
        return;
    for (uint s = 1u; s < SPLIT; ++s)
        [[unroll]] for (uint i = 0u; i < size; ++i)
            acc[i / (TILE_H * TILE_W)][i / TILE_W % TILE_H][i % TILE_W] +=
                evk_real4(split_partial[base + s * size + i]);
}

// Adds one source's K×K conv to the accumulators; with `up` 2 only to the
// top-left accumulator of each 2×2 block. Called with constant from_b, up
// and pool, so that every loop below unrolls once inlined.
void accumulate_source(bool from_b, uint up, uint pool, uint n, uint oy0, uint ox0, uint co4_first)
{
    uint c4 = from_b ? p.b_c4 : p.a_c4;
    uint height = from_b ? p.b_h : p.a_h, width = from_b ? p.b_w : p.a_w;
    uint quad_first = from_b ? p.a_c4 : 0u, quads = p.a_c4 + p.b_c4;
    int y0 = int(oy0 / up) - int(PAD), x0 = int(ox0 / up) - int(PAD);
    // An upsampled pass needs only the rows and columns of its
    // low-resolution tile. The pooling taps of the tile's rows and columns
    // are the same for every input quad: computed once, out of the loop.
    const uint rows_used = TILE_H / up + K - 1u, cols_used = TILE_W / up + K - 1u;
    uint row_offset[ROWS][4], col_index[SEGMENT][4];
    float row_weight[ROWS][4], col_weight[SEGMENT][4];
    [[unroll]] for (uint a = 0u; a < pool; ++a) {
        [[unroll]] for (uint r = 0u; r < rows_used; ++r) {
            row_offset[r][a] = octconv_tap_index(y0 + int(r), height, pool, a) * width;
            row_weight[r][a] = octconv_tap_weight(y0 + int(r), height, pool, a);
        }
        [[unroll]] for (uint j = 0u; j < cols_used; ++j) {
            col_index[j][a] = octconv_tap_index(x0 + int(j), width, pool, a);
            col_weight[j][a] = octconv_tap_weight(x0 + int(j), width, pool, a);
        }
    }
    for (uint ci4 = slice(); ci4 < c4; ci4 += SPLIT) {
        uint plane = (n * c4 + ci4) * height * width;
        evk_real4 rows[ROWS][SEGMENT];
        [[unroll]] for (uint r = 0u; r < rows_used; ++r)
            [[unroll]] for (uint j = 0u; j < cols_used; ++j) {
                // The taps' weights are powers of two down to 1/16,
                // exact in half too.
                evk_real4 sum = evk_real4(0.0);
                [[unroll]] for (uint a = 0u; a < pool; ++a)
                    [[unroll]] for (uint c = 0u; c < pool; ++c) {
                        uint at = plane + row_offset[r][a] + col_index[j][c];
                        sum += evk_real(row_weight[r][a] * col_weight[j][c]) *
                               source_texel(from_b, at);
                    }
                rows[r][j] = sum;
            }
        [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
            uint wbase = (min(co4_first + c, p.out_c4 - 1u) * quads + quad_first + ci4) * K * K;
            [[unroll]] for (uint ky = 0u; ky < K; ++ky)
                [[unroll]] for (uint kx = 0u; kx < K; ++kx) {
                    evk_real4x4 m = load_weight(wbase + ky * K + kx);
                    [[unroll]] for (uint th = 0u; th < TILE_H / up; ++th)
                        [[unroll]] for (uint t = 0u; t < TILE_W / up; ++t)
                            acc[c][th * up][t * up] = evk_mat4_fma(m, rows[th + ky][t + kx],
                                                                   acc[c][th * up][t * up]);
                }
        }
    }
}

// Copies each block's top-left sum to the rest of its UP_B×UP_B block and
// adds the bias; backwards, so that a top-left sum is read before it moves.
void spread_and_bias(uint co4_first)
{
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        evk_real4 bias = slice() == 0u ? evk_real4(b[min(co4_first + c, p.out_c4 - 1u)])
                                       : evk_real4(0.0);
        [[unroll]] for (uint i = 0u; i < TILE_H * TILE_W; ++i) {
            uint th = (TILE_H * TILE_W - 1u - i) / TILE_W, t = (TILE_H * TILE_W - 1u - i) % TILE_W;
            acc[c][th][t] = acc[c][th / UP_B * UP_B][t / UP_B * UP_B] + bias;
        }
    }
}

void store(uint n, uint co4_first, uint oy0, uint ox0)
{
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        uint co4 = co4_first + c;
        if (co4 >= p.out_c4)
            break;
        evk_real4 mask = evk_channel_mask(co4, p.out_c);
        [[unroll]] for (uint th = 0u; th < TILE_H; ++th) {
            if (oy0 + th >= p.out_h)
                break;
            uint row = ((n * p.out_c4 + co4) * p.out_h + oy0 + th) * p.out_w;
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                if (ox0 + t < p.out_w)
                    y[row + ox0 + t] = evk_store4(evk_activate(acc[c][th][t], ACTIVATION) * mask);
        }
    }
}

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint co_block = rest % p.co_blocks;
    uint n = rest / p.co_blocks;
    if (n >= p.batch)
        return;
    uint tiles = p.tiles_x * p.tiles_y;
    uint lane_tile = plane_group * (gl_WorkGroupSize.x / SPLIT) + gl_LocalInvocationID.x / SPLIT;
    uint tile = min(lane_tile, tiles - 1u);
    uint oy0 = (tile / p.tiles_x) * TILE_H;
    uint ox0 = (tile % p.tiles_x) * TILE_W;
    uint co4_first = co_block * TILE_C4;

    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c)
        [[unroll]] for (uint th = 0u; th < TILE_H; ++th)
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[c][th][t] = evk_real4(0.0);
    accumulate_source(true, UP_B, POOL_B, n, oy0, ox0, co4_first);
    spread_and_bias(co4_first);
    accumulate_source(false, 1u, POOL_A, n, oy0, ox0, co4_first);
    reduce_slices();
    if (lane_tile < tiles && slice() == 0u)
        store(n, co4_first, oy0, ox0);
}
