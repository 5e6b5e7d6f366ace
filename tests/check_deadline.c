/*
 * Unit tests for the deadline queues: entries fire in order once due and
 * not before, disarming is idempotent, a fired entry may re-arm itself,
 * the budget bounds one call, the timer drives them through a real event
 * loop, and a queue is picked by duration.
 */
#include "autoconf.h"

#include <check.h>
#include <stdint.h>
#include <string.h>

#include <event2/event.h>

#include "deadline.h"
#include "suite.h"
#include "util.h"

#define N	8

static struct event_base	*base;
static struct deadline_queue	 q;
static struct deadline		 d[N];
static int			 fired[N * 2], nfired;
static int			 rearm;		/* entry 0 re-arms once */

static void
fire(struct deadline *e, void *arg)
{
	int	i = (int)(e - d);

	ck_assert_ptr_eq(arg, &q);
	ck_assert(!deadline_armed(e));
	fired[nfired++] = i;
	if (i == 0 && rearm) {
		rearm = 0;
		deadline_arm(&q, e, e->due_ms);
	}
}

static void
setup(void)
{
	int	i;

	base = event_base_new();
	ck_assert_ptr_nonnull(base);
	ck_assert_int_eq(deadline_queue_init(&q, base, 100, N * 2, fire, &q),
	    0);
	for (i = 0; i < N; i++)
		deadline_init(&d[i]);
	nfired = 0;
	rearm = 0;
}

static void
teardown(void)
{
	deadline_queue_free(&q);
	event_base_free(base);
}

START_TEST(test_fires_in_order_when_due)
{
	int	i;

	for (i = 0; i < N; i++)
		deadline_arm(&q, &d[i], 1000 + (uint64_t)i);
	ck_assert_uint_eq(d[3].due_ms, 1103);
	ck_assert_uint_eq(deadline_fire_due(&q, 1099, SIZE_MAX), 0);
	ck_assert_uint_eq(deadline_fire_due(&q, 1103, SIZE_MAX), 4);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(fired[i], i);
	ck_assert(deadline_armed(&d[4]));
	ck_assert_uint_eq(deadline_fire_due(&q, 5000, SIZE_MAX), N - 4);
	ck_assert_int_eq(fired[N - 1], N - 1);
}
END_TEST

START_TEST(test_disarm_is_idempotent)
{
	deadline_arm(&q, &d[0], 0);
	deadline_arm(&q, &d[1], 0);
	deadline_arm(&q, &d[2], 0);
	deadline_disarm(&q, &d[1]);
	deadline_disarm(&q, &d[1]);
	ck_assert(!deadline_armed(&d[1]));
	deadline_disarm(&q, &d[2]);	/* the tail */
	deadline_arm(&q, &d[1], 10);	/* re-armed: now the last */
	ck_assert_uint_eq(deadline_fire_due(&q, 200, SIZE_MAX), 2);
	ck_assert_int_eq(fired[0], 0);
	ck_assert_int_eq(fired[1], 1);
}
END_TEST

START_TEST(test_budget_and_rearm_in_fire)
{
	int	i;

	for (i = 0; i < N; i++)
		deadline_arm(&q, &d[i], 0);
	ck_assert_uint_eq(deadline_fire_due(&q, 100, 3), 3);
	rearm = 1;
	deadline_disarm(&q, &d[3]);
	deadline_arm(&q, &d[0], 0);	/* due at 100, behind the rest */
	ck_assert_uint_eq(deadline_fire_due(&q, 100, SIZE_MAX), N - 3);
	/* Entry 0 re-armed itself for 200: it is not due at 100. */
	ck_assert(deadline_armed(&d[0]));
	ck_assert_uint_eq(d[0].due_ms, 200);
}
END_TEST

/* Through libevent: the timer fires the entry, not before it is due. */
START_TEST(test_timer_fires)
{
	uint64_t	start = cb_now_ms();

	deadline_arm(&q, &d[5], start);
	while (nfired == 0 && cb_now_ms() - start < 5000)
		event_base_loop(base, EVLOOP_ONCE);
	ck_assert_int_eq(nfired, 1);
	ck_assert_int_eq(fired[0], 5);
	ck_assert_uint_ge(cb_now_ms(), start + 100);
}
END_TEST

START_TEST(test_pick_by_duration)
{
	struct deadline_queue	qs[3];
	struct deadline		e;
	int			i;

	for (i = 0; i < 3; i++)
		ck_assert_int_eq(deadline_queue_init(&qs[i], base, 10, 1,
		    fire, &q), 0);
	ck_assert_ptr_eq(deadline_queue_pick(qs, 3, 10), &qs[0]);
	deadline_init(&e);
	deadline_arm(&qs[0], &e, 0);
	/* A new duration takes an empty queue... */
	ck_assert_ptr_eq(deadline_queue_pick(qs, 3, 30), &qs[1]);
	ck_assert_uint_eq(qs[1].duration_ms, 30);
	deadline_arm(&qs[1], &d[6], 0);
	ck_assert_ptr_eq(deadline_queue_pick(qs, 3, 20), &qs[2]);
	deadline_arm(&qs[2], &d[7], 0);
	/* ...and with none left, the longest (late, never early). */
	ck_assert_ptr_eq(deadline_queue_pick(qs, 3, 5), &qs[1]);
	deadline_disarm(&qs[0], &e);
	deadline_disarm(&qs[1], &d[6]);
	deadline_disarm(&qs[2], &d[7]);
	for (i = 0; i < 3; i++)
		deadline_queue_free(&qs[i]);
}
END_TEST

static Suite *
deadline_suite(void)
{
	Suite	*s = suite_create("deadline");
	TCase	*tc = tcase_create("deadline");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_fires_in_order_when_due);
	tcase_add_test(tc, test_disarm_is_idempotent);
	tcase_add_test(tc, test_budget_and_rearm_in_fire);
	tcase_add_test(tc, test_timer_fires);
	tcase_add_test(tc, test_pick_by_duration);
	suite_add_tcase(s, tc);
	return (s);
}

int
main(void)
{
	return (suite_run(deadline_suite()));
}
