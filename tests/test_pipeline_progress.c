/* Device tier: the context desc's pipeline progress callback. A model graph's
 * first recording announces its new pipelines as one batch with the total
 * known up front, a recording that needs no new pipeline reports nothing, a
 * pipeline created outside a graph is a batch of one; and evk_device_choose
 * names the device a context of the same desc runs on. */
#include <string.h>

#include "eltwise.h"
#include "graph.h"
#include "pool.h"
#include "test_util.h"

#define MAX_CALLS 64

typedef struct progress_log {
    uint32_t created[MAX_CALLS], total[MAX_CALLS];
    uint32_t count;
} progress_log;

static progress_log calls;

static void record_progress(uint32_t created, uint32_t total, void *user_data)
{
    assert_ptr_equal(user_data, &calls);
    assert_true(calls.count < MAX_CALLS);
    calls.created[calls.count] = created;
    calls.total[calls.count] = total;
    calls.count++;
}

static evk_context_desc progress_desc = {.pipeline_progress = record_progress,
                                         .pipeline_progress_user_data = &calls};

static uint32_t pipelines_created(const evk_context *ctx)
{
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(ctx, &stats), EVK_SUCCESS);
    return stats.pipelines_created;
}

/* The calls since the last check are batches of `sizes[0]`, `sizes[1]`, ...
 * pipelines: (0, n), (1, n), ..., (n, n) each. */
static void assert_batches(const uint32_t *sizes, uint32_t batch_count)
{
    uint32_t at = 0;
    for (uint32_t b = 0; b < batch_count; ++b)
        for (uint32_t created = 0; created <= sizes[b]; ++created, ++at) {
            assert_true(at < calls.count);
            assert_int_equal(calls.created[at], created);
            assert_int_equal(calls.total[at], sizes[b]);
        }
    assert_int_equal(calls.count, at);
    memset(&calls, 0, sizeof calls);
}

/* slot 1 = max pool 3x3/1 (x), slot 2 = relu(slot 1 + x), slot 3 = max pool
 * 3x3/2 (slot 2), slot 4 = the global average of slot 3. */
static evk_graph *build_graph(evk_context *ctx)
{
    evk_graph *graph;
    evk_layer *pool, *add, *strided, *average;
    uint32_t slot;
    assert_int_equal(evk_graph_create(ctx, &graph), EVK_SUCCESS);
    assert_int_equal(evk_max_pool_create(ctx, 3, 1, 1, &pool), EVK_SUCCESS);
    assert_int_equal(evk_graph_add(graph, pool, 0, "pool", NULL, &slot), EVK_SUCCESS);
    assert_int_equal(evk_add_create(ctx, EVK_ACTIVATION_RELU, &add), EVK_SUCCESS);
    assert_int_equal(evk_graph_add_binary(graph, add, slot, 0, 1, "add", evk_add_record, &slot),
                     EVK_SUCCESS);
    assert_int_equal(evk_max_pool_create(ctx, 3, 2, 1, &strided), EVK_SUCCESS);
    assert_int_equal(evk_graph_add(graph, strided, slot, "strided", NULL, &slot), EVK_SUCCESS);
    assert_int_equal(evk_global_avg_pool_create(ctx, &average), EVK_SUCCESS);
    assert_int_equal(evk_graph_add(graph, average, slot, "average", NULL, &slot), EVK_SUCCESS);
    return graph;
}

static void test_graph_announces_its_pipelines(void **state)
{
    tu_gpu *g = *state;
    memset(&calls, 0, sizeof calls);
    evk_graph *graph = build_graph(g->ctx);
    evk_shape shape = {2, 5, 9, 7}, out_shape = {2, 5, 1, 1};
    evk_tensor *x = tu_tensor(g->ctx, shape, NULL);
    evk_tensor *y = tu_tensor(g->ctx, out_shape, NULL);
    evk_tensor *other_y = tu_tensor(g->ctx, out_shape, NULL);
    uint32_t before = pipelines_created(g->ctx);
    assert_int_equal(evk_graph_forward(graph, x, y), EVK_SUCCESS);
    uint32_t created = pipelines_created(g->ctx) - before;
    assert_true(created >= 3);          /* max pool, add, average (strides may share one) */
    assert_batches(&created, 1);
    /* Resubmitted, then re-recorded for another output: nothing new. */
    assert_int_equal(evk_graph_forward(graph, x, y), EVK_SUCCESS);
    assert_int_equal(evk_graph_forward(graph, x, other_y), EVK_SUCCESS);
    assert_int_equal(pipelines_created(g->ctx) - before, created);
    assert_batches(NULL, 0);
    evk_tensor_destroy(x);
    evk_tensor_destroy(y);
    evk_tensor_destroy(other_y);
    evk_graph_destroy(graph);
    tu_assert_no_validation_messages(g);
}

/* A layer's forward does not count ahead: each new pipeline is its own batch. */
static void test_layer_pipelines_are_batches_of_one(void **state)
{
    tu_gpu *g = *state;
    memset(&calls, 0, sizeof calls);
    evk_layer *pool;
    assert_int_equal(evk_max_pool_create(g->ctx, 5, 1, 2, &pool), EVK_SUCCESS);
    evk_shape shape = {1, 4, 6, 6};
    evk_tensor *x = tu_tensor(g->ctx, shape, NULL), *y = tu_tensor(g->ctx, shape, NULL);
    uint32_t before = pipelines_created(g->ctx);
    assert_int_equal(evk_layer_forward(pool, x, y), EVK_SUCCESS);
    uint32_t created = pipelines_created(g->ctx) - before;
    assert_true(created >= 1);
    uint32_t ones[MAX_CALLS / 2];
    for (uint32_t i = 0; i < created; ++i)
        ones[i] = 1;
    assert_batches(ones, created);
    assert_int_equal(evk_layer_forward(pool, x, y), EVK_SUCCESS);
    assert_batches(NULL, 0);
    evk_tensor_destroy(x);
    evk_tensor_destroy(y);
    evk_layer_destroy(pool);
    tu_assert_no_validation_messages(g);
}

static void test_device_choose(void **state)
{
    tu_gpu *g = *state;
    evk_device_properties running, chosen;
    assert_int_equal(evk_context_device_info(g->ctx, &running), EVK_SUCCESS);
    assert_int_equal(evk_device_choose(&progress_desc, &chosen), EVK_SUCCESS);
    assert_int_equal(chosen.index, running.index);
    assert_string_equal(chosen.name, running.name);
    assert_string_equal(chosen.driver_name, running.driver_name);
    assert_int_equal(evk_device_choose(NULL, &chosen), EVK_SUCCESS);
    assert_int_equal(chosen.index, running.index);

    uint32_t count;
    assert_int_equal(evk_device_count(&count), EVK_SUCCESS);
    evk_context_desc by_index = {.use_device_index = 1, .device_index = count - 1};
    assert_int_equal(evk_device_choose(&by_index, &chosen), EVK_SUCCESS);
    assert_int_equal(chosen.index, count - 1);
    by_index.device_index = count;
    assert_int_equal(evk_device_choose(&by_index, &chosen), EVK_ERROR_NO_DEVICE);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_NO_DEVICE, "out of range");
    evk_context_desc by_name = {.device_name = "no such device name"};
    assert_int_equal(evk_device_choose(&by_name, &chosen), EVK_ERROR_NO_DEVICE);
    evk_context_desc adopting = {.external = {.device = &chosen}};
    assert_int_equal(evk_device_choose(&adopting, &chosen), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_device_choose(NULL, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST_WITH(test_graph_announces_its_pipelines, progress_desc),
        TU_GPU_TEST_WITH(test_layer_pipelines_are_batches_of_one, progress_desc),
        TU_GPU_TEST_WITH(test_device_choose, progress_desc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
