/* Device tier: the pipeline cache file. Written at destruction and on
 * request, loaded by the next context; ignored silently (and rebuilt) when
 * truncated, corrupt, or written for another device or driver; clear errors
 * for saving without a path or to an unwritable one, and for a path that is a
 * folder or a FIFO, refused at creation without blocking.
 *
 * The file starts with the 8-byte magic "EFFVKPC1", then u32 vendor id, u32
 * device id, u32 driver version, u32 reserved, char driver_info[256]. */
#define _POSIX_C_SOURCE 200809L     /* mkdtemp */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_util.h"

enum { OFFSET_VENDOR = 8, OFFSET_DEVICE = 12, OFFSET_DRIVER_VERSION = 16, OFFSET_DRIVER_INFO = 24,
       HEADER_PREFIX_BYTES = 280 };

typedef struct fixture {
    char dir[64];
    char path[96];
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/effvk_test_cache_XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof f->path, "%s/pipelines.bin", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    unlink(f->path);
    rmdir(f->dir);
    free(f);
    return 0;
}

static const tu_conv_case pointwise = {.input = {1, 5, 4, 3}, .out_channels = 6, .kernel_h = 1,
                                       .kernel_w = 1, .activation = EVK_ACTIVATION_RELU};
static const tu_conv_case dense = {.input = {1, 5, 9, 7}, .out_channels = 6, .kernel_h = 3,
                                   .kernel_w = 3, .pad_h = 1, .pad_w = 1,
                                   .activation = EVK_ACTIVATION_SILU, .bias = 1};
static const tu_conv_case depthwise = {.input = {1, 6, 7, 7}, .out_channels = 6, .groups = 6,
                                       .kernel_h = 3, .kernel_w = 3, .pad_h = 1, .pad_w = 1};

/* Opens a context on `path`, checks whether it loaded the file, runs a
 * convolution correctly, and destroys it (which writes the file). Each
 * context compiles its pipelines again on lavapipe, so it is a cheap one. */
static void run_with_cache(const char *path, int expect_loaded)
{
    evk_context_desc desc = {.pipeline_cache_path = path};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(g.ctx, &stats), EVK_SUCCESS);
    if (stats.pipeline_cache_loaded != expect_loaded)
        fail_msg("pipeline_cache_loaded %d, expected %d", stats.pipeline_cache_loaded,
                 expect_loaded);
    tu_run_conv_case(g.ctx, &pointwise, 1);
    tu_gpu_close(&g);
}

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    assert_true(n > 0);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc((size_t)n);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *size = (size_t)n;
    return data;
}

static void write_file(const char *path, const void *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, size, f), size);
    assert_int_equal(fclose(f), 0);
}

/* A valid file from a context run, in memory. */
static unsigned char *good_file(const char *path, size_t *size)
{
    run_with_cache(path, 0);
    unsigned char *data = read_file(path, size);
    assert_true(*size > HEADER_PREFIX_BYTES);
    assert_memory_equal(data, "EFFVKPC1", 8);
    return data;
}

static void test_written_and_loaded(void **state)
{
    fixture *f = *state;
    run_with_cache(f->path, 0);
    assert_int_equal(access(f->path, R_OK), 0);
    run_with_cache(f->path, 1);
    run_with_cache(f->path, 1);
}

static void test_saved_on_request(void **state)
{
    fixture *f = *state;
    evk_context_desc desc = {.pipeline_cache_path = f->path};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    tu_run_conv_case(g.ctx, &pointwise, 3);
    assert_int_equal(evk_context_save_pipeline_cache(g.ctx), EVK_SUCCESS);
    /* Another context loads it while the first still runs. */
    tu_gpu other;
    tu_gpu_open(&other, &desc);
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(other.ctx, &stats), EVK_SUCCESS);
    assert_int_equal(stats.pipeline_cache_loaded, 1);
    tu_run_conv_case(other.ctx, &pointwise, 4);
    tu_gpu_close(&other);
    tu_gpu_close(&g);
}

/* Damaged files are ignored, and the next destruction writes a good one. */
static void test_damaged_file_ignored(void **state)
{
    fixture *f = *state;
    size_t size;
    unsigned char *good = good_file(f->path, &size);
    const size_t lengths[] = {0, 7, 100, HEADER_PREFIX_BYTES + 40, size - 1};
    for (size_t i = 0; i < sizeof lengths / sizeof lengths[0]; ++i) {
        write_file(f->path, good, lengths[i]);
        run_with_cache(f->path, 0);
    }
    run_with_cache(f->path, 1);
    unsigned char *damaged = malloc(size);
    assert_non_null(damaged);
    memcpy(damaged, good, size);
    damaged[3] ^= 0x20;                 /* the magic */
    write_file(f->path, damaged, size);
    run_with_cache(f->path, 0);
    tu_rng rng = tu_rng_seeded(5);      /* noise of the right length */
    for (size_t i = 0; i < size; ++i)
        damaged[i] = (unsigned char)tu_uniform(&rng, 0.0f, 256.0f);
    write_file(f->path, damaged, size);
    run_with_cache(f->path, 0);
    run_with_cache(f->path, 1);
    free(damaged);
    free(good);
}

/* Whatever the driver makes of damaged cache data after a valid header,
 * results stay right and nothing reaches the validation layer. The damage
 * starts 64 bytes past the documented header prefix, beyond the library's
 * own header fields, in the driver's data. */
static void test_damaged_driver_data(void **state)
{
    fixture *f = *state;
    size_t size;
    unsigned char *data = good_file(f->path, &size);
    assert_true(size > HEADER_PREFIX_BYTES + 64);
    for (size_t i = HEADER_PREFIX_BYTES + 64; i < size; i += 7)
        data[i] ^= 0x5a;
    write_file(f->path, data, size);
    evk_context_desc desc = {.pipeline_cache_path = f->path};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    tu_run_conv_case(g.ctx, &dense, 6);
    tu_run_conv_case(g.ctx, &depthwise, 7);
    tu_gpu_close(&g);
    free(data);
}

/* A file from another device, driver version or driver build is stale:
 * loaded == 0, pipelines rebuilt silently, and the file rewritten. */
static void test_other_device_or_driver_ignored(void **state)
{
    fixture *f = *state;
    size_t size;
    unsigned char *good = good_file(f->path, &size);
    const size_t offsets[] = {OFFSET_VENDOR, OFFSET_DEVICE, OFFSET_DRIVER_VERSION,
                              OFFSET_DRIVER_INFO, OFFSET_DRIVER_INFO + 5};
    for (size_t i = 0; i < sizeof offsets / sizeof offsets[0]; ++i) {
        good[offsets[i]] ^= 0x01;
        write_file(f->path, good, size);
        good[offsets[i]] ^= 0x01;
        run_with_cache(f->path, 0);
    }
    run_with_cache(f->path, 1);
    free(good);
}

static void test_save_without_path(void **state)
{
    (void)state;
    tu_gpu g;
    tu_gpu_open(&g, NULL);
    assert_int_equal(evk_context_save_pipeline_cache(g.ctx), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(g.ctx), EVK_ERROR_INVALID_ARGUMENT, "cache");
    tu_run_conv_case(g.ctx, &pointwise, 8);
    tu_gpu_close(&g);
}

static void assert_unwritable(const char *path)
{
    evk_context_desc desc = {.pipeline_cache_path = path};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    tu_run_conv_case(g.ctx, &pointwise, 9);
    assert_int_equal(evk_context_save_pipeline_cache(g.ctx), EVK_ERROR_IO);
    tu_assert_message(evk_last_error(g.ctx), EVK_ERROR_IO, path);
    /* The failure leaves the context working; destruction, which tries to
     * save again, reports nothing but that error. */
    tu_run_conv_case(g.ctx, &pointwise, 10);
    tu_gpu_close(&g);
}

static void test_unwritable_path(void **state)
{
    fixture *f = *state;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/missing/pipelines.bin", f->dir);
    assert_unwritable(missing);
}

/* A path that names a folder or a FIFO could never hold the cache: creation
 * fails at once (a FIFO opened for reading would wait for a writer), and
 * the node is left as it was. */
static void assert_refused_at_creation(const char *path)
{
    evk_context_desc desc = {.pipeline_cache_path = path};
    evk_context *ctx;
    assert_int_equal(evk_context_create(&desc, &ctx), EVK_ERROR_IO);
    assert_null(ctx);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, "not a regular file");
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_IO, path);
}

static void test_not_a_regular_file(void **state)
{
    fixture *f = *state;
    assert_refused_at_creation(f->dir);
    assert_int_equal(mkfifo(f->path, 0644), 0);
    alarm(10);
    assert_refused_at_creation(f->path);
    alarm(0);
    struct stat info;
    assert_int_equal(stat(f->path, &info), 0);
    assert_true(S_ISFIFO(info.st_mode));
}

int main(void)
{
#define CACHE_TEST(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        CACHE_TEST(test_written_and_loaded),
        CACHE_TEST(test_saved_on_request),
        CACHE_TEST(test_damaged_file_ignored),
        CACHE_TEST(test_damaged_driver_data),
        CACHE_TEST(test_other_device_or_driver_ignored),
        CACHE_TEST(test_save_without_path),
        CACHE_TEST(test_unwritable_path),
        CACHE_TEST(test_not_a_regular_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
