/* Host memory through a context's allocator (evk_context_desc.allocator),
 * without Vulkan's types, so that the program's own readers use it too. */
#ifndef EFFVK_HOST_HOST_MEMORY_H
#define EFFVK_HOST_HOST_MEMORY_H

#include <stddef.h>

#include "effvk/effvk.h"

/* NULL on failure (the caller reports EVK_ERROR_OUT_OF_HOST_MEMORY); a NULL
 * ctx uses malloc and free (the device-free paths: costs, file parsing). */
void *evk_alloc(evk_context *ctx, size_t size);
void *evk_calloc(evk_context *ctx, size_t count, size_t size);
void evk_free(evk_context *ctx, void *ptr);
void *evk_alloc_with(const evk_allocator *allocator, size_t size);
void evk_free_with(const evk_allocator *allocator, void *ptr);

#endif
