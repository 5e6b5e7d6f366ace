/*
 * The stall probe: {"PeerPort":7,"Ack":true}, padded to --pad bytes so
 * the daemon may answer it, one in flight at a time and one a
 * millisecond at most (closed loop: the next leaves 1 ms after the last,
 * or as soon as the last is answered if that took longer).  Each answer
 * is a whole turn of the daemon's event loop away, so the longest round
 * trip bounds the longest stall.  A round trip ends when the answer
 * reaches the socket (the kernel's SO_TIMESTAMPNS stamp), not when this
 * process gets round to reading it.
 *
 * The daemon acknowledges an IP at most 10 times a second (a burst of
 * 20), so the probes leave from --src-ips addresses in 127.1.0.0/16 in
 * turn (200 by default: 5 a second each), chosen per datagram with
 * IP_PKTINFO on a wildcard socket as the ack mode does.  Few addresses
 * also mean the probes refresh leases rather than create them, so they
 * do not grow the daemon's table during a measurement.
 *
 * An answer must name the probe's port and the source address of the
 * probe in flight; anything else (an answer that came after its probe
 * was given up for lost after --timeout ms) is counted as invalid.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stall.h"
#include "util.h"

#define PROBE_PEER_PORT		7
#define PROBE_PERIOD_NS		1000000		/* one probe a millisecond */
#define PROBE_SRC_IPS		200

static void	probe_expire(struct bench_probe *, uint64_t);
static void	probe_send(struct bench_probe *, uint64_t);
static uint64_t	probe_wall_ns(void);
static uint64_t	probe_rx_stamp(struct msghdr *);
static int	probe_valid(const struct bench_probe *, const unsigned char *,
		    size_t);

/* A wildcard UDP socket aimed at the daemon; -1 on failure. */
int
bench_probe_open(struct bench_probe *p, const struct bench_opts *o)
{
	int	one = 1;

	memset(p, 0, sizeof(*p));
	p->o = o;
	p->src_ips = o->src_ips != 0 ? o->src_ips : PROBE_SRC_IPS;
	if ((p->tolen = bench_sockaddr(o->host, o->port, &p->to)) == 0 ||
	    p->to.ss_family != AF_INET) {
		bench_warnx("stall: --host must be an IPv4 address: %s",
		    o->host);
		return (-1);
	}
	if ((p->fd = bench_udp_socket("0.0.0.0", 0)) == -1)
		return (-1);
	setsockopt(p->fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
	p->port = cb_local_port(p->fd);
	return (bench_lat_init(&p->lat));
}

/* Forgets the samples and counts, for the next phase. */
void
bench_probe_reset(struct bench_probe *p)
{
	p->lat.n = 0;
	p->lat.seen = 0;
	p->sent = p->answered = p->lost = p->invalid = 0;
	p->sent_ns = 0;
	p->due_ns = 0;
}

/* Nanoseconds from now until the probe has something to do. */
uint64_t
bench_probe_wait_ns(const struct bench_probe *p, uint64_t now)
{
	uint64_t	at;

	at = p->sent_ns != 0 ? p->sent_ns + (uint64_t)p->o->timeout_ms *
	    1000000 : p->due_ns;
	return (at > now ? at - now : 0);
}

/* Gives up on the probe in flight if it is past --timeout. */
static void
probe_expire(struct bench_probe *p, uint64_t now)
{
	if (p->sent_ns != 0 &&
	    now - p->sent_ns >= (uint64_t)p->o->timeout_ms * 1000000) {
		p->lost++;
		p->sent_ns = 0;
	}
}

/* Gives up on a probe past --timeout, sends the next when it is due. */
void
bench_probe_tick(struct bench_probe *p, uint64_t now)
{
	probe_expire(p, now);
	if (p->sent_ns == 0 && now >= p->due_ns)
		probe_send(p, now);
}

/* Sends one probe from the next source address. */
static void
probe_send(struct bench_probe *p, uint64_t now)
{
	unsigned char	 buf[BENCH_LINE_MAX];
	char		 cbuf[BENCH_PKTINFO_SPACE];
	struct msghdr	 m;
	struct iovec	 iov;

	bench_wide_src(p->next_src++ % (uint64_t)p->src_ips, &p->src);
	iov.iov_base = buf;
	iov.iov_len = bench_ack_request(buf, (size_t)p->o->pad,
	    PROBE_PEER_PORT);
	memset(&m, 0, sizeof(m));
	m.msg_name = &p->to;
	m.msg_namelen = p->tolen;
	m.msg_iov = &iov;
	m.msg_iovlen = 1;
	bench_pktinfo(&m, cbuf, p->src);
	p->due_ns = now + PROBE_PERIOD_NS;
	p->sent_wall = probe_wall_ns();
	if (sendmsg(p->fd, &m, 0) == -1) {
		p->lost++;
		return;
	}
	p->sent++;
	p->sent_ns = bench_now_ns();
}

/* Nanoseconds of the wall clock, which the kernel stamps datagrams with. */
static uint64_t
probe_wall_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ((uint64_t)ts.tv_sec * 1000000000 + (uint64_t)ts.tv_nsec);
}

/* 1 if buf answers the probe in flight. */
static int
probe_valid(const struct bench_probe *p, const unsigned char *buf, size_t len)
{
	char	ip[INET_ADDRSTRLEN], want[64];

	if (p->sent_ns == 0 ||
	    !bench_ack_valid(buf, len, 0, 1, p->port) ||
	    inet_ntop(AF_INET, &p->src, ip, sizeof(ip)) == NULL)
		return (0);
	snprintf(want, sizeof(want), "\"SourceIP\":\"%s\"", ip);
	return (memmem(buf, len, want, strlen(want)) != NULL);
}

/*
 * The wall-clock time the kernel stamped on a received datagram, or 0 if
 * it did not stamp one.
 */
static uint64_t
probe_rx_stamp(struct msghdr *m)
{
	struct cmsghdr	*c;
	struct timespec	 ts;

	for (c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level != SOL_SOCKET ||
		    c->cmsg_type != SCM_TIMESTAMPNS)
			continue;
		memcpy(&ts, CMSG_DATA(c), sizeof(ts));
		return ((uint64_t)ts.tv_sec * 1000000000 +
		    (uint64_t)ts.tv_nsec);
	}
	return (0);
}

/*
 * Reads every answer waiting and times the one that is the probe's: from
 * just before its sendmsg() to the moment the answer reached our socket
 * (the kernel's receive timestamp), so that the time this process itself
 * takes to be scheduled and to read is not counted as the daemon's.
 */
void
bench_probe_read(struct bench_probe *p)
{
	unsigned char	 buf[BENCH_LINE_MAX];
	char		 cbuf[CMSG_SPACE(sizeof(struct timespec))];
	struct msghdr	 m;
	struct iovec	 iov;
	uint64_t	 rx;
	ssize_t		 n;

	for (;;) {
		iov.iov_base = buf;
		iov.iov_len = sizeof(buf);
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = cbuf;
		m.msg_controllen = sizeof(cbuf);
		if ((n = recvmsg(p->fd, &m, MSG_DONTWAIT)) == -1)
			break;
		if (!probe_valid(p, buf, (size_t)n)) {
			p->invalid++;
			continue;
		}
		if ((rx = probe_rx_stamp(&m)) == 0)
			rx = probe_wall_ns();
		bench_lat_add(&p->lat, rx > p->sent_wall ? rx - p->sent_wall :
		    0);
		p->answered++;
		p->sent_ns = 0;
	}
}

/*
 * Waits for the answer to the probe in flight, if any, up to --timeout,
 * so that it is neither lost to this phase nor taken as invalid in the
 * next.
 */
void
bench_probe_finish(struct bench_probe *p)
{
	struct pollfd	pfd;
	uint64_t	now;

	pfd.fd = p->fd;
	pfd.events = POLLIN;
	while (p->sent_ns != 0) {
		now = bench_now_ns();
		probe_expire(p, now);
		if (p->sent_ns == 0)
			break;
		if (poll(&pfd, 1, (int)(bench_probe_wait_ns(p, now) /
		    1000000) + 1) > 0)
			bench_probe_read(p);
	}
}

/* Closes the socket and frees the samples. */
void
bench_probe_close(struct bench_probe *p)
{
	if (p->fd > 0)
		close(p->fd);
	p->fd = -1;
	bench_lat_free(&p->lat);
}
