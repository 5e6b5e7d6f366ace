/*
 * The closed loop, for ack and stun: --sockets sockets each keep
 * --window requests in flight, and every valid answer lets one more
 * request go.  Only valid answers are counted (stun.c decides which).
 *
 * Why so many source addresses: the daemon answers each IP at most 10
 * times a second (a burst of 20), as the contract's amplification guard
 * wants, so a few sockets on a few IPs would measure the rate limit, not
 * the server.  Each request therefore leaves from its own address in
 * 127.1.0.0/16 and up (--src-ips of them, chosen per datagram with
 * IP_PKTINFO while the socket is bound to the wildcard address), which is
 * the load of that many clients.  A STUN server is driven the same way.
 *
 * A window that gets no answer for --timeout ms (dropped requests or
 * answers) is counted as lost and sent again, so the loop never stalls.
 */
#include "autoconf.h"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "util.h"

#define CL_DEFAULT_SOCKETS	8
#define CL_DEFAULT_SRC_IPS	65536
#define CL_REQ_MAX		BENCH_LINE_MAX

enum cl_kind {
	CL_ACK,
	CL_STUN,
};

struct cl_sock {
	int		 fd;
	int		 port;		/* local port: answers name it */
	int		 inflight;
	uint64_t	 next;		/* source addresses it has used */
	uint64_t	 progress_ns;	/* last valid answer or refill */
};

struct cl_run {
	const struct bench_opts	*o;
	enum cl_kind		 kind;
	struct cl_sock		*socks;
	int			 nsocks;
	int			 src_ips;
	struct sockaddr_storage	 to;
	socklen_t		 tolen;
	uint64_t		 sent, valid, invalid, lost, seq;
};

static void	cl_send(struct cl_run *, struct cl_sock *, int);
static void	cl_receive(struct cl_run *, struct cl_sock *);
static int	cl_open(struct cl_run *);
static int	cl_run(const struct bench_opts *, enum cl_kind);

/* Sends n requests from s, each from the socket's next source address. */
static void
cl_send(struct cl_run *r, struct cl_sock *s, int n)
{
	static unsigned char	 bufs[BENCH_MAX_BATCH][CL_REQ_MAX];
	static char		 cmsgs[BENCH_MAX_BATCH][BENCH_PKTINFO_SPACE];
	struct mmsghdr		 msgs[BENCH_MAX_BATCH];
	struct iovec		 iov[BENCH_MAX_BATCH];
	struct in_addr		 src;
	uint64_t		 idx;
	uint32_t		 sock = (uint32_t)(s - r->socks);
	int			 i, b, k;

	while (n > 0) {
		b = n < r->o->batch ? n : r->o->batch;
		memset(msgs, 0, sizeof(msgs[0]) * (size_t)b);
		for (i = 0; i < b; i++) {
			idx = sock + (uint64_t)r->nsocks * (s->next++ %
			    (uint64_t)(r->src_ips / r->nsocks + 1));
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = r->kind == CL_STUN ?
			    bench_stun_request(bufs[i], sock, r->seq++) :
			    bench_ack_request(bufs[i], (size_t)r->o->pad,
			    (uint32_t)idx);
			msgs[i].msg_hdr.msg_name = &r->to;
			msgs[i].msg_hdr.msg_namelen = r->tolen;
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
			bench_wide_src(idx, &src);
			bench_pktinfo(&msgs[i].msg_hdr, cmsgs[i], src);
		}
		k = sendmmsg(s->fd, msgs, (unsigned int)b, 0);
		if (k <= 0)
			break;
		r->sent += (uint64_t)k;
		s->inflight += k;
		n -= k;
	}
}

/* Reads what s has, counts the valid answers and refills the window. */
static void
cl_receive(struct cl_run *r, struct cl_sock *s)
{
	static unsigned char	 bufs[BENCH_MAX_BATCH][CL_REQ_MAX];
	struct mmsghdr		 msgs[BENCH_MAX_BATCH];
	struct iovec		 iov[BENCH_MAX_BATCH];
	uint32_t		 sock = (uint32_t)(s - r->socks);
	int			 i, n, ok;

	for (;;) {
		memset(msgs, 0, sizeof(msgs[0]) * (size_t)r->o->batch);
		for (i = 0; i < r->o->batch; i++) {
			iov[i].iov_base = bufs[i];
			iov[i].iov_len = sizeof(bufs[i]);
			msgs[i].msg_hdr.msg_iov = &iov[i];
			msgs[i].msg_hdr.msg_iovlen = 1;
		}
		n = recvmmsg(s->fd, msgs, (unsigned int)r->o->batch,
		    MSG_DONTWAIT, NULL);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			ok = r->kind == CL_STUN ?
			    bench_stun_valid(bufs[i], msgs[i].msg_len, sock,
			    s->port) :
			    bench_ack_valid(bufs[i], msgs[i].msg_len, sock,
			    (uint32_t)r->nsocks, s->port);
			if (!ok) {
				r->invalid++;
				continue;
			}
			r->valid++;
			if (s->inflight > 0)
				s->inflight--;
			s->progress_ns = bench_now_ns();
		}
	}
	cl_send(r, s, r->o->window - s->inflight);
}

/* Opens the sockets on the wildcard address and the epoll set. */
static int
cl_open(struct cl_run *r)
{
	struct epoll_event	ev;
	int			i, efd, one = 1;

	if ((r->tolen = bench_sockaddr(r->o->host, r->o->port, &r->to)) == 0 ||
	    r->to.ss_family != AF_INET ||
	    (efd = epoll_create1(0)) == -1)
		return (-1);
	for (i = 0; i < r->nsocks; i++) {
		r->socks[i].fd = bench_udp_socket("0.0.0.0", 0);
		if (r->socks[i].fd == -1)
			return (-1);
		setsockopt(r->socks[i].fd, IPPROTO_IP, IP_FREEBIND, &one,
		    sizeof(one));
		r->socks[i].port = cb_local_port(r->socks[i].fd);
		ev.events = EPOLLIN;
		ev.data.u32 = (uint32_t)i;
		if (epoll_ctl(efd, EPOLL_CTL_ADD, r->socks[i].fd, &ev) == -1)
			return (-1);
	}
	return (efd);
}

/* Runs the loop; prints answers per second and what was lost. */
static int
cl_run(const struct bench_opts *o, enum cl_kind kind)
{
	struct epoll_event	 evs[64];
	struct cl_run		 r;
	uint64_t		 start, end, now, tmo, cpu0, cpu1;
	long long		 acks0 = 0, acks1 = 0;
	int			 efd, i, n, rc = -1;

	memset(&r, 0, sizeof(r));
	r.o = o;
	r.kind = kind;
	r.nsocks = o->sockets != 0 ? o->sockets : CL_DEFAULT_SOCKETS;
	r.src_ips = o->src_ips != 0 ? o->src_ips : CL_DEFAULT_SRC_IPS;
	if ((r.socks = calloc((size_t)r.nsocks, sizeof(*r.socks))) == NULL ||
	    (efd = cl_open(&r)) == -1) {
		bench_warnx("%s: cannot open sockets: %s", kind == CL_STUN ?
		    "stun" : "ack", strerror(errno));
		goto out;
	}
	if (kind == CL_ACK)
		bench_stat(o, "udp_acks", &acks0);
	tmo = (uint64_t)o->timeout_ms * 1000000;
	cpu0 = o->pid != 0 ? bench_cpu_ns(o->pid) : 0;
	start = bench_now_ns();
	end = bench_deadline(o, start);
	for (i = 0; i < r.nsocks; i++) {
		r.socks[i].progress_ns = start;
		cl_send(&r, &r.socks[i], o->window);
	}
	while ((now = bench_now_ns()) < end &&
	    (o->count == 0 || r.valid < o->count)) {
		n = epoll_wait(efd, evs, 64, 5);
		for (i = 0; i < n; i++)
			cl_receive(&r, &r.socks[evs[i].data.u32]);
		now = bench_now_ns();
		for (i = 0; i < r.nsocks; i++) {
			if (now - r.socks[i].progress_ns < tmo)
				continue;
			r.lost += (uint64_t)r.socks[i].inflight;
			r.socks[i].inflight = 0;
			r.socks[i].progress_ns = now;
			cl_send(&r, &r.socks[i], o->window);
		}
	}
	now = bench_now_ns();
	cpu1 = o->pid != 0 ? bench_cpu_ns(o->pid) : 0;
	if (kind == CL_ACK)
		bench_stat(o, "udp_acks", &acks1);
	printf("mode=%s sent=%llu answers=%llu invalid=%llu lost=%llu "
	    "secs=%.2f rate=%.0f", kind == CL_STUN ? "stun" : "ack",
	    (unsigned long long)r.sent, (unsigned long long)r.valid,
	    (unsigned long long)r.invalid, (unsigned long long)r.lost,
	    (double)(now - start) / 1e9,
	    (double)r.valid * 1e9 / (double)(now - start));
	if (kind == CL_ACK)
		printf(" daemon_acks=%lld", acks1 - acks0);
	if (o->pid != 0 && r.valid != 0)
		printf(" rx_cpu_ns_per=%.0f rx_cpu_rate=%.0f",
		    (double)(cpu1 - cpu0) / (double)r.valid,
		    (double)r.valid * 1e9 / (double)(cpu1 - cpu0));
	printf("\n");
	rc = r.valid > 0 ? 0 : -1;
	close(efd);
out:
	for (i = 0; r.socks != NULL && i < r.nsocks; i++) {
		if (r.socks[i].fd > 0)
			close(r.socks[i].fd);
	}
	free(r.socks);
	return (rc);
}

/* ack: registrations with "Ack": true, closed loop. */
int
bench_ack(const struct bench_opts *o)
{
	return (cl_run(o, CL_ACK));
}

/* stun: STUN Binding Requests, closed loop. */
int
bench_stun(const struct bench_opts *o)
{
	return (cl_run(o, CL_STUN));
}
