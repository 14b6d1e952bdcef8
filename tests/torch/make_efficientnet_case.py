#!/usr/bin/env python3
"""End-to-end case for `effvk run` against PyTorch (run with Debian's
/usr/bin/python3, which has python3-torch and python3-torchvision).

    make_efficientnet_case.py make efficientnet_b0 DIR
        torchvision's model with random weights and random BatchNorm
        statistics, eval mode (refused when PyTorch's fp32 and fp64 logits
        disagree or ignore the input): DIR/weights.safetensors (via
        tools/export_safetensors.py), DIR/input.npy [2, 3, 64, 64] and
        DIR/expected.npy, PyTorch's logits.
    make_efficientnet_case.py compare DIR
        DIR/output.npy against DIR/expected.npy: exit 1 unless
        max |error| <= 1e-3 * max |logit|.
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tools"))
from export_safetensors import write_safetensors  # noqa: E402

INPUT_SHAPE = (2, 3, 64, 64)
BOUND = 1e-3


# Convolution weights are uniform with WEIGHT_GAIN times the unit-variance
# bound sqrt(3 / fan_in): torchvision's fan-out initialisation gives depthwise
# kernels so small that the logits do not depend on the input (two images
# differed by 2e-7), and SiLU and the SE gate shrink the signal in every
# block (tests/test_model.c found the same with its C generator). Too large
# a gain makes the network chaotic: B5 at 1.35 gave logits of 3000 on which
# PyTorch's own fp32 and fp64 differ by 600. make() checks that fp32 and
# fp64 agree far within the bound, so a case can only fail on effvk.
WEIGHT_GAIN = {"efficientnet_b0": 1.35, "efficientnet_b1": 1.35, "efficientnet_b5": 1.25}
DEFAULT_GAIN = 1.25


def randomize(model, generator, gain):
    """Random weights (see WEIGHT_GAIN), BatchNorm affine parameters and
    running statistics."""
    import torch
    for module in model.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            fan_in = module.weight[0].numel()
            bound = gain * (3.0 / fan_in) ** 0.5
            module.weight.data.uniform_(-bound, bound, generator=generator)
        if isinstance(module, torch.nn.BatchNorm2d):
            n = module.num_features
            module.weight.data = torch.empty(n).uniform_(0.5, 1.5, generator=generator)
            module.bias.data = torch.empty(n).uniform_(-0.3, 0.3, generator=generator)
            module.running_mean = torch.empty(n).uniform_(-0.3, 0.3, generator=generator)
            module.running_var = torch.empty(n).uniform_(0.5, 1.5, generator=generator)


def conditioned(model, x, logits):
    """Whether PyTorch's fp32 logits agree with fp64 far within the bound."""
    import copy
    import torch
    with torch.no_grad():
        exact = copy.deepcopy(model).double()(x.double())
    drift = float((logits.double() - exact).abs().max())
    limit = 0.1 * BOUND * float(exact.abs().max())
    print(f"PyTorch fp32 against fp64: max |difference| {drift:.3g} (at most {limit:.3g})")
    return drift <= limit


def make(name, directory):
    import torch
    import torchvision
    torch.manual_seed(6)
    generator = torch.Generator().manual_seed(6)
    model = getattr(torchvision.models, name)(weights=None).eval()
    randomize(model, generator, WEIGHT_GAIN.get(name, DEFAULT_GAIN))
    x = torch.empty(INPUT_SHAPE).uniform_(-2.0, 2.0, generator=generator)
    with torch.no_grad():
        logits = model(x)
    spread = float((logits[0] - logits[1]).abs().max())
    print(f"{name}: logits max |{float(logits.abs().max()):.4g}|, "
          f"largest difference between the two images {spread:.4g}")
    if not conditioned(model, x, logits) or spread < 0.01:
        print("the random case is ill-conditioned or ignores its input: change WEIGHT_GAIN")
        return 1
    save_case(model, x, logits, directory)
    return 0


def save_case(model, x, logits, directory):
    """DIR/weights.safetensors, DIR/input.npy and DIR/expected.npy."""
    os.makedirs(directory, exist_ok=True)
    write_safetensors(model, os.path.join(directory, "weights.safetensors"))
    np.save(os.path.join(directory, "input.npy"), x.numpy().astype("<f4"))
    np.save(os.path.join(directory, "expected.npy"), logits.numpy().astype("<f4"))


def compare(directory):
    expected = np.load(os.path.join(directory, "expected.npy")).astype(np.float64)
    got = np.load(os.path.join(directory, "output.npy")).astype(np.float64)
    if got.shape != expected.shape:
        print(f"output shape {got.shape}, PyTorch's {expected.shape}")
        return 1
    scale = float(np.abs(expected).max())
    error = float(np.abs(got - expected).max())
    ok = np.isfinite(got).all() and error <= BOUND * scale
    print(f"max |logit| {scale:.4g}, max |error| {error:.3g} "
          f"(bound {BOUND * scale:.3g}): {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


def main(argv):
    if len(argv) == 3 and argv[0] == "make":
        return make(argv[1], argv[2])
    if len(argv) == 2 and argv[0] == "compare":
        return compare(argv[1])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
