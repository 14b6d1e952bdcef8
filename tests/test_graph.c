/* Device tier: the graph executor on a graph that branches (a slot read by
 * two layers, a slot nobody reads) of 1x1 convolutions: the liveness plan's
 * buffers, the output against the CPU reference, and the recording reused,
 * re-recorded for other tensors and re-planned for another shape. */
#include <math.h>
#include <stdlib.h>

#include "graph.h"
#include "reference.h"
#include "test_util.h"

/* Layer i maps channels[i][0] to channels[i][1], reading slot input[i]:
 *   0: slot 0 -> 1 (3 -> 8)     1: slot 1 -> 2 (8 -> 16)
 *   2: slot 1 -> 3 (8 -> 4)     3: slot 2 -> 4 (16 -> 4, never read)
 *   4: slot 3 -> 5 (4 -> 6, the output) */
#define LAYERS 5
static const uint32_t channels[LAYERS][2] = {{3, 8}, {8, 16}, {8, 4}, {16, 4}, {4, 6}};
static const uint32_t inputs[LAYERS] = {0, 1, 1, 2, 3};

typedef struct graph_case {
    evk_conv2d_desc desc[LAYERS];
    float *weight[LAYERS];
} graph_case;

static evk_graph *build(evk_context *ctx, graph_case *c)
{
    tu_rng rng = tu_rng_seeded(77);
    evk_graph *graph;
    assert_int_equal(evk_graph_create(ctx, &graph), EVK_SUCCESS);
    for (uint32_t i = 0; i < LAYERS; ++i) {
        c->weight[i] = tu_random_array(&rng, channels[i][0] * channels[i][1], -0.5f, 0.5f);
        c->desc[i] = (evk_conv2d_desc){.in_channels = channels[i][0],
                                       .out_channels = channels[i][1], .kernel_h = 1,
                                       .kernel_w = 1, .activation = EVK_ACTIVATION_SILU,
                                       .weight = c->weight[i],
                                       .weight_count = channels[i][0] * channels[i][1]};
        evk_layer *layer;
        uint32_t slot;
        assert_int_equal(evk_conv2d_create(ctx, &c->desc[i], &layer), EVK_SUCCESS);
        assert_int_equal(evk_graph_add(graph, layer, inputs[i], "conv", NULL, &slot), EVK_SUCCESS);
        assert_int_equal(slot, i + 1);
    }
    return graph;
}

/* Layers 0, 2 and 4: the path to the output. */
static float *reference(const graph_case *c, evk_shape shape, const float *x)
{
    static const int path[3] = {0, 2, 4};
    float *in = NULL;
    const float *cur = x;
    for (int p = 0; p < 3; ++p) {
        const evk_conv2d_desc *d = &c->desc[path[p]];
        float *out = malloc((size_t)shape.n * d->out_channels * shape.h * shape.w * sizeof *out);
        assert_non_null(out);
        evk_ref_conv2d(d, shape, cur, out);
        shape.c = d->out_channels;
        free(in);
        in = out;
        cur = out;
    }
    return in;
}

static void run_and_check(evk_context *ctx, evk_graph *graph, const graph_case *c, evk_shape shape)
{
    tu_rng rng = tu_rng_seeded(shape.h);
    float *x = tu_random_array(&rng, evk_shape_elements(shape), -1.0f, 1.0f);
    evk_shape out_shape = {shape.n, 6, shape.h, shape.w}, got_shape;
    assert_int_equal(evk_graph_output_shape(graph, shape, &got_shape), EVK_SUCCESS);
    assert_true(got_shape.c == 6 && got_shape.h == shape.h);
    evk_tensor *tx = tu_tensor(ctx, shape, x), *ty = tu_tensor(ctx, out_shape, NULL);
    assert_int_equal(evk_graph_forward(graph, tx, ty), EVK_SUCCESS);
    float *got = tu_download(ty), *ref = reference(c, shape, x);
    for (uint64_t i = 0; i < evk_shape_elements(out_shape); ++i)
        assert_true(fabs(got[i] - ref[i]) < 1e-4);
    free(x);
    free(got);
    free(ref);
    evk_tensor_destroy(tx);
    evk_tensor_destroy(ty);
}

static void test_branching_graph(void **state)
{
    tu_gpu *g = *state;
    graph_case c;
    evk_graph *graph = build(g->ctx, &c);
    evk_graph_stats stats;
    evk_shape shape = {2, 3, 9, 7};
    run_and_check(g->ctx, graph, &c, shape);
    run_and_check(g->ctx, graph, &c, shape);
    evk_graph_stats_get(graph, &stats);
    /* Slots 1, 2, 3 live at once; slot 4 reuses slot 1's buffer (free
     * after layer 2) and frees it at once, nobody reading it. */
    assert_int_equal(stats.buffers, 3);
    assert_int_equal(stats.layers, LAYERS);
    assert_int_equal(stats.recordings, 2);      /* new tensors each run */
    uint64_t plane = 2 * 9 * 7 * 16;            /* one channel quad, bytes */
    assert_int_equal(stats.unplanned_bytes, plane * (2 + 4 + 1 + 1));
    assert_int_equal(stats.planned_bytes, plane * (2 + 4 + 1));
    run_and_check(g->ctx, graph, &c, (evk_shape){1, 3, 13, 5});
    evk_graph_stats_get(graph, &stats);
    assert_int_equal(stats.recordings, 3);
    evk_graph_destroy(graph);
    for (uint32_t i = 0; i < LAYERS; ++i)
        free(c.weight[i]);
    tu_assert_no_validation_messages(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_branching_graph),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
