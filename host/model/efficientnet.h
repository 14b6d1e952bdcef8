/* EfficientNet-B0..B7 as torchvision builds them (papers.md §3): the
 * architecture of a variant as a list of layer specs (device-free, for costs),
 * and the builder that creates its layers from a torchvision state_dict. */
#ifndef EFFVK_HOST_MODEL_EFFICIENTNET_H
#define EFFVK_HOST_MODEL_EFFICIENTNET_H

#include "graph.h"
#include "mbconv.h"
#include "safetensors.h"

/* B7 has 55 MBConv blocks; with stem, head, pool and classifier 59. */
#define EVK_ARCH_MAX_LAYERS 64

typedef enum evk_layer_kind {
    EVK_KIND_CONV,                  /* conv + BN + SiLU (stem kxk stride 2, head 1x1) */
    EVK_KIND_MBCONV,
    EVK_KIND_POOL,                  /* global average pool */
    EVK_KIND_LINEAR                 /* classifier */
} evk_layer_kind;

typedef struct evk_layer_spec {
    evk_layer_kind kind;
    char prefix[32];                /* the state_dict prefix: "features.2.0", "classifier.1" */
    uint32_t in_channels, out_channels;
    uint32_t kernel, stride;        /* conv and mbconv */
    uint32_t expand_ratio, expanded_channels, squeeze_channels; /* mbconv */
} evk_layer_spec;

typedef struct evk_arch {
    char name[32];                  /* "efficientnet-b0" */
    uint32_t resolution;            /* the variant's input size */
    float bn_eps;                   /* torchvision's: 1e-5 for B0-B4, 1e-3 for B5-B7 */
    uint32_t count;
    evk_layer_spec layers[EVK_ARCH_MAX_LAYERS];
} evk_arch;

/* The architecture of `name` ("efficientnet-b0" .. "efficientnet-b7"; '_'
 * for '-' and upper case accepted) with `num_classes` outputs.
 * Errors (on ctx; NULL: the thread): EVK_ERROR_INVALID_ARGUMENT naming an unknown
 * model and the known ones. */
evk_status evk_arch_get(evk_context *ctx, const char *name, uint32_t num_classes, evk_arch *out);

/* A spec's output shape, MACs and parameters (as torchvision counts them) on
 * `input`, for a valid architecture. */
void evk_layer_spec_cost(const evk_layer_spec *spec, evk_shape input, evk_shape *output,
                         uint64_t *macs, uint64_t *params);

/* The name of a spec's kind: "conv2d", "mbconv", "global_avg_pool", "linear". */
const char *evk_layer_kind_name(evk_layer_kind kind);

/* Creates every layer of `arch` from the state_dict in `st` (BatchNorm eps
 * `bn_eps`) and appends it to `graph`, the MBConv blocks sharing `scratch`
 * (which the caller destroys after the graph). `file` names the weights in
 * messages.
 * Every tensor of the file but num_batches_tracked must be one the model
 * reads. Errors: EVK_ERROR_INVALID_ARGUMENT (a missing or an unused tensor,
 * named),
 * EVK_ERROR_SHAPE_MISMATCH (a tensor of another shape: both shapes named),
 * EVK_ERROR_UNSUPPORTED (a tensor of a non-float dtype), memory errors. */
evk_status evk_efficientnet_build(evk_context *ctx, const evk_arch *arch, const evk_safetensors *st,
                                  const char *file, float bn_eps, evk_mbconv_scratch *scratch,
                                  evk_graph *graph);

#endif
