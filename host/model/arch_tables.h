/* The networks evk_arch_get knows, one table per family: EfficientNet-B0..B7
 * as torchvision builds them (efficientnet_arch.c, papers.md §3), and the
 * CNNs of the HetConv and OctConv papers (nets_arch.c, papers.md §1, §2):
 * VGG-16 for CIFAR and the ResNets (dense, HetConv, OctConv). Key names in
 * docs/models.md; tools/effvk_torch.py defines the same networks. Only the
 * registry (arch_registry.c) reads them. */
#ifndef EFFVK_HOST_MODEL_ARCH_TABLES_H
#define EFFVK_HOST_MODEL_ARCH_TABLES_H

#include "arch.h"

/* The architecture of EfficientNet variant `normal` (lower case, '-') with
 * `num_classes` outputs into `out`; 0 when `normal` names no variant. */
int evk_efficientnet_arch(const char *normal, uint32_t num_classes, evk_arch *out);

/* The names evk_nets_arch knows, for messages. */
extern const char evk_nets_known[];

/* HetConv's default part and OctConv's default alpha (papers.md). */
#define EVK_NETS_DEFAULT_PART 4
#define EVK_NETS_DEFAULT_ALPHA 0.25

/* Whether `normal` (lower case, '-') is one of evk_nets_known. */
int evk_nets_knows(const char *normal);

/* The architecture of `normal`, one of evk_nets_known, with `num_classes`
 * outputs, HetConv part `part` (0: EVK_NETS_DEFAULT_PART) and OctConv alpha
 * `alpha` (0: EVK_NETS_DEFAULT_ALPHA; a negative one is α = 0, the vanilla
 * net). Errors: EVK_ERROR_INVALID_ARGUMENT (part above the narrowest HetConv
 * layer; alpha 1 or more). */
evk_status evk_nets_arch(evk_context *ctx, const char *normal, uint32_t num_classes, uint32_t part,
                         double alpha, evk_arch *out);

#endif
