/*
 * The JSON codec for what clients send: UDP registrations and TCP
 * requests, decoded into plain structs.  json-c stays inside proto.c and
 * this file knows nothing of libevent.
 */
#ifndef CB_PROTO_H
#define CB_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define PROTO_UDP_MAX		512	/* bytes in one registration datagram */
#define PROTO_REQUEST_MAX	4096	/* bytes in one TCP request object */
#define PROTO_PEER_PORT_MAX	2147483647
#define PROTO_TOKEN_MIN		16	/* bytes in an anti-hijack token */
#define PROTO_TOKEN_MAX		64

enum conn_type {
	CONN_PEER,
	CONN_SERVER,
	CONN_CLIENT,
	CONN_KEEPALIVE,
	CONN__MAX
};

/*
 * A registration.  The extensions (contract section 9) are opt-in: ack is
 * set only by "Ack": true, has_local only by a valid "LocalIP" and
 * "LocalPort" pair, token_len only by a valid "Token" (0: none).
 */
struct proto_registration {
	uint32_t	 peer_port;
	unsigned int	 ack:1;		/* "Ack": true */
	unsigned int	 has_local:1;	/* LocalIP and LocalPort given */
	uint16_t	 local_port;	/* 1..65535 */
	struct cb_ip	 local_ip;	/* the peer's address on its LAN */
	size_t		 token_len;	/* 0, or 16..64 bytes in token */
	char		 token[PROTO_TOKEN_MAX];
};

struct proto_request {
	enum conn_type	 type;
	uint32_t	 local_peer_port;
	struct cb_ip	 remote_ip;		/* Peer and Client only */
	uint32_t	 remote_peer_port;	/* Peer and Client only */
	size_t		 token_len;		/* 0: no "Token" */
	char		 token[PROTO_TOKEN_MAX];
};

/* Holds the json-c tokener that every decode reuses. */
struct proto_decoder;

struct proto_decoder *proto_decoder_new(void);
void		 proto_decoder_free(struct proto_decoder *);

int		 proto_decode_registration(struct proto_decoder *,
		    const char *, size_t, struct proto_registration *);
int		 proto_decode_request(struct proto_decoder *, const char *,
		    size_t, struct proto_request *, const char **);
size_t		 proto_decode_request_prefix(struct proto_decoder *,
		    const char *, size_t, struct proto_request *);
const char	*proto_conn_type_name(enum conn_type);

#endif /* CB_PROTO_H */
