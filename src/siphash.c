/*
 * SipHash-2-4 (Aumasson and Bernstein, 2012), written from the paper.  It
 * is thirty lines and sits on the per-datagram path, so it is kept here
 * rather than taken from a crypto library the daemon otherwise has no use
 * for.
 */
#include "autoconf.h"

#include <sys/random.h>

#include <string.h>
#include <time.h>
#include <unistd.h>

#include "siphash.h"

#define ROTL(x, b)	(uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

#define SIPROUND do {							\
	v0 += v1; v1 = ROTL(v1, 13); v1 ^= v0; v0 = ROTL(v0, 32);	\
	v2 += v3; v3 = ROTL(v3, 16); v3 ^= v2;				\
	v0 += v3; v3 = ROTL(v3, 21); v3 ^= v0;				\
	v2 += v1; v1 = ROTL(v1, 17); v1 ^= v2; v2 = ROTL(v2, 32);	\
} while (0)

static uint64_t
load_le64(const uint8_t *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return (v);
}

uint64_t
siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	const uint8_t	*in = data;
	uint64_t	 v0 = 0x736f6d6570736575ULL ^ key->k0;
	uint64_t	 v1 = 0x646f72616e646f6dULL ^ key->k1;
	uint64_t	 v2 = 0x6c7967656e657261ULL ^ key->k0;
	uint64_t	 v3 = 0x7465646279746573ULL ^ key->k1;
	uint64_t	 m, last = (uint64_t)len << 56;
	size_t		 i, tail = len & 7;

	for (i = 0; i + 8 <= len; i += 8) {
		m = load_le64(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	while (tail > 0) {
		tail--;
		last |= (uint64_t)in[i + tail] << (8 * tail);
	}
	v3 ^= last;
	SIPROUND;
	SIPROUND;
	v0 ^= last;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return (v0 ^ v1 ^ v2 ^ v3);
}

/* A fresh random key; falls back to time and pid only if getrandom fails. */
void
siphash_key_random(struct siphash_key *key)
{
	if (getrandom(key, sizeof(*key), 0) == (ssize_t)sizeof(*key))
		return;
	key->k0 = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ULL;
	key->k1 = (uint64_t)getpid() * 0xbf58476d1ce4e5b9ULL ^ key->k0;
}
