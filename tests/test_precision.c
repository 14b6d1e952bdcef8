/* Device tier: the context's precision. What AUTO chooses and why (on
 * lavapipe, whose halves are emulated: fp32), the measurement kept beside
 * the pipeline cache and found again, EFFVK_PRECISION, a precision the
 * device or the limits profile cannot run refused, the profile's cap, and
 * halves stored by tensors: half the bytes, rounded to nearest even. */
#define _POSIX_C_SOURCE 200809L     /* mkdtemp, setenv */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_util.h"

static evk_context *open_context(evk_context_desc desc, tu_log *log)
{
    tu_desc_add_validation(&desc, log);
    evk_context *ctx = NULL;
    if (evk_context_create(&desc, &ctx) != EVK_SUCCESS)
        fail_msg("evk_context_create: %s", evk_last_error(NULL));
    return ctx;
}

static evk_precision_choice choice_of(const evk_context *ctx)
{
    evk_precision_choice c;
    assert_int_equal(evk_context_precision(ctx, &c), EVK_SUCCESS);
    assert_int_not_equal(c.chosen, EVK_PRECISION_AUTO);
    assert_true(c.reason[0] != '\0');
    return c;
}

static void test_names(void **state)
{
    (void)state;
    assert_string_equal(evk_precision_name(EVK_PRECISION_AUTO), "auto");
    assert_string_equal(evk_precision_name(EVK_PRECISION_FP32), "fp32");
    assert_string_equal(evk_precision_name(EVK_PRECISION_FP16_STORAGE), "fp16-storage");
    assert_string_equal(evk_precision_name(EVK_PRECISION_FP16), "fp16");
    assert_string_equal(evk_precision_name((evk_precision)9), "?");
    assert_true(evk_tensor_device_bytes(NULL, (evk_shape){1, 1, 1, 1}) == UINT64_MAX);
}

/* AUTO measures every precision the device offers and explains its pick;
 * lavapipe emulates half arithmetic, and its halves are no faster. */
static void test_auto_measures(void **state)
{
    (void)state;
    tu_log log = {0};
    evk_context *ctx = open_context((evk_context_desc){0}, &log);
    evk_precision_choice c = choice_of(ctx);
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(ctx, &props), EVK_SUCCESS);
    assert_int_equal(c.requested, EVK_PRECISION_AUTO);
    if (props.fp16_storage) {
        assert_true(c.measured_ms[EVK_PRECISION_FP32] > 0.0);
        assert_true(c.measured_ms[EVK_PRECISION_FP16_STORAGE] > 0.0);
        assert_true(tu_contains(c.reason, "fastest of"));
        print_message("AUTO: %s (%s)\n", evk_precision_name(c.chosen), c.reason);
    } else {
        assert_int_equal(c.chosen, EVK_PRECISION_FP32);
    }
    if (tu_is_lavapipe(&props))
        assert_int_equal(c.chosen, EVK_PRECISION_FP32);
    evk_context_destroy(ctx);
    assert_int_equal(log.unexpected, 0);
}

/* The measurement lands in a file beside the pipeline cache; a file that
 * says fp16-storage is ten times faster makes AUTO choose it. */
static void test_kept_measurement(void **state)
{
    (void)state;
    char dir[] = "/tmp/effvk-precision-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char cache[128];
    snprintf(cache, sizeof cache, "%s/pipelines.bin", dir);
    tu_log log = {0};
    evk_context *ctx = open_context((evk_context_desc){.pipeline_cache_path = cache}, &log);
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(ctx, &props), EVK_SUCCESS);
    evk_context_destroy(ctx);
    if (!props.fp16_storage) {
        skip();
    }
    char kept[192];
    snprintf(kept, sizeof kept, "%s/effvk-precision-%04x-%04x-%08x.txt", dir, props.vendor_id,
             props.device_id, props.driver_version);
    FILE *f = fopen(kept, "r");
    assert_non_null(f);
    char header[128];
    assert_non_null(fgets(header, sizeof header, f));
    fclose(f);
    assert_true(tu_contains(header, "precision timings"));
    /* A measurement of this library version saying halves are 10x faster. */
    f = fopen(kept, "w");
    assert_non_null(f);
    fprintf(f, "%s1 1.0\n2 0.1\n3 0.5\n", header);
    fclose(f);
    ctx = open_context((evk_context_desc){.pipeline_cache_path = cache}, &log);
    evk_precision_choice c = choice_of(ctx);
    assert_int_equal(c.kept, 1);
    assert_int_equal(c.chosen, EVK_PRECISION_FP16_STORAGE);
    assert_true(tu_contains(c.reason, "earlier measurement"));
    evk_context_destroy(ctx);
    /* Another version's file is measured again and replaced. */
    f = fopen(kept, "w");
    assert_non_null(f);
    fprintf(f, "effvk 0.0.0 precision timings\n1 1.0\n2 0.1\n3 0.1\n");
    fclose(f);
    ctx = open_context((evk_context_desc){.pipeline_cache_path = cache}, &log);
    c = choice_of(ctx);
    assert_true(c.measured_ms[EVK_PRECISION_FP32] != 1.0);
    evk_context_destroy(ctx);
    f = fopen(kept, "r");
    assert_non_null(f);
    char replaced[128];
    assert_non_null(fgets(replaced, sizeof replaced, f));
    fclose(f);
    assert_string_equal(replaced, header);
    assert_int_equal(log.unexpected, 0);
    unlink(kept);
    unlink(cache);
    rmdir(dir);
}

static void test_requested(void **state)
{
    (void)state;
    tu_log log = {0};
    evk_context *ctx = open_context((evk_context_desc){.precision = EVK_PRECISION_FP32}, &log);
    evk_precision_choice c = choice_of(ctx);
    assert_int_equal(c.chosen, EVK_PRECISION_FP32);
    assert_true(tu_contains(c.reason, "desc.precision"));
    evk_context_destroy(ctx);
    setenv("EFFVK_PRECISION", "fp32", 1);
    ctx = open_context((evk_context_desc){0}, &log);
    c = choice_of(ctx);
    assert_int_equal(c.requested, EVK_PRECISION_FP32);
    assert_true(tu_contains(c.reason, "EFFVK_PRECISION"));
    evk_context_destroy(ctx);
    unsetenv("EFFVK_PRECISION");
    assert_int_equal(log.unexpected, 0);
}

static void test_refused(void **state)
{
    (void)state;
    evk_context *ctx = NULL;
    evk_context_desc bad = {.precision = (evk_precision)4};
    assert_int_equal(evk_context_create(&bad, &ctx), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "desc.precision");
    /* Android's baseline has no 16-bit storage. */
    evk_context_desc android = {.precision = EVK_PRECISION_FP16_STORAGE,
                                .limits = EVK_LIMITS_ANDROID_BASELINE_2022};
    assert_int_equal(evk_context_create(&android, &ctx), EVK_ERROR_UNSUPPORTED);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_UNSUPPORTED, "16-bit storage");
    assert_null(ctx);
    tu_log log = {0};
    ctx = open_context((evk_context_desc){.limits = EVK_LIMITS_ANDROID_BASELINE_2022}, &log);
    evk_precision_choice c = choice_of(ctx);
    assert_int_equal(c.chosen, EVK_PRECISION_FP32);
    assert_true(tu_contains(c.reason, "limits profile"));
    evk_context_destroy(ctx);
    assert_int_equal(log.unexpected, 0);
}

/* The profile's cap keeps AUTO at fp32 without measuring. */
static void test_profile_cap(void **state)
{
    (void)state;
    evk_device_profile cap = {.precision_cap = EVK_PRECISION_FP32};
    tu_log log = {0};
    evk_context *ctx = open_context((evk_context_desc){.profile = &cap}, &log);
    evk_precision_choice c = choice_of(ctx);
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(ctx, &props), EVK_SUCCESS);
    assert_int_equal(c.chosen, EVK_PRECISION_FP32);
    if (props.fp16_storage) {
        assert_true(tu_contains(c.reason, "desc.profile"));
        assert_true(c.measured_ms[EVK_PRECISION_FP32] == 0.0);
    }
    evk_device_profile profile;
    assert_int_equal(evk_context_profile(ctx, &profile), EVK_SUCCESS);
    assert_int_equal(profile.precision_cap, EVK_PRECISION_FP32);
    evk_context_destroy(ctx);
    evk_device_profile out_of_range = {.precision_cap = (evk_precision)5};
    assert_int_equal(evk_context_create(&(evk_context_desc){.profile = &out_of_range}, &ctx),
                     EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(log.unexpected, 0);
}

/* Halves: half the bytes; every value rounds to nearest even, overflows to
 * infinity, keeps its sign and NaN-ness. */
static void test_half_tensors(void **state)
{
    (void)state;
    tu_log log = {0};
    evk_device_properties props;
    assert_int_equal(evk_device_info(0, &props), EVK_SUCCESS);
    if (!props.fp16_storage)
        skip();
    evk_context *ctx = open_context((evk_context_desc){.precision = EVK_PRECISION_FP16_STORAGE},
                                    &log);
    evk_shape shape = {2, 5, 3, 7};
    assert_int_equal(evk_tensor_device_bytes(ctx, shape), evk_shape_device_bytes(shape) / 2);
    size_t n = (size_t)evk_shape_elements(shape);
    float *in = malloc(n * sizeof *in), *out = malloc(n * sizeof *out);
    assert_true(in && out);
    const float special[] = {65504.0f, 65519.0f, 65520.0f, -70000.0f, 0x1p-24f, 0x1p-25f,
                             0x1.8p-25f, -0.0f, NAN, 1.0f + 0x1p-11f, 1.0f + 0x1.8p-11f,
                             2049.0f, 2051.0f};
    tu_rng rng = tu_rng_seeded(7);
    for (size_t i = 0; i < n; ++i)
        in[i] = i < sizeof special / sizeof special[0] ? special[i]
                                                        : tu_uniform(&rng, -300.0f, 300.0f);
    evk_tensor *t = tu_tensor(ctx, shape, in);
    assert_int_equal(evk_tensor_download(t, out, n), EVK_SUCCESS);
    const float rounded[] = {65504.0f, 65504.0f, INFINITY, -INFINITY, 0x1p-24f, 0.0f,
                             0x1p-24f, -0.0f, NAN, 1.0f, 1.0f + 0x1p-10f, 2048.0f, 2052.0f};
    for (size_t i = 0; i < n; ++i) {
        float want = i < sizeof rounded / sizeof rounded[0] ? rounded[i] : tu_round_to_half(in[i]);
        if (isnan(want) ? !isnan(out[i]) : memcmp(&want, &out[i], sizeof want) != 0)
            fail_msg("value %zu: %.9g stored as %.9g, want %.9g", i, (double)in[i],
                     (double)out[i], (double)want);
    }
    evk_tensor_destroy(t);
    free(in);
    free(out);
    evk_context_destroy(ctx);
    assert_int_equal(log.unexpected, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_auto_measures),
        cmocka_unit_test(test_kept_measurement),
        cmocka_unit_test(test_requested),
        cmocka_unit_test(test_refused),
        cmocka_unit_test(test_profile_cap),
        cmocka_unit_test(test_half_tensors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
