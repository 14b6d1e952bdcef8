/* Device tier: bad input to layers gets a clear status and a message that
 * names the problem, leaves the output tensor untouched, and leaves every
 * object usable: after each error the same layer computes correctly. */
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

typedef struct fixture {
    tu_gpu gpu;
    tu_conv_weights w;              /* a 3x3 conv 5 -> 6, padding 1 */
    evk_layer *layer;
    evk_tensor *in, *out;           /* 1x5x7x7 and 1x6x7x7 */
    float *out_before;              /* what `out` holds before each bad call */
} fixture;

static const tu_conv_case base = {.input = {1, 5, 7, 7}, .out_channels = 6, .kernel_h = 3,
                                  .kernel_w = 3, .pad_h = 1, .pad_w = 1,
                                  .activation = EVK_ACTIVATION_RELU6, .bias = 1, .batchnorm = 1};

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    *state = f;
    tu_gpu_open(&f->gpu, NULL);
    tu_conv_weights_make(&f->w, &base, 77);
    assert_int_equal(evk_conv2d_create(f->gpu.ctx, &f->w.desc, &f->layer), EVK_SUCCESS);
    evk_shape out = {1, 6, 7, 7};
    tu_rng rng = tu_rng_seeded(78);
    f->out_before = tu_random_array(&rng, evk_shape_elements(out), -5.0f, 5.0f);
    f->in = tu_tensor(f->gpu.ctx, base.input, NULL);
    f->out = tu_tensor(f->gpu.ctx, out, f->out_before);
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    evk_tensor_destroy(f->in);
    evk_tensor_destroy(f->out);
    evk_layer_destroy(f->layer);
    tu_conv_weights_free(&f->w);
    free(f->out_before);
    tu_gpu_close(&f->gpu);
    free(f);
    return 0;
}

/* The failed call returned `expected`, named the problem with `word`, and
 * left `out` as it was and the layer working. */
static void assert_clean_failure(fixture *f, evk_status got, evk_status expected,
                                 const evk_context *ctx, const char *word)
{
    if (got != expected)
        fail_msg("status %s, expected %s", evk_status_string(got), evk_status_string(expected));
    tu_assert_message(evk_last_error(ctx), expected, word);
    float *now = tu_download(f->out);
    assert_memory_equal(now, f->out_before, evk_shape_elements(evk_tensor_shape(f->out)) * sizeof *now);
    free(now);
    tu_check_layer(f->gpu.ctx, f->layer, &f->w, base.input, 79, "after a failed call");
    tu_assert_no_validation_messages(&f->gpu);
    assert_int_equal(evk_tensor_upload(f->out, f->out_before,
                                       evk_shape_elements(evk_tensor_shape(f->out))),
                     EVK_SUCCESS);
}

static void test_null_arguments(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    assert_clean_failure(f, evk_layer_forward(NULL, f->in, f->out), EVK_ERROR_INVALID_ARGUMENT,
                         NULL, "layer");
    assert_clean_failure(f, evk_layer_forward(f->layer, NULL, f->out), EVK_ERROR_INVALID_ARGUMENT,
                         ctx, "input");
    assert_clean_failure(f, evk_layer_forward(f->layer, f->in, NULL), EVK_ERROR_INVALID_ARGUMENT,
                         ctx, "output");
    assert_clean_failure(f, evk_layer_forward_repeat(f->layer, NULL, f->out, 2),
                         EVK_ERROR_INVALID_ARGUMENT, ctx, "NULL");
}

/* Runs the layer from `input` into a fresh tensor of `output` shape. */
static evk_status forward_shapes(fixture *f, evk_shape input, evk_shape output)
{
    evk_tensor *in = tu_tensor(f->gpu.ctx, input, NULL), *out = tu_tensor(f->gpu.ctx, output, NULL);
    evk_status s = evk_layer_forward(f->layer, in, out);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    return s;
}

static void test_wrong_output_shape(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    const evk_shape wrong[] = {{1, 6, 7, 6}, {1, 7, 7, 7}, {2, 6, 7, 7}, {1, 6, 8, 7}, {1, 5, 7, 7}};
    const char *names[] = {"1x6x7x6", "1x7x7x7", "2x6x7x7", "1x6x8x7", "1x5x7x7"};
    for (size_t i = 0; i < sizeof wrong / sizeof wrong[0]; ++i)
        assert_clean_failure(f, forward_shapes(f, base.input, wrong[i]), EVK_ERROR_SHAPE_MISMATCH,
                             ctx, names[i]);
    /* The real output tensor with the wrong input is the same error. */
    evk_shape batch2 = {2, 5, 7, 7};
    evk_tensor *in2 = tu_tensor(ctx, batch2, NULL);
    assert_clean_failure(f, evk_layer_forward(f->layer, in2, f->out), EVK_ERROR_SHAPE_MISMATCH,
                         ctx, "1x6x7x7");
    evk_tensor_destroy(in2);
}

static void test_wrong_input_shape(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    evk_shape four = {1, 4, 7, 7}, six = {1, 6, 7, 7}, out = {1, 6, 7, 7};
    assert_clean_failure(f, forward_shapes(f, four, out), EVK_ERROR_SHAPE_MISMATCH, ctx, "4 ch");
    assert_clean_failure(f, forward_shapes(f, six, out), EVK_ERROR_SHAPE_MISMATCH, ctx, "6 ch");
}

static void test_input_is_output(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    /* A layer whose output shape equals its input's, so only the aliasing
     * is wrong. */
    tu_conv_case same = {.input = {1, 6, 7, 7}, .out_channels = 6, .kernel_h = 1, .kernel_w = 1};
    tu_conv_weights w;
    tu_conv_weights_make(&w, &same, 80);
    evk_layer *layer = NULL;
    assert_int_equal(evk_conv2d_create(ctx, &w.desc, &layer), EVK_SUCCESS);
    assert_clean_failure(f, evk_layer_forward(layer, f->out, f->out), EVK_ERROR_INVALID_ARGUMENT,
                         ctx, "same");
    tu_check_layer(ctx, layer, &w, same.input, 81, "pointwise after aliasing");
    evk_layer_destroy(layer);
    tu_conv_weights_free(&w);
}

static void test_tensor_of_another_context(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    tu_gpu other;
    tu_gpu_open(&other, NULL);
    evk_shape out = {1, 6, 7, 7};
    evk_tensor *foreign_in = tu_tensor(other.ctx, base.input, NULL);
    evk_tensor *foreign_out = tu_tensor(other.ctx, out, NULL);
    assert_clean_failure(f, evk_layer_forward(f->layer, foreign_in, f->out),
                         EVK_ERROR_INVALID_ARGUMENT, ctx, "context");
    assert_clean_failure(f, evk_layer_forward(f->layer, f->in, foreign_out),
                         EVK_ERROR_INVALID_ARGUMENT, ctx, "context");
    evk_tensor_destroy(foreign_in);
    evk_tensor_destroy(foreign_out);
    tu_gpu_close(&other);
}

static void test_bad_layer_desc(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    evk_conv2d_desc d = f->w.desc;
    evk_layer *layer = (evk_layer *)f;  /* must come back NULL */
    d.groups = 4;
    assert_clean_failure(f, evk_conv2d_create(ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT, ctx,
                         "groups");
    assert_null(layer);
    d = f->w.desc;
    d.weight = NULL;
    assert_clean_failure(f, evk_conv2d_create(ctx, &d, &layer), EVK_ERROR_INVALID_ARGUMENT, ctx,
                         "weight");
    assert_clean_failure(f, evk_conv2d_create(ctx, NULL, &layer), EVK_ERROR_INVALID_ARGUMENT, ctx,
                         "desc");
    assert_clean_failure(f, evk_conv2d_create(ctx, &f->w.desc, NULL), EVK_ERROR_INVALID_ARGUMENT,
                         ctx, "NULL");
}

static void test_layer_output_shape(void **state)
{
    fixture *f = *state;
    evk_context *ctx = f->gpu.ctx;
    evk_shape in = {3, 5, 9, 4}, got = {0, 0, 0, 0}, expected;
    assert_int_equal(evk_layer_output_shape(f->layer, in, &got), EVK_SUCCESS);
    assert_int_equal(evk_conv2d_output_shape(&f->w.desc, in, &expected), EVK_SUCCESS);
    assert_memory_equal(&got, &expected, sizeof got);
    evk_shape four = {1, 4, 7, 7};
    assert_clean_failure(f, evk_layer_output_shape(f->layer, four, &got), EVK_ERROR_SHAPE_MISMATCH,
                         ctx, "4 ch");
    assert_clean_failure(f, evk_layer_output_shape(NULL, in, &got), EVK_ERROR_INVALID_ARGUMENT,
                         NULL, "layer");
}

/* A call on a layer that fails reports on the layer's context, where
 * evk_last_error(ctx) looks (only calls without a context use the thread's
 * message). */
static void test_layer_output_shape_null_output(void **state)
{
    fixture *f = *state;
    evk_shape in = {1, 5, 7, 7};
    assert_clean_failure(f, evk_layer_output_shape(f->layer, in, NULL), EVK_ERROR_INVALID_ARGUMENT,
                         f->gpu.ctx, "output");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_null_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_output_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_input_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_input_is_output, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tensor_of_another_context, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_layer_desc, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_output_shape, setup, teardown),
        cmocka_unit_test_setup_teardown(test_layer_output_shape_null_output, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
