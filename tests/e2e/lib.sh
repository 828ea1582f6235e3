# lib.sh -- helpers for the end-to-end tests: TAP output, scratch folders, free ports, real
# quorumd processes (always reaped, also when a test fails), log and HTTP waits.
# Sourced by tests/e2e/*.sh; needs QUORUM_BUILDDIR (set by `make check`).

set -u
# quorumd refuses trust material writable by group or others (StrictModes): what the tests
# write must not be, whatever the caller's umask.
umask 022
: "${QUORUM_BUILDDIR:?run through make check, or set QUORUM_BUILDDIR}"
: "${QUORUM_FIXTURES:=$QUORUM_BUILDDIR/tests/fixtures/.libs}"
QUORUMD=$QUORUM_BUILDDIR/host/quorumd
# ASAN: 1 when quorumd is built with AddressSanitizer (its allocator's RSS and its speed are
# not the product's: tests report such figures without judging them).
ASAN=
{ ldd "$QUORUMD" 2>/dev/null | grep -q libasan || grep -aq __asan_init "$QUORUMD"; } && ASAN=1
KEYGEN=$QUORUM_BUILDDIR/tools/quorum-keygen
SIGN=$QUORUM_BUILDDIR/tools/quorum-sign
PYTHON=/usr/bin/python3
: "${QUORUM_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
# The host's plugin ABI, read from the SDK header.
ABI_MAJOR=$(sed -n 's/^#define QUORUM_ABI_MAJOR *\([0-9]*\)$/\1/p' "$QUORUM_SRCDIR/host/include/quorum/plugin.h")
ABI_MINOR=$(sed -n 's/^#define QUORUM_ABI_MINOR *\([0-9]*\)$/\1/p' "$QUORUM_SRCDIR/host/include/quorum/plugin.h")

tap_count=0
tap_failed=0
PIDS=""

plan() { echo "1..$1"; }
ok() { tap_count=$((tap_count + 1)); echo "ok $tap_count - $*"; }
not_ok() {
	tap_count=$((tap_count + 1))
	tap_failed=$((tap_failed + 1))
	echo "not ok $tap_count - $*"
}
diag() { printf '# %s\n' "$@"; }
# check DESCRIPTION COMMAND...: one TAP line from COMMAND's status.
check() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else not_ok "$what"; fi
}

cleanup() {
	local pid
	for pid in $PIDS; do
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	[ -n "${SCRATCH:-}" ] && [ -z "${KEEP_SCRATCH:-}" ] && rm -rf "$SCRATCH"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/quorum-e2e.XXXXXX")

# require_plugins KIND/NAME...: skips the whole test (TAP "1..0 # SKIP", before any plan) when
# one of these plugins is not in the build tree (configure --disable-NAME). Call it before
# plan. Sourcing lib.sh already requires every plugin the test script names literally as
# stages/NAME.so or transports/NAME.so, and those of scripts/local-quorum.sh when the test
# runs it; a test that builds a plugin's name at run time calls require_plugins itself.
require_plugins() {
	local p missing=
	for p in "$@"; do
		[ -e "$QUORUM_BUILDDIR/lib/$p.so" ] || missing="$missing ${p#*/}"
	done
	[ -z "$missing" ] && return 0
	echo "1..0 # SKIP plugin(s)$missing not built (configure --disable-NAME)"
	exit 0
}
# plugins_named FILE...: the KIND/NAME of every built-in plugin (one with a folder under
# plugins/) that the files name literally; fixtures and made-up names are not plugins.
plugins_named() {
	local p
	for p in $(grep -ohE '(stages|transports)/[a-z0-9_-]+\.so' "$@" 2>/dev/null |
		sed 's/\.so$//' | sort -u); do
		[ -d "$QUORUM_SRCDIR/plugins/$p" ] && echo "$p"
	done
}
if [ -f "$0" ] && [ "$(basename "$0")" != lib.sh ]; then
	quorum_plugins_used=$(plugins_named "$0")
	grep -q 'local-quorum\.sh' "$0" &&
		quorum_plugins_used="$quorum_plugins_used $(plugins_named "$QUORUM_SRCDIR/scripts/local-quorum.sh")"
	# shellcheck disable=SC2086 # one word per plugin
	require_plugins $quorum_plugins_used
	unset quorum_plugins_used
fi

# free_port: a port on 127.0.0.1 free for both TCP and UDP right now, and never one this test
# was given before: the kernel may hand out a port it just released, and a test asks for
# several before its daemons bind them (a peer link and an NTP port once came out equal).
free_port() {
	"$PYTHON" - "$SCRATCH/.ports-given" <<'PY'
import socket, sys
path = sys.argv[1]
try:
    given = set(open(path).read().split())
except OSError:
    given = set()
for _ in range(1000):
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    port = tcp.getsockname()[1]
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.bind(("127.0.0.1", port))
    except OSError:
        continue
    finally:
        tcp.close()
        udp.close()
    if str(port) not in given:
        with open(path, "a") as f:
            f.write("%d\n" % port)
        print(port)
        sys.exit(0)
sys.exit("free_port: no port free for both TCP and UDP after 1000 tries")
PY
}

# start_quorumd LOG ARGS...: starts quorumd in the background; sets QPID.
start_quorumd() {
	local log=$1
	shift
	"$QUORUMD" "$@" >"$log" 2>&1 &
	QPID=$!
	PIDS="$PIDS $QPID"
}

# wait_log FILE PATTERN [SECONDS]: waits until FILE has a line matching PATTERN (grep -E).
wait_log() {
	local file=$1 pattern=$2 limit=${3:-10} i=0
	while [ "$i" -lt $((limit * 20)) ]; do
		grep -Eq -- "$pattern" "$file" 2>/dev/null && return 0
		sleep 0.05
		i=$((i + 1))
	done
	diag "timed out waiting for /$pattern/ in $file; it has:"
	sed 's/^/#   /' "$file" >&2 2>/dev/null
	return 1
}

# count_log FILE PATTERN: lines of FILE matching PATTERN.
count_log() { grep -Ec -- "$2" "$1" 2>/dev/null || true; }

# wait_exit PID [SECONDS]: waits for PID to exit; its status in EXIT_STATUS (124: timeout).
wait_exit() {
	local pid=$1 limit=${2:-10} i=0
	while kill -0 "$pid" 2>/dev/null && [ "$i" -lt $((limit * 20)) ]; do
		sleep 0.05
		i=$((i + 1))
	done
	if kill -0 "$pid" 2>/dev/null; then
		EXIT_STATUS=124
		return 1
	fi
	wait "$pid"
	EXIT_STATUS=$?
	return 0
}

# refusal_count METRICS_URL WHAT_REGEX REASON_REGEX [CURL_ARGS...]: the node's count of
# refused unauthenticated datagrams and requests whose where and why match (summed over the
# matching kinds of /metrics' quorum_refusals_total; 0 when none).
refusal_count() {
	local url=$1 what=$2 reason=$3
	shift 3
	curl -sS --max-time 5 "$@" "$url" 2>/dev/null |
		awk -v w="^($what)\$" -v r="^($reason)\$" '
		$1 ~ /^quorum_refusals_total\{/ {
			split($1, f, "\"")
			if (f[2] ~ w && f[4] ~ r) n += $2
		}
		END { print n + 0 }'
}

# wait_refusals METRICS_URL WHAT REASON_REGEX AT_LEAST [CURL_ARGS...]: waits up to 5 s for it.
wait_refusals() {
	local url=$1 what=$2 reason=$3 want=$4 i n
	shift 4
	for i in $(seq 50); do
		n=$(refusal_count "$url" "$what" "$reason" "$@")
		[ "$n" -ge "$want" ] && return 0
		sleep 0.1
	done
	diag "refusals $what/$reason at $url: $n, wanted $want"
	return 1
}

# http_get URL [CURL_ARGS...]: the body, or nothing and status 1.
http_get() { curl -sS --max-time 5 "$@" 2>/dev/null; }

# json_field JSON KEY: the value of a top-level string or number field.
json_field() {
	"$PYTHON" -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"
}

# wait_http URL PATTERN [SECONDS [CURL_ARGS...]]: waits until GET URL returns a body matching
# PATTERN.
wait_http() {
	local url=$1 pattern=$2 limit=${3:-10} i=0 body
	shift $(($# < 3 ? $# : 3))
	while [ "$i" -lt $((limit * 20)) ]; do
		body=$(http_get "$url" "$@") && printf '%s' "$body" | grep -Eq -- "$pattern" && return 0
		sleep 0.05
		i=$((i + 1))
	done
	diag "timed out waiting for /$pattern/ from $url (last: ${body:-nothing})"
	return 1
}

# refused URL: true when nothing accepts connections at URL.
refused() { ! curl -sS --max-time 2 "$1" >/dev/null 2>&1; }

# stage_fixture FIXTURE DIR NAME KEY [SIGN-OPTION...]: copies a fixture module to DIR/NAME.so
# and signs it (quorum-sign reads the statement from its descriptor unless the options give
# it).
stage_fixture() {
	mkdir -p "$2"
	cp "$QUORUM_FIXTURES/$1.so" "$2/$3.so"
	chmod 0644 "$2/$3.so"
	"$SIGN" --key "$4" --name "$3" "${@:5}" "$2/$3.so"
}

# flip_bit FILE OFFSET: flips the lowest bit of byte OFFSET of FILE.
flip_bit() {
	"$PYTHON" - "$1" "$2" <<'PY'
import sys
path, offset = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(offset)
    b = f.read(1)[0]
    f.seek(offset)
    f.write(bytes([b ^ 1]))
PY
}

# ---- the nodes of a local quorum written by `scripts/local-quorum.sh --setup-only --dir
# $QUORUM_DIR` (default: the scratch folder): node-K runs in $QUORUM_DIR/node-K, logs to its
# quorumd.log there and publishes its clock page there. ----
CTL=$QUORUM_BUILDDIR/tools/quorumctl
declare -A NODE_PID
# start_node K [VAR=VALUE...]: starts node-K (with those variables in its environment).
start_node() {
	local k=$1
	shift
	(cd "${QUORUM_DIR:-$SCRATCH}/node-$k" && exec env "$@" "$QUORUMD" --config quorum.conf \
		2>>quorumd.log) &
	NODE_PID[$k]=$!
	PIDS="$PIDS ${NODE_PID[$k]}"
}
# stop_node K: SIGTERM, then waits up to 10 s (its exit status in $EXIT_STATUS).
stop_node() {
	kill -TERM "${NODE_PID[$1]}" 2>/dev/null
	wait_exit "${NODE_PID[$1]}" 10
}
# synced K: node-K's clock page says synchronised.
synced() { "$CTL" time --clock "${QUORUM_DIR:-$SCRATCH}/node-$1/clock" >/dev/null 2>&1; }
# wait_synced K SECONDS / wait_unsynced K SECONDS
wait_synced() {
	local i
	for i in $(seq $(($2 * 20))); do synced "$1" && return 0; sleep 0.05; done
	return 1
}
wait_unsynced() {
	local i
	for i in $(seq $(($2 * 20))); do synced "$1" || return 0; sleep 0.05; done
	return 1
}

finish() {
	[ "$tap_failed" -eq 0 ] || diag "$tap_failed of $tap_count failed; scratch kept in $SCRATCH"
	[ "$tap_failed" -eq 0 ] || KEEP_SCRATCH=1
	exit 0
}
