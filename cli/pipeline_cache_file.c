/* mkdir, stat, access and isatty are POSIX, not C11; must precede every include. */
#define _POSIX_C_SOURCE 200809L
#include "pipeline_cache_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


/* The cache folder; NULL when the environment names none. The XDG base
 * directory spec says a relative $XDG_CACHE_HOME is invalid and ignored. */
static const char *cache_folder(char *folder, size_t size)
{
    const char *own = getenv("EFFVK_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int length;
    if (own && own[0])
        length = snprintf(folder, size, "%s", own);
    else if (xdg && xdg[0] == '/')
        length = snprintf(folder, size, "%s/effvk", xdg);
    else if (home && home[0])
        length = snprintf(folder, size, "%s/.cache/effvk", home);
    else
        return NULL;
    return length > 0 && (size_t)length < size ? folder : NULL;
}

/* Creates `folder` and its missing parents (mkdir -p). Mode 0700: what the
 * XDG spec asks of the cache home, and nobody else needs the cache. Returns
 * 0 when `folder` is a folder afterwards, else -1 with errno set. */
static int make_folders(char *folder)
{
    for (char *at = folder + 1;; ++at) {
        if (*at != '/' && *at != '\0')
            continue;
        char end = *at;
        *at = '\0';
        int failed = mkdir(folder, 0700) != 0 && errno != EEXIST;
        *at = end;
        if (failed)
            return -1;
        if (end == '\0')
            break;
    }
    struct stat st;
    if (stat(folder, &st) != 0)
        return -1;
    errno = ENOTDIR;
    return S_ISDIR(st.st_mode) ? 0 : -1;
}

/* Lower-case letters and digits of `text`, every other run as one '-', at
 * most 64 characters, appended to `out`. */
static void append_sanitised(char *out, size_t size, const char *text)
{
    size_t at = strlen(out), added = 0;
    int dash = 0;
    for (; *text && added < 64 && at + 2 < size; ++text) {
        char c = *text;
        int keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (c >= 'A' && c <= 'Z') {
            c = (char)(c - 'A' + 'a');
            keep = 1;
        }
        if (!keep) {
            dash = added > 0;
            continue;
        }
        if (dash)
            out[at++] = '-';
        out[at++] = c;
        added += 1 + dash;
        dash = 0;
    }
    out[at] = '\0';
}

void use_pipeline_cache(const char *command, int enabled, pipeline_cache_file *file,
                        evk_context_desc *desc)
{
    file->path[0] = '\0';
    if (!enabled)
        return;
    char folder[sizeof file->path - 160];
    if (!cache_folder(folder, sizeof folder)) {
        fprintf(stderr, "effvk %s: running without a pipeline cache: none of EFFVK_CACHE_DIR, "
                "XDG_CACHE_HOME and HOME names a folder\n", command);
        return;
    }
    if (make_folders(folder) != 0 || access(folder, W_OK | X_OK) != 0) {
        fprintf(stderr, "effvk %s: running without a pipeline cache: cannot use the folder "
                "%s: %s\n", command, folder, strerror(errno));
        return;
    }
    /* A device that cannot be chosen fails the context's creation, which
     * says why. */
    evk_device_properties device;
    if (evk_device_choose(desc, &device) != EVK_SUCCESS)
        return;
    /* One file per device and driver, named after them rather than after
     * the device index, which changes when devices come and go: one shared
     * file would be ignored (its header names another device) and rewritten
     * by each device in turn. Identical devices share a file, which is valid
     * for all of them. */
    snprintf(file->path, sizeof file->path, "%s/pipelines-", folder);
    append_sanitised(file->path, sizeof file->path, device.name);
    strcat(file->path, "-");
    append_sanitised(file->path, sizeof file->path, device.driver_name);
    strcat(file->path, ".bin");
    desc->pipeline_cache_path = file->path;
}

void print_pipeline_cache(FILE *out, const pipeline_cache_file *file, const evk_context *ctx)
{
    evk_context_stats stats;
    if (!file->path[0] || evk_context_stats_get(ctx, &stats) != EVK_SUCCESS) {
        fputs("pipeline cache: none\n", out);
        return;
    }
    fprintf(out, "pipeline cache: %s (%s)\n", file->path,
            stats.pipeline_cache_loaded ? "loaded" : "nothing usable: written at exit");
}

static int progress_line_open;

static void print_progress(uint32_t created, uint32_t total, void *user_data)
{
    (void)user_data;
    fprintf(stderr, "\rcreating pipelines %u/%u", created, total);
    progress_line_open = created < total;
    if (!progress_line_open)
        fputc('\n', stderr);
}

void show_pipeline_progress(evk_context_desc *desc)
{
    if (isatty(STDERR_FILENO))
        desc->pipeline_progress = print_progress;
}

void end_pipeline_progress(void)
{
    if (progress_line_open)
        fputc('\n', stderr);
    progress_line_open = 0;
}
