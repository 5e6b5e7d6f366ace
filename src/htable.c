/*
 * Intrusive chained hash table with power-of-two buckets.  It grows by
 * doubling once the load passes one entry per bucket and never shrinks,
 * which is what lets htable_scan() promise to see every entry once while
 * the table changes under a walk that spans many event-loop turns.
 */
#include "autoconf.h"

#include <stdlib.h>

#include "htable.h"

#define SCAN_NEAR	8	/* buckets ahead: prefetch the first entry */
#define SCAN_FAR	16	/* buckets ahead: prefetch the slot */

static int	htable_grow(struct htable *);
static uint64_t	reverse_bits(uint64_t);
static uint64_t	scan_next(uint64_t, uint64_t);

int
htable_init(struct htable *t, size_t buckets, htable_hash_fn hash,
    void *arg)
{
	size_t	n = 16;

	while (n < buckets)
		n <<= 1;
	t->buckets = calloc(n, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return (-1);
	t->mask = n - 1;
	t->count = 0;
	t->hash = hash;
	t->hash_arg = arg;
	return (0);
}

/* Frees the bucket array; the entries belong to the caller. */
void
htable_free(struct htable *t)
{
	free(t->buckets);
	t->buckets = NULL;
	t->count = 0;
}

/*
 * Links a new entry.  Growing is best effort: if the bigger bucket array
 * cannot be had the entry still goes in and chains get longer.
 */
int
htable_insert(struct htable *t, struct hnode *node, uint64_t hash)
{
	struct hnode	**chain;

	if (t->count >= t->mask + 1)
		(void)htable_grow(t);
	chain = htable_chain(t, hash);
	node->next = *chain;
	*chain = node;
	t->count++;
	return (0);
}

/* Unlinks the entry *link points at (a chain head or a next field). */
void
htable_unlink(struct htable *t, struct hnode **link)
{
	*link = (*link)->next;
	t->count--;
}

static int
htable_grow(struct htable *t)
{
	struct hnode	**nb, *node, *next, **chain;
	size_t		  i, n = (t->mask + 1) * 2;

	nb = calloc(n, sizeof(*nb));
	if (nb == NULL)
		return (-1);
	for (i = 0; i <= t->mask; i++) {
		for (node = t->buckets[i]; node != NULL; node = next) {
			next = node->next;
			chain = &nb[t->hash(node, t->hash_arg) & (n - 1)];
			node->next = *chain;
			*chain = node;
		}
	}
	free(t->buckets);
	t->buckets = nb;
	t->mask = n - 1;
	return (0);
}

static uint64_t
reverse_bits(uint64_t v)
{
	v = ((v >> 1) & 0x5555555555555555ULL) |
	    ((v & 0x5555555555555555ULL) << 1);
	v = ((v >> 2) & 0x3333333333333333ULL) |
	    ((v & 0x3333333333333333ULL) << 2);
	v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) |
	    ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
	return (__builtin_bswap64(v));
}

/* The cursor after cursor, 0 once the walk is over. */
static uint64_t
scan_next(uint64_t cursor, uint64_t mask)
{
	return (reverse_bits(reverse_bits(cursor | ~mask) + 1));
}

/*
 * Visits up to max_buckets buckets from cursor and returns the cursor to
 * go on from, 0 when the walk is over.  The cursor counts in reversed bit
 * order (the scheme of Redis' SCAN): after the table doubles, the buckets
 * already walked map onto buckets the cursor has also passed, so an entry
 * present for the whole walk is visited exactly once.  The visitor must
 * not add or remove entries.
 *
 * Reversed order jumps across the bucket array, and the entries lie
 * wherever malloc put them, so a large table costs a cache miss or two
 * per bucket, one after the other.  The walk therefore runs two cursors
 * ahead of itself: SCAN_FAR buckets ahead it prefetches the bucket's
 * slot, SCAN_NEAR ahead (the slot has come in by then) the chain's first
 * entry, so the misses overlap.  Past the end of the walk the cursors
 * stay on bucket 0: a prefetch too many, harmless.
 */
uint64_t
htable_scan(const struct htable *t, uint64_t cursor, size_t max_buckets,
    htable_visit_fn visit, void *arg)
{
	struct hnode	*node, *next;
	uint64_t	 mask = t->mask, near, far;
	size_t		 i;

	near = scan_next(cursor, mask);
	for (i = 1; i < SCAN_NEAR && near != 0; i++)
		near = scan_next(near, mask);
	for (far = near; i < SCAN_FAR && far != 0; i++)
		far = scan_next(far, mask);
	while (max_buckets-- > 0) {
		__builtin_prefetch(&t->buckets[far & mask]);
		if ((node = t->buckets[near & mask]) != NULL)
			__builtin_prefetch(node);
		for (node = t->buckets[cursor & mask]; node != NULL;
		    node = next) {
			next = node->next;
			visit(arg, node);
		}
		if ((cursor = scan_next(cursor, mask)) == 0)
			break;
		near = near != 0 ? scan_next(near, mask) : 0;
		far = far != 0 ? scan_next(far, mask) : 0;
	}
	return (cursor);
}
