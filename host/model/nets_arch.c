/* VGG-16 for CIFAR (papers.md §1), dense and with HetConv: nn.Sequential
 * `features` of Conv2d(3x3, padding 1, no bias), BatchNorm2d, ReLU per
 * conv and MaxPool2d(2, 2) after each block, `avgpool` (AdaptiveAvgPool2d(1),
 * the identity on CIFAR's 32x32), and `classifier` Linear(512, 512), ReLU,
 * Linear(512, classes).
 * ResNet-34 and -50 as torchvision builds them (v1.5: the bottleneck's
 * stride on its 3x3 conv), torchvision's key names; hetconv-resnet34 has
 * every 3x3 conv but the 7x7 stem as a HetConv, the same keys.
 * octconv-resnet50 follows the official OctConv code (papers.md §2): vanilla
 * stem, OctConv with alpha in stages 1-3 (the first block's input alpha 0),
 * stage 4 vanilla (its first block's conv1 and downsample take alpha in
 * and give 0); its OctConvs read prefix.hh/.hl/.lh/.ll.weight and BatchNorms
 * bn_prefix.h and .l. */
#include <stdio.h>
#include <string.h>

#include "arch_tables.h"
#include "context.h"

const char evk_nets_known[] = "vgg16-cifar, hetconv-vgg16-cifar, resnet34, hetconv-resnet34, "
                               "resnet50, octconv-resnet50";

/* CIFAR VGG-16's conv widths; 0 is a 2x2 max pool. */
static const uint32_t vgg16_layout[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0,
                                        512, 512, 512, 0, 512, 512, 512, 0};

/* The first conv stays dense (papers.md §1); `part` 1 makes them all dense. */
static void vgg16_cifar(uint32_t part, uint32_t num_classes, evk_arch *arch)
{
    uint32_t channels = 3, index = 0;
    for (size_t i = 0; i < sizeof vgg16_layout / sizeof vgg16_layout[0]; ++i) {
        char prefix[32];
        snprintf(prefix, sizeof prefix, "features.%u", index);
        uint32_t width = vgg16_layout[i];
        if (!width) {
            evk_layer_spec *pool = evk_arch_add(arch, EVK_KIND_MAX_POOL, prefix, channels,
                                                channels);
            pool->kernel = pool->stride = 2;
            index += 1;
            continue;
        }
        int het = part > 1 && channels != 3;
        evk_layer_spec *conv = evk_arch_add(arch, het ? EVK_KIND_HETCONV : EVK_KIND_CONV, prefix,
                                            channels, width);
        conv->kernel = 3;
        conv->stride = 1;
        conv->part = het ? part : 1;
        conv->activation = EVK_ACTIVATION_RELU;
        snprintf(conv->bn_prefix, sizeof conv->bn_prefix, "features.%u", index + 1);
        channels = width;
        index += 3;
    }
    evk_arch_add(arch, EVK_KIND_POOL, "avgpool", channels, channels);
    evk_layer_spec *hidden = evk_arch_add(arch, EVK_KIND_LINEAR, "classifier.0", channels, 512);
    hidden->activation = EVK_ACTIVATION_RELU;
    evk_arch_add(arch, EVK_KIND_LINEAR, "classifier.2", 512, num_classes);
}

/* ---- ResNets. */

typedef struct resnet_conv {
    const char *block;              /* "layer1.0"; the stem's "conv1" */
    /* "conv1", "bn1"; "downsample.0", "downsample.1"; the stem's NULL, "bn1"
     * (top-level keys). */
    const char *name, *bn;
    uint32_t in, out, kernel, stride, part, input;
    evk_activation activation;
    double alpha_in, alpha_out;     /* OctConv when either is above 0 */
} resnet_conv;

/* Appends a conv (a HetConv when part > 1) and returns its output slot. */
static uint32_t add_resnet_conv(evk_arch *arch, const resnet_conv *c)
{
    char prefix[32];
    snprintf(prefix, sizeof prefix, "%s%s%s", c->block, c->name ? "." : "",
             c->name ? c->name : "");
    int octave = c->alpha_in > 0.0 || c->alpha_out > 0.0;
    evk_layer_spec *spec = evk_arch_add(arch, octave ? EVK_KIND_OCTCONV
                                              : c->part > 1 ? EVK_KIND_HETCONV : EVK_KIND_CONV,
                                        prefix, c->in, c->out);
    spec->alpha_in = c->alpha_in;
    spec->alpha_out = c->alpha_out;
    spec->input = c->input;
    spec->kernel = c->kernel;
    spec->stride = c->stride;
    spec->part = c->part > 1 ? c->part : 1;
    spec->activation = c->activation;
    if (c->name)
        snprintf(spec->bn_prefix, sizeof spec->bn_prefix, "%s.%s", c->block, c->bn);
    else
        snprintf(spec->bn_prefix, sizeof spec->bn_prefix, "%s", c->bn);
    return arch->count;
}

/* A block's alphas: of its input (the previous block's output) and of its
 * output. */
typedef struct octave {
    double in, out;
} octave;

/* The downsample when the block changes size or width, then the add; the
 * slot of the block's output. */
static uint32_t add_residual(evk_arch *arch, const char *block, uint32_t x, uint32_t in,
                             uint32_t out, uint32_t stride, uint32_t body, octave alpha)
{
    uint32_t skip = x;
    if (stride != 1 || in != out)
        skip = add_resnet_conv(arch, &(resnet_conv){block, "downsample.0", "downsample.1", in,
                                                    out, 1, stride, 1, x, EVK_ACTIVATION_NONE,
                                                    alpha.in, alpha.out});
    evk_layer_spec *add = evk_arch_add(arch, EVK_KIND_ADD, block, out, out);
    add->input = body;
    add->skip = skip;
    add->activation = EVK_ACTIVATION_RELU;
    return arch->count;
}

static uint32_t basic_block(evk_arch *arch, const char *block, uint32_t x, uint32_t in,
                            uint32_t width, uint32_t stride, uint32_t part)
{
    uint32_t a = add_resnet_conv(arch, &(resnet_conv){block, "conv1", "bn1", in, width, 3,
                                                      stride, part, x, EVK_ACTIVATION_RELU,
                                                      0.0, 0.0});
    uint32_t b = add_resnet_conv(arch, &(resnet_conv){block, "conv2", "bn2", width, width, 3, 1,
                                                      part, a, EVK_ACTIVATION_NONE, 0.0, 0.0});
    return add_residual(arch, block, x, in, width, stride, b, (octave){0.0, 0.0});
}

static uint32_t bottleneck(evk_arch *arch, const char *block, uint32_t x, uint32_t in,
                           uint32_t width, uint32_t stride, octave alpha)
{
    double o = alpha.out;
    uint32_t a = add_resnet_conv(arch, &(resnet_conv){block, "conv1", "bn1", in, width, 1, 1, 1,
                                                      x, EVK_ACTIVATION_RELU, alpha.in, o});
    uint32_t b = add_resnet_conv(arch, &(resnet_conv){block, "conv2", "bn2", width, width, 3,
                                                      stride, 1, a, EVK_ACTIVATION_RELU, o, o});
    uint32_t c = add_resnet_conv(arch, &(resnet_conv){block, "conv3", "bn3", width, 4 * width,
                                                      1, 1, 1, b, EVK_ACTIVATION_NONE, o, o});
    return add_residual(arch, block, x, in, 4 * width, stride, c, alpha);
}

/* `alpha` > 0: OctConv in stages 1-3 (bottlenecks only). */
static void resnet(int bottlenecks, uint32_t part, double alpha, uint32_t num_classes,
                   evk_arch *arch)
{
    static const uint32_t blocks[4] = {3, 4, 6, 3};
    add_resnet_conv(arch, &(resnet_conv){"conv1", NULL, "bn1", 3, 64, 7, 2, 1, 0,
                                         EVK_ACTIVATION_RELU, 0.0, 0.0});
    evk_layer_spec *pool = evk_arch_add(arch, EVK_KIND_MAX_POOL, "maxpool", 64, 64);
    pool->kernel = 3;
    pool->stride = 2;
    pool->padding = 1;
    uint32_t x = arch->count, channels = 64;
    octave octaves = {0.0, 0.0};
    for (uint32_t stage = 0; stage < 4; ++stage)
        for (uint32_t j = 0; j < blocks[stage]; ++j) {
            char block[32];
            snprintf(block, sizeof block, "layer%u.%u", stage + 1, j);
            uint32_t width = 64u << stage, stride = stage && !j ? 2 : 1;
            octaves = (octave){octaves.out, stage < 3 ? alpha : 0.0};
            x = bottlenecks ? bottleneck(arch, block, x, channels, width, stride, octaves)
                            : basic_block(arch, block, x, channels, width, stride, part);
            channels = bottlenecks ? 4 * width : width;
        }
    evk_arch_add(arch, EVK_KIND_POOL, "avgpool", channels, channels);
    evk_arch_add(arch, EVK_KIND_LINEAR, "fc", channels, num_classes);
}

/* ---- Lookup. */

typedef enum net_family {
    NET_VGG16_CIFAR, NET_RESNET34, NET_RESNET50, NET_OCT_RESNET50
} net_family;

typedef struct net {
    const char *name;
    net_family family;
    int hetconv;
    uint32_t resolution;
} net;

static const net nets[] = {
    {"vgg16-cifar", NET_VGG16_CIFAR, 0, 32}, {"hetconv-vgg16-cifar", NET_VGG16_CIFAR, 1, 32},
    {"resnet34", NET_RESNET34, 0, 224},      {"hetconv-resnet34", NET_RESNET34, 1, 224},
    {"resnet50", NET_RESNET50, 0, 224},      {"octconv-resnet50", NET_OCT_RESNET50, 0, 224},
};

/* Both HetConv nets' narrowest HetConv layer has 64 input channels. */
enum { NARROWEST_HETCONV = 64 };

static const net *find_net(const char *normal)
{
    for (size_t i = 0; i < sizeof nets / sizeof nets[0]; ++i)
        if (strcmp(normal, nets[i].name) == 0)
            return &nets[i];
    return NULL;
}

int evk_nets_knows(const char *normal)
{
    return find_net(normal) != NULL;
}

evk_status evk_nets_arch(evk_context *ctx, const char *normal, uint32_t num_classes, uint32_t part,
                         double alpha, evk_arch *arch)
{
    const net *n = find_net(normal);
    part = !n->hetconv ? 1 : part ? part : EVK_NETS_DEFAULT_PART;
    if (part > NARROWEST_HETCONV)
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: part %u is above %u, the input "
                        "channels of its narrowest HetConv layer", normal, part,
                        (unsigned)NARROWEST_HETCONV);
    if (n->family != NET_OCT_RESNET50 || alpha < 0.0)
        alpha = 0.0;
    else if (alpha == 0.0)
        alpha = EVK_NETS_DEFAULT_ALPHA;
    if (!(alpha < 1.0))
        return evk_fail(ctx, EVK_ERROR_INVALID_ARGUMENT, "%s: alpha %g is outside [0, 1)", normal,
                        alpha);
    memset(arch, 0, sizeof *arch);
    snprintf(arch->name, sizeof arch->name, "%s", normal);
    arch->resolution = n->resolution;
    arch->bn_eps = 1e-5f;
    if (n->family == NET_VGG16_CIFAR)
        vgg16_cifar(part, num_classes, arch);
    else
        resnet(n->family != NET_RESNET34, part, alpha, num_classes, arch);
    return EVK_SUCCESS;
}
