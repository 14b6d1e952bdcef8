/* CPU tier: the costs of the HetConv, ResNet and OctConv networks without a
 * device, against papers.md — HetConv-VGG16 on CIFAR at P = 1..64: MACs within 0.5% of the
 * [calc] column and parameters of the [calc] column (given to 0.01 M); the
 * dense vgg16-cifar equals P = 1; HetConv-ResNet-34 at P = 1..16 within 0.5%
 * of the [calc] GMACs; torchvision's ResNet-34 and -50 parameters exactly; the
 * layer lists and key prefixes; a part out of range and unknown names are
 * errors naming them. */
#include <stdio.h>
#include <string.h>

#include "test_util.h"

typedef struct vgg_cost {
    uint32_t part;
    double mmacs, mparams;
} vgg_cost;

static const vgg_cost vgg_table[] = {
    {1, 313.46, 14.99}, {2, 175.05, 8.45}, {4, 105.85, 5.18}, {8, 71.24, 3.55},
    {16, 53.94, 2.73},  {32, 45.29, 2.32}, {64, 40.97, 2.12},
};

static void check_cost(const char *name, const evk_model_options *opts, double mmacs,
                       double mparams)
{
    uint64_t macs, params;
    assert_int_equal(evk_model_cost(name, opts, &macs, &params), EVK_SUCCESS);
    double got_macs = (double)macs * 1e-6, got_params = (double)params * 1e-6;
    double error = got_macs / mmacs - 1.0;
    printf("%s P=%u: %.3f M MACs (%+.3f%% from papers.md), %.4f M params (papers.md %.2f M)\n",
           name, opts ? opts->part : 0, got_macs, 100.0 * error, got_params, mparams);
    assert_true(error < 0.005 && error > -0.005);
    assert_true(got_params > mparams - 0.005 && got_params < mparams + 0.005);
}

static void test_hetconv_vgg16_costs(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vgg_table / sizeof vgg_table[0]; ++i) {
        evk_model_options opts = {.part = vgg_table[i].part, .num_classes = 10};
        check_cost("hetconv-vgg16-cifar", &opts, vgg_table[i].mmacs, vgg_table[i].mparams);
    }
    evk_model_options dense = {.num_classes = 10};
    check_cost("vgg16-cifar", &dense, vgg_table[0].mmacs, vgg_table[0].mparams);
    /* Part 0 is the default, 4. */
    check_cost("hetconv-vgg16-cifar", &dense, vgg_table[2].mmacs, vgg_table[2].mparams);
}

static void test_resnet_costs(void **state)
{
    (void)state;
    static const struct { uint32_t part; double gmacs; } het34[] = {
        {1, 3.664}, {2, 2.097}, {4, 1.313}, {8, 0.921}, {16, 0.725}};
    uint64_t macs, params;
    for (size_t i = 0; i < sizeof het34 / sizeof het34[0]; ++i) {
        evk_model_options opts = {.part = het34[i].part};
        assert_int_equal(evk_model_cost("hetconv-resnet34", &opts, &macs, &params), EVK_SUCCESS);
        double error = (double)macs * 1e-9 / het34[i].gmacs - 1.0;
        printf("hetconv-resnet34 P=%u: %.4f GMACs (%+.3f%% from papers.md), %llu params\n",
               het34[i].part, (double)macs * 1e-9, 100.0 * error, (unsigned long long)params);
        assert_true(error < 0.005 && error > -0.005);
    }
    assert_int_equal(evk_model_cost("resnet34", NULL, &macs, &params), EVK_SUCCESS);
    printf("resnet34: %.4f GMACs, %llu params\n", (double)macs * 1e-9, (unsigned long long)params);
    assert_int_equal(params, 21797672);     /* torchvision's resnet34 */
    assert_int_equal(evk_model_cost("resnet50", NULL, &macs, &params), EVK_SUCCESS);
    double error = (double)macs * 1e-9 / 4.089 - 1.0;
    printf("resnet50: %.4f GMACs (%+.3f%% from papers.md), %llu params\n", (double)macs * 1e-9,
           100.0 * error, (unsigned long long)params);
    assert_int_equal(params, 25557032);     /* torchvision's resnet50 */
    assert_true(error < 0.005 && error > -0.005);
}

/* Official conventions (papers.md §2): vanilla stem, first block α_in = 0,
 * stage 4 α = 0; α = 0 is the options' negative alpha. */
static void test_octconv_resnet50_costs(void **state)
{
    (void)state;
    static const struct { float alpha; double gmacs; } table[] = {
        {-1.0f, 4.089}, {0.125f, 3.565}, {0.25f, 3.104}, {0.5f, 2.367}, {0.75f, 1.880}};
    uint64_t macs, params, dense_params;
    assert_int_equal(evk_model_cost("resnet50", NULL, NULL, &dense_params), EVK_SUCCESS);
    for (size_t i = 0; i < sizeof table / sizeof table[0]; ++i) {
        evk_model_options opts = {.alpha = table[i].alpha};
        assert_int_equal(evk_model_cost("octconv-resnet50", &opts, &macs, &params), EVK_SUCCESS);
        double error = (double)macs * 1e-9 / table[i].gmacs - 1.0;
        printf("octconv-resnet50 alpha=%.3f: %.4f GMACs (%+.3f%% from papers.md)\n",
               (double)table[i].alpha, (double)macs * 1e-9, 100.0 * error);
        assert_true(error < 0.005 && error > -0.005);
        assert_int_equal(params, dense_params);  /* OctConv splits weights, keeps their count */
    }
    uint64_t default_macs, quarter_macs;
    evk_model_options quarter = {.alpha = 0.25f};
    assert_int_equal(evk_model_cost("octconv-resnet50", NULL, &default_macs, NULL), EVK_SUCCESS);
    assert_int_equal(evk_model_cost("octconv-resnet50", &quarter, &quarter_macs, NULL),
                     EVK_SUCCESS);
    assert_int_equal(default_macs, quarter_macs);
    evk_model_options bad = {.alpha = 1.0f};
    assert_int_equal(evk_model_cost("octconv-resnet50", &bad, &macs, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "alpha");
}

static void test_resnet50_layers(void **state)
{
    (void)state;
    evk_model_layer_info layers[96];
    uint32_t count = 0;
    assert_int_equal(evk_model_layers("resnet50", NULL, layers, 96, &count), EVK_SUCCESS);
    assert_int_equal(count, 72);
    assert_string_equal(layers[0].name, "conv1");
    assert_true(layers[0].output.h == 112 && layers[0].output.c == 64);
    assert_string_equal(layers[1].name, "maxpool");
    assert_true(layers[1].output.h == 56);
    assert_string_equal(layers[2].name, "layer1.0.conv1");
    assert_string_equal(layers[5].name, "layer1.0.downsample.0");
    assert_string_equal(layers[6].name, "layer1.0");
    assert_string_equal(layers[6].kind, "add");
    assert_true(layers[6].output.c == 256 && layers[6].output.h == 56);
    assert_string_equal(layers[71].name, "fc");
    assert_true(layers[70].input.c == 2048 && layers[70].input.h == 7);
}

static void test_vgg16_layers(void **state)
{
    (void)state;
    evk_model_layer_info layers[32];
    uint32_t count = 0;
    evk_model_options opts = {.part = 8, .num_classes = 10};
    assert_int_equal(evk_model_layers("HetConv_VGG16_CIFAR", &opts, layers, 32, &count),
                     EVK_SUCCESS);
    assert_int_equal(count, 21);    /* 13 convs, 5 pools, avgpool, two linears */
    assert_string_equal(layers[0].name, "features.0");
    assert_string_equal(layers[0].kind, "conv2d");
    assert_true(layers[0].input.h == 32 && layers[0].output.c == 64);
    assert_string_equal(layers[1].name, "features.3");
    assert_string_equal(layers[1].kind, "hetconv");
    assert_string_equal(layers[2].name, "features.6");
    assert_string_equal(layers[2].kind, "max_pool");
    assert_true(layers[2].output.h == 16 && layers[2].output.c == 64);
    assert_string_equal(layers[17].name, "features.43");
    assert_true(layers[17].output.h == 1 && layers[17].output.c == 512);
    assert_string_equal(layers[19].name, "classifier.0");
    assert_string_equal(layers[20].name, "classifier.2");
    assert_true(layers[20].output.c == 10);
}

static void test_bad_part_and_names(void **state)
{
    (void)state;
    uint64_t macs;
    evk_model_options opts = {.part = 65};
    assert_int_equal(evk_model_cost("hetconv-vgg16-cifar", &opts, &macs, NULL),
                     EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "part 65");
    assert_int_equal(evk_model_cost("vgg19-cifar", NULL, &macs, NULL), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "vgg19-cifar");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hetconv_vgg16_costs),
        cmocka_unit_test(test_vgg16_layers),
        cmocka_unit_test(test_resnet_costs),
        cmocka_unit_test(test_resnet50_layers),
        cmocka_unit_test(test_octconv_resnet50_costs),
        cmocka_unit_test(test_bad_part_and_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
