/*
 * The admin HTTP API (evhttp): /healthz, /stats, /leases and
 * /leases/IP/PEERPORT.  Loopback only by default.
 */
#ifndef CB_ADMIN_H
#define CB_ADMIN_H

#include <sys/socket.h>

struct daemon_ctx;
struct admin;

struct admin	*admin_new(struct daemon_ctx *, const struct sockaddr *,
		    socklen_t);
void		 admin_free(struct admin *);

#endif /* CB_ADMIN_H */
