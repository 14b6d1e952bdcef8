/* The commands' --precision option (evk_precision). */
#ifndef EFFVK_CLI_PRECISION_OPTION_H
#define EFFVK_CLI_PRECISION_OPTION_H

#include <stdint.h>
#include <stdio.h>

#include "effvk/effvk.h"
#include "json.h"

#define PRECISION_USAGE                                                        \
    "    --precision P     auto (default: the device's choice, which `effvk info`\n" \
    "                      shows with its reason), fp32, fp16-storage or fp16\n"

/* "auto", "fp32", "fp16-storage" or "fp16"; 0, or -1 for anything else. */
int precision_parse(const char *text, evk_precision *out);

/* A comma-separated list of distinct precisions, at most `max`; 0 or -1. */
int precision_list_parse(const char *text, evk_precision *out, uint32_t max, uint32_t *count);

/* "  precision              fp32 (auto: REASON)" for a context. */
void precision_print(FILE *out, const evk_context *ctx);
/* "precision": {"requested", "chosen", "reason", "measured_ms": {...}}. */
void precision_write_json(json_writer *w, const evk_context *ctx);

#endif
