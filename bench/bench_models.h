/* Inside the models suite: its table of networks (bench_models.c) and the
 * --onnx list read against it (bench_models_onnx.c). */
#ifndef EFFVK_BENCH_MODELS_H
#define EFFVK_BENCH_MODELS_H

#include <stddef.h>
#include <stdint.h>

#include "bench.h"

typedef struct network {
    const char *model;              /* evk_model_load's name */
    const char *variant;            /* "P=4", "a=0.25" in the result name, or NULL */
    uint32_t part;                  /* evk_model_options.part */
    double alpha;                   /* evk_model_options.alpha (negative: α = 0) */
    const char *baseline;           /* the dense/vanilla network's model, or NULL */
    uint32_t batches[2];            /* default batch sizes; 0 ends the list */
    uint32_t max_iterations;        /* timed runs at most (--iterations may lower it) */
    int headline;
    int model_default;              /* the variant evk_model_options' zeros give */
} network;

/* The table, in the order the suite runs it. */
extern const network *const bench_networks;
extern const size_t bench_network_count;

/* A network of the table and the ONNX file of the same network. */
typedef struct onnx_pair {
    const network *net;
    char path[BENCH_PARAM_TEXT_SIZE];
} onnx_pair;

/* The pairs of an --onnx list in its order, each network at most once (so
 * `pairs` has room for bench_network_count): 0, or -1 and the first bad
 * item's problem in `problem` ("'foo=x' is not MODEL=FILE ..."). */
int bench_parse_onnx_pairs(const char *list, onnx_pair *pairs, uint32_t *count, char *problem,
                           size_t size);

#endif
