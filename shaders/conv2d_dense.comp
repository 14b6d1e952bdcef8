#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// Dense (groups = 1) K×K convolution. Each invocation computes TILE_W
// horizontally adjacent output pixels for TILE_C4 output channel quads. The
// quads of a workgroup are uniform, so weight loads are shared by the whole
// subgroup; each input row segment is loaded once per (input quad, ky) and
// reused for every kx and every output quad. Lanes past the end compute a
// clamped tile and skip only the store: control flow stays uniform, so a
// compiler that detects uniform loads (GPU scalar caches) can share them.
// PLANAR reads and writes plain NCHW instead of the packed layout; it exists
// to measure the layout choice (bench/layout_bench.c). With SPLIT > 1 (small
// layers on GPUs) the input quads are split across lanes (split_reduce.glsl).
#include "common.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint KH = 3u;
layout(constant_id = 3) const uint KW = 3u;
layout(constant_id = 4) const uint SH = 1u;
layout(constant_id = 5) const uint SW = 1u;
layout(constant_id = 6) const uint TILE_W = 4u;
layout(constant_id = 7) const uint TILE_C4 = 2u;
layout(constant_id = 8) const bool PLANAR = false;
layout(constant_id = 9) const uint SPLIT = 1u;
const uint SEGMENT = (TILE_W - 1u) * SW + KW;
#include "split_reduce.glsl"

// EVK_TEXEL_LOADS: input and weights are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer weight_texels;
evk_real4 input_texel(uint index) { return evk_fetch4(input_texels, index); }
evk_real input_float(uint index) { return evk_fetch_float(input_texels, index); }
evk_real4x4 load_weight(uint index) { return evk_fetch_mat4(weight_texels, index); }
#else
layout(std430, binding = 0) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 0) readonly buffer InputPlanar { evk_store x_planar[]; };
layout(std430, binding = 2) readonly buffer Weight { EVK_MAT4_ARRAY(w); };
evk_real4 input_texel(uint index) { return evk_real4(x[index]); }
evk_real input_float(uint index) { return evk_real(x_planar[index]); }
evk_real4x4 load_weight(uint index) { return evk_mat4_at(w, index); }
#endif
layout(std430, binding = 1) writeonly buffer Output { evk_store4 y[]; };
layout(std430, binding = 1) writeonly buffer OutputPlanar { evk_store y_planar[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, in_c4, in_h, in_w;
    uint out_c, out_c4, out_h, out_w;
    uint pad_h, pad_w, tiles_x, co_blocks;
    uint groups_per_plane, in_c;
} p;

evk_real4 load_input(uint n, uint ci4, uint iy, uint ix)
{
    if (!PLANAR)
        return input_texel(((n * p.in_c4 + ci4) * p.in_h + iy) * p.in_w + ix);
    evk_real4 v;
    [[unroll]] for (uint k = 0u; k < 4u; ++k) {
        uint c = ci4 * 4u + k;
        evk_real value = input_float(((n * p.in_c + min(c, p.in_c - 1u)) * p.in_h + iy) * p.in_w + ix);
        v[k] = c < p.in_c ? value : evk_real(0.0);
    }
    return v;
}

void store_output(uint n, uint co4, uint oy, uint ox, evk_real4 v)
{
    if (!PLANAR) {
        y[((n * p.out_c4 + co4) * p.out_h + oy) * p.out_w + ox] = evk_store4(v);
        return;
    }
    [[unroll]] for (uint k = 0u; k < 4u; ++k)
        if (co4 * 4u + k < p.out_c)
            y_planar[((n * p.out_c + co4 * 4u + k) * p.out_h + oy) * p.out_w + ox] = evk_store(v[k]);
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
    uint tiles = p.out_h * p.tiles_x;
    uint lane_tile = plane_group * split_tiles_per_group() + split_tile_in_group();
    uint tile = min(lane_tile, tiles - 1u);
    uint oy = tile / p.tiles_x;
    uint ox0 = (tile % p.tiles_x) * TILE_W;
    uint co4_first = co_block * TILE_C4;

    evk_real4 acc[TILE_C4][TILE_W];
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        evk_real4 bias = split_slice() == 0u ? evk_real4(b[min(co4_first + c, p.out_c4 - 1u)])
                                             : evk_real4(0.0);
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            acc[c][t] = bias;
    }

    int iy0 = int(oy * SH) - int(p.pad_h);
    int ix0 = int(ox0 * SW) - int(p.pad_w);
    for (uint ci4 = split_slice(); ci4 < p.in_c4; ci4 += SPLIT) {
        [[unroll]] for (uint ky = 0u; ky < KH; ++ky) {
            int iy = iy0 + int(ky);
            bool row_inside = iy >= 0 && iy < int(p.in_h);
            uint row = uint(clamp(iy, 0, int(p.in_h) - 1));
            evk_real4 seg[SEGMENT];
            [[unroll]] for (uint j = 0u; j < SEGMENT; ++j) {
                int ix = ix0 + int(j);
                bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
                evk_real4 v = load_input(n, ci4, row, uint(clamp(ix, 0, int(p.in_w) - 1)));
                seg[j] = mix(evk_real4(0.0), v, bvec4(inside));
            }
            [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
                uint co4 = min(co4_first + c, p.out_c4 - 1u);
                uint wbase = ((co4 * p.in_c4 + ci4) * KH + ky) * KW;
                [[unroll]] for (uint kx = 0u; kx < KW; ++kx) {
                    evk_real4x4 m = load_weight(wbase + kx);
                    [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                        acc[c][t] = evk_mat4_fma(m, seg[t * SW + kx], acc[c][t]);
                }
            }
        }
    }

    split_reduce(acc);
    if (lane_tile >= tiles || split_slice() != 0u)
        return;
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        uint co4 = co4_first + c;
        if (co4 >= p.out_c4)
            break;
        evk_real4 mask = evk_channel_mask(co4, p.out_c);
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            if (ox0 + t < p.out_w)
                store_output(n, co4, oy, ox0 + t, evk_activate(acc[c][t], ACTIVATION) * mask);
    }
}
