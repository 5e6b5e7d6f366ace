/*
 * The admin API's parsers of untrusted text, apart from evhttp's request
 * objects so that the fuzzer (tests/fuzz/fuzz_admin_path.c) can call them
 * on arbitrary bytes: the percent-decoding of a request path, the
 * "IP/PEERPORT" of /leases/IP/PEERPORT, and the query string of /leases.
 */
#ifndef CB_ADMIN_PARSE_H
#define CB_ADMIN_PARSE_H

#include <stddef.h>

#include "lease.h"
#include "util.h"

#define LEASES_DEFAULT_LIMIT	1000
#define LEASES_MAX_LIMIT	100000

/* What a /leases query string asks for. */
struct lease_query {
	struct cb_ip	 ip;
	int		 has_ip;	/* ?ip= given: only that IP's leases */
	size_t		 limit;
	size_t		 offset;
};

char		*admin_path_decode(const char *);
const char	*admin_parse_lease_path(const char *, struct lease_key *,
		    int *);
const char	*admin_parse_leases_query(const char *,
		    struct lease_query *);

#endif /* CB_ADMIN_PARSE_H */
