/* Device tier: host allocation failure injection. An allocator in the
 * context desc fails its Nth allocation; for N = 0, 1, 2, ... the test runs
 * the whole life of a small program (context, conv2d, hetconv and mbconv layers,
 * tensors, upload, forward, download, destroy; once more with a pipeline cache file
 * loaded, saved and written at destruction) until no allocation fails.
 * Every failure must return EVK_ERROR_OUT_OF_HOST_MEMORY with a message,
 * the failed call must be retryable once memory is back (its objects stay
 * usable), the result must be right, and after destroying everything no
 * allocation may be outstanding. The program runs at the test's precision
 * (its checks' bounds are that precision's); AUTO's measurement is failed
 * the same way on its own, first. */
#define _POSIX_C_SOURCE 200809L     /* mkdtemp */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "reference.h"
#include "test_util.h"

/* Pointwise: every context compiles its pipeline again, and this one is
 * quick to compile; its weights take the same allocations as any kernel's. */
static const tu_conv_case conv = {.input = {1, 5, 6, 7}, .out_channels = 6, .kernel_h = 1,
                                  .kernel_w = 1, .activation = EVK_ACTIVATION_SILU, .bias = 1,
                                  .batchnorm = 1};

typedef struct program {
    tu_failing_allocator allocator;
    tu_log log;
    const char *cache_path;         /* NULL: no pipeline cache file */
    evk_context *ctx;
} program;

/* Checks a call's status: success, or an injected failure reported as such;
 * in that case the allocator stops failing and the caller retries. Returns
 * whether the caller must retry. */
static int failed(program *p, evk_status s, const char *call)
{
    if (s == EVK_SUCCESS)
        return 0;
    if (s != EVK_ERROR_OUT_OF_HOST_MEMORY)
        fail_msg("allocation %ld failed: %s returned %s: %s", p->allocator.failures.fail_at, call,
                 evk_status_string(s), evk_last_error(p->ctx));
    tu_assert_message(evk_last_error(p->ctx), EVK_ERROR_OUT_OF_HOST_MEMORY, "alloc");
    p->allocator.failures.fail_at = -1;
    return 1;
}

#define RETRY(p, call) while (failed(p, (call), #call))

static void run_layer(program *p)
{
    tu_conv_weights w;
    tu_conv_weights_make(&w, &conv, 5);
    evk_shape out_shape = {1, 6, 6, 7};
    tu_rng rng = tu_rng_seeded(6);
    float *x = tu_random_array(&rng, evk_shape_elements(conv.input), -1.0f, 1.0f);
    float *y = malloc(evk_shape_elements(out_shape) * sizeof *y);
    assert_non_null(y);
    evk_layer *layer = NULL;
    evk_tensor *in = NULL, *out = NULL;
    RETRY(p, evk_conv2d_create(p->ctx, &w.desc, &layer));
    RETRY(p, evk_tensor_create(p->ctx, conv.input, &in));
    RETRY(p, evk_tensor_create(p->ctx, out_shape, &out));
    RETRY(p, evk_tensor_upload(in, x, evk_shape_elements(conv.input)));
    RETRY(p, evk_layer_forward(layer, in, out));
    RETRY(p, evk_tensor_download(out, y, evk_shape_elements(out_shape)));
    if (p->cache_path)
        RETRY(p, evk_context_save_pipeline_cache(p->ctx));
    tu_assert_conv_output(&w.desc, conv.input, x, y, "conv under allocation failure");
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_layer_destroy(layer);
    tu_conv_weights_free(&w);
    free(x);
    free(y);
}

/* HetConv packs its weights through the context's allocator too; the grouped
 * form takes any weight values. */
static void run_hetconv(program *p)
{
    evk_shape in_shape = {1, 8, 5, 6}, out_shape = {1, 4, 5, 6};
    uint64_t in_count = evk_shape_elements(in_shape), out_count = evk_shape_elements(out_shape);
    tu_rng rng = tu_rng_seeded(7);
    float *gwc = tu_random_array(&rng, 4 * 4 * 9, -0.3f, 0.3f);
    float *pwc = tu_random_array(&rng, 4 * 8, -0.3f, 0.3f);
    float *x = tu_random_array(&rng, in_count, -1.0f, 1.0f);
    float *y = malloc(out_count * sizeof *y), *ref = malloc(out_count * sizeof *ref);
    assert_true(y && ref);
    evk_hetconv_desc desc = {.in_channels = 8, .out_channels = 4, .kernel_size = 3, .part = 2,
                             .gwc = gwc, .gwc_count = 4 * 4 * 9, .pwc = pwc, .pwc_count = 4 * 8};
    evk_layer *layer = NULL;
    evk_tensor *in = NULL, *out = NULL;
    RETRY(p, evk_hetconv_create(p->ctx, &desc, &layer));
    RETRY(p, evk_tensor_create(p->ctx, in_shape, &in));
    RETRY(p, evk_tensor_create(p->ctx, out_shape, &out));
    RETRY(p, evk_tensor_upload(in, x, in_count));
    RETRY(p, evk_layer_forward(layer, in, out));
    RETRY(p, evk_tensor_download(out, y, out_count));
    evk_ref_hetconv(&desc, in_shape, x, ref);
    double max_abs, max_rel;
    evk_ref_compare(y, ref, out_count, 1e-2, &max_abs, &max_rel);
    assert_true(max_abs < 1e-5);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_layer_destroy(layer);
    free(gwc);
    free(pwc);
    free(x);
    free(y);
    free(ref);
}

/* MBConv allocates its packed SE weights, three conv2d layers, and scratch
 * buffers and pipelines on its first forward. */
static void run_mbconv(program *p)
{
    evk_shape shape = {1, 4, 5, 6};
    uint64_t count = evk_shape_elements(shape);
    tu_rng rng = tu_rng_seeded(8);
    float *weights = tu_random_array(&rng, 16 * 4 + 16 * 9 + 2 * 16 + 1 + 16 + 4 * 16, -0.3f, 0.3f);
    float *x = tu_random_array(&rng, count, -1.0f, 1.0f);
    float *y = malloc(count * sizeof *y), *ref = malloc(count * sizeof *ref);
    assert_true(weights && y && ref);
    evk_mbconv_desc desc = {.in_channels = 4, .out_channels = 4, .expand_ratio = 4,
                            .expand_weight = weights, .expand_weight_count = 64,
                            .depthwise_weight = weights + 64, .depthwise_weight_count = 144,
                            .se_fc1_weight = weights + 208, .se_fc1_weight_count = 16,
                            .se_fc2_weight = weights + 224, .se_fc2_weight_count = 16,
                            .se_fc1_bias = weights + 240, .se_fc1_bias_count = 1,
                            .se_fc2_bias = weights + 241, .se_fc2_bias_count = 16,
                            .project_weight = weights + 257, .project_weight_count = 64};
    evk_layer *layer = NULL;
    evk_tensor *in = NULL, *out = NULL;
    RETRY(p, evk_mbconv_create(p->ctx, &desc, &layer));
    RETRY(p, evk_tensor_create(p->ctx, shape, &in));
    RETRY(p, evk_tensor_create(p->ctx, shape, &out));
    RETRY(p, evk_tensor_upload(in, x, count));
    RETRY(p, evk_layer_forward(layer, in, out));
    RETRY(p, evk_tensor_download(out, y, count));
    evk_ref_mbconv(&desc, shape, x, ref);
    double max_abs, max_rel;
    evk_ref_compare(y, ref, count, 1e-2, &max_abs, &max_rel);
    assert_true(max_abs < 1e-5);
    evk_tensor_destroy(in);
    evk_tensor_destroy(out);
    evk_layer_destroy(layer);
    free(weights);
    free(x);
    free(y);
    free(ref);
}

/* Runs the program with allocation `fail_at` failing; returns whether the
 * program reached that allocation. (A failure the library absorbs without
 * an error is fine as long as the results are right.) */
static int run_program(long fail_at, const char *cache_path)
{
    program p;
    memset(&p, 0, sizeof p);
    p.allocator.failures.fail_at = fail_at;
    p.cache_path = cache_path;
    /* The test's precision, which the checks' bounds follow (AUTO would
     * time the precisions and could pick another). */
    evk_context_desc desc = {.allocator = {tu_failing_alloc, tu_failing_free, &p.allocator},
                             .pipeline_cache_path = cache_path,
                             .precision = tu_precision()};
    tu_desc_add_validation(&desc, &p.log);
    evk_status s = evk_context_create(&desc, &p.ctx);
    if (s != EVK_SUCCESS) {
        assert_null(p.ctx);
        failed(&p, s, "evk_context_create");
        assert_int_equal(p.allocator.outstanding, 0);
        return 1;
    }
    run_layer(&p);
    run_hetconv(&p);
    run_mbconv(&p);
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(p.ctx, &stats), EVK_SUCCESS);
    evk_context_destroy(p.ctx);
    assert_int_equal(stats.validation_messages, 0);
    assert_int_equal(p.log.unexpected, 0);
    if (p.allocator.outstanding != 0)
        fail_msg("allocation %ld failed: %ld allocations leaked", fail_at,
                 p.allocator.outstanding);
    return p.allocator.failures.injected;
}

/* Returns how many allocations the program makes. */
static long fail_each_allocation(const char *cache_path)
{
    long n = 0;
    while (run_program(n, cache_path))
        ++n;
    return n;
}

/* AUTO's choice of precision (its timed 1x1 convolutions at each
 * precision) under the same injection: each of its allocations fails
 * once, reported as such or absorbed, and nothing leaks. First in the
 * process: a measurement taken before would be recalled instead. */
static void test_auto_precision_allocation_fails_once(void **state)
{
    (void)state;
    long n = 0;
    for (;; ++n) {
        tu_failing_allocator allocator = {.failures.fail_at = n};
        tu_log log = {0};
        evk_context_desc desc = {.allocator = {tu_failing_alloc, tu_failing_free, &allocator}};
        tu_desc_add_validation(&desc, &log);
        evk_context *ctx = NULL;
        evk_status s = evk_context_create(&desc, &ctx);
        if (s != EVK_SUCCESS) {
            if (s != EVK_ERROR_OUT_OF_HOST_MEMORY)
                fail_msg("allocation %ld failed: evk_context_create returned %s: %s", n,
                         evk_status_string(s), evk_last_error(NULL));
            assert_null(ctx);
        } else {
            evk_precision_choice choice;
            assert_int_equal(evk_context_precision(ctx, &choice), EVK_SUCCESS);
            assert_int_not_equal(choice.chosen, EVK_PRECISION_AUTO);
            evk_context_destroy(ctx);
        }
        if (allocator.outstanding != 0)
            fail_msg("allocation %ld failed: %ld allocations leaked", n, allocator.outstanding);
        if (!allocator.failures.injected)
            break;
    }
    assert_true(n >= 5);
}

static void test_every_allocation_fails_once(void **state)
{
    (void)state;
    /* The program allocates: a loop that ended at once tested nothing. */
    assert_true(fail_each_allocation(NULL) >= 5);
}

/* A first run without failures writes the cache file, so that every
 * program of the loop also reads it (and fails there once). */
static void test_every_allocation_fails_once_with_cache_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/effvk_test_alloc_XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/pipelines.bin", dir);
    assert_false(run_program(-1, path));
    assert_true(fail_each_allocation(path) >= 5);
    int written = access(path, R_OK) == 0;
    unlink(path);
    rmdir(dir);
    assert_true(written);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_auto_precision_allocation_fails_once),
        cmocka_unit_test(test_every_allocation_fails_once),
        cmocka_unit_test(test_every_allocation_fails_once_with_cache_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
