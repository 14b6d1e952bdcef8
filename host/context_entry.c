#include "context_entry.h"

#include "context.h"

static _Thread_local evk_context *thread_holds;
static _Thread_local const evk_context *thread_refused;

evk_status evk_context_enter(evk_context *ctx, const char *function, evk_context_entry *entry)
{
    entry->ctx = NULL;
    entry->previous = NULL;
    if (!ctx || thread_holds == ctx)
        return EVK_SUCCESS;
    int free_flag = 0;
    if (!atomic_compare_exchange_strong_explicit(&ctx->in_use, &free_flag, 1,
                                                 memory_order_acquire, memory_order_relaxed)) {
        thread_refused = ctx;
        evk_set_thread_error_f(EVK_ERROR_BUSY,
                               "%s: the context is in use by another thread (a context is used "
                               "by one thread at a time; give each thread its own context)",
                               function);
        return EVK_ERROR_BUSY;
    }
    entry->ctx = ctx;
    entry->previous = thread_holds;
    thread_holds = ctx;
    return EVK_SUCCESS;
}

void evk_context_leave(evk_context_entry *entry)
{
    if (!entry->ctx)
        return;
    thread_holds = entry->previous;
    atomic_store_explicit(&entry->ctx->in_use, 0, memory_order_release);
    entry->ctx = NULL;
}

int evk_context_refused_here(const evk_context *ctx)
{
    return ctx && thread_refused == ctx;
}

void evk_context_forget_refusal(const evk_context *ctx)
{
    if (thread_refused == ctx)
        thread_refused = NULL;
}
