#!/bin/sh
# Runs every libFuzzer target for a bounded time on its corpus; fails on
# the first crash, leak or sanitizer report.  Build first, in a tree
# configured with CC=clang --enable-fuzzing:  make fuzz
#
#   tests/fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET]
set -eu

build=${1:?usage: $0 BUILD_DIR [SECONDS]}
seconds=${2:-60}
src=$(cd "$(dirname "$0")" && pwd)

for target in registration fast_registration request fast_request session admin_path; do
	corpus=$(mktemp -d)
	cp "$src/corpus/$target/"* "$corpus/"
	echo "== fuzz_$target for ${seconds}s"
	dict=
	[ -f "$src/$target.dict" ] && dict=-dict="$src/$target.dict"
	"$build/tests/fuzz/fuzz_$target" -max_total_time="$seconds" $dict \
	    -max_len=8192 -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$build/fuzz-$target-" "$corpus" 2>&1 |
	    grep -E '^(#[0-9]+ +DONE|stat::|==[0-9]+==|SUMMARY|INFO: Running)' || true
	rm -rf "$corpus"
	if ls "$build/fuzz-$target-"* >/dev/null 2>&1; then
		echo "fuzz_$target found a crash: $build/fuzz-$target-*" >&2
		exit 1
	fi
done
