#!/bin/bash
# systemd.sh -- quorumd as a service: the readiness protocol (READY=1 on $NOTIFY_SOCKET once
# every plugin started and every listener is bound, RELOADING=1 / READY=1 around a SIGHUP,
# STOPPING=1 on SIGTERM), and the privilege drop (`user`): started as root, a one-node
# quorum binds REST on a port below 1024, becomes `nobody` with only CAP_NET_BIND_SERVICE
# and no_new_privs, keeps agreeing and writing its state, and a reload can still bind
# another low port; an unknown user fails --check-config. The unit file (conf/quorumd.service)
# is checked by systemd-analyze when it is installed. Speaks TAP.
. "$(dirname "$0")/lib.sh"

plan 16

W=$SCRATCH
if [ "$(id -u)" -ne 0 ]; then
	for i in $(seq 16); do ok "# SKIP not root: the privilege drop needs root"; done
	exit 0
fi
mkdir -p "$W/node"
"$KEYGEN" --out "$W/node/node" >/dev/null
UDP=$(free_port)
# Two ports below 1024 that nothing listens on.
low_port() { # FROM: the first port from FROM below 1024 that can be bound on loopback
	"$PYTHON" -c 'import socket, sys
for p in range(int(sys.argv[1]), 1024):
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()' "$1"
}
LOW1=$(low_port 900)
LOW2=$(low_port $((LOW1 + 1)))
node_conf() { # TRANSPORTS USER
	cat >"$W/node/quorum.conf" <<END
node = { id = "solo"; key = "node.key"; state_dir = "state"; };
user = "$2";
plugin_dir = "$QUORUM_BUILDDIR/lib";
trusted_plugin_keys = [ "$QUORUM_BUILDDIR/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $UDP; };
authority = { radius_ns = 1000; kernel_status = false; };
rounds = { interval_ms = 200; timeout_ms = 50; };
clock = { shm = "clock"; };
authorities = ( { id = "solo"; address = "127.0.0.1"; port = $UDP; key = "node.pub"; } );
stages = ( { name = "vault"; path = "stages/vault.so"; settings = { dir = "vault"; fsync = "batch"; }; },
           { name = "merkle"; path = "stages/merkle.so"; settings = { dir = "merkle"; checkpoint_ms = 100; }; },
           { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( $1 );
END
}
rest() { # PORT
	echo "{ name = \"rest\"; path = \"transports/rest.so\"; settings = { address = \"127.0.0.1\"; port = $1; }; }"
}
ws() { # PORT
	echo "{ name = \"ws\"; path = \"transports/ws.so\"; settings = { address = \"127.0.0.1\"; port = $1; }; }"
}

node_conf "$(rest "$LOW1")" no-such-user-here
"$QUORUMD" --check-config --config "$W/node/quorum.conf" >"$W/check.log" 2>&1
check "--check-config refuses an unknown user" \
	grep -q "user 'no-such-user-here': no such user" "$W/check.log"

# The state the node writes after the drop lives in folders the user owns.
node_conf "$(rest "$LOW1")" nobody
mkdir -p "$W/node/state" "$W/node/vault" "$W/node/merkle"
chown nobody "$W/node/state" "$W/node/vault" "$W/node/merkle"
chmod 0755 "$W" "$W/node"
# A listener on a unix datagram socket stands in for systemd.
"$PYTHON" - "$W/notify.sock" "$W/notify.log" <<'PY' &
import os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
os.chmod(sys.argv[1], 0o777)  # quorumd writes to it after becoming nobody, as to systemd's
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        data = s.recv(4096).decode()
        out.write(data.replace("\n", " ") + "\n")
        if "STOPPING=1" in data:
            break
PY
LISTENER=$!
PIDS="$PIDS $LISTENER"
for i in $(seq 100); do [ -S "$W/notify.sock" ] && break; sleep 0.05; done
(cd "$W/node" && NOTIFY_SOCKET="$W/notify.sock" exec "$QUORUMD" --config quorum.conf \
	2>quorumd.log) &
DAEMON=$!
PIDS="$PIDS $DAEMON"
check "READY=1 reaches the service manager once quorumd has started" \
	wait_log "$W/notify.log" "^READY=1 STATUS=started" 10
check "... after the privileges were dropped (logged)" \
	wait_log "$W/node/quorumd.log" "privileges.dropped user=nobody uid=$(id -u nobody) .*kept=CAP_NET_BIND_SERVICE"
status_field() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$DAEMON/status"; }
check "quorumd now runs as nobody (real, effective and saved uid)" \
	test "$(awk '$1 == "Uid:" { print $2, $3, $4 }' "/proc/$DAEMON/status")" = \
	"$(id -u nobody) $(id -u nobody) $(id -u nobody)"
check "... with CAP_NET_BIND_SERVICE alone (CapEff 0x400) and no_new_privs" \
	test "$(status_field CapEff):$(status_field CapPrm):$(status_field NoNewPrivs)" = \
	"0000000000000400:0000000000000400:1"
check "the REST transport bound before the drop answers on port $LOW1" \
	wait_http "http://127.0.0.1:$LOW1/healthz" ok 10
check "the node keeps agreeing and serves the time" \
	wait_http "http://127.0.0.1:$LOW1/readyz" ok 10
check "... its state folder is written by nobody" \
	test "$(stat -c %U "$W/node/state/node.state" 2>/dev/null)" = nobody
node_conf "$(rest "$LOW1"), $(ws "$LOW2")" nobody
kill -HUP "$DAEMON"
check "after a reload, a transport added on port $LOW2 (< 1024) binds and answers" \
	eval 'wait_log "$W/node/quorumd.log" "reload.done generation=2 transports=2 started=1" 10 &&
	curl -sS --max-time 5 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$LOW2/v1/stream" | grep -q "^[1-5]"'
check "... the reload was announced as RELOADING=1, then READY=1" \
	wait_log "$W/notify.log" "^RELOADING=1" 5
check "... and READY=1 again" test "$(grep -c '^READY=1' "$W/notify.log")" -ge 2
node_conf "$(rest "$LOW1")" root
kill -HUP "$DAEMON"
check "a reload changing the user is refused (restart needed)" \
	wait_log "$W/node/quorumd.log" "reload.rejected .*'user' changed"
kill -TERM "$DAEMON"
wait_exit "$DAEMON" 10
check "SIGTERM stops it with status 0" test "$EXIT_STATUS" -eq 0
check "... announced as STOPPING=1" wait_log "$W/notify.log" "^STOPPING=1" 5
if command -v systemd-analyze >/dev/null 2>&1 && [ -f "$QUORUM_BUILDDIR/conf/quorumd.service" ]; then
	systemd-analyze verify "$QUORUM_BUILDDIR/conf/quorumd.service" >"$W/analyze.log" 2>&1
	check "systemd-analyze verify accepts conf/quorumd.service" \
		test "$(grep -v "is not executable: No such file\|Command 'man " "$W/analyze.log" | grep -c .)" -eq 0
else
	ok "# SKIP systemd-analyze or conf/quorumd.service missing"
fi
check "the unit is Type=notify with the hardening options" \
	eval 'grep -q "^Type=notify" "$QUORUM_SRCDIR/conf/quorumd.service.in" &&
	grep -q "^NoNewPrivileges=yes" "$QUORUM_SRCDIR/conf/quorumd.service.in" &&
	grep -q "^ProtectSystem=strict" "$QUORUM_SRCDIR/conf/quorumd.service.in" &&
	grep -q "^User=" "$QUORUM_SRCDIR/conf/quorumd.service.in"'
finish
