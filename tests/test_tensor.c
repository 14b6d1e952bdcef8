/* Device tier: tensors. Round trips of odd shapes (the packed layout pads
 * channels to 4), zero initialisation, count and shape errors, and sizes
 * beyond the device's buffer limit; with mapped memory and again with every
 * transfer through a staging buffer. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

static const evk_shape odd_shapes[] = {
    {1, 1, 1, 1}, {2, 5, 7, 3}, {3, 13, 1, 17}, {1, 4, 1, 1}, {2, 1, 9, 1},
    {1, 6, 2, 33}, {1, 3, 224, 5}, {4, 9, 3, 2},
};

static float from_bits(uint32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Random values, and at the front values a transfer doing arithmetic would
 * alter: signed zero, subnormals, infinities, a NaN with a payload. */
static float *test_data(size_t n, uint64_t seed)
{
    tu_rng rng = tu_rng_seeded(seed);
    float *data = tu_random_array(&rng, n, -1000.0f, 1000.0f);
    const float special[] = {-0.0f, from_bits(0x00000001), from_bits(0x807fffff), INFINITY,
                             -INFINITY, from_bits(0x7fc12345), FLT_MAX, -FLT_MIN};
    for (size_t i = 0; i < n && i < sizeof special / sizeof special[0]; ++i)
        data[i] = special[i];
    return data;
}

static evk_tensor *create(evk_context *ctx, evk_shape shape)
{
    evk_tensor *t = NULL;
    evk_status s = evk_tensor_create(ctx, shape, &t);
    if (s != EVK_SUCCESS)
        fail_msg("evk_tensor_create %ux%ux%ux%u: %s", shape.n, shape.c, shape.h, shape.w,
                 evk_last_error(ctx));
    evk_shape got = evk_tensor_shape(t);
    assert_memory_equal(&got, &shape, sizeof shape);
    return t;
}

/* Fails unless `out` holds `in` exactly as the precision stores it: bit for
 * bit (signed zeros, subnormals and infinities included; halves round to
 * nearest even and overflow to infinity), NaN as a NaN. */
static void assert_stored(const float *in, const float *out, size_t n, const char *what)
{
    for (size_t i = 0; i < n; ++i) {
        float want = tu_stored(in[i]);
        if (isnan(want) ? isnan(out[i]) : memcmp(&want, &out[i], sizeof want) == 0)
            continue;
        fail_msg("%s: value %zu uploaded as %.9g, downloaded %.9g, stored should be %.9g", what,
                 i, (double)in[i], (double)out[i], (double)want);
    }
}

static void assert_round_trip(evk_context *ctx, evk_shape shape, uint64_t seed)
{
    size_t n = (size_t)evk_shape_elements(shape);
    float *in = test_data(n, seed), *out = malloc(n * sizeof *out);
    assert_non_null(out);
    evk_tensor *t = create(ctx, shape);
    assert_int_equal(evk_tensor_upload(t, in, n), EVK_SUCCESS);
    assert_int_equal(evk_tensor_download(t, out, n), EVK_SUCCESS);
    char what[64];
    snprintf(what, sizeof what, "%ux%ux%ux%u", shape.n, shape.c, shape.h, shape.w);
    assert_stored(in, out, n, what);
    evk_tensor_destroy(t);
    free(in);
    free(out);
}

static void test_round_trips(void **state)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < sizeof odd_shapes / sizeof odd_shapes[0]; ++i)
        assert_round_trip(g->ctx, odd_shapes[i], 100 + i);
}

/* A second upload replaces the first entirely; downloads do not disturb. */
static void test_overwrite_and_repeat(void **state)
{
    tu_gpu *g = *state;
    evk_shape shape = {2, 5, 7, 3};
    size_t n = (size_t)evk_shape_elements(shape);
    float *first = test_data(n, 1), *second = test_data(n, 2), *out = malloc(n * sizeof *out);
    assert_non_null(out);
    evk_tensor *t = create(g->ctx, shape);
    assert_int_equal(evk_tensor_upload(t, first, n), EVK_SUCCESS);
    assert_int_equal(evk_tensor_upload(t, second, n), EVK_SUCCESS);
    for (int i = 0; i < 2; ++i) {
        assert_int_equal(evk_tensor_download(t, out, n), EVK_SUCCESS);
        assert_stored(second, out, n, "second upload");
    }
    evk_tensor_destroy(t);
    free(first);
    free(second);
    free(out);
}

static void assert_all_zero(const evk_tensor *t)
{
    size_t n = (size_t)evk_shape_elements(evk_tensor_shape(t));
    float *out = malloc(n * sizeof *out);
    assert_non_null(out);
    assert_int_equal(evk_tensor_download(t, out, n), EVK_SUCCESS);
    for (size_t i = 0; i < n; ++i)
        if (signbit(out[i]) || out[i] != 0.0f)
            fail_msg("new tensor holds %g at %zu", (double)out[i], i);
    free(out);
}

/* New tensors are zero even where a destroyed tensor's memory held data. */
static void test_new_tensors_are_zero(void **state)
{
    tu_gpu *g = *state;
    for (size_t i = 0; i < sizeof odd_shapes / sizeof odd_shapes[0]; ++i) {
        evk_shape shape = odd_shapes[i];
        size_t n = (size_t)evk_shape_elements(shape);
        float *data = test_data(n, 200 + i);
        evk_tensor *t = create(g->ctx, shape);
        assert_all_zero(t);
        assert_int_equal(evk_tensor_upload(t, data, n), EVK_SUCCESS);
        evk_tensor_destroy(t);
        t = create(g->ctx, shape);
        assert_all_zero(t);
        evk_tensor_destroy(t);
        free(data);
    }
}

static void assert_error(evk_context *ctx, evk_status got, evk_status expected, const char *word)
{
    if (got != expected)
        fail_msg("status %s, expected %s", evk_status_string(got), evk_status_string(expected));
    tu_assert_message(evk_last_error(ctx), expected, word);
}

static void test_wrong_count(void **state)
{
    tu_gpu *g = *state;
    evk_shape shape = {2, 5, 7, 3};
    float data[211] = {0};
    evk_tensor *t = create(g->ctx, shape);
    assert_error(g->ctx, evk_tensor_upload(t, data, 209), EVK_ERROR_SHAPE_MISMATCH, "209");
    assert_error(g->ctx, evk_tensor_upload(t, data, 211), EVK_ERROR_SHAPE_MISMATCH, "211");
    assert_error(g->ctx, evk_tensor_upload(t, data, 0), EVK_ERROR_SHAPE_MISMATCH, "2x5x7x3");
    assert_error(g->ctx, evk_tensor_download(t, data, 209), EVK_ERROR_SHAPE_MISMATCH, "209");
    assert_error(g->ctx, evk_tensor_download(t, data, 211), EVK_ERROR_SHAPE_MISMATCH, "211");
    assert_error(g->ctx, evk_tensor_upload(t, NULL, 210), EVK_ERROR_INVALID_ARGUMENT, "NULL");
    assert_error(g->ctx, evk_tensor_download(t, NULL, 210), EVK_ERROR_INVALID_ARGUMENT, "NULL");
    /* The tensor is unharmed: still zero, and still round-trips. */
    assert_all_zero(t);
    evk_tensor_destroy(t);
    assert_round_trip(g->ctx, shape, 300);
}

static void assert_rejected_shape(evk_context *ctx, evk_shape shape, evk_status expected,
                                  const char *word)
{
    evk_tensor *t = NULL;
    assert_error(ctx, evk_tensor_create(ctx, shape, &t), expected, word);
    assert_null(t);
}

static void test_zero_dimensions(void **state)
{
    tu_gpu *g = *state;
    const evk_shape zero[] = {{0, 1, 1, 1}, {1, 0, 1, 1}, {1, 1, 0, 1}, {1, 1, 1, 0}, {0, 0, 0, 0}};
    for (size_t i = 0; i < sizeof zero / sizeof zero[0]; ++i)
        assert_rejected_shape(g->ctx, zero[i], EVK_ERROR_INVALID_ARGUMENT, "zero");
    assert_int_equal(evk_tensor_create(g->ctx, odd_shapes[0], NULL), EVK_ERROR_INVALID_ARGUMENT);
    assert_round_trip(g->ctx, odd_shapes[1], 400);
}

/* Beyond maxStorageBufferRange (128 MiB on lavapipe) a tensor cannot be
 * bound to a shader: a clear LIMIT_EXCEEDED naming the limit, before any
 * Vulkan call a validation layer could object to. Exactly at the limit it
 * works. Shapes whose byte count overflows 32 or 64 bits must not wrap. */
static void test_beyond_buffer_limit(void **state)
{
    tu_gpu *g = *state;
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(g->ctx, &props), EVK_SUCCESS);
    uint64_t limit = props.max_storage_buffer_range;
    if (props.max_memory_allocation_bytes && props.max_memory_allocation_bytes < limit)
        limit = props.max_memory_allocation_bytes;
    char limit_text[32];
    snprintf(limit_text, sizeof limit_text, "%llu", (unsigned long long)limit);
    /* 4 channels of W pixels take 16 W bytes (8 W as halves). */
    uint64_t quad_bytes = evk_tensor_device_bytes(g->ctx, (evk_shape){1, 4, 1, 1});
    assert_int_equal(quad_bytes, tu_precision() >= EVK_PRECISION_FP16_STORAGE ? 8 : 16);
    evk_shape at_limit = {1, 4, 1, (uint32_t)(limit / quad_bytes)};
    evk_shape beyond = {1, 4, 1, (uint32_t)(limit / quad_bytes) + 1};
    assert_rejected_shape(g->ctx, beyond, EVK_ERROR_LIMIT_EXCEEDED, limit_text);
    evk_shape beyond_32_bits = {1, 4, 65536, 65536};
    assert_rejected_shape(g->ctx, beyond_32_bits, EVK_ERROR_LIMIT_EXCEEDED, limit_text);
    evk_shape beyond_64_bits = {UINT32_MAX, 0xfffffff0u, UINT32_MAX, UINT32_MAX};
    assert_rejected_shape(g->ctx, beyond_64_bits, EVK_ERROR_LIMIT_EXCEEDED, "");
    tu_assert_no_validation_messages(g);
    /* Only where the limit is small enough to allocate in a test. */
    if (limit <= ((uint64_t)256 << 20)) {
        evk_tensor *t = create(g->ctx, at_limit);
        evk_tensor_destroy(t);
    }
    /* The context still works. */
    assert_round_trip(g->ctx, odd_shapes[2], 500);
    tu_conv_case c = {.input = {1, 5, 6, 7}, .out_channels = 3, .kernel_h = 3, .kernel_w = 3};
    tu_run_conv_case(g->ctx, &c, 501);
}

/* Padding UINT32_MAX channels to a multiple of 4 must not wrap to 0. */
static void test_largest_channel_count(void **state)
{
    tu_gpu *g = *state;
    evk_shape max_channels = {1, UINT32_MAX, 1, 1};
    assert_rejected_shape(g->ctx, max_channels, EVK_ERROR_LIMIT_EXCEEDED, "");
    assert_round_trip(g->ctx, odd_shapes[3], 600);
}

static void test_device_bytes_accounted(void **state)
{
    tu_gpu *g = *state;
    evk_context_stats before, during, after;
    evk_shape shape = {3, 13, 1, 17};
    assert_int_equal(evk_context_stats_get(g->ctx, &before), EVK_SUCCESS);
    evk_tensor *t = create(g->ctx, shape);
    assert_int_equal(evk_context_stats_get(g->ctx, &during), EVK_SUCCESS);
    assert_true(during.device_bytes_allocated - before.device_bytes_allocated >=
                evk_tensor_device_bytes(g->ctx, shape));
    evk_tensor_destroy(t);
    assert_int_equal(evk_context_stats_get(g->ctx, &after), EVK_SUCCESS);
    assert_int_equal(after.device_bytes_allocated, before.device_bytes_allocated);
}

int main(void)
{
    /* Every transfer through a staging buffer, as on discrete GPUs. */
    static evk_context_desc staging = {.flags = EVK_CONTEXT_FORCE_STAGING};
    const struct CMUnitTest tests[] = {
        TU_GPU_TEST(test_round_trips),
        TU_GPU_TEST(test_overwrite_and_repeat),
        TU_GPU_TEST(test_new_tensors_are_zero),
        TU_GPU_TEST(test_wrong_count),
        TU_GPU_TEST(test_zero_dimensions),
        TU_GPU_TEST(test_beyond_buffer_limit),
        TU_GPU_TEST(test_largest_channel_count),
        TU_GPU_TEST(test_device_bytes_accounted),
        TU_GPU_TEST_WITH(test_round_trips, staging),
        TU_GPU_TEST_WITH(test_overwrite_and_repeat, staging),
        TU_GPU_TEST_WITH(test_new_tensors_are_zero, staging),
        TU_GPU_TEST_WITH(test_wrong_count, staging),
        TU_GPU_TEST_WITH(test_beyond_buffer_limit, staging),
        TU_GPU_TEST_WITH(test_device_bytes_accounted, staging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
