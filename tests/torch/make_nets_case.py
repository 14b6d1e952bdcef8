#!/usr/bin/env python3
"""End-to-end case for `effvk run` on the VGG, HetConv, ResNet and OctConv
networks (run with Debian's /usr/bin/python3, which has python3-torch and python3-torchvision).

    make_nets_case.py make NAME PART ALPHA DIR [HxW]
        tools/effvk_torch.py's network NAME (or torchvision's, for the dense
        ResNets) with random weights and BatchNorm statistics, eval mode:
        DIR/weights.safetensors, DIR/input.npy and DIR/expected.npy, as
        make_efficientnet_case.py does (same refusal of ill-conditioned cases).
        HxW sets the input's size (batch 1), e.g. 72x56, whose odd feature
        maps check OctConv's odd-size convention.
    make_nets_case.py compare DIR
        as make_efficientnet_case.py compare: max |error| <= 1e-3 max |logit|.
    make_nets_case.py broken DIR
        hetconv-vgg16-cifar (part 4) weights effvk must refuse, each naming
        the key: DIR/masked_tap.safetensors (a non-zero masked tap of
        features.3.weight), DIR/missing.safetensors (no features.7.weight),
        DIR/misshapen.safetensors (classifier.0.weight [512, 256]),
        DIR/non_finite.safetensors (a NaN and two infinities in
        features.0.weight, the first NaN at index 17); and weights that
        load, all finite, but whose logits overflow:
        DIR/overflow.safetensors.
"""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))
sys.path.insert(0, here)
import effvk_torch  # noqa: E402
from export_safetensors import write_safetensors  # noqa: E402
from make_efficientnet_case import compare, conditioned, randomize, save_case  # noqa: E402

# Small inputs keep lavapipe's time modest; CIFAR nets take 32x32.
INPUT_SHAPE = {"vgg16-cifar": (2, 3, 32, 32), "hetconv-vgg16-cifar": (2, 3, 32, 32)}
DEFAULT_INPUT = (1, 3, 64, 64)
WEIGHT_GAIN = 1.25


def randomize_hetconv(model, generator, gain):
    """HetConv weights as randomize() does Conv2d's, with the fan-in of the
    kept taps, then masked."""
    for module in model.modules():
        if isinstance(module, effvk_torch.HetConv2d):
            bound = gain * (3.0 / float(module.mask[0].sum())) ** 0.5
            module.weight.data.uniform_(-bound, bound, generator=generator)
            module.weight.data.mul_(module.mask)


def input_shape(name, size):
    if size is None:
        return INPUT_SHAPE.get(name, DEFAULT_INPUT)
    height, width = (int(v) for v in size.split("x"))
    return (1, 3, height, width)


def make(name, part, alpha, directory, size=None):
    import torch
    torch.manual_seed(6)
    generator = torch.Generator().manual_seed(6)
    model = effvk_torch.build(name, int(part), float(alpha), 10).eval()
    randomize(model, generator, WEIGHT_GAIN)
    randomize_hetconv(model, generator, WEIGHT_GAIN)
    x = torch.empty(input_shape(name, size)).uniform_(-2.0, 2.0, generator=generator)
    with torch.no_grad():
        logits = model(x)
    print(f"{name}: logits max |{float(logits.abs().max()):.4g}|")
    if not conditioned(model, x, logits):
        print("the random case is ill-conditioned: change WEIGHT_GAIN")
        return 1
    save_case(model, x, logits, directory)
    return 0


def broken(directory):
    import torch
    state = effvk_torch.build("hetconv-vgg16-cifar", 4).state_dict()
    os.makedirs(directory, exist_ok=True)
    tap = dict(state)
    tap["features.3.weight"] = tap["features.3.weight"].clone()
    tap["features.3.weight"][0, 1, 0, 0] = 0.5     # input 1 of filter 0 is 1x1 at P = 4
    write_safetensors(tap, os.path.join(directory, "masked_tap.safetensors"))
    missing = {k: v for k, v in state.items() if k != "features.7.weight"}
    write_safetensors(missing, os.path.join(directory, "missing.safetensors"))
    misshapen = dict(state)
    misshapen["classifier.0.weight"] = torch.zeros(512, 256)
    write_safetensors(misshapen, os.path.join(directory, "misshapen.safetensors"))
    non_finite = dict(state)
    weight = non_finite["features.0.weight"].clone()
    weight.view(-1)[17] = float("nan")
    weight.view(-1)[30] = float("inf")
    weight.view(-1)[41] = float("-inf")
    non_finite["features.0.weight"] = weight
    write_safetensors(non_finite, os.path.join(directory, "non_finite.safetensors"))
    # The last BatchNorm's shift near float32's maximum, summed 512 times by
    # classifier.0 with unit weights: +inf, then inf - inf = NaN.
    overflow = dict(state)
    last_bn = [k[:-len(".running_var")] for k in state if k.endswith(".running_var")][-1]
    overflow[last_bn + ".bias"] = torch.full_like(state[last_bn + ".bias"], 3.0e38)
    overflow["classifier.0.weight"] = torch.ones_like(state["classifier.0.weight"])
    write_safetensors(overflow, os.path.join(directory, "overflow.safetensors"))
    np.save(os.path.join(directory, "input.npy"), np.zeros((1, 3, 32, 32), "<f4"))
    return 0


def main(argv):
    if len(argv) in (5, 6) and argv[0] == "make":
        return make(*argv[1:])
    if len(argv) == 2 and argv[0] == "compare":
        return compare(argv[1])
    if len(argv) == 2 and argv[0] == "broken":
        return broken(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
