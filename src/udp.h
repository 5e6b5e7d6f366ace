/*
 * UDP intake: reads registration datagrams in batches, validates them and
 * records the sender's endpoint in the lease registry.  Replies only
 * with the acknowledgement a registration asks for.
 */
#ifndef CB_UDP_H
#define CB_UDP_H

#include "net.h"

struct daemon_ctx;
struct udp_intake;

struct udp_intake *udp_intake_new(struct daemon_ctx *,
		    const struct net_sockets *);
void		 udp_intake_free(struct udp_intake *);
void		 udp_intake_set_rate(struct udp_intake *, unsigned int);

#endif /* CB_UDP_H */
