/* Device tier: the ops the nets add, against plain C references on odd
 * shapes and channel counts that leave a partial channel quad. Max pooling
 * (host/ops/pool.c): VGG's 2x2/2 and ResNet's 3x3/2 padding 1 (windows
 * clipped at the borders, all inputs negative so that a zero from padding
 * would win); bad parameters and a too small input are errors naming them.
 * The residual add (host/ops/eltwise.c) as a binary graph node:
 * relu(maxpool3x3/1(x) + x), and a binary node on slots of two shapes is an
 * error naming the node. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "eltwise.h"
#include "graph.h"
#include "pool.h"
#include "test_util.h"

static void reference(evk_shape in, evk_shape out, uint32_t k, uint32_t stride, uint32_t pad,
                      const float *x, float *y)
{
    for (uint32_t p = 0; p < in.n * in.c; ++p)
        for (uint32_t oy = 0; oy < out.h; ++oy)
            for (uint32_t ox = 0; ox < out.w; ++ox) {
                float best = -FLT_MAX;
                for (uint32_t ky = 0; ky < k; ++ky)
                    for (uint32_t kx = 0; kx < k; ++kx) {
                        int iy = (int)(oy * stride + ky) - (int)pad;
                        int ix = (int)(ox * stride + kx) - (int)pad;
                        if (iy >= 0 && ix >= 0 && iy < (int)in.h && ix < (int)in.w) {
                            float v = x[((size_t)p * in.h + (uint32_t)iy) * in.w + (uint32_t)ix];
                            best = v > best ? v : best;
                        }
                    }
                y[((size_t)p * out.h + oy) * out.w + ox] = best;
            }
}

static void check_case(evk_context *ctx, evk_shape in, uint32_t k, uint32_t stride, uint32_t pad,
                       evk_shape expected)
{
    evk_layer *layer = NULL;
    assert_int_equal(evk_max_pool_create(ctx, k, stride, pad, &layer), EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, in, &out), EVK_SUCCESS);
    assert_true(out.n == expected.n && out.c == expected.c && out.h == expected.h &&
                out.w == expected.w);
    tu_rng rng = tu_rng_seeded(in.h * 31 + k);
    float *x = tu_random_array(&rng, evk_shape_elements(in), -3.0f, -0.5f);
    evk_tensor *tx = tu_tensor(ctx, in, x), *ty = tu_tensor(ctx, out, NULL);
    assert_int_equal(evk_layer_forward(layer, tx, ty), EVK_SUCCESS);
    float *got = tu_download(ty), *ref = malloc(evk_shape_elements(out) * sizeof *ref);
    assert_non_null(ref);
    reference(in, out, k, stride, pad, x, ref);
    /* Rounding to half is monotonic: the max of the stored inputs is the
     * stored max, at every precision. */
    for (uint64_t i = 0; i < evk_shape_elements(out); ++i)
        assert_true(got[i] == tu_stored(ref[i]));
    free(x);
    free(got);
    free(ref);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
    evk_layer_destroy(layer);
}

static void test_max_pool(void **state)
{
    tu_gpu *g = *state;
    check_case(g->ctx, (evk_shape){2, 5, 9, 7}, 2, 2, 0, (evk_shape){2, 5, 4, 3});
    check_case(g->ctx, (evk_shape){1, 6, 11, 8}, 3, 2, 1, (evk_shape){1, 6, 6, 4});
    check_case(g->ctx, (evk_shape){1, 3, 1, 1}, 1, 1, 0, (evk_shape){1, 3, 1, 1});
    tu_assert_no_validation_messages(g);
}

static void test_bad_parameters(void **state)
{
    tu_gpu *g = *state;
    evk_layer *layer = NULL;
    assert_int_equal(evk_max_pool_create(g->ctx, 3, 4, 1, &layer), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_INVALID_ARGUMENT, "stride 4");
    assert_int_equal(evk_max_pool_create(g->ctx, 2, 2, 2, &layer), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(layer);
    assert_int_equal(evk_max_pool_create(g->ctx, 3, 2, 0, &layer), EVK_SUCCESS);
    evk_shape out;
    assert_int_equal(evk_layer_output_shape(layer, (evk_shape){1, 4, 2, 5}, &out),
                     EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "2x5");
    evk_layer_destroy(layer);
}

/* slot 1 = maxpool 3x3/1 pad 1 (x), slot 2 = relu(slot 1 + x). */
static evk_graph *residual_graph(evk_context *ctx, uint32_t pool_stride)
{
    evk_graph *graph;
    evk_layer *pool, *add;
    uint32_t slot;
    assert_int_equal(evk_graph_create(ctx, &graph), EVK_SUCCESS);
    assert_int_equal(evk_max_pool_create(ctx, 3, pool_stride, 1, &pool), EVK_SUCCESS);
    assert_int_equal(evk_graph_add(graph, pool, 0, "pool", NULL, &slot), EVK_SUCCESS);
    assert_int_equal(evk_add_create(ctx, EVK_ACTIVATION_RELU, &add), EVK_SUCCESS);
    assert_int_equal(evk_graph_add_binary(graph, add, slot, 0, 1, "block.add", evk_add_record,
                                          &slot), EVK_SUCCESS);
    assert_int_equal(slot, 2);
    return graph;
}

static void test_residual_add(void **state)
{
    tu_gpu *g = *state;
    evk_shape shape = {2, 5, 7, 9};
    evk_graph *graph = residual_graph(g->ctx, 1);
    tu_rng rng = tu_rng_seeded(5);
    uint64_t count = evk_shape_elements(shape);
    float *x = tu_random_array(&rng, count, -1.0f, 1.0f), *ref = malloc(count * sizeof *ref);
    assert_non_null(ref);
    reference(shape, shape, 3, 1, 1, x, ref);
    /* The pool's output and x as stored, their sum rounded once more: the
     * device's add may round twice (float32, then half), so at 16-bit
     * precisions it may differ by one rounding, an ulp: 2 u_s of the sum. */
    for (uint64_t i = 0; i < count; ++i)
        ref[i] = tu_stored(fmaxf((float)((double)tu_stored(ref[i]) + tu_stored(x[i])), 0.0f));
    evk_tensor *tx = tu_tensor(g->ctx, shape, x), *ty = tu_tensor(g->ctx, shape, NULL);
    assert_int_equal(evk_graph_forward(graph, tx, ty), EVK_SUCCESS);
    float *got = tu_download(ty);
    double slack = tu_precision() >= EVK_PRECISION_FP16_STORAGE ? 2.0 * tu_storage_u() : 0.0;
    for (uint64_t i = 0; i < count; ++i)
        assert_true(fabs((double)got[i] - ref[i]) <= slack * fabs(ref[i]));
    evk_graph_stats stats;
    evk_graph_stats_get(graph, &stats);
    assert_int_equal(stats.buffers, 1);     /* slot 1 only; x is read until the add */
    free(x);
    free(got);
    free(ref);
    evk_tensor_destroy(ty);
    evk_graph_destroy(graph);
    /* Stride 2 halves slot 1: the add gets two shapes. */
    graph = residual_graph(g->ctx, 2);
    evk_shape out;
    assert_int_equal(evk_graph_output_shape(graph, shape, &out), EVK_ERROR_SHAPE_MISMATCH);
    tu_assert_message(evk_last_error(g->ctx), EVK_ERROR_SHAPE_MISMATCH, "block.add");
    evk_graph_destroy(graph);
    evk_tensor_destroy(tx);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_max_pool),
        TU_GPU_TEST(test_bad_parameters),
        TU_GPU_TEST(test_residual_add),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
