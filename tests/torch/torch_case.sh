# Sourced by the torch-labelled test scripts: `python` is Debian's python3
# (which has python3-torch and friends; a virtualenv's python3 may not) and
# `here` the scripts' folder. require_modules M... exits 77, ctest's skip,
# when python cannot import them.
python=/usr/bin/python3
here=$(dirname "$0")

require_modules() {
    if ! "$python" -c "import $(echo "$@" | sed 's/ /, /g')" 2>/dev/null; then
        echo "SKIP: $python cannot import $* (scripts/deps.sh installs Debian's" \
             "python3-torch, python3-torchvision and python3-pil)"
        exit 77
    fi
}
