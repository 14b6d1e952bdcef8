/* Where a network's GPU time goes, layer by layer: measured with the
 * library's per-dispatch timestamps (evk_model_layer_times) for `effvk run
 * --profile` and `effvk bench models --profile`, printed as a table and
 * written as the bench JSON's "layers" array (docs/bench-json.md). */
#ifndef EFFVK_CLI_LAYER_PROFILE_H
#define EFFVK_CLI_LAYER_PROFILE_H

#include <stdint.h>
#include <stdio.h>

#include "effvk/effvk.h"
#include "json.h"

typedef struct layer_profile_row {
    char name[32]; /* evk_model_layer_info.name */
    char kernel[32];
    uint32_t dispatches;
    double gpu_ms; /* median over the timed forwards */
    uint64_t macs; /* evk_model_describe's count for the layer */
} layer_profile_row;

typedef struct layer_profile {
    layer_profile_row *rows; /* malloc'd; NULL when not measured */
    uint32_t count;
    /* The whole forward's GPU time (evk_context_last_gpu_ms), median over
     * the same forwards: the total that shares are of. */
    double forward_gpu_ms;
    uint32_t forwards; /* the timed forwards */
} layer_profile;

typedef evk_status (*layer_profile_forward_fn)(void *user_data);

/* Turns the context's dispatch timing on, runs `forward` (a forward of
 * `model`) once untimed (it records the pass again, with a timestamp after
 * each dispatch), then `runs` times (at least 1), keeping per layer the
 * median of the runs' evk_model_layer_times, and turns the timing off
 * again. Each layer's MACs come from evk_model_describe. On failure `*out` is empty and the library's status is
 * returned (its message on the context; out of host memory:
 * EVK_ERROR_OUT_OF_HOST_MEMORY). */
evk_status layer_profile_measure(evk_context *ctx, const evk_model *model,
                                 layer_profile_forward_fn forward, void *user_data, uint32_t runs,
                                 layer_profile *out);

void layer_profile_free(layer_profile *profile);

/* The layer's GFLOP/s (2 FLOPs per MAC) over the FMA peak; NAN for a layer
 * without MACs (a pool, an add) or without time. */
double layer_profile_fraction_of_peak(const layer_profile_row *row, double fma_gflops);

/* The table, each line after `indent`: layer, kernel, dispatches, GPU ms,
 * share of the forward, % of the FMA peak; then the layers' sum against the
 * forward's time. */
void layer_profile_print(FILE *out, const layer_profile *profile, double fma_gflops,
                         const char *indent);

/* "layers": an array of {name, kernel, dispatches, gpu_ms, share, macs,
 * gflops, fraction_of_peak}, into the open object. */
void layer_profile_write_json(json_writer *w, const layer_profile *profile, double fma_gflops);

#endif
