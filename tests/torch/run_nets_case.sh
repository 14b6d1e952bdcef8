#!/bin/sh
# ctest: `effvk run` against PyTorch on one of the VGG, HetConv, ResNet and
# OctConv networks with random weights and BatchNorm statistics (make_nets_case.py).
# Usage: run_nets_case.sh EFFVK MODEL PART ALPHA DIR [HxW]
# HxW: the input's height and width (default: make_nets_case.py's).
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing.
set -eu
effvk=$1
model=$2
part=$3
alpha=$4
dir=$5
size=${6:-}
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
# shellcheck disable=SC2086 # an empty $size is no argument
"$python" "$here/make_nets_case.py" make "$model" "$part" "$alpha" "$dir" $size
# PART and ALPHA 0 mean the model's defaults: no option.
options=""
[ "$part" = 0 ] || options="--part $part"
[ "$alpha" = 0 ] || options="$options --alpha $alpha"
# shellcheck disable=SC2086 # $options is meant to split into words
"$effvk" run --model "$model" $options --weights "$dir/weights.safetensors" \
    --input "$dir/input.npy" --output "$dir/output.npy" --stats
"$python" "$here/make_nets_case.py" compare "$dir"
