#!/usr/bin/env bash
# C and C++ formatting by .clang-format (Debian's clang-format-14).
#   scripts/format.sh [FILE...]           reformat the files in place
#   scripts/format.sh --check [FILE...]   list those that differ; exit 1 if any
# Without files: those a change touches against main (what a new commit should
# keep to). The settings are today's style (4-space indent, Linux braces,
# right-bound pointers, 100 columns); the older code's hand-wrapped message
# strings and comment columns are not re-wrapped tree-wide, so a whole-tree
# run reformats about 6 % of its lines. Third-party and generated files are
# left alone.
set -euo pipefail
cd "$(dirname "$0")/.."
formatter=$(command -v clang-format-14 || command -v clang-format || true)
if [ -z "$formatter" ]; then
    echo "format.sh: clang-format not found (Debian's clang-format-14)" >&2
    exit 2
fi
check=0
if [ "${1:-}" = "--check" ]; then
    check=1
    shift
fi
if [ $# -gt 0 ]; then
    files=("$@")
else
    mapfile -t files < <(git diff --name-only --diff-filter=ACMR main -- '*.c' '*.h' '*.cpp')
fi
kept=()
for file in "${files[@]}"; do
    case "$file" in
        tools/stb_image_impl.c | *_expected.h) ;;
        *.c | *.h | *.cpp) kept+=("$file") ;;
    esac
done
[ ${#kept[@]} -gt 0 ] || exit 0
if [ "$check" -eq 0 ]; then
    "$formatter" --style=file -i "${kept[@]}"
    exit 0
fi
differ=0
for file in "${kept[@]}"; do
    if ! "$formatter" --style=file "$file" | cmp -s - "$file"; then
        echo "format.sh: $file differs from .clang-format (scripts/format.sh $file fixes it)"
        differ=1
    fi
done
exit "$differ"
