#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// HetConv with part P in one pass. Output channels fall into classes that
// share a K×K pattern (see host/ops/hetconv.h); a workgroup computes TILE_C4
// quads of one lane group for TILE_W horizontally adjacent pixels per
// invocation. The sum has two parts:
//  - the centre tap of every input channel, a 1×1 conv over all input quads
//    (vec4 loads, mat4 weights), and
//  - the other K²−1 taps of only each lane's K×K input channels, one input
//    step t at a time: each input row segment is loaded once per (t, ky) and
//    shared by every kx, every pixel of the tile and every quad.
// How a step maps onto lanes (TERMS):
//  - TERMS 1, 2 or 4 (whole quads, when P divides 4 or 4 divides P, or
//    contiguous groups are whole quads): a quad is four consecutive output
//    channels and a step one input quad, whose lanes all belong to the
//    classes the quad's lanes need; TERMS vec4 FMAs per quad and tap take
//    exactly the useful products (P = 2: lanes 0 and 2 need input lanes 0
//    and 2, so x.xyxy and x.zwzw), and the quad is stored as one vec4;
//  - TERMS 0 (any other P): a step is one scalar input channel per lane.
//    A quad's lanes are four output channels of one class (LANE_CLASSES 1:
//    one scalar load serves all four) or of four classes (LANE_CLASSES 4,
//    when classes have few channels), each stored into its packed position.
// So the loads and FMAs follow the layer's MACs, not the dense conv's. The
// lane group and its quads are uniform per workgroup (weight loads shared by
// the subgroup); lanes past the end compute a clamped tile and skip only the
// store, keeping control flow uniform around every load. With SPLIT > 1
// (small layers on GPUs) both sums are split across lanes
// (split_reduce.glsl).
#include "common.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint K = 3u;
layout(constant_id = 3) const uint STRIDE = 1u;
layout(constant_id = 4) const uint TILE_W = 4u;
layout(constant_id = 5) const uint TILE_C4 = 2u;
layout(constant_id = 6) const uint LANE_CLASSES = 1u;
layout(constant_id = 7) const uint SPLIT = 1u;
layout(constant_id = 8) const uint TERMS = 0u;
const uint WEIGHT_TERMS = TERMS == 0u ? 1u : TERMS;
const uint MID = (K - 1u) / 2u;
const uint OFF_TAPS = K * K - 1u;
const uint SEGMENT = (TILE_W - 1u) * STRIDE + K;
#include "split_reduce.glsl"

// EVK_TEXEL_LOADS: input and weights are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer centre_texels;
layout(binding = 3) uniform samplerBuffer off_centre_texels;
// The input again, as float texels: one gathered float per scalar load.
layout(binding = 5) uniform samplerBuffer input_floats;
evk_real4 input_texel(uint index) { return evk_fetch4(input_texels, index); }
evk_real input_float(uint index) { return evk_real(texelFetch(input_floats, int(index)).x); }
evk_real4x4 centre_weight(uint index) { return evk_fetch_mat4(centre_texels, index); }
evk_real4 off_centre_weight(uint index) { return evk_fetch4(off_centre_texels, index); }
#else
layout(std430, binding = 0) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 0) readonly buffer InputScalar { evk_store xs[]; };
layout(std430, binding = 2) readonly buffer Centre { EVK_MAT4_ARRAY(w_centre); };
layout(std430, binding = 3) readonly buffer OffCentre { evk_store4 w_off[]; };
evk_real4 input_texel(uint index) { return evk_real4(x[index]); }
evk_real input_float(uint index) { return evk_real(xs[index]); }
evk_real4x4 centre_weight(uint index) { return evk_mat4_at(w_centre, index); }
evk_real4 off_centre_weight(uint index) { return evk_real4(w_off[index]); }
#endif
layout(std430, binding = 1) writeonly buffer Output { evk_store ys[]; };
layout(std430, binding = 1) writeonly buffer OutputQuads { evk_store4 y[]; };
layout(std430, binding = 4) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, in_c, in_c4, in_h, in_w;
    uint out_c, out_c4, out_h, out_w, pad;
    uint tiles_x, groups_per_plane, classes, lane_groups, quad_blocks;
    uint quads, inputs, in_first, in_step, out_first, out_step, out_class_size;
} p;

// The index of tap (ky, kx) among the off-centre taps, in row-major order.
uint off_tap(uint ky, uint kx)
{
    uint t = ky * K + kx;
    return t > MID * K + MID ? t - 1u : t;
}

// The weight-buffer quad of accumulator c: quads are numbered across lane
// groups; accumulators past the group's last quad reuse it (and skip the
// store).
uint weight_quad(uint g, uint quad_first, uint c)
{
    return g * p.quads + min(quad_first + c, p.quads - 1u);
}

uint lane_class(uint g, uint lane)
{
    return LANE_CLASSES == 1u ? g : g * 4u + lane;
}

// Offset in the scalar view of the input of K×K input slot t of lane's
// class, at pixel 0. Slots past the last channel or class have zero
// weights; they read a clamped channel.
uint input_offset(uint n, uint g, uint lane, uint t)
{
    uint r = min(lane_class(g, lane), p.classes - 1u);
    uint i = min(r * p.in_first + t * p.in_step, p.in_c - 1u);
    return (n * p.in_c4 + i / 4u) * p.in_h * p.in_w * 4u + i % 4u;
}

// Where step t's inputs start at pixel 0: with whole quads, .x is the
// quad's offset (a clamped quad where the slot is past the end: zero
// weights); else each lane's scalar offset.
uvec4 step_offsets(uint n, uint g, uint t)
{
    if (TERMS != 0u) {
        uint quad = min(g * p.in_first + t * p.in_step, p.in_c4 - 1u);
        return uvec4((n * p.in_c4 + quad) * p.in_h * p.in_w);
    }
    uvec4 offset = uvec4(input_offset(n, g, 0u, t));
    if (LANE_CLASSES != 1u)
        offset = uvec4(offset.x, input_offset(n, g, 1u, t), input_offset(n, g, 2u, t),
                       input_offset(n, g, 3u, t));
    return offset;
}

// Step t's inputs at one pixel.
evk_real4 load_step(uvec4 offset, uint pixel)
{
    if (TERMS != 0u)
        return input_texel(offset.x + pixel);
    if (LANE_CLASSES == 1u)
        return evk_real4(input_float(offset.x + pixel * 4u));
    return evk_real4(input_float(offset.x + pixel * 4u), input_float(offset.y + pixel * 4u),
                     input_float(offset.z + pixel * 4u), input_float(offset.w + pixel * 4u));
}

// The input lanes that term k of a whole quad brings to each output lane.
evk_real4 term_inputs(evk_real4 v, uint k)
{
    if (TERMS == 2u)
        return k == 0u ? v.xyxy : v.zwzw;
    if (TERMS == 4u)
        return evk_real4(v[k]);
    return v;
}

void accumulate_centre(uint n, uint g, uint quad_first, int iy0, int ix0,
                       inout evk_real4 acc[TILE_C4][TILE_W])
{
    int iy = iy0 + int(MID);
    bool row_inside = iy >= 0 && iy < int(p.in_h);
    uint row = uint(clamp(iy, 0, int(p.in_h) - 1));
    for (uint ci4 = split_slice(); ci4 < p.in_c4; ci4 += SPLIT) {
        uint base = ((n * p.in_c4 + ci4) * p.in_h + row) * p.in_w;
        evk_real4 v[TILE_W];
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t) {
            int ix = ix0 + int(t * STRIDE + MID);
            bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
            v[t] = mix(evk_real4(0.0), input_texel(base + uint(clamp(ix, 0, int(p.in_w) - 1))),
                       bvec4(inside));
        }
        [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
            evk_real4x4 m = centre_weight(weight_quad(g, quad_first, c) * p.in_c4 + ci4);
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[c][t] = evk_mat4_fma(m, v[t], acc[c][t]);
        }
    }
}

void accumulate_off_centre(uint n, uint g, uint quad_first, int iy0, int ix0,
                           inout evk_real4 acc[TILE_C4][TILE_W])
{
    for (uint t = split_slice(); t < p.inputs; t += SPLIT) {
        uvec4 offset = step_offsets(n, g, t);
        [[unroll]] for (uint ky = 0u; ky < K; ++ky) {
            int iy = iy0 + int(ky);
            bool row_inside = iy >= 0 && iy < int(p.in_h);
            uint row = uint(clamp(iy, 0, int(p.in_h) - 1)) * p.in_w;
            evk_real4 seg[SEGMENT];
            [[unroll]] for (uint s = 0u; s < SEGMENT; ++s) {
                int ix = ix0 + int(s);
                bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
                evk_real4 v = load_step(offset, row + uint(clamp(ix, 0, int(p.in_w) - 1)));
                seg[s] = mix(evk_real4(0.0), v, bvec4(inside));
            }
            [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
                uint wbase = (weight_quad(g, quad_first, c) * p.inputs + t) * OFF_TAPS;
                evk_real4 w[K][WEIGHT_TERMS];
                [[unroll]] for (uint kx = 0u; kx < K; ++kx) {
                    uint tap = (wbase + off_tap(ky, kx)) * WEIGHT_TERMS;
                    [[unroll]] for (uint k = 0u; k < WEIGHT_TERMS; ++k)
                        if (ky != MID || kx != MID)
                            w[kx][k] = off_centre_weight(tap + k);
                }
                // Each accumulator takes all of the row's products at once:
                // llvmpipe keeps large tiles in memory.
                [[unroll]] for (uint px = 0u; px < TILE_W; ++px) {
                    evk_real4 sum = acc[c][px];
                    [[unroll]] for (uint kx = 0u; kx < K; ++kx)
                        [[unroll]] for (uint k = 0u; k < WEIGHT_TERMS; ++k)
                            if (ky != MID || kx != MID)
                                sum = fma(w[kx][k], term_inputs(seg[px * STRIDE + kx], k), sum);
                    acc[c][px] = sum;
                }
            }
        }
    }
}

// Writes one output quad's lanes to the channels they stand for; lanes that
// are padding (past out_c) get zeros, lanes of no channel nothing.
void store_quad(uint n, uint g, uint quad, uint oy, uint ox, evk_real4 v)
{
    [[unroll]] for (uint lane = 0u; lane < 4u; ++lane) {
        uint r = lane_class(g, lane);
        uint j = LANE_CLASSES == 1u ? quad * 4u + lane : quad;
        uint o = r * p.out_first + j * p.out_step;
        bool owned = j < p.out_class_size || r == p.classes - 1u;
        if (r < p.classes && owned && o < p.out_c4 * 4u)
            ys[(((n * p.out_c4 + o / 4u) * p.out_h + oy) * p.out_w + ox) * 4u + o % 4u] =
                evk_store(o < p.out_c ? v[lane] : evk_real(0.0));
    }
}

// Writes quad j of group g of a whole-quad layout as one vec4, its lanes past
// out_c as zeros.
void store_texel(uint n, uint g, uint j, uint oy, uint ox, evk_real4 v)
{
    uint quad = g * p.out_first + j * p.out_step;
    if (quad >= p.out_c4)
        return;
    bvec4 padding = greaterThanEqual(uvec4(quad * 4u) + uvec4(0u, 1u, 2u, 3u), uvec4(p.out_c));
    y[((n * p.out_c4 + quad) * p.out_h + oy) * p.out_w + ox] =
        evk_store4(mix(v, evk_real4(0.0), padding));
}

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint blocks = p.lane_groups * p.quad_blocks;
    uint block = rest % blocks;
    uint n = rest / blocks;
    if (n >= p.batch)
        return;
    uint g = block / p.quad_blocks;
    uint quad_first = (block % p.quad_blocks) * TILE_C4;
    uint tiles = p.out_h * p.tiles_x;
    uint lane_tile = plane_group * split_tiles_per_group() + split_tile_in_group();
    uint tile = min(lane_tile, tiles - 1u);
    uint oy = tile / p.tiles_x;
    uint ox0 = (tile % p.tiles_x) * TILE_W;

    evk_real4 acc[TILE_C4][TILE_W];
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        evk_real4 bias = split_slice() == 0u ? evk_real4(b[weight_quad(g, quad_first, c)])
                                             : evk_real4(0.0);
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            acc[c][t] = bias;
    }
    int iy0 = int(oy * STRIDE) - int(p.pad);
    int ix0 = int(ox0 * STRIDE) - int(p.pad);
    accumulate_centre(n, g, quad_first, iy0, ix0, acc);
    accumulate_off_centre(n, g, quad_first, iy0, ix0, acc);

    split_reduce(acc);
    if (lane_tile >= tiles || split_slice() != 0u)
        return;
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        if (quad_first + c >= p.quads)
            break;
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            if (ox0 + t < p.out_w) {
                evk_real4 v = evk_activate(acc[c][t], ACTIVATION);
                if (TERMS != 0u)
                    store_texel(n, g, quad_first + c, oy, ox0 + t, v);
                else
                    store_quad(n, g, quad_first + c, oy, ox0 + t, v);
            }
    }
}
