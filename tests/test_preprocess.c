/* GPU-free tier: effvk classify's preprocessing (tools/preprocess.c) against
 * torchvision's functional transforms (values in preprocess_expected.h,
 * written by tests/torch/make_preprocess_case.py), plus cases computed by
 * hand: a uniform image, torchvision's resize arithmetic, the models'
 * sizes and bad arguments. */
#include <math.h>
#include <stdlib.h>

#include "test_util.h"
#include "preprocess.h"

typedef struct preprocess_case {
    uint32_t width, height, resize, crop;
    const float *expected;          /* 3 x crop x crop */
} preprocess_case;

#include "preprocess_expected.h"

/* torchvision's float arithmetic differs from ours in the last bits; after
 * dividing by std (about 0.225) that is a few 1e-7. */
#define TOLERANCE 1e-5f

/* The synthetic image of make_preprocess_case.py. */
static unsigned char *synthetic_image(uint32_t width, uint32_t height)
{
    unsigned char *rgb = malloc(3 * (size_t)width * height);
    assert_non_null(rgb);
    for (uint32_t y = 0; y < height; ++y)
        for (uint32_t x = 0; x < width; ++x)
            for (uint32_t c = 0; c < 3; ++c)
                rgb[3 * ((size_t)y * width + x) + c] =
                    (unsigned char)((x * 37 + y * 91 + c * 53 + x * y * 7) % 256);
    return rgb;
}

static preprocess_spec imagenet_spec(uint32_t resize, uint32_t crop)
{
    preprocess_spec spec;
    assert_int_equal(preprocess_spec_for("efficientnet-b0", &spec), 0);
    spec.resize = resize;
    spec.crop = crop;
    return spec;
}

static void test_matches_torchvision(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof preprocess_cases / sizeof preprocess_cases[0]; ++i) {
        const preprocess_case *pc = &preprocess_cases[i];
        preprocess_spec spec = imagenet_spec(pc->resize, pc->crop);
        unsigned char *rgb = synthetic_image(pc->width, pc->height);
        size_t count = 3 * (size_t)pc->crop * pc->crop;
        float *out = malloc(count * sizeof *out);
        assert_non_null(out);
        assert_int_equal(preprocess_image(rgb, pc->width, pc->height, &spec, out), 0);
        for (size_t j = 0; j < count; ++j)
            if (!(fabsf(out[j] - pc->expected[j]) <= TOLERANCE))
                fail_msg("case %zu (%ux%u, resize %u, crop %u): value %zu is %.8g, "
                         "torchvision's %.8g", i, pc->width, pc->height, pc->resize, pc->crop, j,
                         out[j], pc->expected[j]);
        free(out);
        free(rgb);
    }
}

/* The filter's weights sum to one: a uniform image stays uniform, at
 * (v / 255 - mean) / std in every channel. */
static void test_uniform_image(void **state)
{
    (void)state;
    const uint32_t width = 300, height = 200;
    unsigned char *rgb = malloc(3 * width * height);
    assert_non_null(rgb);
    for (uint32_t i = 0; i < width * height; ++i) {
        rgb[3 * i] = 255;
        rgb[3 * i + 1] = 0;
        rgb[3 * i + 2] = 100;
    }
    preprocess_spec spec = imagenet_spec(256, 224);
    float *out = malloc(3 * 224 * 224 * sizeof *out);
    assert_non_null(out);
    assert_int_equal(preprocess_image(rgb, width, height, &spec, out), 0);
    const float expected[3] = {(1.0f - 0.485f) / 0.229f, (0.0f - 0.456f) / 0.224f,
                               (100.0f / 255.0f - 0.406f) / 0.225f};
    for (uint32_t c = 0; c < 3; ++c)
        for (uint32_t i = 0; i < 224 * 224; ++i)
            assert_float_equal(out[c * 224 * 224 + i], expected[c], 1e-5f);
    free(out);
    free(rgb);
}

/* torchvision: the shorter side becomes `resize`, the longer
 * int(resize * long / short). */
static void test_resized_size(void **state)
{
    (void)state;
    uint32_t w, h;
    preprocess_resized_size(640, 480, 256, &w, &h);
    assert_int_equal(w, 341);       /* 341.33 */
    assert_int_equal(h, 256);
    preprocess_resized_size(480, 640, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 341);
    preprocess_resized_size(7, 7, 256, &w, &h);
    assert_int_equal(w, 256);
    assert_int_equal(h, 256);
    preprocess_resized_size(3, 5, 8, &w, &h);
    assert_int_equal(w, 8);
    assert_int_equal(h, 13);        /* 13.33 */
}

static void test_model_specs(void **state)
{
    (void)state;
    preprocess_spec spec;
    assert_int_equal(preprocess_spec_for("efficientnet-b0", &spec), 0);
    assert_int_equal(spec.resize, 256);
    assert_int_equal(spec.crop, 224);
    assert_float_equal(spec.mean[2], 0.406f, 0.0f);
    assert_float_equal(spec.std[0], 0.229f, 0.0f);
    assert_int_equal(preprocess_spec_for("EfficientNet_B3", &spec), 0);
    assert_int_equal(spec.resize, 320);
    assert_int_equal(spec.crop, 300);
    assert_int_equal(preprocess_spec_for("efficientnet-b7", &spec), 0);
    assert_int_equal(spec.crop, 600);
    assert_int_equal(preprocess_spec_for("resnet-50", &spec), -1);
    assert_int_equal(preprocess_spec_for("efficientnet-b0-but-a-very-long-name", &spec), -1);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    unsigned char rgb[3] = {0};
    float out[3];
    preprocess_spec spec = imagenet_spec(1, 1);
    assert_int_equal(preprocess_image(rgb, 0, 1, &spec, out), -1);
    assert_int_equal(preprocess_image(rgb, 1, 0, &spec, out), -1);
    spec.crop = 2;                  /* larger than the resize */
    assert_int_equal(preprocess_image(rgb, 1, 1, &spec, out), -1);
    spec = imagenet_spec(1, 1);
    assert_int_equal(preprocess_image(rgb, 1, 1, &spec, out), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matches_torchvision),
        cmocka_unit_test(test_uniform_image),
        cmocka_unit_test(test_resized_size),
        cmocka_unit_test(test_model_specs),
        cmocka_unit_test(test_bad_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
