/* POSIX names (open, fstat, fsync; realpath is XSI) under -std=c11; must
 * precede every include. */
#if !defined(_XOPEN_SOURCE)
#define _XOPEN_SOURCE 700
#endif

#include "file_io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "context.h"

static const evk_allocator *allocator_of(evk_context *ctx)
{
    return ctx ? &ctx->allocator : NULL;
}

static char *copy_string(evk_context *ctx, const char *s)
{
    size_t length = strlen(s) + 1;
    char *copy = evk_alloc_with(allocator_of(ctx), length);
    if (copy)
        memcpy(copy, s, length);
    return copy;
}

evk_status evk_file_open_read(evk_context *ctx, const char *path, int *fd, uint64_t *size)
{
    *fd = -1;
    *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
     * writer; the type is known only once the file is open. */
    int handle = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
    if (handle < 0)
        return evk_fail(ctx, EVK_ERROR_IO, "%s: cannot open for reading: %s", path,
                        strerror(errno));
    struct stat info;
    evk_status status = EVK_SUCCESS;
    if (fstat(handle, &info) != 0)
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (!S_ISREG(info.st_mode))
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: not a regular file", path);
    else if (info.st_size < 0)
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: negative file size", path);
    else {
        int flags = fcntl(handle, F_GETFL);
        if (flags < 0 || fcntl(handle, F_SETFL, flags & ~O_NONBLOCK) != 0)
            status = evk_fail(ctx, EVK_ERROR_IO, "%s: cannot make the descriptor blocking: %s",
                              path, strerror(errno));
    }
    if (status != EVK_SUCCESS) {
        close(handle);
        return status;
    }
    *fd = handle;
    *size = (uint64_t)info.st_size;
    return EVK_SUCCESS;
}

evk_status evk_file_fopen_read(evk_context *ctx, const char *path, FILE **out)
{
    *out = NULL;
    int fd;
    uint64_t size;
    evk_status status = evk_file_open_read(ctx, path, &fd, &size);
    if (status != EVK_SUCCESS)
        return status;
    FILE *stream = fdopen(fd, "rb");
    if (!stream) {
        int error = errno;
        close(fd);
        return evk_fail(ctx, EVK_ERROR_IO, "%s: cannot open a stream: %s", path,
                        strerror(error));
    }
    *out = stream;
    return EVK_SUCCESS;
}

static evk_status read_exactly(evk_context *ctx, const char *path, int fd, unsigned char *bytes,
                               size_t size)
{
    size_t done = 0;
    while (done < size) {
        ssize_t n = read(fd, bytes + done, size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return evk_fail(ctx, EVK_ERROR_IO, "%s: read failed: %s", path, strerror(errno));
        if (n == 0)
            return evk_fail(ctx, EVK_ERROR_IO, "%s: the file shrank while being read", path);
        done += (size_t)n;
    }
    return EVK_SUCCESS;
}

evk_status evk_file_read_all(evk_context *ctx, const char *path, uint64_t max_bytes,
                             void **bytes, size_t *size)
{
    *bytes = NULL;
    *size = 0;
    int fd;
    uint64_t file_size;
    evk_status status = evk_file_open_read(ctx, path, &fd, &file_size);
    if (status != EVK_SUCCESS)
        return status;
    unsigned char *buffer = NULL;
    if (file_size > max_bytes || file_size > SIZE_MAX)
        status = evk_fail(ctx, EVK_ERROR_LIMIT_EXCEEDED,
                          "%s: %llu bytes, more than the %llu this reader takes", path,
                          (unsigned long long)file_size, (unsigned long long)max_bytes);
    else if (!(buffer = evk_alloc_with(allocator_of(ctx), file_size ? (size_t)file_size : 1)))
        status = evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: no memory for %llu bytes",
                          path, (unsigned long long)file_size);
    else
        status = read_exactly(ctx, path, fd, buffer, (size_t)file_size);
    close(fd);
    if (status != EVK_SUCCESS) {
        evk_free_with(allocator_of(ctx), buffer);
        return status;
    }
    *bytes = buffer;
    *size = (size_t)file_size;
    return EVK_SUCCESS;
}

/* ---- Writing. */

static void release_writer(evk_file_writer *writer)
{
    const evk_allocator *allocator = allocator_of(writer->ctx);
    evk_free_with(allocator, writer->target);
    evk_free_with(allocator, writer->temp);
    memset(writer, 0, sizeof *writer);
}

/* The file the write replaces: `path` itself, or what a symbolic link at
 * `path` names (renaming over the link would replace the link instead). */
static evk_status resolve_target(evk_context *ctx, const char *path, char **target,
                                 struct stat *existing, int *exists)
{
    *target = NULL;
    *exists = 0;
    struct stat link_info;
    char *resolved = NULL;
    if (lstat(path, &link_info) != 0) {
        if (errno != ENOENT)
            return evk_fail(ctx, EVK_ERROR_IO, "%s: cannot stat: %s", path, strerror(errno));
        resolved = copy_string(ctx, path);
    } else if (S_ISLNK(link_info.st_mode)) {
        char *real = realpath(path, NULL);
        if (!real)
            return evk_fail(ctx, EVK_ERROR_IO, "%s: cannot resolve the symbolic link: %s", path,
                            strerror(errno));
        resolved = copy_string(ctx, real);
        free(real);
    } else {
        resolved = copy_string(ctx, path);
    }
    if (!resolved)
        return evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: no memory for the path", path);
    if (stat(resolved, existing) == 0) {
        if (!S_ISREG(existing->st_mode)) {
            evk_free_with(allocator_of(ctx), resolved);
            return evk_fail(ctx, EVK_ERROR_IO,
                            "%s: exists and is not a regular file; refusing to replace it", path);
        }
        *exists = 1;
    }
    *target = resolved;
    return EVK_SUCCESS;
}

/* "dir/.name.PID.N.tmp" beside `target`: hidden, and distinct per process
 * and per write so that concurrent writers never share one. */
static char *temporary_name(evk_context *ctx, const char *target, unsigned serial)
{
    const char *slash = strrchr(target, '/');
    size_t dir_length = slash ? (size_t)(slash - target) + 1 : 0;
    const char *base = target + dir_length;
    /* The leading dot, the two numbers (at most 20 digits each with their
     * dots), ".tmp" and the terminator. */
    size_t size = strlen(target) + 1 + 2 * 21 + 4 + 1;
    char *name = evk_alloc_with(allocator_of(ctx), size);
    if (!name)
        return NULL;
    memcpy(name, target, dir_length);
    snprintf(name + dir_length, size - dir_length, ".%s.%ld.%u.tmp", base, (long)getpid(),
             serial);
    return name;
}

evk_status evk_file_write_begin(evk_context *ctx, const char *path, evk_file_writer *writer)
{
    static atomic_uint serial_counter;
    memset(writer, 0, sizeof *writer);
    writer->ctx = ctx;
    struct stat existing;
    int exists;
    evk_status status = resolve_target(ctx, path, &writer->target, &existing, &exists);
    if (status != EVK_SUCCESS)
        return status;
    int fd = -1;
    for (int attempt = 0; attempt < 64 && fd < 0; ++attempt) {
        evk_free_with(allocator_of(ctx), writer->temp);
        writer->temp = temporary_name(ctx, writer->target, atomic_fetch_add(&serial_counter, 1));
        if (!writer->temp) {
            release_writer(writer);
            return evk_fail(ctx, EVK_ERROR_OUT_OF_HOST_MEMORY, "%s: no memory for the path",
                            path);
        }
        fd = open(writer->temp, O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: cannot create a file in its folder: %s", path,
                          strerror(errno));
        release_writer(writer);
        return status;
    }
    if (exists && fchmod(fd, existing.st_mode & 07777) != 0) {
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: cannot set the permissions: %s", path,
                          strerror(errno));
    } else if (!(writer->stream = fdopen(fd, "wb"))) {
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: cannot open a stream: %s", path,
                          strerror(errno));
    }
    if (status != EVK_SUCCESS) {
        close(fd);
        unlink(writer->temp);
        release_writer(writer);
    }
    return status;
}

evk_status evk_file_write_commit(evk_file_writer *writer)
{
    evk_context *ctx = writer->ctx;
    if (!writer->stream) {
        release_writer(writer);
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "file writer was not begun");
    }
    /* The first step that fails, and its errno (0: only the stream's error
     * flag says a write failed). */
    const char *failed = NULL;
    int error = 0;
    if (fflush(writer->stream) != 0 || ferror(writer->stream))
        failed = "write";
    else if (fsync(fileno(writer->stream)) != 0)
        failed = "sync";
    if (failed)
        error = errno;
    if (fclose(writer->stream) != 0 && !failed) {
        failed = "close";
        error = errno;
    }
    writer->stream = NULL;
    if (!failed && rename(writer->temp, writer->target) != 0) {
        failed = "rename";
        error = errno;
    }
    evk_status status = EVK_SUCCESS;
    if (failed) {
        unlink(writer->temp);
        status = evk_fail(ctx, EVK_ERROR_IO, "%s: %s failed: %s; the previous file is unchanged",
                          writer->target, failed,
                          error ? strerror(error) : "error on the stream");
    }
    release_writer(writer);
    return status;
}

void evk_file_write_abort(evk_file_writer *writer)
{
    if (writer->stream) {
        fclose(writer->stream);
        unlink(writer->temp);
    }
    release_writer(writer);
}
