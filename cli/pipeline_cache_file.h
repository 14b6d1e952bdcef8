/* The program's pipeline cache: which file a command's context keeps its
 * pipelines in, and the progress line while they are created. */
#ifndef EFFVK_CLI_PIPELINE_CACHE_FILE_H
#define EFFVK_CLI_PIPELINE_CACHE_FILE_H

#include <stdio.h>

#include "effvk/effvk.h"

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
