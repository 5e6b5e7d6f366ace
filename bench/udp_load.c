/*
 * udp: registrations from many "public IPs" (sockets on 127.0.0.2 ..
 * 127.0.0.254, any port), sent in sendmmsg() batches, flat out or at
 * --rate, for --duration or --count datagrams.
 *
 * The sender's count proves nothing (a full socket buffer drops silently),
 * so the receiver's own counter is read before, when sending stops, and
 * once it has drained: the daemon's udp_datagrams from /stats, or, with
 * --sink, the count of a recvmmsg sink forked on --port and kept in
 * shared memory.  The intake rate is what the receiver took in while the
 * generator was sending, divided by that time.
 *
 * On loopback the sender pays for most of the receive path, so one
 * sending core may not outrun a good receiver, and both would then show
 * the generator's rate.  --burst N measures the receiver alone, as
 * "drains from a full socket buffer": the receiver (--pid, or the forked
 * sink) is stopped with SIGSTOP, N datagrams are queued, it is continued,
 * and the drain is timed until its socket's queue in /proc/net/udp{,6}
 * is empty (reading /proc costs the receiver nothing).  The rate is
 * reported per wall second and per second of the receiver's own CPU time
 * (schedstat), which a busy machine distorts much less.
 */
#include "autoconf.h"

#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define UDP_DEFAULT_SOCKETS	(2 * BENCH_SRC_IPS)
#define UDP_SETTLE_NS		(200 * 1000 * 1000ULL)	/* no change: drained */

/* Where the count of datagrams taken in comes from. */
struct receiver {
	const struct bench_opts	*o;
	void			*map;		/* sink: the shared page */
	volatile uint64_t	*shared;	/* in it: count, then ready */
	pid_t			 child;		/* sink: its process */
};

struct payload {
	char	text[32];
	size_t	len;
};

static int	receiver_start(struct receiver *);
static int	receiver_read(struct receiver *, uint64_t *);
static uint64_t	receiver_drain(struct receiver *, uint64_t);
static void	receiver_stop(struct receiver *);
static int	open_sockets(const struct bench_opts *, int *, int);
static uint64_t	send_loop(const struct bench_opts *, const int *, int,
		    struct payload *, uint64_t *);
static long long rx_queue(int);
static int	burst_loop(const struct bench_opts *, struct receiver *,
		    const int *, int, struct payload *);

/* Forks the sink if asked for, and waits until it is bound. */
static int
receiver_start(struct receiver *r)
{
	uint64_t	end;

	if (!r->o->sink)
		return (0);
	r->map = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (r->map == MAP_FAILED) {
		r->map = NULL;
		return (-1);
	}
	r->shared = r->map;
	if ((r->child = fork()) == -1)
		return (-1);
	if (r->child == 0) {
		if (r->o->sink_cpu != -1)
			bench_pin(r->o->sink_cpu);
		_exit(bench_sink_udp_loop(r->o, &r->shared[0],
		    (volatile int *)&r->shared[1]) == 0 ? 0 : 1);
	}
	end = bench_now_ns() + 5000000000ULL;
	while (!__atomic_load_n((volatile int *)&r->shared[1],
	    __ATOMIC_RELAXED)) {
		if (bench_now_ns() > end || waitpid(r->child, NULL,
		    WNOHANG) != 0)
			return (-1);
		bench_sleep_ns(1000000);
	}
	return (0);
}

/* The receiver's count now. */
static int
receiver_read(struct receiver *r, uint64_t *v)
{
	long long	n;

	if (r->o->sink) {
		*v = __atomic_load_n(&r->shared[0], __ATOMIC_RELAXED);
		return (0);
	}
	if (bench_stat(r->o, "udp_datagrams", &n) == -1)
		return (-1);
	*v = (uint64_t)n;
	return (0);
}

/* Waits until the count stops moving (or --drain ends); the count. */
static uint64_t
receiver_drain(struct receiver *r, uint64_t last)
{
	uint64_t	end, v, still;

	end = bench_now_ns() + (uint64_t)(r->o->drain * 1e9);
	still = bench_now_ns();
	while (bench_now_ns() < end) {
		bench_sleep_ns(20 * 1000 * 1000);
		if (receiver_read(r, &v) == -1)
			break;
		if (v != last) {
			last = v;
			still = bench_now_ns();
		} else if (bench_now_ns() - still > UDP_SETTLE_NS)
			break;
	}
	return (last);
}

/* Stops the forked sink, if any, and unmaps the shared page. */
static void
receiver_stop(struct receiver *r)
{
	if (r->o->sink && r->child > 0) {
		kill(r->child, SIGTERM);
		waitpid(r->child, NULL, 0);
	}
	if (r->map != NULL)
		munmap(r->map, 4096);
}

/* n UDP sockets on the source addresses, connected to the receiver. */
static int
open_sockets(const struct bench_opts *o, int *fds, int n)
{
	struct sockaddr_storage	ss;
	socklen_t		len = bench_sockaddr(o->host, o->port, &ss);
	char			ip[32];
	int			i;

	for (i = 0; i < n; i++) {
		bench_src_ip(i, ip, sizeof(ip));
		if (ss.ss_family == AF_INET6)
			snprintf(ip, sizeof(ip), "::1");
		if ((fds[i] = bench_udp_socket(ip, 0)) == -1 ||
		    connect(fds[i], (struct sockaddr *)&ss, len) == -1) {
			bench_warnx("udp: cannot open socket %d on %s: %s",
			    i, ip, strerror(errno));
			return (-1);
		}
	}
	return (0);
}

/*
 * Sends batches round the sockets until the deadline or the count; the
 * datagrams the kernel accepted.  *t1 is when sending stopped.
 */
static uint64_t
send_loop(const struct bench_opts *o, const int *fds, int nfds,
    struct payload *pl, uint64_t *t1)
{
	struct mmsghdr	msgs[BENCH_MAX_BATCH];
	struct iovec	iov[BENCH_MAX_BATCH];
	uint64_t	start = bench_now_ns(), end, sent = 0, k = 0;
	int		i, b, r, s = 0;

	end = bench_deadline(o, start);
	memset(msgs, 0, sizeof(msgs));
	while ((o->count == 0 || sent < o->count) && bench_now_ns() < end) {
		b = o->batch;
		if (o->count != 0 && o->count - sent < (uint64_t)b)
			b = (int)(o->count - sent);
		for (i = 0; i < b; i++, k++) {
			iov[i].iov_base = pl[k % (uint64_t)o->keys].text;
			iov[i].iov_len = pl[k % (uint64_t)o->keys].len;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		bench_pace(o->rate, start, sent);
		r = sendmmsg(fds[s], msgs, (unsigned int)b, 0);
		s = (s + 1) % nfds;
		if (r > 0)
			sent += (uint64_t)r;
	}
	*t1 = bench_now_ns();
	return (sent);
}

/* Bytes queued on the UDP socket bound to port, from /proc; -1: none. */
static long long
rx_queue(int port)
{
	static const char	*files[] = { "/proc/net/udp",
				    "/proc/net/udp6" };
	char			 line[512], *p;
	unsigned int		 lport;
	unsigned long		 rx;
	long long		 total = -1;
	size_t			 i;
	FILE			*f;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		if ((f = fopen(files[i], "r")) == NULL)
			continue;
		while (fgets(line, sizeof(line), f) != NULL) {
			if ((p = strchr(line, ':')) == NULL ||
			    (p = strchr(p + 1, ':')) == NULL ||
			    sscanf(p + 1, "%x %*s %*s %*x:%lx", &lport,
			    &rx) != 2 || (int)lport != port)
				continue;
			total = (total == -1 ? 0 : total) + (long long)rx;
		}
		fclose(f);
	}
	return (total);
}

/* --burst: see the top of the file. */
static int
burst_loop(const struct bench_opts *o, struct receiver *r, const int *fds,
    int nfds, struct payload *pl)
{
	struct bench_opts	 round = *o;
	pid_t			 pid = o->sink ? r->child : o->pid;
	uint64_t		 end, t0, t1, cpu0, c0, c1, sent = 0;
	uint64_t		 taken = 0, wall = 0, cpu = 0, rounds = 0;

	if (pid <= 0) {
		bench_warnx("udp --burst: needs --pid or --sink");
		return (-1);
	}
	round.count = (uint64_t)o->burst;
	round.rate = 0;
	end = bench_deadline(o, bench_now_ns());
	while (bench_now_ns() < end && (o->count == 0 || taken < o->count)) {
		if (receiver_read(r, &c0) == -1 || kill(pid, SIGSTOP) == -1)
			return (-1);
		bench_sleep_ns(2 * 1000 * 1000);	/* it has stopped */
		sent += send_loop(&round, fds, nfds, pl, &t1);
		cpu0 = bench_cpu_ns(pid);
		t0 = bench_now_ns();
		kill(pid, SIGCONT);
		while (rx_queue(o->port) > 0 &&
		    bench_now_ns() - t0 < 1000000000)
			;
		t1 = bench_now_ns();
		cpu += bench_cpu_ns(pid) - cpu0;
		wall += t1 - t0;
		bench_sleep_ns(1000 * 1000);		/* the last batch */
		if (receiver_read(r, &c1) == -1)
			return (-1);
		taken += c1 - c0;
		rounds++;
	}
	printf("mode=udp target=%s burst=%d rounds=%llu sent=%llu "
	    "taken=%llu loss=%.2f%% drain_rate=%.0f cpu_rate=%.0f "
	    "cpu_ns_per=%.0f\n", o->sink ? "sink" : "daemon", o->burst,
	    (unsigned long long)rounds, (unsigned long long)sent,
	    (unsigned long long)taken, sent == 0 ? 0.0 :
	    100.0 * (1.0 - (double)taken / (double)sent),
	    wall == 0 ? 0.0 : (double)taken * 1e9 / (double)wall,
	    cpu == 0 ? 0.0 : (double)taken * 1e9 / (double)cpu,
	    taken == 0 ? 0.0 : (double)cpu / (double)taken);
	return (0);
}

/* udp: see the top of the file. */
int
bench_udp(const struct bench_opts *o)
{
	struct receiver	 r = { o, NULL, NULL, -1 };
	struct payload	*pl;
	uint64_t	 c0, c1, c2, t0, t1, sent;
	int		*fds, n, i, rc = -1;

	n = o->sockets != 0 ? o->sockets : UDP_DEFAULT_SOCKETS;
	fds = calloc((size_t)n, sizeof(*fds));
	pl = calloc((size_t)o->keys, sizeof(*pl));
	if (fds == NULL || pl == NULL)
		goto out;
	for (i = 0; i < o->keys; i++)
		pl[i].len = (size_t)snprintf(pl[i].text, sizeof(pl[i].text),
		    "{\"PeerPort\":%ld}", o->peer_port + i);
	if (open_sockets(o, fds, n) == -1 || receiver_start(&r) == -1 ||
	    receiver_read(&r, &c0) == -1) {
		bench_warnx("udp: cannot start (receiver down?)");
		goto out;
	}
	if (o->burst != 0) {
		rc = burst_loop(o, &r, fds, n, pl);
		goto out;
	}
	t0 = bench_now_ns();
	sent = send_loop(o, fds, n, pl, &t1);
	if (receiver_read(&r, &c1) == -1)
		goto out;
	c2 = receiver_drain(&r, c1);
	printf("mode=udp target=%s sent=%llu taken=%llu secs=%.2f "
	    "rate=%.0f loss=%.2f%%\n", o->sink ? "sink" : "daemon",
	    (unsigned long long)sent, (unsigned long long)(c2 - c0),
	    (double)(t1 - t0) / 1e9, (double)(c1 - c0) * 1e9 /
	    (double)(t1 - t0), sent == 0 ? 0.0 :
	    100.0 * (1.0 - (double)(c2 - c0) / (double)sent));
	rc = 0;
out:
	receiver_stop(&r);
	for (i = 0; fds != NULL && i < n; i++) {
		if (fds[i] > 0)
			close(fds[i]);
	}
	free(fds);
	free(pl);
	return (rc);
}
