#!/usr/bin/env bash
# Installs what effvk needs to build and test, from Debian's packages, when it
# is missing. Safe to run again: it installs nothing when all is present.
set -euo pipefail

packages=(cmake gcc make libvulkan-dev mesa-vulkan-drivers vulkan-tools
          vulkan-validationlayers glslang-tools spirv-tools libvulkan-volk-dev libcmocka-dev)
# The package test's consumers: C++17 and pkg-config.
packages+=(g++ pkgconf)
# The models' end-to-end test against PyTorch (tests/torch/, run by
# /usr/bin/python3; a large download).
packages+=(python3-numpy python3-torch python3-torchvision)
# effvk classify decodes images with stb_image (header only); its end-to-end
# test writes a PNG with Pillow.
packages+=(libstb-dev python3-pil)
# effvk report's page is tested in a real browser: headless Chromium.
packages+=(chromium)
# ONNX's own conformance node tests, run through the importer.
packages+=(libonnx-testdata)
# The ONNX reader's coverage-guided fuzzer: clang's libFuzzer.
packages+=(clang-14 libclang-rt-14-dev)
# The aarch64 cross-build (cmake/toolchains/linux-aarch64.cmake) and its
# GPU-free tests under qemu: the cross compilers, qemu-user and cmocka for
# arm64 through Debian's multiarch.
packages+=(gcc-aarch64-linux-gnu g++-aarch64-linux-gnu qemu-user libcmocka-dev:arm64)

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "effvk: installing ${missing[*]}"
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "effvk: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
    sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
dpkg --print-foreign-architectures | grep -qx arm64 ||
    "${sudo_cmd[@]}" dpkg --add-architecture arm64
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
