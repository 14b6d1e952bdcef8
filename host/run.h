/* Submissions to the context's queue and the asynchronous runs built on
 * them. Every submission goes through evk_queue_submit, which takes the
 * application's queue lock when it gave one (the adopted queue is then
 * shared) and adds the run's semaphores. An asynchronous run owns a fence
 * and, for a layer, the command buffer and descriptor sets it recorded; a
 * model's run submits the model's persistent recording, which the model
 * re-records only after waiting for its runs (evk_runs_wait_for). */
#ifndef EFFVK_HOST_RUN_H
#define EFFVK_HOST_RUN_H

#include "command.h"

typedef struct evk_context evk_context;

struct evk_run {
    evk_context *ctx;
    VkFence fence;
    evk_recording own;              /* a layer's run: what it recorded */
    const void *owner;              /* the graph whose recording it submitted, or NULL */
    struct evk_run *prev, *next;    /* the context's runs */
};

/* Submits `buffer` with the semaphores of `sync` (may be NULL), signalling
 * `fence`. */
evk_status evk_queue_submit(evk_context *ctx, VkCommandBuffer buffer, const evk_submit_sync *sync,
                            VkFence fence);

/* Waits for every run of the context that submitted `owner`'s recording. */
evk_status evk_runs_wait_for(evk_context *ctx, const void *owner);

/* After evk_runs_wait_for: the runs no longer name `owner` (about to be
 * freed). */
void evk_runs_forget(evk_context *ctx, const void *owner);

/* Waits for and frees every run of the context (its destruction). */
void evk_runs_destroy_all(evk_context *ctx);

/* A new run, listed in the context, its fence unsignalled. */
evk_status evk_run_create(evk_context *ctx, const void *owner, evk_run **out);
/* Unlists and frees a run that was never submitted, or has finished. */
void evk_run_free(evk_run *run);

#endif
