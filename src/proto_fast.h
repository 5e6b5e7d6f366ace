/*
 * The fast paths in front of the json-c decoders: strict recognisers for
 * the canonical registration {"PeerPort":N} (optionally with
 * ,"Ack":true) and the canonical TCP request, that never allocate.
 * Whatever they do not recognise goes to the full decoder in proto.c.
 */
#ifndef CB_PROTO_FAST_H
#define CB_PROTO_FAST_H

#include <stddef.h>

#include "proto.h"

/*
 * proto_fast_registration() returns 1 and fills reg (zeroed first) if buf
 * is a canonical registration, 0 without touching reg otherwise.
 * proto_fast_request() does the same for a canonical TCP request, except
 * that on 0 it leaves req undefined.  proto_fast_request_prefix()
 * recognises one at the start of a stream and returns its length (see
 * proto_decode_request_prefix() in proto.h).
 * proto_decoder_set_fast() turns the fast path of a decoder off (0) or
 * on (1, the default); the differential fuzz target and the tests use it
 * to reach the json-c path alone.
 */
int		 proto_fast_registration(const char *, size_t,
		    struct proto_registration *);
int		 proto_fast_request(const char *, size_t,
		    struct proto_request *);
size_t		 proto_fast_request_prefix(const char *, size_t,
		    struct proto_request *);
void		 proto_decoder_set_fast(struct proto_decoder *, int);

#endif /* CB_PROTO_FAST_H */
