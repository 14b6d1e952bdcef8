#!/bin/sh
# ctest: the ONNX importer's fusion passes on small graphs exported by
# torch.onnx.export (make_onnx_case.py nearmiss; its docstring describes
# each): every case's output within 1e-3 max |output| of PyTorch's
# (make_onnx_case.py compare_any), each fused pattern found and each near
# miss left unfused, read from --stats' layer lines (docs/onnx.md: one line
# per layer, its name, its kind and the ONNX nodes it runs):
#   se_ok one mbconv layer, se_relu none;
#   hetconv_ok one hetconv layer, hetconv_stray none;
#   oct_ok at least one octconv layer (one for the whole OctConv, or one per
#   side), and no layer of another kind naming one of its four path convs
#   ('/conv/hh/Conv', lh, hl, ll); oct_stray and oct_kernel (their Y^H side
#   changed) '/conv/hh/Conv' in a layer that is not an octconv (their Y^L
#   side may fuse); oct_maxpool any (a correctness check);
#   ops and ops_pad none of the three kinds, ops_pad its Pad in the layer
#   of the conv after it;
#   every case no layer of the other two kinds.
# oct_stray (a bilinear Resize) uses what docs/onnx.md does not list: for
# it a refusal is accepted instead, exit status 1 with a message naming the
# node (not a crash).
# Usage: run_onnx_nearmiss.sh EFFVK DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing.
set -eu
effvk=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
rm -rf "$EFFVK_CACHE_DIR"
"$python" "$here/make_onnx_case.py" nearmiss "$dir"
failures=0
fail() {
    echo "FAIL: $*"
    failures=$((failures + 1))
}
# check CASE KIND MIN MAX [REFUSAL]: --stats must show MIN to MAX layers of
# KIND (one of mbconv, hetconv, octconv) and none of the other two; a
# REFUSAL, where given, is a fixed string that an accepted refusal's
# message contains.
check() {
    name=$1
    fused=$2
    min=$3
    max=$4
    refusal=${5:-}
    case_dir="$dir/$name"
    ran=0
    echo "== $name"
    code=0
    # fp32: the bound is float32's (as in run_onnx_case.sh).
    "$effvk" run --onnx "$case_dir/model.onnx" --input "$case_dir/input.npy" \
        --output "$case_dir/output.npy" --precision fp32 --stats >"$case_dir/stats.txt" \
        2>"$case_dir/stderr.txt" || code=$?
    cat "$case_dir/stats.txt" "$case_dir/stderr.txt"
    if [ "$code" -ne 0 ]; then
        if [ -n "$refusal" ] && [ "$code" -eq 1 ] &&
            grep -qF "$refusal" "$case_dir/stderr.txt"; then
            echo "$name: refused, naming $refusal (accepted: docs/onnx.md does not list it)"
        else
            fail "$name: effvk run --onnx exited $code"
        fi
        return 0
    fi
    ran=1
    "$python" "$here/make_onnx_case.py" compare_any "$case_dir" || fail "$name: output"
    for kind in mbconv hetconv octconv; do
        # A kind as a word of its own (the stats' layer lines pad it with
        # spaces), case-sensitive (not "MBConv scratch ..."), in the stats
        # without the case's folder (whose name may hold the kind).
        count=$(sed "s|$case_dir||g; s|$dir||g" "$case_dir/stats.txt" |
            grep -Ec "(^|[[:space:]])$kind([[:space:]]|$)" || true)
        if [ "$kind" = "$fused" ]; then
            echo "$name: $count $kind layer(s) in --stats (expected $min to $max)"
            if [ "$count" -lt "$min" ] || [ "$count" -gt "$max" ]; then
                fail "$name: $count $kind layer(s) in --stats, not $min to $max"
            fi
        else
            [ "$count" -eq 0 ] || fail "$name: $count $kind layer(s) in --stats, none expected"
        fi
    done
}
# in_octconv CASE NODE: whether each layer line naming the ONNX node NODE
# is an octconv layer: "yes", "no" (a line of another kind names it) or
# "unnamed" (no line names it: a long fused layer abbreviates its nodes).
in_octconv() {
    lines=$(grep -F "'$2'" "$dir/$1/stats.txt" || true)
    if [ -z "$lines" ]; then
        echo unnamed
    elif echo "$lines" | grep -Evq "(^|[[:space:]])octconv([[:space:]]|$)"; then
        echo no
    else
        echo yes
    fi
}
check se_ok mbconv 1 1
check se_relu mbconv 0 0
check hetconv_ok hetconv 1 1
check hetconv_stray hetconv 0 0
check oct_ok octconv 1 2
if [ "$ran" = 1 ]; then
    for path in hh lh hl ll; do
        [ "$(in_octconv oct_ok /conv/$path/Conv)" != no ] ||
            fail "oct_ok: its /conv/$path/Conv runs in a layer that is not an octconv"
    done
fi
for near_miss in oct_stray oct_kernel; do
    if [ "$near_miss" = oct_stray ]; then
        check oct_stray octconv 0 2 "'/conv/Resize'"
    else
        check oct_kernel octconv 0 2
    fi
    if [ "$ran" = 1 ] && [ "$(in_octconv $near_miss /conv/hh/Conv)" != no ]; then
        fail "$near_miss: its Y^H side (/conv/hh/Conv) was fused as an OctConv"
    fi
done
check oct_maxpool octconv 0 2
check ops octconv 0 0
check ops_pad octconv 0 0
if [ "$ran" = 1 ] &&
    ! grep -F "Pad '/max_conv/max_conv.0/Pad'" "$dir/ops_pad/stats.txt" |
    grep -qF "Conv '/max_conv/max_conv.1/Conv'"; then
    fail "ops_pad: its Pad is not in the layer of the conv after it"
fi
if [ "$failures" -ne 0 ]; then
    echo "$failures check(s) failed"
    exit 1
fi
echo "all near-miss cases ok"
