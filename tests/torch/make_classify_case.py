#!/usr/bin/env python3
"""End-to-end case for `effvk classify` against PyTorch (run with Debian's
/usr/bin/python3: python3-torch, python3-torchvision, python3-pil).

    make_classify_case.py make DIR
        DIR/image.png, a small synthetic RGB image; DIR/weights.safetensors,
        torchvision's efficientnet_b0 with random weights and BatchNorm
        statistics (make_efficientnet_case.py's); DIR/expected.txt, the
        index PyTorch's logits rank first on the image preprocessed as a
        torchvision user would, and as effvk does: the B0 weights'
        transforms() on it as a PIL image (resize 256 bicubic, centre crop
        224, ImageNet normalisation).
        Images whose two best logits are too close to tell apart within
        the e2e tests' error bound are skipped for the next seed.
    make_classify_case.py check DIR OUTPUT
        effvk classify's stdout in OUTPUT: five lines "P% INDEX NAME" with
        the names of tools/imagenet_classes.txt, probabilities descending,
        and the first index PyTorch's.
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "tools"))
CLASSES = os.path.join(HERE, "..", "..", "tools", "imagenet_classes.txt")
# The top-1 logit must lead the second by this share of max |logit|: ten
# times make_efficientnet_case.py's error bound.
MARGIN = 1e-2


def synthetic_image(seed, width=48, height=36):
    """Smooth colour gradients with noise, as 8-bit RGB."""
    import numpy as np
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width]
    channels = [np.sin(x / (3 + c) + y / (5 - c) + seed) * 100 + 128 for c in range(3)]
    image = np.stack(channels, axis=-1) + rng.uniform(-20, 20, (height, width, 3))
    return np.clip(image, 0, 255).astype(np.uint8)


def preprocess(rgb):
    from PIL import Image
    from torchvision.models import EfficientNet_B0_Weights
    transform = EfficientNet_B0_Weights.IMAGENET1K_V1.transforms()
    return transform(Image.fromarray(rgb)).unsqueeze(0)


def make(directory):
    import torch
    import torchvision
    from PIL import Image
    from export_safetensors import write_safetensors
    from make_efficientnet_case import WEIGHT_GAIN, randomize
    generator = torch.Generator().manual_seed(6)
    model = torchvision.models.efficientnet_b0(weights=None).eval()
    randomize(model, generator, WEIGHT_GAIN["efficientnet_b0"])
    for seed in range(10):
        rgb = synthetic_image(seed)
        with torch.no_grad():
            logits = model(preprocess(rgb))[0]
        best, second = logits.topk(2).values.tolist()
        scale = float(logits.abs().max())
        print(f"image seed {seed}: top logits {best:.4g}, {second:.4g} (max |logit| {scale:.4g})")
        if best - second >= MARGIN * scale:
            break
    else:
        print("no image with a clear top-1: change MARGIN or the generator")
        return 1
    os.makedirs(directory, exist_ok=True)
    Image.fromarray(rgb).save(os.path.join(directory, "image.png"))
    write_safetensors(model, os.path.join(directory, "weights.safetensors"))
    with open(os.path.join(directory, "expected.txt"), "w") as f:
        f.write(f"{int(logits.argmax())}\n")
    return 0


def check(directory, output):
    names = open(CLASSES).read().splitlines()
    expected = int(open(os.path.join(directory, "expected.txt")).read())
    lines = open(output).read().splitlines()
    if len(lines) != 5:
        print(f"{len(lines)} lines, expected 5:\n" + "\n".join(lines))
        return 1
    previous = 101.0
    for line in lines:
        percent, index, name = line.split(None, 2)
        value, index = float(percent.rstrip("%")), int(index)
        if not (0.0 <= value <= previous and 0 <= index < 1000 and names[index] == name):
            print(f"bad line {line!r}: probabilities must descend, names be ImageNet's")
            return 1
        previous = value
    top = int(lines[0].split()[1])
    print(f"effvk's top-1 {top} ({names[top]}), PyTorch's {expected} ({names[expected]})")
    return 0 if top == expected else 1


def main(argv):
    if len(argv) == 2 and argv[0] == "make":
        return make(argv[1])
    if len(argv) == 3 and argv[0] == "check":
        return check(argv[1], argv[2])
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
