/* The context: its Vulkan objects, device facts and state, and host memory
 * through the desc's allocator. */
#ifndef EFFVK_HOST_CONTEXT_H
#define EFFVK_HOST_CONTEXT_H

#include <stdatomic.h>

#include "volk.h"
#include "effvk/effvk.h"
#include "command.h"
#include "host_memory.h"
#include "status.h"

typedef struct evk_pipeline evk_pipeline;
typedef struct evk_pipeline_key evk_pipeline_key;

/* Pipeline creation as the desc's progress callback sees it (pipeline.c). */
typedef struct evk_pipeline_progress {
    evk_pipeline_progress_fn callback;  /* NULL: nothing is counted or reported */
    void *user_data;
    /* While set, dispatches add the keys of pipelines the context lacks to
     * `census` (each once) and record nothing. */
    int counting;
    evk_pipeline_key *census;
    uint32_t census_count, census_capacity;
    uint32_t created, total;        /* the batch being created; total 0: none */
} evk_pipeline_progress;

struct evk_context {
    atomic_int in_use;              /* 1 while a thread is inside a call (context_entry.h) */
    evk_allocator allocator;
    evk_log_fn log;
    void *log_user_data;
    char *pipeline_cache_path;

    VkInstance instance;
    VkPhysicalDevice physical_device;
    VkDevice device;
    VkQueue queue;
    uint32_t queue_family;
    int owns_instance;
    int owns_device;
    struct VolkDeviceTable vk;
    VkDebugUtilsMessengerEXT messenger;
    PFN_vkDestroyDebugUtilsMessengerEXT destroy_messenger;

    evk_device_properties props;
    /* Every tuning choice and the limits in force (profile.h); kernels read
     * it instead of the device type. */
    evk_device_profile profile;
    /* The precision every tensor and layer of the context uses (precision.h). */
    evk_precision_choice precision;
    /* 16-bit features enabled on the device (ours: where supported; an
     * adopted one: as desc.external says). */
    int storage_16bit_enabled;
    int shader_float16_enabled;
    VkPhysicalDeviceMemoryProperties memory;
    int force_staging;              /* EVK_CONTEXT_FORCE_STAGING */

    VkPipelineCache pipeline_cache;
    evk_pipeline *pipelines;        /* singly linked, newest first */
    evk_pipeline_progress progress;

    evk_command cmd;
    struct evk_run *runs;           /* asynchronous runs not yet released (run.h) */
    /* The application's lock around submissions to its adopted queue. */
    void (*queue_lock)(int lock, void *user_data);
    void *queue_lock_user_data;
    double last_gpu_ms;
    int have_gpu_time;

    evk_context_stats stats;
    uint64_t buffer_serial;         /* the last evk_buffer.serial given */
    char error[EVK_ERROR_MESSAGE_BYTES];
};


#endif
