/* Image preprocessing on the device: one dispatch of shaders/preprocess.comp
 * over the centre crop, with the antialiasing taps of the crop's columns
 * and rows computed here once (torchvision's and PIL's separable rule: the
 * filter's support widens by the downscale factor, each output's weights
 * normalised to sum to 1). */
#include <math.h>
#include <string.h>

#include "context.h"
#include "context_entry.h"
#include "handles.h"
#include "layer.h"
#include "pipeline.h"
#include "recorded.h"
#include "resize_rule.h"
#include "profile.h"

enum { PREPROCESS_WORKGROUP = 64, MAX_TAPS = 1u << 12 };

struct evk_preprocess {
    evk_context *ctx;
    evk_preprocess_desc desc;
    uint32_t pixel_bytes, channel[3];
    uint64_t image_bytes;
    uint32_t taps_x, taps_y, y_table;
    evk_buffer taps;
    evk_buffer image;               /* host pixels' copy, created on first run */
};

double evk_resize_filter_weight(evk_resize_filter f, double x)
{
    x = fabs(x);
    if (f == EVK_RESIZE_BILINEAR)
        return x < 1.0 ? 1.0 - x : 0.0;
    const double a = -0.5;
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

/* Taps per output of an in_size -> out_size resize. */
static uint32_t tap_count(evk_resize_filter f, uint32_t in_size, uint32_t out_size)
{
    double scale = (double)in_size / (double)out_size;
    double support = (f == EVK_RESIZE_BILINEAR ? 1.0 : 2.0) * (scale > 1.0 ? scale : 1.0);
    return (uint32_t)ceil(support) * 2 + 1;
}

/* The table of `crop` outputs starting at output `offset` of the resize:
 * firsts, counts, then `taps` weights each. */
static void fill_table(evk_resize_filter f, uint32_t in_size, uint32_t out_size, uint32_t offset,
                       uint32_t crop, uint32_t taps, uint32_t *table)
{
    double scale = (double)in_size / (double)out_size;
    double filter_scale = scale > 1.0 ? scale : 1.0;
    double support = (f == EVK_RESIZE_BILINEAR ? 1.0 : 2.0) * filter_scale;
    float *weights = (float *)(table + 2 * crop);
    for (uint32_t i = 0; i < crop; ++i) {
        double center = ((double)(offset + i) + 0.5) * scale;
        double low_edge = center - support + 0.5, high_edge = center + support + 0.5;
        uint32_t low = low_edge < 0.0 ? 0 : (uint32_t)low_edge;
        uint32_t high = high_edge > (double)in_size ? in_size : (uint32_t)high_edge;
        uint32_t count = high > low ? high - low : 0;
        if (count > taps)
            count = taps;
        double w[MAX_TAPS], sum = 0.0;
        for (uint32_t k = 0; k < count; ++k) {
            w[k] = evk_resize_filter_weight(f, ((double)k + (double)low - center + 0.5) / filter_scale);
            sum += w[k];
        }
        table[i] = low;
        table[crop + i] = count;
        for (uint32_t k = 0; k < taps; ++k)
            weights[(size_t)i * taps + k] = k < count ? (float)(sum != 0.0 ? w[k] / sum : w[k]) : 0.0f;
    }
}

uint32_t evk_center_crop_offset(uint32_t size, uint32_t crop)
{
    uint32_t difference = size - crop, half = difference / 2;
    return difference % 2 && half % 2 ? half + 1 : half;
}

static evk_status check_desc(evk_context *ctx, const evk_preprocess_desc *d)
{
    static const char *fn = "evk_preprocess_create";
    if (!d->width || !d->height || !d->crop || d->resize < d->crop)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: width %u, height %u, resize %u, crop "
                        "%u: sizes must be >= 1 and resize >= crop", fn, d->width, d->height,
                        d->resize, d->crop);
    if (d->format < EVK_PIXEL_RGBA8 || d->format > EVK_PIXEL_RGB8)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: format %d is not an evk_pixel_format",
                        fn, (int)d->format);
    if (d->filter != EVK_RESIZE_BILINEAR && d->filter != EVK_RESIZE_BICUBIC)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: filter %d is not an "
                        "evk_resize_filter", fn, (int)d->filter);
    uint32_t pixel_bytes = d->format == EVK_PIXEL_RGB8 ? 3 : 4;
    if (d->row_pitch && d->row_pitch / pixel_bytes < d->width)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: row_pitch %u is shorter than a row "
                        "of %u pixels (%u bytes each)", fn, d->row_pitch, d->width, pixel_bytes);
    for (int c = 0; c < 3; ++c)
        if (!isfinite(d->mean[c]) || !isfinite(d->std[c]) || !(d->std[c] > 0.0f))
            return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: mean[%d] %g and std[%d] %g: "
                            "both finite and std > 0", fn, c, d->mean[c], c, d->std[c]);
    return EVK_SUCCESS;
}

void evk_resize_size(uint32_t width, uint32_t height, uint32_t resize, uint32_t *out_width,
                     uint32_t *out_height)
{
    uint32_t shorter = width <= height ? width : height;
    uint32_t longer = width <= height ? height : width;
    uint32_t new_long = (uint32_t)((double)((uint64_t)resize * longer) / (double)shorter);
    *out_width = width <= height ? resize : new_long;
    *out_height = width <= height ? new_long : resize;
}

static evk_status upload_taps(evk_preprocess *p)
{
    const evk_preprocess_desc *d = &p->desc;
    uint32_t rw, rh;
    evk_resize_size(d->width, d->height, d->resize, &rw, &rh);
    p->taps_x = tap_count(d->filter, d->width, rw);
    p->taps_y = tap_count(d->filter, d->height, rh);
    if (p->taps_x > MAX_TAPS || p->taps_y > MAX_TAPS)
        return evk_fail(p->ctx, EVK_ERROR_LIMIT_EXCEEDED, "evk_preprocess_create: a %ux%u image "
                        "resized to %ux%u needs over %u taps per pixel", d->width, d->height, rw,
                        rh, MAX_TAPS);
    p->y_table = d->crop * (2 + p->taps_x);
    size_t words = (size_t)p->y_table + (size_t)d->crop * (2 + p->taps_y);
    uint32_t *table = evk_calloc(p->ctx, words, sizeof *table);
    if (!table)
        return evk_fail_oom(p->ctx, "preprocess taps");
    fill_table(d->filter, d->width, rw, evk_center_crop_offset(rw, d->crop), d->crop, p->taps_x, table);
    fill_table(d->filter, d->height, rh, evk_center_crop_offset(rh, d->crop), d->crop, p->taps_y,
               table + p->y_table);
    evk_status s = evk_buffer_create_with_data(p->ctx, table, words * sizeof *table,
                                               "preprocess taps", &p->taps);
    evk_free(p->ctx, table);
    return s;
}

static evk_status preprocess_create_entered(evk_context *ctx, const evk_preprocess_desc *desc,
                                            evk_preprocess **out)
{
    if (!ctx || !desc || !out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_preprocess_create: ctx, desc or out "
                        "is NULL");
    evk_status s = check_desc(ctx, desc);
    if (s != EVK_SUCCESS)
        return s;
    evk_preprocess *p = evk_calloc(ctx, 1, sizeof *p);
    if (!p)
        return evk_fail_oom(ctx, "preprocess");
    p->ctx = ctx;
    p->desc = *desc;
    p->pixel_bytes = desc->format == EVK_PIXEL_RGB8 ? 3 : 4;
    if (!p->desc.row_pitch)
        p->desc.row_pitch = desc->width * p->pixel_bytes;
    static const uint32_t order[3][3] = {{0, 1, 2}, {2, 1, 0}, {0, 1, 2}};
    memcpy(p->channel, order[desc->format - 1], sizeof p->channel);
    p->image_bytes = (uint64_t)p->desc.row_pitch * (desc->height - 1) +
                     (uint64_t)desc->width * p->pixel_bytes;
    if (p->image_bytes + 3 > ctx->profile.limits.buffer_bytes)
        s = evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED, "evk_preprocess_create: a %llu-byte image "
                     "exceeds the device's storage buffer range", (unsigned long long)p->image_bytes);
    if (s == EVK_SUCCESS)
        s = upload_taps(p);
    if (s != EVK_SUCCESS) {
        evk_buffer_destroy(ctx, &p->taps);
        evk_free(ctx, p);
        return s;
    }
    *out = p;
    return EVK_SUCCESS;
}

evk_status evk_preprocess_create(evk_context *ctx, const evk_preprocess_desc *desc,
                                 evk_preprocess **out)
{
    EVK_ENTERED_CREATE(ctx, out, preprocess_create_entered(ctx, desc, out));
}

static void preprocess_destroy_entered(evk_preprocess *p)
{
    evk_buffer_destroy(p->ctx, &p->taps);
    evk_buffer_destroy(p->ctx, &p->image);
    evk_free(p->ctx, p);
}

void evk_preprocess_destroy(evk_preprocess *p)
{
    if (p)
        EVK_ENTERED_VOID(p->ctx, preprocess_destroy_entered(p));
}

uint64_t evk_preprocess_image_bytes(const evk_preprocess *p)
{
    return p ? p->image_bytes : 0;
}

static evk_status check_output(evk_preprocess *p, const evk_tensor *out, uint32_t image)
{
    evk_status s = evk_tensor_check(p->ctx, out, "preprocess output");
    if (s != EVK_SUCCESS)
        return s;
    evk_shape o = out->shape;
    if (o.c != 3 || o.h != p->desc.crop || o.w != p->desc.crop || image >= o.n)
        return evk_fail(p->ctx, EVK_ERROR_SHAPE_MISMATCH, "preprocess: output %ux%ux%ux%u, image "
                        "%u: it must be N x 3 x %u x %u with the image index below N", o.n, o.c,
                        o.h, o.w, image, p->desc.crop, p->desc.crop);
    return EVK_SUCCESS;
}

/* Records the dispatch reading `image` (a buffer range of at least
 * image_bytes rounded up to whole words). */
static evk_status record(evk_preprocess *p, evk_binding image, evk_tensor *out, uint32_t index)
{
    struct {
        uint32_t crop, row_pitch, pixel_bytes, red, green, blue, taps_x, taps_y, y_table, image;
        uint32_t pad[2];
        float mean[4], std[4];
    } push = {p->desc.crop, p->desc.row_pitch, p->pixel_bytes, p->channel[0], p->channel[1],
              p->channel[2], p->taps_x, p->taps_y, p->y_table, index, {0, 0},
              {p->desc.mean[0], p->desc.mean[1], p->desc.mean[2], 0.0f},
              {p->desc.std[0], p->desc.std[1], p->desc.std[2], 1.0f}};
    evk_pipeline_key key = {.shader = "preprocess", .workgroup_size = PREPROCESS_WORKGROUP,
                            .binding_count = 3, .push_bytes = sizeof push};
    evk_binding bindings[3] = {evk_tensor_binding(out, 1), image, evk_buffer_binding(&p->taps)};
    uint64_t pixels = (uint64_t)p->desc.crop * p->desc.crop;
    return evk_command_dispatch(p->ctx, &key, bindings, &push,
                                evk_div_up_u64(pixels, PREPROCESS_WORKGROUP));
}

static uint64_t word_bytes(uint64_t bytes)
{
    return (bytes + 3) / 4 * 4;
}

static evk_status preprocess_run_entered(evk_preprocess *p, const void *pixels, uint64_t bytes,
                                         evk_tensor *out, uint32_t index)
{
    evk_context *ctx = p->ctx;
    if (!pixels || bytes < p->image_bytes)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_preprocess_run: %llu bytes of "
                        "pixels given, the image needs %llu", (unsigned long long)bytes,
                        (unsigned long long)p->image_bytes);
    evk_status s = check_output(p, out, index);
    if (s == EVK_SUCCESS && !p->image.buffer)
        s = evk_buffer_create(ctx, word_bytes(p->image_bytes), EVK_BUFFER_DEVICE,
                              "preprocess image", &p->image);
    if (s == EVK_SUCCESS) {
        evk_host_access access;
        s = evk_buffer_begin_write(ctx, &p->image, &access);
        if (s == EVK_SUCCESS) {
            memcpy(access.ptr, pixels, (size_t)p->image_bytes);
            s = evk_buffer_end_write(ctx, &p->image, &access);
        }
    }
    if (s == EVK_SUCCESS)
        s = evk_command_begin(ctx);
    if (s != EVK_SUCCESS)
        return s;
    s = record(p, evk_buffer_binding(&p->image), out, index);
    if (s != EVK_SUCCESS) {
        evk_command_abort(ctx);
        return s;
    }
    s = evk_command_submit_wait(ctx);
    if (s == EVK_SUCCESS)
        evk_clear_error(ctx);
    return s;
}

evk_status evk_preprocess_run(evk_preprocess *p, const void *pixels, uint64_t bytes,
                              evk_tensor *out, uint32_t image_index)
{
    if (!p)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_preprocess_run: preprocess is NULL");
    EVK_ENTERED(p->ctx, preprocess_run_entered(p, pixels, bytes, out, image_index));
}

static evk_status preprocess_record_entered(evk_preprocess *p, const evk_external_buffer *image,
                                            evk_tensor *out, uint32_t index, void *cb,
                                            evk_recorded **rec_out)
{
    evk_context *ctx = p->ctx;
    if (!cb || !rec_out)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "evk_preprocess_record: "
                        "command_buffer or out is NULL");
    uint64_t needed = word_bytes(p->image_bytes);
    evk_status s = evk_external_range_check(ctx, "evk_preprocess_record", image, needed);
    if (s == EVK_SUCCESS)
        s = check_output(p, out, index);
    evk_recorded *rec = NULL;
    if (s == EVK_SUCCESS)
        s = evk_recorded_create(ctx, &rec);
    if (s == EVK_SUCCESS)
        s = evk_command_begin_foreign(ctx, (VkCommandBuffer)cb, &rec->pools);
    if (s == EVK_SUCCESS) {
        evk_binding binding = {EVK_HANDLE_FROM_U64(VkBuffer, image->buffer), image->offset,
                               needed, 0, 1};
        s = record(p, binding, out, index);
        evk_command_end_foreign(ctx, &rec->pools);
    }
    if (s != EVK_SUCCESS) {
        if (rec)
            evk_recorded_free(rec);
        return s;
    }
    *rec_out = rec;
    evk_clear_error(ctx);
    return EVK_SUCCESS;
}

evk_status evk_preprocess_record(evk_preprocess *p, const evk_external_buffer *image,
                                 evk_tensor *out, uint32_t image_index, void *command_buffer,
                                 evk_recorded **rec)
{
    if (rec)
        *rec = NULL;
    if (!p)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_preprocess_record: preprocess is "
                        "NULL");
    EVK_ENTERED(p->ctx, preprocess_record_entered(p, image, out, image_index, command_buffer, rec));
}
