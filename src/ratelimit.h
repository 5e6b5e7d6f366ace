/*
 * Per-IP token buckets in a fixed-size table: a rate limit that a flood of
 * distinct source addresses cannot make grow.  Used for the UDP
 * acknowledgements, the UDP registrations and new TCP connections;
 * nothing in it is specific to them.
 */
#ifndef CB_RATELIMIT_H
#define CB_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct ratelimit;

struct ratelimit *ratelimit_new(size_t, unsigned int, unsigned int);
void		 ratelimit_free(struct ratelimit *);
void		 ratelimit_set(struct ratelimit *, unsigned int,
		    unsigned int);
int		 ratelimit_allow(struct ratelimit *, const struct cb_ip *,
		    uint64_t);

#endif /* CB_RATELIMIT_H */
