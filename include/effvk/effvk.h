/*
 * effvk — efficient CNN building blocks as Vulkan compute shaders.
 *
 * The one public header of libeffvk. C11, opaque handles, desc structs.
 *
 * Conventions that hold for every function below:
 *  - Every fallible call returns an evk_status. EVK_SUCCESS is 0; errors are
 *    negative; EVK_NOT_READY (positive) only says that an asynchronous run
 *    has not finished yet. evk_status_string() names a status; evk_last_error() gives a
 *    human-readable message of the last failure on a context (which argument,
 *    which shape, which VkResult).
 *  - Desc structs are zero-initialised by the caller; a zero field means "the
 *    documented default", so `evk_context_desc d = {0};` is a working desc.
 *  - Whoever creates an object destroys it. Destroy functions accept NULL.
 *  - A failed call leaves every object it was given usable.
 *  - The library never prints, aborts or exits. Logs go to the optional log
 *    callback of the context desc.
 *  - Threading: one context is used by one thread at a time. Separate contexts
 *    are independent and may be used from different threads at once; objects
 *    created from a context belong to that context's thread discipline. A
 *    call on a context (or on its tensors, layers and models) while another
 *    thread is inside one fails with EVK_ERROR_BUSY and changes nothing; a
 *    destroy function in that case does nothing (the object stays valid and
 *    evk_last_error(NULL) says why). A context may move between threads
 *    between calls. evk_run_poll and evk_run_wait do not enter the context:
 *    any thread may wait for a run while the context's thread goes on.
 *    Exception: evk_context_create, evk_device_count and evk_device_info load
 *    the process-wide volk instance-level function pointers (device-level
 *    functions live in a per-context table), so call them from one thread at
 *    a time; an application linking the static library and using volk itself
 *    shares those pointers.
 *  - Tensors are NCHW float32 on the public side (PyTorch's layout). Inside,
 *    channels are packed four to a quad, one vec4 (see evk_shape_device_bytes).
 */
#ifndef EFFVK_EFFVK_H
#define EFFVK_EFFVK_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32) && defined(EFFVK_SHARED)
#  ifdef EFFVK_BUILDING
#    define EVK_API __declspec(dllexport)
#  else
#    define EVK_API __declspec(dllimport)
#  endif
#elif defined(__GNUC__)
#  define EVK_API __attribute__((visibility("default")))
#else
#  define EVK_API
#endif

/* The library's version; the build reads it from these three lines. */
#define EVK_VERSION_MAJOR 0
#define EVK_VERSION_MINOR 1
#define EVK_VERSION_PATCH 0
#define EVK_VERSION_TEXT_(x) #x
#define EVK_VERSION_TEXT(x) EVK_VERSION_TEXT_(x)
/* "MAJOR.MINOR.PATCH" */
#define EVK_VERSION_STRING                                                    \
    EVK_VERSION_TEXT(EVK_VERSION_MAJOR) "." EVK_VERSION_TEXT(EVK_VERSION_MINOR) "." \
    EVK_VERSION_TEXT(EVK_VERSION_PATCH)

/* ------------------------------------------------------------------------ */
/* Status                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum evk_status {
    EVK_SUCCESS = 0,
    /* evk_run_poll and evk_run_wait: the run has not finished (not an
     * error; nothing failed). */
    EVK_NOT_READY = 1,
    /* An argument is NULL, out of range or inconsistent with another. */
    EVK_ERROR_INVALID_ARGUMENT = -1,
    /* A tensor's shape does not match what the operation expects. */
    EVK_ERROR_SHAPE_MISMATCH = -2,
    /* A host allocation (through the context's allocator) failed. */
    EVK_ERROR_OUT_OF_HOST_MEMORY = -3,
    /* A device allocation failed (VK_ERROR_OUT_OF_DEVICE_MEMORY or a heap
     * too small for the request). */
    EVK_ERROR_OUT_OF_DEVICE_MEMORY = -4,
    /* The request exceeds a device limit (maxStorageBufferRange,
     * maxMemoryAllocationSize, shared memory, push constants, ...). */
    EVK_ERROR_LIMIT_EXCEEDED = -5,
    /* No Vulkan loader, no Vulkan device, or no device matches the request. */
    EVK_ERROR_NO_DEVICE = -6,
    /* The device lacks a feature the call needs. */
    EVK_ERROR_UNSUPPORTED = -7,
    /* A Vulkan call failed in a way not covered above; the message names it. */
    EVK_ERROR_VULKAN = -8,
    /* The device was lost; the context must be destroyed. */
    EVK_ERROR_DEVICE_LOST = -9,
    /* A file could not be read or written. */
    EVK_ERROR_IO = -10,
    /* Another thread is inside a call on the same context (a context is used
     * by one thread at a time). Nothing was done; the message is in this
     * thread's evk_last_error (of the context or of NULL), not in the
     * context's. */
    EVK_ERROR_BUSY = -11
} evk_status;

/* The name of a status ("EVK_ERROR_SHAPE_MISMATCH"); never NULL. */
EVK_API const char *evk_status_string(evk_status status);

/* ------------------------------------------------------------------------ */
/* Context                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct evk_context evk_context;

typedef enum evk_log_level {
    EVK_LOG_DEBUG = 0,
    EVK_LOG_INFO = 1,
    EVK_LOG_WARNING = 2,
    EVK_LOG_ERROR = 3
} evk_log_level;

/* Receives every log line of a context, validation-layer messages included.
 * `message` is valid only during the call. Called on the thread that uses the
 * context. */
typedef void (*evk_log_fn)(evk_log_level level, const char *message, void *user_data);

/* Host memory hooks. Either both functions are set or neither; when neither,
 * the C library's malloc/free are used. `alloc` returns NULL on failure, which
 * the library reports as EVK_ERROR_OUT_OF_HOST_MEMORY. Alignment of returned
 * memory must be at least that of max_align_t. */
typedef struct evk_allocator {
    void *(*alloc)(size_t size, void *user_data);
    void (*free)(void *ptr, void *user_data);
    void *user_data;
} evk_allocator;

/* Vulkan objects of a host application that the context adopts instead of
 * creating its own. Handles are passed as their Vulkan types through void
 * pointers and integers so that this header does not include vulkan.h.
 * The context never destroys adopted objects; the application must keep them
 * alive until evk_context_destroy returns. All of instance, physical_device,
 * device and queue must be set together; the device must support Vulkan 1.1
 * and have been created with a queue of `queue_family_index` that supports
 * compute (checked: EVK_ERROR_INVALID_ARGUMENT / EVK_ERROR_UNSUPPORTED).
 * The validation flags do not apply: the application chose the instance's
 * layers, and its own debug messenger receives their messages. */
typedef struct evk_external_vulkan {
    void *instance;            /* VkInstance */
    void *physical_device;     /* VkPhysicalDevice */
    void *device;              /* VkDevice */
    void *queue;               /* VkQueue */
    uint32_t queue_family_index;
    /* PFN_vkGetInstanceProcAddr of the application's loader; NULL means the
     * system loader (libvulkan). */
    void *get_instance_proc_addr;
    /* Vulkan requires vkQueueSubmit on one queue to be externally
     * synchronised. effvk submits to the adopted queue in every blocking
     * call (a forward, an upload or download through staging, a tensor's
     * creation) and in evk_layer_submit / evk_model_submit; when the
     * application also submits to that queue from other threads, it gives a
     * lock here, which effvk calls as queue_lock(1, user_data) just before
     * each of its vkQueueSubmit calls and queue_lock(0, user_data) just after,
     * on the calling thread. NULL: effvk takes no lock, so the application
     * must not use the queue during effvk's calls. Unused without adopted
     * objects (effvk's own queue is its own). */
    void (*queue_lock)(int lock, void *user_data);
    void *queue_lock_user_data;
    /* Whether the application created the device with
     * VkPhysicalDevice16BitStorageFeatures.storageBuffer16BitAccess and
     * VkPhysicalDeviceShaderFloat16Int8Features.shaderFloat16 enabled
     * (Vulkan cannot be asked): the 16-bit precisions need them, and AUTO
     * considers only what is enabled. */
    int enabled_storage_16bit;
    int enabled_shader_float16;
} evk_external_vulkan;

/* Reports the creation of compute pipelines, which a layer's or model's first
 * forward does. A driver that compiles shaders at creation can take seconds
 * per pipeline there unless the pipeline cache or its own shader cache holds
 * it; lavapipe (Mesa 22) creates them in milliseconds and compiles each at
 * its first dispatch instead, inside the forward. Pipelines are reported in
 * batches: progress(0, total) before the first of a batch, then
 * progress(created, total) after each one, ending with created == total (a
 * failed creation ends the batch early, without that last call).
 *  - A model's forward that records its commands (the first evk_model_forward
 *    or evk_model_run, and again after its input or output tensor or input
 *    shape changes) first counts the distinct pipelines that recording needs
 *    and the context does not hold yet: they are one batch, so `total` is
 *    known before the first is created. A recording that needs none reports
 *    nothing.
 *  - Any other pipeline (a layer's forward, evk_measure_peak) is a batch of
 *    its own: progress(0, 1), then progress(1, 1).
 * Called on the thread inside the library call that creates the pipelines;
 * it must not call into the library with this context. */
typedef void (*evk_pipeline_progress_fn)(uint32_t created, uint32_t total, void *user_data);

typedef enum evk_context_flags {
    /* Enable VK_LAYER_KHRONOS_validation when installed (also enabled by the
     * environment variable EFFVK_VALIDATION=1). Its messages go to the log
     * callback and are counted in evk_context_stats.validation_messages. */
    EVK_CONTEXT_VALIDATION = 1 << 0,
    /* Fail with EVK_ERROR_UNSUPPORTED instead of running without validation
     * when the validation layer was requested but is not installed. */
    EVK_CONTEXT_REQUIRE_VALIDATION = 1 << 1,
    /* Never map tensor memory, even where device memory is host-visible:
     * every upload and download goes through a staging buffer, as on discrete
     * GPUs. A testing aid for integrated and CPU devices. */
    EVK_CONTEXT_FORCE_STAGING = 1 << 2
} evk_context_flags;

typedef struct evk_device_profile evk_device_profile;

/* Limits to run within instead of the device's own where those are higher,
 * to check on a desktop that the kernels fit a class of devices. */
typedef enum evk_limits_profile {
    /* The environment variable EFFVK_LIMITS (android-baseline-2022 or
     * device), else the device's own. */
    EVK_LIMITS_DEFAULT = 0,
    EVK_LIMITS_DEVICE = 1,
    /* Khronos' Android Baseline 2022 profile: 16384 bytes of compute
     * shared memory, 128 invocations and a 128 x 128 x 64 workgroup, 128 MiB
     * storage buffer range, 4 storage buffers and 16 sampled images (texel
     * buffers) per shader stage, 128 bytes of push constants, 256-byte
     * storage buffer offset alignment, 65536 texel buffer elements, and no
     * 16-bit storage. */
    EVK_LIMITS_ANDROID_BASELINE_2022 = 2
} evk_limits_profile;

/* How tensors are stored and kernels compute (evk_context_desc.precision).
 * One precision holds for every tensor and layer of a context. */
typedef enum evk_precision {
    /* Chosen at evk_context_create: the environment variable EFFVK_PRECISION
     * (auto, fp32, fp16-storage or fp16) when set, else by the device: FP32
     * without 16-bit storage, or where the device profile's precision_cap
     * (its table of drivers that report 16-bit floats but compute them
     * wrongly) says so; otherwise the fastest of the precisions the device
     * offers in a short measurement of a 1x1 convolution, a 16-bit one
     * taken only when at least 10 % faster than the next wider one. The
     * measurement's result is kept in the pipeline cache's folder
     * (effvk-precision-VENDOR-DEVICE-DRIVER.txt, beside
     * desc.pipeline_cache_path) and reused while the device, driver and
     * library version stay the same, and in the process's memory (without a
     * pipeline cache path it runs once per process and device; it takes a
     * second or so on lavapipe, milliseconds on GPUs). The 1x1 convolution
     * is a pipeline of each precision and a 64-channel 56x56 map.
     * evk_context_precision says what was chosen and why. */
    EVK_PRECISION_AUTO = 0,
    /* float32 tensors, weights and arithmetic. */
    EVK_PRECISION_FP32 = 1,
    /* Activations and weights stored as IEEE half (8 bytes per channel
     * quad), arithmetic and accumulation in float32; biases and BatchNorm
     * shifts stay float32. Needs storageBuffer16BitAccess. */
    EVK_PRECISION_FP16_STORAGE = 2,
    /* FP16_STORAGE with half arithmetic in the convolutions, depthwise and
     * elementwise kernels (shaderFloat16); the reductions (global pool,
     * squeeze-excitation pool and its two small layers, the classifier)
     * still accumulate in float32. */
    EVK_PRECISION_FP16 = 3
} evk_precision;

/* "auto", "fp32", "fp16-storage", "fp16"; "?" for other values. */
EVK_API const char *evk_precision_name(evk_precision precision);

typedef struct evk_context_desc {
    /* Device choice, in this order: a non-empty `device_name` (case-insensitive
     * substring of the device name; the first match wins), else
     * `device_index` when `use_device_index` is non-zero, else the environment
     * variable EFFVK_DEVICE (an index, or a name substring), else the first
     * device by type: discrete > integrated > virtual > CPU > other. */
    const char *device_name;
    uint32_t device_index;
    int use_device_index;
    uint32_t flags;                     /* evk_context_flags */
    evk_log_fn log;                     /* NULL: logs are dropped */
    void *log_user_data;
    evk_allocator allocator;            /* zero: malloc/free */
    /* A file that holds the VkPipelineCache between runs; NULL: no file. It is
     * read at creation (ignored silently when absent, corrupt, or written by
     * another device, driver or library version; a path that exists and is
     * not a regular file fails creation with EVK_ERROR_IO, without blocking on
     * a FIFO) and written by evk_context_save_pipeline_cache() and at
     * destruction, through a temporary file in the same folder renamed over it
     * when complete, so a failed write leaves the previous file intact. */
    const char *pipeline_cache_path;
    /* Upper bound for any dimension of a dispatch grid; 0 means the device's
     * maxComputeWorkGroupCount. Lower values force large grids to be folded
     * into 2-D/3-D as on devices limited to 65535 (a testing aid). */
    uint32_t max_workgroup_count;
    /* Adopt a host application's Vulkan objects; all zero: create our own. */
    evk_external_vulkan external;
    /* Called as pipelines are created (see evk_pipeline_progress_fn); NULL:
     * not reported. `pipeline_progress_user_data` is passed through. */
    evk_pipeline_progress_fn pipeline_progress;
    void *pipeline_progress_user_data;
    /* Limits to run within (evk_limits_profile); 0: EFFVK_LIMITS, else the
     * device's. A kernel beyond them fails with EVK_ERROR_LIMIT_EXCEEDED,
     * naming the limit. */
    evk_limits_profile limits;
    /* Choices of the device profile to make differently: each non-zero field
     * replaces the default (see evk_device_profile); NULL: none. A value out
     * of range fails creation with EVK_ERROR_INVALID_ARGUMENT. */
    const evk_device_profile *profile;
    /* evk_precision; 0 (AUTO): EFFVK_PRECISION, else chosen by the device.
     * A precision the device cannot run (no 16-bit storage for
     * FP16_STORAGE, no shaderFloat16 for FP16, or either not enabled on an
     * adopted device) fails creation with EVK_ERROR_UNSUPPORTED. */
    evk_precision precision;
} evk_context_desc;

/* Creates a context: Vulkan instance (or the adopted one), device choice,
 * logical device with one compute queue, per-context device function table.
 * `desc` may be NULL (all defaults). On failure `*out` is NULL and
 * evk_last_error(NULL) gives the message.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (out NULL, half-set allocator or external
 * handles), EVK_ERROR_NO_DEVICE, EVK_ERROR_UNSUPPORTED, EVK_ERROR_VULKAN,
 * EVK_ERROR_OUT_OF_HOST_MEMORY. */
EVK_API evk_status evk_context_create(const evk_context_desc *desc, evk_context **out);

/* Waits for the context's own work (its asynchronous runs not yet released,
 * which it then releases), writes the pipeline cache file when one is named,
 * and frees everything the context created (not adopted objects). On an
 * adopted device it waits only for effvk's own fences, never for the whole
 * device (vkDeviceWaitIdle would stall the application's other queues); on
 * its own device it also waits for the device to be idle. Every tensor,
 * layer, model and evk_recorded of the context must have been released
 * first, and the application's submissions of recorded work must have
 * completed. */
EVK_API void evk_context_destroy(evk_context *ctx);

/* The message of the last failure on `ctx`; with ctx NULL, of the last failure
 * on this thread of a call that had no context (evk_context_create among
 * them). It starts with the status name, so it reads on its own:
 * "EVK_ERROR_SHAPE_MISMATCH: conv2d: input has 5 channels, layer expects 6".
 * Empty string when none; valid until the next call on the context. */
EVK_API const char *evk_last_error(const evk_context *ctx);

/* Writes the pipeline cache file named in the desc now.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (no path in the desc), EVK_ERROR_IO. */
EVK_API evk_status evk_context_save_pipeline_cache(evk_context *ctx);

typedef struct evk_context_stats {
    uint64_t validation_messages;   /* warnings and errors from the validation layer */
    uint32_t pipelines_created;     /* distinct (shader, specialization) pipelines */
    /* 1 if the cache file's header matched this device, driver and library
     * and its data was handed to the driver (which may still discard it). */
    int pipeline_cache_loaded;
    int validation_enabled;         /* 1 if the validation layer is active */
    uint64_t dispatches_recorded;
    uint64_t submits;
    uint64_t device_bytes_allocated; /* currently allocated device memory, bytes */
} evk_context_stats;

EVK_API evk_status evk_context_stats_get(const evk_context *ctx, evk_context_stats *out);

/* GPU time of the last submitted piece of work (a layer's forward or a batch),
 * in milliseconds, from timestamp queries written before and after it.
 * Errors: EVK_ERROR_UNSUPPORTED when the queue has no timestamps. On lavapipe
 * timestamps include shader compilation on first use: warm up first. */
EVK_API evk_status evk_context_last_gpu_ms(const evk_context *ctx, double *ms);

/* Per-dispatch GPU time, for benchmarks of multi-dispatch layers and models. */

/* With `enable` non-zero, every later submission writes a timestamp after
 * each of its first 1024 dispatches, so that evk_context_dispatch_gpu_ms can
 * split evk_context_last_gpu_ms by dispatch. The extra timestamps cost a
 * little time; off by default.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (ctx NULL), EVK_ERROR_UNSUPPORTED when
 * the queue has no timestamps. */
EVK_API evk_status evk_context_set_dispatch_timing(evk_context *ctx, int enable);

/* The GPU time of each dispatch of the last submission, in milliseconds and
 * recording order, while dispatch timing was on: dispatch i runs from the end
 * of dispatch i − 1 (the submission's start for the first) to its own end,
 * barriers included. Writes min(count, capacity) values into `ms` and the
 * number of timed dispatches into `*count` (0 when timing was off or no
 * timestamps came back). `ms` may be NULL when capacity is 0.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (ctx or count NULL, ms NULL with a
 * capacity). */
EVK_API evk_status evk_context_dispatch_gpu_ms(const evk_context *ctx, double *ms,
                                               uint32_t capacity, uint32_t *count);

/* ------------------------------------------------------------------------ */
/* Devices                                                                   */
/* ------------------------------------------------------------------------ */

typedef enum evk_device_type {
    EVK_DEVICE_OTHER = 0,
    EVK_DEVICE_INTEGRATED = 1,
    EVK_DEVICE_DISCRETE = 2,
    EVK_DEVICE_VIRTUAL = 3,
    EVK_DEVICE_CPU = 4
} evk_device_type;

#define EVK_MAX_MEMORY_HEAPS 16

typedef struct evk_device_properties {
    uint32_t index;                 /* position in the instance's device list */
    char name[256];
    uint32_t vendor_id;
    uint32_t device_id;
    evk_device_type type;
    char driver_name[256];          /* VkPhysicalDeviceDriverProperties, or "" */
    char driver_info[256];
    uint32_t driver_version;        /* raw, vendor-encoded */
    uint32_t api_version;           /* VK_MAKE_API_VERSION encoding */
    /* Compute limits. */
    uint32_t max_shared_memory_bytes;
    uint32_t max_workgroup_count[3];
    uint32_t max_workgroup_size[3];
    uint32_t max_workgroup_invocations;
    uint32_t max_storage_buffer_range;
    uint32_t max_push_constants_bytes;
    uint64_t max_memory_allocation_bytes;
    uint32_t min_texel_buffer_offset_alignment;
    uint32_t min_storage_buffer_offset_alignment;
    uint32_t max_texel_buffer_elements;
    uint32_t max_per_stage_storage_buffers;  /* maxPerStageDescriptorStorageBuffers */
    /* maxPerStageDescriptorSampledImages: uniform texel buffers count here. */
    uint32_t max_per_stage_sampled_images;
    /* The limits above are the device's, or those of a limits profile
     * (EVK_LIMITS_ANDROID_BASELINE_2022, by the desc or EFFVK_LIMITS) where
     * lower: then this names it, e.g. "android-baseline-2022"; else "". */
    char limits_profile[32];
    /* Subgroups (Vulkan 1.1). */
    uint32_t subgroup_size;
    uint32_t subgroup_min_size;     /* equal to subgroup_size without size control */
    uint32_t subgroup_max_size;
    uint32_t subgroup_operations;   /* VkSubgroupFeatureFlags in compute */
    /* Half precision. */
    int fp16_storage;               /* storageBuffer16BitAccess */
    int fp16_arithmetic;            /* shaderFloat16 */
    /* Vulkan 1.2's timelineSemaphore: evk_submit_sync can take timeline
     * semaphores (enabled on effvk's own devices). */
    int timeline_semaphores;
    /* Timing: nanoseconds per timestamp tick; 0 when the compute queue has no
     * timestamps. */
    double timestamp_period_ns;
    uint32_t memory_heap_count;
    uint64_t memory_heap_bytes[EVK_MAX_MEMORY_HEAPS];
    int memory_heap_device_local[EVK_MAX_MEMORY_HEAPS];
} evk_device_properties;

/* Number of Vulkan devices on this machine (without creating a context).
 * Errors: EVK_ERROR_NO_DEVICE when there is no Vulkan loader. */
EVK_API evk_status evk_device_count(uint32_t *count);

/* Fills `out` for device `index` of evk_device_count's list.
 * Errors: EVK_ERROR_INVALID_ARGUMENT for an index out of range. */
EVK_API evk_status evk_device_info(uint32_t index, evk_device_properties *out);

/* The device a context runs on. */
EVK_API evk_status evk_context_device_info(const evk_context *ctx, evk_device_properties *out);

/* Fills `out` for the device evk_context_create(desc) would choose (by the
 * rules at evk_context_desc.device_name), without creating a context: to name
 * a per-device file such as the pipeline cache before the context exists.
 * `desc` NULL means all defaults. Like evk_device_info it creates and
 * destroys a Vulkan instance and loads the process-wide instance-level
 * function pointers, so call it from one thread at a time.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (out NULL; desc adopts an application's
 * device: evk_context_device_info describes it once the context exists),
 * EVK_ERROR_NO_DEVICE (no loader, no device, or no device matches). */
EVK_API evk_status evk_device_choose(const evk_context_desc *desc, evk_device_properties *out);

/* ------------------------------------------------------------------------ */
/* Device profile                                                            */
/* ------------------------------------------------------------------------ */

/* Every choice the kernels make that depends on the device: tile sizes, how
 * lanes share a reduction, texel-buffer loads, where tensors live, the
 * subgroup size they are sized for and the limits in force. A context fills
 * its profile once, at creation:
 *  1. The device class: desc.profile->device_class when set, else the
 *     environment variable EFFVK_DEVICE_CLASS (cpu, discrete or integrated),
 *     else the device type (a CPU device is cpu, a discrete GPU discrete, any
 *     other device integrated).
 *  2. Every choice from the class's row of the library's table of device
 *     classes (a row for one vendor's devices of a class goes before the
 *     class's general row). The defaults below are the rows'.
 *  3. The environment variables EFFVK_TILES (wide or narrow) and
 *     EFFVK_TEXEL_LOADS (1 or 0) replace tile_set and texel_loads.
 *  4. Each non-zero field of desc.profile replaces its field.
 * Environment values other than those listed are ignored. The kernels read
 * the profile and nothing else about the kind of device; `effvk info`
 * prints each device's. Every choice gives the same results up to float
 * rounding (a split reduction sums in another order); only speed differs. */

typedef enum evk_device_class {
    EVK_DEVICE_CLASS_DEFAULT = 0,   /* in a desc: chosen as above */
    EVK_DEVICE_CLASS_CPU = 1,       /* a CPU driver: lavapipe, SwiftShader */
    EVK_DEVICE_CLASS_DISCRETE = 2,  /* a GPU with memory of its own */
    /* A GPU that shares the host's memory; also virtual and unknown devices. */
    EVK_DEVICE_CLASS_INTEGRATED = 3
} evk_device_class;

/* Upper bounds of the per-invocation output tiles of the convolution kernels. */
typedef enum evk_tile_set {
    EVK_TILE_SET_DEFAULT = 0,
    /* Up to 16 pixels × 4 channel quads, for CPU drivers, where threads are
     * few, registers plentiful and every load with a non-uniform index is a
     * per-lane gather, so each loaded value must feed many outputs. */
    EVK_TILE_SET_WIDE = 1,
    /* At most 8 vec4 accumulators per lane, for GPUs, which need tens of
     * thousands of invocations in flight and spill large register tiles to
     * memory (on an H200 the wide tiles ran 3x3 64->64 @56² at 0.1% of the
     * FMA peak). */
    EVK_TILE_SET_NARROW = 2
} evk_tile_set;

/* A choice that is on or off. */
typedef enum evk_switch {
    EVK_SWITCH_DEFAULT = 0,         /* in a desc: keep the default */
    EVK_SWITCH_ON = 1,
    EVK_SWITCH_OFF = 2
} evk_switch;

/* The device limits checked on the host before a pipeline or a dispatch
 * reaches the driver. */
typedef struct evk_device_limits {
    uint32_t workgroup_count[3];    /* maxComputeWorkGroupCount, at most desc.max_workgroup_count */
    uint32_t workgroup_size;        /* maxComputeWorkGroupSize[0] */
    uint32_t workgroup_invocations; /* maxComputeWorkGroupInvocations */
    uint32_t shared_memory_bytes;   /* maxComputeSharedMemorySize */
    uint32_t push_constants_bytes;  /* maxPushConstantsSize */
    uint64_t buffer_bytes;          /* min(maxStorageBufferRange, maxMemoryAllocationSize) */
    uint32_t texel_offset_alignment; /* minTexelBufferOffsetAlignment */
    uint32_t texel_buffer_elements; /* maxTexelBufferElements */
    uint32_t storage_buffers;       /* maxPerStageDescriptorStorageBuffers */
    uint32_t sampled_images;        /* maxPerStageDescriptorSampledImages */
} evk_device_limits;

struct evk_device_profile {
    evk_device_class device_class;
    /* cpu: wide; discrete, integrated: narrow. */
    evk_tile_set tile_set;
    /* Kernels that have a texel-buffer variant read their inputs and weights
     * as uniform texel buffers instead of storage buffers. cpu: on (llvmpipe
     * turns every storage-buffer load into a loop over the SIMD lanes with a
     * bounds check per lane, even where all lanes read one address, while a
     * texel fetch is one vectorised gather: the depthwise conv runs 1.4-1.9x
     * faster); GPUs: off, the loads they were measured with. Either way a
     * kernel whose storage-buffer variant would bind more storage buffers
     * than a stage may (limits.storage_buffers: 4 on Android's baseline)
     * reads through texel buffers. */
    evk_switch texel_loads;
    /* The most lanes that share one convolution output tile, each summing a
     * slice of its input steps (1 to 64; 1: no split). The split is the
     * largest power of two up to this that keeps a dispatch under
     * conv_split_target_lanes lanes and every slice at two steps or more.
     * The default follows the tile set, not the class: 1 with wide tiles
     * (a split keeps every lane's accumulators in shared memory, which
     * theirs would overflow), 16 with narrow ones. conv_split_target_lanes:
     * 65536 (a quarter of what an H200 keeps resident). */
    uint32_t conv_split_max;
    uint32_t conv_split_target_lanes;
    /* Lanes per channel quad of the global average pool (a power of two:
     * they reduce by halving). cpu: 1 (no barrier, which llvmpipe pays for
     * with every lane's state); GPUs: 64. */
    uint32_t pool_lanes;
    /* Lanes per output quad of the linear layer (a power of two) and the
     * most images a lane computes per weight load (1 to 64). cpu: 1 lane and
     * 8 images (lavapipe, 1280 -> 1000 at batch 16: 15.3 ms with 64 lanes per
     * output, 2.3 / 1.7 / 1.35 / 1.2 ms with 2 / 4 / 8 / 16 images per lane;
     * 8 keeps more lanes for larger CPUs); GPUs: 64 lanes, 1 image. */
    uint32_t linear_lanes;
    uint32_t linear_images;
    /* MBConv's fused depthwise writes one squeeze-excitation partial sum per
     * invocation (on) instead of adding its workgroup's in shared memory
     * (off). cpu: on (llvmpipe saves every invocation's live values across
     * the barrier the shared sum needs); GPUs: off. */
    evk_switch se_partials_per_lane;
    /* The SE workgroup's lanes share each channel quad's pool when it holds
     * more than this many partial sums; shorter pools are summed a quad per
     * lane. UINT32_MAX: never. cpu: never (a workgroup's lanes run on one
     * thread, so sharing saves no loads and costs two barriers per quad);
     * GPUs: 64. */
    uint32_t se_shared_pool_above;
    /* Tensors live in memory that is both device-local and host-visible
     * where the device has it, uploaded and downloaded without staging
     * copies (EVK_CONTEXT_FORCE_STAGING stages regardless). cpu, integrated:
     * on; discrete: off (host-visible device memory there is small or slow
     * to read). */
    evk_switch host_visible_tensors;
    /* The subgroup size workgroups and tiles are sized for: the device's, 8
     * when it reports none. */
    uint32_t subgroup_size;
    /* The widest 16-bit use EVK_PRECISION_AUTO may choose on this driver
     * (FP32, FP16_STORAGE or FP16; an explicit desc.precision is not
     * capped, only warned about): from a table of drivers that report
     * 16-bit floats but compute them wrongly (host/profile.c), FP16 on all
     * others. In a desc, non-zero replaces it. */
    evk_precision precision_cap;
    /* In force on the context. Read only: zero in desc.profile. */
    evk_device_limits limits;
};

/* Fills `out` with the profile evk_context_create(desc) gives on the device
 * `device` describes (from evk_device_info or evk_device_choose), the
 * environment variables included, without creating a context. `desc` NULL
 * means all defaults.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (device or out NULL, a field of
 * desc.profile out of range: the message names it). */
EVK_API evk_status evk_device_profile_for(const evk_device_properties *device,
                                          const evk_context_desc *desc, evk_device_profile *out);

/* The profile a context runs with. */
EVK_API evk_status evk_context_profile(const evk_context *ctx, evk_device_profile *out);

/* The precision a context runs at and how it was chosen. */
typedef struct evk_precision_choice {
    evk_precision requested;        /* desc.precision, or EFFVK_PRECISION's */
    evk_precision chosen;           /* in force; never AUTO */
    /* AUTO's measurement, milliseconds of GPU time per run of its 1x1
     * convolution, indexed by evk_precision (0: not timed); `kept` is 1
     * when they come from an earlier measurement (the file or this
     * process's memory). */
    double measured_ms[4];
    int kept;
    char reason[256];               /* one sentence, e.g. for effvk info */
} evk_precision_choice;

/* Errors: EVK_ERROR_INVALID_ARGUMENT (NULL). */
EVK_API evk_status evk_context_precision(const evk_context *ctx, evk_precision_choice *out);

/* ------------------------------------------------------------------------ */
/* Tensors                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct evk_tensor evk_tensor;

/* An NCHW shape; every dimension must be >= 1. */
typedef struct evk_shape {
    uint32_t n, c, h, w;
} evk_shape;

/* Number of elements (n·c·h·w) of a shape; 0 when a dimension is 0, and
 * UINT64_MAX when the product does not fit in 64 bits (no tensor of such a
 * shape can exist; evk_tensor_create refuses it). */
EVK_API uint64_t evk_shape_elements(evk_shape shape);

/* Device bytes a tensor of `shape` occupies in effvk's internal layout:
 * channels are packed four to a quad (C padded to a multiple of 4), laid
 * out as [N][ceil(C/4)][H][W][4] float32. Padded channels hold zeros.
 * UINT64_MAX when the size does not fit in 64 bits. */
EVK_API uint64_t evk_shape_device_bytes(evk_shape shape);

/* Device bytes a tensor of `shape` occupies in a context: as
 * evk_shape_device_bytes at EVK_PRECISION_FP32, half of it at the 16-bit
 * precisions (each element an IEEE half). UINT64_MAX on overflow or a NULL
 * context. */
EVK_API uint64_t evk_tensor_device_bytes(const evk_context *ctx, evk_shape shape);

/* Creates a device tensor of `shape`, filled with zeros.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (zero dimension), EVK_ERROR_LIMIT_EXCEEDED
 * (more than maxStorageBufferRange or maxMemoryAllocationSize bytes),
 * EVK_ERROR_OUT_OF_DEVICE_MEMORY, EVK_ERROR_OUT_OF_HOST_MEMORY. */
EVK_API evk_status evk_tensor_create(evk_context *ctx, evk_shape shape, evk_tensor **out);
EVK_API void evk_tensor_destroy(evk_tensor *tensor);
EVK_API evk_shape evk_tensor_shape(const evk_tensor *tensor);

/* Copies `count` NCHW float32 values from host memory into the tensor;
 * `count` must equal evk_shape_elements of its shape. Blocks until done. */
EVK_API evk_status evk_tensor_upload(evk_tensor *tensor, const float *data, uint64_t count);

/* Copies the tensor into `count` NCHW float32 values of host memory. */
EVK_API evk_status evk_tensor_download(const evk_tensor *tensor, float *data, uint64_t count);

/* Zero-copy: where a tensor's data lives, for the application's own
 * shaders, copies and barriers. The layout is packed: element (n, c, h, w)
 * of a tensor of shape N × C × H × W is the float32 (at the 16-bit
 * precisions, the IEEE half: E = 2) at byte
 *     offset + E · (4 · (((n · C4 + ⌊c / 4⌋) · H + h) · W + w) + c mod 4)
 * with C4 = ⌈C / 4⌉ and E = 4, over `size` = evk_tensor_device_bytes(ctx,
 * shape) bytes.
 * The lanes of channels C … 4·C4 − 1 in the last quad are padding: effvk
 * writes zeros there, and an input written by the application must hold
 * zeros there too (the kernels read whole quads). */
typedef struct evk_tensor_buffer {
    uint64_t buffer;                /* VkBuffer (a 64-bit handle on every platform) */
    uint64_t offset;                /* bytes from the buffer's start to element (0, 0, 0, 0) */
    uint64_t size;                  /* bytes */
} evk_tensor_buffer;

/* The tensor's VkBuffer range, valid while the tensor lives; the buffer
 * stays effvk's (or the application's, for evk_tensor_create_external).
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL). */
EVK_API evk_status evk_tensor_get_buffer(const evk_tensor *tensor, evk_tensor_buffer *out);

/* A range of a VkBuffer the application owns, to hold a tensor. */
typedef struct evk_external_buffer {
    uint64_t buffer;                /* VkBuffer of the context's device, bound to memory */
    /* Where the tensor starts: a multiple of the device's
     * minStorageBufferOffsetAlignment (evk_device_properties'
     * min_storage_buffer_offset_alignment). */
    uint64_t offset;
    uint64_t size;                  /* bytes from offset the tensor may use */
    /* The VkBufferUsageFlags the buffer was created with (Vulkan cannot be
     * asked): STORAGE_BUFFER is required; UNIFORM_TEXEL_BUFFER lets the
     * kernels read it through texel views where the device profile does
     * (without it they read it as a storage buffer, which is slower on CPU
     * devices); TRANSFER_DST and TRANSFER_SRC are needed only by
     * evk_tensor_upload and evk_tensor_download. */
    uint32_t usage;
} evk_external_buffer;

/* Creates a tensor of `shape` over the application's buffer range, in the
 * layout above, without copying and without clearing it. The application
 * keeps ownership: evk_tensor_destroy frees only effvk's handle, and the
 * buffer must outlive the tensor and every submission that uses it. The
 * buffer's memory must be usable by the context's queue family
 * (VK_SHARING_MODE_EXCLUSIVE to that family, or CONCURRENT including it).
 * Upload and download go through a staging buffer, never a mapping.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL buffer or out; size smaller than
 * evk_tensor_device_bytes(ctx, shape); usage without STORAGE_BUFFER; offset not
 * aligned; offset + size wrapping), and as evk_tensor_create for the
 * shape. The message says which requirement failed and by how much. */
EVK_API evk_status evk_tensor_create_external(evk_context *ctx, evk_shape shape,
                                              const evk_external_buffer *buffer,
                                              evk_tensor **out);

/* ------------------------------------------------------------------------ */
/* Layers                                                                    */
/* ------------------------------------------------------------------------ */

typedef enum evk_activation {
    EVK_ACTIVATION_NONE = 0,
    EVK_ACTIVATION_RELU = 1,
    EVK_ACTIVATION_RELU6 = 2,
    EVK_ACTIVATION_SILU = 3,        /* x·sigmoid(x), EfficientNet's swish */
    EVK_ACTIVATION_SIGMOID = 4
} evk_activation;

/* Inference BatchNorm: y = (x − mean) / sqrt(var + eps) · gamma + beta, per
 * output channel. Each array holds `count` floats, all finite (var also
 * >= 0), and `count` must be the layer's number of channels the BatchNorm
 * applies to (out_channels, or a branch's or block stage's channels: see
 * each desc); all four are set or the BatchNorm is absent (all NULL). eps 0
 * means 1e-5 (PyTorch's default). Checked by every function that takes the
 * desc (they read the variances). */
typedef struct evk_batchnorm {
    const float *gamma;
    const float *beta;
    const float *mean;
    const float *var;
    uint64_t count;                 /* elements of each of the four arrays */
    float eps;
} evk_batchnorm;

typedef struct evk_layer evk_layer;

/* A 2-D convolution, PyTorch's Conv2d semantics, followed by the optional
 * BatchNorm (folded into weight and bias at creation) and the activation. */
typedef struct evk_conv2d_desc {
    uint32_t in_channels;
    uint32_t out_channels;
    uint32_t kernel_h, kernel_w;    /* both >= 1 */
    uint32_t stride_h, stride_w;    /* 0 means 1 */
    uint32_t pad_h, pad_w;          /* zero padding on each side */
    /* 0 means 1. Must divide in_channels and out_channels; groups ==
     * in_channels == out_channels is a depthwise convolution. */
    uint32_t groups;
    evk_activation activation;
    /* [out_channels][in_channels/groups][kernel_h][kernel_w], required, and
     * its element count, which must be out_channels · in_channels/groups ·
     * kernel_h · kernel_w. Copied at creation; the caller keeps ownership. */
    const float *weight;
    uint64_t weight_count;
    /* [out_channels] or NULL, and its element count: out_channels. */
    const float *bias;
    uint64_t bias_count;
    evk_batchnorm batchnorm;        /* all NULL: none; count out_channels */
    /* Padding that differs between the sides (ONNX's `pads`, auto_pad
     * SAME_UPPER and SAME_LOWER, TensorFlow's SAME at stride 2): pad_h rows
     * at the top and pad_h + pad_bottom_extra at the bottom, pad_w columns
     * at the left and pad_w + pad_right_extra at the right. 0: both sides
     * alike. Negative when the end pads less; each end's padding must be 0
     * to 1023. */
    int32_t pad_bottom_extra, pad_right_extra;
} evk_conv2d_desc;

/* Output shape of a conv2d for an input shape, validating the desc (no
 * context needed; messages go to evk_last_error(NULL)): n = input n, c =
 * out_channels, h = (h + 2·pad_h + pad_bottom_extra − kernel_h) / stride_h
 * + 1, and w likewise.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (bad desc), EVK_ERROR_SHAPE_MISMATCH
 * (input channels differ, or the kernel does not fit the padded input). */
EVK_API evk_status evk_conv2d_output_shape(const evk_conv2d_desc *desc, evk_shape input,
                                           evk_shape *output);

/* Multiply-accumulates and parameters (weights + biases after folding) of a
 * conv2d applied to `input`. Either output pointer may be NULL.
 * Errors: as evk_conv2d_output_shape; EVK_ERROR_LIMIT_EXCEEDED when a count
 * does not fit in 64 bits. */
EVK_API evk_status evk_conv2d_cost(const evk_conv2d_desc *desc, evk_shape input,
                                   uint64_t *macs, uint64_t *params);

/* Creates the layer: validates the desc, folds BatchNorm, uploads the weights
 * in the kernel's layout, and picks the kernel (pointwise, depthwise, dense
 * K×K or grouped). Each array's element count must be what the layer reads
 * ("conv2d: weight_count is 431, expected 432"), checked before any value is
 * read; every weight, bias and BatchNorm value must be finite: the first NaN
 * or infinity is named ("conv2d: weight[17] is not finite (nan)").
 * Errors: EVK_ERROR_INVALID_ARGUMENT, device memory errors. */
EVK_API evk_status evk_conv2d_create(evk_context *ctx, const evk_conv2d_desc *desc,
                                     evk_layer **out);

/* Runs the layer on `input` into `output` and waits for it. `output` must have
 * the shape evk_conv2d_output_shape gives for `input`, and must not be
 * `input`. Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, tensors of another
 * context, output == input), EVK_ERROR_SHAPE_MISMATCH. */
EVK_API evk_status evk_layer_forward(evk_layer *layer, const evk_tensor *input,
                                     evk_tensor *output);

/* Records `repeat` forwards of the layer into one submission and waits; the
 * GPU time of the whole submission is then evk_context_last_gpu_ms. Used by
 * benchmarks to amortise submission cost. `repeat` 0 means 1. */
EVK_API evk_status evk_layer_forward_repeat(evk_layer *layer, const evk_tensor *input,
                                            evk_tensor *output, uint32_t repeat);

EVK_API void evk_layer_destroy(evk_layer *layer);

/* The output shape a layer gives for an input shape.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL), EVK_ERROR_SHAPE_MISMATCH. */
EVK_API evk_status evk_layer_output_shape(const evk_layer *layer, evk_shape input, evk_shape *output);

/* The kernel a layer runs, for reports: "conv2d_pointwise", "conv2d_depthwise",
 * "conv2d_dense", "conv2d_grouped", "hetconv", "mbconv" (the fused four
 * dispatches) or "mbconv_unfused", "octconv" or "octconv_depthwise"; "" for
 * NULL. A static string: valid for the life of the program, also after the
 * layer is destroyed. */
EVK_API const char *evk_layer_kernel_name(const evk_layer *layer);

/* ------------------------------------------------------------------------ */
/* HetConv                                                                   */
/* ------------------------------------------------------------------------ */

/* How a HetConv layer pads its input. */
typedef enum evk_padding_mode {
    /* (kernel_size − 1) / 2 zeros on each side: stride 1 keeps the size. */
    EVK_PADDING_SAME = 0,
    /* The desc's `padding` zeros on each side, 0 included. */
    EVK_PADDING_EXPLICIT = 1
} evk_padding_mode;

/* A heterogeneous-kernel convolution (HetConv, Singh et al., CVPR 2019) with
 * part P, followed by the optional BatchNorm (folded at creation) and the
 * activation.
 *
 * Semantics (the paper's interleaved rule): output channel o applies the
 * K×K kernel to the input channels i with (i − o) mod P == 0 and a 1×1
 * kernel, the centre tap of the K×K window, to every other input channel.
 * Both paths share the stride and the padding, so the layer equals a dense
 * K×K conv2d whose masked-out taps are zero. The rule holds for any P from 1
 * to in_channels: when P does not divide in_channels, outputs o with
 * o mod P < in_channels mod P see one K×K input more than the others
 * (ceil instead of floor of in_channels / P). P = 1 is a dense conv.
 *
 * Weights come in one of two forms; set exactly one:
 *  - `weight`, dense masked [out][in][K][K] (a masked PyTorch Conv2d): every
 *    tap outside the pattern above must be 0.0 (checked; the first non-zero
 *    one is named in the message);
 *  - `gwc` [out][in/P][K][K] and `pwc` [out][in][1][1], the "grouped +
 *    pointwise" form: y = Conv2d(in, out, K, groups=P)(x) + Conv2d(in, out,
 *    1)(x) with the 1×1 taken at the centre of the K×K window. Its groups are
 *    contiguous: output o = g·(out/P) + j applies K×K to the inputs
 *    g·(in/P) + t. P must divide in_channels and out_channels. The pwc
 *    weights of the inputs inside an output's own group are added to its
 *    centre tap. This is the interleaved layer up to a fixed channel
 *    permutation: with sigma_C(c) = (c mod (C/P))·P + c / (C/P), the layer
 *    maps x to y where y[sigma_out⁻¹(o')] is the interleaved layer's output
 *    o' for the input x'[sigma_in(i)] = x[i], and the interleaved weight
 *    of (o', i') is the grouped form's of (sigma_out⁻¹(o'), sigma_in⁻¹(i')).
 *    The layer reads and writes channels in the caller's (grouped) order;
 *    nothing needs permuting at run time.
 * The device keeps only the non-zero weights: per output channel, the K×K
 * taps of its pattern's inputs and the centre tap of the others. */
typedef struct evk_hetconv_desc {
    uint32_t in_channels;           /* M, >= 1 */
    uint32_t out_channels;          /* N, >= 1 */
    uint32_t kernel_size;           /* K: odd, 3 to 15 */
    uint32_t part;                  /* P: 1 to in_channels; 0 is an error */
    uint32_t stride;                /* 0 means 1; at most 64 */
    evk_padding_mode padding_mode;  /* 0: EVK_PADDING_SAME */
    uint32_t padding;               /* with EVK_PADDING_EXPLICIT: 0 to K − 1 */
    evk_activation activation;
    /* Dense masked form: [N][M][K][K] and its element count, which must be
     * N·M·K·K (a weight array of another shape is caught). */
    const float *weight;
    uint64_t weight_count;
    /* Grouped + pointwise form: [N][M/P][K][K] and [N][M][1][1], with their
     * element counts N·(M/P)·K·K and N·M. */
    const float *gwc;
    uint64_t gwc_count;
    const float *pwc;
    uint64_t pwc_count;
    /* [N] or NULL, and its element count: N. */
    const float *bias;
    uint64_t bias_count;
    evk_batchnorm batchnorm;        /* all NULL: none; count N */
} evk_hetconv_desc;

/* Output shape of a HetConv for an input shape, validating the desc (no
 * context needed; messages go to evk_last_error(NULL)):
 * n = input n, c = out_channels, h = (h + 2·pad − K) / stride + 1, same for w.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (bad desc, output NULL),
 * EVK_ERROR_SHAPE_MISMATCH (input channels differ from in_channels, or the
 * kernel does not fit the padded input). */
EVK_API evk_status evk_hetconv_output_shape(const evk_hetconv_desc *desc, evk_shape input,
                                            evk_shape *output);

/* Exact multiply-accumulates and parameters of a HetConv on `input`: per
 * output pixel and channel o, n_o·K² + (M − n_o) MACs where n_o is the number
 * of K×K inputs of o (M/P when P divides M); parameters are the same per
 * filter plus out_channels biases when a bias or BatchNorm is set. The ratio to
 * a dense K×K conv is 1/P + (1 − 1/P)/K² when P divides M. Either output
 * pointer may be NULL. Errors: as evk_hetconv_output_shape;
 * EVK_ERROR_LIMIT_EXCEEDED when a count does not fit in 64 bits. */
EVK_API evk_status evk_hetconv_cost(const evk_hetconv_desc *desc, evk_shape input,
                                    uint64_t *macs, uint64_t *params);

/* Creates the layer: validates the desc (masked taps included), folds bias
 * and BatchNorm, and uploads the non-zero weights in the kernel's layout. The
 * desc's arrays are copied; the caller keeps ownership. The layer runs with
 * evk_layer_forward in one dispatch; evk_layer_kernel_name gives "hetconv".
 * On failure `*out` is NULL.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (ctx, desc or out NULL; in/out channels
 * 0; even, too small or too large kernel; part 0 or > in_channels; stride or
 * padding out of range; no or both weight forms; wrong element counts;
 * grouped form with P not dividing the channels; a bias_count other than N;
 * a NaN or infinite weight, bias or BatchNorm value, named with its index;
 * non-zero masked tap;
 * incomplete BatchNorm or negative variance), EVK_ERROR_OUT_OF_HOST_MEMORY,
 * device memory errors. */
EVK_API evk_status evk_hetconv_create(evk_context *ctx, const evk_hetconv_desc *desc,
                                      evk_layer **out);

/* ------------------------------------------------------------------------ */
/* MBConv (EfficientNet's inverted residual block with squeeze-excitation)   */
/* ------------------------------------------------------------------------ */

typedef enum evk_mbconv_flags {
    /* No squeeze-excitation: the se_* fields are ignored. */
    EVK_MBCONV_NO_SE = 1 << 0,
    /* Run the unfused sequence of six dispatches (expand, depthwise, SE with
     * its pooling, scale, project, residual add) instead of the fused four:
     * the benchmark's baseline and a fallback. Same results up to fp32
     * rounding. */
    EVK_MBCONV_UNFUSED = 1 << 1
} evk_mbconv_flags;

/* An MBConv block as torchvision's EfficientNet runs it in eval mode, with
 * E = expanded_channels and S = the squeeze channels:
 *
 *   h = act(BN(expand_1x1(x)))            (absent when expand_ratio is 1)
 *   d = act(BN(depthwise_kxk(h)))         (stride s, padding (k − 1) / 2)
 *   z = act(fc1 · mean_hw(d) + b1)        [S] per image
 *   g = sigmoid(fc2 · z + b2)             [E] per image
 *   y = BN(project_1x1(d · g))            (no activation)
 *   y = y + x                             when s = 1 and in = out channels
 *
 * Stochastic depth and dropout are identity at inference. The BatchNorms are
 * folded into the convolutions at creation. Weight arrays use torchvision's
 * layouts (the state_dict tensors of papers.md §3, flattened row-major); they
 * are copied at creation and the caller keeps ownership. */
typedef struct evk_mbconv_desc {
    uint32_t in_channels;           /* C_in, 1 to 2^20 */
    uint32_t out_channels;          /* C_out, 1 to 2^20 */
    /* e: 0 means 1 (no expand convolution); at most 64. */
    uint32_t expand_ratio;
    /* E: 0 means in_channels · expand_ratio. torchvision rounds E to a
     * multiple of 8, which equals in_channels · e for every EfficientNet
     * block (their C_in are multiples of 8); set it for other shapes. At
     * most 2^20; must equal in_channels when expand_ratio is 1. */
    uint32_t expanded_channels;
    uint32_t kernel_size;           /* k: 0 means 3; odd, 3 to 15 */
    uint32_t stride;                /* s: 0 means 1; 1 or 2 */
    /* S = max(1, floor(in_channels · se_ratio)); 0 means 0.25, torchvision's
     * max(1, C_in // 4). Must be in (0, 1]. Ignored with EVK_MBCONV_NO_SE. */
    float se_ratio;
    /* 0 means SiLU (EVK_ACTIVATION_NONE is not available): the activation of
     * the expand and depthwise convolutions and inside the SE (between fc1
     * and fc2). */
    evk_activation activation;
    uint32_t flags;                 /* evk_mbconv_flags */
    /* Each array comes with its element count, which must be the product of
     * its shape below (an array of another size is caught before it is
     * read); an ignored array's count is ignored too. */
    /* [E][C_in][1][1]; required when expand_ratio > 1, else ignored. */
    const float *expand_weight;
    uint64_t expand_weight_count;
    evk_batchnorm expand_bn;        /* count E; all NULL: none */
    const float *depthwise_weight;  /* [E][1][k][k], required */
    uint64_t depthwise_weight_count;
    evk_batchnorm depthwise_bn;     /* count E; all NULL: none */
    /* SE, required unless EVK_MBCONV_NO_SE: fc1 [S][E][1][1] with bias [S],
     * fc2 [E][S][1][1] with bias [E]. */
    const float *se_fc1_weight;
    uint64_t se_fc1_weight_count;
    const float *se_fc1_bias;
    uint64_t se_fc1_bias_count;
    const float *se_fc2_weight;
    uint64_t se_fc2_weight_count;
    const float *se_fc2_bias;
    uint64_t se_fc2_bias_count;
    const float *project_weight;    /* [C_out][E][1][1], required */
    uint64_t project_weight_count;
    evk_batchnorm project_bn;       /* count C_out; all NULL: none */
} evk_mbconv_desc;

/* Output shape of an MBConv block for an input shape, validating the desc
 * (no context needed; messages go to evk_last_error(NULL)):
 * n = input n, c = out_channels, h = (h − 1) / s + 1, same for w.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (bad desc, output NULL),
 * EVK_ERROR_SHAPE_MISMATCH (input channels differ from in_channels). */
EVK_API evk_status evk_mbconv_output_shape(const evk_mbconv_desc *desc, evk_shape input,
                                           evk_shape *output);

/* Exact multiply-accumulates and parameters of an MBConv block on `input`.
 * MACs count the products of weights with activations: expand
 * N·H·W·C_in·E, depthwise N·Ho·Wo·E·k², SE N·2·E·S (the two FCs), project
 * N·Ho·Wo·E·C_out. Not counted: BatchNorm (folded), activations, the
 * pooling sums, the SE multiply and the residual add (torchvision's MAC
 * counters leave them out too). Parameters as torchvision counts them: the
 * convolution weights, the SE weights and biases (2·E·S + S + E), and two
 * per channel for each BatchNorm that is set (weight and bias; running
 * statistics are buffers, not parameters). Either output may be NULL.
 * Errors: as evk_mbconv_output_shape; EVK_ERROR_LIMIT_EXCEEDED when a
 * count does not fit in 64 bits. */
EVK_API evk_status evk_mbconv_cost(const evk_mbconv_desc *desc, evk_shape input, uint64_t *macs,
                                   uint64_t *params);

/* Creates the block: validates the desc, folds the BatchNorms, and uploads
 * the weights in its kernels' layouts. It runs with evk_layer_forward in four
 * dispatches (or six with EVK_MBCONV_UNFUSED, three or five without the
 * expand convolution); evk_layer_kernel_name gives "mbconv" or
 * "mbconv_unfused". Scratch buffers for the intermediate tensors are
 * allocated on the first forward of each larger input and kept until the
 * layer is destroyed. On failure `*out` is NULL.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (ctx, desc or out NULL; zero or more
 * than 2^20 channels; expand_ratio > 64 or expanded_channels inconsistent with it; even, too
 * small or too large kernel; stride not 1 or 2; se_ratio outside (0, 1];
 * unknown activation or flags; a required weight NULL; an array's count
 * other than its shape's product, named with both counts; a NaN or infinite
 * weight, bias or BatchNorm value, named with its field and index;
 * incomplete BatchNorm or negative variance), EVK_ERROR_OUT_OF_HOST_MEMORY,
 * device memory errors. evk_layer_forward also returns
 * EVK_ERROR_LIMIT_EXCEEDED when the SE's shared memory (16·ceil(E/4) + 4·S
 * + 1024 bytes) exceeds the device's maxComputeSharedMemorySize (E above
 * about 7000 on a 32 KiB device). */
EVK_API evk_status evk_mbconv_create(evk_context *ctx, const evk_mbconv_desc *desc,
                                     evk_layer **out);

/* ------------------------------------------------------------------------ */
/* OctConv                                                                   */
/* ------------------------------------------------------------------------ */

/* An octave convolution (OctConv, Chen et al., ICCV 2019): features split
 * into a high-frequency part X^H at full size and a low-frequency part X^L
 * at half the size,
 *
 *   Y^H = act(BN_H(conv(X^H; W_HH) + upsample(conv(X^L; W_LH)) + bias_h))
 *   Y^L = act(BN_L(conv(X^L; W_LL) + conv(pool(X^H); W_HL) + bias_l))
 *
 * with pool a 2×2 average (stride 2) and upsample a nearest-neighbour ×2.
 * Channels split as c_L = int(alpha·C), c_H = C − c_L, for the input
 * (alpha_in, in_channels) and the output (alpha_out, out_channels), exactly
 * as PyTorch code computes it: the double product alpha·C rounded once, then
 * truncated, alpha being a double as a Python float is (so 0.7 of 20
 * channels is 14; a float 0.7, just below the decimal, would give 13).
 * Alternatively in_low_channels / out_low_channels give c_L directly. A
 * branch with no channels is absent: alpha_in = 0 is the first layer of an
 * Oct-network (one input, X^H), alpha_out = 0 the last one (one output,
 * Y^H), both 0 a vanilla conv.
 *
 * Sizes. For an X^H of H×W, X^L is ceil(H/2)×ceil(W/2). Every pooling is a
 * ceil-mode 2×2 average over the pixels inside the map (an edge window of
 * an odd size averages 2 or 1 pixels), so that X^L keeps the last row and
 * column of X^H; the upsampled L→H map is 2·ceil(H/2) rows, cropped to Y^H's
 * H. The convolutions keep the size (padding (K−1)/2).
 *
 * Stride 2 follows the official code: X^H and X^L are pooled first and the
 * convolutions run at stride 1. Then Y^H is ceil(H/2)×ceil(W/2) with
 * H→H = conv(pool(X^H)) and L→H = conv(X^L) (no upsample, the sizes agree);
 * Y^L is ceil(H/4)×ceil(W/4) with L→L = conv(pool(X^L)) and
 * H→L = conv(pool(pool(X^H))), the two nested 2×2 averages (a 4×4 average
 * for sizes that are multiples of 4).
 *
 * Depthwise OctConv (groups = in_channels = out_channels, alpha_in =
 * alpha_out) keeps only the H→H and L→L paths, each a depthwise conv.
 *
 * Weights, PyTorch layout [out][in/groups][K][K], are named by path:
 * weight_hh (c_H,out × c_H,in), weight_lh (L→H: c_H,out × c_L,in),
 * weight_hl (H→L: c_L,out × c_H,in), weight_ll (c_L,out × c_L,in). A path
 * has a weight exactly when both its ends have channels. */
typedef struct evk_octconv_desc {
    uint32_t in_channels;           /* C_in = c_H,in + c_L,in, >= 1 */
    uint32_t out_channels;          /* C_out = c_H,out + c_L,out, >= 1 */
    /* Low-frequency shares, in [0, 1): c_L = int(alpha·C) (see above). */
    double alpha_in, alpha_out;
    /* c_L,in and c_L,out given directly instead: 0 means "from alpha";
     * otherwise below the side's channel count, with that side's alpha 0
     * (setting both is an error). */
    uint32_t in_low_channels, out_low_channels;
    uint32_t kernel_size;           /* K: odd, 1 to 15 */
    uint32_t stride;                /* 0 means 1; 1 or 2 */
    /* Zero padding on each side: 0 means (K − 1) / 2, the only supported
     * value (other paddings would give Y^H and Y^L sizes that no longer
     * pair up). */
    uint32_t padding;
    /* 0 or 1: dense; in_channels (= out_channels, and c_L,in = c_L,out):
     * depthwise. */
    uint32_t groups;
    evk_activation activation;      /* applied to Y^H and Y^L */
    /* Per-path weights, each with its element count, which must be the
     * product of the path's shape above (K² · c_out · c_in, or K² · c for a
     * depthwise path); copied at creation, the caller keeps ownership. */
    const float *weight_hh;
    uint64_t weight_hh_count;
    const float *weight_hl;
    uint64_t weight_hl_count;
    const float *weight_lh;
    uint64_t weight_lh_count;
    const float *weight_ll;
    uint64_t weight_ll_count;
    /* Per-branch bias ([c_H,out] and [c_L,out], with those counts) or NULL,
     * and BatchNorm (count c_H,out and c_L,out; all NULL: none; folded into
     * the weights at creation). The L ones must be absent when the layer has
     * no Y^L. */
    const float *bias_h;
    uint64_t bias_h_count;
    const float *bias_l;
    uint64_t bias_l_count;
    evk_batchnorm batchnorm_h, batchnorm_l;
} evk_octconv_desc;

/* The channel split of a valid desc: c_H and c_L of input and output. */
typedef struct evk_octconv_channels {
    uint32_t in_high, in_low, out_high, out_low;
} evk_octconv_channels;

/* Validates the desc (no context needed; messages go to
 * evk_last_error(NULL)) and gives its channel split.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (bad desc or out NULL). */
EVK_API evk_status evk_octconv_split(const evk_octconv_desc *desc, evk_octconv_channels *out);

/* The shapes of X^H and X^L for an image of `n` × in_channels × h × w:
 * {n, c_H,in, h, w} and {n, c_L,in, ceil(h/2), ceil(w/2)}; *x_low is all
 * zero when the input has no low channels. Either output may be NULL.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (bad desc, zero n, h or w). */
EVK_API evk_status evk_octconv_input_shapes(const evk_octconv_desc *desc, uint32_t n, uint32_t h,
                                            uint32_t w, evk_shape *x_high, evk_shape *x_low);

/* The shapes of Y^H and Y^L for an X^H of shape `x_high` (see the sizes
 * above); *y_low is all zero when the layer has no Y^L. Either output may be
 * NULL. Errors: EVK_ERROR_INVALID_ARGUMENT (bad desc),
 * EVK_ERROR_SHAPE_MISMATCH (x_high's channels are not c_H,in, or a zero
 * dimension). */
EVK_API evk_status evk_octconv_output_shapes(const evk_octconv_desc *desc, evk_shape x_high,
                                             evk_shape *y_high, evk_shape *y_low);

/* Exact multiply-accumulates and parameters of the layer on an X^H of shape
 * `x_high`: each path's conv counted at the size it runs at (H→H at Y^H's
 * size, L→H at X^L's size at stride 1 and at Y^H's at stride 2, L→L and H→L
 * at Y^L's), c_out · c_in/groups · K² per output pixel; the averaging adds
 * of pooling are not MACs. Parameters: the four weights plus one bias per
 * output channel of a branch that has a bias or BatchNorm. For alpha_in =
 * alpha_out = α, stride 1 and even sizes, the MACs are 1 − ¾·α·(2 − α) of a
 * vanilla conv's. Either output may be NULL. Errors: as
 * evk_octconv_output_shapes; EVK_ERROR_LIMIT_EXCEEDED when a count does not
 * fit in 64 bits. */
EVK_API evk_status evk_octconv_cost(const evk_octconv_desc *desc, evk_shape x_high,
                                    uint64_t *macs, uint64_t *params);

/* Creates the layer: validates the desc, folds bias and BatchNorm per branch,
 * and uploads the weights in the kernel's layout. It runs in one dispatch per
 * output branch (evk_layer_kernel_name: "octconv" or "octconv_depthwise").
 * On failure `*out` is NULL.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (ctx, desc or out NULL; channels 0;
 * alpha outside [0, 1) or not finite; a low channel count not below its
 * side's channels, or set with that side's alpha; even or out-of-range
 * kernel; stride not 1 or 2; padding other than (K − 1)/2; groups neither 1
 * nor depthwise; a weight missing for a path with channels or given for one
 * without;
 * an L bias or BatchNorm without Y^L; an array's count other than its
 * shape's product, named with both counts; a NaN or infinite weight, bias or
 * BatchNorm value, named with its field and index; incomplete BatchNorm or
 * negative variance), EVK_ERROR_OUT_OF_HOST_MEMORY, device memory errors. */
EVK_API evk_status evk_octconv_create(evk_context *ctx, const evk_octconv_desc *desc,
                                      evk_layer **out);

/* Runs the layer and waits: X^H (and X^L when c_L,in > 0, else NULL) into Y^H
 * (and Y^L when c_L,out > 0, else NULL), with the shapes of
 * evk_octconv_input_shapes and evk_octconv_output_shapes. Outputs must be
 * distinct tensors and not inputs. evk_layer_forward works on a layer with
 * one input and one output (c_L,in = c_L,out = 0) and
 * fails with EVK_ERROR_INVALID_ARGUMENT, naming this function, otherwise.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL layer or a required tensor, a
 * tensor given for an absent branch, tensors of another context, aliasing,
 * a layer that is not an OctConv), EVK_ERROR_SHAPE_MISMATCH. */
EVK_API evk_status evk_octconv_forward(evk_layer *layer, const evk_tensor *x_high,
                                       const evk_tensor *x_low, evk_tensor *y_high,
                                       evk_tensor *y_low);

/* ------------------------------------------------------------------------ */
/* Device peak (microbenchmarks)                                             */
/* ------------------------------------------------------------------------ */

typedef struct evk_peak {
    double fma_gflops;              /* an FMA-loop shader, 2 FLOPs per FMA */
    double copy_gbps;               /* a vec4 buffer copy, read + write bytes */
} evk_peak;

/* Measures the device's arithmetic and bandwidth peak with two shaders, timed
 * by GPU timestamps (the best of several runs after a warm-up). Takes about a
 * second. Errors: EVK_ERROR_UNSUPPORTED without timestamps. */
EVK_API evk_status evk_measure_peak(evk_context *ctx, evk_peak *out);

/* ------------------------------------------------------------------------ */
/* Image preprocessing on the device                                         */
/* ------------------------------------------------------------------------ */

typedef enum evk_pixel_format {
    EVK_PIXEL_RGBA8 = 1,            /* 4 bytes per pixel: R, G, B, A (A unused) */
    EVK_PIXEL_BGRA8 = 2,            /* 4 bytes per pixel: B, G, R, A (a swapchain's) */
    EVK_PIXEL_RGB8 = 3              /* 3 bytes per pixel */
} evk_pixel_format;

typedef enum evk_resize_filter {
    EVK_RESIZE_BILINEAR = 1,
    EVK_RESIZE_BICUBIC = 2          /* a = -0.5, as torchvision's and PIL's */
} evk_resize_filter;

/* A network's input from an 8-bit interleaved image, as torchvision's
 * evaluation transforms do to a uint8 image tensor: Resize(resize) with
 * antialiasing (the shorter side becomes `resize`, the longer
 * int(resize · longer / shorter); the filter's support widens by the
 * downscale factor, weights normalised per output pixel, computed in fp32
 * and rounded to 8 bits, half to even, as torchvision rounds a uint8
 * tensor), CenterCrop(crop) (offsets int(round((size − crop) / 2)), Python's
 * rounding), then (v / 255 − mean) / std per channel, into image
 * `image_index` of an N × 3 × crop × crop tensor. One dispatch. */
typedef struct evk_preprocess_desc {
    uint32_t width, height;         /* the source image, pixels */
    uint32_t row_pitch;             /* bytes from a row to the next; 0: width × pixel bytes */
    evk_pixel_format format;
    evk_resize_filter filter;
    uint32_t resize;                /* the shorter side after resizing, >= crop */
    uint32_t crop;                  /* the side of the centre crop, >= 1 */
    float mean[3], std[3];          /* R, G, B on the [0, 1] scale; std > 0 */
} evk_preprocess_desc;

typedef struct evk_preprocess evk_preprocess;

/* What a recording into the application's command buffer holds: the
 * descriptor sets and texel-buffer views its dispatches bind
 * (evk_layer_record, evk_model_record, evk_preprocess_record). */
typedef struct evk_recorded evk_recorded;

/* Validates the desc and uploads the resampling taps (a few KiB).
 * Errors: EVK_ERROR_INVALID_ARGUMENT (zero or inconsistent sizes, a pitch
 * shorter than a row, an unknown format or filter, std <= 0 or not finite:
 * the message names the field), EVK_ERROR_LIMIT_EXCEEDED (an image past
 * the device's storage buffer range), device memory errors. */
EVK_API evk_status evk_preprocess_create(evk_context *ctx, const evk_preprocess_desc *desc,
                                         evk_preprocess **out);
EVK_API void evk_preprocess_destroy(evk_preprocess *preprocess);

/* The image's bytes: row_pitch × (height − 1) + width × pixel bytes. */
EVK_API uint64_t evk_preprocess_image_bytes(const evk_preprocess *preprocess);

/* Preprocesses `bytes` of host pixels (at least evk_preprocess_image_bytes)
 * into image `image_index` of `output` (N × 3 × crop × crop) and waits.
 * Errors: EVK_ERROR_INVALID_ARGUMENT, EVK_ERROR_SHAPE_MISMATCH (output
 * shape, image_index >= N), device memory errors. */
EVK_API evk_status evk_preprocess_run(evk_preprocess *preprocess, const void *pixels,
                                      uint64_t bytes, evk_tensor *output, uint32_t image_index);

/* Records the dispatch into the application's command buffer, reading the
 * image from the application's buffer range (a camera frame's, say: offset
 * aligned as for evk_tensor_create_external, size at least
 * evk_preprocess_image_bytes rounded up to 4, usage STORAGE_BUFFER), under
 * evk_layer_record's contract: the image's writes by compute or transfer
 * commands earlier in the queue are ordered by the leading barrier, any
 * other stage's need the application's barrier; the output is written by
 * COMPUTE_SHADER / SHADER_WRITE at the end. Record the model's forward
 * after it into the same command buffer (it starts with its own barrier).
 * Errors: as evk_preprocess_run and evk_layer_record. */
EVK_API evk_status evk_preprocess_record(evk_preprocess *preprocess,
                                         const evk_external_buffer *image, evk_tensor *output,
                                         uint32_t image_index, void *command_buffer,
                                         evk_recorded **out);

/* ------------------------------------------------------------------------ */
/* Models (EfficientNet-B0..B7 from torchvision state_dicts)                 */
/* ------------------------------------------------------------------------ */

/* A whole network: its layers (BatchNorm folded) over intermediate buffers
 * planned by liveness, and its forward pass recorded once into its own
 * command buffer and resubmitted by every later forward. */
typedef struct evk_model evk_model;

/* Known names: "efficientnet-b0" to "efficientnet-b7" (case-insensitive; '_'
 * may stand for '-'), torchvision's efficientnet_b0 .. efficientnet_b7;
 * "vgg16-cifar" and "hetconv-vgg16-cifar" (CIFAR VGG-16, HetConv paper;
 * input 32x32), "resnet34", "hetconv-resnet34", "resnet50" (torchvision's
 * keys) and "octconv-resnet50" (Oct-ResNet-50, the official conventions).
 * Key names in docs/models.md, PyTorch definitions in tools/effvk_torch.py. */
typedef struct evk_model_options {
    /* The input shape evk_model_input_shape reports and evk_model_run takes:
     * batch 0 means 1; height and width 0 mean the variant's resolution
     * (224, 240, 260, 300, 380, 456, 528, 600 for B0..B7). Any size from 1
     * up runs (EfficientNet's five stride-2 stages want 32 or more). */
    uint32_t batch, height, width;
    /* BatchNorm eps; 0 means the file's "__metadata__" entry "bn_eps" (a
     * decimal number) when present, else torchvision's: 1e-5 for B0-B4,
     * 1e-3 for B5-B7. */
    float bn_eps;
    /* Classifier outputs; 0 means the rows of the file's classifier weight
     * (classifier.1.weight for EfficientNet; evk_model_load) or 1000
     * (evk_model_cost, evk_model_layers). */
    uint32_t num_classes;
    /* HetConv nets (hetconv-vgg16-cifar, hetconv-resnet34): part P of
     * every HetConv layer, 1 to 64; 0 means 4. Other models ignore it. */
    uint32_t part;
    /* OctConv nets (octconv-resnet50): the low-frequency share α, below 1,
     * a double as in evk_octconv_desc (each conv's c_L = int(α·C) as
     * PyTorch computes it); 0 means 0.25, a negative value α = 0 (the
     * vanilla net). Other models ignore it. */
    double alpha;
} evk_model_options;

/* Loads model `name` from a .safetensors file holding a torchvision
 * state_dict, unchanged key names (docs/models.md lists them; F32, F16 and
 * BF16 tensors are read, and every value read must be finite). BatchNorm's
 * num_batches_tracked is ignored; any other tensor the model does not read
 * is an error (B1's file holds every tensor of B0 and more, so a mixed-up
 * variant would otherwise load).
 * `opts` may be NULL (all defaults). The file is closed on return.
 * On failure `*out` is NULL and evk_last_error(ctx) names the problem: the
 * unknown model, the missing or unused tensor, the tensor of a wrong shape
 * with both shapes, or the first NaN or infinity with its key and index
 * ("features.0.0.weight[17] is NaN").
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL ctx, name, path or out; unknown
 * model; missing or unused tensor; a NaN or infinite value; malformed file
 * or "bn_eps"), EVK_ERROR_SHAPE_MISMATCH,
 * EVK_ERROR_UNSUPPORTED (a needed tensor of an integer dtype), EVK_ERROR_IO,
 * EVK_ERROR_OUT_OF_HOST_MEMORY, device memory errors. */
EVK_API evk_status evk_model_load(evk_context *ctx, const char *name, const char *weights_path,
                                  const evk_model_options *opts, evk_model **out);

/* evk_model_load from the `size` bytes of a .safetensors file in memory (an
 * asset bundled with an application, weights made by the program itself);
 * the bytes are read during the call only. Messages name the weights
 * "(weights in memory)". Errors: as evk_model_load (bytes NULL:
 * EVK_ERROR_INVALID_ARGUMENT), without EVK_ERROR_IO. */
EVK_API evk_status evk_model_load_memory(evk_context *ctx, const char *name, const void *bytes,
                                         size_t size, const evk_model_options *opts,
                                         evk_model **out);

EVK_API void evk_model_destroy(evk_model *model);

/* The input shape of the options (N x 3 x H x W) and the output shape it
 * gives (N x classes x 1 x 1). Errors: EVK_ERROR_INVALID_ARGUMENT (NULL). */
EVK_API evk_status evk_model_input_shape(const evk_model *model, evk_shape *out);
EVK_API evk_status evk_model_output_shape(const evk_model *model, evk_shape *out);

/* Runs the model on device tensors: `input` N x 3 x H x W of any N, H, W
 * (not only the options'), `output` N x classes x 1 x 1, another tensor.
 * The first forward of an input shape plans the intermediate buffers and
 * records the pass; later forwards of that shape on the same two tensors
 * only submit it and wait (other tensors record it again, another shape
 * plans again). One submission, no host synchronisation inside; the GPU
 * time is then evk_context_last_gpu_ms.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL, tensors of another context,
 * input == output), EVK_ERROR_SHAPE_MISMATCH, device errors. */
EVK_API evk_status evk_model_forward(evk_model *model, const evk_tensor *input, evk_tensor *output);

/* evk_model_forward on host arrays of the options' input shape: `input`
 * NCHW float32 with `input_count` = the input shape's elements, `output`
 * [N][classes] with `output_count` its elements. The model keeps the two
 * device tensors between calls.
 * Errors: as evk_model_forward, EVK_ERROR_SHAPE_MISMATCH for wrong counts. */
EVK_API evk_status evk_model_run(evk_model *model, const float *input, uint64_t input_count,
                                 float *output, uint64_t output_count);

typedef struct evk_model_stats {
    /* Graph nodes: EfficientNet's stem, MBConv blocks, head, pool and
     * classifier; in OctConv nets one node per output branch and add. */
    uint32_t layers;
    /* The plan of the last forward's input shape (zero before the first):
     * how many intermediate buffers, their bytes (the plan's peak device
     * memory for activations), and what one buffer per intermediate tensor
     * would take. */
    uint32_t activation_buffers;
    uint64_t activation_bytes;
    uint64_t unplanned_activation_bytes;
    /* The MBConv blocks' intermediate tensors (expanded, depthwise output,
     * SE sums): one set of buffers that all blocks share, sized for the
     * largest block of the largest input run so far. */
    uint64_t block_scratch_bytes;
    /* All device memory the context holds now: weights, the plan, the
     * blocks' scratch, the model's and the caller's tensors. */
    uint64_t context_device_bytes;
    uint32_t recordings;            /* times the forward pass was recorded */
    uint64_t macs, params;          /* at the options' input shape */
} evk_model_stats;

EVK_API evk_status evk_model_stats_get(const evk_model *model, evk_model_stats *out);

/* One layer of a model, for reports (effvk flops). */
typedef struct evk_model_layer_info {
    char name[32];                  /* the state_dict prefix: "features.2.0", "avgpool" */
    /* "conv2d", "mbconv", "global_avg_pool", "linear", "hetconv", "max_pool",
     * "add" (a residual add), "octconv" */
    char kind[16];
    evk_shape input, output;
    uint64_t macs;                  /* multiply-accumulates, as evk_mbconv_cost counts */
    uint64_t params;                /* as torchvision counts them (BatchNorm: 2 per channel) */
} evk_model_layer_info;

/* The layers of model `name` at the options' input shape, without a device:
 * writes min(capacity, count) entries and the layer count into `*count`
 * (`layers` may be NULL with capacity 0). Messages go to evk_last_error(NULL).
 * Errors: EVK_ERROR_INVALID_ARGUMENT (unknown name, NULL count),
 * EVK_ERROR_LIMIT_EXCEEDED (a layer's MACs do not fit in 64 bits: the batch
 * and size are too large; the layer is named). */
EVK_API evk_status evk_model_layers(const char *name, const evk_model_options *opts,
                                    evk_model_layer_info *layers, uint32_t capacity,
                                    uint32_t *count);

/* One layer's share of a model's last forward (evk_model_layer_times). */
typedef struct evk_model_layer_time {
    char name[32];                  /* as evk_model_layer_info.name: "features.2.0" */
    /* The kernel that ran (evk_layer_kernel_name's names); an OctConv
     * layer's output branches or add give "high+low" when they differ. */
    char kernel[32];
    uint32_t dispatches;            /* dispatches the layer records per forward */
    /* The GPU time of those dispatches, in milliseconds: from the end of
     * the dispatch before the layer's first (the submission's start for
     * the first layer) to the end of its last, barriers and copies
     * included, so that the layers' times add up to nearly the whole
     * forward's evk_context_last_gpu_ms (only the end-of-submission barrier
     * is left out). */
    double gpu_ms;
} evk_model_layer_time;

/* Where the model's last evk_model_forward or evk_model_run spent its GPU
 * time, layer by layer: one entry per layer of evk_model_layers (same
 * names, same order) for the model's options. The forward must run with
 * the context's dispatch timing on (evk_context_set_dispatch_timing(ctx,
 * 1) before it; the first forward after turning it on or off records the
 * pass again, with or without a timestamp after each dispatch). The times
 * are kept with the model, so later work on the context (a download, other
 * layers) does not change them. Writes min(capacity, count) entries and the
 * layer count into `*count`; `layers` may be NULL with capacity 0.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (model or count NULL, layers NULL with
 * a capacity; the model has not run a forward with dispatch timing on since
 * it was loaded, or its last forward failed), EVK_ERROR_LIMIT_EXCEEDED (the
 * forward records more dispatches than the context times one by one: the
 * message gives both counts). */
EVK_API evk_status evk_model_layer_times(const evk_model *model, evk_model_layer_time *layers,
                                         uint32_t capacity, uint32_t *count);

/* Loads a network from an ONNX file (docs/onnx.md: the operators and
 * attributes read, and the fusions). The graph must have one input, N x C
 * x H x W float32 (or an [N, K] matrix), and one output; its weights are initializers (FLOAT,
 * FLOAT16, BFLOAT16 or DOUBLE, from raw_data, the typed fields or external
 * data files inside the model's folder), all finite. Opsets 1 to 18 are
 * read; 11 to 17 are what exporters write and what is tested.
 * The options: batch, height and width give the input's dynamic
 * dimensions (a fixed one must agree with a non-zero option); the others
 * are ignored (BatchNorm's epsilon is the graph's). The graph is lowered at
 * that shape: shape arithmetic is evaluated, reshapes become views, and
 * effvk's layers take the patterns they run fused: a convolution with its
 * BatchNorm, bias and activation (x·sigmoid(x) is SiLU), an MBConv block
 * with squeeze-excitation, a HetConv (a dense conv whose weights have the
 * zero pattern of a part P), an OctConv with its pools and upsampling.
 * evk_model_describe and evk_model_layer_source say which nodes became
 * which layer. The input shape is the lowered one; evk_model_forward takes
 * other batches only where the graph's shape arithmetic did not fix them.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL ctx, path or out; a malformed
 * file: the message gives the byte offset and the field; a graph that is
 * not well formed; a NaN or infinite weight, named with its tensor and
 * index), EVK_ERROR_UNSUPPORTED (an operator, attribute or data type effvk
 * does not run: the node, its op type and the attribute are named),
 * EVK_ERROR_SHAPE_MISMATCH, EVK_ERROR_LIMIT_EXCEEDED, EVK_ERROR_IO,
 * EVK_ERROR_OUT_OF_HOST_MEMORY, device memory errors. */
EVK_API evk_status evk_model_load_onnx(evk_context *ctx, const char *path,
                                       const evk_model_options *opts, evk_model **out);

/* evk_model_load_onnx from the `size` bytes of an ONNX file in memory (read
 * during the call only); a tensor with external data is refused, there
 * being no folder. Messages name it "(ONNX model in memory)". */
EVK_API evk_status evk_model_load_onnx_memory(evk_context *ctx, const void *bytes, size_t size,
                                              const evk_model_options *opts, evk_model **out);

/* The layers an ONNX file becomes at the options' input shape, without a
 * device (effvk flops --onnx): as evk_model_describe gives them after
 * evk_model_load_onnx. Messages go to evk_last_error(NULL).
 * Errors: as evk_model_load_onnx, without the device's. */
EVK_API evk_status evk_model_layers_onnx(const char *path, const evk_model_options *opts,
                                         evk_model_layer_info *layers, uint32_t capacity,
                                         uint32_t *count);

/* The layers of a loaded model at its options' input shape, of any source:
 * for a named architecture what evk_model_layers gives, for an ONNX model
 * the effvk layers its graph became (kind "conv2d", "mbconv", "hetconv",
 * "octconv", "linear", "add", "max_pool", "avg_pool", "global_avg_pool",
 * "activation", "broadcast", "concat", "resize"). Writes min(capacity,
 * count) entries and the layer count into `*count`.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (model or count NULL, layers NULL with
 * a capacity). */
EVK_API evk_status evk_model_describe(const evk_model *model, evk_model_layer_info *layers,
                                      uint32_t capacity, uint32_t *count);

/* The kernel layer `layer` (an index of evk_model_describe) runs, as
 * evk_layer_kernel_name names it ("conv2d_pointwise", "mbconv", "hetconv",
 * "octconv", ...): a static string; "" for a NULL model or an index out of
 * range. */
EVK_API const char *evk_model_layer_kernel(const evk_model *model, uint32_t layer);

/* For an ONNX model, the nodes layer `layer` (an index of
 * evk_model_describe) runs, in the graph's order: "Conv 'conv1' +
 * BatchNormalization 'bn1' + Relu 'relu1'" (a long run is shortened to its
 * first and last nodes and a count). "" for a named architecture, a NULL
 * model or an index out of range. Owned by the model. */
EVK_API const char *evk_model_layer_source(const evk_model *model, uint32_t layer);

/* Total MACs and parameters of model `name` at the options' input shape,
 * without a device: the sums of evk_model_layers. Parameters equal
 * torchvision's count (sum of p.numel() over model.parameters()). Either
 * output may be NULL. Errors: as evk_model_layers, and
 * EVK_ERROR_LIMIT_EXCEEDED when the totals do not fit in 64 bits. */
EVK_API evk_status evk_model_cost(const char *name, const evk_model_options *opts, uint64_t *macs,
                                  uint64_t *params);

/* ------------------------------------------------------------------------ */
/* Embedding: the application's command buffers, semaphores and queue        */
/* ------------------------------------------------------------------------ */

/* The Vulkan objects the context works with, its own or the adopted ones,
 * as evk_external_vulkan (instance, physical device, device, queue and its
 * family; get_instance_proc_addr and the queue lock as given, NULL for
 * effvk's own). With them an application creates command pools (of this
 * queue family), semaphores and buffers for the calls below on a context
 * that made its own device. The handles stay the context's.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL). */
EVK_API evk_status evk_context_vulkan(const evk_context *ctx, evk_external_vulkan *out);

/* Records the layer's forward (evk_layer_forward's dispatches, with effvk's
 * own barriers between them) into `command_buffer`, a VkCommandBuffer of the
 * application that is in the recording state, primary, outside a render
 * pass, allocated from a pool of the context's queue family
 * (evk_context_vulkan's queue_family_index; effvk's buffers are exclusive to
 * that family, so another family would need ownership transfers the
 * recording does not make). The context may be effvk's own or one made
 * from the application's device (desc.external); recording never submits,
 * waits, begins or ends the command buffer. `*out` receives what the
 * recording holds, which the application releases with
 * evk_recorded_release once every submission of the command buffer has
 * completed (or when it was never submitted).
 *
 * Synchronisation contract:
 *  - On entry the recorded commands start with a memory barrier from
 *    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT | VK_PIPELINE_STAGE_TRANSFER_BIT
 *    (VK_ACCESS_SHADER_WRITE_BIT | VK_ACCESS_TRANSFER_WRITE_BIT) to the same
 *    stages (shader and transfer reads and writes). Earlier compute-shader
 *    and transfer writes of the input, in this command buffer or earlier
 *    submissions to the same queue, are therefore visible without the
 *    application's help, and so are host writes made before the submission
 *    (vkQueueSubmit's host-write guarantee). Writes from any other stage (a
 *    fragment shader, a colour attachment, an image copy to a buffer by
 *    another queue) must be made available to
 *    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT / VK_ACCESS_SHADER_READ_BIT by the
 *    application's own barrier (or semaphore, across queues) before it.
 *  - At its end the output has been written by
 *    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT with VK_ACCESS_SHADER_WRITE_BIT and
 *    no barrier follows: before the application reads the output (or writes
 *    the input or output again) it records a barrier with srcStageMask
 *    VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT and srcAccessMask
 *    VK_ACCESS_SHADER_WRITE_BIT (a vertex fetch: dstStage VERTEX_INPUT,
 *    VERTEX_ATTRIBUTE_READ; a copy: TRANSFER, TRANSFER_READ; the host: HOST,
 *    HOST_READ, then a fence).
 *  - The tensors, the layer (its weights and scratch buffers) and the
 *    evk_recorded must stay alive until the submissions complete. Running or
 *    recording the layer again meanwhile is allowed on the same queue: each
 *    recording starts with the barrier above, so the uses follow one another
 *    in submission order.
 *  - No timestamps are written: evk_context_last_gpu_ms and the dispatch
 *    times keep describing the last blocking call.
 *  - To record again (other tensors, another command buffer, the buffer
 *    reset), call this again; every call gives its own evk_recorded.
 * Errors: as evk_layer_forward; EVK_ERROR_INVALID_ARGUMENT (command_buffer
 * or out NULL); device memory errors. On failure nothing usable was
 * recorded: the application must reset or free the command buffer. */
EVK_API evk_status evk_layer_record(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                                    void *command_buffer, evk_recorded **out);

/* Records the model's whole forward (evk_model_forward's dispatches) into
 * the application's command buffer, under evk_layer_record's contract. The
 * intermediate tensors are the model's own, planned for this input shape:
 * until the submissions complete, the model must not be destroyed nor run
 * or recorded with another input shape (which plans new intermediates and
 * frees these); forwards of the same shape on the same queue follow one
 * another as above.
 * Errors: as evk_model_forward and evk_layer_record. */
EVK_API evk_status evk_model_record(evk_model *model, const evk_tensor *input, evk_tensor *output,
                                    void *command_buffer, evk_recorded **out);

/* Frees what a recording held. Only after every submission of its command
 * buffer has completed. NULL is allowed. */
EVK_API void evk_recorded_release(evk_recorded *recorded);

/* Semaphores an asynchronous run waits for before it starts and signals when
 * it ends, to chain effvk between the application's own submissions. Zero:
 * none. Handles are VkSemaphore, as 64-bit integers on every platform
 * (non-dispatchable handles are not pointers on 32-bit targets); a semaphore created with
 * VK_SEMAPHORE_TYPE_TIMELINE takes its value from wait_values /
 * signal_values (indexed like the semaphores; entries of binary semaphores
 * are ignored), which then must be non-NULL, and the device must have the
 * timelineSemaphore feature enabled (effvk enables it on its own devices
 * where supported: evk_device_properties.timeline_semaphores; on an adopted
 * device the application must have enabled it). */
typedef struct evk_submit_sync {
    uint32_t wait_count;
    const uint64_t *wait_semaphores;
    /* VkPipelineStageFlags per wait; NULL: VK_PIPELINE_STAGE_COMPUTE_SHADER_BIT
     * (the first dispatch waits, nothing of effvk's reads before it). */
    const uint32_t *wait_stages;
    const uint64_t *wait_values;    /* NULL: every wait is binary */
    uint32_t signal_count;
    const uint64_t *signal_semaphores;
    const uint64_t *signal_values;  /* NULL: every signal is binary */
} evk_submit_sync;

/* A submitted piece of work: poll it, wait for it, release it. */
typedef struct evk_run evk_run;

/* Records the layer's forward into a command buffer of its own and submits
 * it to the context's queue with `sync` (may be NULL), returning at once.
 * The run's recording starts with a barrier after earlier work in the queue,
 * so runs of one layer (or of layers sharing tensors) may be in flight
 * together and execute in submission order; the host must not read the
 * output (evk_tensor_download) before the run has finished, nor destroy the
 * layer or tensors. The run's GPU time is not recorded (the blocking calls'
 * evk_context_last_gpu_ms is kept).
 * Errors: as evk_layer_forward; EVK_ERROR_INVALID_ARGUMENT (out NULL, a
 * semaphore array NULL with a count); EVK_ERROR_UNSUPPORTED (timeline values
 * on a device without timeline semaphores). */
EVK_API evk_status evk_layer_submit(evk_layer *layer, const evk_tensor *input, evk_tensor *output,
                                    const evk_submit_sync *sync, evk_run **out);

/* Submits the model's forward, as evk_layer_submit. The model's recorded
 * command buffer (recorded on the first call with these tensors) is the one
 * evk_model_forward submits, with the model's intermediates: several runs of
 * one model can be in flight at once and execute one after another in
 * submission order (they share the intermediates, so they do not overlap
 * on the GPU). Recording again (other tensors, another input shape) first
 * waits for the model's runs in flight. */
EVK_API evk_status evk_model_submit(evk_model *model, const evk_tensor *input, evk_tensor *output,
                                    const evk_submit_sync *sync, evk_run **out);

/* EVK_SUCCESS when the run has finished, EVK_NOT_READY while it is in
 * flight. Neither call enters the context: another thread may poll or wait
 * while the context's thread goes on with other calls.
 * Errors: EVK_ERROR_INVALID_ARGUMENT (NULL), EVK_ERROR_DEVICE_LOST. */
EVK_API evk_status evk_run_poll(const evk_run *run);

/* Waits up to `timeout_ns` nanoseconds (UINT64_MAX: without a limit) for the
 * run to finish: EVK_SUCCESS, or EVK_NOT_READY when the time ran out. */
EVK_API evk_status evk_run_wait(const evk_run *run, uint64_t timeout_ns);

/* Waits for the run if it is still in flight and frees it. Runs not
 * released are released by evk_context_destroy. NULL is allowed. */
EVK_API void evk_run_release(evk_run *run);

#ifdef __cplusplus
}
#endif

#endif
