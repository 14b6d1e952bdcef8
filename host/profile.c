#include <stdlib.h>
#include <string.h>

#include "profile.h"
#include "status.h"

/* One row of the table of device classes: the defaults of every choice on
 * the devices of `device_class` (of one vendor, or of all with vendor_id 0).
 * The first row that matches a device wins, so a vendor's rows go before
 * their class's general one. The measurements behind the values are at the
 * fields of evk_device_profile in effvk.h. */
typedef struct class_row {
    evk_device_class device_class;
    uint32_t vendor_id;
    /* Unset: device_class, conv_split_max (the tile set's), subgroup_size
     * and limits. */
    evk_device_profile defaults;
} class_row;

enum { SPLIT_TARGET_LANES = 65536 };

static const class_row class_table[] = {
    {EVK_DEVICE_CLASS_CPU, 0,
     {.tile_set = EVK_TILE_SET_WIDE, .texel_loads = EVK_SWITCH_ON,
      .conv_split_target_lanes = SPLIT_TARGET_LANES, .pool_lanes = 1, .linear_lanes = 1,
      .linear_images = 8, .se_partials_per_lane = EVK_SWITCH_ON,
      .se_shared_pool_above = UINT32_MAX, .host_visible_tensors = EVK_SWITCH_ON}},
    {EVK_DEVICE_CLASS_DISCRETE, 0,
     {.tile_set = EVK_TILE_SET_NARROW, .texel_loads = EVK_SWITCH_OFF,
      .conv_split_target_lanes = SPLIT_TARGET_LANES, .pool_lanes = 64, .linear_lanes = 64,
      .linear_images = 1, .se_partials_per_lane = EVK_SWITCH_OFF, .se_shared_pool_above = 64,
      .host_visible_tensors = EVK_SWITCH_OFF}},
    {EVK_DEVICE_CLASS_INTEGRATED, 0,
     {.tile_set = EVK_TILE_SET_NARROW, .texel_loads = EVK_SWITCH_OFF,
      .conv_split_target_lanes = SPLIT_TARGET_LANES, .pool_lanes = 64, .linear_lanes = 64,
      .linear_images = 1, .se_partials_per_lane = EVK_SWITCH_OFF, .se_shared_pool_above = 64,
      .host_visible_tensors = EVK_SWITCH_ON}},
};

/* Drivers that report 16-bit floats but compute with them wrongly, after
 * what ncnn's users and its device table report (docs/precision.md): the
 * first row whose vendor matches and whose driver_version is below
 * `driver_below` (UINT32_MAX: every version) caps EVK_PRECISION_AUTO. The
 * version bounds are this table's own conservative choice where the
 * reports say only "old drivers"; a desc's profile.precision_cap overrides. */
typedef struct precision_row {
    uint32_t vendor_id;
    uint32_t driver_below;
    evk_precision cap;
    const char *why;
} precision_row;

static const precision_row precision_table[] = {
    /* Arm Mali: 16-bit storage off on old drivers (wrong results), before
     * r26p0 here (driver_version's major field). */
    {0x13B5, 26u << 22, EVK_PRECISION_FP32, "old Mali drivers store 16-bit floats wrongly"},
    /* Qualcomm Adreno: half arithmetic "yields wrong result" on old
     * drivers; all of them before 512.500 here. */
    {0x5143, 512u << 22 | 500u << 12, EVK_PRECISION_FP16_STORAGE,
     "old Adreno drivers compute half arithmetic wrongly"},
    /* Imagination PowerVR Rogue: large errors of half arithmetic reported
     * on every driver seen. */
    {0x1010, UINT32_MAX, EVK_PRECISION_FP16_STORAGE,
     "PowerVR's half arithmetic errs far beyond half precision"},
};

const char *evk_precision_cap_for(const evk_device_properties *device, evk_precision *cap)
{
    for (size_t i = 0; i < sizeof precision_table / sizeof precision_table[0]; ++i) {
        const precision_row *r = &precision_table[i];
        if (r->vendor_id == device->vendor_id &&
            (r->driver_below == UINT32_MAX || device->driver_version < r->driver_below)) {
            *cap = r->cap;
            return r->why;
        }
    }
    *cap = EVK_PRECISION_FP16;
    return NULL;
}

enum { MAX_CONV_SPLIT = 64, MAX_LINEAR_IMAGES = 64, DEFAULT_SUBGROUP_SIZE = 8 };

/* The conv reduction split follows the tile set: a split keeps every lane's
 * accumulators in shared memory, which the wide tiles' 64 vec4 per lane
 * would overflow on every device. */
enum { NARROW_TILES_SPLIT_MAX = 16 };

/* Which of `words` the environment variable `name` holds, counted from 1;
 * 0 when it is unset or holds anything else. */
static int env_choice(const char *name, const char *const *words, int count)
{
    const char *env = getenv(name);
    for (int i = 0; env && i < count; ++i)
        if (strcmp(env, words[i]) == 0)
            return i + 1;
    return 0;
}

static evk_device_class class_of(const evk_device_properties *device, evk_device_class requested)
{
    static const char *const names[] = {"cpu", "discrete", "integrated"};
    static const evk_device_class classes[] = {EVK_DEVICE_CLASS_CPU, EVK_DEVICE_CLASS_DISCRETE,
                                               EVK_DEVICE_CLASS_INTEGRATED};
    if (requested != EVK_DEVICE_CLASS_DEFAULT)
        return requested;
    int env = env_choice("EFFVK_DEVICE_CLASS", names, 3);
    if (env)
        return classes[env - 1];
    switch (device->type) {
    case EVK_DEVICE_CPU: return EVK_DEVICE_CLASS_CPU;
    case EVK_DEVICE_DISCRETE: return EVK_DEVICE_CLASS_DISCRETE;
    default: return EVK_DEVICE_CLASS_INTEGRATED;
    }
}

static const class_row *row_for(evk_device_class device_class, uint32_t vendor_id)
{
    const class_row *row = NULL;
    for (size_t i = 0; i < sizeof class_table / sizeof class_table[0] && !row; ++i)
        if (class_table[i].device_class == device_class &&
            (class_table[i].vendor_id == 0 || class_table[i].vendor_id == vendor_id))
            row = &class_table[i];
    return row;
}

static void apply_environment(evk_device_profile *p)
{
    static const char *const tile_sets[] = {"wide", "narrow"};
    static const char *const switches[] = {"1", "0"};
    int tiles = env_choice("EFFVK_TILES", tile_sets, 2);
    int texel_loads = env_choice("EFFVK_TEXEL_LOADS", switches, 2);
    if (tiles)
        p->tile_set = tiles == 1 ? EVK_TILE_SET_WIDE : EVK_TILE_SET_NARROW;
    if (texel_loads)
        p->texel_loads = texel_loads == 1 ? EVK_SWITCH_ON : EVK_SWITCH_OFF;
}

static int is_power_of_two(uint32_t value)
{
    return value && (value & (value - 1)) == 0;
}

static int all_zero(const void *bytes, size_t size)
{
    const unsigned char *b = bytes;
    for (size_t i = 0; i < size; ++i)
        if (b[i])
            return 0;
    return 1;
}

/* A field of desc.profile: 0 (the default) or a value up to `max`, a power
 * of two where the kernels' halving reductions need one. */
typedef struct requested_field {
    const char *name;
    uint32_t value, max;
    int power_of_two;
} requested_field;

static evk_status check_requested(evk_context *ctx, const evk_device_profile *r,
                                  const evk_device_properties *device)
{
    uint32_t max_lanes = device->max_workgroup_size[0] < device->max_workgroup_invocations
                             ? device->max_workgroup_size[0] : device->max_workgroup_invocations;
    const requested_field fields[] = {
        {"device_class", (uint32_t)r->device_class, EVK_DEVICE_CLASS_INTEGRATED, 0},
        {"tile_set", (uint32_t)r->tile_set, EVK_TILE_SET_NARROW, 0},
        {"texel_loads", (uint32_t)r->texel_loads, EVK_SWITCH_OFF, 0},
        {"se_partials_per_lane", (uint32_t)r->se_partials_per_lane, EVK_SWITCH_OFF, 0},
        {"host_visible_tensors", (uint32_t)r->host_visible_tensors, EVK_SWITCH_OFF, 0},
        {"precision_cap", (uint32_t)r->precision_cap, EVK_PRECISION_FP16, 0},
        {"conv_split_max", r->conv_split_max, MAX_CONV_SPLIT, 0},
        {"linear_images", r->linear_images, MAX_LINEAR_IMAGES, 0},
        {"pool_lanes", r->pool_lanes, max_lanes, 1},
        {"linear_lanes", r->linear_lanes, max_lanes, 1},
    };
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; ++i) {
        const requested_field *f = &fields[i];
        if (f->value > f->max || (f->value && f->power_of_two && !is_power_of_two(f->value)))
            return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "desc.profile: %s is %u; it must be "
                            "0 (the default) or %s up to %u", f->name, f->value,
                            f->power_of_two ? "a power of two" : "a value", f->max);
    }
    if (!all_zero(&r->limits, sizeof r->limits))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "desc.profile: the limits are the "
                        "device's and must be zero (desc.max_workgroup_count lowers the grid)");
    return EVK_SUCCESS;
}

static void apply_requested(evk_device_profile *p, const evk_device_profile *r)
{
    if (r->tile_set)
        p->tile_set = r->tile_set;
    if (r->texel_loads)
        p->texel_loads = r->texel_loads;
    if (r->conv_split_max)
        p->conv_split_max = r->conv_split_max;
    if (r->conv_split_target_lanes)
        p->conv_split_target_lanes = r->conv_split_target_lanes;
    if (r->pool_lanes)
        p->pool_lanes = r->pool_lanes;
    if (r->linear_lanes)
        p->linear_lanes = r->linear_lanes;
    if (r->linear_images)
        p->linear_images = r->linear_images;
    if (r->se_partials_per_lane)
        p->se_partials_per_lane = r->se_partials_per_lane;
    if (r->se_shared_pool_above)
        p->se_shared_pool_above = r->se_shared_pool_above;
    if (r->host_visible_tensors)
        p->host_visible_tensors = r->host_visible_tensors;
    if (r->subgroup_size)
        p->subgroup_size = r->subgroup_size;
    if (r->precision_cap)
        p->precision_cap = r->precision_cap;
}

static evk_device_limits limits_of(const evk_device_properties *device,
                                   uint32_t max_workgroup_count)
{
    evk_device_limits l = {
        .workgroup_size = device->max_workgroup_size[0],
        .workgroup_invocations = device->max_workgroup_invocations,
        .shared_memory_bytes = device->max_shared_memory_bytes,
        .push_constants_bytes = device->max_push_constants_bytes,
        .buffer_bytes = device->max_storage_buffer_range,
        .texel_offset_alignment = device->min_texel_buffer_offset_alignment,
        .texel_buffer_elements = device->max_texel_buffer_elements,
        .storage_buffers = device->max_per_stage_storage_buffers,
        .sampled_images = device->max_per_stage_sampled_images};
    for (int d = 0; d < 3; ++d) {
        l.workgroup_count[d] = device->max_workgroup_count[d];
        if (max_workgroup_count && max_workgroup_count < l.workgroup_count[d])
            l.workgroup_count[d] = max_workgroup_count;
    }
    if (device->max_memory_allocation_bytes && device->max_memory_allocation_bytes < l.buffer_bytes)
        l.buffer_bytes = device->max_memory_allocation_bytes;
    return l;
}

evk_status evk_profile_choose(evk_context *ctx, const evk_device_properties *device,
                              const evk_context_desc *desc, evk_device_profile *out)
{
    static const evk_device_profile nothing_requested;
    const evk_device_profile *requested = desc->profile ? desc->profile : &nothing_requested;
    evk_status s = check_requested(ctx, requested, device);
    if (s != EVK_SUCCESS)
        return s;
    evk_device_class device_class = class_of(device, requested->device_class);
    evk_device_profile p = row_for(device_class, device->vendor_id)->defaults;
    p.device_class = device_class;
    p.subgroup_size = device->subgroup_size ? device->subgroup_size : DEFAULT_SUBGROUP_SIZE;
    evk_precision_cap_for(device, &p.precision_cap);
    apply_environment(&p);
    apply_requested(&p, requested);
    if (!requested->conv_split_max)
        p.conv_split_max = p.tile_set == EVK_TILE_SET_WIDE ? 1 : NARROW_TILES_SPLIT_MAX;
    p.limits = limits_of(device, desc->max_workgroup_count);
    *out = p;
    return EVK_SUCCESS;
}

evk_status evk_device_profile_for(const evk_device_properties *device, const evk_context_desc *desc,
                                  evk_device_profile *out)
{
    static const evk_context_desc defaults;
    if (!device || !out)
        return evk_fail(NULL, EVK_ERROR_INVALID_ARGUMENT, "evk_device_profile_for: device or out "
                        "is NULL");
    return evk_profile_choose(NULL, device, desc ? desc : &defaults, out);
}

/* ---- The tuning rules. */

const evk_tile_limits *evk_tile_limits_for(const evk_device_profile *profile)
{
    /* Wide: measured on lavapipe (see conv2d.c, hetconv.c and octconv.c),
     * at most 64 vec4 accumulators per lane, where twice that ran the
     * headline set no faster and took twice as long to compile (CPU drivers
     * compile at the first dispatch; bench/results/README.md, "Wide tiles and
     * compile time"). Narrow: at most 8 vec4 accumulators per lane. */
    static const evk_tile_limits wide = {16, 4, 40, 16, 4, 8, 4, 16, 8, 64, 40, 16};
    static const evk_tile_limits narrow = {4, 2, 12, 4, 2, 4, 1, 4, 2, 8, 12, 4};
    return profile->tile_set == EVK_TILE_SET_WIDE ? &wide : &narrow;
}

uint32_t evk_workgroup_size_for(const evk_device_profile *profile, uint32_t items)
{
    enum { MAX_WORKGROUP = 64 };
    uint32_t sub = profile->subgroup_size;
    uint32_t wg = (items / sub + (items % sub != 0)) * sub;
    if (wg > MAX_WORKGROUP)
        wg = MAX_WORKGROUP;
    return wg > sub ? wg : sub;
}

evk_lane_plan evk_lane_plan_for(const evk_device_profile *profile, uint32_t plane_tiles,
                                uint64_t all_tiles, uint32_t steps)
{
    enum { SPLIT_WORKGROUP = 64 };
    uint32_t split = 1;
    while (2 * split <= profile->conv_split_max &&
           all_tiles * split < profile->conv_split_target_lanes && steps >= 4 * split)
        split *= 2;
    uint32_t wg = split > 1 ? SPLIT_WORKGROUP : evk_workgroup_size_for(profile, plane_tiles);
    return (evk_lane_plan){split, wg, wg / split};
}

int evk_texel_range_fits(const evk_device_limits *l, uint64_t offset, uint64_t range,
                         uint32_t texel_bytes)
{
    return l->texel_offset_alignment && offset % l->texel_offset_alignment == 0 &&
           range % texel_bytes == 0 && range / texel_bytes <= l->texel_buffer_elements;
}

int evk_texel_range_usable(const evk_device_profile *profile, uint64_t offset, uint64_t range,
                           uint32_t texel_bytes)
{
    return profile->texel_loads == EVK_SWITCH_ON &&
           evk_texel_range_fits(&profile->limits, offset, range, texel_bytes);
}
