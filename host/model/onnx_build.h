/* From the fused ops of an imported graph to a model (onnx_build.c). */
#ifndef EFFVK_HOST_MODEL_ONNX_BUILD_H
#define EFFVK_HOST_MODEL_ONNX_BUILD_H

#include "model.h"
#include "onnx_ir.h"

/* The layers the live ops become, with their costs at the graph's shapes,
 * in an array from g->ctx's allocator. No device needed. */
evk_status evk_onnx_describe_ops(const ir_graph *g, evk_model_layer_info **layers, uint32_t *count);

/* Creates every live op's layer and graph node in `m` (whose graph
 * exists), and fills its layers and their sources. */
evk_status evk_onnx_build(const ir_graph *g, evk_model *m);

/* A model from a parsed ONNX graph (evk_model_load_onnx's work), with the
 * graph inputs named by `bound` taken as those constants (the conformance
 * tests give weights as inputs). */
evk_status evk_onnx_model_create(evk_context *ctx, const evk_onnx_model *onnx, const char *file,
                                 const evk_model_options *opts, const evk_onnx_tensor *bound,
                                 uint32_t bound_count, evk_model **out);

#endif
