#!/bin/bash
#
# bench/callgrind.sh [BUILDDIR]: user-space instructions per operation,
# counted by valgrind --tool=callgrind, which a busy machine does not
# change.  For each workload the receiver runs twice under callgrind,
# with a small and a large fixed count of operations, and the figure is
#
#	(Ir(large) - Ir(small)) / (operations(large) - operations(small))
#
# so start-up, shutdown and the few /stats requests cb_bench makes cancel
# out.  Operations are what the receiver took in (udp_datagrams) or what
# the client saw answered correctly.  Workloads:
#
#	registration	{"PeerPort":1234} from 4 sockets (refreshes)
#	pair		a complete Peer pair: 2 registrations, 2 TCP requests
#	exchange	sink-tcp: connect, line, echo, close (the ceiling)
#	ack		a registration with "Ack": true, padded to 128 bytes,
#			and its answer (closed loop, 2 sockets x 4)
#
# The call-graph files of the large runs are kept in $CB_CALLGRIND_DIR
# (default: a temporary directory, printed) for callgrind_annotate.
#
set -u

top=${1:-.}
bench=$top/bench/cb_bench
daemon=$top/src/containment_breach
out=${CB_CALLGRIND_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/cb_callgrind.XXXXXX")}
# Below the ephemeral range (32768 and up here), where connect() never
# takes a port from under us.
base=$((10000 + $$ % 20000))
port=$base admin=$((base + 1)) sink=$((base + 2))
d="--port $port --admin-port $admin"
vg="valgrind --tool=callgrind --vgdb=no"
mkdir -p "$out"

# Waits until something listens on TCP port $1 (up to 60 s).
wait_port() {
	for _ in $(seq 600); do
		(exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "callgrind.sh: nothing listens on $1" >&2
	return 1
}

# Total Ir of a callgrind output file.
ir() {
	sed -n 's/^summary: *\([0-9]*\).*/\1/p' "$1"
}

# One run: NAME COUNT KEY RECEIVER-KIND -- load arguments.  Prints
# "ops ir".
one() {
	local name=$1 count=$2 key=$3 kind=$4 file pid ops
	shift 5
	file=$out/$name.$count.out
	if [ "$kind" = daemon ]; then
		$vg --callgrind-out-file="$file" "$daemon" -port=$port \
		    -admin=127.0.0.1:$admin -log_level=warn -config= \
		    2>>"$out/valgrind.log" &
		pid=$!
		wait_port "$admin" || return 1
	else
		$vg --callgrind-out-file="$file" "$bench" sink-tcp \
		    --port "$sink" --duration 600 >/dev/null \
		    2>>"$out/valgrind.log" &
		pid=$!
		wait_port "$sink" || return 1
	fi
	"$bench" "$@" --count "$count" >"$out/$name.$count.txt"
	kill -TERM "$pid"
	wait "$pid"
	ops=$(sed -n "s/.* $key=\([0-9]*\).*/\1/p" "$out/$name.$count.txt")
	echo "$ops $(ir "$file")"
}

# A workload at two counts; prints the Ir per operation.
measure() {
	local name=$1 small=$2 large=$3 key=$4 kind=$5 a b
	shift 5
	a=$(one "$name" "$small" "$key" "$kind" -- "$@")
	b=$(one "$name" "$large" "$key" "$kind" -- "$@")
	echo "$a $b" | awk -v n="$name" '{
		printf "%-13s %9.0f Ir per operation (%d-%d ops, %s-%s Ir)\n",
		    n, ($4 - $2) / ($3 - $1), $1, $3, $2, $4 }'
}

echo "callgrind files in $out" >&2
measure registration 10000 100000 taken daemon udp $d --sockets 4 \
    --rate 10000 --duration 120 --drain 10
measure pair 200 2000 ok daemon pairs $d --inflight 4 --duration 120
measure exchange 500 5000 ok sink exchange --port "$sink" --admin-port 0 \
    --inflight 4 --duration 120
measure ack 2000 20000 answers daemon ack $d --sockets 2 --window 4 \
    --duration 120 --timeout 1000
