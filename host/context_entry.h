/* One thread at a time per context, checked. Every public call that reads or
 * changes a context's state (its command buffer, memory, pipelines, last
 * error, statistics) enters the context first and leaves it on return. A
 * second thread that enters while the first is inside is refused with
 * EVK_ERROR_BUSY before it touches anything, its message kept in its own
 * thread's last error, so misuse is an error instead of corrupted state. The
 * check is one atomic compare-exchange per call; acquire and release order
 * it, so that a context handed from thread to thread between calls is seen
 * whole (and ThreadSanitizer sees the hand-over).
 *
 * Calls from inside a call on the same thread (the model builder creating
 * layers, a log callback) pass: the outer call holds the context. */
#ifndef EFFVK_HOST_CONTEXT_ENTRY_H
#define EFFVK_HOST_CONTEXT_ENTRY_H

#include "effvk/effvk.h"

typedef struct evk_context_entry {
    evk_context *ctx;               /* NULL: nothing to leave */
    evk_context *previous;          /* what this thread held before */
} evk_context_entry;

/* Enters `ctx` for `function` (named in the refusal). ctx NULL passes, so
 * that the call itself reports the NULL argument. */
evk_status evk_context_enter(evk_context *ctx, const char *function, evk_context_entry *entry);
void evk_context_leave(evk_context_entry *entry);

/* The body of a public function that runs `call` inside `ctx`: returns its
 * status, or EVK_ERROR_BUSY without calling it when another thread is
 * inside (the refusal names the public function). */
#define EVK_ENTERED(ctx, call)                                                         \
    do {                                                                               \
        evk_context_entry evk_entry_;                                                  \
        evk_status evk_status_ = evk_context_enter((ctx), __func__, &evk_entry_);      \
        if (evk_status_ == EVK_SUCCESS) {                                              \
            evk_status_ = (call);                                                      \
            evk_context_leave(&evk_entry_);                                            \
        }                                                                              \
        return evk_status_;                                                            \
    } while (0)

/* The same for a function that creates `*out`: a refused call leaves *out
 * NULL, as every failed creation does. */
#define EVK_ENTERED_CREATE(ctx, out, call)                                             \
    do {                                                                               \
        if (out)                                                                       \
            *(out) = NULL;                                                             \
        EVK_ENTERED(ctx, call);                                                        \
    } while (0)

/* The same for a destroy function: a refused call does nothing (the object
 * stays valid) and says why in this thread's last error. */
#define EVK_ENTERED_VOID(ctx, call)                                                    \
    do {                                                                               \
        evk_context_entry evk_entry_;                                                  \
        if (evk_context_enter((ctx), __func__, &evk_entry_) == EVK_SUCCESS) {          \
            call;                                                                      \
            evk_context_leave(&evk_entry_);                                            \
        }                                                                              \
    } while (0)

/* 1 when this thread's last refusal was on `ctx` and no later failure of
 * this thread on it replaced that message (evk_last_error reads this). */
int evk_context_refused_here(const evk_context *ctx);
/* Forgets this thread's refusal on `ctx`: a newer message of ctx's own
 * is there. */
void evk_context_forget_refusal(const evk_context *ctx);

#endif
