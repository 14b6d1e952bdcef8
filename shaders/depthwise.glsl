// The body of the depthwise K×K convolution (groups = in = out channels),
// shared by conv2d_depthwise.comp and mbconv_depthwise.comp: four channels
// per vec4, a TILE_H × TILE_W block of output pixels per invocation; each
// input row segment is loaded once and feeds every output row of the block
// that needs it. Bandwidth-bound: every input quad is read about
// K·K/(TILE_W·SW) times from cache and once from memory. Lanes past the end
// work on a clamped tile and skip only the store (uniform control flow). The
// including shader defines depthwise_tile_sum, which every invocation of a
// workgroup reaches after its stores.

layout(constant_id = 1) const uint ACTIVATION = 0u;
layout(constant_id = 2) const uint KH = 3u;
layout(constant_id = 3) const uint KW = 3u;
layout(constant_id = 4) const uint SH = 1u;
layout(constant_id = 5) const uint SW = 1u;
layout(constant_id = 6) const uint TILE_W = 4u;
layout(constant_id = 7) const uint TILE_H = 1u;
const uint SEGMENT = (TILE_W - 1u) * SW + KW;
const uint ROWS = (TILE_H - 1u) * SH + KH;

// EVK_TEXEL_LOADS: the input is a uniform texel buffer (see
// shader_variant.h), else a storage buffer.
#ifdef EVK_TEXEL_LOADS
layout(binding = 0) uniform samplerBuffer input_texels;
evk_real4 load_input(uint quad) { return evk_fetch4(input_texels, quad); }
#else
layout(std430, binding = 0) readonly buffer Input { evk_store4 x[]; };
evk_real4 load_input(uint quad) { return evk_real4(x[quad]); }
#endif
layout(std430, binding = 1) writeonly buffer Output { evk_store4 y[]; };
layout(std430, binding = 2) readonly buffer Weight { evk_store4 w[]; };
layout(std430, binding = 3) readonly buffer Bias { vec4 b[]; };

layout(push_constant) uniform Shape {
    uint batch, c4, channels, in_h;
    uint in_w, out_h, out_w, pad_h;
    uint pad_w, tiles_x, tiles_y, groups_per_plane;
} p;

// Receives the sum of the invocation's activated outputs (zero for lanes past
// the end) of image n, channel quad c4, workgroup plane_group of the plane,
// in float32 (it feeds a reduction), from the outputs as stored.
void depthwise_tile_sum(vec4 sum, uint n, uint c4, uint plane_group);

void main()
{
    uint group = evk_linear_group();
    uint plane_group = group % p.groups_per_plane;
    uint rest = group / p.groups_per_plane;
    uint c4 = rest % p.c4;
    uint n = rest / p.c4;
    if (n >= p.batch)
        return;
    uint tiles = p.tiles_y * p.tiles_x;
    uint lane_tile = plane_group * gl_WorkGroupSize.x + gl_LocalInvocationID.x;
    uint tile = min(lane_tile, tiles - 1u);
    uint oy0 = (tile / p.tiles_x) * TILE_H;
    uint ox0 = (tile % p.tiles_x) * TILE_W;

    evk_real4 k[KH * KW];
    [[unroll]] for (uint t = 0u; t < KH * KW; ++t)
        k[t] = evk_real4(w[c4 * KH * KW + t]);
    evk_real4 acc[TILE_H][TILE_W];
    [[unroll]] for (uint th = 0u; th < TILE_H; ++th)
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            acc[th][t] = evk_real4(b[c4]);
    int iy0 = int(oy0 * SH) - int(p.pad_h);
    int ix0 = int(ox0 * SW) - int(p.pad_w);
    uint plane = (n * p.c4 + c4) * p.in_h;
    [[unroll]] for (uint r = 0u; r < ROWS; ++r) {
        int iy = iy0 + int(r);
        bool row_inside = iy >= 0 && iy < int(p.in_h);
        uint row = (plane + uint(clamp(iy, 0, int(p.in_h) - 1))) * p.in_w;
        evk_real4 seg[SEGMENT];
        [[unroll]] for (uint j = 0u; j < SEGMENT; ++j) {
            int ix = ix0 + int(j);
            bool inside = row_inside && ix >= 0 && ix < int(p.in_w);
            evk_real4 v = load_input(row + uint(clamp(ix, 0, int(p.in_w) - 1)));
            seg[j] = mix(evk_real4(0.0), v, bvec4(inside));
        }
        // Input row r feeds output row th through kernel row r - th·SH.
        [[unroll]] for (uint th = 0u; th < TILE_H; ++th) {
            if (r < th * SH || r - th * SH >= KH)
                continue;
            uint ky = r - th * SH;
            [[unroll]] for (uint kx = 0u; kx < KW; ++kx)
                [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                    acc[th][t] = fma(k[ky * KW + kx], seg[t * SW + kx], acc[th][t]);
        }
    }
    evk_real4 mask = evk_channel_mask(c4, p.channels);
    vec4 sum = vec4(0.0);
    bool lane_inside = lane_tile < tiles;
    [[unroll]] for (uint th = 0u; th < TILE_H; ++th)
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t) {
            acc[th][t] = evk_activate(acc[th][t], ACTIVATION) * mask;
            bool inside = lane_inside && oy0 + th < p.out_h && ox0 + t < p.out_w;
            sum += mix(vec4(0.0), vec4(evk_store4(acc[th][t])), bvec4(inside));
        }
    [[unroll]] for (uint th = 0u; th < TILE_H; ++th) {
        uint out_row = ((n * p.c4 + c4) * p.out_h + oy0 + th) * p.out_w;
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            if (lane_inside && oy0 + th < p.out_h && ox0 + t < p.out_w)
                y[out_row + ox0 + t] = evk_store4(acc[th][t]);
    }
    // Last, so that only the sum lives across the hook's barrier: llvmpipe
    // keeps every live value of an invocation in memory across a barrier,
    // and the accumulators there cost the fused pass 25%.
    depthwise_tile_sum(sum, n, c4, plane_group);
}
