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
 * and within a per-IP rate limit; a full socket buffer drops it.
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

struct udp_intake {
	struct daemon_ctx	*ctx;
	struct proto_decoder	*decoder;
	struct ratelimit	*ack_limit;
	struct ratelimit	*reg_limit;	/* rate_limit_udp */
	unsigned int		 reg_rate;	/* 0: off */
	int			 count;
	int			 fds[NET_MAX_SOCKETS];
	struct event		*events[NET_MAX_SOCKETS];
	struct mmsghdr		 msgs[UDP_BATCH];
	struct iovec		 iov[UDP_BATCH];
	struct sockaddr_storage	 from[UDP_BATCH];
	char			 bufs[UDP_BATCH][UDP_BUFSIZE];
};

static void	udp_read_cb(evutil_socket_t, short, void *);
static int	udp_read_batch(struct udp_intake *, int, uint64_t);
static void	udp_handle(struct udp_intake *, int, const struct mmsghdr *,
		    const struct sockaddr *, uint64_t);
static void	udp_ack(struct udp_intake *, int, const struct mmsghdr *,
		    const struct lease_key *, uint64_t);

struct udp_intake *
udp_intake_new(struct daemon_ctx *ctx, const struct net_sockets *socks)
{
	struct udp_intake	*u;
	int			 i, size = UDP_RCVBUF;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return (NULL);
	u->ctx = ctx;
	if ((u->decoder = proto_decoder_new()) == NULL ||
	    (u->ack_limit = ratelimit_new(UDP_ACK_SLOTS, UDP_ACK_RATE,
	    UDP_ACK_BURST)) == NULL ||
	    (u->reg_limit = ratelimit_new(UDP_ACK_SLOTS, 1, 2)) == NULL)
		goto fail;
	udp_intake_set_rate(u, ctx->conf->rate_limit_udp);
	for (i = 0; i < socks->count; i++) {
		u->fds[i] = socks->fds[i];
		if (setsockopt(u->fds[i], SOL_SOCKET, SO_RCVBUF, &size,
		    sizeof(size)) == -1)
			log_warn("udp: SO_RCVBUF: %s", strerror(errno));
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
	int	i, n;

	for (i = 0; i < UDP_BATCH; i++) {
		u->iov[i].iov_base = u->bufs[i];
		u->iov[i].iov_len = UDP_BUFSIZE;
		memset(&u->msgs[i].msg_hdr, 0, sizeof(u->msgs[i].msg_hdr));
		u->msgs[i].msg_hdr.msg_iov = &u->iov[i];
		u->msgs[i].msg_hdr.msg_iovlen = 1;
		u->msgs[i].msg_hdr.msg_name = &u->from[i];
		u->msgs[i].msg_hdr.msg_namelen = sizeof(u->from[i]);
	}
	n = recvmmsg(fd, u->msgs, UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			log_warn("udp: recvmmsg: %s", strerror(errno));
		return (0);
	}
	for (i = 0; i < n; i++)
		udp_handle(u, fd, &u->msgs[i],
		    (const struct sockaddr *)&u->from[i], now_ms);
	return (n);
}

/* Validates one datagram and records its sender's endpoint. */
static void
udp_handle(struct udp_intake *u, int fd, const struct mmsghdr *m,
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
			udp_ack(u, fd, m, &key, now_ms);
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
 * Answers a registration that asked for it with its public endpoint and
 * the lease time.  Size comes first, so that requests too small to be
 * answered spend none of their IP's tokens.
 */
static void
udp_ack(struct udp_intake *u, int fd, const struct mmsghdr *m,
    const struct lease_key *key, uint64_t now_ms)
{
	struct stats		*st = &u->ctx->stats;
	struct cb_endpoint	 src;
	char			 buf[ACK_MAX];
	size_t			 len;

	src.ip = key->ip;
	src.port = cb_sockaddr_port(m->msg_hdr.msg_name);
	len = response_format_ack(buf, sizeof(buf), key->peer_port, &src,
	    u->ctx->conf->lease_timeout);
	if (len == 0 || len > m->msg_len) {
		stats_inc(st, STAT_UDP_ACKS_TOO_LARGE);
		return;
	}
	if (!ratelimit_allow(u->ack_limit, &key->ip, now_ms)) {
		stats_inc(st, STAT_UDP_ACKS_RATE_LIMITED);
		return;
	}
	if (sendto(fd, buf, len, MSG_DONTWAIT, m->msg_hdr.msg_name,
	    m->msg_hdr.msg_namelen) != (ssize_t)len) {
		stats_inc(st, STAT_UDP_ACKS_DROPPED);
		return;
	}
	stats_inc(st, STAT_UDP_ACKS);
}
