/*
 * libFuzzer target: the admin API's request-target parsers.  The bytes
 * are a request target as evhttp sees it ("/leases/IP/PEERPORT?ip=..."):
 * split by evhttp's own URI parser as the daemon's requests are, the path
 * percent-decoded, a /leases/ path split into IP and PEERPORT, and the
 * query read for ?ip= ?limit= ?offset=.  Whatever the bytes, each parser
 * must return, never read out of bounds, and accept only values in
 * range; the query string is also parsed directly, without the URI
 * parser in front, so that bytes it would refuse still reach it.
 */
#include "autoconf.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>

#include "admin_parse.h"

#define LEASES_PREFIX	"/leases/"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static void	check_path(const char *);
static void	check_query(const char *);

/* One input: a request target, NUL-terminated for the parsers. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct evhttp_uri	*uri;
	const char		*path;
	char			*s;

	if ((s = malloc(size + 1)) == NULL)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';

	/* The way a request reaches the parsers in the daemon. */
	if ((uri = evhttp_uri_parse_with_flags(s,
	    EVHTTP_URI_NONCONFORMANT)) != NULL) {
		if ((path = evhttp_uri_get_path(uri)) != NULL)
			check_path(path);
		check_query(evhttp_uri_get_query(uri));
		evhttp_uri_free(uri);
	}

	/* And each parser on the raw bytes, up to the first NUL. */
	check_path(s);
	check_query(s);
	free(s);
	return (0);
}

/* Decodes a raw path and, under /leases/, reads IP/PEERPORT from it. */
static void
check_path(const char *raw)
{
	struct lease_key	 key;
	const char		*error;
	char			*path;
	int			 status = 0;

	if ((path = admin_path_decode(raw)) == NULL)
		return;
	if (strlen(path) > strlen(raw))
		abort();	/* decoding never lengthens */
	if (strncmp(path, LEASES_PREFIX, strlen(LEASES_PREFIX)) == 0) {
		error = admin_parse_lease_path(path + strlen(LEASES_PREFIX),
		    &key, &status);
		if (error == NULL) {
			if (key.peer_port > INT32_MAX)
				abort();
		} else if (status != 400 && status != 404)
			abort();
	}
	free(path);
}

/* Reads a /leases query string; a good one gives values in range. */
static void
check_query(const char *query)
{
	struct lease_query	q;

	if (admin_parse_leases_query(query, &q) != NULL)
		return;
	if (q.limit > LEASES_MAX_LIMIT || (q.has_ip != 0 && q.has_ip != 1))
		abort();
	if (query == NULL && (q.limit != LEASES_DEFAULT_LIMIT ||
	    q.offset != 0 || q.has_ip))
		abort();
}
