#!/usr/bin/env python3
"""Cases for evk_preprocess against torchvision's tensor path (run with
Debian's /usr/bin/python3: python3-torch, python3-torchvision).

    make_gpu_preprocess_case.py DIR
        For odd-sized 8-bit RGB images (photograph-like, and uniform noise
        where bicubic overshoots), DIR/caseN.rgb (height rows of width RGB
        triplets) and DIR/caseN.f32 (float32, 3 x crop x crop): torchvision's
        functional resize of the uint8 tensor (antialias=True, bilinear or
        bicubic; rounded to uint8 as torchvision does), center_crop, then
        convert_image_dtype to float and normalize with ImageNet's mean and
        std. DIR/cases.txt: a line "N width height resize crop filter" per
        case, filter 1 bilinear, 2 bicubic (evk_resize_filter).
"""
import os
import sys

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]
# (width, height, resize, crop, filter, kind)
CASES = [
    (97, 61, 32, 27, 2, "photo"),
    (61, 97, 40, 33, 1, "photo"),
    (37, 29, 45, 40, 2, "photo"),
    (301, 227, 256, 224, 2, "photo"),
    (255, 199, 64, 57, 1, "noise"),
    (83, 120, 48, 48, 2, "noise"),
]


def image(rng, width, height, kind):
    import numpy as np
    if kind == "noise":
        return rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    y, x = np.mgrid[0:height, 0:width]
    channels = [np.sin(x / (4 + c) + y / (7 - c)) * 90 + 128 for c in range(3)]
    photo = np.stack(channels, axis=-1) + rng.uniform(-12, 12, (height, width, 3))
    return np.clip(photo, 0, 255).astype(np.uint8)


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    import numpy as np
    import torch
    import torchvision.transforms.functional as F
    from torchvision.transforms import InterpolationMode
    directory = argv[0]
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(5)
    lines = []
    for n, (width, height, resize, crop, filter_, kind) in enumerate(CASES):
        rgb = image(rng, width, height, kind)
        tensor = torch.from_numpy(rgb).permute(2, 0, 1).contiguous()
        mode = InterpolationMode.BILINEAR if filter_ == 1 else InterpolationMode.BICUBIC
        resized = F.resize(tensor, resize, interpolation=mode, antialias=True)
        cropped = F.center_crop(resized, crop)
        normal = F.normalize(F.convert_image_dtype(cropped, torch.float32), MEAN, STD)
        rgb.tofile(os.path.join(directory, "case%d.rgb" % n))
        normal.numpy().astype(np.float32).tofile(os.path.join(directory, "case%d.f32" % n))
        lines.append("%d %d %d %d %d %d" % (n, width, height, resize, crop, filter_))
    with open(os.path.join(directory, "cases.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
