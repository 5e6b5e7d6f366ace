/*
 * Socket set-up shared by the UDP intake and the TCP listener: one port,
 * bound on the configured address or dual stack on every address.
 */
#ifndef CB_NET_H
#define CB_NET_H

#include <sys/socket.h>

#define NET_MAX_SOCKETS	2

struct net_sockets {
	int		 fds[NET_MAX_SOCKETS];
	int		 count;
};

int		 net_bind_port(const struct sockaddr *, socklen_t, int, int,
		    struct net_sockets *);
void		 net_close(struct net_sockets *);
int		 net_wildcard_family(int);
const char	*net_sockaddr_format(const struct sockaddr *, char *, size_t);

#endif /* CB_NET_H */
