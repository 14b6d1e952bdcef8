/* Device buffers: one VkBuffer with its own memory, mapped for its whole life
 * when the memory is host-visible (integrated GPUs, lavapipe), reached through
 * a staging buffer otherwise. */
#ifndef EFFVK_HOST_MEMORY_H
#define EFFVK_HOST_MEMORY_H

#include "context.h"

typedef struct evk_buffer {
    VkBuffer buffer;
    VkDeviceMemory memory;
    VkDeviceSize bytes;
    VkDeviceSize allocated;         /* memory bytes, counted in the context stats */
    void *mapped;                   /* non-NULL when host-visible and coherent */
    /* Unique within the context, never reused (Vulkan handles can be): what
     * a persistent recording remembers of the buffers it binds. */
    uint64_t serial;
    /* A range of the application's buffer (evk_tensor_create_external):
     * never destroyed or mapped here; the data starts at `offset`. */
    int borrowed;
    VkDeviceSize offset;
    VkBufferUsageFlags usage;       /* what the buffer was created for */
} evk_buffer;

typedef enum evk_buffer_kind {
    EVK_BUFFER_DEVICE,              /* storage buffer used by shaders */
    EVK_BUFFER_STAGING              /* host-visible transfer buffer */
} evk_buffer_kind;

/* `what` names the buffer in error messages ("tensor 1x3x224x224"). */
evk_status evk_buffer_create(evk_context *ctx, VkDeviceSize bytes, evk_buffer_kind kind,
                             const char *what, evk_buffer *out);
void evk_buffer_destroy(evk_context *ctx, evk_buffer *buffer);

/* Host access to a buffer's whole contents: `begin` returns a pointer to
 * write into (or read from, after a device read-back), `end` copies written
 * data to the device when a staging buffer stood in. */
typedef struct evk_host_access {
    evk_buffer staging;             /* unused when the buffer is mapped */
    void *ptr;
} evk_host_access;

evk_status evk_buffer_begin_write(evk_context *ctx, evk_buffer *buffer, evk_host_access *access);
evk_status evk_buffer_end_write(evk_context *ctx, evk_buffer *buffer, evk_host_access *access);
evk_status evk_buffer_begin_read(evk_context *ctx, const evk_buffer *buffer, evk_host_access *access);
void evk_buffer_end_read(evk_context *ctx, evk_host_access *access);

/* Uploads `bytes` of host data into a new device buffer (layer weights). */
evk_status evk_buffer_create_with_data(evk_context *ctx, const void *data, VkDeviceSize bytes,
                                       const char *what, evk_buffer *out);

#endif
