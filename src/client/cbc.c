/*
 * libcontainment_breach: the rendezvous side.
 *
 * A handle owns one UDP socket, the one it registers and punches with.
 * cbc_start() sends the registration (with "Ack": true and the LAN
 * endpoint), resending every second until the daemon acknowledges it,
 * then refreshing it every lease_timeout / 3 seconds (at most 15 s) so
 * the NAT mapping stays alive.  Once acknowledged, or after three
 * unanswered tries (a daemon without the extension never answers), it
 * opens the TCP connection, bound to the socket's own address, and sends
 * the request.  A Peer or Client answer starts the punch (cbc_punch.c);
 * a Server connection stays open, sends KeepAlive on the refresh period
 * and punches toward every client the daemon announces.
 *
 * Errors end the handle: one CBC_EV_ERROR with a reason, then silence.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>

#include "cbc_int.h"

static const char *const cbc_request_types[] = {
	[CBC_PEER] = "Peer",
	[CBC_CLIENT] = "Client",
	[CBC_SERVER] = "Server",
};

static int	 resolve_server(struct cbc *, char *, size_t);
static int	 open_socket(struct cbc *, char *, size_t);
static int	 local_endpoint(struct cbc *, struct sockaddr_storage *);
static void	 udp_cb(evutil_socket_t, short, void *);
static void	 udp_input(struct cbc *, const char *, size_t,
		    const struct sockaddr *, socklen_t);
static void	 reg_send(struct cbc *);
static void	 reg_timer_cb(evutil_socket_t, short, void *);
static void	 reg_arm(struct cbc *, unsigned int);
static void	 tcp_open(struct cbc *);
static void	 tcp_read_cb(struct bufferevent *, void *);
static void	 tcp_event_cb(struct bufferevent *, short, void *);
static void	 tcp_line(struct cbc *, const char *);
static void	 keepalive_cb(evutil_socket_t, short, void *);
static void	 deadline_cb(evutil_socket_t, short, void *);
static void	 timer_add_ms(struct event *, unsigned int);

uint64_t
cbc_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000);
}

const char *
cbc_version(void)
{
	return (PACKAGE_VERSION);
}

const char *
cbc_endpoint_text(const struct sockaddr *sa, char *buf, size_t size)
{
	return (cbc_format_endpoint(sa, buf, size));
}

static void
timer_add_ms(struct event *ev, unsigned int ms)
{
	struct timeval	tv = { (time_t)(ms / 1000),
			    (suseconds_t)(ms % 1000) * 1000 };

	evtimer_add(ev, &tv);
}

/* Creates a handle on base; NULL and a reason in err if it cannot. */
struct cbc *
cbc_new(struct event_base *base, const struct cbc_options *opt,
    cbc_callback cb, void *arg, char *err, size_t errlen)
{
	struct cbc	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return (NULL);
	}
	c->base = base;
	c->opt = *opt;
	c->cb = cb;
	c->arg = arg;
	c->fd = -1;
	TAILQ_INIT(&c->punches);
	cbc_nonce(c->nonce);
	if (c->opt.timeout_ms == 0)
		c->opt.timeout_ms = CBC_DEFAULT_TIMEOUT_MS;
	if ((unsigned int)opt->mode > CBC_SERVER || opt->server == NULL ||
	    (opt->mode != CBC_SERVER && opt->remote_ip == NULL)) {
		snprintf(err, errlen, "invalid options");
		goto fail;
	}
	if (opt->token != NULL) {
		if (!cbc_token_valid(opt->token)) {
			snprintf(err, errlen, "the token must be 16 to 64 "
			    "printable bytes without '\"' or '\\'");
			goto fail;
		}
		snprintf(c->token, sizeof(c->token), "%s", opt->token);
	}
	c->opt.token = NULL;	/* c->token holds it */
	c->server = strdup(opt->server);
	c->remote_ip = opt->remote_ip != NULL ? strdup(opt->remote_ip) : NULL;
	c->bind = opt->bind != NULL ? strdup(opt->bind) : NULL;
	if (c->server == NULL || (opt->remote_ip != NULL &&
	    c->remote_ip == NULL) || (opt->bind != NULL && c->bind == NULL)) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	if (c->remote_ip != NULL && cbc_sockaddr_from(c->remote_ip, 0,
	    AF_INET6, &c->srv, &c->srvlen) == -1) {
		snprintf(err, errlen, "remote \"%s\" is not an IP address",
		    c->remote_ip);
		goto fail;
	}
	if (resolve_server(c, err, errlen) == -1 ||
	    open_socket(c, err, errlen) == -1)
		goto fail;
	c->udp_ev = event_new(base, c->fd, EV_READ | EV_PERSIST, udp_cb, c);
	c->reg_timer = evtimer_new(base, reg_timer_cb, c);
	c->deadline = evtimer_new(base, deadline_cb, c);
	c->keepalive = evtimer_new(base, keepalive_cb, c);
	if (c->udp_ev == NULL || c->reg_timer == NULL || c->deadline == NULL ||
	    c->keepalive == NULL || event_add(c->udp_ev, NULL) == -1) {
		snprintf(err, errlen, "cannot set up events");
		goto fail;
	}
	return (c);
fail:
	cbc_free(c);
	return (NULL);
}

/* Frees the handle, its socket and its events.  Not from its callback. */
void
cbc_free(struct cbc *c)
{
	struct cbc_punch	*p;

	if (c == NULL)
		return;
	while ((p = TAILQ_FIRST(&c->punches)) != NULL)
		cbc_punch_free(p);
	if (c->bev != NULL)
		bufferevent_free(c->bev);
	if (c->udp_ev != NULL)
		event_free(c->udp_ev);
	if (c->reg_timer != NULL)
		event_free(c->reg_timer);
	if (c->deadline != NULL)
		event_free(c->deadline);
	if (c->keepalive != NULL)
		event_free(c->keepalive);
	if (c->fd != -1)
		close(c->fd);
	if (c->own_base)
		event_base_free(c->base);
	free(c->queue);
	free(c->server);
	free(c->remote_ip);
	free(c->bind);
	free(c);
}

int
cbc_fd(const struct cbc *c)
{
	return (c->fd);
}

/* Sends a datagram from the punched socket. */
ssize_t
cbc_send_to(struct cbc *c, const void *buf, size_t len,
    const struct sockaddr *to, socklen_t tolen)
{
	return (sendto(c->fd, buf, len, MSG_DONTWAIT, to, tolen));
}

/* Starts registering; the rest follows from the event loop. */
int
cbc_start(struct cbc *c)
{
	struct sockaddr_storage	 local;
	int			 has_local;

	if (c->state != CBC_ST_IDLE)
		return (-1);
	c->state = CBC_ST_RENDEZVOUS;
	has_local = !c->opt.no_local && local_endpoint(c, &local) == 0;
	c->reglen = cbc_registration(c->reg, sizeof(c->reg),
	    c->opt.local_peer_port, has_local ? (struct sockaddr *)&local :
	    NULL, c->token);
	if (c->reglen == -1)
		return (-1);
	if (c->opt.mode != CBC_SERVER)
		timer_add_ms(c->deadline, c->opt.timeout_ms);
	reg_send(c);
	return (0);
}

/* Hands an event to the caller, unless the handle is already dead. */
void
cbc_emit(struct cbc *c, struct cbc_event *ev)
{
	if (c->state != CBC_ST_DEAD)
		c->cb(c->arg, ev);
}

/* Tells the caller its public endpoint, the first time and when it moves. */
void
cbc_emit_public(struct cbc *c, const char *ip, uint16_t port,
    unsigned int lease_timeout)
{
	struct cbc_event	ev;
	char			ep[CBC_ENDPOINT_MAX];

	snprintf(ep, sizeof(ep), strchr(ip, ':') != NULL ? "[%s]:%u" :
	    "%s:%u", ip, port);
	if (strcmp(ep, c->public_ep) == 0)
		return;
	snprintf(c->public_ep, sizeof(c->public_ep), "%s", ep);
	memset(&ev, 0, sizeof(ev));
	ev.type = CBC_EV_PUBLIC;
	ev.endpoint = ep;
	ev.lease_timeout = lease_timeout;
	cbc_emit(c, &ev);
}

/* Reports a fatal error once and stops every timer and the TCP side. */
void
cbc_fail(struct cbc *c, const char *fmt, ...)
{
	struct cbc_event	ev;
	struct cbc_punch	*p;
	char			reason[512];
	va_list			ap;

	if (c->state == CBC_ST_DEAD)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	memset(&ev, 0, sizeof(ev));
	ev.type = CBC_EV_ERROR;
	ev.reason = reason;
	cbc_emit(c, &ev);
	c->state = CBC_ST_DEAD;
	while ((p = TAILQ_FIRST(&c->punches)) != NULL)
		cbc_punch_free(p);
	evtimer_del(c->reg_timer);
	evtimer_del(c->deadline);
	evtimer_del(c->keepalive);
	if (c->bev != NULL) {
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
}

/* Seconds between refreshes: a third of the lease, at most 15. */
unsigned int
cbc_refresh_s(const struct cbc *c)
{
	unsigned int	s = c->acked ? c->ack.lease_timeout / 3 : 0;

	if (s == 0 || s > CBC_REFRESH_MAX_S)
		s = c->acked && c->ack.lease_timeout < 3 ? 1 :
		    CBC_REFRESH_MAX_S;
	return (s);
}

/* Resolves the rendezvous server's HOST:PORT (a blocking lookup). */
static int
resolve_server(struct cbc *c, char *err, size_t errlen)
{
	struct evutil_addrinfo	 hints, *ai = NULL;
	char			 host[256], port[16];
	int			 rc;

	if (cbc_parse_hostport(c->server, 1, host, sizeof(host), port,
	    sizeof(port)) == -1) {
		snprintf(err, errlen, "bad server address \"%s\" (want "
		    "HOST:PORT)", c->server);
		return (-1);
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_DGRAM;
	if ((rc = evutil_getaddrinfo(host, port, &hints, &ai)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    evutil_gai_strerror(rc));
		return (-1);
	}
	memcpy(&c->srv, ai->ai_addr, ai->ai_addrlen);
	c->srvlen = (socklen_t)ai->ai_addrlen;
	c->family = ai->ai_family;
	evutil_freeaddrinfo(ai);
	return (0);
}

/* The UDP socket, bound to --bind if given, of the server's family. */
static int
open_socket(struct cbc *c, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len;
	char			 host[64], port[16];
	long			 p = 0;

	memset(&ss, 0, sizeof(ss));
	ss.ss_family = (sa_family_t)c->family;
	len = c->family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	if (c->bind != NULL) {
		if (cbc_parse_hostport(c->bind, 0, host, sizeof(host), port,
		    sizeof(port)) == -1 || (port[0] != '\0' &&
		    ((p = strtol(port, NULL, 10)) < 0 || p > 65535)) ||
		    cbc_sockaddr_from(host, (uint16_t)p, c->family, &ss,
		    &len) == -1) {
			snprintf(err, errlen, "bad bind address \"%s\" for "
			    "this server", c->bind);
			return (-1);
		}
	}
	if ((c->fd = socket(c->family, SOCK_DGRAM, 0)) == -1 ||
	    evutil_make_socket_nonblocking(c->fd) == -1 ||
	    evutil_make_socket_closeonexec(c->fd) == -1 ||
	    bind(c->fd, (struct sockaddr *)&ss, len) == -1) {
		snprintf(err, errlen, "cannot bind UDP socket: %s",
		    strerror(errno));
		return (-1);
	}
	return (0);
}

/*
 * The LAN endpoint: the socket's own address, or, if it is bound to every
 * address, the address of the route to the server (a connect() on a
 * scratch socket sends nothing).
 */
static int
local_endpoint(struct cbc *c, struct sockaddr_storage *out)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(*out), slen = sizeof(ss);
	int			 fd, rc = -1;

	if (getsockname(c->fd, (struct sockaddr *)out, &len) == -1)
		return (-1);
	if ((out->ss_family == AF_INET && ((struct sockaddr_in *)
	    (void *)out)->sin_addr.s_addr != INADDR_ANY) ||
	    (out->ss_family == AF_INET6 && !IN6_IS_ADDR_UNSPECIFIED(
	    &((struct sockaddr_in6 *)(void *)out)->sin6_addr)))
		return (0);
	if ((fd = socket(c->family, SOCK_DGRAM, 0)) == -1)
		return (-1);
	if (connect(fd, (struct sockaddr *)&c->srv, c->srvlen) == 0 &&
	    getsockname(fd, (struct sockaddr *)&ss, &slen) == 0) {
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)(void *)&ss)->sin_port =
			    ((struct sockaddr_in *)(void *)out)->sin_port;
		else
			((struct sockaddr_in6 *)(void *)&ss)->sin6_port =
			    ((struct sockaddr_in6 *)(void *)out)->sin6_port;
		*out = ss;
		rc = 0;
	}
	close(fd);
	return (rc);
}

static void
reg_send(struct cbc *c)
{
	/* A lost or refused datagram is what the retries are for. */
	(void)sendto(c->fd, c->reg, (size_t)c->reglen, MSG_DONTWAIT,
	    (struct sockaddr *)&c->srv, c->srvlen);
	c->reg_tries++;
	reg_arm(c, c->acked ? cbc_refresh_s(c) * 1000 : CBC_REG_RETRY_MS);
}

static void
reg_arm(struct cbc *c, unsigned int ms)
{
	timer_add_ms(c->reg_timer, ms);
}

static void
reg_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cbc	*c = arg;

	(void)fd;
	(void)what;
	if (c->state == CBC_ST_PUNCHED && c->opt.mode != CBC_SERVER)
		return;
	if (!c->acked && c->reg_tries == CBC_REG_TRIES_BEFORE_TCP &&
	    c->bev == NULL)
		tcp_open(c);
	reg_send(c);
}

/* Drains the socket: Acks, probes, and the application's datagrams. */
static void
udp_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cbc		*c = arg;
	struct sockaddr_storage	 from;
	socklen_t		 fromlen;
	char			 buf[1500];
	ssize_t			 n;
	int			 budget = 64;

	(void)what;
	while (budget-- > 0 && c->state != CBC_ST_DEAD) {
		fromlen = sizeof(from);
		n = recvfrom(fd, buf, sizeof(buf) - 1, 0,
		    (struct sockaddr *)&from, &fromlen);
		if (n == -1) {
			/* ICMP errors (ECONNREFUSED...) are not fatal here. */
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			continue;
		}
		buf[n] = '\0';
		udp_input(c, buf, (size_t)n, (struct sockaddr *)&from,
		    fromlen);
	}
}

static void
udp_input(struct cbc *c, const char *buf, size_t len,
    const struct sockaddr *from, socklen_t fromlen)
{
	struct cbc_event	 ev;
	struct cbc_ack		 ack;
	char			 ep[CBC_ENDPOINT_MAX];

	if (cbc_sockaddr_equal(from, (struct sockaddr *)&c->srv)) {
		if (cbc_parse_ack(buf, len, &ack) == -1 ||
		    ack.peer_port != c->opt.local_peer_port)
			return;
		c->ack = ack;
		if (!c->acked) {
			c->acked = 1;
			reg_arm(c, cbc_refresh_s(c) * 1000);
			if (c->bev == NULL)
				tcp_open(c);
		}
		cbc_emit_public(c, ack.ip, ack.port, ack.lease_timeout);
		return;
	}
	if (cbc_punch_input(c, buf, len, from, fromlen))
		return;
	memset(&ev, 0, sizeof(ev));
	ev.type = CBC_EV_DATA;
	ev.data = buf;
	ev.len = len;
	ev.addr = from;
	ev.addrlen = fromlen;
	ev.endpoint = cbc_format_endpoint(from, ep, sizeof(ep));
	cbc_emit(c, &ev);
}

/* Connects to the daemon over TCP from the UDP socket's own address. */
static void
tcp_open(struct cbc *c)
{
	struct sockaddr_storage	 ss;
	socklen_t		 len = sizeof(ss);
	char			 req[512];
	int			 fd, n;

	if ((fd = socket(c->family, SOCK_STREAM, 0)) == -1) {
		cbc_fail(c, "cannot open TCP socket: %s", strerror(errno));
		return;
	}
	evutil_make_socket_nonblocking(fd);
	evutil_make_socket_closeonexec(fd);
	if (getsockname(c->fd, (struct sockaddr *)&ss, &len) == 0) {
		if (ss.ss_family == AF_INET)
			((struct sockaddr_in *)(void *)&ss)->sin_port = 0;
		else
			((struct sockaddr_in6 *)(void *)&ss)->sin6_port = 0;
		(void)bind(fd, (struct sockaddr *)&ss, len);
	}
	c->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		cbc_fail(c, "cannot set up the TCP connection");
		return;
	}
	bufferevent_setcb(c->bev, tcp_read_cb, NULL, tcp_event_cb, c);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	n = cbc_request(req, sizeof(req), cbc_request_types[c->opt.mode],
	    c->opt.local_peer_port, c->opt.mode == CBC_SERVER ? NULL :
	    c->remote_ip, c->opt.remote_peer_port, c->token);
	if (n == -1 || bufferevent_write(c->bev, req, (size_t)n) == -1 ||
	    bufferevent_socket_connect(c->bev, (struct sockaddr *)&c->srv,
	    (int)c->srvlen) == -1) {
		cbc_fail(c, "cannot connect to the rendezvous server %s",
		    c->server);
		return;
	}
	if (c->opt.mode == CBC_SERVER)
		timer_add_ms(c->keepalive, cbc_refresh_s(c) * 1000);
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct cbc	*c = arg;
	struct evbuffer	*in = bufferevent_get_input(bev);
	char		*line;
	size_t		 len;

	while (c->bev == bev &&
	    (line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF)) != NULL) {
		tcp_line(c, line);
		free(line);
	}
	if (c->bev == bev && evbuffer_get_length(in) > CBC_LINE_MAX)
		cbc_fail(c, "rendezvous server sent an overlong line");
}

static void
tcp_line(struct cbc *c, const char *line)
{
	struct cbc_response	r;

	if (cbc_parse_response(line, &r) == -1) {
		cbc_fail(c, "rendezvous server sent a malformed line");
		return;
	}
	if (r.error[0] != '\0') {
		cbc_fail(c, "rendezvous error: %s", r.error);
		return;
	}
	if (c->opt.mode != CBC_SERVER) {
		/* The daemon closes the connection after its one line. */
		bufferevent_free(c->bev);
		c->bev = NULL;
	}
	if (cbc_punch_start(c, &r) == -1)
		cbc_fail(c, "cannot punch toward %s:%u", r.dest_ip,
		    r.dest_port);
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct cbc	*c = arg;

	(void)bev;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF)
		cbc_fail(c, "rendezvous server closed the connection");
	else if (what & BEV_EVENT_ERROR)
		cbc_fail(c, "rendezvous server connection failed: %s",
		    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Server mode: KeepAlive on the connection, on the refresh period. */
static void
keepalive_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cbc	*c = arg;
	char		 req[128];
	int		 n;

	(void)fd;
	(void)what;
	if (c->bev == NULL)
		return;
	n = cbc_request(req, sizeof(req), "KeepAlive",
	    c->opt.local_peer_port, NULL, 0, NULL);
	if (n > 0)
		bufferevent_write(c->bev, req, (size_t)n);
	timer_add_ms(c->keepalive, cbc_refresh_s(c) * 1000);
}

/* Peer and Client: the whole rendezvous and punch ran out of time. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cbc	*c = arg;
	unsigned int	 s = (c->opt.timeout_ms + 999) / 1000;

	(void)fd;
	(void)what;
	if (c->state == CBC_ST_PUNCHING)
		cbc_fail(c, "no response from peer within %u s", s);
	else if (!c->acked && c->bev == NULL)
		cbc_fail(c, "no acknowledgement from rendezvous server %s "
		    "within %u s", c->server, s);
	else
		cbc_fail(c, "no answer from rendezvous server within %u s "
		    "(is the partner there?)", s);
}
