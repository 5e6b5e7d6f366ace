/*
 * SipHash-2-4, the keyed hash behind every table a client can fill: with a
 * random key an attacker cannot choose inputs that collide.
 */
#ifndef CB_SIPHASH_H
#define CB_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

struct siphash_key {
	uint64_t	 k0;
	uint64_t	 k1;
};

uint64_t	 siphash24(const struct siphash_key *, const void *, size_t);
void		 siphash_key_random(struct siphash_key *);

#endif /* CB_SIPHASH_H */
