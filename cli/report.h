/* What the effvk program prints about devices (in text and JSON), about
 * failures, about its own usage and about pipeline creation, and where its
 * commands keep the pipeline cache. Every command shares it so that they
 * never disagree. */
#ifndef EFFVK_CLI_REPORT_H
#define EFFVK_CLI_REPORT_H

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

/* Everything evk_device_properties holds and the device profile a default
 * context gets on the device, as an object / as indented text; the JSON
 * adds the precision of `ctx`, a default context on the device, unless NULL. */
void device_write_full_json(json_writer *w, const evk_device_properties *props,
                            const evk_context *ctx);
void device_print_full(FILE *out, const evk_device_properties *props);

/* "effvk <command>: <what>: STATUS: message" on stderr; `what` may be NULL.
 * `message` is evk_last_error's; the library may already start it with the
 * status name, which is then not repeated. */
void report_failure(const char *command, const char *what, evk_status status,
                    const char *message);

/* Sets desc->log to print the library's log lines on stderr ("effvk:
 * LEVEL: message") at and above the level the environment variable
 * EFFVK_LOG names (debug, info, warning or error). Unset: none, but on
 * Android, where a program run from adb has no other way to show them,
 * from info. */
void report_attach_log(evk_context_desc *desc);

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

#endif
