#!/bin/sh
# ctest: `effvk run --onnx` against PyTorch on one network exported by
# torch.onnx.export at opset 13 with random weights and BatchNorm statistics
# (make_onnx_case.py make): logits within 1e-3 max |logit| and the same
# top 5 (make_onnx_case.py compare), and --stats naming the fused kernel the
# network's blocks must become (kind "mbconv" for efficientnet_b0, "hetconv"
# for the hetconv-* nets, "octconv" for octconv-resnet50) and none of the
# other two; resnet50 and mobilenet_v2 must show none of the three.
# Usage: run_onnx_case.sh EFFVK NAME DIR
# NAME: efficientnet_b0, resnet50, mobilenet_v2, hetconv-vgg16-cifar,
# hetconv-resnet34, octconv-resnet50.
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing.
set -eu
effvk=$1
model=$2
dir=$3
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
case $model in
    efficientnet_b0) fused=mbconv ;;
    hetconv-*) fused=hetconv ;;
    octconv-*) fused=octconv ;;
    resnet50 | mobilenet_v2) fused="" ;;
    *) echo "run_onnx_case.sh: unknown network $model"; exit 2 ;;
esac
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
"$python" "$here/make_onnx_case.py" make "$model" "$dir"
# fp32: the bound is float32's (the 16-bit precisions have their own
# tests), and auto's measurement can pick fp16-storage on a loaded machine,
# where Oct-ResNet-50's random activations (logits near 1e6) overflow half.
# The stats to a file, then shown: `| tee` would hide effvk's exit status
# (sh has no pipefail).
if ! "$effvk" run --onnx "$dir/model.onnx" --input "$dir/input.npy" \
    --output "$dir/output.npy" --precision fp32 --stats >"$dir/stats.txt"; then
    cat "$dir/stats.txt"
    echo "FAIL: effvk run --onnx $dir/model.onnx"
    exit 1
fi
cat "$dir/stats.txt"
"$python" "$here/make_onnx_case.py" compare "$dir"
# A kind as a word of its own (the stats' layer lines pad it with spaces),
# case-sensitive (so not "MBConv scratch ..."), in the stats without the
# case's folder (whose name may hold the kind, as in a cache path).
kind_count() {
    sed "s|$dir||g" "$dir/stats.txt" | grep -Ec "(^|[[:space:]])$1([[:space:]]|$)" || true
}
status=0
for kind in mbconv hetconv octconv; do
    count=$(kind_count $kind)
    if [ "$kind" = "$fused" ]; then
        echo "$model: $count $kind layer(s) in --stats"
        if [ "$count" -eq 0 ]; then
            echo "FAIL: $model: no $kind layer in --stats"
            status=1
        fi
    elif [ "$count" -ne 0 ]; then
        echo "FAIL: $model: $count $kind layer(s) in --stats, none expected"
        status=1
    fi
done
exit $status
