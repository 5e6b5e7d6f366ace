#!/bin/sh
#
# bench/run.sh [BUILDDIR]: the short version of every cb_bench mode, in
# one run, against a freshly started daemon and the reference sinks (and
# coturn and stund when they are installed), printing one table of
# figures and their ratios to the machine's own ceiling.  make bench runs
# it.  Everything stays on loopback, every run is bounded, and it takes
# well under two minutes (CB_BENCH_SECS seconds per mode, default 3).
# CB_BENCH_RUNS=N runs every mode N times and prints each figure as the
# median and half its spread (+-, in % of the median): use 3 or 5 for the
# figures in docs/performance.md, on a quiet machine.
#
# The receiver (daemon, sink or STUN server) is pinned to the last CPU and
# the generator to the first, as docs/performance.md describes.
#
set -u

top=${1:-.}
bench=$top/bench/cb_bench
daemon=$top/src/containment_breach
secs=${CB_BENCH_SECS:-3}
runs=${CB_BENCH_RUNS:-1}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/cb_bench.XXXXXX")
# Below the ephemeral range (32768 and up here), where connect() never
# takes a port from under us.
base=$((10000 + $$ % 20000))
port=$base admin=$((base + 1)) sink=$((base + 2)) stun=$((base + 3))
ncpu=$(getconf _NPROCESSORS_ONLN)
gen=0 rx=$((ncpu - 1))
pids=

cleanup() {
	for p in $pids; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

die() {
	echo "run.sh: $*" >&2
	exit 1
}

# Starts a receiver pinned to the receiving CPU; $last is its PID.
spawn() {
	taskset -c "$rx" "$@" >>"$tmp/receivers.log" 2>&1 &
	last=$!
	pids="$pids $last"
	sleep 1
	kill -0 "$last" 2>/dev/null || die "$1 did not start: \
$(tail -3 "$tmp/receivers.log")"
}

# Stops the receiver whose PID is $1.
reap() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
}

# Runs one mode $runs times, pinned to the generating CPU; the result
# lines go to $tmp/NAME.1, NAME.2, ...
run() {
	name=$1
	shift
	for i in $(seq "$runs"); do
		run_once "$name.$i" "$@"
	done
}

# Runs one mode once; its result line goes to $tmp/FILE: run_once FILE ARGS.
# A --duration among ARGS overrides the default one.
run_once() {
	file=$1
	mode=$2
	shift 2
	taskset -c "$gen" "$bench" "$mode" --duration "$secs" "$@" \
	    >"$tmp/$file" 2>>"$tmp/errors" || echo "mode=failed" >>"$tmp/$file"
	printf '.' >&2
}

# The values of KEY in the result lines of NAME's runs, sorted.
values() {
	for f in "$tmp/$1".*; do
		[ -f "$f" ] && sed -n "s/.* $2=\([^ %]*\).*/\1/p" "$f" | head -1
	done | sort -n
}

# The median of KEY over NAME's runs: val NAME KEY.
val() {
	values "$1" "$2" | awk '{ v[NR] = $1 }
	    END { if (NR > 0) print v[int((NR + 1) / 2)] }'
}

# The median, and with several runs half the spread, as a table cell.
cell() {
	values "$1" "$2" | awk '{ v[NR] = $1 } END {
		if (NR == 0)
			exit
		m = v[int((NR + 1) / 2)]
		if (NR > 1 && m + 0 != 0)
			printf "%s +-%.0f%%\n", m, (v[NR] - v[1]) / 2 / m * 100
		else
			print m
	}'
}

# One table row: the measure, the daemon's figure, the ceiling's, their
# ratio and the target.
row() {
	awk -v m="$1" -v d="$2" -v c="$3" -v t="$4" 'BEGIN {
		r = (d != "" && c != "" && c + 0 != 0) ? \
		    sprintf("%.2f", d / c) : "-"
		printf "| %-46s | %14s | %24s | %6s | %-8s |\n", m, \
		    d == "" ? "-" : d, c == "" ? "-" : c, r, t
	}'
}

[ -x "$bench" ] && [ -x "$daemon" ] || die "build first: no $bench or $daemon"
d="--port $port --admin-port $admin"

spawn "$daemon" -port=$port -admin=127.0.0.1:$admin -log_level=warn -config=
dpid=$last
spawn "$bench" sink-tcp --port "$sink" --duration 600
spid=$last

run udp_d udp $d
run udp_s udp --sink --port "$sink" --sink-cpu "$rx"
run burst_d udp $d --burst 8000 --pid "$dpid"
run burst_s udp --sink --port "$sink" --sink-cpu "$rx" --burst 8000
run pairs pairs $d --pid "$dpid"
run exch exchange --port "$sink" --admin-port 0 --pid "$spid"
half=$(awk -v r="$(val pairs rate)" 'BEGIN { printf "%d", r / 2 + 1 }')
run pairs_half pairs $d --rate "$half" --pid "$dpid"
run cs clientserver $d --pid "$dpid"
run ack ack $d --pid "$dpid"
reap "$spid"
reap "$dpid"

if command -v turnserver >/dev/null; then
	spawn turnserver -n -S --no-cli --no-tls --no-dtls -L 127.0.0.1 \
	    -p "$stun" -m 1 --no-stdout-log --simple-log -l "$tmp/coturn.log"
	run coturn stun --port "$stun" --pid "$last" --src-ips 8
	run coturn_many stun --port "$stun" --pid "$last"
	reap "$last"
fi
if command -v stund >/dev/null; then
	spawn stund -h 127.0.0.1 -a 127.0.0.2 -p "$stun" -o $((stun + 1))
	run stund stun --port "$stun" --pid "$last" --src-ips 8
	run stund_many stun --port "$stun" --pid "$last"
	reap "$last"
fi

# Memory: each run on a daemon of its own, which starts empty.
for i in $(seq "$runs"); do
	spawn "$daemon" -port=$port -admin=127.0.0.1:$admin -log_level=warn \
	    -config=
	run_once "leases.$i" fill-leases 100000 $d --pid "$last" --duration 20
	run_once "sessions.$i" fill-sessions 5000 $d --pid "$last" \
	    --duration 20
	reap "$last"
done
echo >&2

best_stun=$(for f in coturn coturn_many stund stund_many; do
	[ -f "$tmp/$f.1" ] && val $f rx_cpu_rate
done | sort -n | tail -1)
echo "cb_bench, $runs x $secs s per mode, $ncpu CPUs ($(uname -r)," \
    "$(uptime | sed 's/.*load/load/')), generator on CPU $gen, receivers" \
    "on CPU $rx"
printf "| %-46s | %14s | %24s | %6s | %-8s |\n" measure daemon ceiling \
    ratio target
echo "|------------------------------------------------|----------------|" \
    "--------------------------|--------|----------|" | tr -d ' '
row "UDP regs/s per receiver CPU-s (burst; sink)" \
    "$(cell burst_d cpu_rate)" "$(cell burst_s cpu_rate)" ">= 0.8"
row "UDP regs/s drained, wall (burst; sink)" "$(cell burst_d drain_rate)" \
    "$(cell burst_s drain_rate)" ">= 0.8"
row "UDP regs/s taken under flood (sink)" "$(cell udp_d rate)" \
    "$(cell udp_s rate)" ""
row "Peer pairs/s (exchanges/s of sink-tcp)" "$(cell pairs rate)" \
    "$(cell exch rate)" ">= 0.4"
row "receiver CPU us per pair (per exchange)" \
    "$(cell pairs rx_cpu_us_per)" "$(cell exch rx_cpu_us_per)" "<= 2.5"
row "pair p50 us, closed loop (exchange p50)" "$(cell pairs p50_us)" \
    "$(cell exch p50_us)" ""
row "pair p99 us at half load ($half/s)" "$(cell pairs_half p99_us)" "" \
    "< 1000"
row "pair p99.9 us at half load" "$(cell pairs_half p999_us)" "" ""
row "Client/Server exchanges/s (sink exchanges/s)" "$(cell cs rate)" \
    "$(cell exch rate)" ""
row "Ack answers per receiver CPU-s (best STUN)" \
    "$(cell ack rx_cpu_rate)" "$best_stun" ">= 2"
row "Ack answers/s, wall (coturn, 8 IPs)" "$(cell ack rate)" \
    "$(cell coturn rate)" ""
for f in coturn coturn_many stund stund_many; do
	[ -f "$tmp/$f.1" ] || continue
	ips=8
	case $f in *_many) ips=65536 ;; esac
	row "  ${f%_many} per CPU-s, $ips IPs (answers/s wall)" "" \
	    "$(cell $f rx_cpu_rate) ($(cell $f rate))" ""
done
row "bytes of RSS per idle lease (100k)" "$(cell leases bytes_per)" "" \
    "<= 128"
row "bytes of RSS per waiting session (5000)" "$(cell sessions bytes_per)" \
    "" "<= 2048"
if grep -q mode=failed "$tmp"/* 2>/dev/null || [ -s "$tmp/errors" ]; then
	echo "some runs failed:" >&2
	grep -l mode=failed "$tmp"/* >&2
	cat "$tmp/errors" >&2
	exit 1
fi
exit 0
