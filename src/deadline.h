/*
 * Deadline queues: many entries that each fall due one fixed duration
 * after they are armed.  Since arming appends, a queue stays in deadline
 * order by itself: arming and disarming are O(1), and one libevent timer
 * per queue, set for its head, is all the event loop holds however many
 * entries wait.  Lease expiry (a queue per lease_timeout in force) and
 * the TCP sessions' deadlines both run on them.
 *
 * The owner embeds a struct deadline in each entry and remembers which
 * queue it armed it in.  A due entry is disarmed, then handed to the
 * queue's fire callback, which may arm it again, in any queue, or free it.
 */
#ifndef CB_DEADLINE_H
#define CB_DEADLINE_H

#include <sys/queue.h>

#include <stddef.h>
#include <stdint.h>

struct event;
struct event_base;

struct deadline {
	TAILQ_ENTRY(deadline)	 entry;		/* tqe_prev NULL: not armed */
	uint64_t		 due_ms;	/* on the cb_now_ms() clock */
};

/* The entry of type whose struct deadline member d is. */
#define DEADLINE_OWNER(d, type, member)					\
	((type *)(void *)((char *)(d) - offsetof(type, member)))

typedef void	(*deadline_fire_fn)(struct deadline *, void *);

struct deadline_queue {
	TAILQ_HEAD(, deadline)	 entries;	/* soonest first */
	struct event		*timer;
	uint64_t		 duration_ms;
	size_t			 budget;	/* entries fired per timer call */
	deadline_fire_fn	 fire;
	void			*arg;
};

int	 deadline_queue_init(struct deadline_queue *, struct event_base *,
	    uint64_t, size_t, deadline_fire_fn, void *);
void	 deadline_queue_free(struct deadline_queue *);
struct deadline_queue *deadline_queue_pick(struct deadline_queue *, size_t,
	    uint64_t);
void	 deadline_init(struct deadline *);
int	 deadline_armed(const struct deadline *);
void	 deadline_arm(struct deadline_queue *, struct deadline *, uint64_t);
void	 deadline_disarm(struct deadline_queue *, struct deadline *);
size_t	 deadline_fire_due(struct deadline_queue *, uint64_t, size_t);

#endif /* CB_DEADLINE_H */
