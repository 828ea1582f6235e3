#!/bin/bash
# grpc-throughput.sh -- gRPC GetTime calls per second from Debian's python3-grpcio client
# (stubs generated from proto/clock_service.proto; one channel, sequential unary calls, then
# 8 threads), against a one-node quorum's grpc transport (h2c, rate limit off).
# Usage: grpc-throughput.sh SRCDIR BUILDDIR [SECONDS]
set -u
src=$1 build=$2 seconds=${3:-3}
/usr/bin/python3 -c 'import grpc, grpc_tools' 2>/dev/null || { echo "  python3-grpcio is not installed: skipped"; exit 0; }
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-grpc.XXXXXX")
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
PEER=$(free_port) PORT=$(free_port)
trap '[ -n "${qpid:-}" ] && kill -TERM "$qpid" 2>/dev/null && wait "$qpid" 2>/dev/null; rm -rf "$W"' EXIT
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
transports = ( { name = "grpc"; path = "transports/grpc.so"; settings = { port = $PORT; rate_limit = 0; }; } );
END
"$build/host/quorumd" --config "$W/quorum.conf" 2>"$W/quorumd.log" &
qpid=$!
for i in $(seq 50); do "$build/tools/quorumctl" time --clock "$W/clock" >/dev/null 2>&1 && break; sleep 0.1; done
CLIENT_PY=$src/tests/tools/grpc-client.py /usr/bin/python3 - "$src/proto" "127.0.0.1:$PORT" "$seconds" <<'PY'
import importlib.util, os, sys, threading, time
spec = importlib.util.spec_from_file_location("gc", os.environ["CLIENT_PY"])
gc = importlib.util.module_from_spec(spec); spec.loader.exec_module(gc)
pb, pb_grpc = gc.stubs(sys.argv[1])[:2]
import grpc
seconds = float(sys.argv[3])
def run(stub, counts, i):
    end = time.monotonic() + seconds
    n = 0
    while time.monotonic() < end:
        stub.GetTime(pb.GetTimeRequest(), timeout=5)
        n += 1
    counts[i] = n
for threads in (1, 8):
    with grpc.insecure_channel(sys.argv[2]) as ch:
        stub = pb_grpc.ClockServiceStub(ch)
        stub.GetTime(pb.GetTimeRequest(), timeout=5)
        counts = [0] * threads
        ts = [threading.Thread(target=run, args=(stub, counts, i)) for i in range(threads)]
        t0 = time.monotonic()
        for t in ts: t.start()
        for t in ts: t.join()
        dt = time.monotonic() - t0
    print("  gRPC GetTime (signed, h2c), python3-grpcio, %d thread(s): %.0f calls/s over %.1f s" % (threads, sum(counts) / dt, dt))
PY
