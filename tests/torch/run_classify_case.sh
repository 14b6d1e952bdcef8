#!/bin/sh
# ctest: `effvk classify` against PyTorch on a random-weight EfficientNet-B0
# and a synthetic PNG (make_classify_case.py), also with --gpu-preprocess,
# then its errors: a missing
# file, an undecodable one, an unknown model, weights of another model.
# Usage: run_classify_case.sh EFFVK DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision/pil are missing.
set -eu
effvk=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision PIL
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
"$python" "$here/make_classify_case.py" make "$dir"
weights=$dir/weights.safetensors
"$effvk" classify --model efficientnet-b0 --weights "$weights" "$dir/image.png" | tee "$dir/output.txt"
"$python" "$here/make_classify_case.py" check "$dir" "$dir/output.txt"
# The same with the preprocessing on the device (one rounding, where PIL's
# CPU path rounds after each pass): the same first class.
"$effvk" classify --gpu-preprocess --model efficientnet-b0 --weights "$weights" "$dir/image.png" \
    | tee "$dir/output-gpu.txt"
"$python" "$here/make_classify_case.py" check "$dir" "$dir/output-gpu.txt"

# Each must fail with a message naming the problem.
expect_failure() {
    pattern=$1
    shift
    if "$effvk" classify "$@" >"$dir/error.txt" 2>&1; then
        echo "FAIL: effvk classify $* succeeded"
        exit 1
    fi
    grep -q "$pattern" "$dir/error.txt" || { echo "FAIL: no '$pattern' in:"; cat "$dir/error.txt"; exit 1; }
    echo "ok: $(head -n 1 "$dir/error.txt")"
}
echo "not an image" >"$dir/not_an_image.png"
expect_failure "cannot open" --model efficientnet-b0 --weights "$weights" "$dir/missing.png"
expect_failure "not a decodable image" --model efficientnet-b0 --weights "$weights" \
    "$dir/not_an_image.png"
expect_failure "unknown model" --model resnet-50 --weights "$weights" "$dir/image.png"
expect_failure "efficientnet-b1\|features" --model efficientnet-b1 --weights "$weights" \
    "$dir/image.png"
expect_failure "cannot open\|No such file" --model efficientnet-b0 \
    --weights "$dir/missing.safetensors" "$dir/image.png"
