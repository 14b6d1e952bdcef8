#!/bin/sh
# ctest: `effvk run` against PyTorch on one torchvision EfficientNet with
# random weights and BatchNorm statistics (make_efficientnet_case.py).
# Usage: run_efficientnet_case.sh EFFVK TORCHVISION_NAME DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing.
set -eu
effvk=$1
model=$2
dir=$3
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
"$python" "$here/make_efficientnet_case.py" make "$model" "$dir"
"$effvk" run --model "$model" --weights "$dir/weights.safetensors" --input "$dir/input.npy" \
    --output "$dir/output.npy" --stats
"$python" "$here/make_efficientnet_case.py" compare "$dir"
