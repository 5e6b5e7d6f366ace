/*
 * UDP intake.  libevent only says the socket is readable; the datagrams
 * are then drained with recvmmsg() in batches, up to a budget per
 * callback so a flood of registrations never starves the TCP side (the
 * socket is level-triggered: what is left is read on the next turn).
 * Each datagram is validated before anything is allocated, and nothing is
 * ever sent back: a client's socket must not receive what it did not ask
 * for.
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
#include "udp.h"

#define UDP_BATCH	64		/* datagrams per recvmmsg() */
#define UDP_BUDGET	16		/* recvmmsg() calls per callback */
#define UDP_RCVBUF	(4 << 20)	/* ask for room to absorb bursts */

/* One byte past the limit shows a datagram was too large. */
#define UDP_BUFSIZE	(PROTO_UDP_MAX + 1)

struct udp_intake {
	struct daemon_ctx	*ctx;
	struct proto_decoder	*decoder;
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
static void	udp_handle(struct udp_intake *, const struct mmsghdr *,
		    const struct sockaddr *, uint64_t);

struct udp_intake *
udp_intake_new(struct daemon_ctx *ctx, const struct net_sockets *socks)
{
	struct udp_intake	*u;
	int			 i, size = UDP_RCVBUF;

	if ((u = calloc(1, sizeof(*u))) == NULL)
		return (NULL);
	u->ctx = ctx;
	if ((u->decoder = proto_decoder_new()) == NULL)
		goto fail;
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
	free(u);
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
		udp_handle(u, &u->msgs[i],
		    (const struct sockaddr *)&u->from[i], now_ms);
	return (n);
}

/* Validates one datagram and records its sender's endpoint. */
static void
udp_handle(struct udp_intake *u, const struct mmsghdr *m,
    const struct sockaddr *from, uint64_t now_ms)
{
	struct daemon_ctx		*ctx = u->ctx;
	struct proto_registration	 reg;
	struct lease_key		 key;

	stats_inc(&ctx->stats, STAT_UDP_DATAGRAMS);
	if (m->msg_len > PROTO_UDP_MAX || (m->msg_hdr.msg_flags & MSG_TRUNC) ||
	    cb_ip_from_sockaddr(&key.ip, from) == -1 ||
	    proto_decode_registration(u->decoder, m->msg_hdr.msg_iov->iov_base,
	    m->msg_len, &reg) == -1) {
		stats_inc(&ctx->stats, STAT_UDP_INVALID);
		return;
	}
	key.peer_port = reg.peer_port;
	switch (lease_upsert(ctx->leases, &key, cb_sockaddr_port(from),
	    now_ms)) {
	case LEASE_UPSERT_CREATED:
	case LEASE_UPSERT_REFRESHED:
		break;
	case LEASE_UPSERT_FULL:
	case LEASE_UPSERT_NOMEM:
		stats_inc(&ctx->stats, STAT_UDP_OVER_QUOTA);
		break;
	}
}
