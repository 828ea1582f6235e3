#!/bin/bash
# installcheck.sh -- after `make install`: the installed sample configuration verifies; a
# vendor stage plugin builds out of tree with nothing but the installed headers and
# pkg-config file, is signed with a vendor key by the installed tools, and the installed
# quorumd loads it; then the installed quorumd, plugins and libquorum-clock serve and read
# time as a one-node quorum, and examples/vendor-stage, built by its own Makefile against the
# installed SDK and signed by a vendor key, runs in it (serving time with a floor the node
# meets, refusing every agreement with one it cannot). Run by `make installcheck` (and so by
# `make distcheck`).
# Speaks TAP.
# Environment: SANITIZE_CFLAGS, the flags the installed libraries were built with.
# Usage: installcheck.sh DESTDIR PREFIX BINDIR SBINDIR LIBDIR SYSCONFDIR SRCDIR PKGLIBDIR
set -u
umask 022 # quorumd refuses trust material writable by group or others
DESTDIR=$1 BINDIR=$1$3 SBINDIR=$1$4 LIBDIR=$1$5 SYSCONFDIR=$1$6 SRCDIR=$7 PKGLIBDIR=$1$8
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
echo "1..16"

# Under DESTDIR the sample names the final prefix: check a copy pointing into DESTDIR.
SAMPLE=$SYSCONFDIR/quorum/quorum.conf
if [ -n "$DESTDIR" ]; then
	sed -e "s|^plugin_dir = .*|plugin_dir = \"$PKGLIBDIR\";|" \
		-e "s|\"keys/plugin-dev.pub\"|\"$SYSCONFDIR/quorum/keys/plugin-dev.pub\"|" \
		"$SAMPLE" >"$W/sample.conf"
	SAMPLE=$W/sample.conf
fi
check "the installed sample configuration passes quorumd --check-config" \
	"$SBINDIR/quorumd" --check-config --config "$SAMPLE"

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

# A one-node quorum (n = 1, f = 0) with the installed plugins, read through the installed
# libquorum-clock by a program built with its pkg-config file.
cat >"$W/now.c" <<'END_OF_C'
#include <quorum/clock.h>
#include <stdio.h>
int main(void)
{
	struct quorum_now now;
	int err = quorum_now(&now);

	printf("err=%d status=%d earliest=%lld latest=%lld\n", err, now.status,
	       (long long)now.earliest_ns, (long long)now.latest_ns);
	return err == 0 && now.status == QUORUM_NOW_SYNCHRONISED ? 0 : 1;
}
END_OF_C
clock_pc() { # --cflags | --libs
	PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --define-prefix "$1" quorum-clock
}
# A library built with --enable-asan needs its sanitizer runtime in the program too.
build_reader() {
	cc ${SANITIZE_CFLAGS:-} $(clock_pc --cflags) -o "$W/now" "$W/now.c" $(clock_pc --libs)
}
check "a program builds against libquorum-clock with pkg-config quorum-clock" build_reader
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$BINDIR/quorum-keygen" --out "$W/node" >/dev/null
cat >"$W/solo.conf" <<END_OF_CONF
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$PKGLIBDIR";
trusted_plugin_keys = [ "$SYSCONFDIR/quorum/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $PORT; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $PORT; key = "node.pub"; } );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; }; },
           { name = "merkle"; path = "stages/merkle.so";
             settings = { dir = "merkle"; checkpoint_ms = 50; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
END_OF_CONF
serve_and_read() {
	"$SBINDIR/quorumd" --config "$W/solo.conf" 2>"$W/solo.log" &
	local pid=$! i rc=1
	for i in $(seq 100); do
		if QUORUM_CLOCK="$W/clock" LD_LIBRARY_PATH="$LIBDIR" "$W/now" >"$W/now.out"; then
			rc=0
			break
		fi
		sleep 0.05
	done
	cat "$W/now.out"
	kill -TERM "$pid"
	wait "$pid" || rc=1
	return $rc
}
check "the installed quorumd and plugins serve time the program reads as synchronised" serve_and_read

# The example vendor stage (examples/vendor-stage), built out of tree by its own Makefile
# with the installed SDK only, signed by the installed quorum-sign with a vendor key.
cp -R "$SRCDIR/examples/vendor-stage" "$W/example"
chmod -R u+w "$W/example"
build_example() {
	make -s -C "$W/example" \
		PKG_CONFIG="env PKG_CONFIG_PATH=$LIBDIR/pkgconfig pkg-config --define-prefix" \
		QUORUM_SIGN="$BINDIR/quorum-sign" min-sources.so sign KEY="$W/vendor.key"
}
check "examples/vendor-stage builds with its Makefile and the installed SDK, and is signed" \
	build_example
# with_example MIN: the solo quorum with the example stage requiring MIN sources (the
# vendor key may sign that stage only)
with_example() {
	sed -e "s|^trusted_plugin_keys = \[|trusted_plugin_keys = [ \"$W/vendor.pub\",|" \
		-e "/^trusted_plugin_keys/a plugin_key_scopes = ( { key = \"$W/vendor.pub\"; names = [ \"min-sources\" ]; } );" \
		-e "s|{ name = \"control\"; path = \"stages/control.so\"; } );|{ name = \"control\"; path = \"stages/control.so\"; },\n           { name = \"min-sources\"; path = \"$W/example/min-sources.so\"; settings = { min_accepted = $1; }; } );|" \
		"$W/solo.conf" >"$W/example.conf"
}
with_example 1
example_serves() {
	"$SBINDIR/quorumd" --config "$W/example.conf" 2>"$W/example.log" &
	local pid=$! i rc=1
	for i in $(seq 100); do
		QUORUM_CLOCK="$W/clock" LD_LIBRARY_PATH="$LIBDIR" "$W/now" >/dev/null && { rc=0; break; }
		sleep 0.05
	done
	grep -q "min_sources.started min_accepted=$1" "$W/example.log" || rc=1
	kill -TERM "$pid"
	wait "$pid" || rc=1
	return $rc
}
check "the installed quorumd runs it after convergence; with min_accepted = 1 it serves time" \
	example_serves 1
with_example 2
example_refuses() {
	"$SBINDIR/quorumd" --config "$W/example.conf" 2>"$W/example2.log" &
	local pid=$! rc=0
	sleep 1.5
	LD_LIBRARY_PATH="$LIBDIR" "$BINDIR/quorumctl" time --clock "$W/clock" >/dev/null && rc=1
	grep -q "verdict=reject stage=min-sources reason=vendor_min_sources_not_met" \
		"$W/example2.log" || rc=1
	kill -TERM "$pid"
	wait "$pid" || rc=1
	return $rc
}
check "... with min_accepted = 2 (n = 1) every agreement is refused and nothing is served" \
	example_refuses
check "... the refusals reach the vault (quorumctl vault dump)" \
	sh -c "LD_LIBRARY_PATH='$LIBDIR' '$BINDIR/quorumctl' vault dump '$W/vault' | grep -q vendor_min_sources_not_met"
stopped_unsynchronised() {
	LD_LIBRARY_PATH="$LIBDIR" "$BINDIR/quorumctl" time --clock "$W/clock"
	test $? -eq 1
}
check "the installed quorumctl reads the page (the node stopped: unsynchronised)" \
	stopped_unsynchronised
check "the installed quorumctl verifies the node's vault and its signed checkpoints" \
	env LD_LIBRARY_PATH="$LIBDIR" "$BINDIR/quorumctl" vault verify "$W/vault" --node-key "$W/node.pub"

# A packaged node audits: the sample enables the vault and merkle stages, their folders in
# the state folder `make install` made (systemd's StateDirectory=quorum).
STATE=$(sed -n 's|.*name = "vault"; path = "stages/vault.so"; settings = { dir = "\(.*\)/vault"; }.*|\1|p' \
	"$SYSCONFDIR/quorum/quorum.conf")
sample_audits() {
	grep -q "name = \"merkle\"; path = \"stages/merkle.so\"; settings = { dir = \"$STATE/merkle\"; }" \
		"$SYSCONFDIR/quorum/quorum.conf" &&
		case $STATE in */lib/quorum) true ;; *) false ;; esac &&
		test -d "$DESTDIR$STATE" && test "$(stat -c %a "$DESTDIR$STATE")" = 700
}
check "the installed sample enables the vault and merkle stages in the state folder ($STATE)" \
	sample_audits
# Started from the sample as installed (a node key set, the state folder in the scratch
# folder): it writes and signs its audit log.
sed -e "s|^plugin_dir = .*|plugin_dir = \"$PKGLIBDIR\";|" \
	-e "s|\"keys/plugin-dev.pub\"|\"$SYSCONFDIR/quorum/keys/plugin-dev.pub\"|" \
	-e "s|^  # key = \"keys/node.key\";|  key = \"$W/node.key\";|" \
	-e "s|dir = \"$STATE/|dir = \"$W/packaged-state/|" \
	"$SYSCONFDIR/quorum/quorum.conf" >"$W/packaged.conf"
mkdir -m 0700 "$W/packaged-state" # (the solo node above keeps its state in $W/state)
packaged_audits() {
	"$SBINDIR/quorumd" --config "$W/packaged.conf" 2>"$W/packaged.log" &
	local pid=$! i rc=1
	for i in $(seq 100); do
		grep -q "merkle.checkpoint size=" "$W/packaged.log" && { rc=0; break; }
		sleep 0.05
	done
	kill -TERM "$pid"
	wait "$pid" || rc=1
	[ "$rc" -eq 0 ] && LD_LIBRARY_PATH="$LIBDIR" "$BINDIR/quorumctl" vault verify "$W/packaged-state/vault" \
		--node-key "$W/node.pub"
}
check "a node started from the installed sample keeps a vault its checkpoints sign" \
	packaged_audits
[ "$failed" -eq 0 ]
