/*
 * Memory per lease and per waiting session: the daemon's resident set
 * (VmRSS of --pid) before and after filling it, divided by how many the
 * daemon itself says it holds (/stats "leases" and "waiting").
 *
 * fill-leases N registers N distinct (IP, PeerPort) keys from the 253
 * source IPs, in rounds no larger than the daemon's socket buffer holds.
 * Each round waits for the daemon to have read the one before (if it
 * has not within 0.2 s, some were dropped, and the count moves on), and
 * the whole set is sent again (refreshes are harmless) until the gauge
 * shows all of them.  fill-sessions N first registers N leases, then
 * opens N TCP sessions whose Peer requests name a partner who never
 * comes: they wait until their lease expires.  N is cut to what the
 * descriptor limit allows.  Both stop by themselves: every wait is
 * bounded by --duration.
 */
#include "autoconf.h"

#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"

#define FILL_ROUND		4096	/* datagrams, then wait for them */
#define FILL_PASSES		4
#define FILL_SESSION_BASE	2000000	/* PeerPort offset of fill-sessions */
#define FILL_CONNECTING		256	/* connects in progress at once */
#define FILL_FD_RESERVE		200	/* kept for everything else */

static int	fill_register(const struct bench_opts *, long, uint64_t,
		    uint64_t);
static int	fill_connect(const struct bench_opts *, long, uint64_t, int *);
static int	fill_report(const struct bench_opts *, const char *,
		    const char *, long long, long long, long long);

/*
 * Registers keys (source IP i % 253, PeerPort base + i / 253) for i < n;
 * done once the "leases" gauge has grown by n past leases0.
 */
static int
fill_register(const struct bench_opts *o, long base, uint64_t n,
    uint64_t leases0)
{
	struct sockaddr_storage	ss;
	socklen_t		len = bench_sockaddr(o->host, o->port, &ss);
	char			ip[32], text[32];
	uint64_t		i, end;
	long long		read0, seen, got;
	int			fds[BENCH_SRC_IPS], k, pass, tlen, rc = -1;

	for (k = 0; k < BENCH_SRC_IPS; k++) {
		bench_src_ip(k, ip, sizeof(ip));
		if ((fds[k] = bench_udp_socket(ip, 0)) == -1)
			return (-1);
	}
	end = bench_deadline(o, bench_now_ns());
	for (pass = 0; pass < FILL_PASSES && bench_now_ns() < end; pass++) {
		if (bench_stat(o, "udp_datagrams", &read0) == -1)
			break;
		for (i = 0; i < n && bench_now_ns() < end; i++) {
			/* The daemon has read all but the last round. */
			if (i % FILL_ROUND == 0 && i != 0 &&
			    bench_wait_stat(o, "udp_datagrams", read0 +
			    (long long)(i - FILL_ROUND), 0.2) == -1 &&
			    bench_stat(o, "udp_datagrams", &seen) == 0)
				read0 = seen - (long long)(i - FILL_ROUND);
			tlen = snprintf(text, sizeof(text),
			    "{\"PeerPort\":%llu}", (unsigned long long)
			    (base + (long)(i / BENCH_SRC_IPS)));
			sendto(fds[i % BENCH_SRC_IPS], text, (size_t)tlen, 0,
			    (struct sockaddr *)&ss, len);
		}
		if (bench_wait_stat(o, "leases", (long long)(leases0 + n),
		    1.0) == 0) {
			rc = 0;
			break;
		}
	}
	if (rc == -1 && bench_stat(o, "leases", &got) == 0)
		bench_warnx("fill: %lld of %llu leases after %d passes",
		    got - (long long)leases0, (unsigned long long)n, pass);
	for (k = 0; k < BENCH_SRC_IPS; k++)
		close(fds[k]);
	return (rc);
}

/* Reports RSS growth per unit the daemon counts under gauge. */
static int
fill_report(const struct bench_opts *o, const char *mode, const char *gauge,
    long long rss0, long long units0, long long extra)
{
	long long	rss1, units1;

	bench_sleep_ns(200 * 1000 * 1000);	/* let the daemon settle */
	rss1 = bench_rss_kb(o->pid);
	if (rss1 == -1 || bench_stat(o, gauge, &units1) == -1)
		return (-1);
	printf("mode=%s %s=%lld rss0_kb=%lld rss1_kb=%lld "
	    "bytes_per=%.0f", mode, gauge, units1 - units0, rss0, rss1,
	    units1 > units0 ? (double)(rss1 - rss0) * 1024.0 /
	    (double)(units1 - units0) : 0.0);
	if (extra >= 0)
		printf(" fd_limit=%lld", extra);
	printf("\n");
	return (0);
}

/* fill-leases N: bytes of RSS per idle lease. */
int
bench_fill_leases(const struct bench_opts *o)
{
	long long	rss0, leases0;
	uint64_t	n = o->n != 0 ? o->n : 100000;

	if (o->pid == 0 || (rss0 = bench_rss_kb(o->pid)) == -1 ||
	    bench_stat(o, "leases", &leases0) == -1) {
		bench_warnx("fill-leases: needs --pid and --admin-port");
		return (-1);
	}
	if (fill_register(o, o->peer_port, n, (uint64_t)leases0) == -1)
		return (-1);
	return (fill_report(o, "fill-leases", "leases", rss0, leases0, -1));
}

/*
 * Opens n sessions from source IP i % 253 whose Peer requests wait; the
 * descriptors go to fds.  At most FILL_CONNECTING connect at once.
 */
static int
fill_connect(const struct bench_opts *o, long base, uint64_t n, int *fds)
{
	struct epoll_event	ev, evs[64];
	char			ip[32], req[160];
	uint64_t		i = 0, done = 0, end;
	int			efd, k, m, len, pending = 0;

	if ((efd = epoll_create1(0)) == -1)
		return (-1);
	end = bench_deadline(o, bench_now_ns());
	while (done < n && bench_now_ns() < end) {
		for (; i < n && pending < FILL_CONNECTING; i++, pending++) {
			bench_src_ip((int)(i % BENCH_SRC_IPS), ip, sizeof(ip));
			if ((fds[i] = bench_tcp_connect(ip, o->host,
			    o->port)) == -1)
				goto fail;
			ev.events = EPOLLOUT;
			ev.data.u64 = i;
			epoll_ctl(efd, EPOLL_CTL_ADD, fds[i], &ev);
		}
		m = epoll_wait(efd, evs, 64, 100);
		for (k = 0; k < m; k++) {
			uint64_t j = evs[k].data.u64;

			len = snprintf(req, sizeof(req), "{\"RemoteIP\":"
			    "\"127.0.0.1\",\"RemotePeerPort\":1,"
			    "\"LocalPeerPort\":%ld,\"ConnectionType\":"
			    "\"Peer\"}\n", base + (long)(j / BENCH_SRC_IPS));
			if (write(fds[j], req, (size_t)len) != len)
				goto fail;
			epoll_ctl(efd, EPOLL_CTL_DEL, fds[j], NULL);
			pending--;
			done++;
		}
	}
	close(efd);
	return (done == n ? 0 : -1);
fail:
	bench_warnx("fill-sessions: connection %llu: %s",
	    (unsigned long long)i, strerror(errno));
	close(efd);
	return (-1);
}

/*
 * fill-sessions N: bytes of RSS per waiting TCP session; with no N, as
 * many as the descriptor limit allows.
 */
int
bench_fill_sessions(const struct bench_opts *o)
{
	struct rlimit	 rl;
	long long	 rss0, leases0, waiting0;
	long		 base = o->peer_port + FILL_SESSION_BASE;
	uint64_t	 n, i;
	int		*fds, rc = -1;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return (-1);
	n = o->n != 0 ? o->n : rl.rlim_cur - FILL_FD_RESERVE;
	if (n > rl.rlim_cur - FILL_FD_RESERVE)
		n = rl.rlim_cur - FILL_FD_RESERVE;
	if (o->pid == 0 || bench_stat(o, "leases", &leases0) == -1) {
		bench_warnx("fill-sessions: needs --pid and --admin-port");
		return (-1);
	}
	if ((fds = malloc(n * sizeof(*fds))) == NULL)
		return (-1);
	memset(fds, -1, n * sizeof(*fds));
	if (fill_register(o, base, n, (uint64_t)leases0) == -1)
		goto out;
	bench_sleep_ns(200 * 1000 * 1000);
	if ((rss0 = bench_rss_kb(o->pid)) == -1 ||
	    bench_stat(o, "waiting", &waiting0) == -1 ||
	    fill_connect(o, base, n, fds) == -1)
		goto out;
	if (bench_wait_stat(o, "waiting", waiting0 + (long long)n,
	    o->duration) == -1)
		bench_warnx("fill-sessions: not all %llu sessions wait",
		    (unsigned long long)n);
	rc = fill_report(o, "fill-sessions", "waiting", rss0, waiting0,
	    (long long)rl.rlim_cur);
out:
	for (i = 0; i < n; i++) {
		if (fds[i] != -1)
			close(fds[i]);
	}
	free(fds);
	return (rc);
}
