/*
 * The TCP side: the listener on the rendezvous port and one session per
 * connection, from framing the request stream to the lingering close.
 */
#ifndef CB_SESSION_H
#define CB_SESSION_H

#include <stddef.h>

#include <event2/util.h>

#include "net.h"

struct daemon_ctx;
struct tcp_server;

struct tcp_server *tcp_server_new(struct daemon_ctx *,
		    const struct net_sockets *);
void		 tcp_server_free(struct tcp_server *);
void		 tcp_server_shutdown(struct tcp_server *, void (*)(void *),
		    void *);
void		 tcp_server_adopt(struct tcp_server *, evutil_socket_t,
		    const struct sockaddr *);
void		 tcp_server_set_udp_grace(struct tcp_server *, unsigned int);
void		 tcp_server_set_limits(struct tcp_server *, unsigned int,
		    unsigned int);
size_t		 tcp_server_max_connections(const struct tcp_server *);
size_t		 tcp_server_connections(const struct tcp_server *);
const struct match_callbacks *tcp_server_match_callbacks(void);

#endif /* CB_SESSION_H */
