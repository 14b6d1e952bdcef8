/* Device tier: image preprocessing on the device (evk_preprocess) against
 * a plain C resize written here from the documented rule (double sums,
 * rounded half to even to 8 bits) and against effvk classify's CPU
 * preprocessing (PIL's integer arithmetic, tools/preprocess.c), on
 * odd-sized images: RGB, RGBA and BGRA, padded rows, up- and downscaling,
 * bilinear and bicubic, the second image of a batch, and the dispatch
 * recorded into a command buffer reading a buffer of the caller's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handles.h"
#include "preprocess.h"
#include "test_util.h"
#include "vk_commands.h"

typedef struct image_case {
    uint32_t width, height, pitch_padding;
    evk_pixel_format format;
    evk_resize_filter filter;
    uint32_t resize, crop;
} image_case;

static const float mean[3] = {0.485f, 0.456f, 0.406f}, std_[3] = {0.229f, 0.224f, 0.225f};

static uint32_t pixel_bytes(evk_pixel_format f)
{
    return f == EVK_PIXEL_RGB8 ? 3 : 4;
}

static unsigned char *make_image(const image_case *c, uint64_t seed, uint32_t *pitch)
{
    *pitch = c->width * pixel_bytes(c->format) + c->pitch_padding;
    unsigned char *bytes = malloc((size_t)*pitch * c->height);
    assert_non_null(bytes);
    tu_rng rng = tu_rng_seeded(seed);
    for (size_t i = 0; i < (size_t)*pitch * c->height; ++i)
        bytes[i] = (unsigned char)tu_uniform(&rng, 0.0f, 256.0f);
    /* Smooth areas too, where rounding steps matter most. */
    for (uint32_t y = 0; y < c->height / 2; ++y)
        for (uint32_t x = 0; x < c->width * pixel_bytes(c->format); ++x)
            bytes[(size_t)y * *pitch + x] = (unsigned char)((x * 3 + y * 5) & 255);
    return bytes;
}

static double filter(evk_resize_filter f, double x)
{
    x = fabs(x);
    if (f == EVK_RESIZE_BILINEAR)
        return x < 1.0 ? 1.0 - x : 0.0;
    if (x < 1.0)
        return (1.5 * x - 2.5) * x * x + 1.0;
    return x < 2.0 ? ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0 : 0.0;
}

/* Output o's weights over the input (in_size of them, most zero). */
static void weights_for(evk_resize_filter f, uint32_t in_size, uint32_t out_size, uint32_t o,
                        double *w)
{
    double scale = (double)in_size / out_size, fs = scale > 1.0 ? scale : 1.0;
    double support = (f == EVK_RESIZE_BILINEAR ? 1.0 : 2.0) * fs;
    double center = (o + 0.5) * scale, sum = 0.0;
    int low = (int)(center - support + 0.5), high = (int)(center + support + 0.5);
    low = low < 0 ? 0 : low;
    high = high > (int)in_size ? (int)in_size : high;
    for (uint32_t i = 0; i < in_size; ++i) {
        w[i] = (int)i >= low && (int)i < high ? filter(f, (i - center + 0.5) / fs) : 0.0;
        sum += w[i];
    }
    for (uint32_t i = 0; i < in_size; ++i)
        w[i] /= sum;
}

static uint32_t crop_offset(uint32_t size, uint32_t crop)
{
    double exact = (size - crop) / 2.0;
    double rounded = nearbyint(exact);      /* the default mode: halves to even */
    return (uint32_t)rounded;
}

/* 3 x crop x crop floats by the documented rule. */
static float *reference(const image_case *c, const unsigned char *px, uint32_t pitch)
{
    uint32_t rw, rh;
    preprocess_resized_size(c->width, c->height, c->resize, &rw, &rh);
    uint32_t top = crop_offset(rh, c->crop), left = crop_offset(rw, c->crop);
    const uint32_t order[2][3] = {{0, 1, 2}, {2, 1, 0}};
    const uint32_t *ch = order[c->format == EVK_PIXEL_BGRA8];
    double *wx = malloc(c->width * sizeof *wx), *wy = malloc(c->height * sizeof *wy);
    float *out = malloc(3 * (size_t)c->crop * c->crop * sizeof *out);
    for (uint32_t y = 0; y < c->crop; ++y) {
        weights_for(c->filter, c->height, rh, top + y, wy);
        for (uint32_t x = 0; x < c->crop; ++x) {
            weights_for(c->filter, c->width, rw, left + x, wx);
            for (uint32_t k = 0; k < 3; ++k) {
                double sum = 0.0;
                for (uint32_t sy = 0; sy < c->height; ++sy) {
                    if (wy[sy] == 0.0)
                        continue;
                    double across = 0.0;
                    for (uint32_t sx = 0; sx < c->width; ++sx)
                        across += wx[sx] * px[(size_t)sy * pitch + sx * pixel_bytes(c->format) + ch[k]];
                    sum += wy[sy] * across;
                }
                double v = nearbyint(sum);
                v = v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v;
                out[((size_t)k * c->crop + y) * c->crop + x] =
                    ((float)v / 255.0f - mean[k]) / std_[k];
            }
        }
    }
    free(wx);
    free(wy);
    return out;
}

static evk_preprocess *create(evk_context *ctx, const image_case *c, uint32_t pitch)
{
    evk_preprocess_desc d = {.width = c->width, .height = c->height, .row_pitch = pitch,
                             .format = c->format, .filter = c->filter, .resize = c->resize,
                             .crop = c->crop};
    memcpy(d.mean, mean, sizeof mean);
    memcpy(d.std, std_, sizeof std_);
    evk_preprocess *p = NULL;
    if (evk_preprocess_create(ctx, &d, &p) != EVK_SUCCESS)
        fail_msg("evk_preprocess_create: %s", evk_last_error(ctx));
    return p;
}

/* Every value within one 8-bit level of `ref` (an fp32 sum that lands on the
 * other side of a rounding step than the double one), and few of them off;
 * at the 16-bit precisions each also off by the output's rounding to half,
 * u_s of it (a tenth of a level at most for these values). */
static void assert_levels(const float *got, const float *ref, size_t n, const char *what)
{
    size_t off = 0;
    for (size_t i = 0; i < n; ++i) {
        float level = 1.0f / 255.0f / std_[i * 3 / n];
        float d = fabsf(got[i] - ref[i]);
        float exact = 1e-5f + (float)tu_storage_u() * fabsf(ref[i]);
        if (!(d <= exact)) {
            if (!(d <= level + exact))
                fail_msg("%s: value %zu is %g, the reference %g", what, i, got[i], ref[i]);
            ++off;
        }
    }
    printf("%s: %zu of %zu values one 8-bit level off the double reference\n", what, off, n);
    assert_true(off * 200 <= n);
}

static void check_case(evk_context *ctx, const image_case *c, uint64_t seed)
{
    char what[96];
    snprintf(what, sizeof what, "%ux%u fmt %d filter %d -> %u crop %u", c->width, c->height,
             (int)c->format, (int)c->filter, c->resize, c->crop);
    uint32_t pitch;
    unsigned char *px = make_image(c, seed, &pitch);
    evk_preprocess *p = create(ctx, c, pitch);
    assert_true(evk_preprocess_image_bytes(p) ==
                (uint64_t)pitch * (c->height - 1) + (uint64_t)c->width * pixel_bytes(c->format));
    evk_shape out_shape = {2, 3, c->crop, c->crop};
    evk_tensor *t = tu_tensor(ctx, out_shape, NULL);
    assert_int_equal(evk_preprocess_run(p, px, (uint64_t)pitch * c->height, t, 1), EVK_SUCCESS);
    float *got = tu_download(t);
    float *ref = reference(c, px, pitch);
    size_t n = 3 * (size_t)c->crop * c->crop;
    for (size_t i = 0; i < n; ++i)
        assert_true(got[i] == 0.0f);    /* image 0 untouched */
    assert_levels(got + n, ref, n, what);
    free(got);
    free(ref);
    evk_tensor_destroy(t);
    evk_preprocess_destroy(p);
    free(px);
}

static void test_against_reference(void **state)
{
    tu_gpu *g = *state;
    const image_case cases[] = {
        {97, 61, 0, EVK_PIXEL_RGB8, EVK_RESIZE_BICUBIC, 32, 27},
        {61, 97, 5, EVK_PIXEL_RGBA8, EVK_RESIZE_BILINEAR, 40, 33},
        {37, 29, 12, EVK_PIXEL_BGRA8, EVK_RESIZE_BICUBIC, 45, 40},
        {23, 31, 1, EVK_PIXEL_RGB8, EVK_RESIZE_BILINEAR, 23, 23},
        {255, 200, 0, EVK_PIXEL_RGBA8, EVK_RESIZE_BICUBIC, 56, 49},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i)
        check_case(g->ctx, &cases[i], 40 + i);
    tu_assert_no_validation_messages(g);
}

/* The largest difference from effvk classify's CPU path, in 8-bit levels.
 * That path is PIL's: it rounds and clips to 8 bits after each of its two
 * passes, in fixed point, where the device (as torchvision's uint8 tensor
 * path) rounds once after both. */
static double levels_from_cpu(evk_context *ctx, const image_case *c, const unsigned char *px)
{
    uint32_t pitch = c->width * 3;
    evk_preprocess *p = create(ctx, c, pitch);
    evk_tensor *t = tu_tensor(ctx, (evk_shape){1, 3, c->crop, c->crop}, NULL);
    assert_int_equal(evk_preprocess_run(p, px, (uint64_t)pitch * c->height, t, 0), EVK_SUCCESS);
    float *got = tu_download(t);
    size_t n = 3 * (size_t)c->crop * c->crop;
    float *cpu = malloc(n * sizeof *cpu);
    preprocess_spec spec = {.resize = c->resize, .crop = c->crop};
    memcpy(spec.mean, mean, sizeof mean);
    memcpy(spec.std, std_, sizeof std_);
    assert_int_equal(preprocess_image(px, c->width, c->height, &spec, cpu), 0);
    double worst = 0.0;
    for (size_t i = 0; i < n; ++i) {
        double levels = fabs(got[i] - cpu[i]) * 255.0 * std_[i * 3 / n];
        worst = levels > worst ? levels : worst;
    }
    free(cpu);
    free(got);
    evk_tensor_destroy(t);
    evk_preprocess_destroy(p);
    return worst;
}

static void test_against_cpu_preprocessing(void **state)
{
    tu_gpu *g = *state;
    image_case c = {301, 227, 0, EVK_PIXEL_RGB8, EVK_RESIZE_BICUBIC, 256, 224};
    /* A photograph-like image: smooth shading, no clipping between passes. */
    unsigned char *smooth = malloc(3 * (size_t)c.width * c.height);
    assert_non_null(smooth);
    for (uint32_t y = 0; y < c.height; ++y)
        for (uint32_t x = 0; x < c.width; ++x)
            for (uint32_t k = 0; k < 3; ++k)
                smooth[((size_t)y * c.width + x) * 3 + k] = (unsigned char)(
                    127.5 + 100.0 * sin(0.031 * x * (k + 1) + 0.017 * y) * cos(0.023 * y));
    double smooth_levels = levels_from_cpu(g->ctx, &c, smooth);
    /* Noise, where bicubic overshoots that PIL clips after its first pass. */
    uint32_t pitch;
    unsigned char *noise = make_image(&c, 77, &pitch);
    double noise_levels = levels_from_cpu(g->ctx, &c, noise);
    printf("against the CPU (PIL) preprocessing, %ux%u -> %u, crop %u: at most %.2f 8-bit "
           "levels apart on a smooth image, %.2f on noise\n", c.width, c.height, c.resize,
           c.crop, smooth_levels, noise_levels);
    assert_true(smooth_levels <= (tu_precision() == EVK_PRECISION_FP32 ? 1.01 : 1.2));
    assert_true(noise_levels <= 32.0);
    free(smooth);
    free(noise);
    tu_assert_no_validation_messages(g);
}

/* The dispatch in a command buffer of the caller's, reading the caller's
 * buffer (host-visible here, written through the mapping). */
static void test_recorded_from_a_buffer(void **state)
{
    tu_gpu *g = *state;
    evk_context *ctx = g->ctx;
    image_case c = {45, 38, 3, EVK_PIXEL_BGRA8, EVK_RESIZE_BICUBIC, 30, 29};
    uint32_t pitch;
    unsigned char *px = make_image(&c, 91, &pitch);
    evk_preprocess *p = create(ctx, &c, pitch);
    uint64_t bytes = (evk_preprocess_image_bytes(p) + 3) / 4 * 4;
    tu_vulkan v;
    tu_vulkan_of_context(ctx, &v);
    tu_host_buffer image_buffer = tu_host_buffer_create(&v, bytes, VK_BUFFER_USAGE_STORAGE_BUFFER_BIT);
    memset(image_buffer.mapped, 0, (size_t)bytes);
    memcpy(image_buffer.mapped, px, (size_t)evk_preprocess_image_bytes(p));
    VkCommandPool pool;
    VkCommandBuffer cb = tu_commands_begin(&v, &pool);
    evk_tensor *out = tu_tensor(ctx, (evk_shape){1, 3, c.crop, c.crop}, NULL);
    evk_external_buffer image = {EVK_HANDLE_TO_U64(image_buffer.buffer), 0, bytes,
                                 VK_BUFFER_USAGE_STORAGE_BUFFER_BIT};
    evk_recorded *rec = NULL;
    evk_external_buffer short_image = image;
    short_image.size = bytes - 4;
    assert_int_equal(evk_preprocess_record(p, &short_image, out, 0, cb, &rec),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_null(rec);
    assert_int_equal(evk_preprocess_record(p, &image, out, 0, cb, &rec), EVK_SUCCESS);
    tu_commands_barrier_to_host(&v, cb);
    tu_commands_submit(&v, cb);
    evk_recorded_release(rec);
    float *got = tu_download(out);
    float *ref = reference(&c, px, pitch);
    assert_levels(got, ref, 3 * (size_t)c.crop * c.crop, "recorded");
    free(got);
    free(ref);
    evk_tensor_destroy(out);
    v.vk.vkDestroyCommandPool(v.device, pool, NULL);
    tu_host_buffer_destroy(&v, &image_buffer);
    evk_preprocess_destroy(p);
    free(px);
    tu_assert_no_validation_messages(g);
}

static void test_bad_arguments(void **state)
{
    tu_gpu *g = *state;
    evk_context *ctx = g->ctx;
    evk_preprocess_desc good = {.width = 8, .height = 6, .format = EVK_PIXEL_RGBA8,
                                .filter = EVK_RESIZE_BILINEAR, .resize = 6, .crop = 5,
                                .mean = {0, 0, 0}, .std = {1, 1, 1}};
    evk_preprocess *p = (evk_preprocess *)&p;
    evk_preprocess_desc d = good;
    d.crop = 7;
    assert_int_equal(evk_preprocess_create(ctx, &d, &p), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(p);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "resize >= crop");
    d = good;
    d.format = 9;
    assert_int_equal(evk_preprocess_create(ctx, &d, &p), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "format");
    d = good;
    d.row_pitch = 31;
    assert_int_equal(evk_preprocess_create(ctx, &d, &p), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "row_pitch");
    d = good;
    d.std[1] = 0.0f;
    assert_int_equal(evk_preprocess_create(ctx, &d, &p), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "std");
    d = good;
    d.filter = 0;
    assert_int_equal(evk_preprocess_create(ctx, &d, &p), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_preprocess_create(ctx, &good, &p), EVK_SUCCESS);
    unsigned char px[8 * 6 * 4] = {0};
    evk_tensor *wrong = tu_tensor(ctx, (evk_shape){1, 3, 5, 4}, NULL);
    evk_tensor *right = tu_tensor(ctx, (evk_shape){1, 3, 5, 5}, NULL);
    assert_int_equal(evk_preprocess_run(p, px, sizeof px, wrong, 0), EVK_ERROR_SHAPE_MISMATCH);
    assert_int_equal(evk_preprocess_run(p, px, sizeof px, right, 1), EVK_ERROR_SHAPE_MISMATCH);
    assert_int_equal(evk_preprocess_run(p, px, sizeof px - 1, right, 0), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_preprocess_run(p, px, sizeof px, right, 0), EVK_SUCCESS);
    evk_tensor_destroy(wrong);
    evk_tensor_destroy(right);
    evk_preprocess_destroy(p);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_against_reference),
        TU_GPU_TEST(test_against_cpu_preprocessing),
        TU_GPU_TEST(test_recorded_from_a_buffer),
        TU_GPU_TEST(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
