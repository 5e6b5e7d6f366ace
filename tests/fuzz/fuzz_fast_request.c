/*
 * libFuzzer target, differential: the canonical-request fast path
 * (src/proto_fast.c) against the json-c request decoder.  For every input:
 *
 *  - if the fast path accepts it, the json-c path alone (the fast path
 *    turned off) accepts it too, with byte for byte the same struct;
 *  - the daemon's decoder (fast path on) and the json-c path alone give
 *    the same verdict, the same reason and the same struct.
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
	struct proto_request		 rf, rs, rd;
	const char			*buf = (const char *)data;
	const char			*ws, *wd;
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

	accepted = proto_fast_request(buf, size, &rf);
	sret = proto_decode_request(slow, buf, size, &rs, &ws);
	dret = proto_decode_request(fast, buf, size, &rd, &wd);

	if (accepted && (sret != 0 || memcmp(&rf, &rs, sizeof(rf)) != 0 ||
	    size > PROTO_REQUEST_MAX))
		abort();
	if (dret != sret)
		abort();
	if (sret == 0 && (ws != NULL || wd != NULL ||
	    memcmp(&rd, &rs, sizeof(rd)) != 0))
		abort();
	if (sret != 0 && (ws == NULL || wd == NULL || strcmp(ws, wd) != 0))
		abort();
	return (0);
}
