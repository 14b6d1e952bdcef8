#!/bin/sh
# ctest: where the program keeps its pipeline cache. `effvk bench` on a small
# network (no weights file needed) prints "pipeline cache: PATH (loaded)" or
# "(nothing usable: ...)" or "pipeline cache: none" under its device line.
#   - $EFFVK_CACHE_DIR: created with its parents (mode 700), one file there;
#     the second process loads it; a damaged file is ignored and rewritten;
#   - --no-cache: no file, no folder;
#   - else $XDG_CACHE_HOME/effvk, and a relative $XDG_CACHE_HOME is ignored
#     for $HOME/.cache/effvk (the XDG base directory spec);
#   - a folder that cannot be created: the command still succeeds and says
#     so once on stderr.
# Everything stays in a temporary folder, Mesa's shader cache too.
# Usage: check_pipeline_cache.sh EFFVK
set -u
effvk=$1
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir" || exit 1
export MESA_SHADER_CACHE_DIR="$dir/mesa"
unset EFFVK_CACHE_DIR XDG_CACHE_HOME
HOME="$dir/home"
export HOME

fail() {
    echo "FAIL: $*"
    echo "--- stdout:"
    cat "$dir/stdout"
    echo "--- stderr:"
    cat "$dir/stderr"
    exit 1
}

# bench [OPTION]: one short benchmark; must succeed.
bench() {
    "$effvk" bench models --models vgg16-cifar --batch 1 --iterations 1 "$@" \
        >"$dir/stdout" 2>"$dir/stderr" || fail "effvk bench $* failed"
}

# expect_cache PATTERN: the "pipeline cache:" line matches PATTERN (grep -E).
expect_cache() {
    line=$(grep "^pipeline cache: " "$dir/stdout")
    echo "$line" | grep -Eq "^pipeline cache: $1\$" || fail "expected 'pipeline cache: $1'"
}

# stderr without the bench's progress lines (a line per suite and per batch
# of pipelines when stderr is not a terminal).
messages() {
    grep -v -e '^effvk bench: suite ' -e '^effvk bench: creating ' "$dir/stderr"
}

# the_file FOLDER: the one pipelines-*.bin in FOLDER.
the_file() {
    set -- "$1"/pipelines-*.bin
    [ $# = 1 ] && [ -f "$1" ] || fail "no single pipelines-*.bin"
    echo "$1"
}

own="$dir/own/nested/cache"
EFFVK_CACHE_DIR=$own bench
file=$(the_file "$own")
expect_cache "$file \(nothing usable: written at exit\)"
[ "$(stat -c %a "$dir/own")" = 700 ] || fail "$dir/own is not mode 700"
[ "$(head -c 8 "$file")" = EFFVKPC1 ] || fail "$file has no effvk header"
[ -z "$(messages)" ] || fail "wrote to stderr"

EFFVK_CACHE_DIR=$own bench
expect_cache "$file \(loaded\)"

printf 'not a pipeline cache' >"$file"
EFFVK_CACHE_DIR=$own bench
expect_cache "$file \(nothing usable: written at exit\)"
[ "$(head -c 8 "$file")" = EFFVKPC1 ] || fail "the damaged $file was not rewritten"

EFFVK_CACHE_DIR="$dir/off" bench --no-cache
expect_cache "none"
[ ! -e "$dir/off" ] || fail "--no-cache created $dir/off"

XDG_CACHE_HOME="$dir/xdg" bench
expect_cache "$(the_file "$dir/xdg/effvk") \(nothing usable: written at exit\)"

XDG_CACHE_HOME=relative/cache bench
expect_cache "$(the_file "$dir/home/.cache/effvk") \(nothing usable: written at exit\)"
[ ! -e "$dir/relative" ] || fail "a relative XDG_CACHE_HOME was used"

: >"$dir/a-file"
EFFVK_CACHE_DIR="$dir/a-file/cache" bench
expect_cache "none"
[ "$(messages | wc -l)" = 1 ] || fail "expected one line on stderr besides the progress"
grep -q "^effvk bench: running without a pipeline cache: cannot use the folder $dir/a-file/cache: " \
    "$dir/stderr" || fail "no message about the folder"
echo "ok: pipeline cache folders, reuse, damage, --no-cache"
