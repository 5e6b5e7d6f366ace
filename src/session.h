/*
 * The TCP side: the listener on the rendezvous port and one session per
 * connection, from framing the request stream to the lingering close.
 */
#ifndef CB_SESSION_H
#define CB_SESSION_H

#include <stddef.h>

#include "net.h"

struct daemon_ctx;
struct tcp_server;

size_t		 tcp_server_connections(const struct tcp_server *);

#endif /* CB_SESSION_H */
