/* What the effvk program prints about devices (in text and JSON), about
 * failures, about its own usage and about pipeline creation, and where its
 * commands keep the pipeline cache. Every command shares it so that they
 * never disagree. */
#ifndef EFFVK_TOOLS_REPORT_H
#define EFFVK_TOOLS_REPORT_H

#include <stdio.h>

#include "effvk/effvk.h"
#include "json.h"

/* "discrete", "integrated", "cpu", "virtual" or "other". */
const char *device_type_name(evk_device_type type);

/* "major.minor.patch" of a VK_MAKE_API_VERSION value. */
void device_api_version_string(uint32_t api_version, char *text, size_t size);

/* The fields the benchmark JSON contract names for its "device" object,
 * written into an object the caller has opened. */
void device_write_summary_json(json_writer *w, const evk_device_properties *props);

/* One line: name, type, driver, API version, subgroup size. */
void device_print_summary(FILE *out, const evk_device_properties *props);

/* Everything evk_device_properties holds, as an object / as indented text. */
void device_write_full_json(json_writer *w, const evk_device_properties *props);
void device_print_full(FILE *out, const evk_device_properties *props);

/* "effvk <command>: <what>: STATUS: message" on stderr; `what` may be NULL.
 * `message` is evk_last_error's; the library may already start it with the
 * status name, which is then not repeated. */
void report_failure(const char *command, const char *what, evk_status status,
                    const char *message);

/* Whether `arg` asks for a command's usage: --help or -h. */
int is_help_option(const char *arg);

/* "usage: effvk SYNOPSIS", a blank line, then `options` (the command's
 * option lines) and `exit_status` (a line saying what the exit statuses
 * mean), on stdout; returns 0, the exit status of success. */
int print_command_usage(const char *synopsis, const char *options, const char *exit_status);

/* "effvk <command>: <problem> '<argument>'; see 'effvk <command> --help'" on
 * stderr, for a command line the command cannot run; returns 2, the exit
 * status of bad usage.
 * `argument` may be NULL; `command` NULL is the program itself ("effvk: ...;
 * see 'effvk --help'"). */
int report_usage_error(const char *command, const char *problem, const char *argument);

/* The usage lines of --no-cache, for the commands that create a context. */
#define PIPELINE_CACHE_USAGE                                                   \
    "    --no-cache        neither read nor write the pipeline cache (kept in\n" \
    "                      $EFFVK_CACHE_DIR, else $XDG_CACHE_HOME/effvk, else\n" \
    "                      ~/.cache/effvk)\n"

/* The pipeline cache file of a command's context; `path` empty: none. */
typedef struct pipeline_cache_file {
    char path[4096];
} pipeline_cache_file;

/* Points desc->pipeline_cache_path at a file in the cache folder
 * ($EFFVK_CACHE_DIR, else $XDG_CACHE_HOME/effvk, else ~/.cache/effvk;
 * created when missing) named after the device the desc chooses, and keeps
 * the path in `file`, which must outlive the context's creation. With
 * `enabled` 0 (--no-cache) nothing is set. When no folder can be named,
 * created or written, the command runs without a cache and says so on
 * stderr, once: that is not an error. Call it after the desc's device
 * fields are set. */
void use_pipeline_cache(const char *command, int enabled, pipeline_cache_file *file,
                        evk_context_desc *desc);

/* "pipeline cache: PATH (loaded)", "(nothing usable: written at exit)" or
 * "pipeline cache: none", for the context created with `file`. */
void print_pipeline_cache(FILE *out, const pipeline_cache_file *file, const evk_context *ctx);

/* When stderr is a terminal, sets desc's progress callback to print
 * "\rcreating pipelines CREATED/TOTAL" there, ending each batch's line. */
void show_pipeline_progress(evk_context_desc *desc);

/* Ends a progress line a failed batch left open, before a message. */
void end_pipeline_progress(void);

#endif
