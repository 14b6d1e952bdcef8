/* Device tier: context lifecycle, device choice (desc and environment),
 * device facts, timestamps, stats, the Android baseline limits profile. */
#define _GNU_SOURCE                 /* setenv, strdup, dl_iterate_phdr, RTLD_NOLOAD */

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_util.h"

#if defined(__linux__) && !defined(__ANDROID__)
#include <dlfcn.h>
#include <link.h>

typedef struct object_names {
    const char *names[1024];
    unsigned count;
} object_names;

static int collect_name(struct dl_phdr_info *info, size_t size, void *data)
{
    (void)size;
    object_names *objects = data;
    if (info->dlpi_name && info->dlpi_name[0] && objects->count < 1024)
        objects->names[objects->count++] = info->dlpi_name;
    return 0;
}

/* Loaded libraries that export the Vulkan driver entry point. */
static unsigned loaded_vulkan_drivers(void)
{
    object_names objects = {.count = 0};
    dl_iterate_phdr(collect_name, &objects);
    unsigned drivers = 0;
    for (unsigned i = 0; i < objects.count; ++i) {
        void *handle = dlopen(objects.names[i], RTLD_LAZY | RTLD_NOLOAD);
        if (handle) {
            drivers += dlsym(handle, "vk_icdGetInstanceProcAddr") != NULL;
            dlclose(handle);
        }
    }
    return drivers;
}
#endif

#define MAKE_VERSION(major, minor) (((uint32_t)(major) << 22) | ((uint32_t)(minor) << 12))

/* More contexts, one after the other, than NVIDIA's driver survives being
 * unloaded and loaded again (11 on driver 580): the library keeps drivers
 * loaded once loaded. */
static void test_create_destroy_repeatedly(void **state)
{
    (void)state;
    for (int i = 0; i < 16; ++i) {
        tu_gpu g;
        tu_gpu_open(&g, NULL);
        evk_device_properties props;
        assert_int_equal(evk_context_device_info(g.ctx, &props), EVK_SUCCESS);
        assert_true(props.name[0] != '\0');
        tu_gpu_close(&g);
    }
#if defined(__linux__) && !defined(__ANDROID__)
    assert_true(loaded_vulkan_drivers() >= 1);
#endif
}

/* "a zeroed desc gives a working context", and so does NULL. */
static void test_null_desc(void **state)
{
    (void)state;
    evk_context *ctx = NULL;
    evk_status s = evk_context_create(NULL, &ctx);
    if (s != EVK_SUCCESS)
        fail_msg("evk_context_create(NULL): %s", evk_last_error(NULL));
    evk_tensor *t = NULL;
    evk_shape shape = {1, 3, 2, 2};
    assert_int_equal(evk_tensor_create(ctx, shape, &t), EVK_SUCCESS);
    evk_tensor_destroy(t);
    evk_context_destroy(ctx);
}

static void assert_plausible(const evk_device_properties *p)
{
    assert_true(p->name[0] != '\0');
    assert_true(p->api_version >= MAKE_VERSION(1, 1));
    assert_in_range(p->type, EVK_DEVICE_OTHER, EVK_DEVICE_CPU);
    /* Vulkan's required minimums, and what the library's kernels assume. */
    assert_true(p->max_shared_memory_bytes >= 16384);
    assert_true(p->max_workgroup_count[0] >= 65535);
    assert_true(p->max_workgroup_count[1] >= 65535 && p->max_workgroup_count[2] >= 65535);
    assert_true(p->max_workgroup_size[0] >= 128 && p->max_workgroup_invocations >= 128);
    assert_true(p->max_storage_buffer_range >= (1u << 27));
    assert_true(p->max_push_constants_bytes >= 128);
    assert_in_range(p->subgroup_size, 4, 128);
    assert_true((p->subgroup_size & (p->subgroup_size - 1)) == 0);
    assert_true(p->subgroup_min_size <= p->subgroup_size && p->subgroup_size <= p->subgroup_max_size);
    assert_true(p->timestamp_period_ns >= 0.0);
    assert_in_range(p->memory_heap_count, 1, EVK_MAX_MEMORY_HEAPS);
    for (uint32_t h = 0; h < p->memory_heap_count; ++h)
        assert_true(p->memory_heap_bytes[h] > 0);
    if (tu_is_lavapipe(p)) {
        assert_int_equal(p->type, EVK_DEVICE_CPU);
        assert_true(p->timestamp_period_ns > 0.0);
        assert_true(p->max_memory_allocation_bytes >= p->max_storage_buffer_range);
    }
}

static void test_device_info(void **state)
{
    (void)state;
    uint32_t count = 0;
    assert_int_equal(evk_device_count(&count), EVK_SUCCESS);
    assert_true(count >= 1);
    for (uint32_t i = 0; i < count; ++i) {
        evk_device_properties p;
        assert_int_equal(evk_device_info(i, &p), EVK_SUCCESS);
        assert_int_equal(p.index, i);
        assert_plausible(&p);
    }
    evk_device_properties p;
    assert_int_equal(evk_device_info(count, &p), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "index");
}

static void test_context_device_info(void **state)
{
    tu_gpu *g = *state;
    evk_device_properties mine, listed;
    assert_int_equal(evk_context_device_info(g->ctx, &mine), EVK_SUCCESS);
    assert_plausible(&mine);
    assert_int_equal(evk_device_info(mine.index, &listed), EVK_SUCCESS);
    assert_string_equal(mine.name, listed.name);
    assert_int_equal(mine.vendor_id, listed.vendor_id);
    assert_int_equal(mine.device_id, listed.device_id);
    assert_int_equal(evk_context_device_info(g->ctx, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

/* The upper-cased middle part of a device name: device_name matching must
 * find it as a case-insensitive substring. */
static void name_pattern(const evk_device_properties *p, char *pattern, size_t size)
{
    if (tu_is_lavapipe(p)) {
        snprintf(pattern, size, "LLVMPIPE");
        return;
    }
    size_t len = strlen(p->name), start = len / 4, n = 0;
    for (; n + 1 < size && start + n < len; ++n)
        pattern[n] = (char)toupper((unsigned char)p->name[start + n]);
    pattern[n] = '\0';
}

static void test_device_by_name(void **state)
{
    (void)state;
    uint32_t count = 0;
    assert_int_equal(evk_device_count(&count), EVK_SUCCESS);
    evk_device_properties last;
    assert_int_equal(evk_device_info(count - 1, &last), EVK_SUCCESS);
    char pattern[9];
    name_pattern(&last, pattern, sizeof pattern);
    evk_context_desc desc = {.device_name = pattern};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    evk_device_properties chosen;
    assert_int_equal(evk_context_device_info(g.ctx, &chosen), EVK_SUCCESS);
    if (!tu_contains(chosen.name, pattern))
        fail_msg("device_name \"%s\" chose \"%s\"", pattern, chosen.name);
    tu_gpu_close(&g);
}

static void test_device_by_index(void **state)
{
    (void)state;
    uint32_t count = 0;
    assert_int_equal(evk_device_count(&count), EVK_SUCCESS);
    evk_context_desc desc = {.use_device_index = 1, .device_index = count - 1};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    evk_device_properties chosen;
    assert_int_equal(evk_context_device_info(g.ctx, &chosen), EVK_SUCCESS);
    assert_int_equal(chosen.index, count - 1);
    tu_gpu_close(&g);
}

static void assert_no_device(const evk_context_desc *base, const char *word)
{
    evk_context_desc desc = *base;
    tu_log log = {0};
    tu_desc_add_validation(&desc, &log);
    evk_context *ctx = NULL;
    assert_int_equal(evk_context_create(&desc, &ctx), EVK_ERROR_NO_DEVICE);
    assert_null(ctx);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_NO_DEVICE, word);
    assert_int_equal(log.unexpected, 0);
}

static void test_no_matching_device(void **state)
{
    (void)state;
    uint32_t count = 0;
    assert_int_equal(evk_device_count(&count), EVK_SUCCESS);
    evk_context_desc by_name = {.device_name = "no-such-device-42"};
    assert_no_device(&by_name, "no-such-device-42");
    evk_context_desc by_index = {.use_device_index = 1, .device_index = count};
    assert_no_device(&by_index, "index");
    by_index.device_index = UINT32_MAX;
    assert_no_device(&by_index, "index");
    /* The failures left nothing behind: a context still comes up. */
    tu_gpu g;
    tu_gpu_open(&g, NULL);
    tu_gpu_close(&g);
}

static void test_gpu_time(void **state)
{
    tu_gpu *g = *state;
    evk_device_properties props;
    assert_int_equal(evk_context_device_info(g->ctx, &props), EVK_SUCCESS);
    if (props.timestamp_period_ns <= 0.0)
        skip();
    tu_conv_case c = {.input = {1, 8, 24, 24}, .out_channels = 8, .kernel_h = 3, .kernel_w = 3,
                      .pad_h = 1, .pad_w = 1};
    tu_run_conv_case(g->ctx, &c, 11);
    double ms = -1.0;
    assert_int_equal(evk_context_last_gpu_ms(g->ctx, &ms), EVK_SUCCESS);
    assert_true(ms > 0.0 && ms < 60000.0);
    assert_int_equal(evk_context_last_gpu_ms(g->ctx, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

static void test_stats(void **state)
{
    tu_gpu *g = *state;
    evk_context_stats before, after;
    assert_int_equal(evk_context_stats_get(g->ctx, &before), EVK_SUCCESS);
    tu_conv_case c = {.input = {1, 3, 5, 5}, .out_channels = 4, .kernel_h = 1, .kernel_w = 1};
    tu_run_conv_case(g->ctx, &c, 12);
    assert_int_equal(evk_context_stats_get(g->ctx, &after), EVK_SUCCESS);
    assert_true(after.pipelines_created >= 1);
    assert_true(after.dispatches_recorded >= 1);
    assert_true(after.submits > before.submits);
    /* Everything the case created is destroyed again. */
    assert_int_equal(after.device_bytes_allocated, before.device_bytes_allocated);
    assert_int_equal(evk_context_stats_get(g->ctx, NULL), EVK_ERROR_INVALID_ARGUMENT);
}

/* The variable's value, to restore it after a test changed it. */
static char *save_env(const char *name)
{
    const char *value = getenv(name);
    return value ? strdup(value) : NULL;
}

static void restore_env(const char *name, char *saved)
{
    if (saved)
        setenv(name, saved, 1);
    else
        unsetenv(name);
    free(saved);
}

/* EFFVK_DEVICE picks by index or name when the desc does not; the desc
 * wins over it. */
static void test_device_from_environment(void **state)
{
    (void)state;
    char *saved = save_env("EFFVK_DEVICE");
    evk_context_desc zero = {0};
    setenv("EFFVK_DEVICE", "no-such-device-42", 1);
    assert_no_device(&zero, "no-such-device-42");
    setenv("EFFVK_DEVICE", "999", 1);
    assert_no_device(&zero, "999");
    evk_device_properties first, chosen;
    assert_int_equal(evk_device_info(0, &first), EVK_SUCCESS);
    evk_context_desc by_name = {.device_name = first.name};
    tu_gpu g;
    tu_gpu_open(&g, &by_name);          /* EFFVK_DEVICE still names nothing */
    tu_gpu_close(&g);
    setenv("EFFVK_DEVICE", "0", 1);
    tu_gpu_open(&g, NULL);
    assert_int_equal(evk_context_device_info(g.ctx, &chosen), EVK_SUCCESS);
    assert_int_equal(chosen.index, 0);
    tu_gpu_close(&g);
    restore_env("EFFVK_DEVICE", saved);
}

/* desc.limits = EVK_LIMITS_ANDROID_BASELINE_2022 lowers the limits the
 * context reads; with storage-buffer loads (the GPU profile) an OctConv's
 * five bindings exceed its four storage buffers, so the kernel reads its
 * inputs as texel buffers instead of failing (scripts/test.sh runs the
 * whole suite under EFFVK_LIMITS against the reference); EFFVK_LIMITS
 * does the same for evk_device_info; a value out of range is refused. */
static void test_android_baseline_limits(void **state)
{
    (void)state;
    char *saved = save_env("EFFVK_LIMITS");
    unsetenv("EFFVK_LIMITS");
    evk_device_properties own, lowered;
    assert_int_equal(evk_device_info(0, &own), EVK_SUCCESS);
    assert_string_equal(own.limits_profile, "");
    evk_device_profile storage_loads = {.texel_loads = EVK_SWITCH_OFF};
    evk_context_desc desc = {.limits = EVK_LIMITS_ANDROID_BASELINE_2022,
                             .profile = &storage_loads};
    tu_gpu g;
    tu_gpu_open(&g, &desc);
    assert_int_equal(evk_context_device_info(g.ctx, &lowered), EVK_SUCCESS);
    assert_string_equal(lowered.limits_profile, "android-baseline-2022");
    assert_true(lowered.max_shared_memory_bytes <= 16384);
    assert_true(lowered.max_workgroup_invocations <= 128);
    assert_true(lowered.max_workgroup_size[2] <= 64);
    assert_true(lowered.max_storage_buffer_range <= 128u << 20);
    assert_true(lowered.max_push_constants_bytes <= 128);
    assert_true(lowered.max_per_stage_storage_buffers <= 4);
    assert_true(lowered.max_per_stage_sampled_images <= 16);
    assert_true(lowered.min_storage_buffer_offset_alignment >= 256);
    assert_int_equal(lowered.fp16_storage, 0);
    evk_device_profile p;
    assert_int_equal(evk_context_profile(g.ctx, &p), EVK_SUCCESS);
    assert_true(p.limits.storage_buffers <= 4 && p.limits.shared_memory_bytes <= 16384);
    static float weight[3 * 3 * 9];     /* each path: 3 -> 3 channels, 3 x 3 */
    for (size_t i = 0; i < sizeof weight / sizeof weight[0]; ++i)
        weight[i] = (float)(i % 7) * 0.1f - 0.3f;
    evk_octconv_desc oct = {.in_channels = 6, .out_channels = 6, .kernel_size = 3, .padding = 1,
                            .alpha_in = 0.5, .alpha_out = 0.5,
                            .weight_hh = weight, .weight_hh_count = 81,
                            .weight_hl = weight, .weight_hl_count = 81,
                            .weight_lh = weight, .weight_lh_count = 81,
                            .weight_ll = weight, .weight_ll_count = 81};
    evk_layer *layer = NULL;
    assert_int_equal(evk_octconv_create(g.ctx, &oct, &layer), EVK_SUCCESS);
    evk_shape high = {1, 3, 8, 8}, low = {1, 3, 4, 4};
    evk_tensor *xh = tu_tensor(g.ctx, high, NULL), *xl = tu_tensor(g.ctx, low, NULL),
               *yh = tu_tensor(g.ctx, high, NULL), *yl = tu_tensor(g.ctx, low, NULL);
    evk_status s = evk_octconv_forward(layer, xh, xl, yh, yl);
    if (s != EVK_SUCCESS)
        fail_msg("OctConv under the baseline limits: %s", evk_last_error(g.ctx));
    evk_tensor_destroy(xh);
    evk_tensor_destroy(xl);
    evk_tensor_destroy(yh);
    evk_tensor_destroy(yl);
    evk_layer_destroy(layer);
    tu_gpu_close(&g);
    setenv("EFFVK_LIMITS", "android-baseline-2022", 1);
    assert_int_equal(evk_device_info(0, &lowered), EVK_SUCCESS);
    assert_string_equal(lowered.limits_profile, "android-baseline-2022");
    assert_true(lowered.max_per_stage_storage_buffers <= 4);
    restore_env("EFFVK_LIMITS", saved);
    evk_context_desc bad = {.limits = (evk_limits_profile)7};
    evk_context *ctx = (evk_context *)&ctx;
    assert_int_equal(evk_context_create(&bad, &ctx), EVK_ERROR_INVALID_ARGUMENT);
    assert_null(ctx);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, "desc.limits");
}

/* EFFVK_VALIDATION=1 turns the layer on without the desc flag. */
static void test_validation_from_environment(void **state)
{
    (void)state;
    char *saved = save_env("EFFVK_VALIDATION");
    setenv("EFFVK_VALIDATION", "1", 1);
    tu_log log = {0};
    evk_context_desc desc = {0};
    tu_desc_add_log(&desc, &log);
    evk_context *ctx = NULL;
    assert_int_equal(evk_context_create(&desc, &ctx), EVK_SUCCESS);
    evk_context_stats stats;
    assert_int_equal(evk_context_stats_get(ctx, &stats), EVK_SUCCESS);
    evk_context_destroy(ctx);
    restore_env("EFFVK_VALIDATION", saved);
    assert_int_equal(stats.validation_enabled, 1);
    assert_int_equal(log.unexpected, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_destroy_repeatedly),
        cmocka_unit_test(test_null_desc),
        cmocka_unit_test(test_device_info),
        TU_GPU_TEST(test_context_device_info),
        cmocka_unit_test(test_device_by_name),
        cmocka_unit_test(test_device_by_index),
        cmocka_unit_test(test_no_matching_device),
        TU_GPU_TEST(test_gpu_time),
        TU_GPU_TEST(test_stats),
        cmocka_unit_test(test_device_from_environment),
        cmocka_unit_test(test_validation_from_environment),
        cmocka_unit_test(test_android_baseline_limits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
