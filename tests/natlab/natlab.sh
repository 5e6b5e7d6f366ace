# shellcheck shell=bash disable=SC2034 # globals are for the callers
# natlab.sh -- a small NAT lab of Linux network namespaces, for bash scripts.
#
# Source it, call nl_init, build a lab with nl_build, run things in it with
# nl_exec / nl_bg, and let the EXIT trap (installed by nl_init) remove
# everything: every process started through nl_bg, every namespace (and with
# it every veth, bridge and rule inside it), and the temporary directory.
#
# Topology (addresses are documentation ranges outside, private inside):
#
#  a1 10.0.1.2 --+
#                +-- lan 10.0.1.1 [NAT A] wan 198.51.100.2 --+
#  a2 10.0.1.3 --+                                           |
#                                             [pub] bridge wan0 198.51.100.1/24
#  b1 10.0.2.2 ----- lan 10.0.2.1 [NAT B] wan 198.51.100.3 --+   | routes
#                                                          203.0.113.1/24
#                                                                |
#                                            [srv] 203.0.113.10:6969 the daemon
#
# Namespaces are named "$NL_PREFIX-<role>" with NL_PREFIX=cbl<pid>x<n>,
# so parallel runs never collide. Every interface is created directly inside
# the run's own namespaces (ip -n NS link add ... peer ... netns NS2), never
# in the caller's namespace, so link names cannot collide either and vanish
# with their namespace. No namespace has a route to anything but the lab's
# own addresses: nothing the lab sends can leave the machine.
#
# NAT types (nl_build's arguments):
#   cone       iptables MASQUERADE (Linux keeps the local port when it is free:
#              port-restricted cone, endpoint-independent mapping), and the
#              router drops unsolicited inbound packets on its public side
#              (filter INPUT/FORWARD on wan: only ESTABLISHED,RELATED pass), as
#              home routers do. Without that drop, a probe that reaches the
#              far NAT before its peer has sent anything becomes a conntrack
#              entry to the router itself and steals the port the peer needs.
#   symmetric  MASQUERADE --random-fully: every new destination gets a new
#              random public port (endpoint-dependent mapping), same drop.
#   open       plain MASQUERADE with no inbound filter (for experiments).

NL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Public addresses of the lab.
NL_SRV_IP=203.0.113.10
NL_PUB_SRV_GW=203.0.113.1
NL_PUB_WAN_GW=198.51.100.1
NL_NATA_IP=198.51.100.2
NL_NATB_IP=198.51.100.3
NL_A1_IP=10.0.1.2
NL_A2_IP=10.0.1.3
NL_B1_IP=10.0.2.2

NL_NAMESPACES=()
NL_PIDS=()
NL_TMP=
NL_PREFIX=
NL_VERBOSE=${NL_VERBOSE:-0}
# For callers: the lab's "TYPE_A/TYPE_B", the daemon's PID and exit status.
NL_TYPES=''
NL_DAEMON_PID=''
NL_DAEMON_RC=0

nl_log() { printf 'natlab: %s\n' "$*" >&2; }
nl_die() { printf 'natlab: error: %s\n' "$*" >&2; exit 1; }

# nl_missing: print why the lab cannot run here (empty when it can).
nl_missing() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "needs root (network namespaces and iptables)"
		return
	fi
	local t
	for t in ip iptables timeout; do
		command -v "$t" >/dev/null 2>&1 || { echo "$t not found (apt-get install iproute2 iptables coreutils)"; return; }
	done
	local probe="cblprobe$$$RANDOM"
	if ! timeout 10 ip netns add "$probe" 2>/dev/null; then
		echo "ip netns add fails here (no namespace support?)"
		return
	fi
	local why=
	if ! timeout 10 ip netns exec "$probe" iptables -t nat -A POSTROUTING -j MASQUERADE --random-fully 2>/dev/null; then
		why="iptables cannot add NAT rules in a namespace (kernel without nf_nat/masquerade?)"
	elif ! timeout 10 ip netns exec "$probe" iptables -A FORWARD -p udp -m conntrack --ctstate NEW \
		-m string --string x --algo bm -m comment --comment x 2>/dev/null; then
		why="iptables lacks the conntrack, string or comment match"
	elif ! timeout 10 ip -n "$probe" link add name t0 type veth peer name t1 2>/dev/null; then
		why="cannot create veth links"
	elif ! timeout 10 ip -n "$probe" link add name b0 type bridge 2>/dev/null; then
		why="cannot create a bridge"
	fi
	timeout 10 ip netns del "$probe" 2>/dev/null
	echo "$why"
}

nl_cleanup() {
	local rc=$?
	trap - EXIT INT TERM HUP
	local pid ns
	# Our own processes first, by the PIDs we recorded...
	for pid in "${NL_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null
	done
	for pid in "${NL_PIDS[@]}"; do
		for _ in 1 2 3 4 5 6 7 8 9 10; do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	# ...then anything still inside the namespaces this run created (only
	# our own children can be there), so that no namespace stays pinned.
	for ns in "${NL_NAMESPACES[@]}"; do
		for pid in $(timeout 5 ip netns pids "$ns" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	done
	for ns in "${NL_NAMESPACES[@]}"; do
		timeout 10 ip netns del "$ns" 2>/dev/null ||
			nl_log "warning: could not delete namespace $ns"
	done
	NL_NAMESPACES=()
	NL_PIDS=()
	if [ -n "$NL_TMP" ] && [ -d "$NL_TMP" ]; then
		if [ "${NL_KEEP_LOGS:-0}" = 1 ]; then
			nl_log "logs kept in $NL_TMP"
		else
			rm -rf "$NL_TMP"
		fi
	fi
	exit "$rc"
}

# nl_init: unique prefix, temp dir, cleanup trap. Call once per script.
nl_init() {
	# BASHPID: unique among running processes even in a subshell; the
	# random part guards against a PID reused within one run's life.
	NL_PREFIX="cbl${BASHPID}x$((RANDOM % 100))"
	while ip netns list 2>/dev/null | grep -q "^$NL_PREFIX-"; do
		NL_PREFIX="cbl${BASHPID}x$((RANDOM % 100))"
	done
	NL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/natlab.XXXXXX") || nl_die "mktemp failed"
	trap nl_cleanup EXIT
	trap 'nl_log "interrupted"; exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP
}

nl_ns() { echo "$NL_PREFIX-$1"; }

# nl_exec ROLE CMD...: run CMD inside ROLE's namespace, bounded (NL_EXEC_TIMEOUT).
nl_exec() {
	local role=$1
	shift
	timeout "${NL_EXEC_TIMEOUT:-20}" ip netns exec "$(nl_ns "$role")" "$@"
}

# nl_bg ROLE LOGNAME SECONDS CMD...: start CMD in ROLE's namespace in the
# background under `timeout SECONDS`, stdout+stderr to $NL_TMP/LOGNAME.log,
# stdin from $NL_STDIN (default /dev/null). Sets NL_LASTPID.
nl_bg() {
	local role=$1 name=$2 secs=$3
	shift 3
	timeout -k 10 "$secs" ip netns exec "$(nl_ns "$role")" "$@" \
		<"${NL_STDIN:-/dev/null}" >"$NL_TMP/$name.log" 2>&1 &
	NL_LASTPID=$!
	NL_PIDS+=("$NL_LASTPID")
}

_nl_add_ns() {
	local ns
	ns=$(nl_ns "$1")
	timeout 10 ip netns add "$ns" || nl_die "ip netns add $ns failed"
	NL_NAMESPACES+=("$ns")
	ip -n "$ns" link set lo up
	# Bridged frames must not go through this namespace's iptables.
	ip netns exec "$ns" sh -c 'echo 0 > /proc/sys/net/bridge/bridge-nf-call-iptables' 2>/dev/null
	ip netns exec "$ns" sh -c 'echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6' 2>/dev/null
	return 0
}

# _nl_link NS1 IF1 NS2 IF2: a veth pair between two of our namespaces.
_nl_link() {
	ip -n "$(nl_ns "$1")" link add name "$2" type veth peer name "$4" netns "$(nl_ns "$3")" ||
		nl_die "veth $1:$2 -- $3:$4 failed"
	ip -n "$(nl_ns "$1")" link set "$2" up
	ip -n "$(nl_ns "$3")" link set "$4" up
}

_nl_addr() { ip -n "$(nl_ns "$1")" addr add "$3" dev "$2" || nl_die "addr $3 on $1:$2 failed"; }
_nl_route() { ip -n "$(nl_ns "$1")" route add default via "$2" || nl_die "route on $1 failed"; }
_nl_ports() { ip netns exec "$(nl_ns "$1")" sh -c "echo '$2 $3' > /proc/sys/net/ipv4/ip_local_port_range"; }
_nl_fwd() { ip netns exec "$(nl_ns "$1")" sh -c 'echo 1 > /proc/sys/net/ipv4/ip_forward'; }
_nl_ipt() { local r=$1; shift; ip netns exec "$(nl_ns "$r")" iptables -w 5 "$@" || nl_die "iptables on $r: $*"; }

# _nl_nat ROUTER TYPE LANNET: the NAT rules of one router.
_nl_nat() {
	local r=$1 type=$2 lan=$3
	# Counting rules (no target): peer-to-peer traffic crossing the router,
	# traffic to the daemon. Read with nl_count.
	_nl_ipt "$r" -A FORWARD -i wan -p udp -s 198.51.100.0/24 -m comment --comment cb-peer-in
	_nl_ipt "$r" -A FORWARD -o wan -p udp -d 198.51.100.0/24 -m comment --comment cb-peer-out
	_nl_ipt "$r" -A FORWARD -o wan -p udp -d "$NL_SRV_IP" -m comment --comment cb-daemon-udp-out
	_nl_ipt "$r" -A FORWARD -o wan -p tcp -d "$NL_SRV_IP" -m comment --comment cb-daemon-tcp-out
	_nl_ipt "$r" -A INPUT -i wan -p udp -m conntrack --ctstate NEW -m comment --comment cb-unsolicited-in
	case "$type" in
	cone | open)
		_nl_ipt "$r" -t nat -A POSTROUTING -o wan -s "$lan" -j MASQUERADE ;;
	symmetric)
		_nl_ipt "$r" -t nat -A POSTROUTING -o wan -s "$lan" -j MASQUERADE --random-fully ;;
	*) nl_die "unknown NAT type $type (cone, symmetric, open)" ;;
	esac
	if [ "$type" != open ]; then
		# A home router: nothing unsolicited gets in on the public side,
		# neither to the LAN nor to the router itself, and it answers
		# nothing (no ICMP port unreachable, no conntrack entry).
		_nl_ipt "$r" -A FORWARD -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
		_nl_ipt "$r" -A FORWARD -i wan -j DROP
		_nl_ipt "$r" -A INPUT -i wan -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
		_nl_ipt "$r" -A INPUT -i wan -j DROP
	fi
}

# nl_build TYPE_A TYPE_B: the whole lab. NAT A gets hosts a1 and a2, NAT B
# gets b1.
nl_build() {
	local ta=${1:-cone} tb=${2:-cone} role
	for role in pub srv nata natb a1 a2 b1; do
		_nl_add_ns "$role"
	done
	# The "internet": router pub, a bridge for the NATs' public side, a
	# link to the daemon's segment.
	ip -n "$(nl_ns pub)" link add name wan0 type bridge || nl_die "bridge failed"
	ip -n "$(nl_ns pub)" link set wan0 up
	_nl_addr pub wan0 "$NL_PUB_WAN_GW/24"
	_nl_link pub pa nata wan
	_nl_link pub pb natb wan
	ip -n "$(nl_ns pub)" link set pa master wan0
	ip -n "$(nl_ns pub)" link set pb master wan0
	_nl_link pub srv srv eth0
	_nl_addr pub srv "$NL_PUB_SRV_GW/24"
	_nl_addr srv eth0 "$NL_SRV_IP/24"
	_nl_route srv "$NL_PUB_SRV_GW"
	_nl_fwd pub
	# NAT A: its LAN is a bridge with a1 and a2.
	_nl_addr nata wan "$NL_NATA_IP/24"
	_nl_route nata "$NL_PUB_WAN_GW"
	ip -n "$(nl_ns nata)" link add name lan type bridge || nl_die "bridge failed"
	ip -n "$(nl_ns nata)" link set lan up
	_nl_addr nata lan 10.0.1.1/24
	_nl_link nata la1 a1 eth0
	_nl_link nata la2 a2 eth0
	ip -n "$(nl_ns nata)" link set la1 master lan
	ip -n "$(nl_ns nata)" link set la2 master lan
	_nl_addr a1 eth0 "$NL_A1_IP/24"
	_nl_addr a2 eth0 "$NL_A2_IP/24"
	_nl_route a1 10.0.1.1
	_nl_route a2 10.0.1.1
	# Each host's ephemeral ports in its own range (a1 40000-40999, a2
	# 41000-41999, b1 42000-42999): masquerade keeps them, so a public port
	# tells which host it is, and nl_hairpin can forward by range.
	_nl_ports a1 40000 40999
	_nl_ports a2 41000 41999
	_nl_fwd nata
	_nl_nat nata "$ta" 10.0.1.0/24
	# NAT B: one host.
	_nl_addr natb wan "$NL_NATB_IP/24"
	_nl_route natb "$NL_PUB_WAN_GW"
	_nl_link natb lan b1 eth0
	_nl_addr natb lan 10.0.2.1/24
	_nl_addr b1 eth0 "$NL_B1_IP/24"
	_nl_route b1 10.0.2.1
	_nl_ports b1 42000 42999
	_nl_fwd natb
	_nl_nat natb "$tb" 10.0.2.0/24
	NL_TYPES="$ta/$tb"
	# Sanity: no route from the public side to a private address, and none
	# from anywhere to outside the lab.
	if ip -n "$(nl_ns pub)" route get "$NL_A1_IP" >/dev/null 2>&1 ||
		ip -n "$(nl_ns pub)" route get 10.0.2.2 >/dev/null 2>&1 ||
		ip -n "$(nl_ns pub)" route get 192.0.2.1 >/dev/null 2>&1; then
		nl_die "the public segment routes to a private or outside address: the lab is broken"
	fi
	[ "$NL_VERBOSE" = 1 ] && nl_log "lab $NL_PREFIX built: NAT A $ta, NAT B $tb"
	return 0
}

# nl_hairpin: NAT loopback on NAT A, as routers do for port forwards:
# a packet from the LAN to A's own public address on a port in
# 40000-40999 goes to a1, 41000-41999 to a2 (the port kept), and is
# source-NATed to the public address, so each side sees the other's public
# endpoint. Linux conntrack never hairpins a dynamic masquerade mapping by
# itself; these explicit rules are what a same-NAT pair needs without the
# private endpoint exchange.
nl_hairpin() {
	_nl_ipt nata -t nat -I PREROUTING -i lan -d "$NL_NATA_IP" -p udp --dport 40000:40999 \
		-j DNAT --to-destination "$NL_A1_IP"
	_nl_ipt nata -t nat -I PREROUTING -i lan -d "$NL_NATA_IP" -p udp --dport 41000:41999 \
		-j DNAT --to-destination "$NL_A2_IP"
	_nl_ipt nata -t nat -I POSTROUTING -o lan -s 10.0.1.0/24 -d 10.0.1.0/24 -p udp \
		-m conntrack --ctstate DNAT -j SNAT --to-source "$NL_NATA_IP"
	_nl_ipt nata -I FORWARD -i lan -o lan -p udp -m comment --comment cb-hairpin
}

# nl_watch_text TEXT: on both NAT routers, count UDP packets leaving on the
# public side that carry TEXT, toward the other NAT (cb-text-peer) and
# toward the daemon (cb-text-daemon).
nl_watch_text() {
	local r
	for r in nata natb; do
		_nl_ipt "$r" -I FORWARD -o wan -p udp -d 198.51.100.0/24 \
			-m string --string "$1" --algo bm -m comment --comment cb-text-peer
		_nl_ipt "$r" -I FORWARD -o wan -p udp -d "$NL_SRV_IP" \
			-m string --string "$1" --algo bm -m comment --comment cb-text-daemon
	done
}

# nl_count ROUTER COMMENT: packet count of the counting rule COMMENT.
nl_count() {
	ip netns exec "$(nl_ns "$1")" iptables -w 5 -nvxL 2>/dev/null |
		awk -v c="/* $2 */" 'index($0, c) { n += $1 } END { print n + 0 }'
}

# nl_start_daemon [FLAGS...]: the real daemon on the public segment.
nl_start_daemon() {
	local bin=${CB_BINARY:-}
	[ -n "$bin" ] || bin=$NL_LIB_DIR/../../src/containment_breach
	[ -x "$bin" ] || nl_die "daemon binary not found ($bin); set CB_BINARY"
	nl_bg srv daemon "${NL_DAEMON_TIMEOUT:-300}" "$bin" -port=6969 -bind="$NL_SRV_IP" \
		-admin=127.0.0.1:6970 -log_level=debug "$@"
	NL_DAEMON_PID=$NL_LASTPID
	local i
	for i in $(seq 50); do
		if nl_exec srv bash -c "exec 3<>/dev/tcp/$NL_SRV_IP/6969" 2>/dev/null; then
			# Both LANs reach it through their NAT.
			nl_exec a1 bash -c "exec 3<>/dev/tcp/$NL_SRV_IP/6969" ||
				nl_die "a1 cannot reach the daemon through NAT A"
			nl_exec b1 bash -c "exec 3<>/dev/tcp/$NL_SRV_IP/6969" ||
				nl_die "b1 cannot reach the daemon through NAT B"
			return 0
		fi
		kill -0 "$NL_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$NL_TMP/daemon.log" >&2
	nl_die "the daemon did not start"
}

# nl_stop_daemon: SIGTERM, and wait (8 s at most: a sanitizer build on a
# loaded machine can be slow to exit) for it to be gone. Its exit status goes
# to NL_DAEMON_RC (0 expected; 137 if it had to be killed).
nl_stop_daemon() {
	[ -n "${NL_DAEMON_PID:-}" ] || return 0
	kill -TERM "$NL_DAEMON_PID" 2>/dev/null
	local i
	for i in $(seq 80); do
		kill -0 "$NL_DAEMON_PID" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$NL_DAEMON_PID" 2>/dev/null
	wait "$NL_DAEMON_PID" 2>/dev/null
	NL_DAEMON_RC=$?
	NL_DAEMON_PID=
}

# nl_daemon_get PATH: an admin API GET from inside the daemon's namespace
# (the admin API listens on that namespace's loopback), body on stdout.
nl_daemon_get() {
	# shellcheck disable=SC2016 # expanded by the inner bash
	nl_exec srv bash -c 'exec 3<>/dev/tcp/127.0.0.1/6970 || exit 1
		printf "GET %s HTTP/1.0\r\nHost: x\r\n\r\n" "$1" >&3
		sed "1,/^\r\?$/d" <&3' _ "$1"
}

# nl_wait_stat REGEX SECONDS: wait until GET /stats matches REGEX.
nl_wait_stat() {
	local n=$(($2 * 10)) i
	for ((i = 0; i < n; i++)); do
		nl_daemon_get /stats 2>/dev/null | grep -Eq -- "$1" && return 0
		sleep 0.1
	done
	return 1
}

# nl_cut_daemon: the "internet" drops everything to and from the daemon's
# address from now on (the daemon keeps running, unreachable). Counted as
# cb-daemon-cut on pub.
nl_cut_daemon() {
	_nl_ipt pub -I FORWARD -d "$NL_SRV_IP" -m comment --comment cb-daemon-cut -j DROP
	_nl_ipt pub -I FORWARD -s "$NL_SRV_IP" -m comment --comment cb-daemon-cut -j DROP
}

# nl_wait_log NAME REGEX SECONDS [PID]: wait until $NL_TMP/NAME.log has a
# line matching REGEX (extended); give up early once PID has exited.
nl_wait_log() {
	local f=$NL_TMP/$1.log re=$2 n=$(($3 * 10)) pid=${4:-} i
	for ((i = 0; i < n; i++)); do
		grep -Eq -- "$re" "$f" 2>/dev/null && return 0
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then
			grep -Eq -- "$re" "$f" 2>/dev/null
			return
		fi
		sleep 0.1
	done
	return 1
}

# nl_wait_pid PID SECONDS: wait for a background process; its exit status,
# or 124 if it is still running after SECONDS (it is then killed).
nl_wait_pid() {
	local pid=$1 n=$(($2 * 10)) i
	for ((i = 0; i < n; i++)); do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			return $?
		fi
		sleep 0.1
	done
	kill -TERM "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 124
}
