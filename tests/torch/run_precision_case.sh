#!/bin/sh
# ctest: `effvk run --precision` at fp16-storage and fp16 against PyTorch on
# 64 random images of one network (make_precision_case.py).
# Usage: run_precision_case.sh EFFVK MODEL PART ALPHA DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing,
# or when the device has no 16-bit storage.
set -eu
effvk=$1
model=$2
part=$3
alpha=$4
dir=$5
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
if ! "$effvk" info --json | "$python" -c \
    "import json, sys; sys.exit(0 if json.load(sys.stdin)['devices'][0]['fp16_storage'] else 1)"
then
    echo "SKIP: the device has no 16-bit storage"
    exit 77
fi
"$python" "$here/make_precision_case.py" make "$model" "$part" "$alpha" "$dir"
options=""
[ "$part" = 0 ] || options="--part $part"
[ "$alpha" = 0 ] || options="$options --alpha $alpha"
status=0
for precision in fp16-storage fp16; do
    # shellcheck disable=SC2086 # $options is meant to split into words
    "$effvk" run --model "$model" $options --precision "$precision" \
        --weights "$dir/weights.safetensors" --input "$dir/input.npy" \
        --output "$dir/output-$precision.npy"
    "$python" "$here/make_precision_case.py" compare "$dir" "$dir/output-$precision.npy" \
        "$precision" || status=1
done
exit $status
