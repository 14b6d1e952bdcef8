#!/bin/sh
# ctest: what `effvk bench` runs and says while it runs.
#   - no suite: the headline set, every checked result passing, ending with
#     "the papers' promises on this device" and the JSON's "summary" (its
#     networks but B0 left out: with a cold shader cache ResNet-50 and
#     Oct-ResNet-50 take lavapipe minutes to compile);
#   - stderr not a terminal: one line per suite; a terminal (a pty): one
#     line rewritten in place, "suite 1/1 conv2d, result i/6, ETA m:ss";
#   - --device all: one file per device from a %d pattern (a pattern
#     without %d refused when there are several devices);
#   - --all with a suite name: a usage error.
# Everything stays in a temporary folder, the caches too.
# Usage: check_bench_runs.sh EFFVK
set -u
effvk=$1
python=/usr/bin/python3
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
export EFFVK_CACHE_DIR="$dir/cache"
export MESA_SHADER_CACHE_DIR="$dir/mesa"

fail() {
    echo "FAIL: $*"
    for f in stdout stderr; do
        [ -f "$dir/$f" ] && { echo "--- $f:"; tail -n 40 "$dir/$f"; }
    done
    exit 1
}

"$effvk" bench --all conv2d >"$dir/stdout" 2>"$dir/stderr"
[ $? = 2 ] || fail "--all with a suite name is not a usage error"
grep -q "takes no suite names" "$dir/stderr" || fail "the usage error does not say why"

# The headline set, timed once per result.
"$effvk" bench --iterations 1 --models efficientnet-b0 --json "$dir/headline.json" \
    >"$dir/stdout" 2>"$dir/stderr" || fail "the headline run failed"
grep -q "^the papers' promises on this device" "$dir/stdout" || fail "no summary table"
for suite in conv2d hetconv mbconv octconv models; do
    grep -q "^effvk bench: suite [1-5]/5 $suite: [0-9]* results\$" "$dir/stderr" ||
        fail "no progress line for $suite"
done
"$python" - "$dir/headline.json" <<'EOF' || fail "the headline JSON"
import json, sys

doc = json.load(open(sys.argv[1]))
assert doc["schema_version"] == "2.1", doc["schema_version"]
results = doc["results"]
suites = {r["suite"] for r in results}
assert suites == {"conv2d", "hetconv", "mbconv", "octconv", "models"}, suites
assert all(r["check_passed"] is not False for r in results)
unchecked = [r["name"] for r in results if r["check_passed"] is None]
assert all(r["suite"] == "models" or "depthwise" in r["name"] for r in results
           if r["name"] in unchecked), unchecked
summary = doc["summary"]
assert summary["set"] == "headline"
blocks = {p["block"]: p for p in summary["promises"]}
for block in ("HetConv P=4", "HetConv P=16", "OctConv a=0.5", "MBConv fused"):
    p = blocks[block]
    assert p["results"] > 0 and p["speedup"] > 0, p
    assert abs(p["efficiency"] - p["speedup"] / p["macs_ratio"]) < 1e-9, p
hetconv = [r for r in results if r["suite"] == "hetconv" and r["op"] == "hetconv"]
assert {r["params"]["part"] for r in hetconv} == {4, 16}
assert all(r["shape"]["n"] == 32 for r in hetconv)
assert summary["efficientnet_b0"]["result"] == "efficientnet-b0 b1"
roof = summary["roof_fraction"]
assert 0 < roof["worst"]["fraction"] <= roof["best"]["fraction"], roof
print(f"ok: headline, {len(results)} results, {len(unchecked)} not checked in the run")
EOF

# The progress line on a terminal.
"$python" "$(dirname "$0")/run_on_terminal.py" "$dir" "$effvk" bench conv2d --batch 1 \
    --iterations 1 || fail "the run on a terminal"
"$python" - "$dir/terminal" <<'EOF' ||
import re, sys

seen = open(sys.argv[1], "rb").read()
lines = [l for l in seen.decode().split("\r") if l]
results = sorted({int(m.group(1)) for l in lines
                  for m in [re.match(r"suite 1/1 conv2d, result (\d)/6, ETA (-|\d+:\d\d)", l)]
                  if m})
if results != [1, 2, 3, 4, 5, 6]:
    sys.exit(f"FAIL: the terminal showed {lines!r}")
if "\n" in seen.decode().replace("\r\n", ""):
    sys.exit("FAIL: the progress line left a line behind")
print("ok: the terminal showed suite 1/1 conv2d, result 1/6 .. 6/6")
EOF
    fail "the progress line"

# Every device, one file each.
count=$("$effvk" info --json | "$python" -c "import json, sys; print(len(json.load(sys.stdin)['devices']))")
"$effvk" bench conv2d --batch 1 --iterations 1 --device all --json "$dir/device-%d.json" \
    >"$dir/stdout" 2>"$dir/stderr" || fail "--device all failed"
i=0
while [ "$i" -lt "$count" ]; do
    [ -f "$dir/device-$i.json" ] || fail "no device-$i.json"
    i=$((i + 1))
done
[ ! -e "$dir/device-%d.json" ] || fail "the pattern was written literally"
if [ "$count" -gt 1 ]; then
    "$effvk" bench conv2d --device all --json "$dir/one.json" >"$dir/stdout" 2>"$dir/stderr"
    [ $? = 1 ] && grep -q "needs a pattern with %d" "$dir/stderr" ||
        fail "a pattern without %d was taken for $count devices"
fi
echo "ok: --device all wrote $count file(s)"
