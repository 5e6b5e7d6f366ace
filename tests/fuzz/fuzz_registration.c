/*
 * libFuzzer target: the UDP registration decoder.  Whatever the bytes,
 * it must return, never read out of bounds, and accept only PeerPorts in
 * range.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "proto.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_decoder	*dec;
	struct proto_registration	 reg;

	if (dec == NULL && (dec = proto_decoder_new()) == NULL)
		abort();
	if (proto_decode_registration(dec, (const char *)data, size,
	    &reg) == 0) {
		if (size > PROTO_UDP_MAX || reg.peer_port > PROTO_PEER_PORT_MAX)
			abort();
	}
	return (0);
}
