/* GPU-free tier: the device profile (evk_device_profile_for) of a CPU
 * driver and of GPUs, described by hand-written device properties: the
 * device classes' defaults, the limits in force, the environment variables
 * and the desc's overrides, and out-of-range overrides refused. */
#define _POSIX_C_SOURCE 200809L     /* setenv, unsetenv */

#include <stdlib.h>

#include "test_util.h"

/* Limits of lavapipe, which a CPU-class profile is tuned for. */
static evk_device_properties cpu_device(void)
{
    evk_device_properties p = {.type = EVK_DEVICE_CPU, .vendor_id = 0x10005,
                               .max_shared_memory_bytes = 32768,
                               .max_workgroup_count = {65535, 65535, 65535},
                               .max_workgroup_size = {1024, 1024, 1024},
                               .max_workgroup_invocations = 1024,
                               .max_storage_buffer_range = 134217728,
                               .max_push_constants_bytes = 128,
                               .max_memory_allocation_bytes = 2147483648u,
                               .min_texel_buffer_offset_alignment = 16,
                               .max_texel_buffer_elements = 134217728, .subgroup_size = 8};
    return p;
}

/* Limits of an H200, a discrete GPU. */
static evk_device_properties discrete_device(void)
{
    evk_device_properties p = {.type = EVK_DEVICE_DISCRETE, .vendor_id = 0x10de,
                               .max_shared_memory_bytes = 49152,
                               .max_workgroup_count = {2147483647, 65535, 65535},
                               .max_workgroup_size = {1024, 1024, 64},
                               .max_workgroup_invocations = 1024,
                               .max_storage_buffer_range = 4294967295u,
                               .max_push_constants_bytes = 256,
                               .max_memory_allocation_bytes = 150000000000ull,
                               .min_texel_buffer_offset_alignment = 16,
                               .max_texel_buffer_elements = 134217728, .subgroup_size = 32};
    return p;
}

static evk_device_profile profile_of(const evk_device_properties *device,
                                     const evk_context_desc *desc)
{
    evk_device_profile p;
    evk_status s = evk_device_profile_for(device, desc, &p);
    if (s != EVK_SUCCESS)
        fail_msg("evk_device_profile_for: %s", evk_last_error(NULL));
    return p;
}

static void clear_environment(void)
{
    unsetenv("EFFVK_DEVICE_CLASS");
    unsetenv("EFFVK_TILES");
    unsetenv("EFFVK_TEXEL_LOADS");
}

static int environment_cleared(void **state)
{
    (void)state;
    clear_environment();
    return 0;
}

/* The GPU rows differ only in where tensors live. */
static void assert_gpu_choices(const evk_device_profile *p)
{
    assert_int_equal(p->tile_set, EVK_TILE_SET_NARROW);
    assert_int_equal(p->texel_loads, EVK_SWITCH_OFF);
    assert_int_equal(p->conv_split_max, 16);
    assert_int_equal(p->conv_split_target_lanes, 65536);
    assert_int_equal(p->pool_lanes, 64);
    assert_int_equal(p->linear_lanes, 64);
    assert_int_equal(p->linear_images, 1);
    assert_int_equal(p->se_partials_per_lane, EVK_SWITCH_OFF);
    assert_int_equal(p->se_shared_pool_above, 64);
}

/* The pool, linear and SE reductions of the CPU class. */
static void assert_cpu_reductions(const evk_device_profile *p)
{
    assert_int_equal(p->pool_lanes, 1);
    assert_int_equal(p->linear_lanes, 1);
    assert_int_equal(p->linear_images, 8);
    assert_int_equal(p->se_partials_per_lane, EVK_SWITCH_ON);
    assert_int_equal(p->se_shared_pool_above, UINT32_MAX);
}

static void test_cpu_defaults(void **state)
{
    (void)state;
    evk_device_properties device = cpu_device();
    evk_device_profile p = profile_of(&device, NULL);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_CPU);
    assert_int_equal(p.tile_set, EVK_TILE_SET_WIDE);
    assert_int_equal(p.texel_loads, EVK_SWITCH_ON);
    assert_int_equal(p.conv_split_max, 1);
    assert_int_equal(p.conv_split_target_lanes, 65536);
    assert_cpu_reductions(&p);
    assert_int_equal(p.host_visible_tensors, EVK_SWITCH_ON);
    assert_int_equal(p.subgroup_size, 8);
}

static void test_gpu_defaults(void **state)
{
    (void)state;
    evk_device_properties device = discrete_device();
    evk_device_profile p = profile_of(&device, NULL);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_DISCRETE);
    assert_gpu_choices(&p);
    assert_int_equal(p.host_visible_tensors, EVK_SWITCH_OFF);
    assert_int_equal(p.subgroup_size, 32);
    const evk_device_type shared_memory[] = {EVK_DEVICE_INTEGRATED, EVK_DEVICE_VIRTUAL,
                                             EVK_DEVICE_OTHER};
    for (int i = 0; i < 3; ++i) {
        device.type = shared_memory[i];
        p = profile_of(&device, NULL);
        assert_int_equal(p.device_class, EVK_DEVICE_CLASS_INTEGRATED);
        assert_gpu_choices(&p);
        assert_int_equal(p.host_visible_tensors, EVK_SWITCH_ON);
    }
    device.subgroup_size = 0;
    assert_int_equal(profile_of(&device, NULL).subgroup_size, 8);
}

static void test_limits(void **state)
{
    (void)state;
    evk_device_properties device = discrete_device();
    evk_device_profile p = profile_of(&device, NULL);
    assert_int_equal(p.limits.workgroup_count[0], 2147483647);
    assert_int_equal(p.limits.workgroup_count[1], 65535);
    assert_int_equal(p.limits.workgroup_size, 1024);
    assert_int_equal(p.limits.workgroup_invocations, 1024);
    assert_int_equal(p.limits.shared_memory_bytes, 49152);
    assert_int_equal(p.limits.push_constants_bytes, 256);
    assert_int_equal(p.limits.buffer_bytes, 4294967295u);     /* the smaller of the two */
    assert_int_equal(p.limits.texel_offset_alignment, 16);
    assert_int_equal(p.limits.texel_buffer_elements, 134217728);
    evk_context_desc desc = {.max_workgroup_count = 1000};
    p = profile_of(&device, &desc);
    for (int d = 0; d < 3; ++d)
        assert_int_equal(p.limits.workgroup_count[d], 1000);
    device = cpu_device();
    assert_int_equal(profile_of(&device, NULL).limits.buffer_bytes, 134217728);
}

/* EFFVK_TILES changes the tiles and the conv split that follows them
 * alone: the pool, linear and SE reductions keep the class's. */
static void test_environment(void **state)
{
    (void)state;
    evk_device_properties device = cpu_device();
    setenv("EFFVK_TILES", "narrow", 1);
    setenv("EFFVK_TEXEL_LOADS", "0", 1);
    evk_device_profile p = profile_of(&device, NULL);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_CPU);
    assert_int_equal(p.tile_set, EVK_TILE_SET_NARROW);
    assert_int_equal(p.conv_split_max, 16);
    assert_int_equal(p.texel_loads, EVK_SWITCH_OFF);
    assert_cpu_reductions(&p);
    clear_environment();

    setenv("EFFVK_DEVICE_CLASS", "integrated", 1);
    p = profile_of(&device, NULL);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_INTEGRATED);
    assert_gpu_choices(&p);
    assert_int_equal(p.host_visible_tensors, EVK_SWITCH_ON);
    setenv("EFFVK_DEVICE_CLASS", "discrete", 1);
    assert_int_equal(profile_of(&device, NULL).host_visible_tensors, EVK_SWITCH_OFF);
    clear_environment();

    device = discrete_device();
    setenv("EFFVK_DEVICE_CLASS", "cpu", 1);
    p = profile_of(&device, NULL);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_CPU);
    assert_int_equal(p.tile_set, EVK_TILE_SET_WIDE);
    assert_int_equal(p.texel_loads, EVK_SWITCH_ON);
    assert_cpu_reductions(&p);
    setenv("EFFVK_TILES", "wide", 1);
    unsetenv("EFFVK_DEVICE_CLASS");
    p = profile_of(&device, NULL);
    assert_int_equal(p.tile_set, EVK_TILE_SET_WIDE);
    assert_int_equal(p.conv_split_max, 1);
    assert_int_equal(p.pool_lanes, 64);
    clear_environment();

    /* Values other than the documented ones are ignored. */
    setenv("EFFVK_DEVICE_CLASS", "gpu", 1);
    setenv("EFFVK_TILES", "Wide", 1);
    setenv("EFFVK_TEXEL_LOADS", "yes", 1);
    p = profile_of(&device, NULL);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_DISCRETE);
    assert_gpu_choices(&p);
    clear_environment();
}

/* Each non-zero field of desc.profile replaces its field, over the
 * environment too; zero fields keep the defaults. */
static void test_desc_overrides(void **state)
{
    (void)state;
    evk_device_properties device = discrete_device();
    evk_device_profile requested = {.device_class = EVK_DEVICE_CLASS_CPU,
                                    .tile_set = EVK_TILE_SET_NARROW, .conv_split_max = 4,
                                    .conv_split_target_lanes = 1000, .pool_lanes = 16,
                                    .linear_lanes = 2, .linear_images = 3,
                                    .se_partials_per_lane = EVK_SWITCH_OFF,
                                    .se_shared_pool_above = 5,
                                    .host_visible_tensors = EVK_SWITCH_OFF, .subgroup_size = 4};
    evk_context_desc desc = {.profile = &requested};
    setenv("EFFVK_TILES", "wide", 1);
    setenv("EFFVK_DEVICE_CLASS", "integrated", 1);
    evk_device_profile p = profile_of(&device, &desc);
    clear_environment();
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_CPU);
    assert_int_equal(p.tile_set, EVK_TILE_SET_NARROW);
    assert_int_equal(p.texel_loads, EVK_SWITCH_ON);     /* not requested: the CPU class's */
    assert_int_equal(p.conv_split_max, 4);
    assert_int_equal(p.conv_split_target_lanes, 1000);
    assert_int_equal(p.pool_lanes, 16);
    assert_int_equal(p.linear_lanes, 2);
    assert_int_equal(p.linear_images, 3);
    assert_int_equal(p.se_partials_per_lane, EVK_SWITCH_OFF);
    assert_int_equal(p.se_shared_pool_above, 5);
    assert_int_equal(p.host_visible_tensors, EVK_SWITCH_OFF);
    assert_int_equal(p.subgroup_size, 4);

    evk_device_profile nothing = {0};
    desc.profile = &nothing;
    p = profile_of(&device, &desc);
    assert_int_equal(p.device_class, EVK_DEVICE_CLASS_DISCRETE);
    assert_gpu_choices(&p);
}

static void assert_refused(const evk_device_profile *requested, const char *word)
{
    evk_device_properties device = cpu_device();
    evk_context_desc desc = {.profile = requested};
    evk_device_profile p;
    assert_int_equal(evk_device_profile_for(&device, &desc, &p), EVK_ERROR_INVALID_ARGUMENT);
    tu_assert_message(evk_last_error(NULL), EVK_ERROR_INVALID_ARGUMENT, word);
}

static void test_out_of_range(void **state)
{
    (void)state;
    assert_refused(&(evk_device_profile){.device_class = 4}, "device_class");
    assert_refused(&(evk_device_profile){.tile_set = 3}, "tile_set");
    assert_refused(&(evk_device_profile){.texel_loads = 3}, "texel_loads");
    assert_refused(&(evk_device_profile){.se_partials_per_lane = 3}, "se_partials_per_lane");
    assert_refused(&(evk_device_profile){.host_visible_tensors = 3}, "host_visible_tensors");
    assert_refused(&(evk_device_profile){.conv_split_max = 65}, "conv_split_max");
    assert_refused(&(evk_device_profile){.linear_images = 65}, "linear_images");
    assert_refused(&(evk_device_profile){.pool_lanes = 48}, "pool_lanes");
    assert_refused(&(evk_device_profile){.pool_lanes = 2048}, "pool_lanes");
    assert_refused(&(evk_device_profile){.linear_lanes = 3}, "linear_lanes");
    assert_refused(&(evk_device_profile){.limits = {.buffer_bytes = 1}}, "limits");

    evk_device_properties device = cpu_device();
    evk_device_profile p;
    assert_int_equal(evk_device_profile_for(NULL, NULL, &p), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_device_profile_for(&device, NULL, NULL), EVK_ERROR_INVALID_ARGUMENT);
    assert_int_equal(evk_context_profile(NULL, &p), EVK_ERROR_INVALID_ARGUMENT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_cpu_defaults, environment_cleared),
        cmocka_unit_test_setup(test_gpu_defaults, environment_cleared),
        cmocka_unit_test_setup(test_limits, environment_cleared),
        cmocka_unit_test_setup(test_environment, environment_cleared),
        cmocka_unit_test_setup(test_desc_overrides, environment_cleared),
        cmocka_unit_test_setup(test_out_of_range, environment_cleared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
