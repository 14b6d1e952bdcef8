#!/bin/sh
# ctest: `effvk run` refuses broken hetconv-vgg16-cifar weights
# (make_nets_case.py broken), each time naming the key in its message, and
# warns when finite weights give logits that are not.
# Usage: run_nets_errors.sh EFFVK DIR. Exit 77 (skip) without Debian's torch.
set -eu
effvk=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
"$python" "$here/make_nets_case.py" broken "$dir"
expect_refusal() {
    file=$1
    key=$2
    if "$effvk" run --model hetconv-vgg16-cifar --weights "$dir/$file" --input "$dir/input.npy" \
        --output "$dir/output.npy" 2>"$dir/stderr.txt"; then
        echo "FAIL: $file loaded"
        exit 1
    fi
    cat "$dir/stderr.txt"
    grep -q "$key" "$dir/stderr.txt" || { echo "FAIL: the message does not name $key"; exit 1; }
}
expect_refusal masked_tap.safetensors features.3.weight
expect_refusal missing.safetensors features.7.weight
expect_refusal misshapen.safetensors classifier.0.weight
expect_refusal non_finite.safetensors "features.0.weight\[17\] is NaN"
if ! "$effvk" run --model hetconv-vgg16-cifar --weights "$dir/overflow.safetensors" \
    --input "$dir/input.npy" --output "$dir/output.npy" 2>"$dir/stderr.txt"; then
    cat "$dir/stderr.txt"
    echo "FAIL: overflow.safetensors did not run"
    exit 1
fi
cat "$dir/stderr.txt"
grep -q "warning: 10 of 10 outputs .* are NaN or infinite" "$dir/stderr.txt" ||
    { echo "FAIL: no warning about the non-finite outputs"; exit 1; }
echo "ok: all four refused, naming the key; the overflow warned about"
