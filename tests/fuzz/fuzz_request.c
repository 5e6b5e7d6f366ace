/*
 * libFuzzer target: the TCP request decoder on one framed object.  It
 * must return, accept only well-formed requests, and give a reason that
 * is one of its own static strings (never client bytes) on rejection.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_decoder	*dec;
	struct proto_request		 req;
	const char			*reason = NULL;

	if (dec == NULL && (dec = proto_decoder_new()) == NULL)
		abort();
	if (proto_decode_request(dec, (const char *)data, size, &req,
	    &reason) == 0) {
		if (req.type >= CONN__MAX ||
		    req.local_peer_port > PROTO_PEER_PORT_MAX ||
		    req.remote_peer_port > PROTO_PEER_PORT_MAX)
			abort();
	} else {
		/* The reason must not point into the client's bytes. */
		if (reason == NULL || (reason >= (const char *)data &&
		    reason < (const char *)data + size) ||
		    strlen(reason) > 100)
			abort();
	}
	return (0);
}
