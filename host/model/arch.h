/* The architecture of a network as a list of layer specs: what each layer
 * is, which slots it reads and the state_dict prefix of its weights. Specs
 * need no device: costs, the state_dict layout (state_dict_layout.h) and
 * the models bench read them without one, and the model builder
 * (state_dict.h) creates the layers they describe.
 *
 * arch.c appends specs, arch_registry.c finds a network's architecture by
 * name in the tables of arch_tables.h, arch_cost.c counts a spec's MACs and
 * parameters. Volk-free, so that the program's benches can include it. */
#ifndef EFFVK_HOST_MODEL_ARCH_H
#define EFFVK_HOST_MODEL_ARCH_H

#include <stddef.h>
#include <stdint.h>

#include "effvk/effvk.h"

/* B7 has 55 MBConv blocks; with stem, head, pool and classifier 59.
 * ResNet-50 has 72: stem, pool, 16 blocks of 3 convs and an add,
 * 4 downsamples, pool, fc. */
#define EVK_ARCH_MAX_LAYERS 80

typedef enum evk_layer_kind {
    EVK_KIND_CONV,                  /* conv + BN + SiLU (stem kxk stride 2, head 1x1) */
    EVK_KIND_MBCONV,
    EVK_KIND_POOL,                  /* global average pool */
    EVK_KIND_LINEAR,                /* classifier, or a hidden layer with `activation` */
    EVK_KIND_HETCONV,               /* HetConv + BN + activation, weight masked dense */
    EVK_KIND_MAX_POOL,              /* kernel, stride, padding */
    EVK_KIND_ADD,                   /* input + skip, then activation */
    /* OctConv + BN + activation; in the costs its slots' shapes are the
     * full-resolution N x C x H x W of both parts together, in the graph
     * X^H and X^L are two slots. */
    EVK_KIND_OCTCONV
} evk_layer_kind;

typedef struct evk_layer_spec {
    evk_layer_kind kind;
    char prefix[32];                /* the state_dict prefix: "features.2.0", "classifier.1" */
    /* The slots it reads: slot 0 is the network's input, slot i + 1 layer
     * i's output; `input` is the previous layer's unless set otherwise,
     * `skip` the add's second operand. */
    uint32_t input, skip;
    uint32_t in_channels, out_channels;
    uint32_t kernel, stride;        /* conv, hetconv, mbconv and max pool */
    uint32_t padding;               /* max pool (convolutions pad (kernel - 1) / 2) */
    uint32_t part;                  /* hetconv's P */
    double alpha_in, alpha_out;     /* octconv: c_L = int(α·C), evk_octconv_low_channels */
    evk_activation activation;      /* conv, hetconv, linear */
    /* Conv and hetconv: empty for torchvision's Conv2dNormActivation
     * (prefix.0.weight, BatchNorm prefix.1), else the weight is
     * prefix.weight and this names its BatchNorm (nn.Sequential of layers). */
    char bn_prefix[32];
    uint32_t expand_ratio, expanded_channels, squeeze_channels; /* mbconv */
} evk_layer_spec;

typedef struct evk_arch {
    char name[32];                  /* "efficientnet-b0" */
    uint32_t resolution;            /* the variant's input size */
    float bn_eps;                   /* torchvision's: 1e-5 for B0-B4, 1e-3 for B5-B7 */
    uint32_t count;
    evk_layer_spec layers[EVK_ARCH_MAX_LAYERS];
} evk_arch;

/* Appends a spec to `arch` (which has room) and returns it, zeroed but for
 * these fields and `input`, the previous layer's output slot. */
evk_layer_spec *evk_arch_add(evk_arch *arch, evk_layer_kind kind, const char *prefix,
                             uint32_t in, uint32_t out);

/* The name of a spec's kind: "conv2d", "mbconv", "global_avg_pool", "linear",
 * "hetconv", "max_pool", "add", "octconv". */
const char *evk_layer_kind_name(evk_layer_kind kind);

/* The architecture of `name` ("efficientnet-b0" .. "efficientnet-b7" and the
 * nets of arch_tables.h; '_' for '-' and upper case accepted) with
 * `num_classes` outputs; `part` and `alpha` are the HetConv and OctConv
 * nets' (0: their default), ignored by the others.
 * Errors (on ctx; NULL: the thread): EVK_ERROR_INVALID_ARGUMENT naming an unknown
 * model and the known ones, or a part out of range. */
evk_status evk_arch_get(evk_context *ctx, const char *name, uint32_t num_classes, uint32_t part,
                        double alpha, evk_arch *out);

/* A spec's output shape, MACs and parameters (as torchvision counts them) on
 * `input`, for a valid architecture; a count that does not fit in 64 bits
 * is EVK_SATURATED (saturating.h). */
void evk_layer_spec_cost(const evk_layer_spec *spec, evk_shape input, evk_shape *output,
                         uint64_t *macs, uint64_t *params);

#endif
