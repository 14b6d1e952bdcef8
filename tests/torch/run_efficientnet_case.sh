#!/bin/sh
# ctest: `effvk run` against PyTorch on one torchvision EfficientNet with
# random weights and BatchNorm statistics (make_efficientnet_case.py).
# Usage: run_efficientnet_case.sh EFFVK TORCHVISION_NAME DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing.
set -eu
effvk=$1
model=$2
dir=$3
python=/usr/bin/python3
here=$(dirname "$0")
if ! "$python" -c "import torch, torchvision" 2>/dev/null; then
    echo "SKIP: $python cannot import torch and torchvision (scripts/deps.sh installs" \
         "Debian's python3-torch and python3-torchvision)"
    exit 77
fi
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
"$python" "$here/make_efficientnet_case.py" make "$model" "$dir"
"$effvk" run --model "$model" --weights "$dir/weights.safetensors" --input "$dir/input.npy" \
    --output "$dir/output.npy" --stats
"$python" "$here/make_efficientnet_case.py" compare "$dir"
