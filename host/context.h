/* The context: Vulkan objects, device facts, allocator, error reporting.
 * Every other host file includes this. */
#ifndef EFFVK_HOST_CONTEXT_H
#define EFFVK_HOST_CONTEXT_H

#include <stdarg.h>
#include <stdatomic.h>

#include "volk.h"
#include "effvk/effvk.h"
#include "command.h"

#define EVK_ERROR_MESSAGE_BYTES 1024

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
    uint32_t max_workgroup_count[3];

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
    VkPhysicalDeviceMemoryProperties memory;
    uint64_t max_buffer_bytes;      /* min(storage range, allocation size) */
    int force_staging;              /* EVK_CONTEXT_FORCE_STAGING */
    int wide_tiles;                 /* see evk_tile_limits_for */
    /* Read inputs through uniform texel buffers where a kernel has such a
     * variant; see evk_texel_loads_default. */
    int texel_loads;
    uint32_t texel_offset_alignment; /* minTexelBufferOffsetAlignment */
    uint32_t max_texel_elements;     /* maxTexelBufferElements */

    VkPipelineCache pipeline_cache;
    evk_pipeline *pipelines;        /* singly linked, newest first */
    evk_pipeline_progress progress;

    evk_command cmd;
    double last_gpu_ms;
    int have_gpu_time;

    evk_context_stats stats;
    uint64_t buffer_serial;         /* the last evk_buffer.serial given */
    char error[EVK_ERROR_MESSAGE_BYTES];
};

/* Host memory through the desc's allocator; NULL on failure (the caller
 * reports EVK_ERROR_OUT_OF_HOST_MEMORY). */
void *evk_alloc(evk_context *ctx, size_t size);
void *evk_calloc(evk_context *ctx, size_t count, size_t size);
void evk_free(evk_context *ctx, void *ptr);
void *evk_alloc_with(const evk_allocator *allocator, size_t size);
void evk_free_with(const evk_allocator *allocator, void *ptr);

/* Records `status` with a printf-style message as the context's (or, with ctx
 * NULL, this thread's) last error, logs it, and returns `status`. */
evk_status evk_fail(evk_context *ctx, evk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Same, for a failed Vulkan call: maps the VkResult to a status and appends
 * the VkResult's name to the message. */
evk_status evk_fail_vk(evk_context *ctx, VkResult result, const char *what);
evk_status evk_fail_oom(evk_context *ctx, const char *what);
void evk_logf(evk_context *ctx, evk_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
const char *evk_vk_result_name(VkResult result);
evk_status evk_status_from_vk(VkResult result);
/* Sets this thread's last error, with the status name in front, without
 * logging: for refusals that may not touch a context. */
void evk_set_thread_error_f(evk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Copies a context's message to this thread's last error (for failures that
 * end with the context destroyed). */
void evk_set_thread_error(const char *message);
/* Clears the last error at the start of a public call that succeeds. */
void evk_clear_error(evk_context *ctx);

/* Device enumeration and choice (device.c). */
/* `allocator` NULL: malloc/free. */
void evk_fill_device_properties(VkPhysicalDevice pd, uint32_t index, const evk_allocator *allocator,
                                evk_device_properties *out);
evk_status evk_choose_device(evk_context *ctx, const evk_context_desc *desc,
                             VkPhysicalDevice *devices, uint32_t count, uint32_t *chosen);
evk_status evk_load_vulkan(evk_context *ctx, PFN_vkGetInstanceProcAddr gipa);

/* Marks the Vulkan drivers loaded so far as never to be unloaded; called
 * after each vkCreateInstance (driver_pin.c says why). */
void evk_pin_vulkan_drivers(void);

#endif
