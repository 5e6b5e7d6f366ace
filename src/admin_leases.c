/*
 * /leases, GET /leases/IP/PEERPORT and DELETE /leases/IP/PEERPORT.
 *
 * The listing is streamed: {"total":N,"leases":[ first, then the leases as
 * lease_scan() walks the registry a slice of buckets at a time, sent with
 * evhttp's chunked replies.  One turn of the event loop builds at most
 * about one chunk and stops after STREAM_TURN_NS of work, whichever comes
 * first, and the next chunk is built only once the previous one has been
 * written, so a slow client holds at most one chunk of memory.  The
 * bound is one of time, not of buckets, because the cost of a bucket
 * varies tenfold: passing over a lease for ?offset= or ?ip= is a cache
 * miss or two, formatting one is a microsecond or more, and the machine
 * may be slower or busier than the one the numbers were chosen on.  A
 * turn that produced nothing (all skipped) resumes from a zero-delay
 * timer, which lets the loop poll for I/O in between; a turn that ran
 * out of time with part of a chunk built sends that part.
 * docs/reliability.md ("The /leases stall") has the measurements.
 *
 * A stream is tied to its connection through evhttp's close callback: a
 * client that goes away mid-stream ends it, and admin_free() ends every
 * stream still running.
 */
#include "autoconf.h"

#include <sys/queue.h>

#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "admin.h"
#include "admin_parse.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "match.h"
#include "util.h"

#define STREAM_CHUNK_BYTES	32768		/* chunk size to send at */
#define STREAM_SLICE_BUCKETS	64		/* per lease_scan() call */
#define STREAM_TURN_NS		1000000		/* work per event-loop turn */

#define nitems(a)		(sizeof(a) / sizeof((a)[0]))

/* One ?key= of /leases: how to read it, what to say if it is bad. */
struct query_param {
	const char	*name;
	int		(*parse)(struct lease_query *, const char *);
	const char	*error;
};

/* A /leases listing in progress. */
struct lease_stream {
	TAILQ_ENTRY(lease_stream) entry;
	struct admin_leases	*owner;
	struct evhttp_request	*req;
	struct event		*resume;	/* zero-delay continuation */
	struct evbuffer		*buf;		/* the chunk being built */
	struct lease_query	 query;
	uint64_t		 cursor;	/* lease_scan() position */
	uint64_t		 now_ms;	/* ages are as of the request */
	size_t			 skip;		/* offset still to pass over */
	size_t			 sent;		/* leases written */
};

struct admin_leases {
	struct daemon_ctx	*ctx;
	TAILQ_HEAD(, lease_stream) streams;
};

static int	query_ip(struct lease_query *, const char *);
static int	query_limit(struct lease_query *, const char *);
static int	query_offset(struct lease_query *, const char *);
static int	lease_format(const struct daemon_ctx *, struct evbuffer *,
		    const struct lease *, uint64_t, const char *);
static void	list_empty(struct evhttp_request *, size_t);
static void	stream_start(struct admin_leases *, struct evhttp_request *,
		    const struct lease_query *, size_t);
static void	stream_step(struct lease_stream *);
static void	stream_visit(void *, const struct lease *);
static void	stream_finish(struct lease_stream *);
static void	stream_sent_cb(struct evhttp_connection *, void *);
static void	stream_resume_cb(evutil_socket_t, short, void *);
static void	stream_closed_cb(struct evhttp_connection *, void *);
static void	stream_abandon(struct lease_stream *);
static void	stream_free(struct lease_stream *);

static const struct query_param query_params[] = {
	{ "ip", query_ip, "ip is not an IP address" },
	{ "limit", query_limit, "limit is not an integer from 0 to 100000" },
	{ "offset", query_offset, "offset is not a non-negative integer" },
};

static const char *const state_names[] = {
	[MATCH_STATE_IDLE] = "idle",
	[MATCH_STATE_WAITING] = "waiting",
	[MATCH_STATE_SERVER] = "server",
};

/* The /leases handlers' state: the streams in progress. */
struct admin_leases *
admin_leases_new(struct daemon_ctx *ctx)
{
	struct admin_leases	*al;

	if ((al = calloc(1, sizeof(*al))) == NULL)
		return (NULL);
	al->ctx = ctx;
	TAILQ_INIT(&al->streams);
	return (al);
}

/*
 * Ends every stream in progress.  Their requests stay on their
 * connections, for evhttp_free() to free with them.
 */
void
admin_leases_free(struct admin_leases *al)
{
	struct lease_stream	*s;

	if (al == NULL)
		return;
	while ((s = TAILQ_FIRST(&al->streams)) != NULL)
		stream_abandon(s);
	free(al);
}

/* GET /leases[?ip=ADDR][&limit=N][&offset=N]. */
void
admin_leases_list(struct admin_leases *al, struct evhttp_request *req)
{
	struct lease_registry	*reg = al->ctx->leases;
	struct lease_query	 q;
	const char		*error;
	size_t			 total;

	error = admin_parse_leases_query(evhttp_uri_get_query(
	    evhttp_request_get_evhttp_uri(req)), &q);
	if (error != NULL) {
		admin_reply_error(req, HTTP_BADREQUEST, error);
		return;
	}
	total = q.has_ip ? lease_count_ip(reg, &q.ip) : lease_count(reg);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		/* The listing's length is not known before it is built. */
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "Content-Type", ADMIN_JSON);
		evhttp_send_reply(req, HTTP_OK, NULL, NULL);
	} else if (q.limit == 0 || q.offset >= total)
		list_empty(req, total);
	else
		stream_start(al, req, &q, total);
}

/* GET /leases/IP/PEERPORT: rest is "IP/PEERPORT", already decoded. */
void
admin_leases_get(struct admin_leases *al, struct evhttp_request *req,
    const char *rest)
{
	struct lease_key	 key;
	const struct lease	*l;
	struct evbuffer		*body;
	const char		*error;
	int			 status;

	if ((error = admin_parse_lease_path(rest, &key, &status)) != NULL) {
		admin_reply_error(req, status, error);
		return;
	}
	if ((l = lease_lookup(al->ctx->leases, &key)) == NULL) {
		admin_reply_error(req, HTTP_NOTFOUND, "no such lease");
		return;
	}
	if ((body = evbuffer_new()) == NULL ||
	    lease_format(al->ctx, body, l, cb_now_ms(), "") == -1 ||
	    evbuffer_add(body, "\n", 1) == -1)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		admin_reply(req, HTTP_OK, ADMIN_JSON, body);
	if (body != NULL)
		evbuffer_free(body);
}

/*
 * DELETE /leases/IP/PEERPORT: evicts the lease.  The registry tells the
 * match, which ends whatever waits or serves on it with "evicted": a Peer
 * or Client request waiting on its own lease, a Server registered on it.
 * 204 with no body, 404 if there is no such lease, 400 if IP or PEERPORT
 * does not parse.
 */
void
admin_leases_delete(struct admin_leases *al, struct evhttp_request *req,
    const char *rest)
{
	struct lease_key	 key;
	const char		*error;
	char			 ip[CB_IP_STRLEN];
	int			 status;

	if ((error = admin_parse_lease_path(rest, &key, &status)) != NULL) {
		admin_reply_error(req, status, error);
		return;
	}
	if (lease_evict(al->ctx->leases, &key) == -1) {
		admin_reply_error(req, HTTP_NOTFOUND, "no such lease");
		return;
	}
	log_info("admin: lease evicted ip=%s peer_port=%" PRIu32,
	    cb_ip_format(&key.ip, ip), key.peer_port);
	evhttp_send_reply(req, HTTP_NOCONTENT, "No Content", NULL);
}

/*
 * Reads "IP/PEERPORT" into a key; returns NULL, or what to answer with
 * the status stored: 404 when the path is not of that shape at all, 400
 * when the IP or the PeerPort does not parse.
 */
const char *
admin_parse_lease_path(const char *rest, struct lease_key *key, int *status)
{
	const char	*slash, *errstr;
	char		 ip[CB_IP_STRLEN + 1];
	long long	 port;
	size_t		 len;

	*status = HTTP_NOTFOUND;
	if ((slash = strrchr(rest, '/')) == NULL)
		return ("not found");
	*status = HTTP_BADREQUEST;
	if ((len = (size_t)(slash - rest)) >= sizeof(ip))
		return ("bad IP address");
	memcpy(ip, rest, len);
	ip[len] = '\0';
	memset(key, 0, sizeof(*key));
	if (cb_ip_parse(&key->ip, ip) == -1)
		return ("bad IP address");
	if (parse_num(slash + 1, 0, INT32_MAX, &port, &errstr) == -1)
		return ("bad peer port");
	key->peer_port = (uint32_t)port;
	return (NULL);
}

/*
 * Reads the query string (NULL if the URI had none); returns NULL, or
 * what to answer 400 with.
 */
const char *
admin_parse_leases_query(const char *query, struct lease_query *q)
{
	struct evkeyvalq	 args;
	const char		*value, *error = NULL;
	size_t			 i;

	memset(q, 0, sizeof(*q));
	q->limit = LEASES_DEFAULT_LIMIT;
	if (query == NULL)
		return (NULL);
	TAILQ_INIT(&args);
	if (evhttp_parse_query_str(query, &args) == -1) {
		evhttp_clear_headers(&args);
		return ("bad query string");
	}
	for (i = 0; i < nitems(query_params) && error == NULL; i++) {
		value = evhttp_find_header(&args, query_params[i].name);
		if (value != NULL && query_params[i].parse(q, value) == -1)
			error = query_params[i].error;
	}
	evhttp_clear_headers(&args);
	return (error);
}

/* ?ip=ADDR, either family; "::ffff:a.b.c.d" is a.b.c.d. */
static int
query_ip(struct lease_query *q, const char *value)
{
	if (cb_ip_parse(&q->ip, value) == -1)
		return (-1);
	q->has_ip = 1;
	return (0);
}

/* ?limit=N, 0 to LEASES_MAX_LIMIT; 0 asks for the total alone. */
static int
query_limit(struct lease_query *q, const char *value)
{
	const char	*errstr;
	long long	 n;

	if (parse_num(value, 0, LEASES_MAX_LIMIT, &n, &errstr) == -1)
		return (-1);
	q->limit = (size_t)n;
	return (0);
}

/* ?offset=N: how many matching leases to pass over first. */
static int
query_offset(struct lease_query *q, const char *value)
{
	const char	*errstr;
	long long	 n;

	if (parse_num(value, 0, LLONG_MAX, &n, &errstr) == -1)
		return (-1);
	q->offset = (size_t)n;
	return (0);
}

/*
 * Appends one lease object after sep.  Built by hand with
 * evbuffer_add_printf rather than json-c: a listing streams up to a
 * million of these, and a json-c tree per lease (or for the whole list)
 * would cost far more than the text.  Every field is a number or an
 * inet_ntop() address, so nothing needs escaping.  udp_ip is the lease's
 * own IP: the registry keys a lease by its datagram's source address.
 */
static int
lease_format(const struct daemon_ctx *ctx, struct evbuffer *buf,
    const struct lease *l, uint64_t now_ms, const char *sep)
{
	const struct lease_key	*key = lease_key(l);
	enum match_lease_state	 state = MATCH_STATE_IDLE;
	uint64_t		 created = lease_created_ms(l);
	uint64_t		 expires = lease_expires_ms(l);
	char			 ip[CB_IP_STRLEN];

	if (ctx->match != NULL)
		state = match_state(ctx->match, key);
	cb_ip_format(&key->ip, ip);
	return (evbuffer_add_printf(buf, "%s{\"ip\":\"%s\",\"peer_port\":%"
	    PRIu32 ",\"udp_ip\":\"%s\",\"udp_port\":%u,\"age_s\":%" PRIu64
	    ",\"expires_in_s\":%" PRIu64 ",\"state\":\"%s\"}", sep, ip,
	    key->peer_port, ip, (unsigned int)lease_udp_port(l),
	    now_ms > created ? (now_ms - created) / 1000 : 0,
	    expires > now_ms ? (expires - now_ms) / 1000 : 0,
	    state_names[state]) < 0 ? -1 : 0);
}

/* A listing with nothing to list: limit=0 or an offset past the end. */
static void
list_empty(struct evhttp_request *req, size_t total)
{
	struct evbuffer	*body;

	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add_printf(body, "{\"total\":%zu,\"leases\":[]}\n",
	    total) < 0)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		admin_reply(req, HTTP_OK, ADMIN_JSON, body);
	if (body != NULL)
		evbuffer_free(body);
}

/* Sends the headers and the opening of the listing, then streams. */
static void
stream_start(struct admin_leases *al, struct evhttp_request *req,
    const struct lease_query *q, size_t total)
{
	struct lease_stream	*s;

	if ((s = calloc(1, sizeof(*s))) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	s->owner = al;
	s->req = req;
	s->query = *q;
	s->skip = q->offset;
	s->now_ms = cb_now_ms();
	TAILQ_INSERT_TAIL(&al->streams, s, entry);
	if ((s->buf = evbuffer_new()) == NULL ||
	    (s->resume = evtimer_new(al->ctx->base, stream_resume_cb,
	    s)) == NULL ||
	    evbuffer_add_printf(s->buf, "{\"total\":%zu,\"leases\":[",
	    total) < 0) {
		stream_free(s);
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", ADMIN_JSON);
	evhttp_send_reply_start(req, HTTP_OK, NULL);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    stream_closed_cb, s);
	stream_step(s);
}

/*
 * One turn: scans slices until a chunk's worth is built, STREAM_TURN_NS
 * have gone or the listing is complete, then sends what it has
 * (continuing once it is written) or, having nothing, yields to the loop
 * and continues from the zero-delay timer.  The clock is read after each
 * slice, so a turn overruns its budget by one slice at most: 64 buckets,
 * some tens of microseconds.
 */
static void
stream_step(struct lease_stream *s)
{
	static const struct timeval	 zero = { 0, 0 };
	const struct lease_registry	*reg = s->owner->ctx->leases;
	uint64_t			 deadline;

	if (evhttp_request_get_connection(s->req) == NULL) {
		/* Detached from its connection without a close callback. */
		evhttp_request_free(s->req);
		stream_free(s);
		return;
	}
	deadline = cb_now_ns() + STREAM_TURN_NS;
	do {
		s->cursor = lease_scan(reg, s->cursor, STREAM_SLICE_BUCKETS,
		    stream_visit, s);
		if (s->cursor == 0 || s->sent == s->query.limit) {
			stream_finish(s);
			return;
		}
	} while (evbuffer_get_length(s->buf) < STREAM_CHUNK_BYTES &&
	    cb_now_ns() < deadline);
	if (evbuffer_get_length(s->buf) > 0)
		evhttp_send_reply_chunk_with_cb(s->req, s->buf,
		    stream_sent_cb, s);
	else if (evtimer_add(s->resume, &zero) == -1) {
		/*
		 * It cannot go on, and the status line is long gone: drop
		 * the connection, so the client sees the listing cut short.
		 * The close callback frees the stream, evhttp the request.
		 * (Never the first turn, inside evhttp's request callback:
		 * that one always has the opening of the listing to send.)
		 */
		log_warn("admin: /leases stream cannot continue");
		evhttp_connection_free(evhttp_request_get_connection(s->req));
	}
}

/*
 * Writes a lease that passes the filter, once the offset is used up and
 * while the limit allows.  The separator goes before every lease but the
 * first, so the commas are right whichever chunk a lease lands in.
 */
static void
stream_visit(void *arg, const struct lease *l)
{
	struct lease_stream	*s = arg;

	if (s->query.has_ip && !cb_ip_equal(&lease_key(l)->ip, &s->query.ip))
		return;
	if (s->skip > 0) {
		s->skip--;
		return;
	}
	if (s->sent == s->query.limit)
		return;
	if (lease_format(s->owner->ctx, s->buf, l, s->now_ms,
	    s->sent == 0 ? "" : ",") == 0)
		s->sent++;
}

/* Closes the listing, unhooks the stream and completes the reply. */
static void
stream_finish(struct lease_stream *s)
{
	struct evhttp_request	*req = s->req;

	evbuffer_add(s->buf, "]}\n", 3);
	evhttp_send_reply_chunk(req, s->buf);
	evhttp_connection_set_closecb(evhttp_request_get_connection(req),
	    NULL, NULL);
	stream_free(s);
	evhttp_send_reply_end(req);
}

/* The previous chunk is written: build the next. */
static void
stream_sent_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)evcon;
	stream_step(arg);
}

/* The loop has polled for I/O since a turn that built nothing. */
static void
stream_resume_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	stream_step(arg);
}

/*
 * The connection is going away.  If the client left mid-stream, evhttp
 * has detached the request from the dying connection and left it to us
 * to free; if evhttp is freeing the connection with the request still on
 * it, it frees the request too.
 */
static void
stream_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct lease_stream	*s = arg;
	struct evhttp_request	*req = s->req;

	(void)evcon;
	log_debug("admin: /leases client left after %zu leases", s->sent);
	stream_free(s);
	if (evhttp_request_get_connection(req) == NULL)
		evhttp_request_free(req);
}

/* Ends a stream at shutdown, leaving its request to evhttp_free(). */
static void
stream_abandon(struct lease_stream *s)
{
	struct evhttp_connection	*evcon;

	log_debug("admin: /leases stream ended by shutdown after %zu leases",
	    s->sent);
	if ((evcon = evhttp_request_get_connection(s->req)) != NULL)
		evhttp_connection_set_closecb(evcon, NULL, NULL);
	else
		evhttp_request_free(s->req);
	stream_free(s);
}

/* Frees the stream's own state; never its request. */
static void
stream_free(struct lease_stream *s)
{
	TAILQ_REMOVE(&s->owner->streams, s, entry);
	if (s->resume != NULL)
		event_free(s->resume);
	if (s->buf != NULL)
		evbuffer_free(s->buf);
	free(s);
}
