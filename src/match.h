/*
 * The rendezvous rules: Peer pairing, Server registration, Client
 * requests and KeepAlive, and what happens to waiting sessions when a
 * lease appears or goes away.  Pure logic: it reaches the connections only
 * through the callbacks it is given, and never touches a socket.
 */
#ifndef CB_MATCH_H
#define CB_MATCH_H

#include <stddef.h>

#include "lease.h"

struct match;

enum match_lease_state {
	MATCH_STATE_IDLE,	/* nobody waits on the lease */
	MATCH_STATE_WAITING,	/* a Peer or Client request waits on it */
	MATCH_STATE_SERVER,	/* a Server is registered on it */
};

enum match_lease_state match_state(const struct match *,
		    const struct lease_key *);
size_t		 match_servers(const struct match *);
size_t		 match_waiting(const struct match *);

#endif /* CB_MATCH_H */
