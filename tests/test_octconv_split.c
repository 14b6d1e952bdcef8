/* CPU tier: OctConv's channel split is PyTorch's, c_L = int(alpha * C) with
 * alpha a double, over alpha in {0.001, ..., 0.999} (each the double of its
 * decimal literal, as a Python float is) and C in {1, ..., 4096}, against
 * the table tests/torch/make_octconv_split_case.py generates from Python's
 * rule; and the desc's explicit low-frequency channel counts. */
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

#include "octconv_split_expected.h"

/* Weight pointers that are set but never read: the split looks only at
 * which paths have a weight. */
static const float unread = 0.0f;

/* Both sides C channels at `alpha`: every path whose ends have channels by
 * the expected split `low` gets a weight, so that a split other than `low`
 * also shows as a refused desc. */
static evk_octconv_desc desc_of(uint32_t channels, double alpha, uint32_t low)
{
    evk_octconv_desc d = {.in_channels = channels, .out_channels = channels, .alpha_in = alpha,
                          .alpha_out = alpha, .kernel_size = 1, .weight_hh = &unread};
    d.weight_hl = d.weight_lh = d.weight_ll = low ? &unread : NULL;
    return d;
}

static void test_split_matches_python(void **state)
{
    (void)state;
    size_t next = 0;
    size_t exceptions = sizeof octconv_split_exceptions / sizeof octconv_split_exceptions[0];
    uint64_t pairs = 0;
    for (uint32_t k = 1; k <= OCTCONV_SPLIT_ALPHA_STEPS; ++k) {
        char literal[8];
        snprintf(literal, sizeof literal, "0.%03u", k);
        double alpha = strtod(literal, NULL);
        for (uint32_t c = 1; c <= OCTCONV_SPLIT_MAX_CHANNELS; ++c, ++pairs) {
            uint32_t expected = (uint32_t)((uint64_t)k * c / 1000);
            const uint32_t *e = octconv_split_exceptions[next];
            if (next < exceptions && e[0] == k && e[1] == c) {
                expected = e[2];
                ++next;
            }
            evk_octconv_desc d = desc_of(c, alpha, expected);
            evk_octconv_channels got = {0};
            evk_status s = evk_octconv_split(&d, &got);
            if (s != EVK_SUCCESS || got.in_low != expected || got.out_low != expected ||
                got.in_high != c - expected || got.out_high != c - expected)
                fail_msg("alpha %s, C %u: c_L should be %u (Python's int(alpha * C)); got %s %u/%u "
                         "(%s)", literal, c, expected, evk_status_string(s), got.in_low,
                         got.out_low, evk_last_error(NULL));
        }
    }
    assert_int_equal(next, exceptions);
    assert_int_equal(pairs, 999u * 4096u);
}

/* The cases: α = 0.7 of 20 and 80 channels is 14 and 56 (a float
 * 0.7 gave 13 and 55); the paper's α values are exact in binary. */
static void test_split_examples(void **state)
{
    (void)state;
    static const struct { double alpha; uint32_t channels, low; } cases[] = {
        {0.7, 20, 14}, {0.7, 80, 56}, {0.35, 20, 7}, {0.9, 10, 9}, {0.125, 64, 8},
        {0.25, 64, 16}, {0.5, 64, 32}, {0.75, 64, 48}, {0.7, 90, 62}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
        evk_octconv_desc d = desc_of(cases[i].channels, cases[i].alpha, cases[i].low);
        evk_octconv_channels got;
        assert_int_equal(evk_octconv_split(&d, &got), EVK_SUCCESS);
        if (got.in_low != cases[i].low)
            fail_msg("alpha %g of %u: %u low channels, expected %u", cases[i].alpha,
                     cases[i].channels, got.in_low, cases[i].low);
    }
}

static void expect_bad(const evk_octconv_desc *d, const char *word)
{
    evk_octconv_channels c;
    assert_int_equal(evk_octconv_split(d, &c), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
}

/* in_low_channels / out_low_channels give c_L directly, instead of α. */
static void test_explicit_low_channels(void **state)
{
    (void)state;
    evk_octconv_desc d = desc_of(20, 0.0, 14);
    d.in_low_channels = d.out_low_channels = 14;
    evk_octconv_channels c;
    assert_int_equal(evk_octconv_split(&d, &c), EVK_SUCCESS);
    assert_true(c.in_low == 14 && c.in_high == 6 && c.out_low == 14 && c.out_high == 6);
    /* One side explicit, the other by α. */
    d = desc_of(20, 0.0, 14);
    d.out_channels = 8;
    d.in_low_channels = 14;
    d.alpha_out = 0.5;
    assert_int_equal(evk_octconv_split(&d, &c), EVK_SUCCESS);
    assert_true(c.in_low == 14 && c.out_low == 4 && c.out_high == 4);
    evk_shape xh, xl;
    assert_int_equal(evk_octconv_input_shapes(&d, 1, 6, 5, &xh, &xl), EVK_SUCCESS);
    assert_true(xh.c == 6 && xl.c == 14 && xl.h == 3 && xl.w == 3);
    /* Depthwise: both sides must split alike. */
    d = desc_of(20, 0.0, 14);
    d.in_low_channels = d.out_low_channels = 14;
    d.groups = 20;
    d.weight_hl = d.weight_lh = NULL;
    assert_int_equal(evk_octconv_split(&d, &c), EVK_SUCCESS);
    d.out_low_channels = 13;
    expect_bad(&d, "groups 20");
    /* Both a count and an α, or a count that leaves no high channels. */
    d = desc_of(20, 0.7, 14);
    d.in_low_channels = 14;
    expect_bad(&d, "alpha_in or in_low_channels");
    d = desc_of(20, 0.0, 14);
    d.out_low_channels = 20;
    d.in_low_channels = 14;
    expect_bad(&d, "out_low_channels 20");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_split_matches_python),
        cmocka_unit_test(test_split_examples),
        cmocka_unit_test(test_explicit_low_channels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
