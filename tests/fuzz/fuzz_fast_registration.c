/*
 * libFuzzer target, differential: the canonical-registration fast path
 * (src/proto_fast.c) against the json-c decoder it stands in front of.
 * Issue 7 allows the fast path only with this proof.  For every input:
 *
 *  - if the fast path accepts it, the json-c path alone (the fast path
 *    turned off) accepts it too, with the same PeerPort and Ack and no
 *    other field set: the two structs are byte for byte equal;
 *  - the daemon's decoder (fast path on) and the json-c path alone give
 *    the same verdict and the same struct, whichever path answered.
 *
 * Any difference aborts, and libFuzzer keeps the input.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_fast.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proto_decoder	*fast, *slow;
	struct proto_registration	 rf, rs, rd;
	const char			*buf = (const char *)data;
	int				 accepted, sret, dret;

	if (fast == NULL) {
		if ((fast = proto_decoder_new()) == NULL ||
		    (slow = proto_decoder_new()) == NULL)
			abort();
		proto_decoder_set_fast(slow, 0);
	}
	memset(&rf, 0xa5, sizeof(rf));
	memset(&rs, 0x5a, sizeof(rs));
	memset(&rd, 0x3c, sizeof(rd));

	accepted = proto_fast_registration(buf, size, &rf);
	sret = proto_decode_registration(slow, buf, size, &rs);
	dret = proto_decode_registration(fast, buf, size, &rd);

	if (accepted) {
		if (sret != 0 || memcmp(&rf, &rs, sizeof(rf)) != 0)
			abort();
		if (size > PROTO_UDP_MAX ||
		    rf.peer_port > PROTO_PEER_PORT_MAX || rf.has_local)
			abort();
	}
	if (dret != sret || (sret == 0 && memcmp(&rd, &rs, sizeof(rd)) != 0))
		abort();
	return (0);
}
