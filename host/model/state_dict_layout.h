/* The torchvision state_dict of a layer spec: the tensors it holds, in the
 * order the model builder reads them, with key, shape and what each holds
 * (key names in docs/models.md). The builder (state_dict.c) finds its
 * tensors through it and the models bench writes its random state_dicts
 * from it, so that the names are spelt in one place. Volk-free. */
#ifndef EFFVK_HOST_MODEL_STATE_DICT_LAYOUT_H
#define EFFVK_HOST_MODEL_STATE_DICT_LAYOUT_H

#include "arch.h"

/* An MBConv block's: the expand, depthwise and project convs with their
 * BatchNorms (5 each), the SE's two weights and biases. */
#define EVK_SPEC_MAX_TENSORS 19
/* A layer's prefix with its block and stage indices, and a key: the prefix
 * and a suffix such as ".running_mean". Sized so that the longest of each
 * fits whatever the indices are (GCC checks it at -O2 and above). */
#define EVK_TENSOR_PREFIX_BYTES 64
#define EVK_TENSOR_KEY_BYTES 96

/* The layer, or the part of a block, a tensor belongs to. */
typedef enum evk_tensor_part {
    EVK_PART_LAYER,                 /* conv, hetconv, linear */
    EVK_PART_EXPAND,                /* mbconv (expand_ratio > 1) */
    EVK_PART_DEPTHWISE,
    EVK_PART_SE_FC1,
    EVK_PART_SE_FC2,
    EVK_PART_PROJECT,
    /* octconv: the paths X^H → Y^H, X^H → Y^L, X^L → Y^H, X^L → Y^L (those
     * with channels at both ends), then the BatchNorms of Y^H and Y^L. */
    EVK_PART_HIGH_TO_HIGH,
    EVK_PART_HIGH_TO_LOW,
    EVK_PART_LOW_TO_HIGH,
    EVK_PART_LOW_TO_LOW,
    EVK_PART_HIGH,
    EVK_PART_LOW
} evk_tensor_part;

typedef enum evk_tensor_role {
    EVK_TENSOR_WEIGHT,              /* conv [out][in/groups][k][k], linear [out][in] */
    EVK_TENSOR_BIAS,
    EVK_TENSOR_BN_GAMMA,            /* BatchNorm's .weight */
    EVK_TENSOR_BN_BETA,             /* .bias */
    EVK_TENSOR_BN_MEAN,             /* .running_mean */
    EVK_TENSOR_BN_VAR               /* .running_var */
} evk_tensor_role;

typedef struct evk_spec_tensor {
    char key[EVK_TENSOR_KEY_BYTES]; /* "features.2.0.block.1.0.weight" */
    evk_tensor_part part;
    evk_tensor_role role;
    uint32_t rank;
    uint64_t shape[4];
} evk_spec_tensor;

/* Fills `tensors` with the state_dict tensors of `spec` and returns their
 * count (0 for pools and adds, which have no weights); BatchNorm's
 * num_batches_tracked is not among them. */
uint32_t evk_spec_tensors(const evk_layer_spec *spec, evk_spec_tensor tensors[EVK_SPEC_MAX_TENSORS]);

#endif
