#!/usr/bin/env bash
# Installs what is missing, builds with warnings as errors, and runs the whole
# test suite on the default Vulkan device (lavapipe here): as is, with
# lavapipe's subgroup size 4 (LP_NATIVE_VECTOR_WIDTH=128; the PyTorch
# end-to-end tests and the 16-bit precisions' runs only in the first run),
# the device tests under Android's baseline limits
# (EFFVK_LIMITS=android-baseline-2022), and built with AddressSanitizer +
# UndefinedBehaviorSanitizer (a subset of the 16-bit runs); the ONNX reader
# under libFuzzer; then the aarch64 cross-build's GPU-free tests
# under qemu-aarch64 and the threads test under ThreadSanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh

jobs=$(nproc 2>/dev/null || echo 2)
build() {
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFFVK_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}

build build
echo "== ctest (default)"
(cd build && ctest --output-on-failure -j 1)
# The whole-network tests against PyTorch (label torch) run once, above: they
# check the model plumbing, which the subgroup size does not change, and with
# a cold shader cache each compiles minutes of pipelines on lavapipe. So does
# the installed package's test (label package).
# The 16-bit precisions' runs (label fp16) too: their shaders are the same
# sources with other types, which the subgroup size does not treat
# differently.
echo "== ctest (LP_NATIVE_VECTOR_WIDTH=128: subgroup size 4 on lavapipe)"
(cd build && LP_NATIVE_VECTOR_WIDTH=128 ctest --output-on-failure -j 1 -LE 'torch|package|fp16')

# Khronos' Android Baseline 2022 limits (4 storage buffers per stage, 16 KiB
# of shared memory, 128 invocations, ...): every kernel must run within
# them, on the CPU profile and (the *_narrow_tiles tests) the GPU one. The
# baseline has no 16-bit storage, so the 16-bit precisions' runs (label
# fp16) are left out (test_precision checks that they are refused there).
echo "== ctest (EFFVK_LIMITS=android-baseline-2022)"
(cd build && EFFVK_LIMITS=android-baseline-2022 ctest --output-on-failure -j 1 \
    -L 'gpu|torch' -LE 'package|browser|fp16')

# Of the 16-bit runs, the fp16 ones of the tensors, conv2d, MBConv and the
# small ops (the host code of the 16-bit precisions is the same for every
# kernel) and test_precision.
build build-asan -DEFFVK_SANITIZE=ON -DEFFVK_BUILD_TOOLS=OFF
echo "== ctest (AddressSanitizer + UndefinedBehaviorSanitizer)"
(cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --output-on-failure -j 1 \
    -E '_fp16-storage$|_narrow_tiles_fp16$|^test_(hetconv|octconv)_fp16$')

# The ONNX reader under clang's libFuzzer (with ASan and UBSan) for a fixed
# count of runs from a fixed seed, from ONNX's own conformance models when
# installed; fuzz_onnx, the deterministic one, already ran in every pass.
cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFFVK_WERROR=ON \
    -DCMAKE_C_COMPILER=clang-14 -DEFFVK_LIBFUZZER=ON -DEFFVK_BUILD_TOOLS=OFF >/dev/null
cmake --build build-fuzz -j "$jobs" --target fuzz_onnx_libfuzzer
echo "== libFuzzer (the ONNX reader, 200000 runs)"
corpus=$(mktemp -d)
testdata=/usr/share/libonnx-testdata/data/node
if [ -d "$testdata" ]; then
    find "$testdata" -name model.onnx -size -64k |
        while read -r model; do cp "$model" "$corpus/$(echo "$model" | tr / _)"; done
fi
build-fuzz/tests/fuzz_onnx_libfuzzer -runs=200000 -seed=1 "$corpus" 2>&1 | tail -n 3
rm -rf "$corpus"

# The aarch64 cross-build (CMakePresets.json's linux-aarch64) and its
# GPU-free tests under qemu-aarch64: lavapipe under qemu is far too slow for
# the device tests, so ARM is built and unit-tested here, not run on a GPU.
cmake --preset linux-aarch64 -DEFFVK_WERROR=ON >/dev/null
cmake --build --preset linux-aarch64 -j "$jobs"
echo "== ctest (aarch64 cross-build, GPU-free tests under qemu-aarch64)"
(cd build-aarch64 && ctest --output-on-failure -j 1 -L cpu -LE torch)

# Only the test that uses threads: the library itself starts none.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEFFVK_WERROR=ON \
    -DEFFVK_SANITIZE_THREAD=ON -DEFFVK_BUILD_TOOLS=OFF >/dev/null
cmake --build build-tsan -j "$jobs" --target test_threads
echo "== ctest (ThreadSanitizer: test_threads)"
(cd build-tsan && TSAN_OPTIONS="halt_on_error=1 suppressions=$PWD/../tests/tsan.supp" \
    ctest --output-on-failure -j 1 -R '^test_threads$')
