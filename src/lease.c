/*
 * The lease registry.
 *
 * Leases live in a hash table keyed by (public IP, PeerPort) and, at the
 * same time, in a deadline queue (deadline.h): every lease of one duration
 * expires in the order it was last refreshed, so a refresh moves it to
 * the tail in O(1) and one libevent timer per queue, armed for the head,
 * is the only timer the registry holds.  A lease is 64 bytes and carries
 * no event of its own, which is what keeps a million idle leases cheap.
 *
 * A registration may also carry the peer's LAN endpoint.  Few leases have
 * one, and a pointer to a side record would cost every lease 8 bytes, so
 * the endpoint is stored after the struct, in the same allocation: 6 bytes
 * for IPv4, which malloc's 16-byte size classes absorb (a 70-byte request
 * takes the same 80-byte chunk as the bare 64), 18 for IPv6.  A
 * registration that adds, drops or changes the family of the endpoint
 * reallocates the lease; nothing outside this file keeps a lease pointer
 * across calls, and the hash chain and the queue are relinked here.
 *
 * A lease created with an anti-hijack token (contract section 9) keeps a
 * 64-bit SipHash of it, keyed with a random key of the registry's own, in
 * the same tail, before the LAN endpoint: 8 bytes that malloc's size
 * classes absorb as well (72 bytes take the 80-byte chunk), and nothing
 * at all for the leases without one.  The token is fixed at creation, so
 * it never moves; only the LAN endpoint after it is resized.  The hash is
 * keyed so that it is a secret function: nobody can compute it offline,
 * so the only way to match a stored hash without the token is to guess
 * online, one datagram per 2^-64 chance, and a hash seen in a core dump
 * is useless after a restart.  The token bytes themselves are never kept.
 *
 * A queue holds one duration.  When SIGHUP changes lease_timeout, new and
 * refreshed leases go to a queue of the new duration and the old queue
 * drains by itself.
 */
#include "autoconf.h"

#include <sys/queue.h>

#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "htable.h"
#include "lease.h"
#include "siphash.h"

#define LEASE_QUEUES		8	/* distinct durations alive at once */
#define LEASE_EXPIRE_BUDGET	4096	/* expiries per timer callback */

struct lease {
	struct hnode		 node;		/* hash chain; first member */
	struct deadline		 expiry;	/* in reg->queues[queue] */
	struct lease_key	 key;
	uint16_t		 udp_port;	/* newest registration's port */
	uint8_t			 queue;		/* index in reg->queues */
	uint8_t			 local_len:5;	/* LAN endpoint bytes in tail */
	uint8_t			 has_token:1;	/* tail starts with its hash */
	uint64_t		 created_ms;
	unsigned char		 tail[];	/* token hash, then LAN port
						   (host order) and IP */
};

_Static_assert(sizeof(struct lease) == 64, "a lease is one cache line");

/* The lease whose expiry d is. */
#define LEASE_OF(d)	DEADLINE_OWNER(d, struct lease, expiry)

#define LEASE_LOCAL_V4	(2 + 4)
#define LEASE_LOCAL_V6	(2 + 16)
#define LEASE_TOKEN_LEN	8
#define LEASE_TOKEN_OFF(l)	((l)->has_token ? LEASE_TOKEN_LEN : 0)

/* How many leases one public IP holds; for quotas and ?ip= totals. */
struct ip_count {
	struct hnode		 node;
	struct cb_ip		 ip;
	uint32_t		 count;
};

struct lease_registry {
	struct event_base	*base;
	struct htable		 table;		/* struct lease by key */
	struct htable		 ips;		/* struct ip_count by IP */
	struct siphash_key	 hash_key;
	struct siphash_key	 token_key;	/* for token hashes only */
	unsigned int		 ttl_s;
	size_t			 max;		/* 0: no limit */
	size_t			 max_per_ip;	/* 0: no limit */
	struct deadline_queue	 queues[LEASE_QUEUES]; /* by duration */
	lease_observer		 observer;
	void			*observer_arg;
};

static uint64_t	lease_node_hash(const struct hnode *, void *);
static uint64_t	ip_hash(const struct lease_registry *, const struct cb_ip *);
static uint64_t	ip_node_hash(const struct hnode *, void *);
static struct hnode **lease_find(const struct lease_registry *,
		    const struct lease_key *, uint64_t);
static struct hnode **ip_find(const struct lease_registry *,
		    const struct cb_ip *);
static int	ip_count_add(struct lease_registry *, const struct cb_ip *);
static void	ip_count_remove(struct lease_registry *, const struct cb_ip *);
static void	queue_append(struct lease_registry *, struct lease *,
		    uint64_t);
static void	queue_remove(struct lease_registry *, struct lease *);
static void	lease_expired(struct deadline *, void *);
static void	lease_destroy(struct lease_registry *, struct lease *,
		    enum lease_event);
static size_t	local_len(const struct lease_local *);
static struct lease *local_resize(struct lease *, struct hnode **, size_t);
static void	local_store(struct lease *, const struct lease_local *);

struct lease_registry *
lease_registry_new(struct event_base *base, unsigned int ttl_s,
    lease_observer observer, void *arg)
{
	struct lease_registry	*reg;
	int			 i;

	if ((reg = calloc(1, sizeof(*reg))) == NULL)
		return (NULL);
	reg->base = base;
	reg->ttl_s = ttl_s;
	reg->observer = observer;
	reg->observer_arg = arg;
	siphash_key_random(&reg->hash_key);
	siphash_key_random(&reg->token_key);
	if (htable_init(&reg->table, 1024, lease_node_hash, reg) == -1 ||
	    htable_init(&reg->ips, 64, ip_node_hash, reg) == -1)
		goto fail;
	for (i = 0; i < LEASE_QUEUES; i++) {
		if (deadline_queue_init(&reg->queues[i], base,
		    (uint64_t)ttl_s * 1000, LEASE_EXPIRE_BUDGET, lease_expired,
		    reg) == -1)
			goto fail;
	}
	return (reg);
fail:
	lease_registry_free(reg);
	return (NULL);
}

/* Frees every lease, telling the observer of each (LEASE_FREED). */
void
lease_registry_free(struct lease_registry *reg)
{
	struct deadline_queue	*q;
	struct deadline		*d;
	int			 i;

	if (reg == NULL)
		return;
	for (i = 0; i < LEASE_QUEUES; i++) {
		q = &reg->queues[i];
		while ((d = TAILQ_FIRST(&q->entries)) != NULL)
			lease_destroy(reg, LEASE_OF(d), LEASE_FREED);
		deadline_queue_free(q);
	}
	htable_free(&reg->table);
	htable_free(&reg->ips);
	free(reg);
}

/* Sets the duration of leases created or refreshed from now on. */
void
lease_registry_set_ttl(struct lease_registry *reg, unsigned int ttl_s)
{
	reg->ttl_s = ttl_s;
}

/* Sets the most leases held, and for one IP; 0 is no limit. */
void
lease_registry_set_max(struct lease_registry *reg, size_t max)
{
	reg->max = max;
}

void
lease_registry_set_max_per_ip(struct lease_registry *reg, size_t max)
{
	reg->max_per_ip = max;
}

/* Hashes a token as leases keep it. */
void
lease_token_make(const struct lease_registry *reg, const char *token,
    size_t len, struct lease_token *out)
{
	out->hash = siphash24(&reg->token_key, token, len);
	out->set = 1;
}

/* Whether a token may act on the lease: it has none, or this one. */
int
lease_token_matches(const struct lease *l, const struct lease_token *token)
{
	uint64_t	hash;

	if (!l->has_token)
		return (1);
	if (token == NULL || !token->set)
		return (0);
	memcpy(&hash, l->tail, sizeof(hash));
	return (hash == token->hash);
}

/* Records a registration that carries no LAN endpoint. */
enum lease_upsert_result
lease_upsert(struct lease_registry *reg, const struct lease_key *key,
    uint16_t udp_port, uint64_t now_ms)
{
	return (lease_upsert_local(reg, key, udp_port, NULL, now_ms));
}

/* Records a registration that carries no token. */
enum lease_upsert_result
lease_upsert_local(struct lease_registry *reg, const struct lease_key *key,
    uint16_t udp_port, const struct lease_local *local, uint64_t now_ms)
{
	return (lease_upsert_token(reg, key, udp_port, local, NULL, now_ms));
}

/*
 * Records a registration: creates the lease or refreshes it, moving its
 * endpoint to the port the newest datagram came from (a NAT may remap)
 * and its LAN endpoint to the one the datagram gave (NULL: none).  A
 * lease made with a token moves only for the same token; the token of a
 * registration refreshing a lease made without one is ignored.
 */
enum lease_upsert_result
lease_upsert_token(struct lease_registry *reg, const struct lease_key *key,
    uint16_t udp_port, const struct lease_local *local,
    const struct lease_token *token, uint64_t now_ms)
{
	struct hnode	**link;
	struct lease	 *l, *nl;
	size_t		  len = local_len(local), tlen;
	uint64_t	  hash = lease_key_hash(reg, key);

	if ((link = lease_find(reg, key, hash)) != NULL) {
		l = (struct lease *)(void *)*link;
		if (!lease_token_matches(l, token))
			return (LEASE_UPSERT_TOKEN_MISMATCH);
		queue_remove(reg, l);
		if (l->local_len != len) {
			if ((nl = local_resize(l, link, len)) != NULL)
				l = nl;
			else	/* Shrink in place, or forget it. */
				l->local_len = len < l->local_len ?
				    (uint8_t)len : 0;
		}
		if (l->local_len == len)
			local_store(l, local);
		l->udp_port = udp_port;
		queue_append(reg, l, now_ms);
		return (LEASE_UPSERT_REFRESHED);
	}
	if ((reg->max != 0 && reg->table.count >= reg->max) ||
	    (reg->max_per_ip != 0 &&
	    lease_count_ip(reg, &key->ip) >= reg->max_per_ip))
		return (LEASE_UPSERT_FULL);
	tlen = token != NULL && token->set ? LEASE_TOKEN_LEN : 0;
	if ((l = malloc(sizeof(*l) + tlen + len)) == NULL)
		return (LEASE_UPSERT_NOMEM);
	if (ip_count_add(reg, &key->ip) == -1) {
		free(l);
		return (LEASE_UPSERT_NOMEM);
	}
	l->key = *key;
	l->udp_port = udp_port;
	l->has_token = tlen != 0;
	if (tlen != 0)
		memcpy(l->tail, &token->hash, LEASE_TOKEN_LEN);
	l->local_len = (uint8_t)len;
	local_store(l, local);
	l->created_ms = now_ms;
	htable_insert(&reg->table, &l->node, hash);
	queue_append(reg, l, now_ms);
	if (reg->observer != NULL)
		reg->observer(reg->observer_arg, l, hash, LEASE_CREATED);
	return (LEASE_UPSERT_CREATED);
}

struct lease *
lease_lookup(struct lease_registry *reg, const struct lease_key *key)
{
	return (lease_lookup_hashed(reg, key, lease_key_hash(reg, key)));
}

/* lease_lookup() for a caller that has the key's hash already. */
struct lease *
lease_lookup_hashed(struct lease_registry *reg, const struct lease_key *key,
    uint64_t hash)
{
	struct hnode	**link;

	link = lease_find(reg, key, hash);
	return (link == NULL ? NULL : (struct lease *)(void *)*link);
}

/* Restarts a lease's time without touching its endpoint (KeepAlive). */
int
lease_refresh(struct lease_registry *reg, const struct lease_key *key,
    uint64_t now_ms)
{
	struct lease	*l;

	if ((l = lease_lookup(reg, key)) == NULL)
		return (-1);
	queue_remove(reg, l);
	queue_append(reg, l, now_ms);
	return (0);
}

/* Removes a lease on an operator's word; the observer hears LEASE_EVICTED. */
int
lease_evict(struct lease_registry *reg, const struct lease_key *key)
{
	struct lease	*l;

	if ((l = lease_lookup(reg, key)) == NULL)
		return (-1);
	lease_destroy(reg, l, LEASE_EVICTED);
	return (0);
}

size_t
lease_count(const struct lease_registry *reg)
{
	return (reg->table.count);
}

size_t
lease_count_ip(const struct lease_registry *reg, const struct cb_ip *ip)
{
	struct hnode	**link;

	if ((link = ip_find(reg, ip)) == NULL)
		return (0);
	return (((struct ip_count *)(void *)*link)->count);
}

/*
 * Expires every lease due at now_ms, whatever the timers say; returns how
 * many went.  The timers call the same code; tests call this directly.
 */
int
lease_expire_due(struct lease_registry *reg, uint64_t now_ms)
{
	int	i, n = 0;

	for (i = 0; i < LEASE_QUEUES; i++)
		n += (int)deadline_fire_due(&reg->queues[i], now_ms, SIZE_MAX);
	return (n);
}

struct lease_scan_ctx {
	lease_visit	 visit;
	void		*arg;
};

static void
lease_scan_visit(void *arg, struct hnode *node)
{
	struct lease_scan_ctx	*ctx = arg;

	ctx->visit(ctx->arg, (const struct lease *)(void *)node);
}

uint64_t
lease_scan(const struct lease_registry *reg, uint64_t cursor,
    size_t max_buckets, lease_visit visit, void *arg)
{
	struct lease_scan_ctx	ctx = { visit, arg };

	return (htable_scan(&reg->table, cursor, max_buckets,
	    lease_scan_visit, &ctx));
}

const struct lease_key *
lease_key(const struct lease *l)
{
	return (&l->key);
}

uint16_t
lease_udp_port(const struct lease *l)
{
	return (l->udp_port);
}

uint64_t
lease_created_ms(const struct lease *l)
{
	return (l->created_ms);
}

uint64_t
lease_expires_ms(const struct lease *l)
{
	return (l->expiry.due_ms);
}

/* The lease's LAN endpoint: 1 and *out if it has one, else 0. */
int
lease_get_local(const struct lease *l, struct lease_local *out)
{
	uint16_t	port;

	if (l->local_len == 0)
		return (0);
	memcpy(&port, l->tail + LEASE_TOKEN_OFF(l), sizeof(port));
	out->port = port;
	if (l->local_len == LEASE_LOCAL_V6)
		memcpy(out->ip.bytes, l->tail + LEASE_TOKEN_OFF(l) + 2, 16);
	else {
		/* cb_ip_parse() gives IPv4 in the mapped form: rebuild it. */
		memset(out->ip.bytes, 0, 10);
		out->ip.bytes[10] = out->ip.bytes[11] = 0xff;
		memcpy(out->ip.bytes + 12, l->tail + LEASE_TOKEN_OFF(l) + 2,
		    4);
	}
	return (1);
}

/* The bytes a LAN endpoint takes after the lease. */
static size_t
local_len(const struct lease_local *local)
{
	if (local == NULL)
		return (0);
	return (cb_ip_is_v4(&local->ip) ? LEASE_LOCAL_V4 : LEASE_LOCAL_V6);
}

/*
 * Reallocates a lease, already out of its queue, for len bytes of LAN
 * endpoint, and relinks its hash chain.  NULL if memory is short; the old
 * lease is then intact, and keeps its old endpoint.
 */
static struct lease *
local_resize(struct lease *l, struct hnode **link, size_t len)
{
	struct lease	*nl;

	if ((nl = realloc(l, sizeof(*l) + LEASE_TOKEN_OFF(l) + len)) == NULL)
		return (NULL);
	*link = &nl->node;
	nl->local_len = (uint8_t)len;
	return (nl);
}

/* Writes the LAN endpoint into room of the right size. */
static void
local_store(struct lease *l, const struct lease_local *local)
{
	unsigned char	*p = l->tail + LEASE_TOKEN_OFF(l);

	if (local == NULL)
		return;
	memcpy(p, &local->port, sizeof(local->port));
	if (l->local_len == LEASE_LOCAL_V4)
		memcpy(p + 2, local->ip.bytes + 12, 4);
	else
		memcpy(p + 2, local->ip.bytes, 16);
}

/*
 * The hash of a key in the registry's table.  The match keys its own
 * tables with it too, so that a request hashes its keys once.
 */
uint64_t
lease_key_hash(const struct lease_registry *reg, const struct lease_key *key)
{
	return (siphash13(&reg->hash_key, key, sizeof(*key)));
}

static uint64_t
lease_node_hash(const struct hnode *node, void *arg)
{
	const struct lease	*l = (const struct lease *)(const void *)node;

	return (lease_key_hash(arg, &l->key));
}

static uint64_t
ip_hash(const struct lease_registry *reg, const struct cb_ip *ip)
{
	return (siphash13(&reg->hash_key, ip, sizeof(*ip)));
}

static uint64_t
ip_node_hash(const struct hnode *node, void *arg)
{
	const struct ip_count	*c = (const struct ip_count *)(const void *)node;

	return (ip_hash(arg, &c->ip));
}

/* Returns the link pointing at the lease, for O(1) unlinking, or NULL. */
static struct hnode **
lease_find(const struct lease_registry *reg, const struct lease_key *key,
    uint64_t hash)
{
	struct hnode	**link;
	struct lease	 *l;

	link = htable_chain(&reg->table, hash);
	for (; *link != NULL; link = &(*link)->next) {
		l = (struct lease *)(void *)*link;
		if (l->key.peer_port == key->peer_port &&
		    cb_ip_equal(&l->key.ip, &key->ip))
			return (link);
	}
	return (NULL);
}

static struct hnode **
ip_find(const struct lease_registry *reg, const struct cb_ip *ip)
{
	struct hnode	**link;

	link = htable_chain(&reg->ips, ip_hash(reg, ip));
	for (; *link != NULL; link = &(*link)->next) {
		if (cb_ip_equal(&((struct ip_count *)(void *)*link)->ip, ip))
			return (link);
	}
	return (NULL);
}

static int
ip_count_add(struct lease_registry *reg, const struct cb_ip *ip)
{
	struct hnode	**link;
	struct ip_count	 *c;

	if ((link = ip_find(reg, ip)) != NULL) {
		((struct ip_count *)(void *)*link)->count++;
		return (0);
	}
	if ((c = malloc(sizeof(*c))) == NULL)
		return (-1);
	c->ip = *ip;
	c->count = 1;
	htable_insert(&reg->ips, &c->node, ip_hash(reg, ip));
	return (0);
}

static void
ip_count_remove(struct lease_registry *reg, const struct cb_ip *ip)
{
	struct hnode	**link;
	struct ip_count	 *c;

	if ((link = ip_find(reg, ip)) == NULL)
		return;
	c = (struct ip_count *)(void *)*link;
	if (--c->count == 0) {
		htable_unlink(&reg->ips, link);
		free(c);
	}
}

/*
 * Arms the lease's expiry in the queue of the current duration.  With as
 * many durations still draining as there are queues (eight reloads
 * within one lease lifetime), a lease may expire a little late, never
 * early (deadline_queue_pick()).
 */
static void
queue_append(struct lease_registry *reg, struct lease *l, uint64_t now_ms)
{
	struct deadline_queue	*q;

	q = deadline_queue_pick(reg->queues, LEASE_QUEUES,
	    (uint64_t)reg->ttl_s * 1000);
	l->queue = (uint8_t)(q - reg->queues);
	deadline_arm(q, &l->expiry, now_ms);
}

static void
queue_remove(struct lease_registry *reg, struct lease *l)
{
	deadline_disarm(&reg->queues[l->queue], &l->expiry);
}

/* A queue's timer found the lease due. */
static void
lease_expired(struct deadline *d, void *arg)
{
	lease_destroy(arg, LEASE_OF(d), LEASE_EXPIRED);
}

/* Tells the observer, then unlinks and frees a lease. */
static void
lease_destroy(struct lease_registry *reg, struct lease *l,
    enum lease_event why)
{
	uint64_t	hash = lease_key_hash(reg, &l->key);

	if (reg->observer != NULL)
		reg->observer(reg->observer_arg, l, hash, why);
	/* The observer may not change the registry: l is still linked. */
	htable_unlink(&reg->table, lease_find(reg, &l->key, hash));
	queue_remove(reg, l);
	ip_count_remove(reg, &l->key.ip);
	free(l);
}
