/*
 * Per-IP token buckets.
 *
 * Each source IP gets a bucket of `burst` tokens that refills at `rate`
 * tokens a second; an event is allowed when a token is left.  Tokens are
 * counted in thousandths so that the refill is exact in milliseconds.
 *
 * The buckets sit in a fixed table of 4-way sets indexed by a keyed
 * SipHash of the IP, so the table never grows, whatever the number of
 * addresses, and nobody can aim many addresses at one set.  An IP that is
 * not in its set takes the slot of the set's least recently used IP.  A
 * bucket that was evicted comes back full, which is what it would have
 * been after a pause anyway; an attacker with many addresses gains
 * nothing they did not already have, one burst per address.
 */
#include "autoconf.h"

#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "siphash.h"

#define RATELIMIT_WAYS	4		/* slots per set */
#define MILLI		1000		/* token units per token */

struct bucket {
	struct cb_ip	 ip;
	uint32_t	 tokens;	/* thousandths of a token */
	unsigned int	 used:1;	/* slot holds an IP */
	uint64_t	 last_ms;	/* last refill, for refill and LRU */
};

struct ratelimit {
	struct siphash_key	 key;
	size_t			 mask;		/* sets - 1, a power of two */
	uint32_t		 rate;		/* tokens per second */
	uint32_t		 cap;		/* burst, in thousandths */
	struct bucket		*buckets;	/* sets * RATELIMIT_WAYS */
};

static struct bucket *ratelimit_slot(struct ratelimit *,
		    const struct cb_ip *);

/*
 * A table of at least `slots` buckets (rounded up to a power of two
 * times the set size), allowing `rate` events a second per IP with bursts
 * of `burst`.  NULL if memory is short.
 */
struct ratelimit *
ratelimit_new(size_t slots, unsigned int rate, unsigned int burst)
{
	struct ratelimit	*rl;
	size_t			 sets = 1;

	while (sets * RATELIMIT_WAYS < slots)
		sets <<= 1;
	if ((rl = calloc(1, sizeof(*rl))) == NULL)
		return (NULL);
	if ((rl->buckets = calloc(sets * RATELIMIT_WAYS,
	    sizeof(*rl->buckets))) == NULL) {
		free(rl);
		return (NULL);
	}
	siphash_key_random(&rl->key);
	rl->mask = sets - 1;
	rl->rate = rate;
	rl->cap = burst * MILLI;
	return (rl);
}

/* Changes the rate and burst; buckets fuller than the burst are cut. */
void
ratelimit_set(struct ratelimit *rl, unsigned int rate, unsigned int burst)
{
	rl->rate = rate;
	rl->cap = burst * MILLI;
}

void
ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->buckets);
	free(rl);
}

/* The IP's bucket, claiming the set's least recently used slot if new. */
static struct bucket *
ratelimit_slot(struct ratelimit *rl, const struct cb_ip *ip)
{
	struct bucket	*set, *lru;
	size_t		 i;

	set = &rl->buckets[(siphash13(&rl->key, ip, sizeof(*ip)) & rl->mask) *
	    RATELIMIT_WAYS];
	lru = &set[0];
	for (i = 0; i < RATELIMIT_WAYS; i++) {
		if (set[i].used && cb_ip_equal(&set[i].ip, ip))
			return (&set[i]);
		if (!set[i].used)
			lru = &set[i];
		else if (lru->used && set[i].last_ms < lru->last_ms)
			lru = &set[i];
	}
	lru->ip = *ip;
	lru->used = 1;
	lru->tokens = rl->cap;
	lru->last_ms = 0;
	return (lru);
}

/* Takes a token from ip's bucket at now_ms: 1 if there was one, else 0. */
int
ratelimit_allow(struct ratelimit *rl, const struct cb_ip *ip,
    uint64_t now_ms)
{
	struct bucket	*b = ratelimit_slot(rl, ip);
	uint64_t	 add;

	if (b->tokens > rl->cap)
		b->tokens = rl->cap;
	if (now_ms > b->last_ms) {
		add = (now_ms - b->last_ms) * rl->rate;
		b->tokens = add >= rl->cap - b->tokens ? rl->cap :
		    b->tokens + (uint32_t)add;
		b->last_ms = now_ms;
	}
	if (b->tokens < MILLI)
		return (0);
	b->tokens -= MILLI;
	return (1);
}
