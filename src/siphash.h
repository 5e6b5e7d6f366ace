/*
 * SipHash, the keyed hash behind every table a client can fill: with a
 * random key an attacker cannot choose inputs that collide.  siphash13()
 * keys hash tables; siphash24() hashes secrets (tokens, credentials).
 *
 * SipHash (Aumasson and Bernstein, 2012) is written here from the paper.
 * It is thirty lines and sits on the per-datagram path, so it is kept here
 * rather than taken from a crypto library the daemon otherwise has no use
 * for.  SipHash-2-4 is the paper's recommendation; SipHash-1-3 is what
 * Rust's HashMap and CPython use against hash flooding, at about two
 * thirds of the cost.  The body is inline so that for the fixed-size keys
 * of the tables the compiler unrolls it completely.
 */
#ifndef CB_SIPHASH_H
#define CB_SIPHASH_H

#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct siphash_key {
	uint64_t	 k0;
	uint64_t	 k1;
};

uint64_t	 siphash24(const struct siphash_key *, const void *, size_t);
void		 siphash_key_random(struct siphash_key *);

#define SIPHASH_ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPHASH_ROUND do {						\
	v0 += v1; v1 = SIPHASH_ROTL(v1, 13); v1 ^= v0;			\
	v0 = SIPHASH_ROTL(v0, 32);					\
	v2 += v3; v3 = SIPHASH_ROTL(v3, 16); v3 ^= v2;			\
	v0 += v3; v3 = SIPHASH_ROTL(v3, 21); v3 ^= v0;			\
	v2 += v1; v1 = SIPHASH_ROTL(v1, 17); v1 ^= v2;			\
	v2 = SIPHASH_ROTL(v2, 32);					\
} while (0)

/* SipHash-c-d: c rounds per message word, d rounds to finish. */
static inline uint64_t
siphash_cd(const struct siphash_key *key, const void *data, size_t len,
    int c, int d)
{
	const uint8_t	*in = data;
	uint64_t	 v0 = 0x736f6d6570736575ULL ^ key->k0;
	uint64_t	 v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t	 v2 = 0x6c7967656e657261ULL ^ key->k0;
	uint64_t	 v3 = 0x7465646279746573ULL ^ key->k1;
	uint64_t	 m, last = (uint64_t)len << 56;
	size_t		 i, tail = len & 7;
	int		 r;

	for (i = 0; i + 8 <= len; i += 8) {
		/* One unaligned little-endian word: a single load. */
		memcpy(&m, in + i, sizeof(m));
		m = le64toh(m);
		v3 ^= m;
		for (r = 0; r < c; r++)
			SIPHASH_ROUND;
		v0 ^= m;
	}
	while (tail > 0) {
		tail--;
		last |= (uint64_t)in[i + tail] << (8 * tail);
	}
	v3 ^= last;
	for (r = 0; r < c; r++)
		SIPHASH_ROUND;
	v0 ^= last;
	v2 ^= 0xff;
	for (r = 0; r < d; r++)
		SIPHASH_ROUND;
	return (v0 ^ v1 ^ v2 ^ v3);
}

static inline uint64_t
siphash13(const struct siphash_key *key, const void *data, size_t len)
{
	return (siphash_cd(key, data, len, 1, 3));
}

#endif /* CB_SIPHASH_H */
