/* `effvk bench --device all`: every Vulkan device of the machine in turn (a
 * laptop's integrated and discrete GPU, a GPU and lavapipe), each a run of
 * its own writing its own JSON file, so that `effvk report` puts them side
 * by side. */
#include <stdio.h>
#include <string.h>

#include "bench_run.h"
#include "report.h"

/* `pattern` with each "%d" replaced by `index`; -1 when it does not fit. */
static int expand_pattern(const char *pattern, uint32_t index, char *path, size_t size)
{
    size_t used = 0;
    for (const char *at = pattern; *at; ++at) {
        int written;
        if (at[0] == '%' && at[1] == 'd') {
            written = snprintf(path + used, size - used, "%u", index);
            ++at;
        } else {
            written = snprintf(path + used, size - used, "%c", *at);
        }
        if (written < 0 || (size_t)written >= size - used)
            return -1;
        used += (size_t)written;
    }
    return 0;
}

/* One file per device: with more than one, the pattern must say where the
 * index goes, and the JSON cannot all go to stdout. */
static int check_json_pattern(const char *pattern, uint32_t device_count)
{
    if (!pattern || device_count < 2 || strstr(pattern, "%d"))
        return 0;
    fprintf(stderr,
            "effvk bench: --device all writes one JSON file per device: with %u devices "
            "--json needs a pattern with %%d for the device index (e.g. --json "
            "results-%%d.json), not '%s'\n",
            device_count, pattern);
    return -1;
}

/* The worst of the devices' outcomes: an error over a failed check over
 * success. */
static int combine(int code, int device_code)
{
    if (code == BENCH_EXIT_ERROR || device_code == BENCH_EXIT_ERROR)
        return BENCH_EXIT_ERROR;
    return device_code != BENCH_EXIT_OK ? device_code : code;
}

static int run_every_device(const bench_options *options)
{
    uint32_t count = 0;
    evk_status s = evk_device_count(&count);
    if (s != EVK_SUCCESS) {
        report_failure("bench", "counting the devices", s, evk_last_error(NULL));
        return BENCH_EXIT_ERROR;
    }
    if (count == 0) {
        fprintf(stderr, "effvk bench: --device all: no Vulkan devices\n");
        return BENCH_EXIT_ERROR;
    }
    if (check_json_pattern(options->json_path, count) != 0)
        return BENCH_EXIT_ERROR;
    int code = BENCH_EXIT_OK;
    for (uint32_t i = 0; i < count; ++i) {
        bench_options one = *options;
        char path[BENCH_PATH_SIZE], label[32] = "";
        one.all_devices = 0;
        one.use_device_index = 1;
        one.device_index = i;
        if (options->json_path && strcmp(options->json_path, "-") != 0) {
            if (expand_pattern(options->json_path, i, path, sizeof path) != 0) {
                fprintf(stderr, "effvk bench: --json: the path is too long\n");
                return BENCH_EXIT_ERROR;
            }
            one.json_path = path;
        }
        if (count > 1)
            snprintf(label, sizeof label, "device %u/%u, ", i + 1, count);
        if (i > 0)
            putchar('\n');
        code = combine(code, bench_run_device(&one, label));
    }
    return code;
}

int bench_main(const bench_options *options)
{
    return options->all_devices ? run_every_device(options) : bench_run_device(options, "");
}
