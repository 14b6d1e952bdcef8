#!/bin/sh
# ctest: effvk classify's preprocessing against PIL and torchvision
# (make_preprocess_case.py writes the images and references, the C test
# compares). No device needed.
# Usage: run_preprocess_case.sh TEST_PREPROCESS_TORCH DIR
# Exit 77 (ctest's skip) when Debian's python3-torch/torchvision/pil are missing.
set -eu
checker=$1
dir=$2
python=/usr/bin/python3
here=$(dirname "$0")
if ! "$python" -c "import torch, torchvision, PIL" 2>/dev/null; then
    echo "SKIP: $python cannot import torch, torchvision and PIL (scripts/deps.sh installs" \
         "Debian's python3-torch, python3-torchvision and python3-pil)"
    exit 77
fi
"$python" "$here/make_preprocess_case.py" images "$dir"
"$checker" "$dir"
