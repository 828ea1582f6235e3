#!/bin/bash
# rest-throughput.sh -- REST GET /v1/time under wrk against nginx serving a static JSON file
# of the same size on the same machine in the same run (nginx with one worker, like quorumd's
# one loop thread, and with worker_processes auto). Prints requests/s and p99 latency, and
# the ratio (target: at least 0.7x nginx). Usage: rest-throughput.sh BUILDDIR [SECONDS]
set -u
build=$1 seconds=${2:-5}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-rest.XXXXXX")
chmod 755 "$W" # nginx's workers are not root: with mktemp's 0700 they would answer 403
free_tcp() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PEER=$(free_tcp) OURS=$(free_tcp) NGINX=$(free_tcp)
cleanup() {
	[ -f "$W/nginx.pid" ] && kill "$(cat "$W/nginx.pid")" 2>/dev/null
	[ -n "${qpid:-}" ] && kill -TERM "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
for tool in wrk nginx; do
	command -v $tool >/dev/null || [ -x /usr/sbin/$tool ] || { echo "  $tool is not installed (scripts/setup-debian.sh installs it): skipped"; exit 0; }
done
"$build/tools/quorum-keygen" --out "$W/node" >/dev/null
cat >"$W/quorum.conf" <<END
node = { id = "bench"; key = "node.key"; state_dir = "state"; };
plugin_dir = "$build/lib";
trusted_plugin_keys = [ "$build/keys/plugin-dev.pub" ];
peer_link = { address = "127.0.0.1"; port = $PEER; };
authority = { radius_ns = 1000; kernel_status = false; };
clock = { shm = "clock"; };
authorities = ( { id = "bench"; address = "127.0.0.1"; port = $PEER; key = "node.pub"; } );
stages = ( { name = "convergence"; path = "stages/convergence.so"; },
           { name = "control"; path = "stages/control.so"; } );
transports = ( { name = "rest"; path = "transports/rest.so"; settings = { port = $OURS; rate_limit = 0; }; } );
END
"$build/host/quorumd" --config "$W/quorum.conf" 2>"$W/quorumd.log" &
qpid=$!
for i in $(seq 50); do curl -sf "http://127.0.0.1:$OURS/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
mkdir -p "$W/www/v1"
curl -s "http://127.0.0.1:$OURS/v1/time" >"$W/www/v1/time"
size=$(stat -c %s "$W/www/v1/time")
nginx_run() { # WORKERS
	cat >"$W/nginx.conf" <<END
worker_processes $1;
pid $W/nginx.pid;
error_log $W/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  default_type application/json;
  server { listen 127.0.0.1:$NGINX; root $W/www; }
}
END
	/usr/sbin/nginx -c "$W/nginx.conf" -p "$W" || return 1
	sleep 0.3
	code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$NGINX/v1/time")
	[ "$code" = 200 ] || echo "  warning: nginx answers $code, not 200: the comparison is not like for like"
}
wrk_run() { # URL LABEL -> "RPS P99_MS"
	wrk -t2 -c32 -d"${seconds}s" --latency "$1" >"$W/wrk.out" 2>&1
	rps=$(awk '/^Requests\/sec/ {print $2}' "$W/wrk.out")
	p99=$(awk '$1 == "99%" {print $2}' "$W/wrk.out")
	echo "  $2: $rps requests/s, p99 $p99 ($(awk '/requests in/ {print $1}' "$W/wrk.out") requests; $(grep -c 'Non-2xx' "$W/wrk.out") non-2xx lines)"
	echo "$rps" >"$W/last"
}
echo "  body: $size bytes (quorumd's own /v1/time answer, served by nginx as a file)"
wrk_run "http://127.0.0.1:$OURS/v1/time" "quorumd REST /v1/time"
q=$(cat "$W/last")
nginx_run 1 && wrk_run "http://127.0.0.1:$NGINX/v1/time" "nginx, 1 worker         "
n1=$(cat "$W/last")
kill "$(cat "$W/nginx.pid")"; sleep 0.3
nginx_run auto && wrk_run "http://127.0.0.1:$NGINX/v1/time" "nginx, workers auto     "
na=$(cat "$W/last")
/usr/bin/python3 -c 'import sys; q, a, b = map(float, sys.argv[1:])
print("REST /v1/time: %.2fx nginx (1 worker), %.2fx nginx (auto workers); target >= 0.7x: %s" % (q / a, q / b, "met" if q / a >= 0.7 else "MISSED"))' "$q" "$n1" "$na"
