/*
 * The lease registry: (public IP, PeerPort) -> the peer's public UDP
 * endpoint, each entry expiring lease_timeout after its last refresh.
 *
 * It knows nothing of sockets or JSON.  Whoever needs to hear about a
 * lease appearing or going away (the TCP sessions waiting on it) passes
 * an observer when the registry is made.
 */
#ifndef CB_LEASE_H
#define CB_LEASE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct event_base;

struct lease_key {
	struct cb_ip	 ip;		/* public IP: the source address seen */
	uint32_t	 peer_port;	/* the peer's PeerPort, 0..INT32_MAX */
};

struct lease;
struct lease_registry;

enum lease_event {
	LEASE_CREATED,		/* a registration made a new lease */
	LEASE_EXPIRED,		/* its time ran out; freed after the call */
	LEASE_EVICTED,		/* an operator removed it; freed after */
	LEASE_FREED,		/* the registry is being torn down */
};

/*
 * Told of every lease created or about to be freed, with the hash of its
 * key (lease_key_hash()), which the observer's own tables may reuse.
 */
typedef void	(*lease_observer)(void *, const struct lease *, uint64_t,
		    enum lease_event);

enum lease_upsert_result {
	LEASE_UPSERT_CREATED,
	LEASE_UPSERT_REFRESHED,
	LEASE_UPSERT_FULL,	/* max_leases or max_leases_per_ip reached */
	LEASE_UPSERT_NOMEM,
	LEASE_UPSERT_TOKEN_MISMATCH,	/* the lease has another token */
};

/*
 * An anti-hijack token as the registry keeps it: a keyed hash, never the
 * bytes.  set is 0 when no token was given.
 */
struct lease_token {
	uint64_t	 hash;
	int		 set;
};

struct lease_registry *lease_registry_new(struct event_base *,
		    unsigned int ttl_s, lease_observer, void *);
void		 lease_registry_free(struct lease_registry *);
void		 lease_registry_set_ttl(struct lease_registry *, unsigned int);
void		 lease_registry_set_max(struct lease_registry *, size_t);
void		 lease_registry_set_max_per_ip(struct lease_registry *,
		    size_t);
void		 lease_token_make(const struct lease_registry *, const char *,
		    size_t, struct lease_token *);
int		 lease_token_matches(const struct lease *,
		    const struct lease_token *);

/* A peer's own address on its LAN, as its registration gave it. */
struct lease_local {
	struct cb_ip	 ip;
	uint16_t	 port;
};

enum lease_upsert_result lease_upsert(struct lease_registry *,
		    const struct lease_key *, uint16_t, uint64_t);
enum lease_upsert_result lease_upsert_local(struct lease_registry *,
		    const struct lease_key *, uint16_t,
		    const struct lease_local *, uint64_t);
enum lease_upsert_result lease_upsert_token(struct lease_registry *,
		    const struct lease_key *, uint16_t,
		    const struct lease_local *, const struct lease_token *,
		    uint64_t);
struct lease	*lease_lookup(struct lease_registry *,
		    const struct lease_key *);
struct lease	*lease_lookup_hashed(struct lease_registry *,
		    const struct lease_key *, uint64_t);
uint64_t	 lease_key_hash(const struct lease_registry *,
		    const struct lease_key *);
int		 lease_refresh(struct lease_registry *,
		    const struct lease_key *, uint64_t);
int		 lease_evict(struct lease_registry *,
		    const struct lease_key *);
size_t		 lease_count(const struct lease_registry *);
size_t		 lease_count_ip(const struct lease_registry *,
		    const struct cb_ip *);
int		 lease_expire_due(struct lease_registry *, uint64_t);

/*
 * Resumable walk over every lease, a few buckets at a time, so a listing of
 * a million leases never holds the event loop.  Start with cursor 0; each
 * call visits up to max_buckets buckets and returns the cursor to resume
 * from, 0 when done.  Leases present for the whole walk are seen exactly
 * once, even if the table grows in between.
 */
typedef void	(*lease_visit)(void *, const struct lease *);
uint64_t	 lease_scan(const struct lease_registry *, uint64_t, size_t,
		    lease_visit, void *);

const struct lease_key *lease_key(const struct lease *);
uint16_t	 lease_udp_port(const struct lease *);
uint64_t	 lease_created_ms(const struct lease *);
uint64_t	 lease_expires_ms(const struct lease *);
int		 lease_get_local(const struct lease *, struct lease_local *);

#endif /* CB_LEASE_H */
