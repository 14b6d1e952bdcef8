#include "report.h"
#include "precision_option.h"

#include <stdlib.h>
#include <string.h>

/* VkSubgroupFeatureFlagBits by bit position; this header-free spelling keeps
 * the program independent of vulkan.h, as the public API is. */
static const char *const subgroup_operation_names[] = {
    "basic", "vote", "arithmetic", "ballot", "shuffle", "shuffle_relative", "clustered", "quad",
    "partitioned",
};
#define SUBGROUP_OPERATION_COUNT \
    (sizeof subgroup_operation_names / sizeof subgroup_operation_names[0])

const char *device_type_name(evk_device_type type)
{
    switch (type) {
    case EVK_DEVICE_DISCRETE: return "discrete";
    case EVK_DEVICE_INTEGRATED: return "integrated";
    case EVK_DEVICE_CPU: return "cpu";
    case EVK_DEVICE_VIRTUAL: return "virtual";
    default: return "other";
    }
}

void device_api_version_string(uint32_t api_version, char *text, size_t size)
{
    snprintf(text, size, "%u.%u.%u", (api_version >> 22) & 0x7fu, (api_version >> 12) & 0x3ffu,
             api_version & 0xfffu);
}

void device_write_summary_json(json_writer *w, const evk_device_properties *props)
{
    char api[32];
    device_api_version_string(props->api_version, api, sizeof api);
    json_key_string(w, "name", props->name);
    json_key_uint(w, "vendor_id", props->vendor_id);
    json_key_string(w, "device_type", device_type_name(props->type));
    json_key_string(w, "driver_name", props->driver_name);
    json_key_string(w, "driver_info", props->driver_info);
    json_key_string(w, "api_version", api);
    json_key_bool(w, "fp16_storage", props->fp16_storage);
    json_key_bool(w, "fp16_arithmetic", props->fp16_arithmetic);
    json_key_uint(w, "subgroup_size", props->subgroup_size);
}

void device_print_summary(FILE *out, const evk_device_properties *props)
{
    char api[32];
    device_api_version_string(props->api_version, api, sizeof api);
    fprintf(out, "device %u: %s | %s | %s %s | Vulkan %s | subgroup %u\n", props->index,
            props->name, device_type_name(props->type), props->driver_name, props->driver_info,
            api, props->subgroup_size);
}

static void write_uint_triple(json_writer *w, const char *key, const uint32_t values[3])
{
    json_key(w, key);
    json_array_begin(w);
    for (int i = 0; i < 3; ++i)
        json_uint(w, values[i]);
    json_array_end(w);
}

static void write_limits_json(json_writer *w, const evk_device_properties *props)
{
    json_key(w, "limits");
    json_object_begin(w);
    json_key_uint(w, "max_shared_memory_bytes", props->max_shared_memory_bytes);
    write_uint_triple(w, "max_workgroup_count", props->max_workgroup_count);
    write_uint_triple(w, "max_workgroup_size", props->max_workgroup_size);
    json_key_uint(w, "max_workgroup_invocations", props->max_workgroup_invocations);
    json_key_uint(w, "max_storage_buffer_range", props->max_storage_buffer_range);
    json_key_uint(w, "max_push_constants_bytes", props->max_push_constants_bytes);
    json_key_uint(w, "max_memory_allocation_bytes", props->max_memory_allocation_bytes);
    json_key_uint(w, "max_per_stage_storage_buffers", props->max_per_stage_storage_buffers);
    json_key_uint(w, "max_per_stage_sampled_images", props->max_per_stage_sampled_images);
    json_key_uint(w, "min_storage_buffer_offset_alignment",
                  props->min_storage_buffer_offset_alignment);
    json_key_uint(w, "max_texel_buffer_elements", props->max_texel_buffer_elements);
    json_key_string(w, "limits_profile", props->limits_profile[0] ? props->limits_profile
                                                                 : "device");
    json_object_end(w);
}

static void write_subgroup_json(json_writer *w, const evk_device_properties *props)
{
    json_key(w, "subgroup");
    json_object_begin(w);
    json_key_uint(w, "size", props->subgroup_size);
    json_key_uint(w, "min_size", props->subgroup_min_size);
    json_key_uint(w, "max_size", props->subgroup_max_size);
    json_key_uint(w, "operations_mask", props->subgroup_operations);
    json_key(w, "operations");
    json_array_begin(w);
    for (unsigned bit = 0; bit < SUBGROUP_OPERATION_COUNT; ++bit)
        if (props->subgroup_operations & (1u << bit))
            json_string(w, subgroup_operation_names[bit]);
    json_array_end(w);
    json_object_end(w);
}

static void write_heaps_json(json_writer *w, const evk_device_properties *props)
{
    json_key(w, "memory_heaps");
    json_array_begin(w);
    for (uint32_t i = 0; i < props->memory_heap_count && i < EVK_MAX_MEMORY_HEAPS; ++i) {
        json_object_begin(w);
        json_key_uint(w, "bytes", props->memory_heap_bytes[i]);
        json_key_bool(w, "device_local", props->memory_heap_device_local[i]);
        json_object_end(w);
    }
    json_array_end(w);
}

static const char *device_class_name(evk_device_class device_class)
{
    switch (device_class) {
    case EVK_DEVICE_CLASS_CPU: return "cpu";
    case EVK_DEVICE_CLASS_DISCRETE: return "discrete";
    case EVK_DEVICE_CLASS_INTEGRATED: return "integrated";
    default: return "default";
    }
}

static const char *tile_set_name(evk_tile_set tile_set)
{
    return tile_set == EVK_TILE_SET_WIDE ? "wide" : tile_set == EVK_TILE_SET_NARROW ? "narrow"
                                                                                   : "default";
}

/* The profile a context gets on the device with a default desc (and this
 * process's environment variables). */
static void write_profile_json(json_writer *w, const evk_device_properties *props)
{
    evk_device_profile p;
    if (evk_device_profile_for(props, NULL, &p) != EVK_SUCCESS)
        return;
    json_key(w, "profile");
    json_object_begin(w);
    json_key_string(w, "device_class", device_class_name(p.device_class));
    json_key_string(w, "tile_set", tile_set_name(p.tile_set));
    json_key_bool(w, "texel_loads", p.texel_loads == EVK_SWITCH_ON);
    json_key_uint(w, "conv_split_max", p.conv_split_max);
    json_key_uint(w, "conv_split_target_lanes", p.conv_split_target_lanes);
    json_key_uint(w, "pool_lanes", p.pool_lanes);
    json_key_uint(w, "linear_lanes", p.linear_lanes);
    json_key_uint(w, "linear_images", p.linear_images);
    json_key_bool(w, "se_partials_per_lane", p.se_partials_per_lane == EVK_SWITCH_ON);
    json_key_uint(w, "se_shared_pool_above", p.se_shared_pool_above);
    json_key_bool(w, "host_visible_tensors", p.host_visible_tensors == EVK_SWITCH_ON);
    json_key_uint(w, "subgroup_size", p.subgroup_size);
    json_key_string(w, "precision_cap", evk_precision_name(p.precision_cap));
    const evk_device_limits *l = &p.limits;
    json_key(w, "limits");
    json_object_begin(w);
    write_uint_triple(w, "workgroup_count", l->workgroup_count);
    json_key_uint(w, "workgroup_size", l->workgroup_size);
    json_key_uint(w, "workgroup_invocations", l->workgroup_invocations);
    json_key_uint(w, "shared_memory_bytes", l->shared_memory_bytes);
    json_key_uint(w, "push_constants_bytes", l->push_constants_bytes);
    json_key_uint(w, "buffer_bytes", l->buffer_bytes);
    json_key_uint(w, "texel_offset_alignment", l->texel_offset_alignment);
    json_key_uint(w, "texel_buffer_elements", l->texel_buffer_elements);
    json_object_end(w);
    json_object_end(w);
}

void device_write_full_json(json_writer *w, const evk_device_properties *props,
                            const evk_context *ctx)
{
    json_object_begin(w);
    json_key_uint(w, "index", props->index);
    device_write_summary_json(w, props);
    json_key_uint(w, "device_id", props->device_id);
    json_key_uint(w, "driver_version", props->driver_version);
    write_limits_json(w, props);
    write_subgroup_json(w, props);
    json_key_number(w, "timestamp_period_ns", props->timestamp_period_ns);
    write_heaps_json(w, props);
    write_profile_json(w, props);
    if (ctx)
        precision_write_json(w, ctx);
    json_object_end(w);
}

static void print_subgroup(FILE *out, const evk_device_properties *props)
{
    fprintf(out, "  %-22s size %u (min %u, max %u); operations:", "subgroup", props->subgroup_size,
            props->subgroup_min_size, props->subgroup_max_size);
    for (unsigned bit = 0; bit < SUBGROUP_OPERATION_COUNT; ++bit)
        if (props->subgroup_operations & (1u << bit))
            fprintf(out, " %s", subgroup_operation_names[bit]);
    fputc('\n', out);
}

static void print_limits(FILE *out, const evk_device_properties *props)
{
    const uint32_t *count = props->max_workgroup_count, *size = props->max_workgroup_size;
    fprintf(out, "  %-22s %u bytes\n", "shared memory", props->max_shared_memory_bytes);
    fprintf(out, "  %-22s %u x %u x %u\n", "workgroup count", count[0], count[1], count[2]);
    fprintf(out, "  %-22s %u x %u x %u, %u invocations\n", "workgroup size", size[0], size[1],
            size[2], props->max_workgroup_invocations);
    fprintf(out, "  %-22s %u bytes\n", "storage buffer range", props->max_storage_buffer_range);
    fprintf(out, "  %-22s %u bytes\n", "push constants", props->max_push_constants_bytes);
    fprintf(out, "  %-22s %llu bytes\n", "memory allocation",
            (unsigned long long)props->max_memory_allocation_bytes);
    fprintf(out, "  %-22s %u storage buffers, %u sampled images (texel buffers)\n",
            "per shader stage", props->max_per_stage_storage_buffers,
            props->max_per_stage_sampled_images);
    fprintf(out, "  %-22s %u bytes\n", "storage offsets", props->min_storage_buffer_offset_alignment);
    fprintf(out, "  %-22s %s\n", "limits in force",
            props->limits_profile[0] ? props->limits_profile : "the device's");
}

static void print_heaps(FILE *out, const evk_device_properties *props)
{
    for (uint32_t i = 0; i < props->memory_heap_count && i < EVK_MAX_MEMORY_HEAPS; ++i)
        fprintf(out, "  memory heap %-10u %.2f GiB%s\n", i,
                (double)props->memory_heap_bytes[i] / (1024.0 * 1024.0 * 1024.0),
                props->memory_heap_device_local[i] ? ", device-local" : "");
}

static const char *on_off(evk_switch choice)
{
    return choice == EVK_SWITCH_ON ? "on" : "off";
}

/* The profile's choices; of its limits, those the device's above do not show. */
static void print_profile(FILE *out, const evk_device_properties *props)
{
    evk_device_profile p;
    if (evk_device_profile_for(props, NULL, &p) != EVK_SUCCESS)
        return;
    fprintf(out, "  profile (effvk's tuning for this device)\n");
    fprintf(out, "  %-22s %s\n", "device class", device_class_name(p.device_class));
    fprintf(out, "  %-22s %s\n", "tile set", tile_set_name(p.tile_set));
    fprintf(out, "  %-22s %s\n", "texel loads", on_off(p.texel_loads));
    fprintf(out, "  %-22s up to %u per output tile, while a dispatch has under %u lanes\n",
            "conv split lanes", p.conv_split_max, p.conv_split_target_lanes);
    fprintf(out, "  %-22s %u per channel quad\n", "pool lanes", p.pool_lanes);
    fprintf(out, "  %-22s %u per output quad, %u images per weight load\n", "linear lanes",
            p.linear_lanes, p.linear_images);
    fprintf(out, "  %-22s %s\n", "SE partial sums",
            p.se_partials_per_lane == EVK_SWITCH_ON ? "one per lane" : "one per workgroup");
    if (p.se_shared_pool_above == UINT32_MAX)
        fprintf(out, "  %-22s never\n", "SE shared pool");
    else
        fprintf(out, "  %-22s above %u partial sums\n", "SE shared pool", p.se_shared_pool_above);
    fprintf(out, "  %-22s %s\n", "host-visible tensors", on_off(p.host_visible_tensors));
    fprintf(out, "  %-22s %u\n", "sized for subgroup", p.subgroup_size);
    fprintf(out, "  %-22s %s\n", "precision cap (auto)", evk_precision_name(p.precision_cap));
    fprintf(out, "  %-22s %llu bytes\n", "buffer limit", (unsigned long long)p.limits.buffer_bytes);
    fprintf(out, "  %-22s offsets aligned to %u bytes, up to %u texels\n", "texel buffers",
            p.limits.texel_offset_alignment, p.limits.texel_buffer_elements);
}

void device_print_full(FILE *out, const evk_device_properties *props)
{
    char api[32];
    device_api_version_string(props->api_version, api, sizeof api);
    fprintf(out, "device %u: %s\n", props->index, props->name);
    fprintf(out, "  %-22s %s\n", "type", device_type_name(props->type));
    fprintf(out, "  %-22s 0x%04x (device 0x%04x)\n", "vendor id", props->vendor_id,
            props->device_id);
    fprintf(out, "  %-22s %s, %s (version 0x%08x)\n", "driver", props->driver_name,
            props->driver_info, props->driver_version);
    fprintf(out, "  %-22s %s\n", "Vulkan API", api);
    print_limits(out, props);
    print_subgroup(out, props);
    fprintf(out, "  %-22s storage %s, arithmetic %s\n", "fp16",
            props->fp16_storage ? "yes" : "no", props->fp16_arithmetic ? "yes" : "no");
    if (props->timestamp_period_ns > 0.0)
        fprintf(out, "  %-22s %g ns per tick\n", "timestamps", props->timestamp_period_ns);
    else
        fprintf(out, "  %-22s none on the compute queue\n", "timestamps");
    print_heaps(out, props);
    print_profile(out, props);
}

void report_failure(const char *command, const char *what, evk_status status,
                    const char *message)
{
    const char *name = evk_status_string(status);
    size_t length = strlen(name);
    if (strncmp(message, name, length) == 0 && strncmp(message + length, ": ", 2) == 0)
        message += length + 2;
    fprintf(stderr, "effvk %s: ", command);
    if (what)
        fprintf(stderr, "%s: ", what);
    fprintf(stderr, "%s: %s\n", name, *message ? message : "(no message)");
}

enum { USAGE_SHOWN = 0, BAD_USAGE = 2 };

static const char *const log_level_names[] = {"debug", "info", "warning", "error"};

static void log_to_stderr(evk_log_level level, const char *message, void *user_data)
{
    const evk_log_level *threshold = user_data;
    if (level >= *threshold && (unsigned)level < 4)
        fprintf(stderr, "effvk: %s: %s\n", log_level_names[level], message);
}

void report_attach_log(evk_context_desc *desc)
{
    static evk_log_level threshold;
    const char *env = getenv("EFFVK_LOG");
    int chosen = -1;
    for (int i = 0; env && i < 4; ++i)
        if (strcmp(env, log_level_names[i]) == 0)
            chosen = i;
#ifdef __ANDROID__
    if (!env)
        chosen = EVK_LOG_INFO;
#endif
    if (chosen < 0)
        return;
    threshold = (evk_log_level)chosen;
    desc->log = log_to_stderr;
    desc->log_user_data = &threshold;
}

int is_help_option(const char *arg)
{
    return strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0;
}

int print_command_usage(const char *synopsis, const char *options, const char *exit_status)
{
    printf("usage: effvk %s\n\n%s\n%s", synopsis, options, exit_status);
    return USAGE_SHOWN;
}

int report_usage_error(const char *command, const char *problem, const char *argument)
{
    const char *prefix = command ? " " : "";
    command = command ? command : "";
    fprintf(stderr, "effvk%s%s: %s", prefix, command, problem);
    if (argument)
        fprintf(stderr, " '%s'", argument);
    fprintf(stderr, "; see 'effvk%s%s --help'\n", prefix, command);
    return BAD_USAGE;
}
