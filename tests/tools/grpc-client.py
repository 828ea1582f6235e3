#!/usr/bin/python3
"""grpc-client.py -- Debian's python3-grpcio against the grpc transport. Generates the stubs
from proto/clock_service.proto, proto/bridge_service.proto and proto/health.proto (Debian's
python3-grpcio ships no grpc_health module) into a scratch folder
(grpc_tools.protoc; removed once imported), calls one method and prints one JSON line: {"code": grpc status name,
"details": ..., "response": {...}}.
  grpc-client.py PROTO_DIR TARGET gettime | status | align PEER ANCHOR_HEX | watch N TIMEOUT_S
                                  | unknown | bigrequest | bridge-time | bridge-attested
                                  | gzip | bomb | health-check SERVICE
                                  | health-watch SERVICE N TIMEOUT_S
gzip: every method once on a channel with compression=grpc.Compression.Gzip ("calls": each
method's status name); bomb: 32 MiB of zeros as one AlignTime message on such a channel
(about 32 KiB on the wire); health-check: grpc.health.v1.Health/Check ("status": the name);
health-watch: Health/Watch until N messages or TIMEOUT_S ("statuses": their names, one
JSON line printed as each arrives, then the final one); watch says each round on stderr as
it arrives.
Environment: GRPC_TOKEN (bearer metadata), GRPC_CA (TLS: trust this CA; else h2c),
GRPC_CERT / GRPC_KEY (a client certificate)."""
import base64
import importlib
import json
import os
import shutil
import sys
import tempfile

import grpc
from google.protobuf import json_format
from grpc_tools import protoc


def stubs(proto_dir):
    out = tempfile.mkdtemp(prefix="grpc-stubs-")
    for proto in ("clock_service.proto", "bridge_service.proto", "health.proto"):
        rc = protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={out}",
                          f"--grpc_python_out={out}", os.path.join(proto_dir, proto)])
        if rc != 0:
            sys.exit(f"protoc failed on {proto}: {rc}")
    sys.path.insert(0, out)
    try:
        return (importlib.import_module("clock_service_pb2"),
                importlib.import_module("clock_service_pb2_grpc"),
                importlib.import_module("bridge_service_pb2"),
                importlib.import_module("bridge_service_pb2_grpc"),
                importlib.import_module("health_pb2"),
                importlib.import_module("health_pb2_grpc"))
    finally:  # imported: the scratch folder is no longer needed
        sys.path.remove(out)
        shutil.rmtree(out, ignore_errors=True)


def channel(target, **kwargs):
    if os.environ.get("GRPC_CA"):
        cert = key = None
        if os.environ.get("GRPC_CERT"):
            cert = open(os.environ["GRPC_CERT"], "rb").read()
            key = open(os.environ["GRPC_KEY"], "rb").read()
        creds = grpc.ssl_channel_credentials(open(os.environ["GRPC_CA"], "rb").read(), key, cert)
        return grpc.secure_channel(target, creds, **kwargs)
    return grpc.insecure_channel(target, **kwargs)


def main():
    proto_dir, target, cmd = sys.argv[1], sys.argv[2], sys.argv[3]
    pb, pb_grpc, bridge, bridge_grpc, health, health_grpc = stubs(proto_dir)
    md = [("authorization", "Bearer " + os.environ["GRPC_TOKEN"])] if os.environ.get("GRPC_TOKEN") else []
    out = {"code": "OK"}
    gzip = {"compression": grpc.Compression.Gzip} if cmd in ("gzip", "bomb") else {}
    with channel(target, **gzip) as ch:
        stub = pb_grpc.ClockServiceStub(ch)
        try:
            if cmd == "gettime":
                r = stub.GetTime(pb.GetTimeRequest(), metadata=md, timeout=5)
                out["response"] = json_format.MessageToDict(r, preserving_proto_field_name=True)
                out["attestation_b64"] = base64.b64encode(r.attestation).decode()
            elif cmd == "status":
                r = stub.GetStatus(pb.GetStatusRequest(), metadata=md, timeout=5)
                out["response"] = json_format.MessageToDict(
                    r, preserving_proto_field_name=True, including_default_value_fields=True)
            elif cmd == "align":
                r = stub.AlignTime(pb.AlignTimeRequest(peer_id=sys.argv[4], key_id="k",
                                                       local_anchor=bytes.fromhex(sys.argv[5]),
                                                       timestamp=1), metadata=md, timeout=5)
                out["response"] = json_format.MessageToDict(r, preserving_proto_field_name=True)
                out["proof_b64"] = base64.b64encode(r.signature_proof).decode()
            elif cmd == "watch":
                rounds = []
                for r in stub.WatchTime(pb.WatchTimeRequest(max_updates=int(sys.argv[4])),
                                        metadata=md, timeout=float(sys.argv[5])):
                    rounds.append(r.monotonic_version)
                    print("watch: round %d" % r.monotonic_version, file=sys.stderr, flush=True)
                out["rounds"] = rounds
            elif cmd == "bridge-time":
                r = bridge_grpc.BridgeTimeServiceStub(ch).GetTime(bridge.GetTimeRequest(),
                                                                   metadata=md, timeout=5)
                out["response"] = json_format.MessageToDict(
                    r, preserving_proto_field_name=True, including_default_value_fields=True)
            elif cmd == "bridge-attested":
                r = bridge_grpc.BridgeTimeServiceStub(ch).GetTimeAttested(
                    bridge.GetTimeRequest(), metadata=md, timeout=5)
                out["response"] = json_format.MessageToDict(
                    r, preserving_proto_field_name=True, including_default_value_fields=True)
                out["attestation_b64"] = base64.b64encode(r.attestation).decode()
            elif cmd == "unknown":
                call = ch.unary_unary("/uml001.ClockService/Nope")
                call(b"", metadata=md, timeout=5)
            elif cmd == "gzip":
                bridge_stub = bridge_grpc.BridgeTimeServiceStub(ch)
                calls = {}
                for name, call in (
                        ("GetTime", lambda: stub.GetTime(pb.GetTimeRequest(), metadata=md, timeout=5)),
                        ("GetStatus", lambda: stub.GetStatus(pb.GetStatusRequest(), metadata=md, timeout=5)),
                        ("AlignTime", lambda: stub.AlignTime(pb.AlignTimeRequest(
                            peer_id="p" * 200, local_anchor=b"a" * 300), metadata=md, timeout=5)),
                        ("WatchTime", lambda: list(stub.WatchTime(pb.WatchTimeRequest(max_updates=2),
                                                                  metadata=md, timeout=10))),
                        ("BridgeGetTime", lambda: bridge_stub.GetTime(bridge.GetTimeRequest(),
                                                                      metadata=md, timeout=5)),
                        ("BridgeGetTimeAttested", lambda: bridge_stub.GetTimeAttested(
                            bridge.GetTimeRequest(), metadata=md, timeout=5))):
                    try:
                        call()
                        calls[name] = "OK"
                    except grpc.RpcError as e:
                        calls[name] = e.code().name + ": " + str(e.details())
                out["calls"] = calls
            elif cmd == "bomb":
                call = ch.unary_unary("/uml001.ClockService/AlignTime")
                call(bytes(32 << 20), metadata=md, timeout=10)
            elif cmd == "health-check":
                r = health_grpc.HealthStub(ch).Check(
                    health.HealthCheckRequest(service=sys.argv[4]), metadata=md, timeout=5)
                out["status"] = health.HealthCheckResponse.ServingStatus.Name(r.status)
            elif cmd == "health-watch":
                statuses = []
                for r in health_grpc.HealthStub(ch).Watch(
                        health.HealthCheckRequest(service=sys.argv[4]), metadata=md,
                        timeout=float(sys.argv[6])):
                    statuses.append(health.HealthCheckResponse.ServingStatus.Name(r.status))
                    print(json.dumps({"statuses": statuses}), flush=True)
                    if len(statuses) >= int(sys.argv[5]):
                        break
                out["statuses"] = statuses
            elif cmd == "bigrequest":
                stub.AlignTime(pb.AlignTimeRequest(peer_id="p", local_anchor=b"x" * 100000),
                               metadata=md, timeout=5)
        except grpc.RpcError as e:
            out["code"] = e.code().name
            out["details"] = e.details()
            if cmd == "watch":
                out["rounds"] = rounds
            if cmd == "health-watch":
                out["statuses"] = statuses
    print(json.dumps(out))


if __name__ == "__main__":
    main()
