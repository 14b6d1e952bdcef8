/* evk_preprocess against torchvision's tensor path on the cases that
 * tests/torch/make_gpu_preprocess_case.py writes into the directory given
 * as the argument (run_gpu_preprocess_case.sh makes it): odd-sized RGB
 * images, photograph-like and uniform noise, bilinear and bicubic, up and
 * down. Every value must be within one 8-bit level of torchvision's (an
 * fp32 sum that lands on the other side of a rounding step) and nearly all
 * equal; prints each case's largest difference in 8-bit levels and how
 * many values differ. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const char *case_directory;
static const float mean[3] = {0.485f, 0.456f, 0.406f}, std_[3] = {0.229f, 0.224f, 0.225f};

static void check_case(evk_context *ctx, unsigned n, uint32_t width, uint32_t height,
                       uint32_t resize, uint32_t crop, int filter)
{
    char name[64];
    snprintf(name, sizeof name, "case%u.rgb", n);
    unsigned char *rgb = tu_read_case_file(case_directory, name, (size_t)width * height * 3);
    size_t count = 3 * (size_t)crop * crop;
    snprintf(name, sizeof name, "case%u.f32", n);
    float *expected = tu_read_case_file(case_directory, name, count * sizeof(float));
    evk_preprocess_desc desc = {.width = width, .height = height, .format = EVK_PIXEL_RGB8,
                                .filter = (evk_resize_filter)filter, .resize = resize,
                                .crop = crop};
    memcpy(desc.mean, mean, sizeof mean);
    memcpy(desc.std, std_, sizeof std_);
    evk_preprocess *p;
    assert_int_equal(evk_preprocess_create(ctx, &desc, &p), EVK_SUCCESS);
    evk_tensor *t = tu_tensor(ctx, (evk_shape){1, 3, crop, crop}, NULL);
    assert_int_equal(evk_preprocess_run(p, rgb, (uint64_t)width * height * 3, t, 0), EVK_SUCCESS);
    float *got = tu_download(t);
    double worst = 0.0;
    size_t differ = 0;
    for (size_t i = 0; i < count; ++i) {
        double levels = fabs((double)got[i] - expected[i]) * 255.0 * std_[i * 3 / count];
        worst = levels > worst ? levels : worst;
        differ += levels > 1e-3;
    }
    printf("case %u: %ux%u -> %u, crop %u, %s: %zu of %zu values differ, at most %.3f 8-bit "
           "levels\n", n, width, height, resize, crop, filter == 1 ? "bilinear" : "bicubic",
           differ, count, worst);
    assert_true(worst <= 1.001);
    assert_true(differ * 100 <= count);
    free(got);
    free(expected);
    free(rgb);
    evk_tensor_destroy(t);
    evk_preprocess_destroy(p);
}

static void test_against_torchvision(void **state)
{
    tu_gpu *g = *state;
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", case_directory);
    FILE *list = fopen(path, "r");
    if (!list)
        fail_msg("cannot open %s", path);
    unsigned n, cases = 0;
    uint32_t width, height, resize, crop;
    int filter;
    while (fscanf(list, "%u %u %u %u %u %d", &n, &width, &height, &resize, &crop, &filter) == 6) {
        check_case(g->ctx, n, width, height, resize, crop, filter);
        ++cases;
    }
    fclose(list);
    assert_true(cases >= 4);
    tu_assert_no_validation_messages(g);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_preprocess_gpu_torch DIR\n");
        return 2;
    }
    case_directory = argv[1];
    const struct CMUnitTest tests[] = {TU_GPU_TEST(test_against_torchvision)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
