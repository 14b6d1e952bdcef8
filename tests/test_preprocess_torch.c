/* effvk classify's preprocessing (tools/preprocess.c) against PIL and
 * torchvision on the images tests/torch/make_preprocess_case.py writes into
 * the directory given as the argument (run_preprocess_case.sh makes it):
 * photograph-like and hard-edged images of odd sizes and random images at
 * random sizes. Each resize must equal PIL's Image.resize byte for byte;
 * each preprocessed image must match the variant's torchvision weights
 * transform of the same PIL image. Prints the largest difference of each
 * case in 1/255 units before normalisation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"
#include "preprocess.h"

/* The same bound as test_preprocess's: identical 8-bit pixels leave only
 * float rounding in (v / 255 - mean) / std, a few 1e-7, while one level
 * is 1 / (255 * std) > 1.7e-2 of the normalised value. */
#define TOLERANCE 1e-5f

static const char *case_directory;

static void check_resize(const char *input, uint32_t width, uint32_t height, const char *output,
                         uint32_t out_width, uint32_t out_height)
{
    size_t out_bytes = (size_t)out_width * out_height * 3;
    unsigned char *rgb = tu_read_case_file(case_directory, input, (size_t)width * height * 3);
    unsigned char *expected = tu_read_case_file(case_directory, output, out_bytes);
    unsigned char *got = malloc(out_bytes);
    assert_non_null(got);
    assert_int_equal(preprocess_resize_rgb(rgb, width, height, out_width, out_height, got), 0);
    int difference = 0;
    size_t first = out_bytes;
    for (size_t i = 0; i < out_bytes; ++i) {
        int d = abs((int)got[i] - (int)expected[i]);
        first = d && first == out_bytes ? i : first;
        difference = d > difference ? d : difference;
    }
    if (first != out_bytes)
        fail_msg("%s %ux%u -> %ux%u: byte %zu is %u, PIL's %u (largest difference %d/255)",
                 input, width, height, out_width, out_height, first, got[first], expected[first],
                 difference);
    free(got);
    free(expected);
    free(rgb);
}

static void check_transform(const char *input, uint32_t width, uint32_t height, const char *model,
                            const char *output)
{
    preprocess_spec spec;
    assert_int_equal(preprocess_spec_for(model, &spec), 0);
    size_t plane = (size_t)spec.crop * spec.crop;
    unsigned char *rgb = tu_read_case_file(case_directory, input, (size_t)width * height * 3);
    float *expected = tu_read_case_file(case_directory, output, 3 * plane * sizeof *expected);
    float *got = malloc(3 * plane * sizeof *got);
    assert_non_null(got);
    assert_int_equal(preprocess_image(rgb, width, height, &spec, got), 0);
    double unnormalised = 0.0;
    for (uint32_t c = 0; c < 3; ++c)
        for (size_t i = 0; i < plane; ++i) {
            size_t j = c * plane + i;
            if (!(fabsf(got[j] - expected[j]) <= TOLERANCE))
                fail_msg("%s (%ux%u) as %s: value %zu is %.8g, torchvision's %.8g", input, width,
                         height, model, j, got[j], expected[j]);
            double d = fabs((double)got[j] - expected[j]) * spec.std[c];
            unnormalised = d > unnormalised ? d : unnormalised;
        }
    print_message("%s (%ux%u) as %s: largest difference %.2g/255 before normalisation\n", input,
                  width, height, model, unnormalised * 255.0);
    free(got);
    free(expected);
    free(rgb);
}

static void test_cases(void **state)
{
    (void)state;
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", case_directory);
    FILE *list = fopen(path, "r");
    if (!list)
        fail_msg("cannot open %s", path);
    char line[1024], input[256], output[256], model[64];
    unsigned width, height, out_width, out_height, resizes = 0, transforms = 0;
    while (fgets(line, sizeof line, list)) {
        if (sscanf(line, "resize %255s %u %u %255s %u %u", input, &width, &height, output,
                   &out_width, &out_height) == 6) {
            check_resize(input, width, height, output, out_width, out_height);
            ++resizes;
        } else if (sscanf(line, "transform %255s %u %u %63s %255s", input, &width, &height, model,
                          output) == 5) {
            check_transform(input, width, height, model, output);
            ++transforms;
        } else {
            fail_msg("%s: unreadable line '%s'", path, line);
        }
    }
    fclose(list);
    print_message("%u resizes equal PIL's, %u transforms match torchvision's\n", resizes,
                  transforms);
    assert_true(resizes > 0 && transforms > 0);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR (written by make_preprocess_case.py images DIR)\n",
                argv[0]);
        return 2;
    }
    case_directory = argv[1];
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cases),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
