#!/bin/sh
# Compares the symbols that libipc exports with the committed list, so every
# ABI change shows up as a reviewed diff of tests/abi/symbols.txt.
# Usage: check_symbols.sh LIBRARY SYMBOLS_TXT
set -eu
lib=$1 expected=$2
actual=$(nm -D --defined-only "$lib" | awk '{print $3}' | sort)
stray=$(printf '%s\n' "$actual" | grep -v '^ipc_' || true)
if [ -n "$stray" ]; then
    echo "exported symbols outside the ipc_ namespace:" >&2
    printf '%s\n' "$stray" >&2
    exit 1
fi
if ! printf '%s\n' "$actual" | diff -u "$expected" - ; then
    echo "the exported symbols differ from $expected (shown above as a diff);" >&2
    echo "if the change is intended, update that file" >&2
    exit 1
fi
echo "ABI: $(printf '%s\n' "$actual" | wc -l) symbols, as committed"
