#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// HetConv with part P in one pass. Output channels fall into classes that
// share a K×K pattern (see host/ops/hetconv.h); a workgroup computes TILE_C4
// quads of one class — four output channels of the class per vec4
// accumulator, each stored as a scalar into its packed position — for
// TILE_W horizontally adjacent pixels per invocation. The sum has two parts:
//  - the centre tap of every input channel, a 1×1 conv over all input quads
//    (vec4 loads, mat4 weights), and
//  - the other K²−1 taps of only the class's K×K input channels, one scalar
//    input channel at a time: each input row segment is loaded once per
//    (channel, ky) and shared by every kx, every pixel of the tile and every
//    output channel of the class.
// So the loads and FMAs follow the layer's MACs, not the dense conv's. The
// class and its quads are uniform per workgroup (weight loads shared by the
// subgroup); lanes past the end compute a clamped tile and skip only the
// store, keeping control flow uniform around every load.
#include "common.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint K = 3u;
layout(constant_id = 3) const uint STRIDE = 1u;
layout(constant_id = 4) const uint TILE_W = 4u;
layout(constant_id = 5) const uint TILE_C4 = 2u;
const uint MID = (K - 1u) / 2u;
const uint OFF_TAPS = K * K - 1u;
const uint SEGMENT = (TILE_W - 1u) * STRIDE + K;

layout(std430, binding = 0) readonly buffer Input { vec4 x[]; };
layout(std430, binding = 0) readonly buffer InputScalar { float xs[]; };
layout(std430, binding = 1) writeonly buffer Output { float ys[]; };
layout(std430, binding = 2) readonly buffer Centre { mat4 w_centre[]; };
layout(std430, binding = 3) readonly buffer OffCentre { vec4 w_off[]; };
layout(std430, binding = 4) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, in_c, in_c4, in_h, in_w;
    uint out_c, out_c4, out_h, out_w, pad;
    uint tiles_x, groups_per_plane, classes, quad_blocks;
    uint quads, inputs, in_first, in_step, out_first, out_step, out_class_size;
} p;

// The index of tap (ky, kx) among the off-centre taps, in row-major order.
uint off_tap(uint ky, uint kx)
{
    uint t = ky * K + kx;
    return t > MID * K + MID ? t - 1u : t;
}

// The weight-buffer quad of accumulator c: quads are numbered across
// classes; accumulators past the class's last quad reuse it (and skip the
// store).
uint weight_quad(uint r, uint quad_first, uint c)
{
    return r * p.quads + min(quad_first + c, p.quads - 1u);
}

void accumulate_centre(uint n, uint r, uint quad_first, int iy0, int ix0, inout vec4 acc[TILE_C4][TILE_W])
{
    int iy = iy0 + int(MID);
    bool row_inside = iy >= 0 && iy < int(p.in_h);
    uint row = uint(clamp(iy, 0, int(p.in_h) - 1));
    for (uint ci4 = 0u; ci4 < p.in_c4; ++ci4) {
        uint base = ((n * p.in_c4 + ci4) * p.in_h + row) * p.in_w;
        vec4 v[TILE_W];
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t) {
            int ix = ix0 + int(t * STRIDE + MID);
            bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
            v[t] = mix(vec4(0.0), x[base + uint(clamp(ix, 0, int(p.in_w) - 1))], bvec4(inside));
        }
        [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
            mat4 m = w_centre[weight_quad(r, quad_first, c) * p.in_c4 + ci4];
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[c][t] = evk_mat4_fma(m, v[t], acc[c][t]);
        }
    }
}

void accumulate_off_centre(uint n, uint r, uint quad_first, int iy0, int ix0,
                           inout vec4 acc[TILE_C4][TILE_W])
{
    for (uint t = 0u; t < p.inputs; ++t) {
        // Slots past the last input channel have zero weights.
        uint i = min(r * p.in_first + t * p.in_step, p.in_c - 1u);
        uint plane = (n * p.in_c4 + i / 4u) * p.in_h;
        [[unroll]] for (uint ky = 0u; ky < K; ++ky) {
            int iy = iy0 + int(ky);
            bool row_inside = iy >= 0 && iy < int(p.in_h);
            uint row = (plane + uint(clamp(iy, 0, int(p.in_h) - 1))) * p.in_w;
            float seg[SEGMENT];
            [[unroll]] for (uint s = 0u; s < SEGMENT; ++s) {
                int ix = ix0 + int(s);
                bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
                float v = xs[(row + uint(clamp(ix, 0, int(p.in_w) - 1))) * 4u + i % 4u];
                seg[s] = inside ? v : 0.0;
            }
            [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
                uint wbase = (weight_quad(r, quad_first, c) * p.inputs + t) * OFF_TAPS;
                [[unroll]] for (uint kx = 0u; kx < K; ++kx) {
                    if (ky == MID && kx == MID)
                        continue;
                    vec4 w = w_off[wbase + off_tap(ky, kx)];
                    [[unroll]] for (uint px = 0u; px < TILE_W; ++px)
                        acc[c][px] = fma(w, vec4(seg[px * STRIDE + kx]), acc[c][px]);
                }
            }
        }
    }
}

// Writes one output quad's lanes to the channels they stand for; lanes that
// are padding (past out_c) get zeros, slots of no channel nothing.
void store_quad(uint n, uint r, uint quad, uint oy, uint ox, vec4 v)
{
    [[unroll]] for (uint lane = 0u; lane < 4u; ++lane) {
        uint j = quad * 4u + lane;
        uint o = r * p.out_first + j * p.out_step;
        bool owned = j < p.out_class_size || r == p.classes - 1u;
        if (owned && o < p.out_c4 * 4u)
            ys[(((n * p.out_c4 + o / 4u) * p.out_h + oy) * p.out_w + ox) * 4u + o % 4u] =
                o < p.out_c ? v[lane] : 0.0;
    }
}

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint blocks = p.classes * p.quad_blocks;
    uint block = rest % blocks;
    uint n = rest / blocks;
    if (n >= p.batch)
        return;
    uint r = block / p.quad_blocks;
    uint quad_first = (block % p.quad_blocks) * TILE_C4;
    uint tiles = p.out_h * p.tiles_x;
    uint lane_tile = plane_group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    uint tile = min(lane_tile, tiles - 1u);
    uint oy = tile / p.tiles_x;
    uint ox0 = (tile % p.tiles_x) * TILE_W;

    vec4 acc[TILE_C4][TILE_W];
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        vec4 bias = b[weight_quad(r, quad_first, c)];
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            acc[c][t] = bias;
    }
    int iy0 = int(oy * STRIDE) - int(p.pad);
    int ix0 = int(ox0 * STRIDE) - int(p.pad);
    accumulate_centre(n, r, quad_first, iy0, ix0, acc);
    accumulate_off_centre(n, r, quad_first, iy0, ix0, acc);

    if (lane_tile >= tiles)
        return;
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c) {
        if (quad_first + c >= p.quads)
            break;
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            if (ox0 + t < p.out_w)
                store_quad(n, r, quad_first + c, oy, ox0 + t, evk_activate(acc[c][t], ACTIVATION));
    }
}
