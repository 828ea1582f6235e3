#!/bin/sh
# make-corpus.sh -- regenerates the seed corpora in fuzz/corpus/TARGET/ from real encodings:
# fuzz/make-seeds (the project's own encoders, fixed keys), the JSON examples of schemas/,
# the sample quorum.conf and a local quorum's node configuration (scripts/local-quorum.sh
# --setup-only), and HTTP/1.1 request heads as curl sends them. Only seed files are
# rewritten: the inputs of past findings (crash-*, regress-*) stay.
# Usage: fuzz/make-corpus.sh [BUILDDIR]   (a configured build tree, default: the source tree)
set -eu
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src}" && pwd)
corpus=$src/fuzz/corpus
tmp=$(mktemp -d "${TMPDIR:-/tmp}/quorum-corpus.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

make -C "$build" -s fuzz/make-seeds host/quorumd tools/quorum-keygen >/dev/null
mkdir -p "$tmp/seeds"
"$build/fuzz/make-seeds" "$tmp/seeds"
for dir in "$tmp"/seeds/*; do
	mkdir -p "$corpus/$(basename "$dir")"
	cp "$dir"/* "$corpus/$(basename "$dir")/"
done

# REST: request heads as curl writes them, a pipelined pair, a body, refusals.
d=$corpus/http1
mkdir -p "$d"
printf 'GET /v1/time?format=json&nonce=00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nUser-Agent: curl/7.88.1\r\nAccept: */*\r\nAuthorization: Bearer fuzz-token\r\n\r\n' >"$d/get-time"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nHEAD /v1/status HTTP/1.0\r\nConnection: keep-alive\r\n\r\n' >"$d/pipelined"
printf 'POST /time/shared-state HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nContent-Type: application/json\r\nContent-Length: 2\r\nExpect: 100-continue\r\n\r\n{}GET /v1/proof/inclusion?index=3&size=9 HTTP/1.1\r\n\r\n' >"$d/post-body"
printf 'GET http://127.0.0.1/v1/time?format=unix#frag HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n' >"$d/absolute-chunked"
# The WebSocket upgrade, read by the same parser (python3-websockets' head).
printf 'GET /v1/stream?format=json HTTP/1.1\r\nHost: 127.0.0.1:8081\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\nUser-Agent: Python/3.11 websockets/10.4\r\nAuthorization: Bearer fuzz-token\r\n\r\n' >"$d/ws-upgrade"

# Bodies: the schemas' examples of what clients post.
d=$corpus/rest-bodies
for f in shared-state control-set-mode control-hitl control-recovery control-recovery-epoch; do
	cp "$src/schemas/examples/$f.example.json" "$d/$f.json"
done

# quorum.conf: the documented sample and a local quorum's node configuration.
d=$corpus/conf
mkdir -p "$d"
sed -e 's|@NODE_ID@|node-1|g' -e 's|@PLUGIN_DIR@|/usr/lib/quorum-time|g' -e 's|@KEY_DIR@|keys|g' \
	-e 's|@STAGES@|{ name = "convergence"; path = "stages/convergence.so"; }|' \
	-e 's|@TRANSPORTS@||' "$src/conf/quorum.conf.in" >"$d/sample.conf"
bash "$src/scripts/local-quorum.sh" --setup-only --nodes 4 --dir "$tmp/quorum" \
	--builddir "$build" >/dev/null 2>&1
sed -e "s|$tmp/quorum|/var/lib/quorum|g" -e "s|$build|/usr/lib/quorum-time|g" \
	"$tmp/quorum/node-1/quorum.conf" >"$d/local-quorum-node-1.conf"

du -sh "$corpus"/* | sed 's|'"$src"'/||'
