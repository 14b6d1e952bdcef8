// The pooling window of shaders/pool_max.comp and pool_avg.comp: the push
// constants host/ops/pool.c fills and the output quad of a lane.

layout(push_constant) uniform Shape {
    uint planes, in_h, in_w, out_h, out_w;
    uint kernel_h, kernel_w, stride_h, stride_w;
    uint pad_top, pad_left, pad_bottom, pad_right;
    uint count_include_pad;
} p;

// The window of output quad `index` in padded coordinates: it starts at
// (y0, x0), which is negative in the top or left padding.
struct evk_window {
    uint plane;
    int y0, x0;
};

evk_window evk_pool_window(uint index)
{
    uint out_plane = p.out_h * p.out_w;
    uint oy = index % out_plane / p.out_w, ox = index % p.out_w;
    return evk_window(index / out_plane, int(oy * p.stride_h) - int(p.pad_top),
                      int(ox * p.stride_w) - int(p.pad_left));
}
