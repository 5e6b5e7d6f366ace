/*
 * The out-of-line SipHash-2-4, for secrets, and random keys.  The
 * algorithm itself is in siphash.h.
 */
#include "autoconf.h"

#include <sys/random.h>

#include <time.h>
#include <unistd.h>

#include "siphash.h"

uint64_t
siphash24(const struct siphash_key *key, const void *data, size_t len)
{
	return (siphash_cd(key, data, len, 2, 4));
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
