/*
 * The rendezvous rules.
 *
 * Requests wait in two tables keyed by their own (IP, LocalPeerPort):
 * "waiters" for Peer and Client requests, "servers" for Server
 * registrations.  A request "has its lease" once its own UDP registration
 * exists; before that it only waits for UDP (the session bounds that wait
 * by udp_grace).  A newer request for the same key replaces the older one,
 * lease or not.
 *
 * Peer: A and B pair when each has its lease and each targets the other;
 * whichever becomes ready second triggers the pairing.  Client: needs a
 * Server that has its lease; is answered as soon as its own lease exists.
 * Lease expiry or eviction ends every request waiting on that lease.
 *
 * A request whose own lease was made with an anti-hijack token must
 * carry the same token; that is checked once the lease is known, at
 * submission if it exists, else when it appears, and a request that
 * fails it ends with "invalid request: token".
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "match.h"

struct match {
	struct lease_registry	*leases;
	struct stats		*stats;
	struct match_callbacks	 cb;
	struct htable		 waiters;	/* Peer and Client requests */
	struct htable		 servers;	/* Server registrations */
	size_t			 registered;	/* servers that have a lease */
};

static uint64_t	req_hash(const struct hnode *, void *);
static int	key_equal(const struct lease_key *, const struct lease_key *);
static struct htable *table_of(struct match *, const struct match_req *);
static struct match_req *find(const struct htable *,
		    const struct lease_key *, uint64_t);
static struct match_req *registered_server(const struct match *,
		    const struct match_req *);
static void	link_req(struct match *, struct match_req *);
static void	adopt_clients(struct match_req *, struct match_req *);
static void	unlink_req(struct match *, struct match_req *);
static void	finish(struct match *, struct match_req *,
		    const struct rdv_response *);
static void	fail(struct match *, struct match_req *, enum rdv_error);
static int	token_refused(struct match *, struct match_req *,
		    const struct lease *);
static int	endpoint_of(const struct match *, const struct match_req *,
		    struct cb_endpoint *, struct lease_local *, int *);
static int	pair_responses(const struct match *,
		    const struct match_req *, const struct match_req *,
		    struct rdv_response *, struct rdv_response *);
static void	became_ready(struct match *, struct match_req *);
static void	try_pair(struct match *, struct match_req *);
static void	serve_client(struct match *, struct match_req *);
static void	log_match(const char *, const struct rdv_response *);

struct match *
match_new(struct lease_registry *leases, struct stats *stats,
    const struct match_callbacks *cb)
{
	struct match	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return (NULL);
	m->leases = leases;
	m->stats = stats;
	m->cb = *cb;
	if (htable_init(&m->waiters, 64, req_hash, m) == -1 ||
	    htable_init(&m->servers, 64, req_hash, m) == -1) {
		match_free(m);
		return (NULL);
	}
	return (m);
}

/* Frees the tables; the sessions must have withdrawn their requests. */
void
match_free(struct match *m)
{
	if (m == NULL)
		return;
	htable_free(&m->waiters);
	htable_free(&m->servers);
	free(m);
}

/*
 * Takes a new Peer, Client or Server request.  It may be answered before
 * this returns (no such server, or an immediate match).
 */
void
match_submit(struct match *m, struct match_req *req)
{
	struct rdv_response	 resp;
	struct lease		*own;

	req->linked = 0;
	req->server = NULL;
	TAILQ_INIT(&req->clients);
	/* Each key is hashed once here, for every table it is looked up in. */
	req->self_hash = lease_key_hash(m->leases, &req->self);
	req->target_hash = req->role == MATCH_ROLE_SERVER ? 0 :
	    lease_key_hash(m->leases, &req->target);
	own = lease_lookup_hashed(m->leases, &req->self, req->self_hash);
	if (own != NULL && token_refused(m, req, own))
		return;
	req->has_lease = own != NULL;
	if (req->role == MATCH_ROLE_CLIENT) {
		req->server = registered_server(m, req);
		if (req->server == NULL) {
			memset(&resp, 0, sizeof(resp));
			resp.error = RDV_ERR_NO_SUCH_SERVER;
			m->cb.finish(req->owner, &resp);
			return;
		}
	}
	link_req(m, req);
	if (req->has_lease)
		became_ready(m, req);
	else if (req->role == MATCH_ROLE_CLIENT)
		TAILQ_INSERT_TAIL(&req->server->clients, req, client_entry);
}

/* Refreshes a registered Server's lease; -1 if req is not one. */
int
match_keepalive(struct match *m, struct match_req *req, uint64_t now_ms)
{
	if (!req->linked || req->role != MATCH_ROLE_SERVER || !req->has_lease)
		return (-1);
	return (lease_refresh(m->leases, &req->self, now_ms));
}

/* The session's udp_grace ran out before the request's lease appeared. */
void
match_udp_timeout(struct match *m, struct match_req *req)
{
	if (req->linked && !req->has_lease)
		fail(m, req, RDV_ERR_NO_UDP_REGISTRATION);
}

/* The session is going away: forget its request without answering it. */
void
match_withdraw(struct match *m, struct match_req *req)
{
	if (req->linked)
		unlink_req(m, req);
}

/* The lease registry's observer: a lease appeared or is going away. */
void
match_lease_event(struct match *m, const struct lease *l, uint64_t hash,
    enum lease_event ev)
{
	const struct lease_key	*key = lease_key(l);
	struct match_req	*waiter, *server;
	enum rdv_error		 err;

	/* Teardown: the sessions have gone, or will never be answered. */
	if (ev == LEASE_FREED)
		return;
	waiter = find(&m->waiters, key, hash);
	server = find(&m->servers, key, hash);
	switch (ev) {
	case LEASE_CREATED:
		if (server != NULL && !server->has_lease &&
		    !token_refused(m, server, l)) {
			m->cb.ready(server->owner);
			became_ready(m, server);
		}
		if (waiter != NULL && !waiter->has_lease &&
		    !token_refused(m, waiter, l)) {
			m->cb.ready(waiter->owner);
			became_ready(m, waiter);
		}
		return;
	case LEASE_EXPIRED:
	case LEASE_EVICTED:
		err = ev == LEASE_EXPIRED ? RDV_ERR_TIMEOUT : RDV_ERR_EVICTED;
		if (waiter != NULL && waiter->has_lease)
			fail(m, waiter, err);
		if (server != NULL && server->has_lease)
			fail(m, server, err);
		return;
	case LEASE_FREED:
		break;
	}
}

/* How /leases shows a lease: who, if anyone, waits on it. */
enum match_lease_state
match_state(const struct match *m, const struct lease_key *key)
{
	const struct match_req	*req;
	uint64_t		 hash = lease_key_hash(m->leases, key);

	if ((req = find(&m->servers, key, hash)) != NULL && req->has_lease)
		return (MATCH_STATE_SERVER);
	if ((req = find(&m->waiters, key, hash)) != NULL && req->has_lease)
		return (MATCH_STATE_WAITING);
	return (MATCH_STATE_IDLE);
}

size_t
match_servers(const struct match *m)
{
	return (m->registered);
}

/* Requests waiting for a partner or for UDP: all but registered servers. */
size_t
match_waiting(const struct match *m)
{
	return (m->waiters.count + m->servers.count - m->registered);
}

static uint64_t
req_hash(const struct hnode *node, void *arg)
{
	(void)arg;
	return (((const struct match_req *)(const void *)node)->self_hash);
}

static int
key_equal(const struct lease_key *a, const struct lease_key *b)
{
	return (a->peer_port == b->peer_port && cb_ip_equal(&a->ip, &b->ip));
}

static struct htable *
table_of(struct match *m, const struct match_req *req)
{
	return (req->role == MATCH_ROLE_SERVER ? &m->servers : &m->waiters);
}

/* The request linked under key, whose lease_key_hash() is hash. */
static struct match_req *
find(const struct htable *t, const struct lease_key *key, uint64_t hash)
{
	struct hnode		*node;
	struct match_req	*req;

	for (node = *htable_chain(t, hash); node != NULL;
	    node = node->next) {
		req = (struct match_req *)(void *)node;
		if (key_equal(&req->self, key))
			return (req);
	}
	return (NULL);
}

/* The Server req targets, if it is registered and has its lease. */
static struct match_req *
registered_server(const struct match *m, const struct match_req *req)
{
	struct match_req	*server;

	server = find(&m->servers, &req->target, req->target_hash);

	return (server != NULL && server->has_lease ? server : NULL);
}

/* Links req, replacing whatever request held its key in that table. */
static void
link_req(struct match *m, struct match_req *req)
{
	struct htable		*t = table_of(m, req);
	struct match_req	*old;

	if ((old = find(t, &req->self, req->self_hash)) != NULL) {
		/* Clients waiting on a replaced Server wait on its successor. */
		if (req->role == MATCH_ROLE_SERVER)
			adopt_clients(req, old);
		fail(m, old, RDV_ERR_REPLACED);
	}
	htable_insert(t, &req->node, req->self_hash);
	req->linked = 1;
}

static void
adopt_clients(struct match_req *heir, struct match_req *old)
{
	struct match_req	*client;

	while ((client = TAILQ_FIRST(&old->clients)) != NULL) {
		TAILQ_REMOVE(&old->clients, client, client_entry);
		client->server = heir;
		TAILQ_INSERT_TAIL(&heir->clients, client, client_entry);
	}
}

/*
 * Unlinks req.  A Server taking its leave fails the clients still waiting
 * for their own UDP: the server they asked for is gone.
 */
static void
unlink_req(struct match *m, struct match_req *req)
{
	struct htable		 *t = table_of(m, req);
	struct hnode		**link;
	struct match_req	 *client;

	link = htable_chain(t, req->self_hash);
	while (*link != &req->node)
		link = &(*link)->next;
	htable_unlink(t, link);
	req->linked = 0;
	if (req->role == MATCH_ROLE_SERVER) {
		if (req->has_lease)
			m->registered--;
		while ((client = TAILQ_FIRST(&req->clients)) != NULL) {
			TAILQ_REMOVE(&req->clients, client, client_entry);
			client->server = NULL;
			fail(m, client, RDV_ERR_NO_SUCH_SERVER);
		}
	} else if (req->role == MATCH_ROLE_CLIENT && req->server != NULL &&
	    !req->has_lease) {
		TAILQ_REMOVE(&req->server->clients, req, client_entry);
		req->server = NULL;
	}
}

static void
finish(struct match *m, struct match_req *req, const struct rdv_response *r)
{
	unlink_req(m, req);
	m->cb.finish(req->owner, r);
}

static void
fail(struct match *m, struct match_req *req, enum rdv_error err)
{
	struct rdv_response	resp;

	memset(&resp, 0, sizeof(resp));
	resp.error = err;
	finish(m, req, &resp);
}

/*
 * Ends req with "invalid request: token" if its own lease l has a token
 * it does not carry; returns 1 then.  req may or may not be linked.
 */
static int
token_refused(struct match *m, struct match_req *req, const struct lease *l)
{
	struct rdv_response	resp;

	if (lease_token_matches(l, &req->token))
		return (0);
	memset(&resp, 0, sizeof(resp));
	resp.error = RDV_ERR_INVALID_REQUEST;
	resp.reason = "token";
	if (req->linked)
		finish(m, req, &resp);
	else
		m->cb.finish(req->owner, &resp);
	return (1);
}

/*
 * The public endpoint of req's own lease and, if it has one (*has_local),
 * its LAN one.
 */
static int
endpoint_of(const struct match *m, const struct match_req *req,
    struct cb_endpoint *ep, struct lease_local *local, int *has_local)
{
	struct lease	*l;

	l = lease_lookup_hashed(m->leases, &req->self, req->self_hash);
	if (l == NULL)
		return (-1);
	ep->ip = req->self.ip;
	ep->port = lease_udp_port(l);
	*has_local = lease_get_local(l, local);
	return (0);
}

/*
 * The two responses of a match between a and b, each with Source its
 * receiver's own endpoint.  The LAN endpoints go in only when both sides
 * gave one (contract section 9).  -1 if a lease is missing.
 */
static int
pair_responses(const struct match *m, const struct match_req *a,
    const struct match_req *b, struct rdv_response *ra,
    struct rdv_response *rb)
{
	struct lease_local	la, lb;
	int			has_a, has_b;

	memset(ra, 0, sizeof(*ra));
	memset(rb, 0, sizeof(*rb));
	if (endpoint_of(m, a, &ra->source, &la, &has_a) == -1 ||
	    endpoint_of(m, b, &ra->dest, &lb, &has_b) == -1)
		return (-1);
	rb->source = ra->dest;
	rb->dest = ra->source;
	if (has_a && has_b) {
		ra->has_dest_local = rb->has_dest_local = 1;
		ra->dest_local.ip = lb.ip;
		ra->dest_local.port = lb.port;
		rb->dest_local.ip = la.ip;
		rb->dest_local.port = la.port;
	}
	return (0);
}

/* req's own lease exists: a Peer may pair, a Client is answered. */
static void
became_ready(struct match *m, struct match_req *req)
{
	int	was_waiting_for_udp = !req->has_lease;

	req->has_lease = 1;
	switch (req->role) {
	case MATCH_ROLE_PEER:
		try_pair(m, req);
		break;
	case MATCH_ROLE_CLIENT:
		/* Only a client that waited for UDP is on its server's list. */
		if (was_waiting_for_udp && req->server != NULL)
			TAILQ_REMOVE(&req->server->clients, req,
			    client_entry);
		serve_client(m, req);
		break;
	case MATCH_ROLE_SERVER:
		m->registered++;
		break;
	}
}

static void
try_pair(struct match *m, struct match_req *a)
{
	struct match_req	*b;
	struct rdv_response	 ra, rb;

	b = find(&m->waiters, &a->target, a->target_hash);
	if (b == NULL || b == a || b->role != MATCH_ROLE_PEER ||
	    !b->has_lease || !key_equal(&b->target, &a->self))
		return;
	if (pair_responses(m, a, b, &ra, &rb) == -1)
		return;
	stats_inc(m->stats, STAT_MATCH_PEER);
	log_match("peer", &ra);
	finish(m, a, &ra);
	finish(m, b, &rb);
}

/* Answers a Client whose lease exists and notifies its Server. */
static void
serve_client(struct match *m, struct match_req *client)
{
	struct match_req	*server;
	struct rdv_response	 rc, rs;

	server = registered_server(m, client);
	client->server = NULL;
	if (server == NULL ||
	    pair_responses(m, client, server, &rc, &rs) == -1) {
		fail(m, client, RDV_ERR_NO_SUCH_SERVER);
		return;
	}
	stats_inc(m->stats, STAT_MATCH_CLIENT);
	log_match("client", &rc);
	m->cb.notify(server->owner, &rs);
	finish(m, client, &rc);
}

static void
log_match(const char *kind, const struct rdv_response *r)
{
	char	a[CB_IP_STRLEN], b[CB_IP_STRLEN];

	if (!log_enabled(LOG_LEVEL_INFO))
		return;
	log_info("match type=%s a=%s:%u b=%s:%u", kind,
	    cb_ip_format(&r->source.ip, a), r->source.port,
	    cb_ip_format(&r->dest.ip, b), r->dest.port);
}
