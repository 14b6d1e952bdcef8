/* Compute pipelines: created on first use per (shader, specialization
 * constants) and kept for the context's life, through a VkPipelineCache that
 * can persist in a file. Device limits are checked here, on the host, before
 * anything reaches the driver. */
#ifndef EFFVK_HOST_PIPELINE_H
#define EFFVK_HOST_PIPELINE_H

#include "context.h"

#define EVK_MAX_SPEC_CONSTANTS 16

/* What identifies a pipeline. Every shader declares its workgroup size with
 * local_size_x_id = 0 (y, z = 1) and its other tunables from constant_id 1
 * upwards, in the order of `spec`. */
typedef struct evk_pipeline_key {
    const char *shader;             /* registry name */
    uint32_t workgroup_size;
    uint32_t spec[EVK_MAX_SPEC_CONSTANTS];
    uint32_t spec_count;
    uint32_t binding_count;         /* storage buffers at bindings 0..n-1, */
    /* but bit i set: binding i is a vec4 uniform texel buffer. Recorders set
     * the bindings their shader's texel variant reads that way and let
     * evk_choose_texel_loads decide. */
    uint32_t texel_bindings;
    uint32_t float_texel_bindings;  /* of those, the ones viewed as float texels, not vec4 */
    uint32_t push_bytes;
    uint32_t shared_bytes;          /* the shader's shared memory for these constants */
} evk_pipeline_key;

struct evk_pipeline {
    evk_pipeline_key key;
    VkDescriptorSetLayout set_layout;
    VkPipelineLayout layout;
    VkPipeline pipeline;
    struct evk_pipeline *next;
};

/* The workgroup size for a dispatch of `items` invocations' worth of work:
 * at most 64, fewer for small planes so that lanes stay busy, rounded up to a
 * multiple of the subgroup size. */
uint32_t evk_workgroup_size_for(const evk_context *ctx, uint32_t items);

/* Upper bounds of the per-invocation output tiles of the convolution
 * kernels. Two sets: wide tiles for CPU drivers (lavapipe), where threads
 * are few, registers plentiful and every load with a non-uniform index is a
 * per-lane gather, so each loaded value must feed many outputs; narrow tiles
 * for GPUs, which need tens of thousands of invocations in flight and spill
 * large register tiles to memory (on an H200 the wide tiles ran 3x3
 * 64->64 @56² at 0.1% of the FMA peak). The set follows the device type;
 * EFFVK_TILES=wide|narrow overrides it (tests run both on lavapipe). */
typedef struct evk_tile_limits {
    uint32_t dense_w, dense_c4, dense_segment;
    uint32_t pointwise_pixels, pointwise_c4;
    uint32_t depthwise_w, depthwise_h;
    uint32_t hetconv_w, hetconv_c4, hetconv_accumulators, hetconv_segment;
} evk_tile_limits;

const evk_tile_limits *evk_tile_limits_for(const evk_context *ctx);

/* Whether `ctx` uses the wide tile set: EFFVK_TILES when set, else whether
 * the device is a CPU. */
int evk_wide_tiles_default(const evk_device_properties *props);

/* Whether kernels read their inputs and weights as uniform texel buffers
 * where their shader has a texel variant (NAME_texel, built with
 * EVK_TEXEL_LOADS): EFFVK_TEXEL_LOADS=1|0 when set, else on CPU devices.
 * llvmpipe turns every storage-buffer load into a loop over the SIMD lanes
 * with a bounds check per lane, even where all lanes read one address,
 * while a texel fetch is one vectorised gather: the depthwise conv runs
 * 1.4-1.9x faster reading its input that way. GPUs keep the storage-buffer
 * loads they were measured with. */
int evk_texel_loads_default(const evk_device_properties *props);

/* Whether `binding` can be read as a uniform texel buffer of `texel_bytes`
 * texels (16: vec4, 4: float) on this context: texel loads on, its offset
 * aligned and its texels whole and within the device's limit. */
int evk_texel_binding_usable(const evk_context *ctx, const evk_binding *binding,
                             uint32_t texel_bytes);

/* Keeps key->texel_bindings and points key->shader at its texel variant
 * when the context uses texel loads, the variant exists and every binding
 * the masks name is usable; otherwise clears the masks (storage buffers). */
void evk_choose_texel_loads(const evk_context *ctx, evk_pipeline_key *key,
                            const evk_binding *bindings);

/* Records a dispatch of `key`'s pipeline (its texel variant where
 * evk_choose_texel_loads picks it) with key->binding_count bindings and
 * key->push_bytes of push constants. */
evk_status evk_pipeline_dispatch(evk_context *ctx, const evk_pipeline_key *key,
                                 const evk_binding *bindings, const void *push, uint64_t groups);

/* The lanes of a dispatch that computes `plane_tiles` output tiles per
 * (image, channel block) and `all_tiles` in all, each tile summing `steps`
 * input steps. `split` lanes share one tile, each summing a slice of the
 * steps (split_reduce.glsl): a power of two, 1 with the wide tile set. With
 * the narrow set it doubles while the dispatch holds fewer than 65536 lanes
 * (all_tiles × split, a quarter of what an H200 keeps resident), up to 16
 * and while every slice keeps at least two steps. A split dispatch uses
 * workgroups of 64 lanes; otherwise evk_workgroup_size_for(plane_tiles).
 * Each workgroup covers `tiles_per_group` tiles of a plane. */
typedef struct evk_lane_plan {
    uint32_t split, workgroup, tiles_per_group;
} evk_lane_plan;

evk_lane_plan evk_lane_plan_for(const evk_context *ctx, uint32_t plane_tiles, uint64_t all_tiles,
                                uint32_t steps);

/* Shared memory of a split dispatch whose lanes hold `accumulators` vec4. */
static inline uint32_t evk_split_shared_bytes(evk_lane_plan lanes, uint32_t accumulators)
{
    return lanes.split > 1 ? lanes.workgroup * accumulators * 16u : 0u;
}

/* A census of the pipelines a recording will create, for the desc's
 * progress callback: with a callback, census_begin returns 1 and until
 * census_end evk_pipeline_dispatch counts the distinct pipelines the context
 * lacks instead of recording; the caller runs its recording functions once
 * that way, then census_end (given their status) announces the count as the
 * next batch and returns the status. Without a callback census_begin returns
 * 0 and the caller skips the dry run. */
int evk_pipeline_census_begin(evk_context *ctx);
evk_status evk_pipeline_census_end(evk_context *ctx, evk_status recorded);

/* Finds or creates the pipeline for `key`. */
evk_status evk_pipeline_get(evk_context *ctx, const evk_pipeline_key *key, evk_pipeline **out);
void evk_pipelines_destroy(evk_context *ctx);

/* Pipeline cache file (pipeline_cache.c). */
evk_status evk_pipeline_cache_open(evk_context *ctx);
void evk_pipeline_cache_close(evk_context *ctx);

#endif
