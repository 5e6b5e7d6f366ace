/*
 * The rendezvous rules: Peer pairing, Server registration, Client
 * requests and KeepAlive, and what happens to waiting requests when a
 * lease appears or goes away.  Pure logic: it reaches the connections only
 * through the callbacks it is given, and never touches a socket.
 */
#ifndef CB_MATCH_H
#define CB_MATCH_H

#include <sys/queue.h>

#include <stddef.h>

#include "htable.h"
#include "lease.h"
#include "response.h"
#include "stats.h"

struct match;

enum match_role {
	MATCH_ROLE_PEER,
	MATCH_ROLE_CLIENT,
	MATCH_ROLE_SERVER,
};

/*
 * One request the match holds: embedded in its session, linked into the
 * match's tables while it waits or serves.  The session fills self,
 * target, role, token and owner; the rest is the match's.
 */
struct match_req {
	struct hnode		 node;		/* in waiters or servers */
	struct lease_key	 self;		/* (connection IP, LocalPeerPort) */
	struct lease_key	 target;	/* Peer and Client only */
	uint64_t		 self_hash;	/* lease_key_hash()es, set */
	uint64_t		 target_hash;	/* by match_submit() */
	enum match_role		 role;
	struct lease_token	 token;		/* must match self's lease's */
	void			*owner;		/* handed back in callbacks */
	unsigned int		 linked:1;	/* in a table */
	unsigned int		 has_lease:1;	/* its own lease exists */
	struct match_req	*server;	/* Client: the server it waits on */
	TAILQ_ENTRY(match_req)	 client_entry;	/* in server->clients */
	TAILQ_HEAD(, match_req)	 clients;	/* Server: clients awaiting UDP */
};

/*
 * What the match tells the sessions.  finish: the request is over (the
 * response carries success or an error) and it is no longer linked.
 * notify: a client matched this Server; it stays registered.  ready: the
 * request's own lease appeared, so its wait for UDP is over.  None of
 * them may call back into the match except match_withdraw().
 */
struct match_callbacks {
	void	(*finish)(void *, const struct rdv_response *);
	void	(*notify)(void *, const struct rdv_response *);
	void	(*ready)(void *);
};

enum match_lease_state {
	MATCH_STATE_IDLE,	/* nobody waits on the lease */
	MATCH_STATE_WAITING,	/* a Peer or Client request waits on it */
	MATCH_STATE_SERVER,	/* a Server is registered on it */
};

struct match	*match_new(struct lease_registry *, struct stats *,
		    const struct match_callbacks *);
void		 match_free(struct match *);

void		 match_submit(struct match *, struct match_req *);
int		 match_keepalive(struct match *, struct match_req *, uint64_t);
void		 match_udp_timeout(struct match *, struct match_req *);
void		 match_withdraw(struct match *, struct match_req *);
void		 match_lease_event(struct match *, const struct lease *,
		    uint64_t, enum lease_event);

enum match_lease_state match_state(const struct match *,
		    const struct lease_key *);
size_t		 match_servers(const struct match *);
size_t		 match_waiting(const struct match *);

#endif /* CB_MATCH_H */
