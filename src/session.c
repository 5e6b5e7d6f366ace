/*
 * TCP sessions.
 *
 * Each connection carries a stream of JSON request objects.  The framer
 * finds where each object ends as bytes arrive; the object is then decoded
 * in one piece and handed to the match.  A session goes through:
 *
 *   FIRST    reading its first request, for at most 10 s;
 *   WAITING  a Peer or Client request waits (for its UDP, up to
 *            udp_grace, then for its partner); any further byte but
 *            whitespace is an error;
 *   SERVER   a Server registration: requests after it are KeepAlives,
 *            handled strictly in order once the registration holds;
 *   CLOSING  the final line is queued: flush it, shut down the write
 *            side, discard input until the client closes or 1 s passes,
 *            so unread client bytes never turn the close into a reset
 *            that destroys the response.
 *
 * Each session has one deadline, in one of the server's deadline queues
 * (deadline.h) at a time: a queue per duration, so arming and disarming
 * it cost a list operation, not a libevent timer.  Buffers are created
 * lazily by libevent; an idle waiting session holds no input buffer.
 *
 * Two limits guard the door: max_connections (default from
 * RLIMIT_NOFILE) answers "too many connections" past it, and with
 * rate_limit_tcp set a source IP opening connections faster than that is
 * closed at once, before a session exists, without a word: answering
 * would cost what the limit is there to save.
 */
#include "autoconf.h"

#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "daemon.h"
#include "deadline.h"
#include "framer.h"
#include "log.h"
#include "match.h"
#include "proto.h"
#include "ratelimit.h"
#include "response.h"
#include "session.h"

#define SESSION_FIRST_REQUEST_S	10
#define SESSION_LINGER_S	1
#define SESSION_READ_HIGH_WM	(2 * PROTO_REQUEST_MAX)
/*
 * Bytes read at a time.  libevent sizes a read's buffer by it (by 4 KiB
 * for the read that finds end of file), and up to 512 bytes fit its
 * smallest, 1 KiB, which malloc serves from its per-thread cache.  A
 * request is about a hundred bytes; a long one takes a few reads.
 */
#define SESSION_READ_MAX	512
#define SESSION_MAX_OUTPUT	(64 * 1024)	/* unread notifications */
#define TCP_BACKLOG		4096
#define TCP_ACCEPT_PAUSE_MS	100	/* after running out of descriptors */
#define TCP_FD_RESERVE		64	/* kept for admin, logs and sockets */
#define TCP_RATE_SLOTS		4096	/* IPs rate_limit_tcp tracks at once */
#define GRACE_QUEUES		4	/* udp_grace values alive at once */
#define DEADLINE_BUDGET		1024	/* deadlines fired per loop turn */
#define SPARE_SESSIONS		256	/* freed sessions kept for reuse */

enum session_phase {
	PHASE_FIRST,
	PHASE_WAITING,
	PHASE_SERVER,
	PHASE_CLOSING,
};

struct session {
	LIST_ENTRY(session)	 entry;
	struct tcp_server	*srv;
	struct bufferevent	*bev;
	struct deadline		 deadline;	/* the one running, if any */
	struct deadline_queue	*deadline_q;	/* the queue it is in */
	struct match_req	 req;		/* linked while it waits */
	struct framer		 framer;
	struct cb_ip		 ip;		/* the connection's public IP */
	uint64_t		 id;		/* for log lines */
	enum session_phase	 phase;
	unsigned int		 submitted:1;	/* req was given to the match */
	unsigned int		 flushed:1;	/* CLOSING: final line is out */
	unsigned int		 no_linger:1;	/* close once flushed */
};

struct tcp_server {
	struct daemon_ctx	*ctx;
	struct evconnlistener	*listeners[NET_MAX_SOCKETS];
	struct event		*accept_resume;	/* ends an accept pause */
	int			 accepting;	/* 0 once shutting down */
	struct proto_decoder	*decoder;
	LIST_HEAD(, session)	 sessions;
	LIST_HEAD(, session)	 spares;	/* freed, kept for reuse */
	size_t			 nspares;
	size_t			 count;
	size_t			 max_connections;
	struct ratelimit	*rate_limit;	/* rate_limit_tcp */
	unsigned int		 rate;		/* 0: off */
	uint64_t		 next_id;
	struct deadline_queue	 first;		/* for the first request */
	struct deadline_queue	 grace[GRACE_QUEUES]; /* for UDP, by udp_grace */
	struct deadline_queue	 linger;	/* for the client's close */
	struct deadline_queue	 now;		/* next loop turn */
	uint64_t		 udp_grace_ms;	/* for requests from now on */
	void			(*drained)(void *);
	void			*drained_arg;
};

/* What each well-formed request type counts as and becomes. */
static const struct {
	enum stat_id	 stat;
	enum match_role	 role;
} conn_types[CONN__MAX] = {
	[CONN_PEER] = { STAT_REQ_PEER, MATCH_ROLE_PEER },
	[CONN_SERVER] = { STAT_REQ_SERVER, MATCH_ROLE_SERVER },
	[CONN_CLIENT] = { STAT_REQ_CLIENT, MATCH_ROLE_CLIENT },
	[CONN_KEEPALIVE] = { STAT_REQ_KEEPALIVE, MATCH_ROLE_SERVER },
};

static void	accept_cb(struct evconnlistener *, evutil_socket_t,
		    struct sockaddr *, int, void *);
static void	accept_error_cb(struct evconnlistener *, void *);
static void	accept_resume_cb(evutil_socket_t, short, void *);
static void	listeners_enable(struct tcp_server *, int);
static size_t	default_max_connections(void);
static struct session *session_new(struct tcp_server *, evutil_socket_t,
		    const struct sockaddr *);
static void	session_release(struct tcp_server *, struct session *);
static void	session_refuse(struct session *);
static void	session_read_cb(struct bufferevent *, void *);
static void	session_write_cb(struct bufferevent *, void *);
static void	session_event_cb(struct bufferevent *, short, void *);
static int	deadlines_init(struct tcp_server *);
static void	deadlines_free(struct tcp_server *);
static void	session_deadline(struct session *, struct deadline_queue *);
static void	session_deadline_cb(struct deadline *, void *);
static void	session_process(struct session *);
static int	session_next_object(struct session *, struct evbuffer *);
static void	session_handle(struct session *, const struct proto_request *);
static void	session_first(struct session *, const struct proto_request *);
static void	session_serving(struct session *,
		    const struct proto_request *);
static void	session_extra_input(struct session *, struct evbuffer *);
static void	session_error(struct session *, enum rdv_error, const char *);
static void	session_send_final(struct session *,
		    const struct rdv_response *);
static size_t	session_write_direct(struct session *, const char *, size_t);
static void	session_flushed(struct session *);
static void	session_free(struct session *);
static void	on_finish(void *, const struct rdv_response *);
static void	on_notify(void *, const struct rdv_response *);
static void	on_ready(void *);

static const struct match_callbacks session_match_callbacks = {
	.finish = on_finish,
	.notify = on_notify,
	.ready = on_ready,
};

/* The callbacks through which the match reaches sessions. */
const struct match_callbacks *
tcp_server_match_callbacks(void)
{
	return (&session_match_callbacks);
}

struct tcp_server *
tcp_server_new(struct daemon_ctx *ctx, const struct net_sockets *socks)
{
	struct tcp_server	*srv;
	int			 i;

	if ((srv = calloc(1, sizeof(*srv))) == NULL)
		return (NULL);
	srv->ctx = ctx;
	LIST_INIT(&srv->sessions);
	LIST_INIT(&srv->spares);
	tcp_server_set_udp_grace(srv, ctx->conf->udp_grace);
	srv->accept_resume = evtimer_new(ctx->base, accept_resume_cb, srv);
	if (deadlines_init(srv) == -1 || srv->accept_resume == NULL ||
	    (srv->decoder = proto_decoder_new()) == NULL ||
	    (srv->rate_limit = ratelimit_new(TCP_RATE_SLOTS, 1, 2)) == NULL)
		goto fail;
	srv->accepting = 1;
	tcp_server_set_limits(srv, ctx->conf->max_connections,
	    ctx->conf->rate_limit_tcp);
	for (i = 0; i < socks->count; i++) {
		srv->listeners[i] = evconnlistener_new(ctx->base, accept_cb,
		    srv, 0, TCP_BACKLOG, socks->fds[i]);
		if (srv->listeners[i] == NULL)
			goto fail;
		evconnlistener_set_error_cb(srv->listeners[i],
		    accept_error_cb);
	}
	return (srv);
fail:
	tcp_server_free(srv);
	return (NULL);
}

/* Frees every session without a word to its client, then the listeners. */
void
tcp_server_free(struct tcp_server *srv)
{
	struct session	*s;
	int		 i;

	if (srv == NULL)
		return;
	srv->drained = NULL;
	while ((s = LIST_FIRST(&srv->sessions)) != NULL)
		session_free(s);
	while ((s = LIST_FIRST(&srv->spares)) != NULL) {
		LIST_REMOVE(s, entry);
		free(s);
	}
	for (i = 0; i < NET_MAX_SOCKETS; i++) {
		if (srv->listeners[i] != NULL)
			evconnlistener_free(srv->listeners[i]);
	}
	if (srv->accept_resume != NULL)
		event_free(srv->accept_resume);
	deadlines_free(srv);
	proto_decoder_free(srv->decoder);
	ratelimit_free(srv->rate_limit);
	free(srv);
}

/*
 * Sets max_connections (0: derived from RLIMIT_NOFILE) and the new
 * connections a second per IP (0: no limit).  Connections already open
 * stay open when the limit falls below their number.
 */
void
tcp_server_set_limits(struct tcp_server *srv, unsigned int max,
    unsigned int rate)
{
	srv->max_connections = max != 0 ? max : default_max_connections();
	srv->rate = rate;
	if (rate != 0)
		ratelimit_set(srv->rate_limit, rate, 2 * rate);
}

size_t
tcp_server_max_connections(const struct tcp_server *srv)
{
	return (srv == NULL ? 0 : srv->max_connections);
}

/*
 * Stops accepting and tells every open session "server shutting down".
 * drained is called once the last session has closed.
 */
void
tcp_server_shutdown(struct tcp_server *srv, void (*drained)(void *),
    void *arg)
{
	struct rdv_response	 resp;
	struct session		*s;

	srv->accepting = 0;
	listeners_enable(srv, 0);
	memset(&resp, 0, sizeof(resp));
	resp.error = RDV_ERR_SHUTTING_DOWN;
	LIST_FOREACH(s, &srv->sessions, entry) {
		if (s->phase != PHASE_CLOSING)
			session_send_final(s, &resp);
	}
	srv->drained = drained;
	srv->drained_arg = arg;
	if (srv->count == 0)
		drained(arg);
}

/*
 * A new udp_grace (SIGHUP) for requests from now on; a request already
 * waiting keeps the deadline it was given, in its own queue.
 */
void
tcp_server_set_udp_grace(struct tcp_server *srv, unsigned int seconds)
{
	srv->udp_grace_ms = (uint64_t)seconds * 1000;
}

/* The deadline queues, one per duration a session can wait for. */
static int
deadlines_init(struct tcp_server *srv)
{
	struct event_base	*base = srv->ctx->base;
	int			 i;

	if (deadline_queue_init(&srv->first, base,
	    SESSION_FIRST_REQUEST_S * 1000, DEADLINE_BUDGET,
	    session_deadline_cb, NULL) == -1 ||
	    deadline_queue_init(&srv->linger, base, SESSION_LINGER_S * 1000,
	    DEADLINE_BUDGET, session_deadline_cb, NULL) == -1 ||
	    deadline_queue_init(&srv->now, base, 0, DEADLINE_BUDGET,
	    session_deadline_cb, NULL) == -1)
		return (-1);
	for (i = 0; i < GRACE_QUEUES; i++) {
		if (deadline_queue_init(&srv->grace[i], base,
		    srv->udp_grace_ms, DEADLINE_BUDGET, session_deadline_cb,
		    NULL) == -1)
			return (-1);
	}
	return (0);
}

static void
deadlines_free(struct tcp_server *srv)
{
	int	i;

	deadline_queue_free(&srv->first);
	deadline_queue_free(&srv->linger);
	deadline_queue_free(&srv->now);
	for (i = 0; i < GRACE_QUEUES; i++)
		deadline_queue_free(&srv->grace[i]);
}

size_t
tcp_server_connections(const struct tcp_server *srv)
{
	return (srv == NULL ? 0 : srv->count);
}

static void
accept_cb(struct evconnlistener *lev, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)lev;
	(void)salen;
	tcp_server_adopt(arg, fd, sa);
}

/*
 * Starts a session on a connected socket whose peer is sa: the accept
 * path, and the way fuzzers feed the session state machine.
 */
void
tcp_server_adopt(struct tcp_server *srv, evutil_socket_t fd,
    const struct sockaddr *sa)
{
	struct session		*s;
	struct cb_ip		 ip;

	stats_inc(&srv->ctx->stats, STAT_TCP_ACCEPTED);
	if (srv->rate != 0 && cb_ip_from_sockaddr(&ip, sa) == 0 &&
	    !ratelimit_allow(srv->rate_limit, &ip, cb_now_ms())) {
		stats_inc(&srv->ctx->stats, STAT_TCP_RATE_LIMITED);
		evutil_closesocket(fd);
		return;
	}
	if ((s = session_new(srv, fd, sa)) == NULL) {
		log_warn("tcp: cannot set up a session: %s", strerror(errno));
		evutil_closesocket(fd);
		return;
	}
	s->srv = srv;
	s->id = ++srv->next_id;
	s->req.owner = s;
	framer_init(&s->framer, PROTO_REQUEST_MAX);
	LIST_INSERT_HEAD(&srv->sessions, s, entry);
	srv->count++;
	bufferevent_set_max_single_read(s->bev, SESSION_READ_MAX);
	bufferevent_setcb(s->bev, session_read_cb, NULL, session_event_cb, s);
	bufferevent_enable(s->bev, EV_READ);
	session_deadline(s, &srv->first);
	if (srv->count > srv->max_connections)
		session_refuse(s);
}

/*
 * A zeroed session on fd, or NULL (fd left open) if memory is short.  A
 * session freed recently is reused: a new one would come from calloc(),
 * which in glibc bypasses malloc's per-thread cache (and the compiler
 * turns malloc() and memset() back into calloc()).
 */
static struct session *
session_new(struct tcp_server *srv, evutil_socket_t fd,
    const struct sockaddr *sa)
{
	struct session	*s;

	if ((s = LIST_FIRST(&srv->spares)) != NULL) {
		LIST_REMOVE(s, entry);
		srv->nspares--;
	} else if ((s = malloc(sizeof(*s))) == NULL)
		return (NULL);
	memset(s, 0, sizeof(*s));
	if (cb_ip_from_sockaddr(&s->ip, sa) == -1 ||
	    (s->bev = bufferevent_socket_new(srv->ctx->base, fd,
	    BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		session_release(srv, s);
		return (NULL);
	}
	return (s);
}

/* Keeps a freed session for reuse, up to SPARE_SESSIONS of them. */
static void
session_release(struct tcp_server *srv, struct session *s)
{
	if (srv->nspares >= SPARE_SESSIONS) {
		free(s);
		return;
	}
	LIST_INSERT_HEAD(&srv->spares, s, entry);
	srv->nspares++;
}

/*
 * Over the connection limit: say so and close as soon as the line is
 * out, without the lingering second, so refused connections cannot eat
 * the descriptors kept in reserve.
 */
static void
session_refuse(struct session *s)
{
	s->no_linger = 1;
	session_error(s, RDV_ERR_TOO_MANY_CONNECTIONS, NULL);
}

/*
 * Sessions may use all descriptors but a reserve, so that the admin API,
 * log files and the listening sockets keep working when TCP is full.
 */
static size_t
default_max_connections(void)
{
	struct rlimit	rl;
	rlim_t		reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 ||
	    rl.rlim_cur == RLIM_INFINITY)
		return (65536);
	reserve = rl.rlim_cur / 2 < TCP_FD_RESERVE ? rl.rlim_cur / 2 :
	    TCP_FD_RESERVE;
	return (rl.rlim_cur > reserve ? (size_t)(rl.rlim_cur - reserve) : 1);
}

/*
 * An accept failed.  Out of descriptors, the pending connection stays in
 * the backlog and the listener would fire again at once, spinning the
 * loop: stop accepting for a moment instead, while closing sessions give
 * descriptors back.
 */
static void
accept_error_cb(struct evconnlistener *lev, void *arg)
{
	struct tcp_server	*srv = arg;
	struct timeval		 tv = { 0, TCP_ACCEPT_PAUSE_MS * 1000 };
	int			 err = errno;

	(void)lev;
	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_warn("tcp: accept: %s", strerror(err));
		return;
	}
	if (evtimer_pending(srv->accept_resume, NULL))
		return;
	log_warn("tcp: accept: %s; pausing for %d ms", strerror(err),
	    TCP_ACCEPT_PAUSE_MS);
	listeners_enable(srv, 0);
	evtimer_add(srv->accept_resume, &tv);
}

static void
accept_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_server	*srv = arg;

	(void)fd;
	(void)what;
	if (srv->accepting)
		listeners_enable(srv, 1);
}

static void
listeners_enable(struct tcp_server *srv, int on)
{
	int	i;

	for (i = 0; i < NET_MAX_SOCKETS; i++) {
		if (srv->listeners[i] == NULL)
			continue;
		if (on)
			evconnlistener_enable(srv->listeners[i]);
		else
			evconnlistener_disable(srv->listeners[i]);
	}
}

static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	(void)bev;
	session_process(arg);
}

/* Handles what the input holds, as far as the session's phase allows. */
static void
session_process(struct session *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->bev);

	for (;;) {
		switch (s->phase) {
		case PHASE_CLOSING:
			/* Lingering: what the client still sends is dropped. */
			evbuffer_drain(in, evbuffer_get_length(in));
			return;
		case PHASE_WAITING:
			session_extra_input(s, in);
			return;
		case PHASE_SERVER:
			/* Later requests wait until the registration holds. */
			if (!s->req.has_lease)
				return;
			break;
		case PHASE_FIRST:
			break;
		}
		if (session_next_object(s, in) == 0)
			return;
	}
}

/*
 * Frames and handles the next request object.  Returns 1 if one was
 * consumed (or the session is now closing), 0 if more bytes are needed.
 */
static int
session_next_object(struct session *s, struct evbuffer *in)
{
	struct proto_request	 req;
	struct framer		*f = &s->framer;
	enum framer_status	 status;
	const char		*reason;
	size_t			 avail, seen, used;
	unsigned char		*p;

	avail = evbuffer_get_length(in);
	seen = f->skipped + f->length;
	if (avail <= seen)
		return (0);
	p = evbuffer_pullup(in, (ssize_t)avail);
	/* The common, canonical request needs no framing (proto.h). */
	if (seen == 0 && (used = proto_decode_request_prefix(s->srv->decoder,
	    (const char *)p, avail, &req)) > 0) {
		evbuffer_drain(in, used);
		session_handle(s, &req);
		return (1);
	}
	framer_feed(f, (const char *)p + seen, avail - seen, &status);
	switch (status) {
	case FRAMER_NEED_MORE:
		if (f->length == 0) {
			/* Whitespace between requests needs no keeping. */
			evbuffer_drain(in, f->skipped);
			f->skipped = 0;
		}
		return (0);
	case FRAMER_NOT_OBJECT:
		stats_inc(&s->srv->ctx->stats, STAT_REQ_INVALID);
		session_error(s, RDV_ERR_INVALID_REQUEST, "not a JSON object");
		return (1);
	case FRAMER_TOO_LARGE:
		stats_inc(&s->srv->ctx->stats, STAT_REQ_INVALID);
		session_error(s, RDV_ERR_REQUEST_TOO_LARGE, NULL);
		return (1);
	case FRAMER_COMPLETE:
		break;
	}
	if (proto_decode_request(s->srv->decoder, (const char *)p + f->skipped,
	    f->length, &req, &reason) == -1) {
		stats_inc(&s->srv->ctx->stats, STAT_REQ_INVALID);
		session_error(s, RDV_ERR_INVALID_REQUEST, reason);
		return (1);
	}
	evbuffer_drain(in, f->skipped + f->length);
	framer_reset(f);
	session_handle(s, &req);
	return (1);
}

static void
session_handle(struct session *s, const struct proto_request *req)
{
	stats_inc(&s->srv->ctx->stats, conn_types[req->type].stat);
	if (s->phase == PHASE_FIRST)
		session_first(s, req);
	else
		session_serving(s, req);
}

/* The first request: hand it to the match and wait as it says. */
static void
session_first(struct session *s, const struct proto_request *req)
{
	struct tcp_server	*srv = s->srv;

	if (req->type == CONN_KEEPALIVE) {
		session_error(s, RDV_ERR_INVALID_REQUEST,
		    "KeepAlive without a Server registration");
		return;
	}
	s->req.role = conn_types[req->type].role;
	s->req.self.ip = s->ip;
	s->req.self.peer_port = req->local_peer_port;
	s->req.target.ip = req->remote_ip;
	s->req.target.peer_port = req->remote_peer_port;
	s->req.token.set = 0;
	if (req->token_len != 0)
		lease_token_make(srv->ctx->leases, req->token, req->token_len,
		    &s->req.token);
	s->phase = req->type == CONN_SERVER ? PHASE_SERVER : PHASE_WAITING;
	if (s->phase == PHASE_SERVER) {
		/*
		 * KeepAlives queue unread until the registration holds:
		 * bound what a client can pile up meanwhile.  The other
		 * phases consume their input as it comes.
		 */
		bufferevent_setwatermark(s->bev, EV_READ, 0,
		    SESSION_READ_HIGH_WM);
	}
	s->submitted = 1;
	log_debug("%016" PRIx64 " request type=%s local_peer_port=%u", s->id,
	    proto_conn_type_name(req->type), req->local_peer_port);
	match_submit(srv->ctx->match, &s->req);
	/* A final line set its own deadline; otherwise one may be due. */
	if (s->phase == PHASE_CLOSING)
		return;
	session_deadline(s, s->req.has_lease ? NULL :
	    deadline_queue_pick(srv->grace, GRACE_QUEUES, srv->udp_grace_ms));
}

/* A request after a Server registration: only a KeepAlive (or Server). */
static void
session_serving(struct session *s, const struct proto_request *req)
{
	struct tcp_server	*srv = s->srv;

	if (req->type != CONN_KEEPALIVE && req->type != CONN_SERVER) {
		session_error(s, RDV_ERR_INVALID_REQUEST,
		    "only KeepAlive may follow a Server registration");
		return;
	}
	if (req->local_peer_port != s->req.self.peer_port) {
		session_error(s, RDV_ERR_INVALID_REQUEST,
		    "LocalPeerPort differs from the Server registration");
		return;
	}
	if (match_keepalive(srv->ctx->match, &s->req, cb_now_ms()) == -1)
		session_error(s, RDV_ERR_INVALID_REQUEST,
		    "KeepAlive without a Server registration");
}

/* A Peer or Client connection carries one request; whitespace may follow. */
static void
session_extra_input(struct session *s, struct evbuffer *in)
{
	size_t			 i, len = evbuffer_get_length(in);
	const unsigned char	*p;

	if (len == 0)
		return;
	p = evbuffer_pullup(in, (ssize_t)len);
	for (i = 0; i < len; i++) {
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\n' &&
		    p[i] != '\r') {
			session_error(s, RDV_ERR_INVALID_REQUEST,
			    "one request per connection");
			return;
		}
	}
	evbuffer_drain(in, len);
}

/* Answers with an error and closes. */
static void
session_error(struct session *s, enum rdv_error err, const char *reason)
{
	struct rdv_response	resp;

	memset(&resp, 0, sizeof(resp));
	resp.error = err;
	resp.reason = reason;
	session_send_final(s, &resp);
}

/*
 * Sends the last line the session will send and starts the close.  The
 * line almost always fits the socket at once, so it is written straight
 * out, bypassing the output buffer and the write event; whatever does not
 * fit is queued, and the write callback finishes the job.  The linger
 * deadline bounds the flush.
 */
static void
session_send_final(struct session *s, const struct rdv_response *resp)
{
	struct daemon_ctx	*ctx = s->srv->ctx;
	char			 line[RESPONSE_MAX];
	size_t			 len, sent;

	if (s->phase == PHASE_CLOSING)
		return;
	if (s->submitted)
		match_withdraw(ctx->match, &s->req);
	s->phase = PHASE_CLOSING;
	if (rdv_error_counted(resp->error))
		stats_inc(&ctx->stats, rdv_error_stat(resp->error));
	if (resp->error != RDV_OK)
		log_info("%016" PRIx64 " closed error=\"%s%s%s\"", s->id,
		    rdv_error_text(resp->error), resp->reason ? ": " : "",
		    resp->reason ? resp->reason : "");
	/* Input from now on is dropped; so is what is already here. */
	evbuffer_drain(bufferevent_get_input(s->bev), (size_t)-1);
	len = response_format(line, sizeof(line), resp);
	sent = session_write_direct(s, line, len);
	if (sent == len) {
		session_flushed(s);
		return;
	}
	bufferevent_write(s->bev, line + sent, len - sent);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	bufferevent_enable(s->bev, EV_WRITE);
	session_deadline(s, &s->srv->linger);
}

/*
 * Writes what it can of a line straight to the socket, if nothing is
 * queued before it, and returns the bytes written.  An error writes
 * nothing: the queued line then meets it again, through the event
 * callback.
 */
static size_t
session_write_direct(struct session *s, const char *line, size_t len)
{
	ssize_t	n;

	if (evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return (0);
	n = send(bufferevent_getfd(s->bev), line, len,
	    MSG_DONTWAIT | MSG_NOSIGNAL);
	return (n > 0 ? (size_t)n : 0);
}

/* What was queued of the final line is out. */
static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	if (s->phase != PHASE_CLOSING || s->flushed)
		return;
	bufferevent_disable(bev, EV_WRITE);
	session_flushed(s);
}

/*
 * The final line is out: half-close, then linger for the client's close.
 * A refused connection closes without lingering, on the next loop turn
 * (the "now" deadline queue), since the callers of session_send_final()
 * still hold the session.
 */
static void
session_flushed(struct session *s)
{
	s->flushed = 1;
	if (s->no_linger) {
		session_deadline(s, &s->srv->now);
		return;
	}
	shutdown(bufferevent_getfd(s->bev), SHUT_WR);
	session_deadline(s, &s->srv->linger);
}

/*
 * The connection ended or failed.  A waiting side that disconnects is
 * removed at once, so nobody is matched against it; a closing session
 * still flushing its final line after the client's half-close keeps on.
 */
static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	(void)bev;
	if ((what & BEV_EVENT_EOF) && s->phase == PHASE_CLOSING &&
	    !s->flushed) {
		bufferevent_disable(s->bev, EV_READ);
		return;
	}
	if (s->phase != PHASE_CLOSING)
		log_debug("%016" PRIx64 " disconnected", s->id);
	session_free(s);
}

/* Moves the session's deadline to queue q (NULL: no deadline). */
static void
session_deadline(struct session *s, struct deadline_queue *q)
{
	if (s->deadline_q != NULL)
		deadline_disarm(s->deadline_q, &s->deadline);
	s->deadline_q = q;
	if (q != NULL)
		deadline_arm(q, &s->deadline, cb_now_ms());
}

/* The session's deadline came: what it means depends on the phase. */
static void
session_deadline_cb(struct deadline *d, void *arg)
{
	struct session	*s = DEADLINE_OWNER(d, struct session, deadline);

	(void)arg;
	s->deadline_q = NULL;
	switch (s->phase) {
	case PHASE_FIRST:
		session_error(s, RDV_ERR_TIMEOUT, NULL);
		break;
	case PHASE_WAITING:
	case PHASE_SERVER:
		match_udp_timeout(s->srv->ctx->match, &s->req);
		break;
	case PHASE_CLOSING:
		session_free(s);
		break;
	}
}

static void
session_free(struct session *s)
{
	struct tcp_server	*srv = s->srv;

	if (s->submitted)
		match_withdraw(srv->ctx->match, &s->req);
	LIST_REMOVE(s, entry);
	bufferevent_free(s->bev);
	session_deadline(s, NULL);
	session_release(srv, s);
	if (--srv->count == 0 && srv->drained != NULL)
		srv->drained(srv->drained_arg);
}

/* The match answered the request: send it and close. */
static void
on_finish(void *owner, const struct rdv_response *resp)
{
	session_send_final(owner, resp);
}

/* A client matched this Server: one line, and the connection stays. */
static void
on_notify(void *owner, const struct rdv_response *resp)
{
	struct session	*s = owner;
	struct evbuffer	*out = bufferevent_get_output(s->bev);
	char		 line[RESPONSE_MAX];
	size_t		 len;

	if (evbuffer_get_length(out) > SESSION_MAX_OUTPUT) {
		/* It stopped reading; holding more would grow without end. */
		log_warn("%016" PRIx64 " server not reading its "
		    "notifications, closing", s->id);
		s->phase = PHASE_CLOSING;
		match_withdraw(s->srv->ctx->match, &s->req);
		session_deadline(s, &s->srv->now);
		return;
	}
	len = response_format(line, sizeof(line), resp);
	bufferevent_write(s->bev, line, len);
}

/*
 * The request's own lease appeared: the UDP wait is over.  A Server may
 * have requests queued behind its registration; they are read on the next
 * loop turn, never from inside the registry's callback.
 */
static void
on_ready(void *owner)
{
	struct session	*s = owner;

	session_deadline(s, NULL);
	if (s->phase == PHASE_SERVER &&
	    evbuffer_get_length(bufferevent_get_input(s->bev)) > 0)
		bufferevent_trigger(s->bev, EV_READ, BEV_TRIG_DEFER_CALLBACKS);
}
