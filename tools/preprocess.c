/* torchvision's evaluation preprocessing (see preprocess.h). The resize is
 * PIL's separable resampling (Imaging/Resample.c), which torchvision's
 * antialiased tensor resize copies: each output pixel is a normalised
 * weighted sum of the input pixels under the filter, whose support widens
 * by the downscale factor so that shrinking averages instead of aliasing. */
#include "preprocess.h"

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
    uint32_t shorter = width <= height ? width : height;
    uint32_t longer = width <= height ? height : width;
    uint32_t new_long = (uint32_t)((double)((uint64_t)resize * longer) / (double)shorter);
    *out_width = width <= height ? resize : new_long;
    *out_height = width <= height ? new_long : resize;
}

/* PIL's bicubic kernel (a = -0.5), support 2. */
static double bicubic(double x)
{
    const double a = -0.5;
    x = fabs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
    if (x < 2.0)
        return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
    return 0.0;
}

#define BICUBIC_SUPPORT 2.0

/* The taps of one axis: output i reads count[i] inputs from first[i] with
 * weights[i * taps ...]. */
typedef struct axis_taps {
    uint32_t taps;
    uint32_t *first, *count;
    float *weights;
} axis_taps;

static void axis_taps_free(axis_taps *t)
{
    free(t->first);
    free(t->count);
    free(t->weights);
}

static void fill_output_taps(axis_taps *t, uint32_t i, uint32_t in_size, double scale,
                             double filter_scale, double support)
{
    double center = ((double)i + 0.5) * scale;
    int64_t low = (int64_t)(center - support + 0.5), high = (int64_t)(center + support + 0.5);
    low = low < 0 ? 0 : low;
    high = high > (int64_t)in_size ? (int64_t)in_size : high;
    float *w = t->weights + (size_t)i * t->taps;
    double sum = 0.0;
    uint32_t count = (uint32_t)(high - low);
    for (uint32_t k = 0; k < count; ++k) {
        w[k] = (float)bicubic(((double)k + (double)low - center + 0.5) / filter_scale);
        sum += w[k];
    }
    for (uint32_t k = 0; sum != 0.0 && k < count; ++k)
        w[k] = (float)(w[k] / sum);
    t->first[i] = (uint32_t)low;
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
    if (!t->first || !t->count || !t->weights)
        return -1;
    for (uint32_t i = 0; i < out_size; ++i)
        fill_output_taps(t, i, in_size, scale, filter_scale, support);
    return 0;
}

/* One output value: the taps of output `i` over `count` inputs `stride`
 * apart from `src`. */
static float apply_taps(const axis_taps *t, uint32_t i, const float *src, size_t stride)
{
    const float *w = t->weights + (size_t)i * t->taps;
    const float *x = src + (size_t)t->first[i] * stride;
    double sum = 0.0;
    for (uint32_t k = 0; k < t->count[i]; ++k)
        sum += (double)w[k] * x[(size_t)k * stride];
    return (float)sum;
}

/* Resamples `planes` planes of in_h x in_w to out_h x out_w: horizontally
 * first, then vertically, as PIL does. */
static int resample(const float *src, uint32_t planes, uint32_t in_w, uint32_t in_h,
                    uint32_t out_w, uint32_t out_h, float *dst)
{
    axis_taps horizontal = {0}, vertical = {0};
    float *wide = malloc((size_t)planes * in_h * out_w * sizeof *wide);
    int failed = !wide || axis_taps_make(in_w, out_w, &horizontal) != 0 ||
                 axis_taps_make(in_h, out_h, &vertical) != 0;
    for (uint32_t p = 0; !failed && p < planes; ++p) {
        const float *in = src + (size_t)p * in_h * in_w;
        float *mid = wide + (size_t)p * in_h * out_w, *out = dst + (size_t)p * out_h * out_w;
        for (uint32_t y = 0; y < in_h; ++y)
            for (uint32_t x = 0; x < out_w; ++x)
                mid[(size_t)y * out_w + x] = apply_taps(&horizontal, x, in + (size_t)y * in_w, 1);
        for (uint32_t y = 0; y < out_h; ++y)
            for (uint32_t x = 0; x < out_w; ++x)
                out[(size_t)y * out_w + x] = apply_taps(&vertical, y, mid + x, out_w);
    }
    axis_taps_free(&horizontal);
    axis_taps_free(&vertical);
    free(wide);
    return failed ? -1 : 0;
}

/* torchvision's centre crop offset, int(round((size - crop) / 2.0)): Python
 * rounds halves to even. */
static uint32_t crop_offset(uint32_t size, uint32_t crop)
{
    uint32_t difference = size - crop, half = difference / 2;
    return difference % 2 && half % 2 ? half + 1 : half;
}

int preprocess_image(const unsigned char *rgb, uint32_t width, uint32_t height,
                     const preprocess_spec *spec, float *out)
{
    if (!width || !height || !spec->crop || spec->crop > spec->resize)
        return -1;
    uint32_t rw, rh;
    preprocess_resized_size(width, height, spec->resize, &rw, &rh);
    size_t pixels = (size_t)width * height;
    float *planes = malloc(3 * pixels * sizeof *planes);
    float *resized = malloc(3 * (size_t)rw * rh * sizeof *resized);
    int failed = !planes || !resized;
    for (size_t i = 0; !failed && i < pixels; ++i)
        for (uint32_t c = 0; c < 3; ++c)
            planes[c * pixels + i] = (float)rgb[3 * i + c] / 255.0f;
    failed = failed || resample(planes, 3, width, height, rw, rh, resized) != 0;
    uint32_t top = crop_offset(rh, spec->crop), left = crop_offset(rw, spec->crop);
    for (uint32_t c = 0; !failed && c < 3; ++c)
        for (uint32_t y = 0; y < spec->crop; ++y)
            for (uint32_t x = 0; x < spec->crop; ++x) {
                float v = resized[((size_t)c * rh + top + y) * rw + left + x];
                out[((size_t)c * spec->crop + y) * spec->crop + x] =
                    (v - spec->mean[c]) / spec->std[c];
            }
    free(planes);
    free(resized);
    return failed ? -1 : 0;
}
