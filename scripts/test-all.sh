#!/bin/sh
# test-all.sh -- builds from scratch and runs every test: the format check (.clang-format),
# each libFuzzer target briefly
# (clang, its own build folder), a -Werror build with `make check` (unit and end-to-end, and
# every fuzz corpus input replayed), then `make distcheck` with AddressSanitizer and UBSan
# (the tarball builds out of tree, passes the whole suite under the sanitizers, installs to
# a DESTDIR and uninstalls cleanly).
# --loaded: the same with a busy loop on every core for the whole run, so that timing
# assumptions show (the suite must hold on a busy machine as on an idle one).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
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
# The libFuzzer targets, 10 s each (`make fuzz` runs them longer): clang, in their own build
# folder, configured before the source tree is (a configured source tree refuses others).
rm -rf _fuzz && mkdir _fuzz
(cd _fuzz && ../configure -q --enable-fuzz CC=clang-14 &&
	make -j"$jobs" fuzz FUZZ_SECONDS=10 FUZZ_JOBS="$jobs")
rm -rf _fuzz
# configure's plugin switches are checked by scripts/build-options.sh (two more whole
# builds): run it when configure.ac or a local.mk changes; it is kept out of this script so
# that CI stays within its 30 minutes.
./configure --enable-werror
make check-format
make -j"$jobs"
make -j"$jobs" check
make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-asan --enable-werror"
echo "test-all: every test passed (fuzz targets, plain build, and ASan/UBSan distcheck)"
