/* Device tier (a context, no dispatch): every host array of every public
 * desc — conv2d, HetConv in both weight forms, OctConv and MBConv, their
 * biases and BatchNorms — is checked when the layer is created. An element
 * count one short (the array then really one element short, so that
 * AddressSanitizer sees any read past it) or one long is refused, naming the
 * count field, the given and the expected count; a NaN, +inf or -inf
 * anywhere is refused, naming the desc field and the index; the same desc
 * restored creates its layer. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

/* One host array of a desc under test: the words the library's messages put
 * before the index ("conv2d: weight", "mbconv expand_bn: batchnorm gamma")
 * and before the count ("conv2d: weight_count", "mbconv expand_bn:
 * batchnorm count"), the desc's pointer and count fields, and the values
 * the desc points at with their count. */
typedef struct array_slot {
    const char *named, *count_named;
    const float **field;
    uint64_t *count_field;
    float *values;
    uint64_t count;
} array_slot;

enum { MAX_SLOTS = 24 };

typedef struct desc_arrays {
    array_slot slots[MAX_SLOTS];
    uint32_t count;
    char words[MAX_SLOTS + 8][64];  /* the BatchNorms' message words */
    uint32_t word_count;
    tu_rng rng;
} desc_arrays;

/* Points the desc's `field` and `count_field` at `count` new values. */
static void add_array(desc_arrays *a, const char *named, const char *count_named,
                      const float **field, uint64_t *count_field, uint64_t count)
{
    assert_true(a->count < MAX_SLOTS);
    /* Positive values: they serve as variances too. */
    float *values = tu_random_array(&a->rng, count, 0.5f, 1.5f);
    a->slots[a->count++] = (array_slot){named, count_named, field, count_field, values, count};
    *field = values;
    *count_field = count;
}

/* An array of `op`'s desc field `name`: "conv2d: weight", "conv2d: weight_count". */
#define ADD_ARRAY(a, op, d, name, count) \
    add_array(a, op ": " #name, op ": " #name "_count", &(d)->name, &(d)->name##_count, count)

/* The four arrays of BatchNorm `bn`, whose messages start with `op`. */
static void add_batchnorm(desc_arrays *a, const char *op, evk_batchnorm *bn, uint32_t channels)
{
    static const char *const names[4] = {"gamma", "beta", "mean", "var"};
    const float **fields[4] = {&bn->gamma, &bn->beta, &bn->mean, &bn->var};
    assert_true(a->word_count + 5 <= sizeof a->words / sizeof a->words[0]);
    char *words = a->words[a->word_count++];
    snprintf(words, sizeof a->words[0], "%s: batchnorm count", op);
    for (int i = 0; i < 4; ++i) {
        char *named = a->words[a->word_count++];
        snprintf(named, sizeof a->words[0], "%s: batchnorm %s", op, names[i]);
        add_array(a, named, words, fields[i], &bn->count, channels);
    }
}

static void free_arrays(desc_arrays *a)
{
    for (uint32_t i = 0; i < a->count; ++i)
        free(a->slots[i].values);
}

typedef evk_status (*create_fn)(evk_context *ctx, const void *desc, evk_layer **out);

/* Creation must fail with a message naming `words`. */
static void assert_refused(evk_context *ctx, const void *desc, create_fn create, const char *words)
{
    evk_layer *layer = (evk_layer *)&layer;
    evk_status s = create(ctx, desc, &layer);
    if (s == EVK_SUCCESS)
        evk_layer_destroy(layer);
    if (s != EVK_ERROR_INVALID_ARGUMENT)
        fail_msg("%s: not refused, status %s", words, evk_status_string(s));
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

/* Gives each array in turn a count one short, with the desc pointing at a
 * copy that is one short too, then a count one long. */
static void check_counts(evk_context *ctx, desc_arrays *a, const void *desc, create_fn create)
{
    for (uint32_t i = 0; i < a->count; ++i) {
        array_slot *slot = &a->slots[i];
        assert_true(slot->count >= 2);
        float *short_copy = malloc((slot->count - 1) * sizeof *short_copy);
        assert_non_null(short_copy);
        memcpy(short_copy, slot->values, (slot->count - 1) * sizeof *short_copy);
        for (int longer = 0; longer < 2; ++longer) {
            uint64_t given = longer ? slot->count + 1 : slot->count - 1;
            *slot->field = longer ? slot->values : short_copy;
            *slot->count_field = given;
            char words[128];
            snprintf(words, sizeof words, "%s is %llu, expected %llu", slot->count_named,
                     (unsigned long long)given, (unsigned long long)slot->count);
            assert_refused(ctx, desc, create, words);
        }
        *slot->field = slot->values;
        *slot->count_field = slot->count;
        free(short_copy);
    }
    assert_created(ctx, desc, create);
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
            assert_refused(ctx, desc, create, words);
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
static void conv2d_of(desc_arrays *a, evk_conv2d_desc *d)
{
    *d = (evk_conv2d_desc){.in_channels = 4, .out_channels = 6, .kernel_h = 3, .kernel_w = 3,
                           .groups = 2};
    ADD_ARRAY(a, "conv2d", d, weight, 6 * 2 * 9);
    ADD_ARRAY(a, "conv2d", d, bias, 6);
    add_batchnorm(a, "conv2d", &d->batchnorm, 6);
}

/* HetConv 4 -> 4, K 3, P 2, the dense masked form (taps outside the
 * pattern zero) or the grouped + pointwise form, with bias and BatchNorm. */
static void hetconv_of(desc_arrays *a, int grouped, evk_hetconv_desc *d)
{
    *d = (evk_hetconv_desc){.in_channels = 4, .out_channels = 4, .kernel_size = 3, .part = 2};
    if (grouped) {
        ADD_ARRAY(a, "hetconv", d, gwc, 4 * 2 * 9);
        ADD_ARRAY(a, "hetconv", d, pwc, 4 * 4);
    } else {
        ADD_ARRAY(a, "hetconv", d, weight, 4 * 4 * 9);
        float *weight = a->slots[a->count - 1].values;
        for (uint32_t o = 0; o < 4; ++o)
            for (uint32_t i = 0; i < 4; ++i)
                for (uint32_t t = 0; t < 9; ++t)
                    if (i % 2 != o % 2 && t != 4)
                        weight[(o * 4 + i) * 9 + t] = 0.0f;
    }
    ADD_ARRAY(a, "hetconv", d, bias, 4);
    add_batchnorm(a, "hetconv", &d->batchnorm, 4);
}

/* OctConv 8 -> 8, α 0.5 in and out: every path, both biases and
 * BatchNorms. */
static void octconv_of(desc_arrays *a, evk_octconv_desc *d)
{
    *d = (evk_octconv_desc){.in_channels = 8, .out_channels = 8, .alpha_in = 0.5,
                            .alpha_out = 0.5, .kernel_size = 3};
    ADD_ARRAY(a, "octconv", d, weight_hh, 4 * 4 * 9);
    ADD_ARRAY(a, "octconv", d, weight_hl, 4 * 4 * 9);
    ADD_ARRAY(a, "octconv", d, weight_lh, 4 * 4 * 9);
    ADD_ARRAY(a, "octconv", d, weight_ll, 4 * 4 * 9);
    ADD_ARRAY(a, "octconv", d, bias_h, 4);
    ADD_ARRAY(a, "octconv", d, bias_l, 4);
    add_batchnorm(a, "octconv batchnorm_h", &d->batchnorm_h, 4);
    add_batchnorm(a, "octconv batchnorm_l", &d->batchnorm_l, 4);
}

/* MBConv 8 -> 8, e 4 (E 32), k 3, SE with S 2, all three BatchNorms. */
static void mbconv_of(desc_arrays *a, evk_mbconv_desc *d)
{
    *d = (evk_mbconv_desc){.in_channels = 8, .out_channels = 8, .expand_ratio = 4,
                           .kernel_size = 3};
    ADD_ARRAY(a, "mbconv", d, expand_weight, 32 * 8);
    add_batchnorm(a, "mbconv expand_bn", &d->expand_bn, 32);
    ADD_ARRAY(a, "mbconv", d, depthwise_weight, 32 * 9);
    add_batchnorm(a, "mbconv depthwise_bn", &d->depthwise_bn, 32);
    ADD_ARRAY(a, "mbconv", d, se_fc1_weight, 2 * 32);
    ADD_ARRAY(a, "mbconv", d, se_fc1_bias, 2);
    ADD_ARRAY(a, "mbconv", d, se_fc2_weight, 32 * 2);
    ADD_ARRAY(a, "mbconv", d, se_fc2_bias, 32);
    ADD_ARRAY(a, "mbconv", d, project_weight, 8 * 32);
    add_batchnorm(a, "mbconv project_bn", &d->project_bn, 8);
}

typedef enum desc_kind {
    CONV2D, HETCONV_MASKED, HETCONV_GROUPED, OCTCONV, MBCONV, KINDS
} desc_kind;

typedef union any_desc {
    evk_conv2d_desc conv2d;
    evk_hetconv_desc hetconv;
    evk_octconv_desc octconv;
    evk_mbconv_desc mbconv;
} any_desc;

/* Fills `d` and `a` with the desc of `kind`; returns its create function. */
static create_fn make_desc(desc_arrays *a, desc_kind kind, any_desc *d)
{
    *a = (desc_arrays){.rng = tu_rng_seeded(30 + (uint64_t)kind)};
    switch (kind) {
    case CONV2D:
        conv2d_of(a, &d->conv2d);
        return create_conv2d;
    case HETCONV_MASKED:
    case HETCONV_GROUPED:
        hetconv_of(a, kind == HETCONV_GROUPED, &d->hetconv);
        return create_hetconv;
    case OCTCONV:
        octconv_of(a, &d->octconv);
        return create_octconv;
    default:
        mbconv_of(a, &d->mbconv);
        return create_mbconv;
    }
}

static void test_counts_refused(void **state)
{
    tu_gpu *g = *state;
    for (desc_kind kind = CONV2D; kind < KINDS; ++kind) {
        desc_arrays a;
        any_desc d;
        create_fn create = make_desc(&a, kind, &d);
        check_counts(g->ctx, &a, &d, create);
        free_arrays(&a);
    }
    tu_assert_no_validation_messages(g);
}

static void test_non_finite_refused(void **state)
{
    tu_gpu *g = *state;
    for (desc_kind kind = CONV2D; kind < KINDS; ++kind) {
        desc_arrays a;
        any_desc d;
        create_fn create = make_desc(&a, kind, &d);
        check_non_finite(g->ctx, &a, &d, create);
        free_arrays(&a);
    }
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_counts_refused),
        TU_GPU_TEST(test_non_finite_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
