/*
 * Rendezvous helpers for the TCP end-to-end tests, on top of harness.h:
 * register a peer over UDP, send a request over TCP, and expect exact
 * response lines.
 */
#ifndef CB_RDV_H
#define CB_RDV_H

#include <stddef.h>

#include "harness.h"

/* One simulated peer: a "public IP" and the UDP socket it registers from. */
struct rdv_peer {
	const char	*ip;		/* 127.0.0.x or ::1 */
	long long	 peer_port;
	int		 udp;		/* bound UDP socket */
	int		 udp_port;	/* its port: the expected endpoint */
	int		 tcp;		/* request connection, -1 if none */
};

void		 rdv_peer_init(struct rdv_peer *, const char *, long long);
void		 rdv_peer_close(struct rdv_peer *);
void		 rdv_register(struct rdv_peer *, const struct h_daemon *);
void		 rdv_wait_lease(const struct rdv_peer *,
		    const struct h_daemon *);
void		 rdv_send(struct rdv_peer *, const struct h_daemon *,
		    const char *);
void		 rdv_request(struct rdv_peer *, const struct h_daemon *,
		    const char *, const struct rdv_peer *);

char		*rdv_success_line(const struct rdv_peer *,
		    const struct rdv_peer *);
char		*rdv_error_line(const char *);
void		 rdv_expect_line(int, const char *, int);
void		 rdv_expect_final(struct rdv_peer *, const char *, int);
void		 rdv_expect_match(struct rdv_peer *, const struct rdv_peer *);
void		 rdv_expect_pair(struct rdv_peer *, struct rdv_peer *);
void		 rdv_match_peers(struct rdv_peer *, struct rdv_peer *,
		    const struct h_daemon *);
void		 rdv_match_fresh_pair(const struct h_daemon *, const char *,
		    const char *);
void		 rdv_expect_error(struct rdv_peer *, const char *, int);
void		 rdv_expect_silence(int, int);
void		 rdv_wait_stat(const struct h_daemon *, const char *,
		    long long);

#endif /* CB_RDV_H */
