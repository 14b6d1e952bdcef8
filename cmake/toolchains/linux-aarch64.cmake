# Cross-building for 64-bit ARM Linux with Debian's gcc-aarch64-linux-gnu
# and multiarch: arm64 libraries (libcmocka-dev:arm64) live in
# /usr/lib/aarch64-linux-gnu, headers are shared in /usr/include, and the
# build's programs (glslangValidator, spirv-val) are the host's. Tests run
# under qemu-aarch64 (Debian's qemu-user) with the cross sysroot.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_CROSSCOMPILING_EMULATOR qemu-aarch64 -L /usr/aarch64-linux-gnu)
