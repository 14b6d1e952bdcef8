#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// Depthwise K×K convolution (groups = in = out channels): four channels per
// vec4, TILE_W horizontally adjacent output pixels per invocation, the input
// row segment loaded once per ky. Bandwidth-bound: every input texel is read
// about K·K/(TILE_W·SW) times from cache and once from memory. Lanes past the
// end work on a clamped tile and skip only the store (uniform control flow).
#include "common.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint KH = 3u;
layout(constant_id = 3) const uint KW = 3u;
layout(constant_id = 4) const uint SH = 1u;
layout(constant_id = 5) const uint SW = 1u;
layout(constant_id = 6) const uint TILE_W = 4u;
const uint SEGMENT = (TILE_W - 1u) * SW + KW;

layout(std430, binding = 0) readonly buffer Input { vec4 x[]; };
layout(std430, binding = 1) writeonly buffer Output { vec4 y[]; };
layout(std430, binding = 2) readonly buffer Weight { vec4 w[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, c4, channels, in_h;
    uint in_w, out_h, out_w, pad_h;
    uint pad_w, tiles_x, groups_per_plane;
} p;

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint c4 = rest % p.c4;
    uint n = rest / p.c4;
    if (n >= p.batch)
        return;
    uint tiles = p.out_h * p.tiles_x;
    uint lane_tile = plane_group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    uint tile = min(lane_tile, tiles - 1u);
    uint oy = tile / p.tiles_x;
    uint ox0 = (tile % p.tiles_x) * TILE_W;

    vec4 acc[TILE_W];
    [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
        acc[t] = b[c4];
    int iy0 = int(oy * SH) - int(p.pad_h);
    int ix0 = int(ox0 * SW) - int(p.pad_w);
    uint plane = (n * p.c4 + c4) * p.in_h;
    [[unroll]] for (uint ky = 0u; ky < KH; ++ky) {
        int iy = iy0 + int(ky);
        bool row_inside = iy >= 0 && iy < int(p.in_h);
        uint row = (plane + uint(clamp(iy, 0, int(p.in_h) - 1))) * p.in_w;
        vec4 seg[SEGMENT];
        [[unroll]] for (uint j = 0u; j < SEGMENT; ++j) {
            int ix = ix0 + int(j);
            bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
            vec4 v = x[row + uint(clamp(ix, 0, int(p.in_w) - 1))];
            seg[j] = mix(vec4(0.0), v, bvec4(inside));
        }
        [[unroll]] for (uint kx = 0u; kx < KW; ++kx) {
            vec4 k = w[(c4 * KH + ky) * KW + kx];
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[t] = fma(k, seg[t * SW + kx], acc[t]);
        }
    }
    if (lane_tile >= tiles)
        return;
    vec4 mask = evk_channel_mask(c4, p.channels);
    uint out_row = ((n * p.c4 + c4) * p.out_h + oy) * p.out_w;
    [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
        if (ox0 + t < p.out_w)
            y[out_row + ox0 + t] = evk_activate(acc[t], ACTIVATION) * mask;
}
