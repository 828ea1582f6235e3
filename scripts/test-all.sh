#!/bin/sh
# test-all.sh -- builds from scratch and runs every test: the format check (.clang-format),
# a -Werror build with `make check` (unit and end-to-end, and every fuzz corpus input
# replayed), then `make distcheck` with AddressSanitizer and UBSan (the tarball builds out of
# tree, passes the whole suite under the sanitizers, installs to a DESTDIR and uninstalls
# cleanly). The end-to-end tests mostly wait on rounds and clients, so `make check` runs
# CHECK_JOBS of them at once (default: one more than the cores).
# --loaded: the same with a busy loop on every core for the whole run, so that timing
# assumptions show (the suite must hold on a busy machine as on an idle one).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
check_jobs=${CHECK_JOBS:-$((jobs + 1))}
if [ "${1:-}" = "--loaded" ]; then
	loaders=""
	for i in $(seq "$jobs"); do
		sh -c 'while :; do :; done' &
		loaders="$loaders $!"
	done
	# shellcheck disable=SC2064
	trap "kill $loaders 2>/dev/null" EXIT INT TERM
	echo "test-all: $jobs busy loops running beside the suite (pids$loaders)"
fi
[ ! -f Makefile ] || make distclean >/dev/null 2>&1 || true
./autogen.sh
# Kept out of this script so that CI stays well within its 30 minutes (CONTRIBUTING.md says
# when to run them): the libFuzzer targets (`make fuzz` in a build folder configured with
# --enable-fuzz; their corpora are replayed by every `make check` below) and configure's
# plugin switches (scripts/build-options.sh, two more whole builds).
./configure --enable-werror
make check-format
make -j"$jobs"
make -j"$check_jobs" check
make -j"$check_jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-asan --enable-werror"
echo "test-all: every test passed (plain -Werror build, and ASan/UBSan distcheck)"
