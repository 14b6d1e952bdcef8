/* CPU tier: OctConv descs without a device — the channel split, input and
 * output shapes (odd sizes, stride 2), exact MACs and parameters against
 * papers.md's 1 − ¾·α·(2 − α), and bad descs rejected with a clear status
 * and message. */
#include <math.h>
#include <string.h>

#include "test_util.h"

/* Weight pointers that are set but never read: shape and cost checks look
 * only at which paths have a weight. */
static const float unread = 0.0f;

static evk_octconv_desc desc_of(uint32_t in, uint32_t out, uint32_t k, double alpha_in,
                                double alpha_out)
{
    evk_octconv_desc d = {.in_channels = in, .out_channels = out, .kernel_size = k,
                          .alpha_in = alpha_in, .alpha_out = alpha_out, .weight_hh = &unread};
    uint32_t in_low = (uint32_t)(alpha_in * in), out_low = (uint32_t)(alpha_out * out);
    d.weight_hl = out_low ? &unread : NULL;
    d.weight_lh = in_low ? &unread : NULL;
    d.weight_ll = in_low && out_low ? &unread : NULL;
    return d;
}

static void assert_shape(evk_shape s, uint32_t n, uint32_t c, uint32_t h, uint32_t w)
{
    if (s.n != n || s.c != c || s.h != h || s.w != w)
        fail_msg("shape %ux%ux%ux%u, expected %ux%ux%ux%u", s.n, s.c, s.h, s.w, n, c, h, w);
}

static void test_shapes(void **state)
{
    (void)state;
    evk_octconv_desc d = desc_of(13, 10, 3, 0.25, 0.5);
    evk_octconv_channels c;
    assert_int_equal(evk_octconv_split(&d, &c), EVK_SUCCESS);
    assert_true(c.in_high == 10 && c.in_low == 3 && c.out_high == 5 && c.out_low == 5);
    evk_shape xh, xl, yh, yl;
    assert_int_equal(evk_octconv_input_shapes(&d, 2, 9, 7, &xh, &xl), EVK_SUCCESS);
    assert_shape(xh, 2, 10, 9, 7);
    assert_shape(xl, 2, 3, 5, 4);
    assert_int_equal(evk_octconv_output_shapes(&d, xh, &yh, &yl), EVK_SUCCESS);
    assert_shape(yh, 2, 5, 9, 7);
    assert_shape(yl, 2, 5, 5, 4);
    /* Stride 2: Y^H ceil(h/2), Y^L ceil(h/4) (nested ceil halvings). */
    d.stride = 2;
    assert_int_equal(evk_octconv_output_shapes(&d, xh, &yh, &yl), EVK_SUCCESS);
    assert_shape(yh, 2, 5, 5, 4);
    assert_shape(yl, 2, 5, 3, 2);
    /* Last layer: no Y^L, reported as an all-zero shape. */
    d = desc_of(8, 6, 1, 0.5, 0.0);
    assert_int_equal(evk_octconv_output_shapes(&d, (evk_shape){1, 4, 6, 6}, &yh, &yl), EVK_SUCCESS);
    assert_shape(yh, 1, 6, 6, 6);
    assert_shape(yl, 0, 0, 0, 0);
    assert_int_equal(evk_octconv_output_shapes(&d, (evk_shape){1, 8, 6, 6}, &yh, &yl),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_SHAPE_MISMATCH, "X^H has 8 channels");
}

/* With alpha_in = alpha_out = α, stride 1 and even sizes the MACs are
 * 1 − ¾·α·(2 − α) of the vanilla conv's (papers.md: 82%, 67%, 44%, 30%). */
static void test_cost_formula(void **state)
{
    (void)state;
    static const double alphas[] = {0.125, 0.25, 0.5, 0.75};
    evk_octconv_desc vanilla = desc_of(64, 64, 3, 0.0, 0.0);
    uint64_t vanilla_macs, vanilla_params, macs, params;
    assert_int_equal(evk_octconv_cost(&vanilla, (evk_shape){2, 64, 16, 16}, &vanilla_macs,
                                      &vanilla_params), EVK_SUCCESS);
    assert_int_equal(vanilla_macs, 2ull * 256 * 64 * 64 * 9);
    assert_int_equal(vanilla_params, 64ull * 64 * 9);
    for (size_t i = 0; i < sizeof alphas / sizeof alphas[0]; ++i) {
        double a = alphas[i];
        evk_octconv_desc d = desc_of(64, 64, 3, alphas[i], alphas[i]);
        uint32_t high = 64 - (uint32_t)(a * 64);
        assert_int_equal(evk_octconv_cost(&d, (evk_shape){2, high, 16, 16}, &macs, &params),
                         EVK_SUCCESS);
        assert_true(fabs((double)macs / vanilla_macs - (1.0 - 0.75 * a * (2.0 - a))) < 1e-12);
        assert_int_equal(params, vanilla_params);
    }
    /* Odd sizes: every path counted at the size it runs at. 13 -> 10 at
     * 9×7: X^L and Y^L 5×4; H→H 5·10, L→H 5·3, H→L 5·10, L→L 5·3 taps. */
    float bias = 0.0f;
    evk_octconv_desc d = desc_of(13, 10, 3, 0.25, 0.5);
    d.bias_l = &bias;
    assert_int_equal(evk_octconv_cost(&d, (evk_shape){1, 10, 9, 7}, &macs, &params), EVK_SUCCESS);
    assert_int_equal(macs, 9ull * (63 * 50 + 20 * 15 + 20 * 50 + 20 * 15));
    assert_int_equal(params, 9ull * (50 + 15 + 50 + 15) + 5);
    /* Depthwise: H→H and L→L only. */
    d = desc_of(16, 16, 3, 0.5, 0.5);
    d.groups = 16;
    d.weight_hl = d.weight_lh = NULL;
    assert_int_equal(evk_octconv_cost(&d, (evk_shape){1, 8, 8, 8}, &macs, &params), EVK_SUCCESS);
    assert_int_equal(macs, 9ull * (64 * 8 + 16 * 8));
    assert_int_equal(params, 9ull * 16);
}

static void expect_bad(const evk_octconv_desc *d, const char *word)
{
    evk_octconv_channels c;
    assert_int_equal(evk_octconv_split(d, &c), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
}

static void test_bad_descs(void **state)
{
    (void)state;
    expect_bad(NULL, "desc is NULL");
    evk_octconv_desc d = desc_of(8, 8, 3, 0.5, 0.5);
    d.alpha_in = 1.0;
    expect_bad(&d, "alpha_in 1");
    d = desc_of(8, 8, 3, 0.5, 0.5);
    d.alpha_out = -0.25;
    expect_bad(&d, "alpha_out");
    d.alpha_out = NAN;
    expect_bad(&d, "alpha_out");
    d = desc_of(8, 8, 4, 0.5, 0.5);
    expect_bad(&d, "kernel_size 4");
    d = desc_of(8, 8, 3, 0.5, 0.5);
    d.stride = 3;
    expect_bad(&d, "stride 3");
    d.stride = 1;
    d.padding = 2;
    expect_bad(&d, "padding 2");
    d.padding = 0;
    d.groups = 4;
    expect_bad(&d, "groups 4");
    d.groups = 8;
    expect_bad(&d, "weight_hl is set");
    d.weight_hl = d.weight_lh = NULL;
    d.alpha_out = 0.25;
    expect_bad(&d, "split alike");
    d = desc_of(8, 8, 3, 0.5, 0.5);
    d.weight_ll = NULL;
    expect_bad(&d, "weight_ll is NULL");
    /* alpha 0.125 of 4 channels rounds to no low channels: no L paths. */
    d = desc_of(4, 4, 3, 0.125, 0.125);
    d.weight_ll = &unread;
    expect_bad(&d, "weight_ll is set");
    d = desc_of(8, 8, 3, 0.5, 0.0);
    d.bias_l = &unread;
    expect_bad(&d, "no Y^L");
    d = desc_of(8, 8, 3, 0.5, 0.5);
    d.batchnorm_l.gamma = &unread;
    expect_bad(&d, "batchnorm");
    d = desc_of(8, 8, 3, 0.5, 0.5);
    d.activation = (evk_activation)9;
    expect_bad(&d, "activation");
    d = desc_of(8, 8, 3, 0.5, 0.5);
    assert_int_equal(evk_octconv_input_shapes(&d, 1, 0, 4, NULL, NULL), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "zero");
    assert_int_equal(evk_octconv_create(NULL, &d, NULL), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_octconv_forward(NULL, NULL, NULL, NULL, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shapes),
        cmocka_unit_test(test_cost_formula),
        cmocka_unit_test(test_bad_descs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
