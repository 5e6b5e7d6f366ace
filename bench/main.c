/*
 * cb_bench's command line: a table of subcommands and a table of options,
 * one getopt_long() loop over them, then the chosen mode.  Options every
 * mode shares live in one struct bench_opts; each mode ignores the ones
 * it has no use for.
 */
#include "autoconf.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

const char	*bench_progname = "cb_bench";

/* What each subcommand runs and says it does. */
static const struct {
	const char	*name;
	int		(*run)(const struct bench_opts *);
	const char	*help;
} modes[] = {
	{ "udp", bench_udp, "UDP registrations (or --sink: the recvmmsg "
	    "sink), counted by the receiver" },
	{ "pairs", bench_pairs, "complete Peer pairs, UDP and TCP on both "
	    "sides" },
	{ "clientserver", bench_clientserver, "Client requests to "
	    "--servers registered Servers" },
	{ "exchange", bench_exchange, "connect/request/response/close "
	    "against sink-tcp" },
	{ "ack", bench_ack, "closed-loop registrations with \"Ack\":true" },
	{ "stun", bench_stun, "closed-loop STUN Binding Requests" },
	{ "stall", bench_stall, "the longest event-loop stall: probe RTT "
	    "while --path streams, and without" },
	{ "fill-leases", bench_fill_leases, "N idle leases; RSS per lease "
	    "(--pid)" },
	{ "fill-sessions", bench_fill_sessions, "[N] waiting TCP sessions "
	    "(default: all descriptors allow); RSS per session (--pid)" },
	{ "sink-udp", bench_sink_udp, "reference recvmmsg UDP receiver" },
	{ "sink-tcp", bench_sink_tcp, "reference libevent line-echo TCP "
	    "server" },
};

enum opt_type {
	OPT_INT,
	OPT_U64,
	OPT_DOUBLE,
	OPT_STRING,
	OPT_FLAG,
};

/* Every option: its name, type, bounds and where it goes. */
static const struct {
	const char	*name;
	enum opt_type	 type;
	double		 min, max;
	size_t		 off;
	const char	*help;
} options[] = {
#define O(f)	offsetof(struct bench_opts, f)
	{ "host", OPT_STRING, 0, 0, O(host), "receiver address (127.0.0.1)" },
	{ "port", OPT_INT, 1, 65535, O(port), "receiver port (6969)" },
	{ "admin-port", OPT_INT, 0, 65535, O(admin_port),
	    "daemon admin port for /stats (6970), 0: none" },
	{ "duration", OPT_DOUBLE, 0.01, 600, O(duration),
	    "seconds the run lasts at most (5)" },
	{ "count", OPT_U64, 0, 1e12, O(count),
	    "operations to send at most, 0: no limit (0)" },
	{ "rate", OPT_U64, 0, 1e9, O(rate), "per second, 0: flat out (0)" },
	{ "inflight", OPT_INT, 1, 8192, O(inflight),
	    "TCP exchanges or pairs in flight (64)" },
	{ "sockets", OPT_INT, 1, BENCH_MAX_SOCKETS, O(sockets),
	    "sending sockets (udp 506, closed loop 8)" },
	{ "window", OPT_INT, 1, 4096, O(window),
	    "closed loop: requests in flight per socket (32)" },
	{ "batch", OPT_INT, 1, BENCH_MAX_BATCH, O(batch),
	    "datagrams per sendmmsg/recvmmsg (64)" },
	{ "cpu", OPT_INT, 0, 1023, O(cpu), "pin this process to a CPU" },
	{ "sink-cpu", OPT_INT, 0, 1023, O(sink_cpu),
	    "pin the forked sink (udp --sink) to a CPU" },
	{ "sink", OPT_FLAG, 0, 0, O(sink),
	    "udp: fork a recvmmsg sink on --port and drive it" },
	{ "pid", OPT_INT, 1, INT_MAX, O(pid),
	    "receiver PID: RSS, CPU time per operation, udp --burst" },
	{ "peer-port", OPT_INT, 0, INT_MAX, O(peer_port),
	    "first PeerPort (1234)" },
	{ "keys", OPT_INT, 1, 1 << 20, O(keys),
	    "udp: distinct PeerPorts per socket (1)" },
	{ "src-ips", OPT_INT, 1, 1 << 20, O(src_ips),
	    "closed loop: source addresses in 127.1.0.0/16.. (65536, "
	    "stall 200)" },
	{ "pad", OPT_INT, 16, BENCH_LINE_MAX, O(pad),
	    "ack: request bytes, padded with spaces (128)" },
	{ "servers", OPT_INT, 1, 64, O(servers),
	    "clientserver: registered Servers (4)" },
	{ "timeout", OPT_INT, 1, 60000, O(timeout_ms),
	    "closed loop: ms without an answer before refilling (100)" },
	{ "drain", OPT_DOUBLE, 0, 600, O(drain),
	    "seconds a receiver may take to drain after sending (2)" },
	{ "burst", OPT_INT, 0, 1 << 20, O(burst),
	    "udp: pause the receiver, queue N datagrams, time the drain" },
	{ "path", OPT_STRING, 0, 0, O(path),
	    "stall: admin URL to stream (/leases?limit=100000)" },
#undef O
};
#define NOPTIONS	(sizeof(options) / sizeof(options[0]))
#define NMODES		(sizeof(modes) / sizeof(modes[0]))

static void	usage(int) __attribute__((noreturn));
static int	set_option(struct bench_opts *, size_t, const char *);
static void	defaults(struct bench_opts *);

/* Prints the usage, to stdout for --help and stderr otherwise. */
static void
usage(int status)
{
	FILE	*f = status == 0 ? stdout : stderr;
	size_t	 i;

	fprintf(f, "usage: %s MODE [N] [--option value ...]\n\nmodes:\n",
	    bench_progname);
	for (i = 0; i < NMODES; i++)
		fprintf(f, "  %-14s %s\n", modes[i].name, modes[i].help);
	fprintf(f, "\noptions:\n");
	for (i = 0; i < NOPTIONS; i++)
		fprintf(f, "  --%-12s %s\n", options[i].name, options[i].help);
	exit(status);
}

/* Parses one option's value into its field; -1 if it is bad. */
static int
set_option(struct bench_opts *o, size_t i, const char *arg)
{
	char	*end, *p = (char *)o + options[i].off;
	double	 v = 0;

	if (options[i].type == OPT_FLAG) {
		*(int *)p = 1;
		return (0);
	}
	if (options[i].type == OPT_STRING) {
		*(const char **)p = arg;
		return (0);
	}
	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' ||
	    v < options[i].min || v > options[i].max ||
	    (options[i].type != OPT_DOUBLE && v != (double)(long long)v))
		return (-1);
	switch (options[i].type) {
	case OPT_INT:
		*(int *)p = (int)v;
		break;
	case OPT_U64:
		*(uint64_t *)p = (uint64_t)v;
		break;
	default:
		*(double *)p = v;
		break;
	}
	return (0);
}

/* The defaults of every option. */
static void
defaults(struct bench_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->host = "127.0.0.1";
	o->port = 6969;
	o->admin_port = 6970;
	o->duration = 5;
	o->inflight = 64;
	o->window = 32;
	o->batch = 64;
	o->cpu = o->sink_cpu = -1;
	o->peer_port = 1234;
	o->keys = 1;
	o->pad = 128;
	o->servers = 4;
	o->timeout_ms = 100;
	o->drain = 2;
}

/* Picks the mode, reads the options, pins if asked, and runs. */
int
main(int argc, char **argv)
{
	struct option		 longopts[NOPTIONS + 2];
	struct bench_opts	 o;
	size_t			 i, mode;
	char			*end;
	int			 ch, idx;

	if (argc < 2)
		usage(2);
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		usage(0);
	for (mode = 0; mode < NMODES; mode++) {
		if (strcmp(argv[1], modes[mode].name) == 0)
			break;
	}
	if (mode == NMODES) {
		bench_warnx("unknown mode: %s", argv[1]);
		usage(2);
	}
	defaults(&o);
	for (i = 0; i < NOPTIONS; i++) {
		longopts[i].name = options[i].name;
		longopts[i].has_arg = options[i].type == OPT_FLAG ?
		    no_argument : required_argument;
		longopts[i].flag = NULL;
		longopts[i].val = 0;
	}
	longopts[NOPTIONS] = (struct option){ "help", no_argument, NULL, 'h' };
	memset(&longopts[NOPTIONS + 1], 0, sizeof(longopts[0]));
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "h", longopts, &idx)) != -1) {
		if (ch == 'h')
			usage(0);
		if (ch != 0 || set_option(&o, (size_t)idx, optarg) == -1) {
			if (ch == 0)
				bench_warnx("bad value for --%s: %s",
				    options[idx].name, optarg);
			usage(2);
		}
	}
	if (optind < argc) {
		o.n = strtoull(argv[optind], &end, 10);
		if (*end != '\0' || optind + 1 < argc) {
			bench_warnx("bad argument: %s", argv[optind]);
			usage(2);
		}
	}
	if (!bench_loopback(o.host)) {
		bench_warnx("--host must be a loopback address (127.0.0.0/8 "
		    "or ::1): %s", o.host);
		return (2);
	}
	if (o.cpu != -1 && bench_pin(o.cpu) == -1)
		return (1);
	return (modes[mode].run(&o) == 0 ? 0 : 1);
}
