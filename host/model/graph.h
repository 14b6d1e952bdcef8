/* The graph executor of the model level: a list of layers over tensor slots.
 *
 * Slot 0 is the graph's input; each added layer reads one earlier slot (a
 * binary one, a residual add, two) and writes a new one; the last layer's
 * slot is the graph's output. A forward pass of a given input shape is
 * planned once: slot shapes, then buffers for the intermediate slots by
 * liveness (a slot's buffer returns to the free
 * list after the last layer that reads it; a new slot takes the smallest free
 * buffer that holds it, else grows the largest free one, else gets a new
 * one), then all layers are recorded into one persistent command buffer that
 * every later forward of that shape on the same input and output buffers
 * resubmits without recording. Another input shape re-plans; other tensors
 * re-record. Layers' own scratch buffers are theirs, outside the plan
 * (the EfficientNet builder has its blocks share one). */
#ifndef EFFVK_HOST_MODEL_GRAPH_H
#define EFFVK_HOST_MODEL_GRAPH_H

#include "layer.h"

typedef struct evk_graph evk_graph;

evk_status evk_graph_create(evk_context *ctx, evk_graph **out);
void evk_graph_destroy(evk_graph *graph);

/* Called for a layer with its input shape when a plan is made, before any
 * layer is recorded (MBConv blocks sharing scratch reserve it there). */
typedef evk_status (*evk_graph_prepare_fn)(evk_layer *layer, evk_shape input);

/* Appends `layer` (the graph takes ownership, also on failure) reading slot
 * `input`; `*output` gets its new slot. `name` ("features.2.0") names the
 * layer in reports and messages; it is copied (truncated to 47 bytes).
 * `prepare` may be NULL. */
evk_status evk_graph_add(evk_graph *graph, evk_layer *layer, uint32_t input, const char *name,
                         evk_graph_prepare_fn prepare, uint32_t *output);

/* Records a binary layer (a residual add, an OctConv branch) on inputs `a`
 * and `b`. */
typedef evk_status (*evk_graph_record2_fn)(evk_layer *layer, const evk_tensor *a,
                                           const evk_tensor *b, evk_tensor *out);

/* As evk_graph_add for a layer reading two slots, `input` (which gives the
 * output shape) and `second`, recorded by `record2`. With `same_shapes` the
 * two must have one shape (a residual add; an OctConv branch reads X^H and
 * X^L). */
evk_status evk_graph_add_binary(evk_graph *graph, evk_layer *layer, uint32_t input,
                                uint32_t second, int same_shapes, const char *name,
                                evk_graph_record2_fn record2, uint32_t *output);

/* The output shape for an input shape (validates every layer's input). */
evk_status evk_graph_output_shape(evk_graph *graph, evk_shape input, evk_shape *output);

/* Runs the whole graph on `input` into `output` (of the shape
 * evk_graph_output_shape gives) in one submission, and waits. */
evk_status evk_graph_forward(evk_graph *graph, const evk_tensor *input, evk_tensor *output);

/* Plans and records the graph for (input, output) unless its recording
 * already is for them (waiting first for runs in flight of an older
 * recording); evk_graph_recording is then ready to submit. */
evk_status evk_graph_prepare(evk_graph *graph, const evk_tensor *input, const evk_tensor *output);
evk_recording *evk_graph_recording(evk_graph *graph);

/* Records the whole forward into the application's `buffer`
 * (evk_command_begin_foreign), planning first when needed. */
evk_status evk_graph_record_foreign(evk_graph *graph, const evk_tensor *input,
                                    const evk_tensor *output, VkCommandBuffer buffer,
                                    evk_descriptor_pool_node **pools);

typedef struct evk_graph_stats {
    uint32_t layers;
    uint32_t buffers;               /* intermediate buffers of the current plan */
    uint64_t planned_bytes;         /* their total: the plan's peak device memory */
    uint64_t unplanned_bytes;       /* one buffer per intermediate slot, for comparison */
    uint32_t recordings;            /* times the forward pass was recorded */
} evk_graph_stats;

/* The stats of the last plan (zero before the first forward). */
void evk_graph_stats_get(const evk_graph *graph, evk_graph_stats *out);

/* What one node did in the graph's last forward. */
typedef struct evk_graph_node_time {
    const char *name;               /* evk_graph_add's, owned by the graph */
    const char *kernel;             /* the layer's kernel name */
    uint32_t dispatches;            /* dispatches it records per forward */
    double gpu_ms;                  /* their GPU time in the last forward; 0 untimed */
} evk_graph_node_time;

/* Whether the last forward timed each node. A forward records with
 * per-dispatch timestamps while the context's dispatch timing is on
 * (evk_context_set_dispatch_timing; turning it on or off records again)
 * and keeps each node's time as soon as it has waited, so that later
 * submissions (a download) do not lose them. */
typedef enum evk_graph_timing {
    EVK_GRAPH_NOT_TIMED,            /* no forward yet, a failed one, or timing was off */
    EVK_GRAPH_TIMED,
    EVK_GRAPH_TOO_MANY_DISPATCHES   /* past EVK_MAX_TIMED_DISPATCHES: some shared one */
} evk_graph_timing;

/* How the last forward was timed, and how many dispatches it recorded. */
evk_graph_timing evk_graph_last_timing(const evk_graph *graph, uint32_t *dispatches);

uint32_t evk_graph_node_count(const evk_graph *graph);
/* Node `index` (below evk_graph_node_count) in the last forward. */
void evk_graph_node_time_get(const evk_graph *graph, uint32_t index, evk_graph_node_time *out);

#endif
