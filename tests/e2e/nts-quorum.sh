#!/bin/bash
# nts-quorum.sh -- scripts/local-quorum.sh --nts-port: a local CA (keys/nts-ca.pem) signs
# each node's NTS certificate for its own address (SAN IP:127.0.0.K), the keys are 0600,
# every node's NTP transport gets its nts group, and the chrony configuration the script
# writes gives chronyd (4.3, one-shot) authenticated time from all four nodes, within our
# bound; the same configuration trusting another CA gives none. Speaks TAP.
. "$(dirname "$0")/lib.sh"
plan 8

CHRONYD=$(command -v chronyd || echo /usr/sbin/chronyd)
if [ ! -x "$CHRONYD" ]; then
	echo "1..0 # SKIP chronyd is not installed (Debian package chrony)"
	exit 0
fi
W=$SCRATCH
PORT=$(free_port)
NTPP=$(free_port)
KEP=$(free_port)
LQ="$QUORUM_SRCDIR/scripts/local-quorum.sh"

check "--nts-port without NTP is refused" \
	eval "! bash '$LQ' --setup-only --dir '$W/none' --nts-port $KEP \
		--builddir '$QUORUM_BUILDDIR' 2>'$W/none.err' && grep -q -- '--ntp-port' '$W/none.err'"
bash "$LQ" --setup-only --dir "$W" --port "$PORT" --ntp-port "$NTPP" --nts-port "$KEP" \
	--interval-ms 500 --builddir "$QUORUM_BUILDDIR" >/dev/null

certs_ok() {
	local k
	for k in 1 2 3 4; do
		openssl verify -CAfile "$W/keys/nts-ca.pem" -verify_ip "127.0.0.$k" \
			"$W/keys/node-$k-nts.pem" >/dev/null 2>&1 || return 1
		# and not for another node's address
		! openssl verify -CAfile "$W/keys/nts-ca.pem" -verify_ip "127.0.0.$((k % 4 + 1))" \
			"$W/keys/node-$k-nts.pem" >/dev/null 2>&1 || return 1
	done
}
check "each node's certificate is signed by keys/nts-ca.pem for IP 127.0.0.K only" certs_ok
check "the CA's and the nodes' private keys are 0600" \
	test "$(stat -c %a "$W/keys/nts-ca.key" "$W"/keys/node-?-nts.key | sort -u)" = 600
check "every node's NTP transport serves NTS-KE on its own address" \
	test "$(grep -l "port = $NTPP; nts = { port = $KEP; cert = \"$W/keys/node-[1-4]-nts.pem\"" \
		"$W"/node-?/quorum.conf | wc -l)" -eq 4
check "the chrony configuration names every node and the CA" \
	test "$(grep -c "^server 127.0.0.[1-4] port $NTPP nts ntsport $KEP iburst" \
		"$W/chrony-nts.conf")" -eq 4 -a \
	"$(grep -c "^ntstrustedcerts $W/keys/nts-ca.pem$" "$W/chrony-nts.conf")" -eq 1

for k in 1 2 3 4; do start_node "$k"; done
all_synced() { local k; for k in 1 2 3 4; do wait_synced "$k" 20 || return 1; done; }
check "the four nodes agree" all_synced

"$CHRONYD" -Q -u root -t 20 -f "$W/chrony-nts.conf" >"$W/chrony.out" 2>&1
offset=$(sed -n 's/.*System clock wrong by \(-\{0,1\}[0-9.]*\) seconds.*/\1/p' "$W/chrony.out")
diag "chronyd -Q with chrony-nts.conf: offset ${offset:-none} s"
# our bound: max_error_ns = 1 ms (local-quorum.sh's default)
check "chronyd takes NTS time from the quorum, within 1 ms" \
	eval "[ -n '$offset' ] && awk -v o='$offset' 'BEGIN { exit !(o < 0.001 && o > -0.001) }'"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	-keyout "$W/other-ca.key" -out "$W/other-ca.pem" -subj "/CN=another CA" 2>/dev/null
mkdir -m 700 "$W/chrony-other"
sed -e "s|^ntstrustedcerts .*|ntstrustedcerts $W/other-ca.pem|" \
	-e "s|$W/chrony/|$W/chrony-other/|; s|$W/chrony$|$W/chrony-other|" \
	"$W/chrony-nts.conf" >"$W/chrony-other.conf"
"$CHRONYD" -Q -u root -t 6 -f "$W/chrony-other.conf" >"$W/chrony-other.out" 2>&1
check "trusting another CA, chronyd gets no time" \
	eval "! grep -q 'System clock wrong by' '$W/chrony-other.out'"
for k in 1 2 3 4; do stop_node "$k"; done
finish
