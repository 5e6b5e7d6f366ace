/*
 * Deadline queues (see deadline.h).  The timer is armed when an entry
 * joins an empty queue and re-armed for the new head after each firing.
 * An entry disarmed from the head leaves the timer set for it: the timer
 * then fires early, finds nothing due and re-arms, which costs less than
 * touching the timer on every disarm.
 */
#include "autoconf.h"

#include <sys/time.h>

#include <event2/event.h>

#include "deadline.h"
#include "util.h"

static void	deadline_timer_cb(evutil_socket_t, short, void *);
static void	deadline_queue_arm(struct deadline_queue *, uint64_t);

/*
 * Sets up an empty queue whose entries fall due duration_ms after they
 * are armed; its timer fires at most budget of them per call, so that
 * many falling due together never hold the loop for long.
 */
int
deadline_queue_init(struct deadline_queue *q, struct event_base *base,
    uint64_t duration_ms, size_t budget, deadline_fire_fn fire, void *arg)
{
	TAILQ_INIT(&q->entries);
	q->duration_ms = duration_ms;
	q->budget = budget;
	q->fire = fire;
	q->arg = arg;
	q->timer = evtimer_new(base, deadline_timer_cb, q);
	return (q->timer == NULL ? -1 : 0);
}

/* Frees the timer; entries still armed are the owner's to free. */
void
deadline_queue_free(struct deadline_queue *q)
{
	if (q->timer != NULL)
		event_free(q->timer);
	q->timer = NULL;
}

/*
 * Of n queues, the one to arm an entry of duration_ms in: the queue with
 * that duration, else an empty one (given that duration), else the one
 * with the longest.  Entries then armed in it may fall due late behind
 * its older entries, never early.  Lets a duration change at run time
 * while entries armed before keep theirs.
 */
struct deadline_queue *
deadline_queue_pick(struct deadline_queue *qs, size_t n,
    uint64_t duration_ms)
{
	struct deadline_queue	*spare = NULL, *longest = &qs[0];
	size_t			 i;

	for (i = 0; i < n; i++) {
		if (qs[i].duration_ms == duration_ms)
			return (&qs[i]);
		if (spare == NULL && TAILQ_EMPTY(&qs[i].entries))
			spare = &qs[i];
		if (qs[i].duration_ms > longest->duration_ms)
			longest = &qs[i];
	}
	if (spare == NULL)
		return (longest);
	spare->duration_ms = duration_ms;
	return (spare);
}

/* Marks an entry not armed; memory zeroed does the same. */
void
deadline_init(struct deadline *d)
{
	d->entry.tqe_prev = NULL;
}

int
deadline_armed(const struct deadline *d)
{
	return (d->entry.tqe_prev != NULL);
}

/* Arms d, which must not be armed, to fall due the queue's duration on. */
void
deadline_arm(struct deadline_queue *q, struct deadline *d, uint64_t now_ms)
{
	int	was_empty = TAILQ_EMPTY(&q->entries);

	d->due_ms = now_ms + q->duration_ms;
	TAILQ_INSERT_TAIL(&q->entries, d, entry);
	if (was_empty)
		deadline_queue_arm(q, now_ms);
}

/* Disarms d if it is armed (in q, the queue it was armed in). */
void
deadline_disarm(struct deadline_queue *q, struct deadline *d)
{
	if (!deadline_armed(d))
		return;
	TAILQ_REMOVE(&q->entries, d, entry);
	deadline_init(d);
}

/*
 * Fires up to budget entries due at now_ms, soonest first; returns how
 * many.  The timer calls it, and so may an owner that must catch up at
 * once.
 */
size_t
deadline_fire_due(struct deadline_queue *q, uint64_t now_ms, size_t budget)
{
	struct deadline	*d;
	size_t		 n = 0;

	while (n < budget && (d = TAILQ_FIRST(&q->entries)) != NULL &&
	    d->due_ms <= now_ms) {
		deadline_disarm(q, d);
		q->fire(d, q->arg);
		n++;
	}
	return (n);
}

/* Sets the timer for the head, if any. */
static void
deadline_queue_arm(struct deadline_queue *q, uint64_t now_ms)
{
	struct deadline	*head = TAILQ_FIRST(&q->entries);
	struct timeval	 tv;
	uint64_t	 delay;

	if (head == NULL)
		return;
	delay = head->due_ms > now_ms ? head->due_ms - now_ms : 0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(q->timer, &tv);
}

static void
deadline_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct deadline_queue	*q = arg;
	uint64_t		 now_ms = cb_now_ms();

	(void)fd;
	(void)what;
	deadline_fire_due(q, now_ms, q->budget);
	deadline_queue_arm(q, now_ms);
}
