#!/bin/bash
# idle-rss.sh -- resident memory of an idle quorumd: with no plugin, and with every plugin the
# build has (the built-in ones from lib/, else the test fixtures), read from /proc after start.
# RSS_DETAIL=1 also prints its anonymous, file and shared-memory parts.
# Usage: idle-rss.sh BUILDDIR
set -eu
B=$1
W=$(mktemp -d /tmp/quorum-rss.XXXXXX)
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill -KILL "$PID" 2>/dev/null || true
		wait "$PID" 2>/dev/null || true
	fi
	rm -rf "$W"
}
trap cleanup EXIT

"$B/tools/quorum-keygen" --out "$W/k" >/dev/null
mkdir -p "$W/p"
stages= transports=
add() { # SO NAME KIND
	cp "$1" "$W/p/$2.so"
	chmod 0644 "$W/p/$2.so"
	"$B/tools/quorum-sign" --key "$W/k.key" --name "$2" "$W/p/$2.so"
	if [ "$3" = stage ]; then
		stages="$stages${stages:+,} { name = \"$2\"; path = \"$2.so\"; $4 }"
	else
		transports="$transports${transports:+,} { name = \"$2\"; path = \"$2.so\"; $4 }"
	fi
}
builtin=0
# The settings a built-in stage cannot start without (folders under the scratch folder, a
# trust root for the passport stage with no passport yet).
"$B/tools/quorum-keygen" --out "$W/root" >/dev/null
mkdir -p "$W/passports"
stage_settings() {
	case "$1" in
	vault | merkle) echo "settings = { dir = \"$W/$1\"; };" ;;
	passport) echo "settings = { trust_root = \"$W/root.pub\"; passports = \"$W/passports\"; state_dir = \"$W/passport-state\"; };" ;;
	esac
}
for so in "$B"/lib/stages/*.so; do
	[ -e "$so" ] || continue
	name=$(basename "$so" .so)
	add "$so" "$name" stage "$(stage_settings "$name")"
	builtin=1
done
for so in "$B"/lib/transports/*.so; do [ -e "$so" ] && { add "$so" "$(basename "$so" .so)" transport ""; builtin=1; }; done
if [ "$builtin" -eq 0 ]; then
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	add "$B/tests/fixtures/.libs/fixture-stage.so" fixture-stage stage ""
	add "$B/tests/fixtures/.libs/fixture-transport.so" fixture-transport transport \
		"settings = { address = \"127.0.0.1\"; port = $port; };"
fi

measure() { # LABEL STAGES TRANSPORTS
	cat >"$W/q.conf" <<CONF
node = { id = "bench"; };
log = { level = "warning"; };
plugin_dir = "p";
trusted_plugin_keys = [ "k.pub" ];
stages = ( $2 );
transports = ( $3 );
CONF
	"$B/host/quorumd" --config "$W/q.conf" 2>"$W/log" &
	PID=$!
	sleep 1
	if ! kill -0 "$PID" 2>/dev/null; then
		cat "$W/log" >&2
		exit 1
	fi
	rss=$(awk '/^VmRSS/ {print $2}' "/proc/$PID/status")
	[ -z "${RSS_DETAIL:-}" ] || grep -E '^(RssAnon|RssFile|RssShmem|Threads)' "/proc/$PID/status" >&2
	hwm=$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")
	kill -TERM "$PID"
	wait "$PID" || true
	PID=
	awk -v label="$1" -v rss="$rss" -v hwm="$hwm" 'BEGIN {
		printf "%-44s rss_kib=%-6s peak_rss_kib=%-6s (%.2f MiB; target < 8 MiB)\n",
			label, rss, hwm, rss / 1024 }' 
}
measure "quorumd, no plugin" "" ""
if [ "$builtin" -eq 1 ]; then label="quorumd, every built-in plugin"; else label="quorumd, fixture stage + transport"; fi
measure "$label" "$stages" "$transports"
