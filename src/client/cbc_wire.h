/*
 * libcontainment_breach internals: what goes on the wire.  Addresses as
 * text, the registration datagram, the daemon's acknowledgement and
 * response lines, the TCP requests and the probe datagrams.  No I/O.
 */
#ifndef CBC_WIRE_H
#define CBC_WIRE_H

#include <sys/socket.h>

#include <stddef.h>
#include <stdint.h>

#define CBC_REG_PAD	128	/* registrations are padded to this */
#define CBC_LINE_MAX	1024	/* longest response line accepted */
#define CBC_ENDPOINT_MAX 64	/* "[IPv6]:PORT" and its NUL */
#define CBC_NONCE_LEN	16	/* hex digits */
#define CBC_TOKEN_MIN	16	/* bytes in an anti-hijack token */
#define CBC_TOKEN_MAX	64

struct cbc_ack {
	uint32_t	 peer_port;
	char		 ip[48];
	uint16_t	 port;
	unsigned int	 lease_timeout;
};

struct cbc_response {
	char		 source_ip[48];
	uint16_t	 source_port;
	char		 dest_ip[48];
	uint16_t	 dest_port;
	char		 error[256];
	int		 has_local;
	char		 local_ip[48];
	uint16_t	 local_port;
};

enum cbc_probe_type {
	CBC_PROBE_NONE,		/* not a probe */
	CBC_PROBE_SYN,
	CBC_PROBE_ACK,
};

struct cbc_probe {
	enum cbc_probe_type type;
	char		 echo[CBC_NONCE_LEN + 1]; /* ACK: nonce answered */
	char		 nonce[CBC_NONCE_LEN + 1];	/* the sender's */
};

int		 cbc_parse_hostport(const char *, int, char *, size_t,
		    char *, size_t);
int		 cbc_sockaddr_from(const char *, uint16_t, int,
		    struct sockaddr_storage *, socklen_t *);
const char	*cbc_format_endpoint(const struct sockaddr *, char *, size_t);
int		 cbc_sockaddr_equal(const struct sockaddr *,
		    const struct sockaddr *);
int		 cbc_token_valid(const char *);
int		 cbc_registration(char *, size_t, uint32_t,
		    const struct sockaddr *, const char *);
int		 cbc_request(char *, size_t, const char *, uint32_t,
		    const char *, uint32_t, const char *);
int		 cbc_parse_ack(const char *, size_t, struct cbc_ack *);
int		 cbc_parse_response(const char *, struct cbc_response *);
int		 cbc_probe_format(char *, size_t, enum cbc_probe_type,
		    const char *, const char *);
int		 cbc_probe_parse(const void *, size_t, struct cbc_probe *);
void		 cbc_nonce(char [CBC_NONCE_LEN + 1]);

#endif /* CBC_WIRE_H */
