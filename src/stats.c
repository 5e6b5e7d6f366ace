/*
 * The names under which each counter is published.  Names are API:
 * dashboards and alerts depend on them, so they never change.
 */
#include "autoconf.h"

#include <stddef.h>

#include "stats.h"

const struct stat_desc stat_descs[STAT__MAX] = {
	[STAT_UDP_DATAGRAMS] = { NULL, "udp_datagrams", NULL,
	    "UDP datagrams received, valid or not" },
	[STAT_UDP_INVALID] = { NULL, "udp_invalid", NULL,
	    "UDP datagrams dropped as invalid registrations" },
	[STAT_UDP_OVER_QUOTA] = { NULL, "udp_over_quota", NULL,
	    "Valid UDP registrations dropped because a lease limit was reached" },
	[STAT_UDP_RATE_LIMITED] = { NULL, "udp_rate_limited", NULL,
	    "UDP datagrams dropped: over the per-IP rate_limit_udp" },
	[STAT_UDP_TOKEN_MISMATCH] = { NULL, "udp_token_mismatch", NULL,
	    "UDP registrations dropped: the lease has another token" },
	[STAT_UDP_ACKS] = { NULL, "udp_acks", NULL,
	    "UDP acknowledgements sent to registrations asking for one" },
	[STAT_UDP_ACKS_TOO_LARGE] = { NULL, "udp_acks_too_large", NULL,
	    "UDP acknowledgements not sent: larger than the request" },
	[STAT_UDP_ACKS_RATE_LIMITED] = { NULL, "udp_acks_rate_limited", NULL,
	    "UDP acknowledgements not sent: over the per-IP rate limit" },
	[STAT_UDP_ACKS_DROPPED] = { NULL, "udp_acks_dropped", NULL,
	    "UDP acknowledgements the socket refused (buffer full)" },
	[STAT_TCP_ACCEPTED] = { NULL, "tcp_accepted", NULL,
	    "TCP connections accepted" },
	[STAT_TCP_RATE_LIMITED] = { NULL, "tcp_rate_limited", NULL,
	    "TCP connections closed at once: over the per-IP rate_limit_tcp" },
	[STAT_REQ_PEER] = { "requests", "peer", "type",
	    "Well-formed TCP requests by connection type" },
	[STAT_REQ_SERVER] = { "requests", "server", "type", NULL },
	[STAT_REQ_CLIENT] = { "requests", "client", "type", NULL },
	[STAT_REQ_KEEPALIVE] = { "requests", "keepalive", "type", NULL },
	[STAT_REQ_INVALID] = { "requests", "invalid", "type", NULL },
	[STAT_MATCH_PEER] = { "matches", "peer", "type",
	    "Rendezvous completed: Peer pairs and Client requests answered" },
	[STAT_MATCH_CLIENT] = { "matches", "client", "type", NULL },
	[STAT_ERR_TIMEOUT] = { "errors", "timeout", "kind",
	    "Error responses sent, by kind" },
	[STAT_ERR_NO_SUCH_SERVER] = { "errors", "no_such_server", "kind",
	    NULL },
	[STAT_ERR_NO_UDP_REGISTRATION] = { "errors", "no_udp_registration",
	    "kind", NULL },
	[STAT_ERR_REPLACED] = { "errors", "replaced", "kind", NULL },
	[STAT_ERR_REQUEST_TOO_LARGE] = { "errors", "request_too_large",
	    "kind", NULL },
	[STAT_ERR_INVALID_REQUEST] = { "errors", "invalid_request", "kind",
	    NULL },
	[STAT_ERR_TOO_MANY_CONNECTIONS] = { "errors", "too_many_connections",
	    "kind", NULL },
	[STAT_ERR_EVICTED] = { "errors", "evicted", "kind", NULL },
	[STAT_LEASES_EXPIRED] = { NULL, "leases_expired", NULL,
	    "Leases that expired" },
};
