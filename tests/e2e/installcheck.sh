#!/bin/bash
# installcheck.sh -- after `make install`: the installed sample configuration verifies; a
# vendor stage plugin builds out of tree with nothing but the installed headers and
# pkg-config file, is signed with a vendor key by the installed tools, and the installed
# quorumd loads it. Run by `make installcheck` (and so by `make distcheck`). Speaks TAP.
# Usage: installcheck.sh DESTDIR PREFIX BINDIR SBINDIR LIBDIR SYSCONFDIR SRCDIR
set -u
DESTDIR=$1 BINDIR=$1$3 SBINDIR=$1$4 LIBDIR=$1$5 SYSCONFDIR=$1$6 SRCDIR=$7
W=$(mktemp -d "${TMPDIR:-/tmp}/quorum-installcheck.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0 failed=0
check() {
	local what=$1
	shift
	n=$((n + 1))
	if "$@" >"$W/out" 2>&1; then echo "ok $n - $what"; else
		echo "not ok $n - $what"
		sed 's/^/# /' "$W/out"
		failed=$((failed + 1))
	fi
}
echo "1..6"

check "the installed sample configuration passes quorumd --check-config" \
	"$SBINDIR/quorumd" --check-config --config "$SYSCONFDIR/quorum/quorum.conf"

# Headers from pkg-config only: the prefix's include dir, relocated under DESTDIR if any.
cflags() {
	PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --define-prefix --cflags quorum 2>/dev/null ||
		PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --cflags quorum
}
check "pkg-config knows the quorum SDK" cflags
CFLAGS_SDK=$(cflags)
check "a vendor stage builds out of tree with \`cc \$(pkg-config --cflags quorum) -shared -fPIC\`" \
	cc $CFLAGS_SDK -shared -fPIC -DFIXTURE_NAME='"vendor-stage"' -DFIXTURE_ROLE=QUORUM_ROLE_MERKLE \
	-o "$W/vendor-stage.so" "$SRCDIR/tests/fixtures/fixture-stage.c"
chmod 0644 "$W/vendor-stage.so"
check "the installed tools make a vendor key and sign the plugin" sh -c \
	"'$BINDIR/quorum-keygen' --out '$W/vendor' && '$BINDIR/quorum-sign' --key '$W/vendor.key' --name vendor-stage '$W/vendor-stage.so'"
cat >"$W/quorum.conf" <<EOF
node = { id = "installcheck"; };
plugin_dir = "$W";
trusted_plugin_keys = [ "vendor.pub" ];
stages = ( { name = "vendor-stage"; path = "vendor-stage.so"; } );
EOF
check "the installed quorumd verifies the vendor plugin" \
	"$SBINDIR/quorumd" --check-config --config "$W/quorum.conf"
start_and_stop() {
	"$SBINDIR/quorumd" --config "$W/quorum.conf" 2>"$W/log" &
	local pid=$! i
	for i in $(seq 100); do grep -q "event=started" "$W/log" && break; sleep 0.05; done
	grep -q "pipeline.stage position=1 name=vendor-stage" "$W/log" || return 1
	kill -TERM "$pid"
	wait "$pid"
}
check "... and runs it as a stage, then stops with status 0" start_and_stop
[ "$failed" -eq 0 ]
