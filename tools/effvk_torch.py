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


def _avg_pool(x):
    """effvk's OctConv pooling: 2x2 average, ceil mode, over the pixels
    inside the map (an odd edge averages 2 or 1)."""
    return F.avg_pool2d(x, 2, ceil_mode=True, count_include_pad=False)


class OctConv2d(nn.Module):
    """An OctConv (papers.md §2) on (X^H, X^L) tuples, X^L None when
    alpha_in gives no low channels; no bias (a BatchNorm follows). Paths
    `hh`, `hl`, `lh`, `ll` are Conv2d (padding (K − 1) / 2), present when
    both ends have channels: c_L = int(alpha · C). Stride 2 follows the
    official code: H→H and L→L on pooled inputs, L→H on X^L without
    upsampling, H→L on X^H pooled twice."""

    def __init__(self, in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride=1):
        super().__init__()
        in_low, out_low = int(alpha_in * in_channels), int(alpha_out * out_channels)
        in_high, out_high = in_channels - in_low, out_channels - out_low
        self.stride = stride

        def path(c_in, c_out):
            if not c_in or not c_out:
                return None
            return nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2, bias=False)
        self.hh, self.hl = path(in_high, out_high), path(in_high, out_low)
        self.lh, self.ll = path(in_low, out_high), path(in_low, out_low)

    def forward(self, x):
        high, low = x
        if self.stride == 2:
            high = _avg_pool(high)
        y_high = self.hh(high)
        if self.lh is not None:
            from_low = self.lh(low)
            if self.stride == 1:
                from_low = F.interpolate(from_low, scale_factor=2, mode="nearest")
                from_low = from_low[:, :, :y_high.shape[2], :y_high.shape[3]]
            y_high = y_high + from_low
        if self.hl is None:
            return y_high, None
        y_low = self.hl(_avg_pool(high))
        if self.ll is not None:
            y_low = y_low + self.ll(_avg_pool(low) if self.stride == 2 else low)
        return y_high, y_low


class OctBatchNorm2d(nn.Module):
    """BatchNorm2d per branch: `h` [c_H] and `l` [c_L] (absent without Y^L)."""

    def __init__(self, channels, alpha):
        super().__init__()
        low = int(alpha * channels)
        self.h = nn.BatchNorm2d(channels - low)
        self.l = nn.BatchNorm2d(low) if low else None

    def forward(self, x):
        return self.h(x[0]), None if self.l is None else self.l(x[1])


def _on_pair(module, x):
    """An octave module on the pair; a plain one on X^H (X^L must be None)."""
    if isinstance(module, (OctConv2d, OctBatchNorm2d)):
        return module(x)
    assert x[1] is None, "a plain layer got an octave map"
    return module(x[0]), None


def _relu_pair(x):
    return F.relu(x[0]), None if x[1] is None else F.relu(x[1])


def _conv_bn(in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride=1):
    if alpha_in > 0 or alpha_out > 0:
        return (OctConv2d(in_channels, out_channels, kernel_size, alpha_in, alpha_out, stride),
                OctBatchNorm2d(out_channels, alpha_out))
    return (nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                      bias=False), nn.BatchNorm2d(out_channels))


class OctBottleneck(nn.Module):
    """torchvision's Bottleneck (v1.5) with OctConv: conv1 alpha_in → alpha,
    conv2 (the stride) and conv3 alpha → alpha, downsample alpha_in →
    alpha; the residual add and ReLU per branch."""

    def __init__(self, in_channels, width, stride, alpha_in, alpha):
        super().__init__()
        self.conv1, self.bn1 = _conv_bn(in_channels, width, 1, alpha_in, alpha)
        self.conv2, self.bn2 = _conv_bn(width, width, 3, alpha, alpha, stride)
        self.conv3, self.bn3 = _conv_bn(width, 4 * width, 1, alpha, alpha)
        self.downsample = None
        if stride != 1 or in_channels != 4 * width:
            self.downsample = nn.Sequential(*_conv_bn(in_channels, 4 * width, 1, alpha_in, alpha,
                                                      stride))

    def forward(self, x):
        out = _relu_pair(_on_pair(self.bn1, _on_pair(self.conv1, x)))
        out = _relu_pair(_on_pair(self.bn2, _on_pair(self.conv2, out)))
        out = _on_pair(self.bn3, _on_pair(self.conv3, out))
        skip = x
        if self.downsample is not None:
            skip = _on_pair(self.downsample[1], _on_pair(self.downsample[0], x))
        low = None if out[1] is None else out[1] + skip[1]
        return _relu_pair((out[0] + skip[0], low))


class OctResNet50(nn.Module):
    """Oct-ResNet-50 with the official conventions (papers.md §2): vanilla
    stem, OctConv with alpha in layer1-layer3 (layer1.0 takes alpha_in 0),
    layer4 vanilla (layer4.0's conv1 and downsample take alpha, give 0).
    torchvision's names; an OctConv's weights are NAME.hh/.hl/.lh/.ll.weight,
    its BatchNorm's BN.h and BN.l. effvk's octconv-resnet50 --alpha A."""

    def __init__(self, alpha=0.25, num_classes=1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        channels, previous = 64, 0.0
        for stage, blocks in enumerate((3, 4, 6, 3)):
            layer_alpha, width, modules = alpha if stage < 3 else 0.0, 64 << stage, []
            for j in range(blocks):
                stride = 2 if stage and not j else 1
                modules.append(OctBottleneck(channels, width, stride, previous, layer_alpha))
                channels, previous = 4 * width, layer_alpha
            setattr(self, f"layer{stage + 1}", nn.Sequential(*modules))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(2048, num_classes)

    def forward(self, x):
        x = (self.maxpool(F.relu(self.bn1(self.conv1(x)))), None)
        for stage in (self.layer1, self.layer2, self.layer3, self.layer4):
            x = stage(x)
        return self.fc(torch.flatten(self.avgpool(x[0]), 1))


# effvk model name -> constructor(part, alpha, num_classes)
MODELS = {
    "vgg16-cifar": lambda part, alpha, classes: VGG16Cifar(1, classes),
    "hetconv-vgg16-cifar": lambda part, alpha, classes: VGG16Cifar(part or 4, classes),
    "resnet34": lambda part, alpha, classes: resnet(34, classes),
    "hetconv-resnet34": lambda part, alpha, classes: hetconv_resnet34(part or 4, classes),
    "resnet50": lambda part, alpha, classes: resnet(50, classes),
    "octconv-resnet50": lambda part, alpha, classes: OctResNet50(
        0.25 if alpha == 0 else max(alpha, 0.0), classes),
}


def build(name, part=0, alpha=0.0, num_classes=10):
    """The network `effvk run --model name --part part --alpha alpha` runs."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r} (known: {', '.join(MODELS)})")
    return MODELS[name](part, alpha, num_classes)
