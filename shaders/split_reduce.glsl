// Split reduction over input channels, for layers whose output tiles are too
// few to fill a GPU: SPLIT adjacent lanes share one output tile, each summing
// every SPLIT-th input step from its slice, and the slices are added through
// shared memory. Include after the shader defines SPLIT, TILE_C4 and TILE_W
// and keeps its accumulators as evk_real4 acc[TILE_C4][TILE_W], declared with
// these very constants: an array sized by another constant of the same value
// is another type, and its conversion at the call gave wrong sums on
// lavapipe. SPLIT = 1 (every CPU-device dispatch) takes no shared memory and
// no barrier. The slices meet in float32 (the host sizes the shared memory
// for vec4) and are added in the arithmetic's precision.

const uint SPLIT_SLOTS = SPLIT > 1u ? gl_WorkGroupSize.x * TILE_C4 * TILE_W : 1u;
shared vec4 split_partial[SPLIT_SLOTS];

// The slice of the input steps this lane sums, and the tile it works on
// within its workgroup.
uint split_slice() { return gl_LocalInvocationID.x % SPLIT; }
uint split_tile_in_group() { return gl_LocalInvocationID.x / SPLIT; }
uint split_tiles_per_group() { return gl_WorkGroupSize.x / SPLIT; }

// Adds the other slices' sums into slice 0's accumulators. Every lane of the
// workgroup must call it (it holds a barrier); afterwards only lanes with
// split_slice() == 0 hold the full sums.
void split_reduce(inout evk_real4 acc[TILE_C4][TILE_W])
{
    if (SPLIT == 1u)
        return;
    uint base = gl_LocalInvocationID.x * TILE_C4 * TILE_W;
    [[unroll]] for (uint c = 0u; c < TILE_C4; ++c)
        [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
            split_partial[base + c * TILE_W + t] = vec4(acc[c][t]);
    barrier();
    if (split_slice() != 0u)
        return;
    for (uint s = 1u; s < SPLIT; ++s)
        [[unroll]] for (uint c = 0u; c < TILE_C4; ++c)
            [[unroll]] for (uint t = 0u; t < TILE_W; ++t)
                acc[c][t] += evk_real4(split_partial[base + s * TILE_C4 * TILE_W + c * TILE_W + t]);
}
