#include <stdio.h>
#include <string.h>

#include "tensor.h"
#include "context_entry.h"
#include "element_storage.h"
#include "effvk_internal.h"
#include "handles.h"
#include "saturating.h"

uint64_t evk_shape_elements(evk_shape s)
{
    return EVK_PRODUCT(s.n, s.c, s.h, s.w);
}

uint64_t evk_shape_device_bytes(evk_shape s)
{
    return EVK_PRODUCT(s.n, evk_div_up_u64(s.c, 4), 4u, s.h, s.w, sizeof(float));
}

uint64_t evk_tensor_bytes(const evk_context *ctx, evk_shape s)
{
    return EVK_PRODUCT(s.n, evk_div_up_u64(s.c, 4), 4u, s.h, s.w, evk_element_bytes(ctx));
}

uint64_t evk_tensor_device_bytes(const evk_context *ctx, evk_shape s)
{
    return ctx ? evk_tensor_bytes(ctx, s) : UINT64_MAX;
}

evk_status evk_shape_check(evk_context *ctx, evk_shape s, const char *what)
{
    if (!s.n || !s.c || !s.h || !s.w)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: shape %ux%ux%ux%u has a zero dimension",
                        what, s.n, s.c, s.h, s.w);
    /* Beyond 2^62 bytes the size arithmetic itself would overflow; no device
     * comes near it, so it is a limit, checked before any multiplication. */
    double bytes = (double)s.n * (double)evk_div_up_u64(s.c, 4) * 4.0 * s.h * s.w * sizeof(float);
    if (bytes > 4.0e18)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: shape %ux%ux%ux%u is too large (%.3g bytes)",
                        what, s.n, s.c, s.h, s.w, bytes);
    return EVK_SUCCESS;
}

evk_status evk_tensor_check(evk_context *ctx, const evk_tensor *t, const char *what)
{
    if (!t)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s tensor is NULL", what);
    if (t->ctx != ctx)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s tensor belongs to another context", what);
    return EVK_SUCCESS;
}

static evk_status tensor_create_entered(evk_context *ctx, evk_shape shape, evk_tensor **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "ctx or out is NULL");
    *out = NULL;
    evk_status s = evk_shape_check(ctx, shape, "evk_tensor_create");
    if (s != EVK_SUCCESS)
        return s;
    evk_tensor *t = evk_calloc(ctx, 1, sizeof *t);
    if (!t)
        return evk_fail_oom(ctx, "tensor");
    t->ctx = ctx;
    t->shape = shape;
    char what[96];
    snprintf(what, sizeof what, "tensor %ux%ux%ux%u", shape.n, shape.c, shape.h, shape.w);
    s = evk_buffer_create(ctx, evk_tensor_bytes(ctx, shape), EVK_BUFFER_DEVICE, what, &t->buffer);
    if (s == EVK_SUCCESS)
        s = evk_command_begin(ctx);
    if (s == EVK_SUCCESS) {
        evk_command_fill_zero(ctx, t->buffer.buffer, t->buffer.bytes);
        s = evk_command_submit_wait(ctx);
    }
    if (s != EVK_SUCCESS) {
        evk_tensor_destroy(t);
        return s;
    }
    *out = t;
    return EVK_SUCCESS;
}

evk_status evk_tensor_create(evk_context *ctx, evk_shape shape, evk_tensor **out)
{
    EVK_ENTERED_CREATE(ctx, out, tensor_create_entered(ctx, shape, out));
}

evk_status evk_external_range_check(evk_context *ctx, const char *fn,
                                    const evk_external_buffer *b, uint64_t needed)
{
    if (!b || !b->buffer)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: the buffer is NULL", fn);
    if (b->size < needed)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: %llu bytes given, the range needs "
                        "%llu", fn, (unsigned long long)b->size, (unsigned long long)needed);
    if (b->offset > UINT64_MAX - b->size)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: offset %llu + size %llu wraps",
                        fn, (unsigned long long)b->offset, (unsigned long long)b->size);
    if (!(b->usage & VK_BUFFER_USAGE_STORAGE_BUFFER_BIT))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: usage 0x%x lacks "
                        "VK_BUFFER_USAGE_STORAGE_BUFFER_BIT", fn, b->usage);
    if (needed > ctx->profile.limits.buffer_bytes)
        return evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "%s: %llu bytes exceed the device's "
                        "storage buffer range of %llu", fn, (unsigned long long)needed,
                        (unsigned long long)ctx->profile.limits.buffer_bytes);
    uint32_t align = ctx->props.min_storage_buffer_offset_alignment;
    if (align && b->offset % align)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: offset %llu is not a multiple of "
                        "the device's minStorageBufferOffsetAlignment %u", fn,
                        (unsigned long long)b->offset, align);
    return EVK_SUCCESS;
}

static evk_status tensor_create_external_entered(evk_context *ctx, evk_shape shape,
                                                 const evk_external_buffer *b, evk_tensor **out)
{
    if (!ctx || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "ctx or out is NULL");
    evk_status s = evk_shape_check(ctx, shape, "evk_tensor_create_external");
    if (s == EVK_SUCCESS)
        s = evk_external_range_check(ctx, "evk_tensor_create_external", b,
                                     evk_tensor_bytes(ctx, shape));
    if (s != EVK_SUCCESS)
        return s;
    evk_tensor *t = evk_calloc(ctx, 1, sizeof *t);
    if (!t)
        return evk_fail_oom(ctx, "tensor");
    t->ctx = ctx;
    t->shape = shape;
    t->buffer = (evk_buffer){.buffer = EVK_HANDLE_FROM_U64(VkBuffer, b->buffer),
                             .bytes = evk_tensor_bytes(ctx, shape),
                             .serial = ++ctx->buffer_serial,
                             .borrowed = 1,
                             .offset = b->offset,
                             .usage = b->usage};
    *out = t;
    return EVK_SUCCESS;
}

evk_status evk_tensor_create_external(evk_context *ctx, evk_shape shape,
                                      const evk_external_buffer *buffer, evk_tensor **out)
{
    EVK_ENTERED_CREATE(ctx, out, tensor_create_external_entered(ctx, shape, buffer, out));
}

static evk_status tensor_get_buffer_entered(const evk_tensor *t, evk_tensor_buffer *out)
{
    if (!t || !out)
        return evk_fail(t ? t->ctx : NULL, EVK_ERROR_INVALID_ARGUMENT,
                        "evk_tensor_get_buffer: tensor or out is NULL");
    *out = (evk_tensor_buffer){EVK_HANDLE_TO_U64(t->buffer.buffer), t->buffer.offset,
                               t->buffer.bytes};
    return EVK_SUCCESS;
}

evk_status evk_tensor_get_buffer(const evk_tensor *t, evk_tensor_buffer *out)
{
    EVK_ENTERED(t ? (evk_context *)t->ctx : NULL, tensor_get_buffer_entered(t, out));
}

static void tensor_destroy_entered(evk_tensor *t)
{
    if (!t)
        return;
    evk_context *ctx = t->ctx;
    evk_buffer_destroy(ctx, &t->buffer);
    evk_free(ctx, t);
}

void evk_tensor_destroy(evk_tensor *t)
{
    EVK_ENTERED_VOID(t ? t->ctx : NULL, tensor_destroy_entered(t));
}

evk_shape evk_tensor_shape(const evk_tensor *t)
{
    evk_shape none = {0, 0, 0, 0};
    return t ? t->shape : none;
}

void evk_pack_nchw(const evk_context *ctx, evk_shape s, const float *src, void *dst)
{
    uint32_t c4 = evk_div_up(s.c, 4);
    size_t plane = (size_t)s.h * s.w;
    memset(dst, 0, (size_t)evk_tensor_bytes(ctx, s));
    for (uint32_t n = 0; n < s.n; ++n)
        for (uint32_t c = 0; c < s.c; ++c) {
            const float *in = src + ((size_t)n * s.c + c) * plane;
            size_t first = ((size_t)n * c4 + c / 4) * plane * 4 + c % 4;
            for (size_t p = 0; p < plane; ++p)
                evk_store_element(ctx, dst, first + p * 4, in[p]);
        }
}

static void unpack(const evk_context *ctx, evk_shape s, const void *src, float *dst)
{
    uint32_t c4 = evk_div_up(s.c, 4);
    size_t plane = (size_t)s.h * s.w;
    for (uint32_t n = 0; n < s.n; ++n)
        for (uint32_t c = 0; c < s.c; ++c) {
            size_t first = ((size_t)n * c4 + c / 4) * plane * 4 + c % 4;
            float *out = dst + ((size_t)n * s.c + c) * plane;
            for (size_t p = 0; p < plane; ++p)
                out[p] = evk_load_element(ctx, src, first + p * 4);
        }
}

static evk_status check_transfer(const evk_tensor *t, const float *data, uint64_t count,
                                 const char *fn)
{
    if (!t)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "%s: tensor is NULL", fn);
    if (!data)
        return evk_fail(t->ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: data is NULL", fn);
    if (count != evk_shape_elements(t->shape))
        return evk_fail(t->ctx, EVK_ERROR_SHAPE_MISMATCH,
                        "%s: %llu floats given, tensor %ux%ux%ux%u holds %llu", fn,
                        (unsigned long long)count, t->shape.n, t->shape.c, t->shape.h, t->shape.w,
                        (unsigned long long)evk_shape_elements(t->shape));
    return EVK_SUCCESS;
}

/* `planar`: the buffer holds the data as plain NCHW (the layout
 * measurement's, effvk_internal.h) instead of packed. */
static evk_status tensor_upload_entered(evk_tensor *t, const float *data, uint64_t count,
                                        int planar, const char *fn)
{
    evk_status s = check_transfer(t, data, count, fn);
    if (s != EVK_SUCCESS)
        return s;
    evk_host_access access;
    s = evk_buffer_begin_write(t->ctx, &t->buffer, &access);
    if (s != EVK_SUCCESS)
        return s;
    if (planar)
        evk_store_elements(t->ctx, access.ptr, data, (size_t)count);
    else
        evk_pack_nchw(t->ctx, t->shape, data, access.ptr);
    return evk_buffer_end_write(t->ctx, &t->buffer, &access);
}

evk_status evk_tensor_upload(evk_tensor *t, const float *data, uint64_t count)
{
    EVK_ENTERED(t ? t->ctx : NULL, tensor_upload_entered(t, data, count, 0, "evk_tensor_upload"));
}

evk_status evk_tensor_upload_planar(evk_tensor *t, const float *data, uint64_t count)
{
    EVK_ENTERED(t ? t->ctx : NULL,
                tensor_upload_entered(t, data, count, 1, "evk_tensor_upload_planar"));
}

static evk_status tensor_download_entered(const evk_tensor *t, float *data, uint64_t count,
                                          int planar, const char *fn)
{
    evk_status s = check_transfer(t, data, count, fn);
    if (s != EVK_SUCCESS)
        return s;
    evk_host_access access;
    s = evk_buffer_begin_read(t->ctx, &t->buffer, &access);
    if (s != EVK_SUCCESS)
        return s;
    if (planar)
        for (uint64_t i = 0; i < count; ++i)
            data[i] = evk_load_element(t->ctx, access.ptr, (size_t)i);
    else
        unpack(t->ctx, t->shape, access.ptr, data);
    evk_buffer_end_read(t->ctx, &access);
    return EVK_SUCCESS;
}

evk_status evk_tensor_download(const evk_tensor *t, float *data, uint64_t count)
{
    EVK_ENTERED(t ? t->ctx : NULL,
                tensor_download_entered(t, data, count, 0, "evk_tensor_download"));
}

evk_status evk_tensor_download_planar(const evk_tensor *t, float *data, uint64_t count)
{
    EVK_ENTERED(t ? t->ctx : NULL,
                tensor_download_entered(t, data, count, 1, "evk_tensor_download_planar"));
}
