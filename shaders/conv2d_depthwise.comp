#version 450
#extension GL_GOOGLE_include_directive : require
// Depthwise K×K convolution (groups = in = out channels): four channels per
// vec4, TILE_W horizontally adjacent output pixels per invocation, the input
// row segment loaded once per ky. Bandwidth-bound: every input texel is read
// about K·K/(TILE_W·SW) times from cache and once from memory.
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
    uint tile = plane_group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    if (n >= p.batch || tile >= p.out_h * p.tiles_x)
        return;
    uint oy = tile / p.tiles_x;
    uint ox0 = (tile % p.tiles_x) * TILE_W;

    vec4 acc[TILE_W];
    for (uint t = 0u; t < TILE_W; ++t)
        acc[t] = b[c4];
    int iy0 = int(oy * SH) - int(p.pad_h);
    int ix0 = int(ox0 * SW) - int(p.pad_w);
    uint plane = (n * p.c4 + c4) * p.in_h;
    for (uint ky = 0u; ky < KH; ++ky) {
        int iy = iy0 + int(ky);
        if (iy < 0 || iy >= int(p.in_h))
            continue;
        uint row = (plane + uint(iy)) * p.in_w;
        vec4 seg[SEGMENT];
        for (uint j = 0u; j < SEGMENT; ++j) {
            int ix = ix0 + int(j);
            seg[j] = (ix >= 0 && ix < int(p.in_w)) ? x[row + uint(ix)] : vec4(0.0);
        }
        for (uint kx = 0u; kx < KW; ++kx) {
            vec4 k = w[(c4 * KH + ky) * KW + kx];
            for (uint t = 0u; t < TILE_W; ++t)
                acc[t] += k * seg[t * SW + kx];
        }
    }
    vec4 mask = evk_channel_mask(c4, p.channels);
    uint out_row = ((n * p.c4 + c4) * p.out_h + oy) * p.out_w;
    for (uint t = 0u; t < TILE_W; ++t)
        if (ox0 + t < p.out_w)
            y[out_row + ox0 + t] = evk_activate(acc[t], ACTIVATION) * mask;
}
