/*
 * UDP intake.  libevent only says the socket is readable; the datagrams
 * are then drained with recvmmsg() in batches, up to a budget per
 * callback so a flood of registrations never starves the TCP side (the
 * socket is level-triggered: what is left is read on the next turn).
 * Each datagram is validated before anything is allocated.  Nothing is
 * sent back unless the registration asked for it with "Ack": true (the
 * contract's section 9): a client's socket must not receive what it did
 * not ask for.  The acknowledgement goes out of the socket the datagram
 * came in on, only if it is no larger than the request (no amplification)
 * and within a per-IP rate limit; a full socket buffer drops it.  It
 * leaves from the address the datagram arrived at (IP_PKTINFO): a socket
 * bound to the wildcard address would otherwise use the route's preferred
 * source, and a client that connect()ed to another of our addresses, or
 * its firewall, would drop the answer.  The answers of one recvmmsg()
 * batch go out with one sendmmsg(), which is most of what an answer costs
 * us: on loopback the send carries it through the receiver's stack too.
 *
 * The operator's limits apply before anything is stored: with
 * rate_limit_udp set, each source IP may send that many datagrams a
 * second (bursts of twice as many), checked before the datagram is even
 * decoded, and the registry refuses leases beyond max_leases and
 * max_leases_per_ip and registrations whose token does not match the
 * lease's.  Each drop is counted.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "proto.h"
#include "ratelimit.h"
#include "response.h"
#include "udp.h"

#define UDP_BATCH	64		/* datagrams per recvmmsg() */
#define UDP_BUDGET	16		/* recvmmsg() calls per callback */
#define UDP_RCVBUF	(4 << 20)	/* ask for room to absorb bursts */
#define UDP_ACK_RATE	10		/* acknowledgements per second per IP */
#define UDP_ACK_BURST	20
#define UDP_ACK_SLOTS	4096		/* IPs the rate limit tracks at once */

/* One byte past the limit shows a datagram was too large. */
#define UDP_BUFSIZE	(PROTO_UDP_MAX + 1)

/* Control data: where a datagram arrived, or where its answer leaves. */
union udp_ctl {
	struct cmsghdr	 hdr;
	char		 buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
};

struct udp_intake {
	struct daemon_ctx	*ctx;
	struct proto_decoder	*decoder;
	struct ratelimit	*ack_limit;
	struct ratelimit	*reg_limit;	/* rate_limit_udp */
	unsigned int		 reg_rate;	/* 0: off */
	int			 count;
	int			 fds[NET_MAX_SOCKETS];
	struct event		*events[NET_MAX_SOCKETS];
	/* The batch read, and where each datagram arrived. */
	struct mmsghdr		 msgs[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct sockaddr_storage	 from[UDP_BATCH];
	union udp_ctl		 ctl[UDP_BATCH];
	char			 bufs[UDP_BATCH][UDP_BUFSIZE];
	/* Its answers, sent together, and the source address of each. */
	int			 nacks;
	struct mmsghdr		 acks[UDP_BATCH];
	struct iovec		 ack_iov[UDP_BATCH];
	union udp_ctl		 ack_ctl[UDP_BATCH];
	char			 ack_bufs[UDP_BATCH][ACK_MAX];
};

static void	udp_socket_setup(int);
static void	udp_option(int, int, int, int, const char *);
static void	udp_buffers_init(struct udp_intake *);
static void	udp_read_cb(evutil_socket_t, short, void *);
static int	udp_read_batch(struct udp_intake *, int, uint64_t);
static void	udp_handle(struct udp_intake *, struct mmsghdr *,
		    const struct sockaddr *, uint64_t);
static void	udp_ack(struct udp_intake *, struct mmsghdr *,
		    const struct lease_key *, uint64_t);
static socklen_t udp_ack_source(struct msghdr *, union udp_ctl *);
static int	udp_can_send_from(const struct in6_addr *);
static socklen_t udp_ctl_put(union udp_ctl *, const struct cmsghdr *,
		    const void *, size_t);
static void	udp_ack_flush(struct udp_intake *, int);

struct udp_intake *
udp_intake_new(struct daemon_ctx *ctx, const struct net_sockets *socks)
{
	struct udp_intake	*u;
	int			 i;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return (NULL);
	u->ctx = ctx;
	udp_buffers_init(u);
	if ((u->decoder = proto_decoder_new()) == NULL ||
	    (u->ack_limit = ratelimit_new(UDP_ACK_SLOTS, UDP_ACK_RATE,
	    UDP_ACK_BURST)) == NULL ||
	    (u->reg_limit = ratelimit_new(UDP_ACK_SLOTS, 1, 2)) == NULL)
		goto fail;
	udp_intake_set_rate(u, ctx->conf->rate_limit_udp);
	for (i = 0; i < socks->count; i++) {
		u->fds[i] = socks->fds[i];
		udp_socket_setup(u->fds[i]);
		u->events[i] = event_new(ctx->base, u->fds[i],
		    EV_READ | EV_PERSIST, udp_read_cb, u);
		if (u->events[i] == NULL || event_add(u->events[i], NULL) == -1)
			goto fail;
		u->count++;
	}
	return (u);
fail:
	udp_intake_free(u);
	return (NULL);
}

/* Stops reading and frees the intake; the sockets belong to the caller. */
void
udp_intake_free(struct udp_intake *u)
{
	int	i;

	if (u == NULL)
		return;
	for (i = 0; i < NET_MAX_SOCKETS; i++) {
		if (u->events[i] != NULL)
			event_free(u->events[i]);
	}
	proto_decoder_free(u->decoder);
	ratelimit_free(u->ack_limit);
	ratelimit_free(u->reg_limit);
	free(u);
}

/*
 * Room for bursts, and on a socket bound to a wildcard address the
 * destination of each datagram, for its answer's source (a socket bound
 * to one address answers from it anyway).  One control message per
 * datagram: a dual-stack socket's IPV6_PKTINFO gives IPv4 destinations
 * in the mapped form, and asking for IP_PKTINFO as well cost about 8 % of
 * the intake rate.  Answers go with DF set (IP_PMTUDISC_PROBE): at most
 * ACK_MAX bytes and never larger than the request, they need no
 * fragmenting, and an IPv4 DF datagram takes an IP ID of 0 (RFC 6864)
 * instead of going through the kernel's shared ID generator, about 5 % of
 * an answer's cost.  A failed option costs only its feature.
 */
static void
udp_socket_setup(int fd)
{
	udp_option(fd, SOL_SOCKET, SO_RCVBUF, UDP_RCVBUF, "SO_RCVBUF");
	switch (net_wildcard_family(fd)) {
	case AF_INET6:
		udp_option(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, 1,
		    "IPV6_RECVPKTINFO");
		break;
	case AF_INET:
		udp_option(fd, IPPROTO_IP, IP_PKTINFO, 1, "IP_PKTINFO");
		break;
	}
	udp_option(fd, IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_PROBE,
	    "IP_MTU_DISCOVER");
}

/* Sets an integer socket option; a failure is logged, never fatal. */
static void
udp_option(int fd, int level, int name, int value, const char *what)
{
	if (setsockopt(fd, level, name, &value, sizeof(value)) == -1)
		log_warn("udp: %s: %s", what, strerror(errno));
}

/* Points every message at its buffers, once: only lengths change. */
static void
udp_buffers_init(struct udp_intake *u)
{
	struct msghdr	*h;
	int		 i;

	for (i = 0; i < UDP_BATCH; i++) {
		u->iov[i].iov_base = u->bufs[i];
		u->iov[i].iov_len = UDP_BUFSIZE;
		h = &u->msgs[i].msg_hdr;
		h->msg_iov = &u->iov[i];
		h->msg_iovlen = 1;
		h->msg_name = &u->from[i];
		h->msg_control = &u->ctl[i];
		u->ack_iov[i].iov_base = u->ack_bufs[i];
		u->acks[i].msg_hdr.msg_iov = &u->ack_iov[i];
		u->acks[i].msg_hdr.msg_iovlen = 1;
	}
}

/* Registrations a second per source IP, with bursts of twice that; 0: off. */
void
udp_intake_set_rate(struct udp_intake *u, unsigned int rate)
{
	u->reg_rate = rate;
	if (rate != 0)
		ratelimit_set(u->reg_limit, rate, 2 * rate);
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct udp_intake	*u = arg;
	uint64_t		 now_ms = cb_now_ms();
	int			 i;

	(void)what;
	for (i = 0; i < UDP_BUDGET; i++) {
		if (udp_read_batch(u, fd, now_ms) < UDP_BATCH)
			break;
	}
}

/* Reads and handles one batch; returns how many datagrams it held. */
static int
udp_read_batch(struct udp_intake *u, int fd, uint64_t now_ms)
{
	struct msghdr	*h;
	int		 i, n;

	for (i = 0; i < UDP_BATCH; i++) {
		h = &u->msgs[i].msg_hdr;
		h->msg_namelen = sizeof(u->from[i]);
		h->msg_controllen = sizeof(u->ctl[i]);
		h->msg_flags = 0;
	}
	n = recvmmsg(fd, u->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("udp: recvmmsg: %s", strerror(errno));
		return (0);
	}
	for (i = 0; i < n; i++)
		udp_handle(u, &u->msgs[i],
		    (const struct sockaddr *)&u->from[i], now_ms);
	udp_ack_flush(u, fd);
	return (n);
}

/* Validates one datagram and records its sender's endpoint. */
static void
udp_handle(struct udp_intake *u, struct mmsghdr *m,
    const struct sockaddr *from, uint64_t now_ms)
{
	struct daemon_ctx		*ctx = u->ctx;
	struct proto_registration	 reg;
	struct lease_key		 key;
	struct lease_local		 local;
	struct lease_token		 token;

	stats_inc(&ctx->stats, STAT_UDP_DATAGRAMS);
	if (cb_ip_from_sockaddr(&key.ip, from) == -1) {
		stats_inc(&ctx->stats, STAT_UDP_INVALID);
		return;
	}
	if (u->reg_rate != 0 &&
	    !ratelimit_allow(u->reg_limit, &key.ip, now_ms)) {
		stats_inc(&ctx->stats, STAT_UDP_RATE_LIMITED);
		return;
	}
	if (m->msg_len > PROTO_UDP_MAX || (m->msg_hdr.msg_flags & MSG_TRUNC) ||
	    proto_decode_registration(u->decoder, m->msg_hdr.msg_iov->iov_base,
	    m->msg_len, &reg) == -1) {
		stats_inc(&ctx->stats, STAT_UDP_INVALID);
		return;
	}
	key.peer_port = reg.peer_port;
	local.ip = reg.local_ip;
	local.port = reg.local_port;
	token.set = 0;
	if (reg.token_len != 0)
		lease_token_make(ctx->leases, reg.token, reg.token_len, &token);
	switch (lease_upsert_token(ctx->leases, &key, cb_sockaddr_port(from),
	    reg.has_local ? &local : NULL, &token, now_ms)) {
	case LEASE_UPSERT_CREATED:
	case LEASE_UPSERT_REFRESHED:
		if (reg.ack)
			udp_ack(u, m, &key, now_ms);
		break;
	case LEASE_UPSERT_FULL:
	case LEASE_UPSERT_NOMEM:
		stats_inc(&ctx->stats, STAT_UDP_OVER_QUOTA);
		break;
	case LEASE_UPSERT_TOKEN_MISMATCH:
		stats_inc(&ctx->stats, STAT_UDP_TOKEN_MISMATCH);
		break;
	}
}

/*
 * Queues the answer to a registration that asked for it: its public
 * endpoint and the lease time, sent with the rest of the batch.  Size
 * comes first, so that requests too small to be answered spend none of
 * their IP's tokens.
 */
static void
udp_ack(struct udp_intake *u, struct mmsghdr *m,
    const struct lease_key *key, uint64_t now_ms)
{
	struct stats		*st = &u->ctx->stats;
	struct msghdr		*a = &u->acks[u->nacks].msg_hdr;
	struct cb_endpoint	 src;
	size_t			 len;

	src.ip = key->ip;
	src.port = cb_sockaddr_port(m->msg_hdr.msg_name);
	len = response_format_ack(u->ack_bufs[u->nacks], ACK_MAX,
	    key->peer_port, &src, u->ctx->conf->lease_timeout);
	if (len == 0 || len > m->msg_len) {
		stats_inc(st, STAT_UDP_ACKS_TOO_LARGE);
		return;
	}
	if (!ratelimit_allow(u->ack_limit, &key->ip, now_ms)) {
		stats_inc(st, STAT_UDP_ACKS_RATE_LIMITED);
		return;
	}
	u->ack_iov[u->nacks].iov_len = len;
	a->msg_name = m->msg_hdr.msg_name;
	a->msg_namelen = m->msg_hdr.msg_namelen;
	a->msg_controllen = udp_ack_source(&m->msg_hdr,
	    &u->ack_ctl[u->nacks]);
	a->msg_control = a->msg_controllen != 0 ? &u->ack_ctl[u->nacks] :
	    NULL;
	u->nacks++;
}

/*
 * Writes the control message that makes an answer leave from the address
 * its request arrived at, from the request's own (see udp_socket_setup):
 * IP_PKTINFO's ipi_spec_dst on an IPv4 socket, IPV6_PKTINFO's address
 * (IPv4 in the mapped form) on a dual-stack one, unless it is multicast
 * or the limited broadcast.  No interface is named, so routing picks it
 * as before.  Returns the control length, 0 for none: the answer then
 * leaves from the route's preferred source.
 */
static socklen_t
udp_ack_source(struct msghdr *in, union udp_ctl *out)
{
	struct cmsghdr		*c, *v6 = NULL;
	struct in_pktinfo	 pi;
	struct in6_pktinfo	 pi6;

	for (c = CMSG_FIRSTHDR(in); c != NULL; c = CMSG_NXTHDR(in, c)) {
		if (c->cmsg_level == IPPROTO_IPV6 &&
		    c->cmsg_type == IPV6_PKTINFO)
			v6 = c;
		if (c->cmsg_level != IPPROTO_IP || c->cmsg_type != IP_PKTINFO)
			continue;
		memcpy(&pi, CMSG_DATA(c), sizeof(pi));
		pi.ipi_ifindex = 0;
		pi.ipi_addr.s_addr = 0;
		return (udp_ctl_put(out, c, &pi, sizeof(pi)));
	}
	if (v6 == NULL)
		return (0);
	memcpy(&pi6, CMSG_DATA(v6), sizeof(pi6));
	if (!udp_can_send_from(&pi6.ipi6_addr))
		return (0);
	pi6.ipi6_ifindex = 0;
	return (udp_ctl_put(out, v6, &pi6, sizeof(pi6)));
}

/* Whether an answer can leave from a, where a request arrived. */
static int
udp_can_send_from(const struct in6_addr *a)
{
	uint32_t	v4;

	if (IN6_IS_ADDR_MULTICAST(a))
		return (0);
	if (!IN6_IS_ADDR_V4MAPPED(a))
		return (1);
	memcpy(&v4, &a->s6_addr[12], sizeof(v4));
	v4 = ntohl(v4);
	return (!IN_MULTICAST(v4) && v4 != INADDR_BROADCAST);
}

/* One control message of like's kind holding data; its space. */
static socklen_t
udp_ctl_put(union udp_ctl *out, const struct cmsghdr *like, const void *data,
    size_t len)
{
	out->hdr = *like;
	out->hdr.cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(&out->hdr), data, len);
	return (CMSG_SPACE(len));
}

/*
 * Sends the batch's answers, as many per sendmmsg() as the kernel takes.
 * An answer it refuses is dropped and counted, never retried; a full
 * socket buffer (EAGAIN) drops the rest of the batch the same way, since
 * the daemon never waits to send.
 */
static void
udp_ack_flush(struct udp_intake *u, int fd)
{
	struct stats	*st = &u->ctx->stats;
	int		 done = 0, k;

	while (done < u->nacks) {
		k = sendmmsg(fd, &u->acks[done],
		    (unsigned int)(u->nacks - done), MSG_DONTWAIT);
		if (k > 0) {
			stats_add(st, STAT_UDP_ACKS, (uint64_t)k);
			done += k;
		} else if (errno == EAGAIN || errno == EWOULDBLOCK) {
			stats_add(st, STAT_UDP_ACKS_DROPPED,
			    (uint64_t)(u->nacks - done));
			break;
		} else {
			stats_inc(st, STAT_UDP_ACKS_DROPPED);
			done++;
		}
	}
	u->nacks = 0;
}
