#!/bin/sh
# test-all.sh -- builds from scratch and runs every test: a -Werror build with `make check`
# (unit and end-to-end), then `make distcheck` with AddressSanitizer and UBSan (the tarball
# builds out of tree, passes the whole suite under the sanitizers, installs to a DESTDIR and
# uninstalls cleanly).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)
[ ! -f Makefile ] || make distclean >/dev/null 2>&1 || true
./autogen.sh
./configure --enable-werror
make -j"$jobs"
make -j"$jobs" check
make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-asan --enable-werror"
echo "test-all: every test passed (plain build, and ASan/UBSan distcheck)"
