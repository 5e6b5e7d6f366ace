/*
 * The admin HTTP API (evhttp): /healthz, /stats, /metrics, /leases and
 * /leases/IP/PEERPORT (GET and DELETE).  Loopback only by default, and
 * behind a bearer token when one is configured.
 *
 * admin.c owns the listener, the route table and the small replies;
 * admin_leases.c owns /leases, whose listing is streamed in bounded chunks.
 */
#ifndef CB_ADMIN_H
#define CB_ADMIN_H

#include <sys/socket.h>

struct daemon_ctx;
struct admin;
struct admin_leases;
struct evbuffer;
struct evhttp_request;

struct admin	*admin_new(struct daemon_ctx *, const struct sockaddr *,
		    socklen_t);
void		 admin_free(struct admin *);

/* Shared by admin.c and admin_leases.c. */
#define ADMIN_JSON	"application/json"

void		 admin_reply(struct evhttp_request *, int, const char *,
		    struct evbuffer *);
void		 admin_reply_error(struct evhttp_request *, int,
		    const char *);

struct admin_leases *admin_leases_new(struct daemon_ctx *);
void		 admin_leases_free(struct admin_leases *);
void		 admin_leases_list(struct admin_leases *,
		    struct evhttp_request *);
void		 admin_leases_get(struct admin_leases *,
		    struct evhttp_request *, const char *);
void		 admin_leases_delete(struct admin_leases *,
		    struct evhttp_request *, const char *);

#endif /* CB_ADMIN_H */
