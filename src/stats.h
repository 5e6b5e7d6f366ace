/*
 * Counters: plain increments on the hot path, named once in a table that
 * /stats and /metrics both render from.  Gauges are not stored here; they
 * are computed from the live state when read.
 */
#ifndef CB_STATS_H
#define CB_STATS_H

#include <stdint.h>

enum stat_id {
	STAT_UDP_DATAGRAMS,
	STAT_UDP_INVALID,
	STAT_UDP_OVER_QUOTA,
	STAT_UDP_RATE_LIMITED,
	STAT_UDP_TOKEN_MISMATCH,
	STAT_UDP_ACKS,
	STAT_UDP_ACKS_TOO_LARGE,
	STAT_UDP_ACKS_RATE_LIMITED,
	STAT_UDP_ACKS_DROPPED,
	STAT_TCP_ACCEPTED,
	STAT_TCP_RATE_LIMITED,
	STAT_REQ_PEER,
	STAT_REQ_SERVER,
	STAT_REQ_CLIENT,
	STAT_REQ_KEEPALIVE,
	STAT_REQ_INVALID,
	STAT_MATCH_PEER,
	STAT_MATCH_CLIENT,
	STAT_ERR_TIMEOUT,
	STAT_ERR_NO_SUCH_SERVER,
	STAT_ERR_NO_UDP_REGISTRATION,
	STAT_ERR_REPLACED,
	STAT_ERR_REQUEST_TOO_LARGE,
	STAT_ERR_INVALID_REQUEST,
	STAT_ERR_TOO_MANY_CONNECTIONS,
	STAT_ERR_EVICTED,
	STAT_LEASES_EXPIRED,
	STAT__MAX
};

/*
 * How a counter is published: "group" is the /stats object it sits in
 * (NULL for top level) and "name" its key there.  /metrics names it
 * containment_breach_<group or name>_total{<label>="<name>"}.
 */
struct stat_desc {
	const char	*group;
	const char	*name;
	const char	*label;		/* Prometheus label name for the group */
	const char	*help;
};

struct stats {
	uint64_t	 counters[STAT__MAX];
};

extern const struct stat_desc stat_descs[STAT__MAX];

static inline void
stats_inc(struct stats *st, enum stat_id id)
{
	st->counters[id]++;
}

static inline void
stats_add(struct stats *st, enum stat_id id, uint64_t n)
{
	st->counters[id] += n;
}

#endif /* CB_STATS_H */
