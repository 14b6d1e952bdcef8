#!/bin/sh
# ctest: the program's files. Every path it reads (weights, input, image)
# refuses a FIFO at once, and every file it writes (the .npy output, the
# bench JSON) keeps the previous file when the write fails (a file-size limit
# of 0) and refuses a target that is not a regular file, which stays.
# Usage: run_program_files.sh EFFVK DIR. Exit 77 (skip) without Debian's torch
# (the weights come from make_nets_case.py).
set -eu
effvk=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
rm -rf "$dir"
"$python" "$here/make_nets_case.py" make vgg16-cifar 0 0 "$dir"
# The run's own pipeline cache: the program's default is ~/.cache/effvk.
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
mkfifo "$dir/fifo"
weights=$dir/weights.safetensors
input=$dir/input.npy

fail() {
    echo "FAIL: $*"
    exit 1
}

# Runs the program under a 10 s timeout and expects a refusal whose message
# says `reason`; a timeout (status 124) means a call blocked.
expect_refusal() {
    reason=$1
    shift
    status=0
    timeout 10 "$effvk" "$@" >"$dir/stdout.txt" 2>"$dir/stderr.txt" || status=$?
    cat "$dir/stderr.txt"
    [ "$status" -ne 124 ] || fail "blocked: $*"
    [ "$status" -ne 0 ] || fail "accepted: $*"
    grep -q "$reason" "$dir/stderr.txt" || fail "the message does not say '$reason': $*"
}

run() {
    "$effvk" run --model vgg16-cifar --weights "$1" --input "$2" --output "$3"
}

expect_refusal "not a regular file" run --model vgg16-cifar --weights "$weights" \
    --input "$dir/fifo" --output "$dir/out.npy"
expect_refusal "not a regular file" run --model vgg16-cifar --weights "$dir/fifo" \
    --input "$input" --output "$dir/out.npy"
expect_refusal "not a regular file" classify --model efficientnet-b0 --weights "$weights" \
    "$dir/fifo"
expect_refusal "not a regular file" bench conv2d --json "$dir/fifo"
expect_refusal "not a regular file" run --model vgg16-cifar --weights "$weights" \
    --input "$input" --output "$dir/fifo"
expect_refusal "not a regular file" run --model vgg16-cifar --weights "$weights" \
    --input "$input" --output /dev/null
[ -c /dev/null ] || fail "/dev/null is no longer a character device"
[ -p "$dir/fifo" ] || fail "the FIFO is gone"

run "$weights" "$input" "$dir/out.npy"
cp "$dir/out.npy" "$dir/previous.npy"
# A file-size limit of 0: every write fails with EFBIG (the program ignores
# SIGXFSZ), as on a full disk. The limited subshell writes only to a pipe; a
# process outside it keeps the log.
(ulimit -f 0 && { run "$weights" "$input" "$dir/out.npy" 2>&1 || echo "exit status $?"; }) |
    cat >"$dir/stderr.txt"
cat "$dir/stderr.txt"
grep -q "exit status [1-9]" "$dir/stderr.txt" || fail "a write past the file-size limit succeeded"
grep -q "unchanged" "$dir/stderr.txt" || fail "the message does not say the file is unchanged"
cmp "$dir/out.npy" "$dir/previous.npy" || fail "the previous output changed"
if ls -A "$dir" | grep -q '\.tmp$'; then
    fail "a temporary file was left behind: $(ls -A "$dir")"
fi
echo "ok: FIFOs refused at once, outputs kept, non-regular targets refused and intact"
