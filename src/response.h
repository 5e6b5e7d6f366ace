/*
 * The TCP response line, written byte for byte as the Go original's
 * encoder wrote it:
 * {"SourcePort":1,"SourceIP":"a","DestPort":2,"DestIP":"b","Error":""}\n
 * and the table of error kinds, their exact strings and their counters.
 */
#ifndef CB_RESPONSE_H
#define CB_RESPONSE_H

#include <stddef.h>
#include <stdint.h>

#include "stats.h"
#include "util.h"

/* Room for the longest line: two IPv6 endpoints and the longest error. */
#define RESPONSE_MAX	512

enum rdv_error {
	RDV_OK,
	RDV_ERR_TIMEOUT,
	RDV_ERR_NO_SUCH_SERVER,
	RDV_ERR_NO_UDP_REGISTRATION,
	RDV_ERR_REPLACED,
	RDV_ERR_REQUEST_TOO_LARGE,
	RDV_ERR_SHUTTING_DOWN,
	RDV_ERR_EVICTED,
	RDV_ERR_TOO_MANY_CONNECTIONS,
	RDV_ERR_INVALID_REQUEST,	/* "invalid request: " + reason */
	RDV_ERR__MAX
};

struct cb_endpoint {
	struct cb_ip	 ip;
	uint16_t	 port;
};

struct rdv_response {
	struct cb_endpoint source;	/* the receiver's own UDP endpoint */
	struct cb_endpoint dest;	/* the other side's UDP endpoint */
	enum rdv_error	 error;
	const char	*reason;	/* RDV_ERR_INVALID_REQUEST only */
	int		 has_dest_local;	/* both sides gave a LAN endpoint */
	struct cb_endpoint dest_local;	/* the other side's LAN endpoint */
};

/* Room for the longest acknowledgement datagram (an IPv6 source). */
#define ACK_MAX		160

/*
 * rdv_error_stat() is the errors.<kind> counter of a kind, STAT__MAX for
 * the kinds that have none (RDV_OK, RDV_ERR_SHUTTING_DOWN), which
 * rdv_error_counted() tells apart.
 *
 * response_format() writes the line, '\n' included, and a NUL; it returns
 * the line's length, or 0 if it would not fit.  With has_dest_local set,
 * a successful line gains ,"DestLocalIP":"...","DestLocalPort":N after
 * Error.  response_format_ack() writes the UDP acknowledgement
 * {"PeerPort":N,"SourceIP":"...","SourcePort":p,"LeaseTimeout":s}, with no
 * newline, the same way.  json_escape_go() escapes a
 * string as Go's encoder does, without the quotes, and returns the escaped
 * length as strlcpy(3) does (size or more means truncated).
 */
const char	*rdv_error_text(enum rdv_error);
enum stat_id	 rdv_error_stat(enum rdv_error);
int		 rdv_error_counted(enum rdv_error);

size_t		 response_format(char *, size_t, const struct rdv_response *);
size_t		 response_format_ack(char *, size_t, uint32_t,
		    const struct cb_endpoint *, unsigned int);
size_t		 json_escape_go(char *, size_t, const char *);

#endif /* CB_RESPONSE_H */
