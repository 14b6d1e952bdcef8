/* CPU tier: HetConv descs without a device — output shapes for both padding
 * modes, exact MACs and parameters (against papers.md's VGG-16 table), and
 * bad descs rejected with a clear status and message. */
#include <string.h>

#include "test_util.h"

/* A desc whose weight pointer is set but never read: shape and cost checks
 * look only at the scalar fields and at which weight form is chosen. */
static const float unread = 0.0f;

static evk_hetconv_desc desc_of(uint32_t in, uint32_t out, uint32_t k, uint32_t part)
{
    evk_hetconv_desc d = {.in_channels = in, .out_channels = out, .kernel_size = k, .part = part,
                          .weight = &unread};
    d.weight_count = (uint64_t)in * out * k * k;
    return d;
}

static void test_output_shape_padding_modes(void **state)
{
    (void)state;
    evk_hetconv_desc d = desc_of(6, 5, 5, 2);
    evk_shape out;
    assert_int_equal(evk_hetconv_output_shape(&d, (evk_shape){2, 6, 9, 7}, &out), EVK_SUCCESS);
    assert_true(out.n == 2 && out.c == 5 && out.h == 9 && out.w == 7);
    /* EVK_PADDING_EXPLICIT with padding 0 is "valid", not the default. */
    d.padding_mode = EVK_PADDING_EXPLICIT;
    assert_int_equal(evk_hetconv_output_shape(&d, (evk_shape){2, 6, 9, 7}, &out), EVK_SUCCESS);
    assert_true(out.h == 5 && out.w == 3);
    d.stride = 2;
    d.padding = 1;
    assert_int_equal(evk_hetconv_output_shape(&d, (evk_shape){1, 6, 9, 8}, &out), EVK_SUCCESS);
    assert_true(out.h == 4 && out.w == 3);
    assert_int_equal(evk_hetconv_output_shape(&d, (evk_shape){1, 7, 9, 8}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_SHAPE_MISMATCH, "channels");
    assert_int_equal(evk_hetconv_output_shape(&d, (evk_shape){1, 6, 2, 8}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
}

/* Per filter n·K² + M − n MACs, n the K×K inputs of the filter: M/P when P
 * divides M, ceil or floor of M/P otherwise. */
static void test_cost_exact(void **state)
{
    (void)state;
    evk_shape in = {2, 16, 8, 8};
    uint64_t macs, params;
    evk_hetconv_desc d = desc_of(16, 12, 3, 4);
    assert_int_equal(evk_hetconv_cost(&d, in, &macs, &params), EVK_SUCCESS);
    assert_int_equal(params, 12u * (4 * 9 + 12));
    assert_int_equal(macs, 2u * 64 * params);
    float bias = 0.0f;
    d.bias = &bias;
    assert_int_equal(evk_hetconv_cost(&d, in, NULL, &params), EVK_SUCCESS);
    assert_int_equal(params, 12u * (4 * 9 + 12) + 12);
    /* M = 10, P = 4: filters o ≡ 0, 1 (mod 4) see 3 K×K inputs, the others 2. */
    d = desc_of(10, 4, 5, 4);
    assert_int_equal(evk_hetconv_cost(&d, (evk_shape){1, 10, 5, 5}, &macs, &params), EVK_SUCCESS);
    assert_int_equal(params, 2u * (3 * 25 + 7) + 2u * (2 * 25 + 8));
    assert_int_equal(macs, 25u * params);
    /* P = 1 costs what the dense conv does. */
    d = desc_of(10, 4, 3, 1);
    evk_conv2d_desc dense = {.in_channels = 10, .out_channels = 4, .kernel_h = 3, .kernel_w = 3,
                             .pad_h = 1, .pad_w = 1, .weight = &unread};
    uint64_t dense_macs;
    assert_int_equal(evk_hetconv_cost(&d, (evk_shape){1, 10, 5, 5}, &macs, NULL), EVK_SUCCESS);
    assert_int_equal(evk_conv2d_cost(&dense, (evk_shape){1, 10, 5, 5}, &dense_macs, NULL),
                     EVK_SUCCESS);
    assert_int_equal(macs, dense_macs);
}

/* The 13 conv layers of CIFAR VGG-16, the first one dense, summed per P.
 * Adding the classifier's 512·512 + 512·10 MACs gives papers.md's
 * "FLOPs [calc]" column: 313.46M, 175.05M, ..., 40.97M. */
static void test_cost_vgg16_cifar(void **state)
{
    (void)state;
    static const uint32_t layers[13][3] = {
        {3, 64, 32}, {64, 64, 32}, {64, 128, 16}, {128, 128, 16}, {128, 256, 8}, {256, 256, 8},
        {256, 256, 8}, {256, 512, 4}, {512, 512, 4}, {512, 512, 4}, {512, 512, 2},
        {512, 512, 2}, {512, 512, 2}};
    static const uint32_t parts[7] = {1, 2, 4, 8, 16, 32, 64};
    static const uint64_t expected[7] = {313196544u, 174784512u, 105578496u, 70975488u,
                                         53673984u, 45023232u, 40697856u};
    for (size_t p = 0; p < 7; ++p) {
        uint64_t total = 0;
        for (size_t l = 0; l < 13; ++l) {
            evk_hetconv_desc d = desc_of(layers[l][0], layers[l][1], 3, l == 0 ? 1 : parts[p]);
            uint64_t macs;
            evk_shape in = {1, layers[l][0], layers[l][2], layers[l][2]};
            assert_int_equal(evk_hetconv_cost(&d, in, &macs, NULL), EVK_SUCCESS);
            total += macs;
        }
        assert_int_equal(total, expected[p]);
    }
}

static void expect_bad(const evk_hetconv_desc *d, const char *word)
{
    evk_shape out;
    assert_int_equal(evk_hetconv_output_shape(d, (evk_shape){1, d->in_channels ? d->in_channels : 1,
                                                             9, 9}, &out),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
}

static void test_bad_scalars(void **state)
{
    (void)state;
    evk_hetconv_desc d = desc_of(8, 8, 3, 0);
    expect_bad(&d, "part 0");
    d = desc_of(8, 8, 3, 9);
    expect_bad(&d, "part 9");
    d = desc_of(8, 8, 4, 2);
    expect_bad(&d, "kernel_size 4");
    d = desc_of(8, 8, 1, 2);
    expect_bad(&d, "kernel_size 1");
    d = desc_of(0, 8, 3, 1);
    expect_bad(&d, "in_channels");
    d = desc_of(8, 8, 3, 2);
    d.stride = 65;
    expect_bad(&d, "stride");
    d = desc_of(8, 8, 3, 2);
    d.padding_mode = EVK_PADDING_EXPLICIT;
    d.padding = 3;
    expect_bad(&d, "padding 3");
    d = desc_of(8, 8, 3, 2);
    d.activation = (evk_activation)9;
    expect_bad(&d, "activation");
    d = desc_of(8, 8, 3, 2);
    d.weight = NULL;
    expect_bad(&d, "none is set");
    d = desc_of(8, 8, 3, 2);
    d.gwc = d.pwc = &unread;
    expect_bad(&d, "not both");
    d = desc_of(8, 8, 3, 2);
    d.weight = NULL;
    d.gwc = &unread;
    expect_bad(&d, "pwc is NULL");
    d = desc_of(8, 8, 3, 2);
    d.batchnorm.gamma = &unread;
    expect_bad(&d, "batchnorm");
    evk_shape out;
    assert_int_equal(evk_hetconv_output_shape(NULL, (evk_shape){1, 8, 9, 9}, &out),
                     EVK_ERROR_INVALID_ARGUMENT);
    d = desc_of(8, 8, 3, 2);
    assert_int_equal(evk_hetconv_output_shape(&d, (evk_shape){1, 8, 9, 9}, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_hetconv_create(NULL, &d, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_shape_padding_modes),
        cmocka_unit_test(test_cost_exact),
        cmocka_unit_test(test_cost_vgg16_cifar),
        cmocka_unit_test(test_bad_scalars),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
