#!/bin/sh
# ctest: effvk classify's preprocessing against PIL and torchvision
# (make_preprocess_case.py writes the images and references, the C test
# compares). No device needed.
# Usage: run_preprocess_case.sh TEST_PREPROCESS_TORCH DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision/pil are missing.
set -eu
checker=$1
dir=$2
. "$(dirname "$0")/torch_case.sh"
require_modules torch torchvision PIL
"$python" "$here/make_preprocess_case.py" images "$dir"
"$checker" "$dir"
