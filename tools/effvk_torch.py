#!/usr/bin/env python3
"""PyTorch definitions of effvk's HetConv and OctConv networks, with the key
names `effvk run --model NAME` loads (docs/models.md), so that they can be
trained in PyTorch and exported with tools/export_safetensors.py:

    import effvk_torch, export_safetensors
    model = effvk_torch.vgg16_cifar(part=4)           # hetconv-vgg16-cifar
    ... train ...
    export_safetensors.write_safetensors(model.eval(), "vgg.safetensors")

HetConv (papers.md §1) is the paper's interleaved rule as a masked dense
Conv2d: filter o keeps the K×K kernel of the inputs i with
(i − o) mod P == 0 and only the centre tap of the others. The masked taps
are zero at creation and get no gradient (the forward multiplies by the
mask), so a trained weight keeps them zero; effvk refuses a non-zero one.
"""
import torch
from torch import nn
from torch.nn import functional as F


def hetconv_mask(out_channels, in_channels, kernel_size, part):
    """[out][in][K][K]: 1 on the taps a HetConv filter keeps."""
    mask = torch.zeros(out_channels, in_channels, kernel_size, kernel_size)
    centre = kernel_size // 2
    mask[:, :, centre, centre] = 1.0
    for o in range(out_channels):
        mask[o, (o % part)::part] = 1.0
    return mask


class HetConv2d(nn.Module):
    """A K×K HetConv with part P, stride s and padding (K − 1) / 2, no bias
    (a BatchNorm follows). State: `weight` [out][in][K][K], masked."""

    def __init__(self, in_channels, out_channels, kernel_size=3, part=4, stride=1):
        super().__init__()
        if not 1 <= part <= in_channels:
            raise ValueError(f"part {part} must be 1 to in_channels {in_channels}")
        self.stride = stride
        self.padding = kernel_size // 2
        self.register_buffer("mask", hetconv_mask(out_channels, in_channels, kernel_size, part),
                             persistent=False)
        self.weight = nn.Parameter(torch.empty(out_channels, in_channels, kernel_size,
                                               kernel_size))
        nn.init.kaiming_normal_(self.weight, mode="fan_out", nonlinearity="relu")
        with torch.no_grad():
            self.weight.mul_(self.mask)

    def forward(self, x):
        return F.conv2d(x, self.weight * self.mask, None, self.stride, self.padding)


VGG16_LAYOUT = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M",
                512, 512, 512, "M", 512, 512, 512, "M"]


class VGG16Cifar(nn.Module):
    """CIFAR VGG-16 (papers.md §1): `features` Conv/HetConv, BatchNorm2d,
    ReLU per layer and MaxPool2d(2, 2) per block (the first conv always
    dense); `avgpool`; `classifier` Linear(512, 512), ReLU, Linear(512,
    classes). part 1 is effvk's vgg16-cifar, part P > 1 its
    hetconv-vgg16-cifar with --part P."""

    def __init__(self, part=1, num_classes=10):
        super().__init__()
        layers, channels = [], 3
        for width in VGG16_LAYOUT:
            if width == "M":
                layers.append(nn.MaxPool2d(2, 2))
                continue
            if part > 1 and channels != 3:
                layers.append(HetConv2d(channels, width, 3, part))
            else:
                layers.append(nn.Conv2d(channels, width, 3, padding=1, bias=False))
            layers += [nn.BatchNorm2d(width), nn.ReLU(inplace=True)]
            channels = width
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Sequential(nn.Linear(512, 512), nn.ReLU(inplace=True),
                                        nn.Linear(512, num_classes))

    def forward(self, x):
        x = self.avgpool(self.features(x))
        return self.classifier(torch.flatten(x, 1))


def vgg16_cifar(part=1, num_classes=10):
    return VGG16Cifar(part, num_classes)


def resnet(depth, num_classes=1000):
    """torchvision's resnet34 / resnet50: effvk's resnet34, resnet50."""
    import torchvision
    return getattr(torchvision.models, f"resnet{depth}")(weights=None, num_classes=num_classes)


def hetconv_resnet34(part=4, num_classes=1000):
    """torchvision's resnet34 with every 3×3 conv (both of each BasicBlock,
    not the 7×7 stem nor the 1×1 downsamples) a HetConv of part P: the same
    keys (layerS.J.convK.weight), effvk's hetconv-resnet34."""
    model = resnet(34, num_classes)
    for stage in (model.layer1, model.layer2, model.layer3, model.layer4):
        for block in stage:
            for name in ("conv1", "conv2"):
                conv = getattr(block, name)
                setattr(block, name, HetConv2d(conv.in_channels, conv.out_channels, 3, part,
                                               conv.stride[0]))
    return model


# effvk model name -> constructor(part, alpha, num_classes)
MODELS = {
    "vgg16-cifar": lambda part, alpha, classes: VGG16Cifar(1, classes),
    "hetconv-vgg16-cifar": lambda part, alpha, classes: VGG16Cifar(part or 4, classes),
    "resnet34": lambda part, alpha, classes: resnet(34, classes),
    "hetconv-resnet34": lambda part, alpha, classes: hetconv_resnet34(part or 4, classes),
    "resnet50": lambda part, alpha, classes: resnet(50, classes),
}


def build(name, part=0, alpha=0.0, num_classes=10):
    """The network `effvk run --model name --part part --alpha alpha` runs."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return MODELS[name](part, alpha, num_classes)
