#!/bin/sh
# ctest: one command's usage and its usage errors, without a device.
#   PROGRAM [COMMAND] --help and -h: "usage: NAME [COMMAND] ..." on stdout,
#     nothing on stderr, exit status 0;
#   PROGRAM [COMMAND] --no-such-option: nothing on stdout, one line on stderr,
#     "NAME[ COMMAND]: unknown option '--no-such-option'; see 'NAME[ COMMAND]
#     --help'", exit status 2.
# Neither writes a file: the commands run in an empty folder that must stay
# empty (a layout bench that took its first argument as the JSON path once
# wrote a file named --help).
# Usage: check_usage.sh PROGRAM NAME [COMMAND]; EFFVK_TEST_EMULATOR (a cross
# build's qemu) runs PROGRAM.
set -u
program=$1
name=$2
command=${3:-}
prefix=$name${command:+ $command}
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
mkdir "$dir/cwd"

fail() {
    echo "FAIL: $prefix $*"
    echo "--- stdout:"
    cat "$dir/stdout"
    echo "--- stderr:"
    cat "$dir/stderr"
    exit 1
}

# run EXPECTED_STATUS ARGUMENT: the command with one argument, in the empty folder.
run() {
    # shellcheck disable=SC2086 # an empty $command is no argument; the
    # emulator is a command with its arguments
    (cd "$dir/cwd" && exec ${EFFVK_TEST_EMULATOR:-} "$program" $command "$2") \
        >"$dir/stdout" 2>"$dir/stderr"
    status=$?
    [ "$status" = "$1" ] || fail "$2: exit status $status, expected $1"
    [ -z "$(ls -A "$dir/cwd")" ] || fail "$2: wrote $(ls -A "$dir/cwd")"
}

for option in --help -h; do
    run 0 "$option"
    head -n 1 "$dir/stdout" | grep -q "^usage: $prefix " || fail "$option: no usage line"
    [ ! -s "$dir/stderr" ] || fail "$option: wrote to stderr"
done

run 2 --no-such-option
[ ! -s "$dir/stdout" ] || fail "--no-such-option: wrote to stdout"
expected="$prefix: unknown option '--no-such-option'; see '$prefix --help'"
[ "$(cat "$dir/stderr")" = "$expected" ] || fail "--no-such-option: expected \"$expected\""
echo "ok: $prefix --help, -h and an unknown option"
