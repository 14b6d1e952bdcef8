/* CPU tier: EfficientNet-B0..B7 costs without a device — parameters exactly
 * torchvision's count and MACs within 0.5% of papers.md §3's [calc] column,
 * each at its variant's resolution; the layer list; unknown names; NULL
 * arguments of the model calls. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

typedef struct expected_cost {
    const char *name;
    uint64_t params;
    double gmacs;
} expected_cost;

static const expected_cost table[8] = {
    {"efficientnet-b0", 5288548, 0.386},  {"efficientnet-b1", 7794184, 0.687},
    {"efficientnet-b2", 9109994, 0.994},  {"efficientnet-b3", 12233232, 1.827},
    {"efficientnet-b4", 19341616, 4.394}, {"efficientnet-b5", 30389784, 10.266},
    {"efficientnet-b6", 43040704, 19.068}, {"efficientnet-b7", 66347960, 37.746},
};

static void test_params_and_macs(void **state)
{
    (void)state;
    for (int i = 0; i < 8; ++i) {
        uint64_t macs, params;
        assert_int_equal(evk_model_cost(table[i].name, NULL, &macs, &params), EVK_SUCCESS);
        double gmacs = (double)macs * 1e-9, error = gmacs / table[i].gmacs - 1.0;
        printf("%s: %llu params, %.4f GMACs (%+.3f%% from papers.md)\n", table[i].name,
               (unsigned long long)params, gmacs, 100.0 * error);
        assert_int_equal(params, table[i].params);
        assert_true(error < 0.005 && error > -0.005);
    }
}

static void test_layers(void **state)
{
    (void)state;
    evk_model_layer_info layers[64];
    uint32_t count = 0;
    evk_model_options opts = {.batch = 2, .height = 64, .width = 64, .num_classes = 10};
    assert_int_equal(evk_model_layers("EfficientNet_B0", &opts, layers, 64, &count), EVK_SUCCESS);
    assert_int_equal(count, 20);    /* stem, 16 blocks, head, pool, classifier */
    assert_string_equal(layers[0].name, "features.0");
    assert_string_equal(layers[0].kind, "conv2d");
    assert_true(layers[0].output.c == 32 && layers[0].output.h == 32);
    assert_string_equal(layers[2].name, "features.2.0");
    assert_string_equal(layers[2].kind, "mbconv");
    assert_string_equal(layers[17].name, "features.8");
    assert_true(layers[17].output.c == 1280 && layers[17].output.h == 2);
    assert_string_equal(layers[19].name, "classifier.1");
    assert_true(layers[19].output.n == 2 && layers[19].output.c == 10);
    assert_int_equal(layers[19].params, 1280 * 10 + 10);
    uint32_t b7_count = 0;
    assert_int_equal(evk_model_layers("efficientnet-b7", NULL, NULL, 0, &b7_count), EVK_SUCCESS);
    assert_int_equal(b7_count, 59);
}

static void test_unknown_model(void **state)
{
    (void)state;
    uint64_t macs;
    assert_int_equal(evk_model_cost("efficientnet-b9", NULL, &macs, NULL), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "efficientnet-b9");
    assert_int_equal(evk_model_cost(NULL, NULL, &macs, NULL), EVK_ERROR_INVALID_ARGUMENT);
    uint32_t count;
    assert_int_equal(evk_model_layers("efficientnet-b0", NULL, NULL, 4, &count),
                     EVK_ERROR_INVALID_ARGUMENT);
}

/* EfficientNet-B6 at batch 65536 and 65536x65536 pixels: every layer fits in
 * 64 bits, the total (about 2.6e19 MACs) does not; it wrapped to 3.5e17. */
static void test_cost_overflow(void **state)
{
    (void)state;
    evk_model_options huge = {.batch = 65536, .height = 65536, .width = 65536};
    uint64_t macs = 0, params = 0;
    assert_int_equal(evk_model_cost("efficientnet-b6", &huge, &macs, &params),
                     EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "64 bits");
    /* B5 fits: 1.32e19 MACs, less than 2^64. */
    assert_int_equal(evk_model_cost("efficientnet-b5", &huge, &macs, NULL), EVK_SUCCESS);
    assert_true(macs > 13000000000000000000ull);
    /* A single layer past 64 bits is named. */
    evk_model_options larger = {.batch = UINT32_MAX, .height = 1u << 20, .width = 1u << 20};
    evk_model_layer_info layers[128];
    uint32_t count;
    assert_int_equal(evk_model_layers("efficientnet-b0", &larger, layers, 128, &count),
                     EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_LIMIT_EXCEEDED, "features.0");
    assert_int_equal(evk_model_cost("octconv-resnet50", &larger, &macs, NULL),
                     EVK_ERROR_LIMIT_EXCEEDED);
}

/* The model calls with NULL, which need no device. */
static void test_null_arguments(void **state)
{
    (void)state;
    evk_model *m = NULL;
    evk_shape shape;
    evk_model_stats stats;
    float x = 0.0f;
    assert_int_equal(evk_model_load(NULL, "efficientnet-b0", "w.safetensors", NULL, &m),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "evk_model_load");
    assert_int_equal(evk_model_input_shape(NULL, &shape), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_model_output_shape(NULL, &shape), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_model_forward(NULL, NULL, NULL), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_model_run(NULL, &x, 1, &x, 1), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_model_stats_get(NULL, &stats), EVK_ERROR_INVALID_ARGUMENT);
    evk_model_destroy(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_params_and_macs),
        cmocka_unit_test(test_layers),
        cmocka_unit_test(test_unknown_model),
        cmocka_unit_test(test_cost_overflow),
        cmocka_unit_test(test_null_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
