/*
 * libcontainment_breach: the client side of a Containment Breach
 * rendezvous.  It registers a UDP socket with the daemon (asking for the
 * acknowledgement that tells it its public endpoint), sends the TCP
 * request, reads the answer and punches a hole to the partner from the
 * very socket it registered, which is then the application's to use.
 *
 * Two ways to drive it:
 *
 *   - libevent: cbc_new() on the caller's event_base, then cbc_start();
 *     progress and results arrive through one callback.  Server mode
 *     keeps going, punching toward every client the daemon announces.
 *   - blocking: cbc_connect() returns once the hole is punched (Peer and
 *     Client modes), then cbc_send() and cbc_recv() carry the data.
 *
 * After the punch the socket stays with the library so that it can keep
 * answering the partner's probes; datagrams that are not probes are the
 * application's (CBC_EV_DATA, or cbc_recv()).
 *
 * The probe protocol, on the punched socket (text, one datagram each):
 *   "CBP1 SYN <n>"       probe carrying the sender's nonce n
 *   "CBP1 ACK <m> <n>"   answer to a SYN or an ACK: m is the nonce being
 *                         answered, n the sender's own
 * Each side sends SYN to the partner's public endpoint (and LAN endpoint,
 * if the daemon gave one) every 150 ms.  A side that receives "SYN m"
 * answers "ACK m n".  A side that receives "ACK n m" (its own nonce
 * echoed) has proved the path both ways: it is punched, answers once with
 * "ACK m n" so that the partner is too, and uses the address the ACK came
 * from.  Nonces are 16 random hex digits.
 */
#ifndef CONTAINMENT_BREACH_H
#define CONTAINMENT_BREACH_H

#include <sys/types.h>
#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
struct cbc;

enum cbc_mode {
	CBC_PEER,		/* both sides know each other */
	CBC_CLIENT,		/* connect to a registered Server */
	CBC_SERVER,		/* accept any number of Clients */
};

struct cbc_options {
	enum cbc_mode	 mode;
	const char	*server;	/* "HOST:PORT", "[V6]:PORT" */
	uint32_t	 local_peer_port;
	const char	*remote_ip;	/* Peer and Client: the partner's IP */
	uint32_t	 remote_peer_port;
	const char	*bind;		/* "IP", "IP:PORT", "[V6]:PORT"; NULL */
	unsigned int	 timeout_ms;	/* deadline, 0: 30000; per client in
					   Server mode */
	int		 no_local;	/* do not send LocalIP/LocalPort */
	const char	*token;		/* anti-hijack token: 16 to 64
					   printable bytes, no '"' or '\\';
					   NULL: none */
};

enum cbc_event_type {
	CBC_EV_PUBLIC,		/* the daemon acknowledged: endpoint */
	CBC_EV_PARTNER,		/* the rendezvous answered: endpoint */
	CBC_EV_PUNCHED,		/* hole punched: endpoint, via, addr */
	CBC_EV_DATA,		/* a datagram: data, len, endpoint, addr */
	CBC_EV_FAILED,		/* Server mode: punching one client failed */
	CBC_EV_ERROR,		/* fatal: reason; nothing more will come */
};

/*
 * Endpoints are "IP:PORT" ("[IPv6]:PORT" for IPv6) and, like every
 * pointer here, valid only during the callback.
 */
struct cbc_event {
	enum cbc_event_type	 type;
	const char		*endpoint;
	const char		*local_endpoint;  /* PARTNER: LAN, or NULL */
	const char		*via;		/* PUNCHED: "public", "local" */
	const struct sockaddr	*addr;		/* PUNCHED, DATA */
	socklen_t		 addrlen;
	const void		*data;		/* DATA */
	size_t			 len;
	const char		*reason;	/* FAILED, ERROR */
	unsigned int		 lease_timeout;	/* PUBLIC: seconds */
};

/*
 * Peer and Client: PUBLIC, PARTNER, then PUNCHED or ERROR; DATA after.
 * Server: PUBLIC, then for every client the daemon announces PARTNER and
 * PUNCHED or FAILED, until ERROR (the daemon connection is gone).
 * cbc_free() must not be called from inside the callback.
 */
typedef void	(*cbc_callback)(void *, const struct cbc_event *);

/* libevent API. */
struct cbc	*cbc_new(struct event_base *, const struct cbc_options *,
		    cbc_callback, void *, char *, size_t);
int		 cbc_start(struct cbc *);
void		 cbc_free(struct cbc *);
int		 cbc_fd(const struct cbc *);
ssize_t		 cbc_send_to(struct cbc *, const void *, size_t,
		    const struct sockaddr *, socklen_t);

/*
 * Blocking API.  cbc_connect() returns a handle once punched (Peer or
 * Client), or NULL with the reason in err.  result (may be NULL) gets the
 * endpoints.  cbc_recv() waits up to timeout_ms (-1: forever) for one
 * datagram from anyone but a probe, answering probes meanwhile; it returns
 * its length, 0 at the deadline, -1 on error.
 */
struct cbc_result {
	char		 public_endpoint[64];	/* "" if never acknowledged */
	char		 partner_endpoint[64];
	char		 partner_local[64];	/* "" if none */
	char		 punched_endpoint[64];
	char		 via[8];
};

struct cbc	*cbc_connect(const struct cbc_options *, struct cbc_result *,
		    char *, size_t);
ssize_t		 cbc_send(struct cbc *, const void *, size_t);
ssize_t		 cbc_recv(struct cbc *, void *, size_t, int);

/* "IP:PORT" or "[IPv6]:PORT" for an address, into buf; returns buf. */
const char	*cbc_endpoint_text(const struct sockaddr *, char *, size_t);
const char	*cbc_version(void);

#ifdef __cplusplus
}
#endif

#endif /* CONTAINMENT_BREACH_H */
