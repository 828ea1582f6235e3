#!/bin/sh
# build-options.sh -- configure's switches, each in a build folder of its own beside the source
# tree (which must not be configured itself: scripts/test-all.sh runs this before configuring
# it; INSTALL.md). Two builds:
#  _build-options: --disable-grpc --disable-ws and no SQLite. configure says so, the two
#    plugins, their unit tests and fuzz targets are not built, every other plugin is, the
#    remaining unit tests and the fuzz corpora pass, and the end-to-end tests that need the
#    missing plugins are skipped (rest.sh, which needs neither, runs); make bench would skip
#    the vault benchmark.
#  _build-noglib: no GLib. configure warns and succeeds; `make check` stops at a unit test
#    saying that GLib is missing (configure alone: a plain build compiles nothing of GLib's).
# pkg-config's view of a machine without a module: a folder of links to every .pc file but
# that one (PKG_CONFIG_LIBDIR). Cost: one build of the tree without two plugins; the unit
# tests. Prints "build-options: ..." lines; exits non-zero on the first failure.
set -eu
cd "$(dirname "$0")/.."
src=$(pwd)
jobs=$(nproc 2>/dev/null || echo 2)
if [ -f config.status ]; then
	echo "build-options: the source tree is configured: run make distclean first" >&2
	exit 2
fi
[ -x configure ] || ./autogen.sh
fail() {
	echo "build-options: FAIL: $*" >&2
	exit 1
}
# pc_without DIR MODULE...: DIR holds links to every .pc file pkg-config sees, but MODULE's.
pc_without() {
	dir=$1
	shift
	rm -rf "$dir" && mkdir -p "$dir"
	for d in $(pkg-config --variable pc_path pkg-config | tr ':' ' '); do
		for pc in "$d"/*.pc; do
			[ -e "$pc" ] || continue
			name=$(basename "$pc" .pc)
			for m in "$@"; do [ "$name" = "$m" ] && continue 2; done
			[ -e "$dir/$name.pc" ] || ln -s "$pc" "$dir/$name.pc"
		done
	done
}

# ---- without grpc, ws and SQLite ----
b=$src/_build-options
rm -rf "$b" && mkdir -p "$b"
pc_without "$b/pkgconfig" sqlite3
(cd "$b" && PKG_CONFIG_LIBDIR=$b/pkgconfig "$src/configure" --enable-werror --disable-grpc \
	--disable-ws >configure.out 2>&1) || { tail -20 "$b/configure.out"; fail "configure --disable-grpc --disable-ws"; }
grep -Eq '^ +transport +grpc +no$' "$b/configure.out" || fail "configure's summary does not list grpc as no"
grep -Eq '^ +transport +ws +no$' "$b/configure.out" || fail "configure's summary does not list ws as no"
grep -Eq '^ +transport +rest +yes$' "$b/configure.out" || fail "configure's summary does not list rest as yes"
grep -Eq '^ +SQLite \(bench\): +no$' "$b/configure.out" || fail "configure's summary does not say SQLite: no"
grep -q 'nghttp2' "$b/configure.out" && fail "configure checked nghttp2 for a disabled grpc"
grep -q 'wslay' "$b/configure.out" && fail "configure checked wslay for a disabled ws"
echo "build-options: configure --disable-grpc --disable-ws (no SQLite) passes, checks neither nghttp2 nor wslay"
make -C "$b" -j"$jobs" >"$b/make.out" 2>&1 || { tail -30 "$b/make.out"; fail "make without grpc and ws"; }
for p in stages/passport stages/convergence stages/control stages/gossip stages/vault \
	stages/merkle transports/ntp transports/rest transports/chrony; do
	[ -f "$b/lib/$p.so" ] && [ -f "$b/lib/$p.so.sig" ] || fail "$p.so is not built and signed"
done
for p in transports/grpc transports/ws; do
	[ ! -e "$b/lib/$p.so" ] || fail "$p.so is built although disabled"
done
echo "build-options: make builds and signs the 9 other plugins, not grpc.so nor ws.so"
# The tests make check would run: every unit test (and the fuzz corpora), three end-to-end.
all_tests=$(printf 'print-tests:\n\t@echo $(TESTS)\n' | make -s -C "$b" -f Makefile -f - print-tests)
unit=""
for t in $all_tests; do
	case $t in
	tests/e2e/*) ;;
	*grpc* | */ws/*) fail "make check would run $t" ;;
	*) unit="$unit $t" ;;
	esac
done
e2e="tests/e2e/grpc.sh tests/e2e/ws.sh tests/e2e/check-config.sh tests/e2e/rest.sh"
make -C "$b" -j"$jobs" check TESTS="$unit $e2e" >"$b/check.out" 2>&1 ||
	{ grep -E '^(FAIL|ERROR)' "$b/check.out"; fail "make check in $b"; }
for t in grpc ws check-config; do
	grep -q '^:test-result: SKIP' "$b/tests/e2e/$t.trs" || fail "tests/e2e/$t.sh was not skipped"
done
grep -q '^:test-result: PASS' "$b/tests/e2e/rest.trs" || fail "tests/e2e/rest.sh did not pass"
grep -q 'fuzz target grpc # SKIP' "$b/fuzz/replay.log" || fail "fuzz/replay.sh did not skip grpc's corpus"
echo "build-options: $(echo "$unit" | wc -w) unit tests pass; grpc.sh, ws.sh, check-config.sh skip; rest.sh passes"
make -C "$b" -n bench 2>/dev/null | grep -q 'bench-vault: skipped, configure found no sqlite3' ||
	fail "make bench would not skip the vault benchmark without SQLite"
echo "build-options: without SQLite make bench skips the vault benchmark, saying why"
rm -rf "$b"

# ---- without GLib ----
b=$src/_build-noglib
rm -rf "$b" && mkdir -p "$b"
pc_without "$b/pkgconfig" glib-2.0
(cd "$b" && PKG_CONFIG_LIBDIR=$b/pkgconfig "$src/configure" >configure.out 2>&1) ||
	{ tail -20 "$b/configure.out"; fail "configure without GLib"; }
grep -q 'WARNING: glib-2.0 >= 2.70 was not found: quorumd builds, but make check needs it' \
	"$b/configure.out" || fail "configure without GLib does not warn"
if make -C "$b" tests/unit/test-note >"$b/make.out" 2>&1; then
	fail "a unit test builds without GLib"
fi
grep -q 'make check needs GLib' "$b/make.out" || { tail -5 "$b/make.out"; fail "make check without GLib does not say why"; }
echo "build-options: without GLib configure warns, and make check stops saying GLib is missing"
rm -rf "$b"
