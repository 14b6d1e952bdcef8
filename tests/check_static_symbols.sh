#!/bin/sh
# ctest: libeffvk.a defines exactly the global symbols libeffvk.so exports
# (the EVK_API functions) and nothing else: no volk vk*/volk* pointer and no
# internal evk_* function that could clash with an application's own.
# Usage: check_static_symbols.sh NM ARCHIVE SHARED
set -eu
nm=$1
archive=$2
shared=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$nm" -g --defined-only "$archive" | awk 'NF == 3 { print $3 }' | sort -u >"$tmp/static"
"$nm" -D --defined-only "$shared" | awk 'NF == 3 && $3 ~ /^evk_/ { print $3 }' | sort -u \
    >"$tmp/shared"
if ! cmp -s "$tmp/static" "$tmp/shared"; then
    echo "FAIL: libeffvk.a's global symbols differ from libeffvk.so's exports (< static, > shared):"
    diff "$tmp/static" "$tmp/shared" | head -40
    exit 1
fi
echo "ok: libeffvk.a defines only the $(wc -l <"$tmp/static") public evk_* functions"
