/*
 * The admin HTTP API.
 *
 * One evhttp on the daemon's event base, bound to the -admin address.
 * Every request goes through one dispatcher and a route table: a path (or
 * a path prefix), the methods it accepts and its handler.  A known path
 * asked with another method is answered 405 with an Allow header, so
 * evhttp is told to let every method through.
 *
 * /stats (JSON, through json-c) and /metrics (Prometheus text) are both
 * rendered from two tables: the gauges below, read from the live state,
 * and the counters' names in stat_descs[].  Neither lists a number by
 * hand, so a counter added to stats.h shows up in both.  /leases and
 * DELETE /leases/IP/PEERPORT live in admin_leases.c.
 *
 * When the configuration holds an admin token, every request but those to
 * a public route (/healthz, for load balancers and init scripts) must
 * carry "Authorization: Bearer TOKEN".  The token is read from the
 * configuration at each request, so a reload that changes it applies at
 * once; it is compared in constant time and never logged.
 */
#include "autoconf.h"

#include <sys/socket.h>
#include <netinet/in.h>

#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <json-c/json.h>

#include "admin.h"
#include "admin_parse.h"
#include "daemon.h"
#include "lease.h"
#include "log.h"
#include "match.h"
#include "reload.h"
#include "session.h"
#include "siphash.h"
#include "stats.h"
#include "util.h"

#define ADMIN_TIMEOUT_S		30		/* idle, read and write */
#define ADMIN_MAX_HEADERS	(8 * 1024)
#define ADMIN_MAX_BODY		1024		/* no route takes a body */
#define ADMIN_BACKLOG		64

#define ADMIN_GET		(EVHTTP_REQ_GET | EVHTTP_REQ_HEAD)

#define METRICS_PREFIX		"containment_breach_"
#define METRICS_TYPE		"text/plain; version=0.0.4; charset=utf-8"
#define BEARER			"Bearer "
#define ADMIN_UNAUTHORIZED	401		/* not named by libevent 2.1 */

#define nitems(a)		(sizeof(a) / sizeof((a)[0]))

struct admin {
	struct daemon_ctx	*ctx;
	struct evhttp		*http;
	struct admin_leases	*leases;
	struct siphash_key	 token_keys[2];	/* for comparing tokens */
};

/* Handles a request on a route; rest is the path after a prefix. */
typedef void	(*admin_handler)(struct admin *, struct evhttp_request *,
		    const char *);

struct admin_route {
	const char	*path;
	int		 prefix;	/* path is a prefix of the request's */
	int		 methods;	/* EVHTTP_REQ_* bits */
	int		 public;	/* answered without the admin token */
	admin_handler	 handler;
};

/*
 * A number read from the live state, not counted: its /stats key, its
 * /metrics name (after METRICS_PREFIX) and help, and how to read it.
 */
struct admin_gauge {
	const char	*name;
	const char	*metric;
	const char	*help;
	uint64_t	(*read)(const struct daemon_ctx *);
};

static void	admin_dispatch(struct evhttp_request *, void *);
static int	admin_authorized(struct admin *, struct evhttp_request *);
static int	admin_token_equal(const struct admin *, const char *,
		    const char *);
static char	*admin_path(struct evhttp_request *);
static const char *admin_route_match(const struct admin_route *,
		    const char *);
static void	admin_reply_not_allowed(struct evhttp_request *, int);
static void	admin_reply_json(struct evhttp_request *, int,
		    struct json_object *);
static int	admin_listen(const struct sockaddr *, socklen_t);
static void	admin_healthz(struct admin *, struct evhttp_request *,
		    const char *);
static void	admin_stats(struct admin *, struct evhttp_request *,
		    const char *);
static void	admin_metrics(struct admin *, struct evhttp_request *,
		    const char *);
static void	admin_leases_index(struct admin *, struct evhttp_request *,
		    const char *);
static void	admin_leases_one(struct admin *, struct evhttp_request *,
		    const char *);
static void	admin_leases_evict(struct admin *, struct evhttp_request *,
		    const char *);
static struct json_object *admin_stats_json(const struct daemon_ctx *);
static int	admin_metrics_text(const struct daemon_ctx *,
		    struct evbuffer *);
static const char *stat_family(const struct stat_desc *);
static uint64_t	gauge_uptime(const struct daemon_ctx *);
static uint64_t	gauge_port(const struct daemon_ctx *);
static uint64_t	gauge_lease_timeout(const struct daemon_ctx *);
static uint64_t	gauge_leases(const struct daemon_ctx *);
static uint64_t	gauge_servers(const struct daemon_ctx *);
static uint64_t	gauge_waiting(const struct daemon_ctx *);
static uint64_t	gauge_tcp_connections(const struct daemon_ctx *);

/*
 * Looked up in order; the first route whose path matches and whose
 * methods include the request's wins.  The methods of every route that
 * matches the path make the Allow header of a 405.
 */
static const struct admin_route admin_routes[] = {
	{ "/healthz",	0, ADMIN_GET, 1, admin_healthz },
	{ "/stats",	0, ADMIN_GET, 0, admin_stats },
	{ "/metrics",	0, ADMIN_GET, 0, admin_metrics },
	{ "/leases",	0, ADMIN_GET, 0, admin_leases_index },
	{ "/leases/",	1, ADMIN_GET, 0, admin_leases_one },
	{ "/leases/",	1, EVHTTP_REQ_DELETE, 0, admin_leases_evict },
};

/* Every method evhttp parses, in the order an Allow header lists them. */
static const struct {
	enum evhttp_cmd_type	 cmd;
	const char		*name;
} admin_methods[] = {
	{ EVHTTP_REQ_GET,	"GET" },
	{ EVHTTP_REQ_HEAD,	"HEAD" },
	{ EVHTTP_REQ_POST,	"POST" },
	{ EVHTTP_REQ_PUT,	"PUT" },
	{ EVHTTP_REQ_DELETE,	"DELETE" },
	{ EVHTTP_REQ_OPTIONS,	"OPTIONS" },
	{ EVHTTP_REQ_TRACE,	"TRACE" },
	{ EVHTTP_REQ_CONNECT,	"CONNECT" },
	{ EVHTTP_REQ_PATCH,	"PATCH" },
};

/* The top of /stats, in this order, and of /metrics; the counters follow. */
static const struct admin_gauge admin_gauges[] = {
	{ "uptime_s", "uptime_seconds",
	  "Seconds since the daemon started", gauge_uptime },
	{ "port", "port",
	  "The rendezvous port, UDP and TCP", gauge_port },
	{ "lease_timeout_s", "lease_timeout_seconds",
	  "Seconds a lease lives after its last registration",
	  gauge_lease_timeout },
	{ "leases", "leases",
	  "Leases held", gauge_leases },
	{ "servers", "servers",
	  "Server sessions registered on their lease", gauge_servers },
	{ "waiting", "waiting",
	  "TCP requests waiting for a partner or for their UDP registration",
	  gauge_waiting },
	{ "tcp_connections", "tcp_connections",
	  "Open TCP connections on the rendezvous port",
	  gauge_tcp_connections },
};

/* Starts serving the admin API on addr; NULL, logged, if it cannot. */
struct admin *
admin_new(struct daemon_ctx *ctx, const struct sockaddr *addr,
    socklen_t addrlen)
{
	struct admin	*a;
	ev_uint16_t	 methods = 0;
	size_t		 i;
	int		 fd;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return (NULL);
	a->ctx = ctx;
	siphash_key_random(&a->token_keys[0]);
	siphash_key_random(&a->token_keys[1]);
	if ((a->leases = admin_leases_new(ctx)) == NULL ||
	    (a->http = evhttp_new(ctx->base)) == NULL)
		goto fail;
	for (i = 0; i < nitems(admin_methods); i++)
		methods |= (ev_uint16_t)admin_methods[i].cmd;
	evhttp_set_allowed_methods(a->http, methods);
	evhttp_set_timeout(a->http, ADMIN_TIMEOUT_S);
	evhttp_set_max_headers_size(a->http, ADMIN_MAX_HEADERS);
	evhttp_set_max_body_size(a->http, ADMIN_MAX_BODY);
	evhttp_set_gencb(a->http, admin_dispatch, a);
	if ((fd = admin_listen(addr, addrlen)) == -1)
		goto fail;
	if (evhttp_accept_socket_with_handle(a->http, fd) == NULL) {
		log_error("admin: cannot accept on the listening socket");
		close(fd);
		goto fail;
	}
	return (a);
fail:
	admin_free(a);
	return (NULL);
}

/* Closes the listener and every connection, and ends /leases streams. */
void
admin_free(struct admin *a)
{
	if (a == NULL)
		return;
	/* First, so no stream is left hooked to a connection evhttp frees. */
	admin_leases_free(a->leases);
	if (a->http != NULL)
		evhttp_free(a->http);
	free(a);
}

/*
 * Sends a reply with a body of the given type.  A HEAD request gets the
 * same status and headers, with the length of the body it did not get.
 */
void
admin_reply(struct evhttp_request *req, int code, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq	*headers;
	char			 length[32];

	headers = evhttp_request_get_output_headers(req);
	evhttp_add_header(headers, "Content-Type", type);
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		snprintf(length, sizeof(length), "%zu",
		    evbuffer_get_length(body));
		evhttp_add_header(headers, "Content-Length", length);
		evhttp_send_reply(req, code, NULL, NULL);
		return;
	}
	evhttp_send_reply(req, code, NULL, body);
}

/* Sends {"error":"..."} with the given status. */
void
admin_reply_error(struct evhttp_request *req, int code, const char *error)
{
	struct json_object	*obj;

	if ((obj = json_object_new_object()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	json_object_object_add(obj, "error", json_object_new_string(error));
	admin_reply_json(req, code, obj);
	json_object_put(obj);
}

/*
 * Finds the route for the request and calls it, or answers 404 or 405.
 * Without the token, when one is set, nothing but a public path is
 * answered: not even whether a path exists.
 */
static void
admin_dispatch(struct evhttp_request *req, void *arg)
{
	struct admin			*a = arg;
	const struct admin_route	*r;
	const char			*rest;
	char				*path;
	int				 cmd, allow = 0, public = 0;
	size_t				 i;

	if ((path = admin_path(req)) == NULL) {
		admin_reply_error(req, HTTP_BADREQUEST, "bad request path");
		return;
	}
	for (i = 0; i < nitems(admin_routes); i++) {
		r = &admin_routes[i];
		if (r->public && admin_route_match(r, path) != NULL)
			public = 1;
	}
	if (!public && !admin_authorized(a, req)) {
		free(path);
		evhttp_add_header(evhttp_request_get_output_headers(req),
		    "WWW-Authenticate", "Bearer");
		admin_reply_error(req, ADMIN_UNAUTHORIZED, "unauthorized");
		return;
	}
	cmd = (int)evhttp_request_get_command(req);
	for (i = 0; i < nitems(admin_routes); i++) {
		r = &admin_routes[i];
		if ((rest = admin_route_match(r, path)) == NULL)
			continue;
		if ((r->methods & cmd) != 0) {
			r->handler(a, req, rest);
			free(path);
			return;
		}
		allow |= r->methods;
	}
	free(path);
	if (allow != 0)
		admin_reply_not_allowed(req, allow);
	else
		admin_reply_error(req, HTTP_NOTFOUND, "not found");
}

/*
 * Whether the request may use the API: always when no admin token is
 * configured, else only with "Authorization: Bearer TOKEN" (the scheme's
 * case does not matter, the token's does).  The configuration refuses an
 * empty token file, so an empty token here can only mean none.
 */
static int
admin_authorized(struct admin *a, struct evhttp_request *req)
{
	const char	*token = a->ctx->conf->admin_token, *given;
	size_t		 len = sizeof(BEARER) - 1;

	if (token == NULL || *token == '\0')
		return (1);
	given = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Authorization");
	if (given == NULL || strncasecmp(given, BEARER, len) != 0)
		return (0);
	for (given += len; *given == ' '; given++)
		;	/* RFC 6750: one or more spaces */
	return (admin_token_equal(a, given, token));
}

/*
 * Compares a token given with the one configured, in time independent of
 * where they differ and of the configured token's length: both are hashed
 * under two random per-process SipHash keys (128 bits, so a different
 * token passing is out of reach) and the digests compared without an
 * early exit.  Hashing takes time in proportion to the given token, which
 * the client knows anyway.
 */
static int
admin_token_equal(const struct admin *a, const char *given,
    const char *token)
{
	uint64_t	diff = 0;
	size_t		i, glen = strlen(given), tlen = strlen(token);

	for (i = 0; i < nitems(a->token_keys); i++)
		diff |= siphash24(&a->token_keys[i], given, glen) ^
		    siphash24(&a->token_keys[i], token, tlen);
	return (diff == 0);
}

/*
 * The request's path, percent-decoded ("/leases/%3A%3A1/5" is
 * "/leases/::1/5"); NULL if there is none or it decodes to a NUL byte.
 */
static char *
admin_path(struct evhttp_request *req)
{
	const struct evhttp_uri	*uri;
	const char		*raw;

	if ((uri = evhttp_request_get_evhttp_uri(req)) == NULL ||
	    (raw = evhttp_uri_get_path(uri)) == NULL)
		return (NULL);
	return (admin_path_decode(raw));
}

/* Percent-decodes a raw path; NULL if it decodes to a NUL byte. */
char *
admin_path_decode(const char *raw)
{
	char	*path;
	size_t	 len;

	if ((path = evhttp_uridecode(raw, 0, &len)) == NULL)
		return (NULL);
	if (strlen(path) != len) {
		free(path);
		return (NULL);
	}
	return (path);
}

/* The rest of path after the route's, or NULL if the route does not fit. */
static const char *
admin_route_match(const struct admin_route *r, const char *path)
{
	size_t	len = strlen(r->path);

	if (strncmp(path, r->path, len) != 0)
		return (NULL);
	if (!r->prefix && path[len] != '\0')
		return (NULL);
	return (path + len);
}

/* 405, with an Allow header naming the methods the path takes. */
static void
admin_reply_not_allowed(struct evhttp_request *req, int allow)
{
	char	list[128];
	size_t	i, len = 0;
	int	n;

	list[0] = '\0';
	for (i = 0; i < nitems(admin_methods); i++) {
		if ((allow & (int)admin_methods[i].cmd) == 0)
			continue;
		n = snprintf(list + len, sizeof(list) - len, "%s%s",
		    len == 0 ? "" : ", ", admin_methods[i].name);
		if (n < 0 || (size_t)n >= sizeof(list) - len)
			break;
		len += (size_t)n;
	}
	evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
	    list);
	admin_reply_error(req, HTTP_BADMETHOD, "method not allowed");
}

/* Sends a json-c object as compact JSON and a newline. */
static void
admin_reply_json(struct evhttp_request *req, int code,
    struct json_object *obj)
{
	struct evbuffer	*body;
	const char	*text;

	text = json_object_to_json_string_ext(obj,
	    JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL || (body = evbuffer_new()) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	if (evbuffer_add(body, text, strlen(text)) == -1 ||
	    evbuffer_add(body, "\n", 1) == -1)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		admin_reply(req, code, ADMIN_JSON, body);
	evbuffer_free(body);
}

/*
 * Opens the listening socket: address reuse across restarts, and an IPv6
 * address means that address only (IPV6_V6ONLY), never IPv4 as well.
 */
static int
admin_listen(const struct sockaddr *addr, socklen_t addrlen)
{
	const char	*what;
	int		 fd, on = 1;

	fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1) {
		what = "socket";
		goto fail;
	}
	what = "setsockopt";
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (addr->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	what = "bind";
	if (bind(fd, addr, addrlen) == -1)
		goto fail;
	what = "listen";
	if (listen(fd, ADMIN_BACKLOG) == -1)
		goto fail;
	return (fd);
fail:
	log_error("admin: %s: %s", what, strerror(errno));
	if (fd != -1)
		close(fd);
	return (-1);
}

/* GET /healthz: the daemon's loop is turning. */
static void
admin_healthz(struct admin *a, struct evhttp_request *req, const char *rest)
{
	struct evbuffer	*body;

	(void)a;
	(void)rest;
	if ((body = evbuffer_new()) == NULL ||
	    evbuffer_add(body, "ok\n", 3) == -1)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		admin_reply(req, HTTP_OK, "text/plain", body);
	if (body != NULL)
		evbuffer_free(body);
}

/* GET /stats. */
static void
admin_stats(struct admin *a, struct evhttp_request *req, const char *rest)
{
	struct json_object	*obj;

	(void)rest;
	if ((obj = admin_stats_json(a->ctx)) == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	admin_reply_json(req, HTTP_OK, obj);
	json_object_put(obj);
}

/* GET /metrics: Prometheus text exposition format 0.0.4. */
static void
admin_metrics(struct admin *a, struct evhttp_request *req, const char *rest)
{
	struct evbuffer	*body;

	(void)rest;
	if ((body = evbuffer_new()) == NULL ||
	    admin_metrics_text(a->ctx, body) == -1)
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
	else
		admin_reply(req, HTTP_OK, METRICS_TYPE, body);
	if (body != NULL)
		evbuffer_free(body);
}

/* GET /leases. */
static void
admin_leases_index(struct admin *a, struct evhttp_request *req,
    const char *rest)
{
	(void)rest;
	admin_leases_list(a->leases, req);
}

/* GET /leases/IP/PEERPORT. */
static void
admin_leases_one(struct admin *a, struct evhttp_request *req,
    const char *rest)
{
	admin_leases_get(a->leases, req, rest);
}

/* DELETE /leases/IP/PEERPORT. */
static void
admin_leases_evict(struct admin *a, struct evhttp_request *req,
    const char *rest)
{
	admin_leases_delete(a->leases, req, rest);
}

/*
 * Builds /stats: version, the gauges, then every counter under its
 * published name, in a group object when it has one ("requests", ...).
 */
static struct json_object *
admin_stats_json(const struct daemon_ctx *ctx)
{
	const struct stat_desc	*d;
	struct json_object	*root, *obj;
	size_t			 i;

	if ((root = json_object_new_object()) == NULL)
		return (NULL);
	json_object_object_add(root, "version",
	    json_object_new_string(PACKAGE_VERSION));
	for (i = 0; i < nitems(admin_gauges); i++)
		json_object_object_add(root, admin_gauges[i].name,
		    json_object_new_uint64(admin_gauges[i].read(ctx)));
	for (i = 0; i < STAT__MAX; i++) {
		d = &stat_descs[i];
		obj = root;
		if (d->group != NULL &&
		    !json_object_object_get_ex(root, d->group, &obj)) {
			if ((obj = json_object_new_object()) == NULL)
				goto fail;
			json_object_object_add(root, d->group, obj);
		}
		json_object_object_add(obj, d->name,
		    json_object_new_uint64(ctx->stats.counters[i]));
	}
	if ((obj = json_object_new_object()) == NULL)
		goto fail;
	json_object_object_add(root, "limits", obj);
	for (i = 0; i < DAEMON_NLIMITS; i++)
		json_object_object_add(obj, daemon_limit_names[i],
		    json_object_new_uint64(daemon_limit(ctx, i)));
	return (root);
fail:
	json_object_put(root);
	return (NULL);
}

/*
 * Writes /metrics: the build info, every gauge, then every counter as
 * containment_breach_<name>_total, or for a group (requests, matches,
 * errors) as one family containment_breach_<group>_total with a label
 * telling its members apart.  A family's # HELP and # TYPE come before its
 * first sample; a group's members are contiguous in stat_descs[] and the
 * first carries the help.
 */
static int
admin_metrics_text(const struct daemon_ctx *ctx, struct evbuffer *buf)
{
	const struct admin_gauge	*g;
	const struct stat_desc		*d;
	const char			*family, *last = NULL;
	size_t				 i;
	int				 rc;

	rc = evbuffer_add_printf(buf, "# HELP " METRICS_PREFIX "build_info "
	    "The version running, as a label; always 1\n"
	    "# TYPE " METRICS_PREFIX "build_info gauge\n"
	    METRICS_PREFIX "build_info{version=\"%s\"} 1\n", PACKAGE_VERSION);
	for (i = 0; i < nitems(admin_gauges) && rc >= 0; i++) {
		g = &admin_gauges[i];
		rc = evbuffer_add_printf(buf, "# HELP " METRICS_PREFIX "%s %s\n"
		    "# TYPE " METRICS_PREFIX "%s gauge\n"
		    METRICS_PREFIX "%s %" PRIu64 "\n", g->metric, g->help,
		    g->metric, g->metric, g->read(ctx));
	}
	for (i = 0; i < STAT__MAX && rc >= 0; i++) {
		d = &stat_descs[i];
		family = stat_family(d);
		if (last == NULL || strcmp(family, last) != 0)
			rc = evbuffer_add_printf(buf, "# HELP " METRICS_PREFIX
			    "%s_total %s\n# TYPE " METRICS_PREFIX
			    "%s_total counter\n", family,
			    d->help != NULL ? d->help : family, family);
		last = family;
		if (rc < 0)
			break;
		if (d->group != NULL)
			rc = evbuffer_add_printf(buf, METRICS_PREFIX
			    "%s_total{%s=\"%s\"} %" PRIu64 "\n", family,
			    d->label, d->name, ctx->stats.counters[i]);
		else
			rc = evbuffer_add_printf(buf, METRICS_PREFIX
			    "%s_total %" PRIu64 "\n", family,
			    ctx->stats.counters[i]);
	}
	if (rc >= 0)
		rc = evbuffer_add_printf(buf, "# HELP " METRICS_PREFIX "limit "
		    "The limits in force, by name (0: none)\n"
		    "# TYPE " METRICS_PREFIX "limit gauge\n");
	for (i = 0; i < DAEMON_NLIMITS && rc >= 0; i++)
		rc = evbuffer_add_printf(buf, METRICS_PREFIX
		    "limit{name=\"%s\"} %" PRIu64 "\n",
		    daemon_limit_names[i], daemon_limit(ctx, i));
	return (rc < 0 ? -1 : 0);
}

/* The /metrics family of a counter: its group, or its own name. */
static const char *
stat_family(const struct stat_desc *d)
{
	return (d->group != NULL ? d->group : d->name);
}

/* Whole seconds since the daemon started. */
static uint64_t
gauge_uptime(const struct daemon_ctx *ctx)
{
	return ((cb_now_ms() - ctx->start_ms) / 1000);
}

/* The rendezvous port, UDP and TCP. */
static uint64_t
gauge_port(const struct daemon_ctx *ctx)
{
	return ((uint64_t)ctx->conf->port);
}

/* The lease time given to registrations now. */
static uint64_t
gauge_lease_timeout(const struct daemon_ctx *ctx)
{
	return (ctx->conf->lease_timeout);
}

/* Leases held. */
static uint64_t
gauge_leases(const struct daemon_ctx *ctx)
{
	return (ctx->leases == NULL ? 0 : lease_count(ctx->leases));
}

/* Server registrations that have their lease. */
static uint64_t
gauge_servers(const struct daemon_ctx *ctx)
{
	return (ctx->match == NULL ? 0 : match_servers(ctx->match));
}

/* TCP requests waiting for a partner or for their UDP registration. */
static uint64_t
gauge_waiting(const struct daemon_ctx *ctx)
{
	return (ctx->match == NULL ? 0 : match_waiting(ctx->match));
}

/* Open TCP connections on the rendezvous port. */
static uint64_t
gauge_tcp_connections(const struct daemon_ctx *ctx)
{
	return (tcp_server_connections(ctx->tcp));
}
