#!/usr/bin/env python3
"""PyTorch on the CPU, for comparison with `effvk bench models` on the same
machine (run with Debian's /usr/bin/python3: python3-torch, python3-torchvision).

    pytorch_cpu.py run --json OUT [--models efficientnet-b0,...] [--batch 1,8]
                       [--iterations N]
        torchvision's EfficientNets and ResNet-50 (torchvision's default random
        initialisation, which keeps activations of unit order: no denormals,
        which would slow a CPU down), eval mode, no grad,
        torch.set_num_threads(os.cpu_count()),
        input of each variant's resolution; the same cases and timed-run
        caps as bench/bench_models.c (B0-B3 at batch 1 and 8, B4-B7 and ResNet-50 at 1)
        unless --models/--batch say otherwise. One warm-up run, then the
        median wall time of the timed runs.

The file (docs/bench-json.md, "PyTorch's file") is one more column of
`effvk report`, which puts it beside effvk's models results:

    effvk report models-lavapipe.json models-pytorch-cpu.json
"""
import argparse
import json
import os
import platform
import statistics
import tempfile
import sys
import time

# docs/bench-json.md: a new minor only adds fields, a new major changes one.
SCHEMA_VERSION = "1.0"

# (model, resolution, default batches, timed runs at most): bench_models.c's.
CASES = [
    ("efficientnet-b0", 224, (1, 8), 10),
    ("efficientnet-b1", 240, (1, 8), 5),
    ("efficientnet-b2", 260, (1, 8), 5),
    ("efficientnet-b3", 300, (1, 8), 3),
    ("efficientnet-b4", 380, (1,), 3),
    ("efficientnet-b5", 456, (1,), 3),
    ("efficientnet-b6", 528, (1,), 2),
    ("efficientnet-b7", 600, (1,), 2),
    ("resnet50", 224, (1,), 3),
]


def cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def time_model(model, batch, resolution, iterations):
    import torch
    x = torch.randn(batch, 3, resolution, resolution)
    times = []
    with torch.no_grad():
        model(x)
        for _ in range(iterations):
            start = time.perf_counter()
            model(x)
            times.append((time.perf_counter() - start) * 1e3)
    return times


def run(args):
    import torch
    import torchvision
    torch.set_num_threads(os.cpu_count())
    models = set(args.models.split(",")) if args.models else None
    batches = [int(b) for b in args.batch.split(",")] if args.batch else None
    results = []
    for name, resolution, default_batches, max_iterations in CASES:
        if models is not None and name not in models:
            continue
        model = getattr(torchvision.models, name.replace("-", "_"))(weights=None).eval()
        for batch in batches or default_batches:
            iterations = min(args.iterations, max_iterations)
            times = time_model(model, batch, resolution, iterations)
            median = statistics.median(times)
            results.append({"name": f"{name} b{batch}", "model": name, "batch": batch,
                            "resolution": resolution, "ms_median": median, "ms_min": min(times),
                            "iterations": iterations, "images_per_s": 1e3 * batch / median})
            print(f"{name} b{batch}: {median:.2f} ms median ({1e3 * batch / median:.2f} "
                  f"images/s, {iterations} runs)", flush=True)
    report = {"schema_version": SCHEMA_VERSION, "framework": "pytorch", "device": "cpu",
              "cpu": cpu_name(), "torch_version": torch.__version__,
              "torchvision_version": torchvision.__version__,
              "threads": torch.get_num_threads(), "results": results}
    write_replacing(args.json, json.dumps(report, indent=2) + "\n")
    return 0


def write_replacing(path, text):
    """Writes beside `path` and renames over it when complete: a failed run
    keeps the previous file."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, temp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".")
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        os.unlink(temp)
        raise


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("run")
    p.add_argument("--json", required=True)
    p.add_argument("--models", help="comma-separated, e.g. efficientnet-b0,efficientnet-b1")
    p.add_argument("--batch", help="comma-separated batch sizes")
    p.add_argument("--iterations", type=int, default=10)
    args = parser.parse_args(argv)
    return run(args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
