/*
 * An intrusive chained hash table: entries embed a struct hnode and the
 * caller supplies the hash values, compares keys itself and owns the
 * memory.  The lease registry, its per-IP counts and the match table of
 * waiting requests all sit on it.
 */
#ifndef CB_HTABLE_H
#define CB_HTABLE_H

#include <stddef.h>
#include <stdint.h>

struct hnode {
	struct hnode	*next;
};

/* Recomputes an entry's hash while the table grows. */
typedef uint64_t (*htable_hash_fn)(const struct hnode *, void *);
typedef void	(*htable_visit_fn)(void *, struct hnode *);

struct htable {
	struct hnode	**buckets;
	size_t		 mask;		/* bucket count - 1, a power of two */
	size_t		 count;
	htable_hash_fn	 hash;
	void		*hash_arg;
};

int		 htable_init(struct htable *, size_t, htable_hash_fn, void *);
void		 htable_free(struct htable *);

/* The head of the chain a hash falls in, for lookups and unlinking. */
static inline struct hnode **
htable_chain(const struct htable *t, uint64_t hash)
{
	return (&t->buckets[hash & t->mask]);
}

int		 htable_insert(struct htable *, struct hnode *, uint64_t);
void		 htable_unlink(struct htable *, struct hnode **);
uint64_t	 htable_scan(const struct htable *, uint64_t, size_t,
		    htable_visit_fn, void *);

#endif /* CB_HTABLE_H */
