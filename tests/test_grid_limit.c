/* Device tier: dispatch grids beyond maxComputeWorkGroupCount. A context
 * with desc.max_workgroup_count = 7 behaves like a device limited to 7
 * groups per dimension, so a dispatch of more than 49 groups must be folded
 * into 3-D (and the shaders must recover the linear group index), and one of
 * more than 343 groups must fail cleanly with EVK_ERROR_LIMIT_EXCEEDED.
 *
 * How many groups a shape needs depends on the kernels' tiling, which the
 * API does not show; so the test proves it: a context limited to 4 per
 * dimension (64 groups) must reject every "3-D" shape below, and the default
 * context must run every "too large" shape. If the tiling changes and a
 * precondition fails, pick larger shapes. */
#include <stdlib.h>

#include "test_util.h"

static const tu_conv_case needs_3d[] = {
    {.input = {1, 4, 8, 8}, .out_channels = 2400, .kernel_h = 1, .kernel_w = 1, .bias = 1},
    {.input = {1, 4, 8, 8}, .out_channels = 1200, .kernel_h = 3, .kernel_w = 3, .pad_h = 1,
     .pad_w = 1, .activation = EVK_ACTIVATION_RELU},
    {.input = {1, 300, 8, 8}, .out_channels = 300, .groups = 300, .kernel_h = 3, .kernel_w = 3,
     .pad_h = 1, .pad_w = 1, .activation = EVK_ACTIVATION_SILU, .bias = 1},
    {.input = {1, 4, 8, 8}, .out_channels = 300, .groups = 2, .kernel_h = 3, .kernel_w = 3,
     .pad_h = 1, .pad_w = 1, .batchnorm = 1},
};

static const tu_conv_case too_large[] = {
    {.input = {1, 4, 8, 8}, .out_channels = 12000, .kernel_h = 1, .kernel_w = 1},
    {.input = {1, 1400, 8, 8}, .out_channels = 1400, .groups = 1400, .kernel_h = 3,
     .kernel_w = 3, .pad_h = 1, .pad_w = 1},
};

#define COUNT(a) (sizeof a / sizeof a[0])

static void open_limited(tu_gpu *g, uint32_t limit)
{
    evk_context_desc desc = {.max_workgroup_count = limit};
    tu_gpu_open(g, &desc);
}

/* Runs case `c` and returns its status; on failure the output tensor must
 * be untouched (still zero) and the message must name the workgroups. */
static evk_status try_case(evk_context *ctx, const tu_conv_case *c)
{
    tu_conv_weights w;
    tu_conv_weights_make(&w, c, 42);
    evk_layer *layer = NULL;
    assert_int_equal(evk_conv2d_create(ctx, &w.desc, &layer), EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_conv2d_output_shape(&w.desc, c->input, &out), EVK_SUCCESS);
    tu_rng rng = tu_rng_seeded(43);
    float *x = tu_random_array(&rng, evk_shape_elements(c->input), -1.0f, 1.0f);
    evk_tensor *in = tu_tensor(ctx, c->input, x), *out_t = tu_tensor(ctx, out, NULL);
    evk_status s = evk_layer_forward(layer, in, out_t);
    if (s != EVK_SUCCESS) {
        tu_assert_message(evk_last_error(ctx), EVK_ERROR_LIMIT_EXCEEDED, "workgroup");
        float *y = tu_download(out_t);
        for (uint64_t i = 0; i < evk_shape_elements(out); ++i)
            assert_true(y[i] == 0.0f);
        free(y);
    }
    free(x);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out_t);
    evk_layer_destroy(layer);
    tu_conv_weights_free(&w);
    return s;
}

static void test_preconditions(void **state)
{
    (void)state;
    tu_gpu g;
    open_limited(&g, 4);
    for (size_t i = 0; i < COUNT(needs_3d); ++i)
        if (try_case(g.ctx, &needs_3d[i]) != EVK_ERROR_LIMIT_EXCEEDED)
            fail_msg("precondition: case %zu needs no more than 64 workgroups", i);
    tu_gpu_close(&g);
    tu_gpu_open(&g, NULL);
    for (size_t i = 0; i < COUNT(too_large); ++i)
        if (try_case(g.ctx, &too_large[i]) != EVK_SUCCESS)
            fail_msg("precondition: case %zu fails on the default context: %s", i,
                     evk_last_error(g.ctx));
    tu_gpu_close(&g);
}

static void test_folded_grids_compute_correctly(void **state)
{
    (void)state;
    tu_gpu g;
    open_limited(&g, 7);
    for (size_t i = 0; i < COUNT(needs_3d); ++i)
        tu_run_conv_case(g.ctx, &needs_3d[i], 100 + i);
    tu_gpu_close(&g);
}

static void test_grid_beyond_limit_fails_cleanly(void **state)
{
    (void)state;
    tu_gpu g;
    open_limited(&g, 7);
    for (size_t i = 0; i < COUNT(too_large); ++i)
        assert_int_equal(try_case(g.ctx, &too_large[i]), EVK_ERROR_LIMIT_EXCEEDED);
    tu_assert_no_validation_messages(&g);
    /* The context is still fine for work within its grid. */
    tu_run_conv_case(g.ctx, &needs_3d[0], 200);
    tu_gpu_close(&g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_preconditions),
        cmocka_unit_test(test_folded_grids_compute_correctly),
        cmocka_unit_test(test_grid_beyond_limit_fails_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
