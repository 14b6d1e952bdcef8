#!/usr/bin/env python3
"""End-to-end accuracy of effvk's 16-bit precisions against PyTorch (run with
Debian's /usr/bin/python3, which has python3-torch and python3-torchvision).

    make_precision_case.py make NAME PART ALPHA DIR
        the network of make_efficientnet_case.py (torchvision's efficientnet_*)
        or make_nets_case.py (tools/effvk_torch.py's networks), random weights
        and BatchNorm statistics as there (the deep ResNets with a smaller
        gain, see NETS_GAIN), and 64 random images (batch 64): DIR/weights.safetensors, DIR/input.npy and
        DIR/expected.npy, PyTorch's float32 logits (refused, as there, when
        PyTorch's float32 and float64 disagree).
    make_precision_case.py compare DIR OUTPUT fp16-storage
        max |error| <= 1e-2 max |logit| over all 64 images, and the same
        top-1 class on every image whose top-2 margin in PyTorch's logits is
        above that bound (a closer call is a tie at this precision; their
        count is printed).
    make_precision_case.py compare DIR OUTPUT fp16
        the same top-1 class on at least 95 % of the 64 images (the figure
        is printed, with the max |error| for the record).
"""
import os
import sys

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "tools"))
sys.path.insert(0, here)
import effvk_torch  # noqa: E402
import make_efficientnet_case as efficientnet_case  # noqa: E402
import make_nets_case as nets_case  # noqa: E402

IMAGES = 64
STORAGE_BOUND = 1e-2
ARITHMETIC_AGREEMENT = 0.95
# Halves hold up to 65504: a case whose activations come near it (the
# OctConv-ResNet-50 of make_nets_case.py's gain reaches 2.6e6) would test
# overflow, not rounding, so the deep ResNets take a smaller weight gain, and
# make() refuses any case whose largest activation exceeds HALF_HEADROOM.
# The ResNets run at 32x32, which keeps 64 images within a minute or two.
NETS_GAIN = {"octconv-resnet50": 1.0, "hetconv-resnet34": 1.1}
NETS_SIZE = {"octconv-resnet50": (3, 32, 32), "hetconv-resnet34": (3, 32, 32)}
HALF_HEADROOM = 16384.0


def build(name, part, alpha, generator):
    import torchvision
    if name.startswith("efficientnet"):
        model = getattr(torchvision.models, name)(weights=None).eval()
        gain = efficientnet_case.WEIGHT_GAIN.get(name, efficientnet_case.DEFAULT_GAIN)
        efficientnet_case.randomize(model, generator, gain)
        return model, efficientnet_case.INPUT_SHAPE[1:]
    model = effvk_torch.build(name, int(part), float(alpha), 10).eval()
    gain = NETS_GAIN.get(name, nets_case.WEIGHT_GAIN)
    nets_case.randomize(model, generator, gain)
    nets_case.randomize_hetconv(model, generator, gain)
    return model, NETS_SIZE.get(name, nets_case.input_shape(name, None)[1:])


def largest_activation(model, x):
    """The largest |value| any module outputs on x."""
    import torch
    largest = [0.0]

    def record(module, inputs, output):
        outputs = output if isinstance(output, tuple) else (output,)
        for value in outputs:
            if isinstance(value, torch.Tensor):
                largest[0] = max(largest[0], float(value.abs().max()))

    hooks = [module.register_forward_hook(record) for module in model.modules()]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    return largest[0]


def make(name, part, alpha, directory):
    import torch
    torch.manual_seed(6)
    generator = torch.Generator().manual_seed(6)
    model, image_shape = build(name, part, alpha, generator)
    x = torch.empty((IMAGES,) + tuple(image_shape)).uniform_(-2.0, 2.0, generator=generator)
    with torch.no_grad():
        logits = model(x)
    print(f"{name}: {IMAGES} images, logits max |{float(logits.abs().max()):.4g}|")
    if not efficientnet_case.conditioned(model, x, logits):
        print("the random case is ill-conditioned: change the weight gain")
        return 1
    largest = largest_activation(model, x)
    print(f"largest activation {largest:.4g} (at most {HALF_HEADROOM:g})")
    if largest > HALF_HEADROOM:
        print("the random case's activations leave half's range: lower its weight gain")
        return 1
    efficientnet_case.save_case(model, x, logits, directory)
    return 0


def compare(directory, output, precision):
    expected = np.load(os.path.join(directory, "expected.npy")).astype(np.float64)
    got = np.load(output).astype(np.float64)
    if got.shape != expected.shape or not np.isfinite(got).all():
        print(f"output shape {got.shape} (PyTorch's {expected.shape}) or not finite")
        return 1
    scale = float(np.abs(expected).max())
    error = float(np.abs(got - expected).max())
    same = got.argmax(axis=1) == expected.argmax(axis=1)
    ranked = np.sort(expected, axis=1)
    margin = ranked[:, -1] - ranked[:, -2]
    agreement = float(same.mean())
    print(f"{precision}: max |logit| {scale:.4g}, max |error| {error:.3g} "
          f"({error / scale:.2e} of it); same top-1 on {int(same.sum())} of {len(same)} "
          f"images ({100 * agreement:.1f} %)")
    if precision == "fp16-storage":
        bound = STORAGE_BOUND * scale
        decided = margin > bound
        flipped = int((~same & decided).sum())
        print(f"  bound {bound:.3g}; {int((~decided).sum())} images within it of a tie; "
              f"{flipped} decided images change class")
        ok = error <= bound and flipped == 0
    else:
        ok = agreement >= ARITHMETIC_AGREEMENT
        print(f"  at least {100 * ARITHMETIC_AGREEMENT:.0f} % required")
    print("ok" if ok else "FAIL")
    return 0 if ok else 1


def main(argv):
    if len(argv) == 5 and argv[0] == "make":
        return make(*argv[1:])
    if len(argv) == 4 and argv[0] == "compare" and argv[3] in ("fp16-storage", "fp16"):
        return compare(*argv[1:])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
