#!/bin/sh
# ctest: evk_preprocess against torchvision's tensor path
# (make_gpu_preprocess_case.py writes the images and references, the C test
# runs them on the device and compares).
# Usage: run_gpu_preprocess_case.sh TEST_PREPROCESS_GPU_TORCH DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision are missing.
set -eu
checker=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision numpy
"$python" "$here/make_gpu_preprocess_case.py" "$dir"
"$checker" "$dir"
