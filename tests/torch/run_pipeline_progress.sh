#!/bin/sh
# ctest: `effvk run`'s pipeline progress and pipeline cache, on vgg16-cifar
# with random weights (make_nets_case.py).
#   - stderr a terminal (a pty): "\rcreating pipelines 0/T", "\r... 1/T", up
#     to "\r... T/T" and a newline, nothing else; --stats names the new cache
#     file ("nothing usable: written at exit");
#   - stderr a pipe: no progress, nothing on stderr;
#   - a second process loads the cache file the first wrote.
# Usage: run_pipeline_progress.sh EFFVK DIR. Exit 77 (skip) without Debian's
# torch.
set -eu
effvk=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision
rm -rf "$dir"
"$python" "$here/make_nets_case.py" make vgg16-cifar 0 0 "$dir"
export EFFVK_CACHE_DIR="$dir/pipeline-cache"
export MESA_SHADER_CACHE_DIR="$dir/mesa-shader-cache"
set -- "$effvk" run --model vgg16-cifar --weights "$dir/weights.safetensors" \
    --input "$dir/input.npy" --output "$dir/output.npy" --stats

fail() {
    echo "FAIL: $*"
    exit 1
}

# The command with stderr on a pseudo-terminal, stdout in $dir/stdout.
"$python" "$here/../run_on_terminal.py" "$dir" "$@" || fail "the run on a terminal"
"$python" - "$dir/terminal" <<'EOF'
import re, sys

seen = open(sys.argv[1], "rb").read()
text = seen.decode().replace("\r\n", "\n")
steps = re.fullmatch(r"((?:\rcreating pipelines \d+/\d+)+)\n", text)
if not steps:
    sys.exit(f"FAIL: the terminal shows {text!r}")
pairs = [tuple(map(int, p)) for p in re.findall(r"(\d+)/(\d+)", steps.group(1))]
total = pairs[0][1]
if total < 1 or pairs != [(i, total) for i in range(total + 1)]:
    sys.exit(f"FAIL: progress {pairs}")
print(f"ok: the terminal showed creating pipelines 0/{total} .. {total}/{total}")
EOF
cache=$(echo "$EFFVK_CACHE_DIR"/pipelines-*.bin)
[ -f "$cache" ] || fail "no cache file in $EFFVK_CACHE_DIR"
grep -qxF "pipeline cache: $cache (nothing usable: written at exit)" "$dir/stdout" ||
    fail "the first run's stats do not name $cache"

"$@" >"$dir/stdout" 2>"$dir/stderr" || fail "the second run failed"
[ ! -s "$dir/stderr" ] || fail "progress or messages on a stderr that is no terminal: $(cat "$dir/stderr")"
grep -qxF "pipeline cache: $cache (loaded)" "$dir/stdout" || fail "the second run did not load $cache"
echo "ok: no progress on a pipe; the second process loaded $cache"
