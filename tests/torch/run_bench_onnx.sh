#!/bin/sh
# ctest: `effvk bench models --onnx`: torchvision's resnet50 (random
# weights) exported to ONNX at opset 13 with a dynamic batch, timed once
# against the built-in resnet50 round-robin. The JSON has both results,
# "resnet50 onnx b1" naming "resnet50 b1" as its baseline with a speed-up,
# a MACs ratio of 1 (the same network), params.onnx (the file) and
# params.model; the table prints the ratio under the row. Usage errors
# (exit 2, before any device is opened): a pair outside the models suite, a
# variant the model does not have (the message lists its variants), a
# network paired twice, --onnx with --models.
# Everything stays in DIR, the caches too (cold: about 30 s on lavapipe).
# Usage: run_bench_onnx.sh EFFVK DIR. Exit 77 (skip) without Debian's torch.
set -u
effvk=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
rm -rf "$dir"
mkdir -p "$dir"
export EFFVK_CACHE_DIR="$dir/cache"
export MESA_SHADER_CACHE_DIR="$dir/mesa"

fail() {
    echo "FAIL: $*"
    for f in stdout stderr; do
        [ -f "$dir/$f" ] && { echo "--- $f:"; tail -n 40 "$dir/$f"; }
    done
    exit 1
}

# usage_error PATTERN ARGS...: exit 2 and PATTERN on stderr.
usage_error() {
    pattern=$1
    shift
    "$effvk" bench "$@" >"$dir/stdout" 2>"$dir/stderr"
    status=$?
    [ "$status" = 2 ] || fail "bench $*: exit status $status, expected 2"
    grep -q "$pattern" "$dir/stderr" || fail "bench $*: no \"$pattern\""
}
usage_error "is for the models suite" --onnx "resnet50=$dir/r50.onnx"
usage_error "its variants: P=1, P=4 (the default), P=16, P=64" models \
    --onnx "hetconv-vgg16-cifar:P=3=$dir/vgg.onnx"
usage_error "paired twice" models \
    --onnx "octconv-resnet50=$dir/a.onnx,octconv-resnet50:a=0.25=$dir/b.onnx"
usage_error "takes no --models" models --models resnet50 --onnx "resnet50=$dir/r50.onnx"
echo "ok: the usage errors"

require_modules torch torchvision
"$python" - "$dir/resnet50.onnx" <<'EOF' || fail "the export"
import sys
import torch, torchvision

torch.manual_seed(0)
model = torchvision.models.resnet50(weights=None).eval()
torch.onnx.export(model, torch.rand(1, 3, 224, 224), sys.argv[1], opset_version=13,
                  input_names=["input"], output_names=["logits"],
                  dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}})
EOF
"$effvk" bench models --onnx "resnet50=$dir/resnet50.onnx" --iterations 1 \
    --json "$dir/bench.json" >"$dir/stdout" 2>"$dir/stderr" || fail "the bench failed"
cat "$dir/stdout"
grep -q "^  vs resnet50 b1: speed-up [0-9.]*x (GPU), [0-9.]*x (wall), MACs ratio 1.00x" \
    "$dir/stdout" || fail "no speed-up under the ONNX row"
"$python" - "$dir/bench.json" "$dir/resnet50.onnx" <<'EOF' || fail "the JSON"
import json, sys

results = {r["name"]: r for r in json.load(open(sys.argv[1]))["results"]}
assert sorted(results) == ["resnet50 b1", "resnet50 onnx b1"], sorted(results)
base, onnx = results["resnet50 b1"], results["resnet50 onnx b1"]
assert base["baseline"] is None and "onnx" not in base["params"], base
assert onnx["baseline"] == "resnet50 b1", onnx["baseline"]
assert onnx["params"]["onnx"] == sys.argv[2], onnx["params"]
assert onnx["params"]["model"] == "resnet50", onnx["params"]
assert onnx["shape"] == base["shape"], (onnx["shape"], base["shape"])
speedup = base["gpu_ms_median"] / onnx["gpu_ms_median"]
assert abs(onnx["speedup_vs_baseline"] - speedup) < 1e-9, onnx["speedup_vs_baseline"]
assert onnx["macs_ratio_vs_baseline"] == 1, onnx["macs_ratio_vs_baseline"]
print(f"ok: resnet50 onnx b1, speed-up {speedup:.2f}x over the built-in network")
EOF
