/* A model as every source fills it: a named architecture with a
 * state_dict (model.c), or an ONNX graph (onnx_model.c). The running part
 * of the public API (model_run.c) reads only this. */
#ifndef EFFVK_HOST_MODEL_MODEL_H
#define EFFVK_HOST_MODEL_MODEL_H

#include "graph.h"
#include "mbconv.h"

struct evk_model {
    evk_context *ctx;
    char name[64];                       /* "efficientnet-b0", or the ONNX file's base name */
    evk_model_options opts;              /* resolved */
    evk_shape input_shape, output_shape; /* at the options' shape */
    /* The layers at the options' shape, in the graph's order: each is the
     * run of graph nodes that carry its name. */
    uint32_t layer_count;
    evk_model_layer_info *layers;
    /* Per layer, the ONNX nodes it runs ("Conv 'conv1' + Relu 'relu1'");
     * NULL for a named architecture. */
    char **sources;
    evk_graph *graph;
    evk_mbconv_scratch scratch; /* shared by the MBConv blocks */
    evk_tensor *input, *output; /* evk_model_run's, created on its first call */
};

/* An empty model of `ctx` (its graph created). */
evk_status evk_model_alloc(evk_context *ctx, evk_model **out);

/* Finishes a model once its fields are set: clears the context's error. */
void evk_model_loaded(evk_model *m);

#endif
