/* Device tier: kernels that read their input through a uniform texel buffer
 * (evk_texel_range_usable): which bindings qualify, and the depthwise conv
 * giving the same output both ways, with either pipeline in the context. */
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "profile.h"
#include "test_util.h"

static int usable(const evk_context *ctx, const evk_binding *binding, uint32_t texel_bytes)
{
    return evk_texel_range_usable(&ctx->profile, binding->offset, binding->range, texel_bytes);
}

static void test_usable_bindings(void **state)
{
    tu_gpu *g = *state;
    evk_context *ctx = g->ctx;
    ctx->profile.texel_loads = EVK_SWITCH_ON;
    VkDeviceSize align = ctx->profile.limits.texel_offset_alignment;
    assert_true(align > 0);
    evk_binding whole = {VK_NULL_HANDLE, 0, 64, 0, 0};
    assert_true(usable(ctx, &whole, 16));
    evk_binding aligned = {VK_NULL_HANDLE, 4 * align, 64, 0, 0};
    assert_true(usable(ctx, &aligned, 16));
    evk_binding part_texel = {VK_NULL_HANDLE, 0, 60, 0, 0};
    assert_false(usable(ctx, &part_texel, 16));
    assert_true(usable(ctx, &part_texel, 4));
    VkDeviceSize longest = (VkDeviceSize)ctx->profile.limits.texel_buffer_elements * 16;
    evk_binding too_long = {VK_NULL_HANDLE, 0, longest + 16, 0, 0};
    assert_false(usable(ctx, &too_long, 16));
    if (align > 4) {
        evk_binding unaligned = {VK_NULL_HANDLE, 4, 64, 0, 0};
        assert_false(usable(ctx, &unaligned, 4));
    }
    ctx->profile.texel_loads = EVK_SWITCH_OFF;
    assert_false(usable(ctx, &whole, 16));
}

/* Runs the depthwise case with texel inputs on or off; returns the output. */
static float *run_depthwise(evk_context *ctx, int texel_inputs, const tu_conv_weights *w,
                            evk_shape in, const float *x)
{
    ctx->profile.texel_loads = texel_inputs ? EVK_SWITCH_ON : EVK_SWITCH_OFF;
    evk_layer *layer;
    assert_int_equal(evk_conv2d_create(ctx, &w->desc, &layer), EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, in, &out), EVK_SUCCESS);
    evk_tensor *tx = tu_tensor(ctx, in, x), *ty = tu_tensor(ctx, out, NULL);
    assert_int_equal(evk_layer_forward(layer, tx, ty), EVK_SUCCESS);
    float *y = tu_download(ty);
    tu_assert_conv_output(&w->desc, in, x, y, texel_inputs ? "texel input" : "storage input");
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
    evk_layer_destroy(layer);
    return y;
}

static void test_depthwise_both_ways(void **state)
{
    tu_gpu *g = *state;
    tu_conv_case c = {.input = {2, 10, 13, 9}, .out_channels = 10, .kernel_h = 3, .kernel_w = 3,
                      .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1, .groups = 10,
                      .activation = EVK_ACTIVATION_SILU, .bias = 1, .batchnorm = 1};
    tu_conv_weights w;
    tu_conv_weights_make(&w, &c, 5);
    tu_rng rng = tu_rng_seeded(6);
    float *x = tu_random_array(&rng, evk_shape_elements(c.input), -1.0f, 1.0f);
    evk_context_stats before, after;
    assert_int_equal(evk_context_stats_get(g->ctx, &before), EVK_SUCCESS);
    float *texel = run_depthwise(g->ctx, 1, &w, c.input, x);
    float *storage = run_depthwise(g->ctx, 0, &w, c.input, x);
    assert_int_equal(evk_context_stats_get(g->ctx, &after), EVK_SUCCESS);
    assert_int_equal(after.pipelines_created, before.pipelines_created + 2);
    evk_shape out = {2, 10, 7, 5};
    /* The same arithmetic in the same order: only the loads differ. */
    assert_memory_equal(texel, storage, evk_shape_elements(out) * sizeof(float));
    free(texel);
    free(storage);
    free(x);
    tu_conv_weights_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_usable_bindings),
        TU_GPU_TEST(test_depthwise_both_ways),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
