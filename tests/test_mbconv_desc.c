/* CPU tier: MBConv descs without a device — output shapes, exact MACs and
 * parameters (the 16 blocks of EfficientNet-B0 against papers.md's
 * torchvision parameter count), and bad descs rejected with a clear status
 * and message. */
#include <string.h>

#include "reference.h"
#include "test_util.h"

/* Weights that shape and cost checks never read (they look only at the
 * scalar fields and at which weights are present); BatchNorm checks read the
 * variances, hence zeros for B0's widest block. */
static const float unread[1152];

static evk_batchnorm bn_of(uint32_t channels)
{
    return (evk_batchnorm){unread, unread, unread, unread, channels, 0.0f};
}

static evk_mbconv_desc desc_of(uint32_t in, uint32_t out, uint32_t e, uint32_t k, uint32_t s)
{
    return (evk_mbconv_desc){.in_channels = in, .out_channels = out, .expand_ratio = e,
                             .kernel_size = k, .stride = s, .expand_weight = unread,
                             .depthwise_weight = unread, .se_fc1_weight = unread,
                             .se_fc1_bias = unread, .se_fc2_weight = unread,
                             .se_fc2_bias = unread, .project_weight = unread};
}

static void test_output_shape(void **state)
{
    (void)state;
    evk_mbconv_desc d = desc_of(6, 10, 4, 5, 2);
    evk_shape out;
    assert_int_equal(evk_mbconv_output_shape(&d, (evk_shape){2, 6, 13, 8}, &out), EVK_SUCCESS);
    assert_true(out.n == 2 && out.c == 10 && out.h == 7 && out.w == 4);
    d.stride = 0;
    assert_int_equal(evk_mbconv_output_shape(&d, (evk_shape){1, 6, 1, 1}, &out), EVK_SUCCESS);
    assert_true(out.h == 1 && out.w == 1);
    assert_int_equal(evk_mbconv_output_shape(&d, (evk_shape){1, 5, 9, 9}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_SHAPE_MISMATCH, "channels");
}

/* A small block by hand: in 8, E 32, S 2, k 3, out 8 on 2x8x6x6 (stride 1). */
static void test_cost_by_hand(void **state)
{
    (void)state;
    evk_mbconv_desc d = desc_of(8, 8, 4, 3, 1);
    uint64_t macs, params;
    assert_int_equal(evk_mbconv_cost(&d, (evk_shape){2, 8, 6, 6}, &macs, &params), EVK_SUCCESS);
    uint64_t pixels = 2 * 36;
    assert_int_equal(macs, pixels * 8 * 32 + pixels * 32 * 9 + 2 * 2 * 32 * 2 + pixels * 32 * 8);
    assert_int_equal(params, 8 * 32 + 32 * 9 + (2 * 32 * 2 + 2 + 32) + 32 * 8);
    d.expand_bn = d.depthwise_bn = bn_of(32);
    d.project_bn = bn_of(8);
    d.flags = EVK_MBCONV_NO_SE;
    assert_int_equal(evk_mbconv_cost(&d, (evk_shape){2, 8, 6, 6}, &macs, &params), EVK_SUCCESS);
    assert_int_equal(params, 8 * 32 + 2 * 32 + 32 * 9 + 2 * 32 + 32 * 8 + 2 * 8);
    assert_int_equal(macs, pixels * 8 * 32 + pixels * 32 * 9 + pixels * 32 * 8);
}

/* EfficientNet-B0's blocks (papers.md §3): their parameters plus the stem
 * (3x3 conv 3->32 + BN), head (1x1 320->1280 + BN) and classifier
 * (1280->1000 + bias) are torchvision's 5,288,548. */
static void test_b0_parameters(void **state)
{
    (void)state;
    uint64_t total = 3 * 32 * 9 + 2 * 32 + 320 * 1280 + 2 * 1280 + 1280 * 1000 + 1000;
    for (size_t i = 0; i < EVK_REF_B0_BLOCKS; ++i) {
        const evk_ref_mbconv_block *b = &evk_ref_b0_blocks[i];
        evk_mbconv_desc d = desc_of(b->in_channels, b->out_channels, b->expand_ratio,
                                    b->kernel_size, b->stride);
        d.expand_bn = d.depthwise_bn = bn_of(b->in_channels * b->expand_ratio);
        d.project_bn = bn_of(b->out_channels);
        uint64_t params;
        evk_shape in = {1, b->in_channels, b->size, b->size};
        assert_int_equal(evk_mbconv_cost(&d, in, NULL, &params), EVK_SUCCESS);
        total += params;
    }
    assert_int_equal(total, 5288548);
}

static void expect_invalid(const evk_mbconv_desc *d, const char *word)
{
    evk_shape out;
    evk_shape in = {1, d->in_channels ? d->in_channels : 1, 8, 8};
    assert_int_equal(evk_mbconv_output_shape(d, in, &out), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
}

static void test_bad_descs(void **state)
{
    (void)state;
    assert_int_equal(evk_mbconv_output_shape(NULL, (evk_shape){1, 1, 1, 1}, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    evk_mbconv_desc d = desc_of(0, 8, 4, 3, 1);
    expect_invalid(&d, "in_channels");
    d = desc_of(8, (1u << 20) + 1, 4, 3, 1);
    expect_invalid(&d, "out_channels");
    d = desc_of(8, 8, 65, 3, 1);
    expect_invalid(&d, "expand_ratio");
    d = desc_of(8, 8, 1, 3, 1);
    d.expanded_channels = 16;
    expect_invalid(&d, "expanded_channels");
    d = desc_of(8, 8, 4, 4, 1);
    expect_invalid(&d, "kernel_size");
    d = desc_of(8, 8, 4, 17, 1);
    expect_invalid(&d, "kernel_size");
    d = desc_of(8, 8, 4, 3, 3);
    expect_invalid(&d, "stride");
    d = desc_of(8, 8, 4, 3, 1);
    d.se_ratio = 1.5f;
    expect_invalid(&d, "se_ratio");
    d = desc_of(8, 8, 4, 3, 1);
    d.activation = (evk_activation)9;
    expect_invalid(&d, "activation");
    d = desc_of(8, 8, 4, 3, 1);
    d.flags = 1u << 7;
    expect_invalid(&d, "flags");
    d = desc_of(8, 8, 4, 3, 1);
    d.expand_weight = NULL;
    expect_invalid(&d, "expand_weight");
    d = desc_of(8, 8, 4, 3, 1);
    d.project_weight = NULL;
    expect_invalid(&d, "project_weight");
    d = desc_of(8, 8, 4, 3, 1);
    d.se_fc1_bias = NULL;
    expect_invalid(&d, "EVK_MBCONV_NO_SE");
    d.flags = EVK_MBCONV_NO_SE;
    evk_shape out;
    assert_int_equal(evk_mbconv_output_shape(&d, (evk_shape){1, 8, 8, 8}, &out), EVK_SUCCESS);
    d = desc_of(8, 8, 4, 3, 1);
    d.project_bn = bn_of(8);
    d.project_bn.var = NULL;
    expect_invalid(&d, "project_bn");
    /* No expand convolution: its weight is not needed. */
    d = desc_of(8, 8, 1, 3, 1);
    d.expand_weight = NULL;
    assert_int_equal(evk_mbconv_output_shape(&d, (evk_shape){1, 8, 8, 8}, &out), EVK_SUCCESS);
}

/* NULL arguments fail cleanly without a device. */
static void test_null_arguments(void **state)
{
    (void)state;
    evk_mbconv_desc d = desc_of(8, 8, 4, 3, 1);
    evk_layer *layer = NULL;
    assert_int_equal(evk_mbconv_create(NULL, &d, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_mbconv_cost(&d, (evk_shape){1, 8, 4, 4}, NULL, NULL), EVK_SUCCESS);
    assert_int_equal(evk_mbconv_cost(NULL, (evk_shape){1, 8, 4, 4}, NULL, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_context_set_dispatch_timing(NULL, 1), EVK_ERROR_INVALID_ARGUMENT);
    uint32_t count;
    assert_int_equal(evk_context_dispatch_gpu_ms(NULL, NULL, 0, &count), EVK_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_output_shape),
        cmocka_unit_test(test_cost_by_hand),
        cmocka_unit_test(test_b0_parameters),
        cmocka_unit_test(test_bad_descs),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
