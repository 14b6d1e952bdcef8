#!/bin/sh
# ctest (label package): effvk as an installed package. Installs the build
# into a temporary prefix and checks the files (versioned shared library
# with SONAME libeffvk.so.MAJOR and its links, libeffvk.a, the header, the
# CMake package, the pkg-config file); then builds and runs consumers that
# each run a conv2d on the default device: find_package in C and C++17,
# pkg-config in C, each against the shared and the static library, and a
# project that add_subdirectory()s the source tree.
# Usage: run_package_test.sh CMAKE BUILD_DIR SOURCE_DIR WORK_DIR CC CXX
set -eu
cmake=$1
build=$2
source=$3
work=$4
cc=$5
cxx=$6
here=$source/tests/package
prefix=$work/prefix
rm -rf "$work"
mkdir -p "$work"

fail() {
    echo "FAIL: $*"
    exit 1
}

"$cmake" --install "$build" --prefix "$prefix" >"$work/install.log"
lib=$prefix/lib
[ -d "$lib" ] || lib=$(dirname "$(find "$prefix" -name 'libeffvk.a' | head -1)")
version=$(sed -n 's/^Version: //p' "$lib/pkgconfig/effvk.pc")
major=${version%%.*}
for file in "$lib/libeffvk.so.$version" "$lib/libeffvk.a" "$prefix/include/effvk/effvk.h" \
            "$lib/cmake/effvk/effvkConfig.cmake" "$lib/cmake/effvk/effvkConfigVersion.cmake" \
            "$prefix/bin/effvk"; do
    [ -f "$file" ] || fail "not installed: $file"
done
[ "$(readlink "$lib/libeffvk.so")" = "libeffvk.so.$major" ] || fail "libeffvk.so -> libeffvk.so.$major"
[ "$(readlink "$lib/libeffvk.so.$major")" = "libeffvk.so.$version" ] ||
    fail "libeffvk.so.$major -> libeffvk.so.$version"
soname=$(objdump -p "$lib/libeffvk.so.$version" | sed -n 's/^ *SONAME *//p')
[ "$soname" = "libeffvk.so.$major" ] || fail "SONAME is '$soname', expected libeffvk.so.$major"
echo "ok: installed $version (SONAME $soname)"

run() {
    "$@" || fail "$*"
}

# find_package, C and C++17, shared and static.
run "$cmake" -S "$here" -B "$work/find_package" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" >"$work/find_package.log"
run "$cmake" --build "$work/find_package" >>"$work/find_package.log"
for program in consumer_shared consumer_static consumer_cxx_shared consumer_cxx_static; do
    run "$work/find_package/$program"
done
if objdump -p "$work/find_package/consumer_static" | grep -q 'NEEDED.*libeffvk'; then
    fail "consumer_static needs libeffvk.so"
fi

# pkg-config, shared and static (the static one takes libeffvk.a and the
# private libraries with --static).
export PKG_CONFIG_PATH="$lib/pkgconfig"
cflags=$(pkg-config --cflags effvk)
# shellcheck disable=SC2086 # the flags are words
run "$cc" $cflags "$here/consumer.c" "$here/conv2d_check.c" -o "$work/pc_shared" \
    $(pkg-config --libs effvk) -lm -Wl,-rpath,"$lib"
run "$work/pc_shared"
# shellcheck disable=SC2086
run "$cc" $cflags "$here/consumer.c" "$here/conv2d_check.c" -o "$work/pc_static" \
    -Wl,-Bstatic -leffvk -Wl,-Bdynamic $(pkg-config --static --libs-only-L --libs-only-other effvk) \
    $(pkg-config --static --libs-only-l effvk | sed 's/-leffvk//')
run "$work/pc_static"
# shellcheck disable=SC2086
run "$cxx" -std=c++17 $cflags "$here/consumer.cpp" -o "$work/pc_cxx" $(pkg-config --libs effvk) \
    -Wl,-rpath,"$lib"
run "$work/pc_cxx"

# add_subdirectory of the source tree: the same target names.
run "$cmake" -S "$here/subdirectory" -B "$work/subdirectory" -DEFFVK_SOURCE_DIR="$source" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release >"$work/subdirectory.log"
run "$cmake" --build "$work/subdirectory" -j 2 >>"$work/subdirectory.log"
run "$work/subdirectory/consumer_shared"
run "$work/subdirectory/consumer_static"
echo "ok: find_package (C, C++17), pkg-config (C, C++17) and add_subdirectory consumers," \
     "shared and static"
