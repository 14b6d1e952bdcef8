/* The CNNs of the HetConv and OctConv papers beside EfficientNet (papers.md
 * §1, §2): VGG-16 for CIFAR and the ResNets (dense, HetConv, OctConv), as
 * architectures of efficientnet.h's layer specs that evk_efficientnet_build
 * creates. Key names
 * in docs/models.md; tools/effvk_torch.py defines the same networks. */
#ifndef EFFVK_HOST_MODEL_NETS_H
#define EFFVK_HOST_MODEL_NETS_H

#include "efficientnet.h"

/* The names evk_nets_arch knows, for messages. */
extern const char evk_nets_known[];

/* HetConv's default part and OctConv's default alpha (papers.md). */
#define EVK_NETS_DEFAULT_PART 4
#define EVK_NETS_DEFAULT_ALPHA 0.25

/* The architecture of `normal` (lower case, '-'), with `num_classes`
 * outputs, HetConv part `part` (0: EVK_NETS_DEFAULT_PART) and OctConv
 * alpha `alpha` (0: EVK_NETS_DEFAULT_ALPHA; a negative one is α = 0, the
 * vanilla net). Errors: EVK_ERROR_INVALID_ARGUMENT (unknown name, listing the
 * known ones; part above the narrowest HetConv layer; alpha 1 or more). */
evk_status evk_nets_arch(evk_context *ctx, const char *normal, uint32_t num_classes, uint32_t part,
                         double alpha, evk_arch *out);

#endif
