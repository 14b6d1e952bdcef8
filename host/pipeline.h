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
    uint32_t binding_count;         /* storage buffers at bindings 0..n-1 */
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

/* Finds or creates the pipeline for `key`. */
evk_status evk_pipeline_get(evk_context *ctx, const evk_pipeline_key *key, evk_pipeline **out);
void evk_pipelines_destroy(evk_context *ctx);

/* Pipeline cache file (pipeline_cache.c). */
evk_status evk_pipeline_cache_open(evk_context *ctx);
void evk_pipeline_cache_close(evk_context *ctx);

#endif
