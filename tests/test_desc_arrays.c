/* Device tier (a context, no dispatch): every host array of every public
 * desc — conv2d, HetConv in both weight forms, OctConv and MBConv, their
 * biases and BatchNorms — is checked when the layer is created. A NaN, +inf
 * or -inf anywhere in one is refused, naming the desc field and the index,
 * and the same desc with the value restored creates its layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "test_util.h"

/* One host array of a desc under test: the words the library's message puts
 * before the index ("conv2d: weight", "mbconv expand_bn: batchnorm gamma"),
 * the values the desc points at, and their count. */
typedef struct array_slot {
    const char *named;
    float *values;
    uint64_t count;
} array_slot;

enum { MAX_SLOTS = 24 };

typedef struct desc_arrays {
    array_slot slots[MAX_SLOTS];
    uint32_t count;
    tu_rng rng;
} desc_arrays;

static float *add_array(desc_arrays *a, const char *named, uint64_t count)
{
    assert_true(a->count < MAX_SLOTS);
    /* Positive values: they serve as variances too. */
    float *values = tu_random_array(&a->rng, count, 0.5f, 1.5f);
    a->slots[a->count++] = (array_slot){named, values, count};
    return values;
}

/* The four arrays of a BatchNorm, each with its message's words. */
static evk_batchnorm add_batchnorm(desc_arrays *a, const char *gamma, const char *beta,
                                   const char *mean, const char *var, uint32_t channels)
{
    evk_batchnorm bn = {0};
    bn.gamma = add_array(a, gamma, channels);
    bn.beta = add_array(a, beta, channels);
    bn.mean = add_array(a, mean, channels);
    bn.var = add_array(a, var, channels);
    return bn;
}

static void free_arrays(desc_arrays *a)
{
    for (uint32_t i = 0; i < a->count; ++i)
        free(a->slots[i].values);
}

typedef evk_status (*create_fn)(evk_context *ctx, const void *desc, evk_layer **out);

static void assert_refused(evk_context *ctx, const void *desc, create_fn create, const char *words,
                           const char *what)
{
    evk_layer *layer = (evk_layer *)&layer;
    evk_status s = create(ctx, desc, &layer);
    if (s == EVK_SUCCESS)
        evk_layer_destroy(layer);
    if (s != EVK_ERROR_INVALID_ARGUMENT)
        fail_msg("%s: not refused, status %s", what, evk_status_string(s));
    assert_null(layer);
    tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, words);
}

static void assert_created(evk_context *ctx, const void *desc, create_fn create)
{
    evk_layer *layer = NULL;
    evk_status s = create(ctx, desc, &layer);
    if (s != EVK_SUCCESS)
        fail_msg("the clean desc fails: %s", evk_last_error(ctx));
    evk_layer_destroy(layer);
}

/* Puts NaN, +inf and -inf in turn in the middle of each array. */
static void check_non_finite(evk_context *ctx, desc_arrays *a, const void *desc, create_fn create)
{
    static const float bad[] = {NAN, INFINITY, -INFINITY};
    for (uint32_t i = 0; i < a->count; ++i) {
        array_slot *slot = &a->slots[i];
        uint64_t at = slot->count / 2;
        float kept = slot->values[at];
        char words[96];
        snprintf(words, sizeof words, "%s[%llu]", slot->named, (unsigned long long)at);
        for (size_t b = 0; b < sizeof bad / sizeof bad[0]; ++b) {
            slot->values[at] = bad[b];
            assert_refused(ctx, desc, create, words, words);
            tu_assert_message(evk_last_error(ctx), EVK_ERROR_INVALID_ARGUMENT, "not finite");
        }
        slot->values[at] = kept;
    }
    assert_created(ctx, desc, create);
}

static evk_status create_conv2d(evk_context *ctx, const void *desc, evk_layer **out)
{
    return evk_conv2d_create(ctx, desc, out);
}

static evk_status create_hetconv(evk_context *ctx, const void *desc, evk_layer **out)
{
    return evk_hetconv_create(ctx, desc, out);
}

static evk_status create_octconv(evk_context *ctx, const void *desc, evk_layer **out)
{
    return evk_octconv_create(ctx, desc, out);
}

static evk_status create_mbconv(evk_context *ctx, const void *desc, evk_layer **out)
{
    return evk_mbconv_create(ctx, desc, out);
}

/* Grouped 3x3 conv 4 -> 6 with bias and BatchNorm. */
static evk_conv2d_desc conv2d_of(desc_arrays *a)
{
    evk_conv2d_desc d = {.in_channels = 4, .out_channels = 6, .kernel_h = 3, .kernel_w = 3,
                         .groups = 2};
    d.weight = add_array(a, "conv2d: weight", 6 * 2 * 9);
    d.bias = add_array(a, "conv2d: bias", 6);
    d.batchnorm = add_batchnorm(a, "conv2d: batchnorm gamma", "conv2d: batchnorm beta",
                                "conv2d: batchnorm mean", "conv2d: batchnorm var", 6);
    return d;
}

static void add_hetconv_extras(desc_arrays *a, evk_hetconv_desc *d)
{
    d->bias = add_array(a, "hetconv: bias", d->out_channels);
    d->batchnorm = add_batchnorm(a, "hetconv: batchnorm gamma", "hetconv: batchnorm beta",
                                 "hetconv: batchnorm mean", "hetconv: batchnorm var",
                                 d->out_channels);
}

/* HetConv 4 -> 4, K 3, P 2, the dense masked form: taps outside the
 * pattern are zero. */
static evk_hetconv_desc hetconv_masked_of(desc_arrays *a)
{
    evk_hetconv_desc d = {.in_channels = 4, .out_channels = 4, .kernel_size = 3, .part = 2,
                          .weight_count = 4 * 4 * 9};
    float *weight = add_array(a, "hetconv: weight", d.weight_count);
    for (uint32_t o = 0; o < 4; ++o)
        for (uint32_t i = 0; i < 4; ++i)
            for (uint32_t t = 0; t < 9; ++t)
                if ((i + 2 - o % 2) % 2 != 0 && t != 4)
                    weight[(o * 4 + i) * 9 + t] = 0.0f;
    d.weight = weight;
    add_hetconv_extras(a, &d);
    return d;
}

static evk_hetconv_desc hetconv_grouped_of(desc_arrays *a)
{
    evk_hetconv_desc d = {.in_channels = 4, .out_channels = 4, .kernel_size = 3, .part = 2,
                          .gwc_count = 4 * 2 * 9, .pwc_count = 4 * 4};
    d.gwc = add_array(a, "hetconv: gwc", d.gwc_count);
    d.pwc = add_array(a, "hetconv: pwc", d.pwc_count);
    add_hetconv_extras(a, &d);
    return d;
}

/* OctConv 8 -> 8, α 0.5 in and out: every path, both biases and
 * BatchNorms. */
static evk_octconv_desc octconv_of(desc_arrays *a)
{
    evk_octconv_desc d = {.in_channels = 8, .out_channels = 8, .alpha_in = 0.5f,
                          .alpha_out = 0.5f, .kernel_size = 3};
    d.weight_hh = add_array(a, "octconv: weight_hh", 4 * 4 * 9);
    d.weight_hl = add_array(a, "octconv: weight_hl", 4 * 4 * 9);
    d.weight_lh = add_array(a, "octconv: weight_lh", 4 * 4 * 9);
    d.weight_ll = add_array(a, "octconv: weight_ll", 4 * 4 * 9);
    d.bias_h = add_array(a, "octconv: bias_h", 4);
    d.bias_l = add_array(a, "octconv: bias_l", 4);
    d.batchnorm_h = add_batchnorm(a, "octconv batchnorm_h: batchnorm gamma",
                                  "octconv batchnorm_h: batchnorm beta",
                                  "octconv batchnorm_h: batchnorm mean",
                                  "octconv batchnorm_h: batchnorm var", 4);
    d.batchnorm_l = add_batchnorm(a, "octconv batchnorm_l: batchnorm gamma",
                                  "octconv batchnorm_l: batchnorm beta",
                                  "octconv batchnorm_l: batchnorm mean",
                                  "octconv batchnorm_l: batchnorm var", 4);
    return d;
}

/* MBConv 8 -> 8, e 4 (E 32), k 3, SE with S 2, all three BatchNorms. */
static evk_mbconv_desc mbconv_of(desc_arrays *a)
{
    evk_mbconv_desc d = {.in_channels = 8, .out_channels = 8, .expand_ratio = 4,
                         .kernel_size = 3};
    d.expand_weight = add_array(a, "mbconv: expand_weight", 32 * 8);
    d.expand_bn = add_batchnorm(a, "mbconv expand_bn: batchnorm gamma",
                                "mbconv expand_bn: batchnorm beta",
                                "mbconv expand_bn: batchnorm mean",
                                "mbconv expand_bn: batchnorm var", 32);
    d.depthwise_weight = add_array(a, "mbconv: depthwise_weight", 32 * 9);
    d.depthwise_bn = add_batchnorm(a, "mbconv depthwise_bn: batchnorm gamma",
                                   "mbconv depthwise_bn: batchnorm beta",
                                   "mbconv depthwise_bn: batchnorm mean",
                                   "mbconv depthwise_bn: batchnorm var", 32);
    d.se_fc1_weight = add_array(a, "mbconv: se_fc1_weight", 2 * 32);
    d.se_fc1_bias = add_array(a, "mbconv: se_fc1_bias", 2);
    d.se_fc2_weight = add_array(a, "mbconv: se_fc2_weight", 32 * 2);
    d.se_fc2_bias = add_array(a, "mbconv: se_fc2_bias", 32);
    d.project_weight = add_array(a, "mbconv: project_weight", 8 * 32);
    d.project_bn = add_batchnorm(a, "mbconv project_bn: batchnorm gamma",
                                 "mbconv project_bn: batchnorm beta",
                                 "mbconv project_bn: batchnorm mean",
                                 "mbconv project_bn: batchnorm var", 8);
    return d;
}

static void test_conv2d_non_finite(void **state)
{
    tu_gpu *g = *state;
    desc_arrays a = {.rng = tu_rng_seeded(31)};
    evk_conv2d_desc d = conv2d_of(&a);
    check_non_finite(g->ctx, &a, &d, create_conv2d);
    free_arrays(&a);
    tu_assert_no_validation_messages(g);
}

static void test_hetconv_non_finite(void **state)
{
    tu_gpu *g = *state;
    desc_arrays a = {.rng = tu_rng_seeded(32)};
    evk_hetconv_desc d = hetconv_masked_of(&a);
    check_non_finite(g->ctx, &a, &d, create_hetconv);
    free_arrays(&a);
    a = (desc_arrays){.rng = tu_rng_seeded(33)};
    d = hetconv_grouped_of(&a);
    check_non_finite(g->ctx, &a, &d, create_hetconv);
    free_arrays(&a);
    tu_assert_no_validation_messages(g);
}

static void test_octconv_non_finite(void **state)
{
    tu_gpu *g = *state;
    desc_arrays a = {.rng = tu_rng_seeded(34)};
    evk_octconv_desc d = octconv_of(&a);
    check_non_finite(g->ctx, &a, &d, create_octconv);
    free_arrays(&a);
    tu_assert_no_validation_messages(g);
}

static void test_mbconv_non_finite(void **state)
{
    tu_gpu *g = *state;
    desc_arrays a = {.rng = tu_rng_seeded(35)};
    evk_mbconv_desc d = mbconv_of(&a);
    check_non_finite(g->ctx, &a, &d, create_mbconv);
    free_arrays(&a);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_conv2d_non_finite),
        TU_GPU_TEST(test_hetconv_non_finite),
        TU_GPU_TEST(test_octconv_non_finite),
        TU_GPU_TEST(test_mbconv_non_finite),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
