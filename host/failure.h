/* Failure messages and logs without Vulkan's types: every fallible internal
 * function returns an evk_status and, on failure, leaves a message on the
 * context it was given (or, given NULL, on the calling thread) through
 * these functions. The library never prints: logs go to the context's log
 * callback. The program's own readers report through them too. */
#ifndef EFFVK_HOST_FAILURE_H
#define EFFVK_HOST_FAILURE_H

#include "effvk/effvk.h"

/* The longest message kept, the status name in front included. */
#define EVK_ERROR_MESSAGE_BYTES 1024

/* Records `status` with a printf-style message as the context's (or, with ctx
 * NULL, this thread's) last error, logs it, and returns `status`. */
evk_status evk_fail(evk_context *ctx, evk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* EVK_ERROR_OUT_OF_HOST_MEMORY naming what could not be allocated. */
evk_status evk_fail_oom(evk_context *ctx, const char *what);
void evk_logf(evk_context *ctx, evk_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* Sets this thread's last error, with the status name in front, without
 * logging: for refusals that may not touch a context. */
void evk_set_thread_error_f(evk_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Copies a context's message to this thread's last error (for failures that
 * end with the context destroyed). */
void evk_set_thread_error(const char *message);
/* Clears the last error at the start of a public call that succeeds. */
void evk_clear_error(evk_context *ctx);

#endif
