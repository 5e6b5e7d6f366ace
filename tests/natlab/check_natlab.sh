#!/bin/bash
# shellcheck disable=SC2317,SC2119 # functions called indirectly; nl_start_daemon takes optional flags
# check_natlab.sh -- end-to-end hole punching through real Linux NAT.
#
# Builds a lab of network namespaces (tests/natlab/natlab.sh) for each
# scenario, runs the real daemon ($CB_BINARY) on its public segment and the
# real CLI (containment_breach_punch) on hosts behind NAT routers, and checks
# what happens. Under automake: exit 0 pass, 1 fail, 77 skip (not root, no
# `ip netns`, no iptables), 99 hard error.
#
#   tests/natlab/check_natlab.sh [SCENARIO...]     default: all
#   scenarios: peer_cone client_server_cone symmetric cone_symmetric
#              same_nat same_nat_public same_nat_hairpin
#   not by default: open (plain masquerade, no inbound filter; a race)
#
# Environment:
#   CB_NATLAB_REQUIRED=1  a lab that cannot run is an error (99), not a SKIP:
#                         for CI, which runs as root with iproute2 + iptables
#   CB_BINARY             the daemon (make check sets it)
#   CB_PUNCH              the CLI; default: next to the daemon or in
#                         src/client/. Without one, or with NL_STANDIN=1, the
#                         scenarios run with tests/natlab/standin.py (original
#                         protocol only) and say so.
#   NL_PUNCH_TIMEOUT      the punching deadline in seconds (default 6)
#   NL_KEEP_LOGS=1        keep every process's log (the path is printed)
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source-path=SCRIPTDIR source=natlab.sh
. "$here/natlab.sh"

why=$(nl_missing)
if [ -n "$why" ]; then
	if [ "${CB_NATLAB_REQUIRED:-0}" = 1 ]; then
		# CI sets this: there, a lab that cannot run is an error.
		echo "ERROR: NAT lab tests required (CB_NATLAB_REQUIRED=1) but: $why"
		exit 99
	fi
	echo "SKIP: NAT lab tests: $why"
	exit 77
fi

top=$(cd "$here/../.." && pwd)
: "${CB_BINARY:=$top/src/containment_breach}"
if [ ! -x "$CB_BINARY" ]; then
	echo "ERROR: daemon binary $CB_BINARY not found (set CB_BINARY)"
	exit 99
fi
export CB_BINARY
bindir=$(dirname "$CB_BINARY")

# In a sanitizer build, LeakSanitizer's exit-time scan stops the world with
# ptrace; inside the lab's namespaces on a busy machine it has taken longer
# than the lab waits for an exit.  Leaks are the business of the suites
# that run the same binaries under ASan and valgrind, not of this one.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
if [ "${NL_STANDIN:-0}" = 1 ]; then
	CB_PUNCH=
elif [ -z "${CB_PUNCH:-}" ]; then
	for c in "$bindir/containment_breach_punch" "$bindir/client/containment_breach_punch" \
		"$top/src/containment_breach_punch" "$top/src/client/containment_breach_punch"; do
		if [ -x "$c" ]; then
			CB_PUNCH=$c
			break
		fi
	done
fi
if [ -n "${CB_PUNCH:-}" ]; then
	echo "# CLI: $CB_PUNCH"
	TOOL=cli
else
	echo "# NOTE: containment_breach_punch not found: running with the stand-in"
	echo "#       tests/natlab/standin.py (original protocol only, no LocalIP/Ack)"
	command -v python3 >/dev/null || { echo "SKIP: no CLI and no python3 for the stand-in"; exit 77; }
	TOOL=standin
fi
echo "# daemon: $CB_BINARY"

PUNCH_TIMEOUT=${NL_PUNCH_TIMEOUT:-6}
EXTRA=()
declare -A TEXT=() FIFO=()
SRV=$NL_SRV_IP:6969

# punch ROLE NAME MODE PEERPORT [REMOTE] [TEXT]: start the CLI (or the
# stand-in) in the background in ROLE's namespace. Sets NL_LASTPID.
punch() {
	local role=$1 name=$2 mode=$3 pp=$4 remote=${5:-} text=${6:-}
	local args=("$mode" --server "$SRV" --local-peer-port "$pp")
	[ -n "$remote" ] && args+=(--remote "$remote")
	if [ "$mode" != server ]; then
		args+=(--timeout "$PUNCH_TIMEOUT")
	fi
	args+=("${EXTRA[@]}")
	if [ -n "${GO:-}" ]; then
		# The text goes out only once the test says so (after it has
		# stopped the daemon): the stand-in waits for the file GO, the
		# CLI chats, reading the text from a FIFO the test writes.
		DATA_AFTER_STOP=1
		TEXT[$name]=$text
		if [ "$TOOL" = standin ]; then
			args+=(--go "$GO" --send "$text")
		else
			local fd
			mkfifo "$NL_TMP/$name.in"
			exec {fd}<>"$NL_TMP/$name.in"
			FIFO[$name]=$fd
			args+=(--chat)
		fi
	elif [ -n "$text" ]; then
		args+=(--send "$text")
	fi
	if [ "$TOOL" = cli ]; then
		[ "$mode" = server ] && args+=(--count 1)
		NL_STDIN=${FIFO[$name]:+$NL_TMP/$name.in} \
			nl_bg "$role" "$name" $((PUNCH_TIMEOUT + 20)) "$CB_PUNCH" "${args[@]}"
	else
		[ "$mode" = server ] && args+=(--timeout $((PUNCH_TIMEOUT + 5)))
		nl_bg "$role" "$name" $((PUNCH_TIMEOUT + 20)) python3 "$here/standin.py" "${args[@]}"
	fi
}

# udp_port ROLE: the local port of the UDP socket in ROLE's namespace.
udp_port() {
	nl_exec "$1" ss -Hnua 2>/dev/null | awk '{ n = split($4, a, ":"); print a[n]; exit }'
}
fail() {
	echo "FAIL: $*"
	local f
	for f in "$NL_TMP"/*.log; do
		echo "--- ${f##*/}"
		tail -n 20 "$f"
	done
	exit 1
}
result() { echo "RESULT|$1|$2|$3"; }

# run_pair PID_A PID_B: run both sides (logs $PA_NAME, $PB_NAME) to the end;
# sets RC_A, RC_B, ELAPSED (seconds). With STOP_DAEMON=1 (and GO set when
# they were started): the CLI -- once both have punched, the daemon is
# stopped (or, with CUT_DAEMON=1, cut off the network), then each side's
# text is typed into its chat and must arrive, then both get SIGTERM; the
# stand-in -- the daemon is stopped once both have their partner, then the
# stand-ins are told to send.
run_pair() {
	local pa=$1 pb=$2 t0 t1
	t0=$(date +%s.%N)
	if [ "${STOP_DAEMON:-0}" = 1 ] && [ "$TOOL" = standin ]; then
		nl_wait_log "$PA_NAME" '^(partner|error)' $((PUNCH_TIMEOUT + 5)) "$pa"
		nl_wait_log "$PB_NAME" '^(partner|error)' $((PUNCH_TIMEOUT + 5)) "$pb"
		LOCAL_PORT_A=$(udp_port "$PA_NAME")
		nl_stop_daemon
		touch "$GO"
	elif [ "${STOP_DAEMON:-0}" = 1 ]; then
		# Both punched; the daemon goes; then each side types its text
		# and must receive the other's. Chat ends with SIGTERM (exit 0).
		nl_wait_log "$PA_NAME" '^(punched|error)' $((PUNCH_TIMEOUT + 5)) "$pa"
		nl_wait_log "$PB_NAME" '^(punched|error)' $((PUNCH_TIMEOUT + 5)) "$pb"
		LOCAL_PORT_A=$(udp_port "$PA_NAME")
		if [ "${CUT_DAEMON:-0}" = 1 ]; then
			nl_cut_daemon
		else
			nl_stop_daemon
		fi
		echo "${TEXT[$PA_NAME]}" >&"${FIFO[$PA_NAME]}"
		echo "${TEXT[$PB_NAME]}" >&"${FIFO[$PB_NAME]}"
		nl_wait_log "$PA_NAME" "^received ${TEXT[$PB_NAME]}\$" 5 "$pa"
		nl_wait_log "$PB_NAME" "^received ${TEXT[$PA_NAME]}\$" 5 "$pb"
		kill -TERM "$pa" "$pb" 2>/dev/null
	fi
	nl_wait_pid "$pa" $((PUNCH_TIMEOUT + 10))
	RC_A=$?
	nl_wait_pid "$pb" $((PUNCH_TIMEOUT + 10))
	RC_B=$?
	t1=$(date +%s.%N)
	ELAPSED=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
}

# The punched path is direct: the text crossed each NAT toward the other
# NAT's public address, never toward the daemon, and the daemon was
# already stopped.
check_direct() {
	local r n
	for r in nata natb; do
		n=$(nl_count "$r" cb-text-peer)
		[ "$n" -gt 0 ] || fail "$r forwarded no datagram with the text to the other NAT"
		n=$(nl_count "$r" cb-text-daemon)
		[ "$n" -eq 0 ] || fail "$r sent the text toward the daemon ($n packets)"
	done
	local when="the daemon was stopped as soon as both had their partner"
	[ "${DATA_AFTER_STOP:-0}" = 1 ] && when="the text was sent only after the daemon had been stopped"
	[ "$TOOL" = cli ] && when="both punched, then the daemon was stopped, then the texts were typed"
	if [ "${CUT_DAEMON:-0}" = 1 ] && [ "$TOOL" = cli ]; then
		when="both punched, then the daemon was cut off the network ($(nl_count pub cb-daemon-cut) packets to or from it dropped since), then the texts were typed"
	else
		[ -z "${NL_DAEMON_PID:-}" ] || fail "the daemon was still running"
	fi
	DIRECT="datagrams with the text: $(nl_count nata cb-text-peer) out of NAT A to NAT B, $(nl_count natb cb-text-peer) out of NAT B to NAT A, 0 toward the daemon; $when"
}

expect_success() {
	local name=$1 rc=$2 via=$3 text=$4
	[ "$rc" -eq 0 ] || fail "$name exited $rc, expected success"
	grep -Eq "^punched [0-9.]+:[0-9]+ via $via\$" "$NL_TMP/$name.log" ||
		fail "$name: no 'punched ... via $via' line"
	if [ -n "$text" ]; then
		grep -qx "received $text" "$NL_TMP/$name.log" || fail "$name did not receive '$text'"
	fi
}

expect_failure() {
	local name=$1 rc=$2
	[ "$rc" -ne 0 ] || fail "$name succeeded, expected failure"
	[ "$rc" -ne 124 ] || fail "$name hung past its deadline"
	grep -Eq '^error: .+' "$NL_TMP/$name.log" || fail "$name failed without an 'error: <reason>' line"
	! grep -q '^punched' "$NL_TMP/$name.log" || fail "$name printed punched but failed"
}

# --- scenarios (each runs in its own subshell with its own lab) ------------

sc_peer_cone() {
	nl_build cone cone
	nl_watch_text xyzzy-
	nl_start_daemon
	PA_NAME=a1 PB_NAME=b1 GO=$NL_TMP/go
	punch a1 a1 peer 1 "$NL_NATB_IP:2" xyzzy-from-a1; local pa=$NL_LASTPID
	punch b1 b1 peer 2 "$NL_NATA_IP:1" xyzzy-from-b1; local pb=$NL_LASTPID
	STOP_DAEMON=1 run_pair "$pa" "$pb"
	expect_success a1 "$RC_A" public xyzzy-from-b1
	expect_success b1 "$RC_B" public xyzzy-from-a1
	if [ "$TOOL" = cli ]; then
		# Linux masquerade kept a1's local port: a cone mapping.
		grep -qx "public $NL_NATA_IP:$LOCAL_PORT_A" "$NL_TMP/a1.log" ||
			fail "a1 (local port ${LOCAL_PORT_A:-?}) did not learn NAT A's public endpoint with that port"
	fi
	check_direct
	result "cone / cone, Peer" "punched, both ways" "a1 $NL_A1_IP:${LOCAL_PORT_A:-?} is $(grep ^public "$NL_TMP/a1.log" | cut -d' ' -f2), b1 is $(grep ^public "$NL_TMP/b1.log" | cut -d' ' -f2); $DIRECT"
}

sc_client_server_cone() {
	nl_build cone cone
	nl_watch_text xyzzy-
	nl_start_daemon
	PA_NAME=b1 PB_NAME=a1 GO=$NL_TMP/go
	# The CLI's server mode ends when its daemon connection does, so here
	# the daemon is cut off the network rather than stopped.
	CUT_DAEMON=1
	punch b1 b1 server 7 "" xyzzy-from-server; local ps=$NL_LASTPID
	# A client that comes before the Server registration gets "no such
	# server" at once: wait until the daemon counts the server.
	nl_wait_stat '"servers":1[,}]' 10 || fail "the server never registered"
	punch a1 a1 client 3 "$NL_NATB_IP:7" xyzzy-from-client; local pc=$NL_LASTPID
	STOP_DAEMON=1 run_pair "$ps" "$pc"
	expect_success b1 "$RC_A" public xyzzy-from-client
	expect_success a1 "$RC_B" public xyzzy-from-server
	check_direct
	result "cone / cone, Client/Server" "punched, both ways" "$DIRECT"
}

# peer_pair: a1 and b1 ask for each other in Peer mode, run together.
peer_pair() {
	PA_NAME=a1 PB_NAME=b1
	punch a1 a1 peer 1 "$NL_NATB_IP:2"; local pa=$NL_LASTPID
	punch b1 b1 peer 2 "$NL_NATA_IP:1"; local pb=$NL_LASTPID
	run_pair "$pa" "$pb"
}

# both_fail_in_time: both sides failed with a reason, within the deadline.
both_fail_in_time() {
	expect_failure a1 "$RC_A"
	expect_failure b1 "$RC_B"
	awk -v e="$ELAPSED" -v t="$PUNCH_TIMEOUT" 'BEGIN { exit !(e <= t + 3) }' ||
		fail "took ${ELAPSED}s, deadline ${PUNCH_TIMEOUT}s"
}

sc_symmetric() {
	nl_build symmetric symmetric
	nl_start_daemon
	peer_pair
	both_fail_in_time
	result "symmetric / symmetric, Peer" "fails cleanly" "$(grep -m1 '^error' "$NL_TMP/a1.log") after ${ELAPSED}s (deadline ${PUNCH_TIMEOUT}s); $(nl_count natb cb-unsolicited-in) probes dropped at NAT B"
}

sc_cone_symmetric() {
	nl_build cone symmetric
	nl_start_daemon
	peer_pair
	both_fail_in_time
	result "cone / symmetric, Peer" "fails cleanly" "$(grep -m1 '^error' "$NL_TMP/a1.log") after ${ELAPSED}s; port-restricted cone A drops B's probes from its new random ports"
}

# Not in the default list (its outcome is a race): plain masquerade without
# the inbound filter. A probe that reaches the far NAT before its host has
# sent anything is tracked as a connection to the router and takes the port
# the host needs. Asserts only that both sides end within the deadline.
sc_open() {
	nl_build open open
	nl_start_daemon
	peer_pair
	if [ "$RC_A" -eq 124 ] || [ "$RC_B" -eq 124 ]; then fail "hung past the deadline"; fi
	local out
	if [ "$RC_A" -eq 0 ] && [ "$RC_B" -eq 0 ]; then out="punched"; else out="failed"; fi
	result "open / open (no inbound filter), Peer" "$out" "$(grep -h -m1 -E '^(punched|error)' "$NL_TMP/a1.log") after ${ELAPSED}s (a race: see docs/natlab.md)"
}

# Two hosts behind NAT A. Without hairpin rules a packet from the LAN to
# NAT A's own public address is not translated back into the LAN, so only
# the private path (LocalIP/LocalPort exchange) can work. same_nat HAIRPIN
# LOCAL: with nl_hairpin or not; LOCAL=0 adds --no-local (public path only;
# the stand-in never sends its LAN endpoint).
same_nat() {
	local hairpin=$1 local_path=$2
	nl_build cone cone
	[ "$hairpin" = 1 ] && nl_hairpin
	nl_start_daemon
	PA_NAME=a1 PB_NAME=a2
	[ "$local_path" = 0 ] && [ "$TOOL" = cli ] && EXTRA=(--no-local)
	punch a1 a1 peer 1 "$NL_NATA_IP:2" xyzzy-from-a1; local pa=$NL_LASTPID
	punch a2 a2 peer 2 "$NL_NATA_IP:1" xyzzy-from-a2; local pb=$NL_LASTPID
	run_pair "$pa" "$pb"
	local hp label
	hp=$(nl_count nata cb-hairpin)
	label="same NAT, $([ "$hairpin" = 1 ] && echo "hairpin rules" || echo "no hairpin")"
	label="$label, $([ "$local_path" = 1 ] && echo "LAN endpoints exchanged" || echo "public path only")"
	if [ "$local_path" = 1 ]; then
		# The CLI tries the LAN endpoint the daemon passed on.
		expect_success a1 "$RC_A" local xyzzy-from-a2
		expect_success a2 "$RC_B" local xyzzy-from-a1
		grep -q "^punched $NL_A2_IP:" "$NL_TMP/a1.log" || fail "a1 did not punch a2's LAN address"
		result "$label" "punched via local" "$(grep -m1 '^punched' "$NL_TMP/a1.log") in ${ELAPSED}s; $hp packets through the hairpin"
	elif [ "$hairpin" = 1 ]; then
		expect_success a1 "$RC_A" public xyzzy-from-a2
		expect_success a2 "$RC_B" public xyzzy-from-a1
		[ "$hp" -gt 0 ] || fail "no packet went through the hairpin rules"
		result "$label" "punched via public" "$(grep -m1 '^punched' "$NL_TMP/a1.log") in ${ELAPSED}s, $hp packets through NAT A's hairpin"
	else
		expect_failure a1 "$RC_A"
		expect_failure a2 "$RC_B"
		[ "$hp" -eq 0 ] || fail "hairpin counter moved without hairpin rules"
		result "$label" "fails cleanly" "$(grep -m1 '^error' "$NL_TMP/a1.log") after ${ELAPSED}s; NAT A delivers LAN packets to its public address to itself"
	fi
}
sc_same_nat() {
	if [ "$TOOL" = standin ]; then
		result "same NAT, no hairpin, LAN endpoints exchanged" "not run" "needs the CLI (the stand-in sends no LAN endpoint)"
		return
	fi
	same_nat 0 1
}
sc_same_nat_public() { same_nat 0 0; }
sc_same_nat_hairpin() { same_nat 1 0; }

# --- driver --------------------------------------------------------------

scenarios=("$@")
[ ${#scenarios[@]} -gt 0 ] ||
	scenarios=(peer_cone client_server_cone symmetric cone_symmetric same_nat same_nat_public
		same_nat_hairpin)

child=
trap '[ -n "$child" ] && kill -TERM "$child" 2>/dev/null; wait; exit 143' TERM INT HUP

results=$(mktemp "${TMPDIR:-/tmp}/natlab-results.XXXXXX") || exit 99
trap 'rm -f "$results" "$results.out"' EXIT
status=0
start=$(date +%s)
for sc in "${scenarios[@]}"; do
	declare -F "sc_$sc" >/dev/null || { echo "ERROR: unknown scenario $sc"; exit 99; }
	echo "# --- $sc"
	(
		nl_init
		"sc_$sc"
		# The daemon stops cleanly (exit 0; sanitizer reports would
		# make it non-zero).
		nl_stop_daemon
		[ "${NL_DAEMON_RC:-0}" -eq 0 ] || fail "the daemon exited $NL_DAEMON_RC on SIGTERM"
	) >"$results.out" 2>&1 &
	child=$!
	nl_wait_pid "$child" 60
	rc=$?
	child=
	grep -v '^RESULT|' "$results.out"
	grep '^RESULT|' "$results.out" >>"$results"
	case $rc in
	0) echo "PASS: $sc" ;;
	124) echo "FAIL: $sc (no result within 60 s)"; status=1 ;;
	*) echo "FAIL: $sc (exit $rc)"; status=1 ;;
	esac
done
echo
echo "# Measured ($TOOL, $(($(date +%s) - start)) s):"
echo "| Scenario | Result | Detail |"
echo "|---|---|---|"
awk -F'|' '{ printf "| %s | %s | %s |\n", $2, $3, $4 }' "$results"
exit $status
