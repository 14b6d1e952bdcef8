/* Command recording: one command buffer per context, dispatches of pipeline
 * keys with automatic barriers, descriptor sets from growing pools,
 * timestamps around each submission, submit and wait on a fence. */
#ifndef EFFVK_HOST_COMMAND_H
#define EFFVK_HOST_COMMAND_H

#include "volk.h"
#include "effvk/effvk.h"

typedef struct evk_context evk_context;
typedef struct evk_pipeline evk_pipeline;
typedef struct evk_pipeline_key evk_pipeline_key;

#define EVK_MAX_BINDINGS 8
#define EVK_MAX_TRACKED_BUFFERS 32
/* Dispatches per submission that get their own timestamp when dispatch
 * timing is on (evk_context_set_dispatch_timing); later ones share the
 * submission's end. Queries 0 and 1 are the submission's start and end.
 * Room for a whole network's forward: EfficientNet-B7 records 220,
 * Oct-ResNet-50 (α = 0.5) 127. */
#define EVK_MAX_TIMED_DISPATCHES 1024

#define EVK_SETS_PER_POOL 256
/* Uniform texel buffers one dispatch may bind. */
#define EVK_MAX_TEXEL_BINDINGS 4

/* A descriptor pool with the texel-buffer views its sets refer to, which
 * live until the pool is reset or destroyed. */
typedef struct evk_descriptor_pool_node {
    VkDescriptorPool pool;
    VkBufferView views[EVK_SETS_PER_POOL * EVK_MAX_TEXEL_BINDINGS];
    uint32_t view_count;
    struct evk_descriptor_pool_node *next;
} evk_descriptor_pool_node;

typedef struct evk_command {
    VkCommandPool pool;
    VkCommandBuffer buffer;
    VkFence fence;
    VkQueryPool timestamps;         /* VK_NULL_HANDLE without timestamp support */
    evk_descriptor_pool_node *descriptor_pools; /* the head is the one in use */
    int recording;
    /* Buffers written / read since the last barrier: a dispatch that touches
     * them in a conflicting way gets a barrier first. */
    VkBuffer written[EVK_MAX_TRACKED_BUFFERS];
    VkBuffer read[EVK_MAX_TRACKED_BUFFERS];
    uint32_t written_count, read_count;
    /* Per-dispatch timing: a timestamp after each of the first
     * EVK_MAX_TIMED_DISPATCHES dispatches, read back at submit. */
    int time_dispatches;
    uint32_t timed_dispatches;
    double dispatch_ms[EVK_MAX_TIMED_DISPATCHES];
    uint32_t dispatch_ms_count;     /* of the last submission */
    /* Set while recording into a buffer whose submissions are not waited
     * for here (an asynchronous run's, the application's): no timestamps, so
     * that the context's query pool keeps the blocking calls' times. */
    int untimed;
    /* The context's own buffer and pools while a recording holds their
     * places (evk_command_begin_recording). */
    VkCommandBuffer saved_buffer;
    evk_descriptor_pool_node *saved_pools;
} evk_command;

/* A command buffer recorded once and submitted many times (a model's
 * forward pass), with the descriptor sets it binds. */
typedef struct evk_recording {
    VkCommandBuffer buffer;
    evk_descriptor_pool_node *descriptor_pools;
    uint32_t timed_dispatches;
    int valid;                      /* recorded completely */
} evk_recording;

/* A buffer range bound to a dispatch (a storage buffer, or a texel buffer
 * where the pipeline's key says so). */
typedef struct evk_binding {
    VkBuffer buffer;
    VkDeviceSize offset;
    VkDeviceSize range;
    int writes;                     /* the shader writes this buffer */
    /* The buffer lacks VK_BUFFER_USAGE_UNIFORM_TEXEL_BUFFER_BIT (the
     * application's): the storage-buffer variant reads it. */
    int no_texel_views;
} evk_binding;

evk_status evk_command_init(evk_context *ctx);
void evk_command_destroy(evk_context *ctx);

/* Starts recording; the command buffer and descriptor pools are reset. */
evk_status evk_command_begin(evk_context *ctx);

/* Records a dispatch of `key`'s pipeline (its texel variant where
 * evk_choose_variant picks it, created on first use) with
 * key->binding_count bindings and key->push_bytes of push constants; during
 * a pipeline census (pipeline.h) counts the pipeline instead. */
evk_status evk_command_dispatch(evk_context *ctx, const evk_pipeline_key *key,
                                const evk_binding *bindings, const void *push,
                                uint64_t group_count);

/* Records a dispatch of `group_count` workgroups of a pipeline (a 1-D count,
 * folded into a 3-D grid within the device's limits; shaders recover the
 * linear index with evk_linear_group() from common.glsl). */
evk_status evk_command_dispatch_pipeline(evk_context *ctx, const evk_pipeline *pipeline,
                                         const evk_binding *bindings, uint32_t binding_count,
                                         const void *push, uint32_t push_bytes,
                                         uint64_t group_count);

/* Records a buffer copy (staging transfers), with the barriers it needs. */
void evk_command_copy(evk_context *ctx, VkBuffer src, VkDeviceSize src_offset, VkBuffer dst,
                      VkDeviceSize dst_offset, VkDeviceSize bytes);
void evk_command_fill_zero(evk_context *ctx, VkBuffer dst, VkDeviceSize bytes);

/* Ends recording, submits, waits, and stores the GPU time. On failure the
 * command buffer is left reset and usable. */
evk_status evk_command_submit_wait(evk_context *ctx);

/* Abandons a recording after an error in the middle of it. */
void evk_command_abort(evk_context *ctx);

/* Persistent recordings: between begin and end, evk_command_dispatch and
 * the copies record into `rec` instead of the context's buffer. Beginning
 * again discards what `rec` held. On failure nothing is left recording. */
evk_status evk_command_begin_recording(evk_context *ctx, evk_recording *rec);
evk_status evk_command_end_recording(evk_context *ctx, evk_recording *rec);
/* Abandons a recording begun with evk_command_begin_recording. */
void evk_command_abort_recording(evk_context *ctx, evk_recording *rec);
/* Submits a complete recording, waits, and stores the GPU time. */
evk_status evk_command_submit_recording(evk_context *ctx, evk_recording *rec);
/* Frees the recording's command buffer and pools; `rec` is zeroed. */
void evk_recording_destroy(evk_context *ctx, evk_recording *rec);

/* Records into `buffer`, a command buffer of the application that it is
 * recording, with the sets in `*pools` (created when NULL, reset otherwise):
 * a leading barrier after earlier compute and transfer writes, no
 * timestamps, neither vkBeginCommandBuffer nor vkEndCommandBuffer. End
 * stores the pools back into `*pools`, which then live as long as the
 * application's submission needs them. */
evk_status evk_command_begin_foreign(evk_context *ctx, VkCommandBuffer buffer,
                                     evk_descriptor_pool_node **pools);
void evk_command_end_foreign(evk_context *ctx, evk_descriptor_pool_node **pools);
void evk_descriptor_pools_destroy(evk_context *ctx, evk_descriptor_pool_node **pools);

/* Splits a 1-D workgroup count into a 3-D grid with each dimension at most
 * limit[d]; the grid may cover more groups than asked (shaders skip the
 * extra ones). Fails when even the 3-D grid cannot hold the count. */
int evk_fold_grid(uint64_t group_count, const uint32_t limit[3], uint32_t grid[3]);

#endif
