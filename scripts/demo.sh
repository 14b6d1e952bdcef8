#!/usr/bin/env bash
# Installs what is missing, builds effvk, and benchmarks the default Vulkan
# device: the measured peak, then every conv2d case timed and checked against
# the CPU reference in the same run. Extra arguments go to `effvk bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)"
./build/effvk info
./build/effvk bench "$@"
