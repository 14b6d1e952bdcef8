/* torchvision's evaluation preprocessing of a PIL image (see preprocess.h).
 * The resize is PIL's separable resampling of 8-bit images: each output
 * pixel is a normalised weighted sum of the input pixels under the filter,
 * whose support widens by the downscale factor so that shrinking averages
 * instead of aliasing. PIL rounds and clips to 8 bits after each of its two
 * passes; at hard edges that moves pixels by several levels from a float
 * resize, so this reproduces its integer arithmetic instead. */
#include "preprocess.h"
#include "effvk_internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct model_preprocess {
    const char *model;
    uint32_t resize, crop;
} model_preprocess;

/* torchvision 0.14, EfficientNet_B*_Weights.IMAGENET1K_V1.transforms(). */
static const model_preprocess model_table[] = {
    {"efficientnet-b0", 256, 224}, {"efficientnet-b1", 256, 240}, {"efficientnet-b2", 288, 288},
    {"efficientnet-b3", 320, 300}, {"efficientnet-b4", 384, 380}, {"efficientnet-b5", 456, 456},
    {"efficientnet-b6", 528, 528}, {"efficientnet-b7", 600, 600},
};

static const float imagenet_mean[3] = {0.485f, 0.456f, 0.406f};
static const float imagenet_std[3] = {0.229f, 0.224f, 0.225f};

int preprocess_spec_for(const char *model, preprocess_spec *out)
{
    char normal[32];
    size_t length = strlen(model);
    if (length >= sizeof normal)
        return -1;
    for (size_t i = 0; i <= length; ++i)
        normal[i] = model[i] == '_' ? '-' : (char)tolower((unsigned char)model[i]);
    for (size_t i = 0; i < sizeof model_table / sizeof model_table[0]; ++i) {
        if (strcmp(normal, model_table[i].model) != 0)
            continue;
        *out = (preprocess_spec){.resize = model_table[i].resize, .crop = model_table[i].crop};
        memcpy(out->mean, imagenet_mean, sizeof out->mean);
        memcpy(out->std, imagenet_std, sizeof out->std);
        return 0;
    }
    return -1;
}

void preprocess_resized_size(uint32_t width, uint32_t height, uint32_t resize, uint32_t *out_width,
                             uint32_t *out_height)
{
    evk_resize_size(width, height, resize, out_width, out_height);
}

#define BICUBIC_SUPPORT 2.0

/* PIL's fixed point for 8-bit images: 22 fractional bits leave room in 32
 * bits for 255 times a window's weights, negative lobes included. */
#define WEIGHT_BITS 22
#define WEIGHT_ONE (INT64_C(1) << WEIGHT_BITS)

/* The taps of one axis: output i reads count[i] inputs from first[i] with
 * weights[i * taps ...], in WEIGHT_BITS fixed point. */
typedef struct axis_taps {
    uint32_t taps;
    uint32_t *first, *count;
    int32_t *weights;
    double *scratch;                /* one window's weights before conversion */
} axis_taps;

static void axis_taps_free(axis_taps *t)
{
    free(t->first);
    free(t->count);
    free(t->weights);
    free(t->scratch);
}

/* PIL converts with (int)(w * 2^22 +- 0.5): halves away from zero, after the
 * addition's own rounding in double. */
static int32_t fixed_weight(double w)
{
    double scaled = w * (double)WEIGHT_ONE;
    return (int32_t)(w < 0.0 ? scaled - 0.5 : scaled + 0.5);
}

/* Output i's window and weights in PIL's double arithmetic, so that no
 * weight lands on the other side of a rounding step from PIL's: the centre
 * at (i + 0.5) * scale, the bounds rounded by adding 0.5 and truncating, the
 * kernel's argument multiplied by the filter scale's reciprocal, the weights
 * normalised before the conversion (their fixed point sum may miss 2^22 by a
 * few units, as PIL's does). */
static void fill_output_taps(axis_taps *t, uint32_t i, uint32_t in_size, double scale,
                             double filter_scale, double support)
{
    double center = ((double)i + 0.5) * scale, reciprocal = 1.0 / filter_scale;
    double low_edge = center - support + 0.5, high_edge = center + support + 0.5;
    uint32_t low = low_edge < 0.0 ? 0 : (uint32_t)low_edge;
    uint32_t high = high_edge > (double)in_size ? in_size : (uint32_t)high_edge;
    uint32_t count = high - low;
    double sum = 0.0;
    for (uint32_t k = 0; k < count; ++k) {
        t->scratch[k] = evk_resize_filter_weight(EVK_RESIZE_BICUBIC, ((double)k + (double)low - center + 0.5) * reciprocal);
        sum += t->scratch[k];
    }
    int32_t *fixed = t->weights + (size_t)i * t->taps;
    for (uint32_t k = 0; k < count; ++k)
        fixed[k] = fixed_weight(sum != 0.0 ? t->scratch[k] / sum : t->scratch[k]);
    t->first[i] = low;
    t->count[i] = count;
}

static int axis_taps_make(uint32_t in_size, uint32_t out_size, axis_taps *t)
{
    double scale = (double)in_size / (double)out_size;
    double filter_scale = scale < 1.0 ? 1.0 : scale;
    double support = BICUBIC_SUPPORT * filter_scale;
    t->taps = (uint32_t)ceil(support) * 2 + 1;
    t->first = malloc(out_size * sizeof *t->first);
    t->count = malloc(out_size * sizeof *t->count);
    t->weights = calloc((size_t)out_size * t->taps, sizeof *t->weights);
    t->scratch = malloc(t->taps * sizeof *t->scratch);
    if (!t->first || !t->count || !t->weights || !t->scratch)
        return -1;
    for (uint32_t i = 0; i < out_size; ++i)
        fill_output_taps(t, i, in_size, scale, filter_scale, support);
    return 0;
}

/* One output byte: output i's taps over the inputs `stride` bytes apart from
 * `src`, accumulated from half a unit so that the shift rounds, and clipped
 * to 0..255 as PIL does after each pass. */
static unsigned char apply_taps(const axis_taps *t, uint32_t i, const unsigned char *src,
                                size_t stride)
{
    const int32_t *w = t->weights + (size_t)i * t->taps;
    const unsigned char *x = src + (size_t)t->first[i] * stride;
    int64_t sum = WEIGHT_ONE / 2;
    for (uint32_t k = 0; k < t->count[i]; ++k)
        sum += (int64_t)w[k] * x[(size_t)k * stride];
    if (sum <= 0)
        return 0;
    sum >>= WEIGHT_BITS;
    return (unsigned char)(sum > 255 ? 255 : sum);
}

/* The horizontal pass: `height` rows of `width` pixels into rows of
 * `out_width`. */
static void resample_rows(const unsigned char *src, uint32_t width, uint32_t height,
                          const axis_taps *taps, uint32_t out_width, unsigned char *dst)
{
    for (uint32_t y = 0; y < height; ++y) {
        const unsigned char *row = src + (size_t)y * width * 3;
        unsigned char *out = dst + (size_t)y * out_width * 3;
        for (uint32_t x = 0; x < out_width; ++x)
            for (uint32_t c = 0; c < 3; ++c)
                out[3 * x + c] = apply_taps(taps, x, row + c, 3);
    }
}

/* The vertical pass over rows of `width` pixels. */
static void resample_columns(const unsigned char *src, uint32_t width, const axis_taps *taps,
                             uint32_t out_height, unsigned char *dst)
{
    size_t row_bytes = (size_t)width * 3;
    for (uint32_t y = 0; y < out_height; ++y)
        for (size_t x = 0; x < row_bytes; ++x)
            dst[(size_t)y * row_bytes + x] = apply_taps(taps, y, src + x, row_bytes);
}

int preprocess_resize_rgb(const unsigned char *rgb, uint32_t width, uint32_t height,
                          uint32_t out_width, uint32_t out_height, unsigned char *out)
{
    if (!width || !height || !out_width || !out_height)
        return -1;
    size_t in_bytes = (size_t)width * height * 3;
    if (width == out_width && height == out_height) {
        memcpy(out, rgb, in_bytes);
        return 0;
    }
    axis_taps horizontal = {0}, vertical = {0};
    unsigned char *wide = NULL;
    int failed = 0;
    if (width == out_width) {
        failed = axis_taps_make(height, out_height, &vertical) != 0;
        if (!failed)
            resample_columns(rgb, width, &vertical, out_height, out);
    } else if (height == out_height) {
        failed = axis_taps_make(width, out_width, &horizontal) != 0;
        if (!failed)
            resample_rows(rgb, width, height, &horizontal, out_width, out);
    } else {
        wide = malloc((size_t)out_width * height * 3);
        failed = !wide || axis_taps_make(width, out_width, &horizontal) != 0 ||
                 axis_taps_make(height, out_height, &vertical) != 0;
        if (!failed) {
            resample_rows(rgb, width, height, &horizontal, out_width, wide);
            resample_columns(wide, out_width, &vertical, out_height, out);
        }
    }
    axis_taps_free(&horizontal);
    axis_taps_free(&vertical);
    free(wide);
    return failed ? -1 : 0;
}

int preprocess_image(const unsigned char *rgb, uint32_t width, uint32_t height,
                     const preprocess_spec *spec, float *out)
{
    if (!width || !height || !spec->crop || spec->crop > spec->resize)
        return -1;
    uint32_t rw, rh;
    preprocess_resized_size(width, height, spec->resize, &rw, &rh);
    unsigned char *resized = malloc((size_t)rw * rh * 3);
    if (!resized || preprocess_resize_rgb(rgb, width, height, rw, rh, resized) != 0) {
        free(resized);
        return -1;
    }
    uint32_t top = evk_center_crop_offset(rh, spec->crop);
    uint32_t left = evk_center_crop_offset(rw, spec->crop);
    for (uint32_t c = 0; c < 3; ++c)
        for (uint32_t y = 0; y < spec->crop; ++y)
            for (uint32_t x = 0; x < spec->crop; ++x) {
                unsigned char v = resized[(((size_t)top + y) * rw + left + x) * 3 + c];
                out[((size_t)c * spec->crop + y) * spec->crop + x] =
                    ((float)v / 255.0f - spec->mean[c]) / spec->std[c];
            }
    free(resized);
    return 0;
}
