/* Building a network's layers from a torchvision state_dict: each spec of
 * the architecture reads its tensors (state_dict_layout.h), creates its
 * layer and joins the graph. */
#ifndef EFFVK_HOST_MODEL_STATE_DICT_H
#define EFFVK_HOST_MODEL_STATE_DICT_H

#include "arch.h"
#include "graph.h"
#include "mbconv.h"
#include "safetensors.h"

/* Creates every layer of `arch` from the state_dict in `st` (BatchNorm eps
 * `bn_eps`) and appends it to `graph`, the MBConv blocks sharing `scratch`
 * (which the caller destroys after the graph). `file` names the weights in
 * messages.
 * Every tensor of the file but num_batches_tracked must be one the model
 * reads. Errors: EVK_ERROR_INVALID_ARGUMENT (a missing or an unused tensor,
 * named; a NaN or an infinity, named with its tensor and index),
 * EVK_ERROR_SHAPE_MISMATCH (a tensor of another shape: both shapes named),
 * EVK_ERROR_UNSUPPORTED (a tensor of a non-float dtype), memory errors. */
evk_status evk_state_dict_build(evk_context *ctx, const evk_arch *arch, const evk_safetensors *st,
                                const char *file, float bn_eps, evk_mbconv_scratch *scratch,
                                evk_graph *graph);

#endif
