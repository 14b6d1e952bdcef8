#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
// effvk-variant: texel
// effvk-variant: fp16
// One branch of a depthwise OctConv (H→H or L→L): a depthwise K×K conv of
// the input pooled by POOL (2 at stride 2, averaged on load, see
// octconv.glsl). Four channels per vec4, TILE_W adjacent pixels of one row
// per invocation; each pooled row segment is loaded once and feeds every
// tap of the row. Lanes past the end compute a clamped tile and skip only
// the store.
#include "common.glsl"
#include "octconv.glsl"

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint K = 3u;
layout(constant_id = 3) const uint TILE_W = 4u;
layout(constant_id = 4) const uint POOL = 1u;
const uint PAD = (K - 1u) / 2u;
const uint SEGMENT = TILE_W + K - 1u;

// EVK_TEXEL_LOADS: the input and the weights are uniform texel buffers (see
// shader_variant.h), else storage buffers.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer input_texels;
layout(binding = 2) uniform samplerBuffer weight_texels;
evk_real4 load_input(uint i) { return evk_fetch4(input_texels, i); }
evk_real4 load_weight(uint i) { return evk_fetch4(weight_texels, i); }
#else
layout(std430, binding = 0) readonly buffer Input { evk_store4 x[]; };
layout(std430, binding = 2) readonly buffer Weight { evk_store4 w[]; };
evk_real4 load_input(uint i) { return evk_real4(x[i]); }
evk_real4 load_weight(uint i) { return evk_real4(w[i]); }
#endif
layout(std430, binding = 1) writeonly buffer Output { evk_store4 y[]; };
// The folded bias stays float32 at every precision.
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, c4, channels, in_h, in_w;
    uint out_h, out_w, tiles_x, groups_per_plane;
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

    evk_real4 acc[TILE_W];
    [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
        acc[t] = evk_real4(b[c4]);
    uint plane = (n * p.c4 + c4) * p.in_h * p.in_w;
    [[unroll]] for (uint ky = 0u; ky < K; ++ky) {
        int iy = int(oy + ky) - int(PAD);
        evk_real4 seg[SEGMENT];
        [[unroll]] for (uint j = 0u; j < SEGMENT; ++j) {
            int ix = int(ox0 + j) - int(PAD);
            // The taps' weights are powers of two, exact in half too.
            seg[j] = evk_real4(0.0);
            [[unroll]] for (uint a = 0u; a < POOL; ++a)
                [[unroll]] for (uint c = 0u; c < POOL; ++c)
                    seg[j] += evk_real(octconv_tap_weight(iy, p.in_h, POOL, a) *
                                       octconv_tap_weight(ix, p.in_w, POOL, c)) *
                              load_input(plane + octconv_tap_index(iy, p.in_h, POOL, a) * p.in_w +
                                         octconv_tap_index(ix, p.in_w, POOL, c));
        }
        [[unroll]] for (uint kx = 0u; kx < K; ++kx) {
            evk_real4 k = load_weight(c4 * K * K + ky * K + kx);
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[t] = fma(k, seg[t + kx], acc[t]);
        }
    }
    if (lane_tile >= tiles)
        return;
    evk_real4 mask = evk_channel_mask(c4, p.channels);
    uint row = ((n * p.c4 + c4) * p.out_h + oy) * p.out_w;
    [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
        if (ox0 + t < p.out_w)
            y[row + ox0 + t] = evk_store4(evk_activate(acc[t], ACTIVATION) * mask);
}
