/*
 * libFuzzer target, differential: the canonical-request fast path
 * (src/proto_fast.c) against the json-c request decoder.  For every input:
 *
 *  - if the fast path accepts it, the json-c path alone (the fast path
 *    turned off) accepts it too, with byte for byte the same struct;
 *  - the daemon's decoder (fast path on) and the json-c path alone give
 *    the same verdict, the same reason and the same struct;
 *  - if the stream form (proto_fast_request_prefix) takes n bytes off the
 *    front, the framer ends its frame at byte n too, and the json-c path
 *    alone decodes that frame to the same struct: a session skipping the
 *    framer for it changes nothing.
 *
 * Any difference aborts, and libFuzzer keeps the input.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "proto.h"
#include "proto_fast.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
static void	check_prefix(struct proto_decoder *, const char *, size_t);

/* The stream form agrees with the framer and the json-c path. */
static void
check_prefix(struct proto_decoder *slow, const char *buf, size_t size)
{
	struct proto_request	 rp, rs;
	struct framer		 f;
	enum framer_status	 st;
	const char		*why;
	size_t			 n;

	memset(&rp, 0xa5, sizeof(rp));
	memset(&rs, 0x5a, sizeof(rs));
	if ((n = proto_fast_request_prefix(buf, size, &rp)) == 0)
		return;
	framer_init(&f, PROTO_REQUEST_MAX);
	if (framer_feed(&f, buf, size, &st) != n || st != FRAMER_COMPLETE ||
	    f.skipped + f.length != n)
		abort();
	if (proto_decode_request(slow, buf + f.skipped, f.length, &rs,
	    &why) != 0 || memcmp(&rp, &rs, sizeof(rp)) != 0)
		abort();
}

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
	check_prefix(slow, buf, size);
	return (0);
}
