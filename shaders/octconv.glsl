// Pooling shared by the OctConv kernels, never written to memory: a kernel
// loads the pooled quads it needs through these taps. A `size`-pixel axis
// pooled by POOL (1, 2 or 4) has ceil(size / POOL) pixels; each averages the
// pixels of its window that lie inside the map (ceil mode), and POOL 4 is
// two nested 2×2 averages, as the official stride-2 H→L path pools twice.
// Both axes pool alike, so a 2-D pooled quad is the sum over a, c < POOL of
// octconv_tap_weight(row, a)·octconv_tap_weight(col, c)·x[row tap a][col tap c].

uint octconv_pooled_size(uint size, uint pool)
{
    return (size + pool - 1u) / pool;
}

// The full-resolution index of tap a (< pool) of pooled pixel p, clamped
// into the map.
uint octconv_tap_index(int p, uint size, uint pool, uint a)
{
    return min(uint(max(p, 0)) * pool + a, size - 1u);
}

// The weight of tap a of pooled pixel p; 0 when the tap lies outside the map
// and for every tap when p lies outside the pooled map (the convolution's
// zero padding).
float octconv_tap_weight(int p, uint size, uint pool, uint a)
{
    bool inside = p >= 0 && p < int(octconv_pooled_size(size, pool));
    uint first = uint(max(p, 0)) * pool, r = first + a;
    // Factor 4 averages the 2×2 averages inside the half-size map.
    bool two_halves = first / 2u + 1u < (size + 1u) / 2u;
    float outer = pool == 4u && two_halves ? 0.5 : 1.0;
    // r's own 2×2 pair holds one pixel or two.
    float inner = pool > 1u && (r | 1u) < size ? 0.5 : 1.0;
    return inside && r < size ? inner * outer : 0.0;
}
