/* Compute pipelines: created on first use per (shader, specialization
 * constants) and kept for the context's life, through a VkPipelineCache that
 * can persist in a file. The limits in force (the device profile's) are
 * checked here, on the host, before anything reaches the driver. Recording a
 * dispatch of a pipeline is command's (command.h). */
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
     * the bindings their shader's texel variant reads that way
     * (shader_bindings.h names them) and let evk_choose_variant
     * decide. */
    uint32_t texel_bindings;
    uint32_t float_texel_bindings;  /* of those, the ones viewed as float texels, not vec4 */
    /* Bindings that hold float32 at every precision (reduction partials,
     * biases): their texel views stay 32-bit. */
    uint32_t wide_bindings;
    /* Set by evk_choose_variant: the texel bindings viewed as halves. */
    uint32_t half_texel_bindings;
    /* The shader reads and writes no tensors (the peak measurement): it
     * runs as it is at every precision. */
    int precision_independent;
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

/* The registry's own copy of the name of the embedded shader `name` (which
 * outlives the caller's string), or NULL when none is embedded. */
const char *evk_embedded_shader(const char *name);

/* A census of the pipelines a recording will create, for the desc's
 * progress callback: with a callback, census_begin returns 1 and until
 * census_end evk_command_dispatch counts the distinct pipelines the context
 * lacks (census_add) instead of recording; the caller runs its recording
 * functions once that way, then census_end (given their status) announces
 * the count as the next batch and returns the status. Without a callback
 * census_begin returns 0 and the caller skips the dry run. */
int evk_pipeline_census_begin(evk_context *ctx);
/* Adds `key` unless the context or the census already holds it. */
evk_status evk_pipeline_census_add(evk_context *ctx, const evk_pipeline_key *key);
evk_status evk_pipeline_census_end(evk_context *ctx, evk_status recorded);

/* Finds or creates the pipeline for `key`. */
evk_status evk_pipeline_get(evk_context *ctx, const evk_pipeline_key *key, evk_pipeline **out);
void evk_pipelines_destroy(evk_context *ctx);

/* Pipeline cache file (pipeline_cache.c). */
evk_status evk_pipeline_cache_open(evk_context *ctx);
void evk_pipeline_cache_close(evk_context *ctx);

#endif
