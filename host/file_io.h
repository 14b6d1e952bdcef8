/* Reading and writing files so that a user's path can neither block the
 * caller nor lose what it held.
 *
 * Reading: a path is opened non-blocking and checked to be a regular file
 * before anything is read, so a FIFO, a socket or a terminal given as a
 * weights, input or cache file fails at once instead of waiting forever for
 * a writer.
 *
 * Writing: the data goes to a new file beside the target (same folder, so
 * the final rename cannot cross file systems), which is flushed to disk and
 * renamed over the target only when complete. A full disk, a file-size
 * limit or a crash leaves the previous file byte for byte as it was; an
 * existing target that is not a regular file (a device, a FIFO, a folder) is
 * refused, never replaced or unlinked. A symbolic link is followed: the file
 * it names is replaced and the link stays.
 *
 * Errors are EVK_ERROR_IO naming the path and the system's reason, recorded
 * on `ctx` (NULL: this thread's last error); memory comes from ctx's
 * allocator (NULL: malloc). */
#ifndef EFFVK_HOST_FILE_IO_H
#define EFFVK_HOST_FILE_IO_H

#include <stdint.h>
#include <stdio.h>

#include "effvk/effvk.h"

/* Opens a regular file for reading: *fd is a blocking descriptor (the caller
 * closes it) and *size its size in bytes. */
evk_status evk_file_open_read(evk_context *ctx, const char *path, int *fd, uint64_t *size);

/* The same as a stdio stream ("rb"), for readers that parse as they go. */
evk_status evk_file_fopen_read(evk_context *ctx, const char *path, FILE **out);

/* Reads a whole regular file into memory from ctx's allocator (freed with
 * evk_free_with(&ctx->allocator, ...) or free() when ctx is NULL); a file
 * over `max_bytes` is EVK_ERROR_LIMIT_EXCEEDED. */
evk_status evk_file_read_all(evk_context *ctx, const char *path, uint64_t max_bytes,
                             void **bytes, size_t *size);

/* A file being written: `stream` is open on the temporary file. */
typedef struct evk_file_writer {
    FILE *stream;
    char *target;               /* the path renamed over at commit */
    char *temp;                 /* the temporary file beside it */
    evk_context *ctx;
} evk_file_writer;

/* Starts writing `path`: refuses a target that exists and is not a regular
 * file, creates the temporary file (with the target's permission bits when
 * it exists, else 0666 less the umask). */
evk_status evk_file_write_begin(evk_context *ctx, const char *path, evk_file_writer *writer);

/* Flushes, syncs and closes the temporary file and renames it over the
 * target. On any failure (a short write earlier included: the stream's error
 * flag is checked) the temporary file is removed, the target is untouched and
 * the status says what failed. The writer is finished either way. */
evk_status evk_file_write_commit(evk_file_writer *writer);

/* Abandons the write: closes and removes the temporary file; the target is
 * untouched. Accepts a writer that was never begun or is already finished. */
void evk_file_write_abort(evk_file_writer *writer);

#endif
