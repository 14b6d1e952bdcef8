/* The pipeline cache file: a header that names the device, driver and library
 * version, then the driver's VkPipelineCache data. Any mismatch or damage
 * means the file is ignored and the cache starts empty: drivers such as
 * lavapipe keep the same pipelineCacheUUID across versions, so the driver's
 * own header check is not enough. */
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200809L
#endif
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "file_io.h"
#include "pipeline.h"
#include "context_entry.h"

#define CACHE_MAGIC "EFFVKPC1"

typedef struct cache_header {
    char magic[8];
    uint32_t vendor_id;
    uint32_t device_id;
    uint32_t driver_version;
    uint32_t reserved;
    char driver_info[256];
    char library_version[32];
    uint64_t data_bytes;
} cache_header;

static void fill_header(const evk_context *ctx, cache_header *h)
{
    memset(h, 0, sizeof *h);
    memcpy(h->magic, CACHE_MAGIC, sizeof h->magic);
    h->vendor_id = ctx->props.vendor_id;
    h->device_id = ctx->props.device_id;
    h->driver_version = ctx->props.driver_version;
    memcpy(h->driver_info, ctx->props.driver_info, sizeof h->driver_info);
    snprintf(h->library_version, sizeof h->library_version, "%s", EVK_VERSION_STRING);
}

/* Reads the file's cache data when its header matches this context; returns
 * NULL (and *bytes 0) otherwise. An absent file is the normal first run; a
 * path that names something other than a regular file is an error (*status),
 * since it could never be written either. */
static void *read_matching_data(evk_context *ctx, size_t *bytes, evk_status *status)
{
    *bytes = 0;
    *status = EVK_SUCCESS;
    struct stat info;
    if (stat(ctx->pipeline_cache_path, &info) != 0)
        return NULL;
    if (!S_ISREG(info.st_mode)) {
        *status = evk_fail(ctx, EVK_ERROR_IO, "pipeline cache %s: not a regular file",
                           ctx->pipeline_cache_path);
        return NULL;
    }
    FILE *f;
    if (evk_file_fopen_read(ctx, ctx->pipeline_cache_path, &f) != EVK_SUCCESS) {
        evk_clear_error(ctx);
        return NULL;
    }
    cache_header expected, found;
    fill_header(ctx, &expected);
    void *data = NULL;
    if (fread(&found, sizeof found, 1, f) == 1 &&
        memcmp(&expected, &found, offsetof(cache_header, data_bytes)) == 0 &&
        found.data_bytes > 0 && found.data_bytes <= (uint64_t)256 << 20) {
        data = evk_alloc(ctx, (size_t)found.data_bytes);
        if (data && fread(data, 1, (size_t)found.data_bytes, f) == found.data_bytes) {
            *bytes = (size_t)found.data_bytes;
        } else {
            evk_free(ctx, data);
            data = NULL;
        }
    }
    fclose(f);
    return data;
}

evk_status evk_pipeline_cache_open(evk_context *ctx)
{
    size_t bytes = 0;
    evk_status status = EVK_SUCCESS;
    void *data = ctx->pipeline_cache_path ? read_matching_data(ctx, &bytes, &status) : NULL;
    if (status != EVK_SUCCESS)
        return status;
    VkPipelineCacheCreateInfo info = {.sType = VK_STRUCTURE_TYPE_PIPELINE_CACHE_CREATE_INFO,
                                      .initialDataSize = bytes,
                                      .pInitialData = data};
    VkResult r = ctx->vk.vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
    if (r != VK_SUCCESS && data) {
        info.initialDataSize = 0;
        info.pInitialData = NULL;
        r = ctx->vk.vkCreatePipelineCache(ctx->device, &info, NULL, &ctx->pipeline_cache);
        evk_free(ctx, data);
        data = NULL;
    }
    evk_free(ctx, data);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkCreatePipelineCache");
    ctx->stats.pipeline_cache_loaded = bytes > 0;
    if (ctx->pipeline_cache_path)
        evk_logf(ctx, EVK_LOG_INFO, "pipeline cache %s: %s", ctx->pipeline_cache_path,
                 bytes ? "loaded" : "absent or stale, starting empty");
    return EVK_SUCCESS;
}

static evk_status write_cache_file(evk_context *ctx, const void *data, size_t bytes)
{
    cache_header h;
    fill_header(ctx, &h);
    h.data_bytes = bytes;
    evk_file_writer writer;
    evk_status status = evk_file_write_begin(ctx, ctx->pipeline_cache_path, &writer);
    if (status != EVK_SUCCESS)
        return status;
    if (fwrite(&h, sizeof h, 1, writer.stream) != 1 ||
        fwrite(data, 1, bytes, writer.stream) != bytes) {
        evk_file_write_abort(&writer);
        return evk_fail(ctx, EVK_ERROR_IO, "cannot write pipeline cache file %s",
                        ctx->pipeline_cache_path);
    }
    return evk_file_write_commit(&writer);
}

static evk_status context_save_pipeline_cache_entered(evk_context *ctx)
{
    if (!ctx)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "ctx is NULL");
    if (!ctx->pipeline_cache_path)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "the context desc names no pipeline cache file");
    size_t bytes = 0;
    VkResult r = ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &bytes, NULL);
    if (r != VK_SUCCESS)
        return evk_fail_vk(ctx, r, "vkGetPipelineCacheData");
    void *data = evk_alloc(ctx, bytes ? bytes : 1);
    if (!data)
        return evk_fail_oom(ctx, "pipeline cache data");
    r = ctx->vk.vkGetPipelineCacheData(ctx->device, ctx->pipeline_cache, &bytes, data);
    evk_status s = r == VK_SUCCESS || r == VK_INCOMPLETE ? write_cache_file(ctx, data, bytes)
                                                         : evk_fail_vk(ctx, r, "vkGetPipelineCacheData");
    evk_free(ctx, data);
    return s;
}

evk_status evk_context_save_pipeline_cache(evk_context *ctx)
{
    EVK_ENTERED(ctx, context_save_pipeline_cache_entered(ctx));
}

void evk_pipeline_cache_close(evk_context *ctx)
{
    if (!ctx->pipeline_cache)
        return;
    if (ctx->pipeline_cache_path && ctx->stats.pipelines_created > 0)
        evk_context_save_pipeline_cache(ctx);
    ctx->vk.vkDestroyPipelineCache(ctx->device, ctx->pipeline_cache, NULL);
    ctx->pipeline_cache = VK_NULL_HANDLE;
}
