#!/usr/bin/env bash
# Installs what is missing, builds effvk, runs the headline benchmark on the
# default Vulkan device (the measured peaks, a few cases of every suite, each
# checked against the CPU reference, the papers' promises on this device and
# where the networks' time goes) and writes the report page
# build/effvk-report.html, printing its path. Extra arguments go to `effvk
# bench`: --device all benchmarks every device, one file each, all on the
# page.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
./build/effvk info
json=build/effvk-bench.json
for arg in "$@"; do
    [ "$arg" = all ] && json='build/effvk-bench-%d.json'
done
rm -f build/effvk-bench.json build/effvk-bench-*.json
# A result that differs from the reference (exit 3) still makes the page,
# which shows it; the script then fails.
status=0
./build/effvk bench --profile --json "$json" "$@" || status=$?
[ "$status" = 0 ] || [ "$status" = 3 ] || exit "$status"
./build/effvk report build/effvk-bench*.json --html build/effvk-report.html >/dev/null
echo "report: $PWD/build/effvk-report.html"
exit "$status"
