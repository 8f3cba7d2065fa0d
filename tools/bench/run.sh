#!/bin/sh
# Runs every benchmark given, one after the other, with $BENCH_ARGS.
status=0
for bench in "$@"; do
    # shellcheck disable=SC2086
    "$bench" $BENCH_ARGS || status=1
done
exit $status
