/* The models suite's random weights (bench_models_weights.c), for
 * bench_models.c. */
#ifndef EFFVK_BENCH_MODELS_WEIGHTS_H
#define EFFVK_BENCH_MODELS_WEIGHTS_H

#include "bench.h"

/* Loads the built-in network `model` (evk_model_load's name) into `ctx`
 * with `opts` (batch, part, alpha) and a random state_dict for them made in
 * memory, the same in every run; failures are reported (bench_check). */
evk_status bench_load_random_weights(bench_run *run, evk_context *ctx, const char *model,
                                     const evk_model_options *opts, evk_model **out);

#endif
